#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapgate/line_file.h"
#include "snapgate/common.h"

static bool is_blank_or_comment(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return *s == '\0' || *s == '#';
}

static void rstrip(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
}

bool sg_has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

int sg_line_file_read(const char *path, sg_line_fn fn, void *ctx, char *err, size_t cap)
{
    char *line = NULL;
    size_t linecap = 0;
    char ebuf[128];
    int rc = SG_ERR;
    FILE *f = fopen(path, "r");
    if (!f) {
        sg_errf(err, cap, "%s: %s", path, strerror_r(errno, ebuf, sizeof(ebuf)));
        return SG_ERR;
    }
    int lineno = 0;
    ssize_t len;
    while ((len = getline(&line, &linecap, f)) >= 0) {
        lineno++;
        /* The rest works on C strings, which a NUL would cut short: the
         * line's tail would be ignored unseen (found by fuzz_bearer_tokens). */
        if (memchr(line, '\0', (size_t)len)) {
            sg_errf(err, cap, "%s:%d: holds a NUL byte", path, lineno);
            goto fail;
        }
        rstrip(line);
        if (is_blank_or_comment(line))
            continue;
        if (fn(ctx, line, path, lineno, err, cap) != SG_OK)
            goto fail;
    }
    if (ferror(f)) {
        sg_errf(err, cap, "%s: %s", path, strerror_r(errno, ebuf, sizeof(ebuf)));
        goto fail;
    }
    rc = SG_OK;
fail:
    fclose(f);
    free(line);
    return rc;
}
