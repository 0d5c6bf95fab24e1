/* fuzz_bearer_tokens: feeds arbitrary bytes, as the content of a tokens file
 * (a memfd rewritten per execution, opened by its /proc/self/fd path), to
 * sg_bearer_tokens_load (modules/auth/bearer/tokens.c), and compares the
 * outcome with a model of the documented format (bearer.h, README): lines
 * "name:sha256:<64 hex digits>" (either case) ended by LF, trailing CR,
 * spaces and tabs ignored; blank lines and lines whose first non-blank is
 * '#' skipped; the name non-empty, under 256 bytes, without control bytes;
 * one digest at most once in the file; any other line (a NUL byte included:
 * it is not part of the format) is an error at that line.
 * Properties:
 * - success exactly when the model accepts the file; then the count is the
 *   number of entry lines, each entry's digest matches (sg_bearer_tokens_match)
 *   its own name, and the digest with one bit flipped matches nothing unless
 *   the file declares that digest too (then its name);
 * - failure: *out NULL; the error is non-empty, starts with "PATH:LINE: " at
 *   the model's line, and holds no run of 16 or more hex digits (a digest);
 * - no leaks (LeakSanitizer). An empty file (no entries) loads with count 0:
 *   the format allows it (the provider then denies every token).
 * SG_FUZZ_DICT: bearer_tokens.dict */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_file.h"
#include "modules/auth/bearer/bearer.h"
#include "snapgate/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct entry {
    const uint8_t *name;
    size_t name_len;
    unsigned char digest[SG_BEARER_DIGEST_LEN];
};

struct model {
    bool ok;
    int bad_line; /* !ok: the 1-based line at fault */
    struct entry *v;
    size_t n;
};

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One line (without its LF) into m; false when it is not a valid one. */
static bool model_line(const uint8_t *s, size_t n, struct model *m)
{
    while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (memchr(s, '\0', n))
        return false;
    if (i == n || s[i] == '#')
        return true;
    const uint8_t *c1 = memchr(s, ':', n);
    const uint8_t *c2 = c1 ? memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - s)) : NULL;
    if (!c2)
        return false;
    struct entry e = {.name = s, .name_len = (size_t)(c1 - s)};
    if (e.name_len == 0 || e.name_len >= SG_PRINCIPAL_NAME_MAX)
        return false;
    for (size_t k = 0; k < e.name_len; k++)
        if (s[k] < 0x20 || s[k] == 0x7f)
            return false;
    if (c2 - c1 - 1 != 6 || memcmp(c1 + 1, "sha256", 6) != 0)
        return false;
    const uint8_t *hex = c2 + 1;
    if ((size_t)(s + n - hex) != 2 * SG_BEARER_DIGEST_LEN)
        return false;
    for (size_t k = 0; k < SG_BEARER_DIGEST_LEN; k++) {
        int hi = hexval(hex[2 * k]), lo = hexval(hex[2 * k + 1]);
        if (hi < 0 || lo < 0)
            return false;
        e.digest[k] = (unsigned char)(hi << 4 | lo);
    }
    for (size_t k = 0; k < m->n; k++)
        if (memcmp(m->v[k].digest, e.digest, SG_BEARER_DIGEST_LEN) == 0)
            return false;
    m->v = sg_xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
    m->v[m->n++] = e;
    return true;
}

static void model_file(const uint8_t *data, size_t size, struct model *m)
{
    memset(m, 0, sizeof(*m));
    m->ok = true;
    int line = 0;
    for (size_t at = 0; at < size && m->ok;) {
        const uint8_t *lf = memchr(data + at, '\n', size - at);
        size_t end = lf ? (size_t)(lf - data) : size;
        line++;
        if (!model_line(data + at, end - at, m)) {
            m->ok = false;
            m->bad_line = line;
        }
        at = end + 1;
    }
}

static bool has_hex_run(const char *s)
{
    size_t run = 0;
    for (; *s; s++) {
        run = hexval((uint8_t)*s) >= 0 ? run + 1 : 0;
        if (run >= 16)
            return true;
    }
    return false;
}

static struct sg_fuzz_file file = {.fd = -1};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (file.fd < 0)
        sg_fuzz_file_open(&file, "sg-fuzz-tokens");
    sg_fuzz_file_set(&file, data, size);

    static struct sg_bearer_tokens *not_set = (struct sg_bearer_tokens *)&not_set;
    struct sg_bearer_tokens *t = not_set;
    char err[512];
    memset(err, 0x5a, sizeof(err));
    int rc = sg_bearer_tokens_load(file.path, &t, err, sizeof(err));
    struct model m;
    model_file(data, size, &m);
    if ((rc == SG_OK) != m.ok) {
        fprintf(stderr, "fuzz_bearer_tokens: load %d, model %s (line %d): %s\n", rc,
                m.ok ? "ok" : "error", m.bad_line, rc == SG_OK ? "" : err);
        abort();
    }
    if (rc != SG_OK) {
        char want[96];
        int wl = snprintf(want, sizeof(want), "%s:%d: ", file.path, m.bad_line);
        if (rc != SG_ERR || t || !memchr(err, '\0', sizeof(err)) ||
            strncmp(err, want, (size_t)wl) != 0 || err[wl] == '\0' || has_hex_run(err)) {
            fprintf(stderr, "fuzz_bearer_tokens: error \"%.*s\", want it to start \"%s\"\n",
                    (int)sizeof(err), err, want);
            abort();
        }
    } else {
        if (!t || sg_bearer_tokens_count(t) != m.n)
            abort();
        for (size_t i = 0; i < m.n; i++) {
            const char *name = sg_bearer_tokens_match(t, m.v[i].digest);
            if (!name || strlen(name) != m.v[i].name_len ||
                memcmp(name, m.v[i].name, m.v[i].name_len) != 0)
                abort();
            unsigned char other[SG_BEARER_DIGEST_LEN];
            memcpy(other, m.v[i].digest, sizeof(other));
            other[i % SG_BEARER_DIGEST_LEN] ^= 0x01;
            const struct entry *declared = NULL;
            for (size_t k = 0; k < m.n && !declared; k++)
                if (memcmp(m.v[k].digest, other, sizeof(other)) == 0)
                    declared = &m.v[k];
            name = sg_bearer_tokens_match(t, other);
            if (declared ? !name || strlen(name) != declared->name_len ||
                               memcmp(name, declared->name, declared->name_len) != 0
                         : name != NULL)
                abort();
        }
        sg_bearer_tokens_free(t);
    }
    free(m.v);
    return 0;
}
