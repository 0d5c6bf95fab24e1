/* Allocation wrappers: out of memory aborts with the caller's file:line, so no
 * other code carries OOM branches (see DESIGN.md, conventions). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "snapgate/common.h"

static void die_oom(const char *file, int line, size_t n)
{
    fprintf(stderr, "snapgate: out of memory allocating %zu bytes at %s:%d\n", n, file, line);
    abort();
}

void *sg_xmalloc_at(size_t n, const char *file, int line)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die_oom(file, line, n);
    return p;
}

void *sg_xcalloc_at(size_t n, size_t size, const char *file, int line)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        die_oom(file, line, n * size);
    return p;
}

void *sg_xrealloc_at(void *p, size_t n, const char *file, int line)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        die_oom(file, line, n);
    return q;
}

char *sg_xstrdup_at(const char *s, const char *file, int line)
{
    char *p = strdup(s);
    if (!p)
        die_oom(file, line, strlen(s));
    return p;
}

/* Reads at most n bytes of s, which need not be NUL-terminated within them
 * (a BIO's or a buffer's bytes): memchr, unlike strndup, never looks past n. */
char *sg_xstrndup_at(const char *s, size_t n, const char *file, int line)
{
    const char *nul = memchr(s, '\0', n);
    size_t len = nul ? (size_t)(nul - s) : n;
    char *p = malloc(len + 1);
    if (!p)
        die_oom(file, line, len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *sg_xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *out = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&out, fmt, ap);
    va_end(ap);
    if (n < 0)
        die_oom(__FILE__, __LINE__, strlen(fmt));
    return out;
}

void sg_wipe_free(char *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}
