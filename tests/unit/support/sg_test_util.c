#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sg_test_util.h"
#include "snapgate/common.h"

char *sg_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = sg_xmalloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            cap *= 2;
            buf = sg_xrealloc(buf, cap);
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* The repository's tests/fixtures, compiled in by tests/CMakeLists.txt so a suite run from
 * any directory finds its data without reading anything outside the repository. */
#ifndef SG_TEST_FIXTURES_ROOT
#define SG_TEST_FIXTURES_ROOT "tests/fixtures"
#endif

static char *dir_path(const char *env, const char *fallback, const char *name)
{
    const char *dir = getenv(env);
    return sg_xasprintf("%s/%s", dir && *dir ? dir : fallback, name);
}

char *sg_test_fixture_path(const char *name)
{
    return dir_path("SG_FIXTURES_DIR", SG_TEST_FIXTURES_ROOT "/api", name);
}

char *sg_test_own_fixture_path(const char *name)
{
    return dir_path("SG_TEST_FIXTURES_DIR", SG_TEST_FIXTURES_ROOT, name);
}

char *sg_test_read_own_fixture(size_t *len, const char *fmt, ...)
{
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    ck_assert_msg(n >= 0 && (size_t)n < sizeof name, "fixture name too long: %s", fmt);
    char *path = sg_test_own_fixture_path(name);
    char *text = sg_test_read_file(path, len);
    ck_assert_msg(text != NULL, "cannot read %s", path);
    free(path);
    return text;
}

char *sg_test_write_temp(const char *content)
{
    char *path = sg_xstrdup("/tmp/sgtestXXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) {
        free(path);
        return NULL;
    }
    size_t len = strlen(content);
    if (write(fd, content, len) != (ssize_t)len) {
        close(fd);
        free(path);
        return NULL;
    }
    close(fd);
    return path;
}
