/* fuzz_basic_users: feeds arbitrary bytes as the basic provider's users_file
 * to sg_basic_users_load (modules/auth/basic/users.c, through
 * gateway/lib/line_file.c). The bytes are written to a memfd and loaded
 * through /proc/self/fd/N. A model of the documented format (basic.h,
 * README: lines "name:hash", blank lines and '#' comments, trailing
 * whitespace and CR ignored; a name of 1..255 bytes without control
 * characters; a hash starting $y$, $2b$, $2y$ or $6$, of visible ASCII
 * without ':'; names unique) gives the expected outcome, for inputs without
 * NUL bytes (the loader reads lines as C strings, so a NUL ends the line's
 * text: such inputs get only the general properties). Properties:
 *   - the load succeeds exactly when every entry line is well-formed and the
 *     names are distinct;
 *   - success: the count is the number of entry lines (0 for a file of
 *     comments: an empty file is valid); sg_basic_users_find gives each
 *     line's exact hash for its name and NULL for a name not in the file;
 *     sg_basic_users_dummy is the first line's hash, or a built-in yescrypt
 *     one for an empty file;
 *   - failure: no users, a reason "PATH:LINE: ..." naming the first
 *     malformed line, or a duplicate-user reason; a reason never quotes a
 *     hash (of 8 bytes or more) from the file;
 *   - no leaks per execution (LeakSanitizer).
 * crypt(3) is never called: a fuzzed bcrypt or yescrypt cost could take
 * seconds per input.
 * SG_FUZZ_DICT: basic_users.dict */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_file.h"
#include "modules/auth/basic/basic.h"
#include "snapgate/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct entry {
    char *name, *hash; /* NULL hash: no ':' on the line */
    int line;
    bool ok;
};

static bool is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static bool hash_ok(const char *h)
{
    static const char *const prefixes[] = {"$y$", "$2b$", "$2y$", "$6$"};
    bool prefix = false;
    for (size_t i = 0; i < SG_ARRAY_LEN(prefixes); i++)
        prefix = prefix || strncmp(h, prefixes[i], strlen(prefixes[i])) == 0;
    if (!prefix)
        return false;
    for (; *h; h++)
        if ((unsigned char)*h <= 0x20 || (unsigned char)*h >= 0x7f || *h == ':')
            return false;
    return true;
}

/* The entry lines of a NUL-free input, as the format defines them. */
static struct entry *model(const char *data, size_t size, size_t *n)
{
    struct entry *v = NULL;
    *n = 0;
    size_t start = 0;
    int lineno = 0;
    while (start < size) {
        const char *nl = memchr(data + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - data) : size;
        lineno++;
        size_t len = end - start;
        const char *s = data + start;
        start = end + 1;
        while (len > 0 && (s[len - 1] == '\r' || s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        size_t lead = 0;
        while (lead < len && (s[lead] == ' ' || s[lead] == '\t'))
            lead++;
        if (lead == len || s[lead] == '#')
            continue;
        v = sg_xrealloc(v, (*n + 1) * sizeof(*v));
        struct entry *e = &v[(*n)++];
        const char *colon = memchr(s, ':', len);
        e->line = lineno;
        e->name = sg_xstrndup(s, colon ? (size_t)(colon - s) : len);
        e->hash = colon ? sg_xstrndup(colon + 1, len - (size_t)(colon - s) - 1) : NULL;
        e->ok =
            e->hash && e->name[0] && strlen(e->name) < SG_PRINCIPAL_NAME_MAX && hash_ok(e->hash);
        for (const char *c = e->name; e->ok && *c; c++)
            e->ok = !is_ctl((unsigned char)*c);
    }
    return v;
}

static void check_err(const char *err, const char *path, const struct entry *v, size_t n)
{
    size_t plen = strlen(path);
    if (strncmp(err, path, plen) != 0 || err[plen] != ':' || strlen(err) < plen + 3)
        abort();
    for (size_t i = 0; i < n; i++) {
        const char *h = v[i].hash;
        if (!h || strlen(h) < 8 || !strstr(err, h))
            continue;
        /* Quoting a name that happens to contain the text is fine. */
        bool in_name = false;
        for (size_t j = 0; j < n; j++)
            in_name = in_name || strstr(v[j].name, h);
        if (!in_name)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sg_fuzz_file file = {.fd = -1};
    if (file.fd < 0)
        sg_fuzz_file_open(&file, "users");
    sg_fuzz_file_set(&file, data, size);

    static char unset;
    struct sg_basic_users *u = (struct sg_basic_users *)(void *)&unset;
    char err[512] = "";
    int rc = sg_basic_users_load(file.path, &u, err, sizeof(err));
    if (rc == SG_OK) {
        if (!u || !sg_basic_users_dummy(u))
            abort();
    } else if (rc != SG_ERR || u != NULL || err[0] == '\0') {
        abort();
    }

    /* With a NUL byte only the general properties above apply. */
    bool nul_free = !memchr(data, '\0', size);
    size_t n = 0;
    struct entry *v = nul_free ? model((const char *)data, size, &n) : NULL;
    const struct entry *bad = NULL, *dup = NULL;
    for (size_t i = 0; i < n && !bad; i++)
        if (!v[i].ok)
            bad = &v[i];
    for (size_t i = 0; i < n && !dup; i++)
        for (size_t j = i + 1; j < n && !dup; j++)
            if (strcmp(v[i].name, v[j].name) == 0)
                dup = &v[j];

    if (rc == SG_OK && nul_free) {
        if (bad || dup || sg_basic_users_count(u) != n)
            abort();
        for (size_t i = 0; i < n; i++) {
            const char *h = sg_basic_users_find(u, v[i].name);
            if (!h || strcmp(h, v[i].hash) != 0)
                abort();
        }
        /* A name that cannot be in the file: control characters are refused. */
        if (sg_basic_users_find(u, "\x01") || sg_basic_users_find(u, ""))
            abort();
        const char *dummy = sg_basic_users_dummy(u);
        if (n ? strcmp(dummy, v[0].hash) != 0 : strncmp(dummy, "$y$", 3) != 0)
            abort();
    } else if (rc != SG_OK && nul_free) {
        if (!bad && !dup)
            abort(); /* a valid file was refused */
        check_err(err, file.path, v, n);
        char want[96];
        if (bad) {
            snprintf(want, sizeof(want), "%s:%d: ", file.path, bad->line);
            if (strncmp(err, want, strlen(want)) != 0)
                abort(); /* not the first malformed line */
        } else if (!strstr(err, "duplicate user")) {
            abort();
        }
    }

    sg_basic_users_free(rc == SG_OK ? u : NULL);
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].hash);
    }
    free(v);
    return 0;
}
