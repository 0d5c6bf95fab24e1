/* The tokens file: read whole at conf time (so a reload re-reads it),
 * validated line by line, immutable afterwards (shared by every worker
 * without a lock).
 *
 * Lookup is a linear scan with CRYPTO_memcmp over every entry, keeping the
 * match with a mask instead of a branch. A table keyed by the digest would
 * be safe too (its timing could only tell an attacker something about the
 * SHA-256 of tokens they chose, which does not help find a preimage), but
 * the scan needs no argument at all and costs microseconds for thousands of
 * entries. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bearer.h"
#include "snapgate/line_file.h"
#include "snapgate/common.h"

struct bearer_token {
    unsigned char digest[SG_BEARER_DIGEST_LEN];
    char *name;
    int line;
};

struct sg_bearer_tokens {
    struct bearer_token *v;
    size_t n;
};

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Exactly 64 hex digits into out; SG_ERR otherwise. */
static int parse_hex(const char *s, unsigned char out[SG_BEARER_DIGEST_LEN])
{
    if (strlen(s) != 2 * SG_BEARER_DIGEST_LEN)
        return SG_ERR;
    for (size_t i = 0; i < SG_BEARER_DIGEST_LEN; i++) {
        int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return SG_ERR;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return SG_OK;
}

/* Validates one non-blank line and appends it to t; SG_ERR with err set. */
static int parse_line(void *ctx, char *line, const char *path, int lineno, char *err, size_t cap)
{
    struct sg_bearer_tokens *t = ctx;
    unsigned char digest[SG_BEARER_DIGEST_LEN];
    char *colon = strchr(line, ':');
    char *colon2 = colon ? strchr(colon + 1, ':') : NULL;
    if (!colon2) {
        sg_errf(err, cap, "%s:%d: expected name:sha256:<64 hex digits>", path, lineno);
        return SG_ERR;
    }
    *colon = '\0';
    *colon2 = '\0';
    const char *name = line, *algo = colon + 1, *hex = colon2 + 1;
    if (*name == '\0') {
        sg_errf(err, cap, "%s:%d: empty name", path, lineno);
        return SG_ERR;
    }
    if (sg_has_control(name)) {
        sg_errf(err, cap, "%s:%d: name contains control characters", path, lineno);
        return SG_ERR;
    }
    if (strlen(name) >= SG_PRINCIPAL_NAME_MAX) {
        sg_errf(err, cap, "%s:%d: name longer than %d bytes", path, lineno,
                SG_PRINCIPAL_NAME_MAX - 1);
        return SG_ERR;
    }
    if (strcmp(algo, "sha256") != 0) {
        sg_errf(err, cap, "%s:%d: unsupported digest (want sha256)", path, lineno);
        return SG_ERR;
    }
    if (parse_hex(hex, digest) != SG_OK) {
        sg_errf(err, cap, "%s:%d: the digest is not 64 hex digits", path, lineno);
        return SG_ERR;
    }
    for (size_t i = 0; i < t->n; i++) {
        if (memcmp(t->v[i].digest, digest, sizeof(digest)) == 0) {
            sg_errf(err, cap, "%s:%d: duplicate token (same digest as line %d)", path, lineno,
                    t->v[i].line);
            return SG_ERR;
        }
    }
    t->v = sg_xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
    memcpy(t->v[t->n].digest, digest, sizeof(digest));
    t->v[t->n].name = sg_xstrdup(name);
    t->v[t->n].line = lineno;
    t->n++;
    return SG_OK;
}

int sg_bearer_tokens_load(const char *path, struct sg_bearer_tokens **out, char *err, size_t cap)
{
    struct sg_bearer_tokens *t = sg_xcalloc(1, sizeof(*t));
    *out = NULL;
    if (sg_line_file_read(path, parse_line, t, err, cap) != SG_OK) {
        sg_bearer_tokens_free(t);
        return SG_ERR;
    }
    *out = t;
    return SG_OK;
}

void sg_bearer_tokens_free(struct sg_bearer_tokens *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].name);
    free(t->v);
    free(t);
}

size_t sg_bearer_tokens_count(const struct sg_bearer_tokens *t)
{
    return t->n;
}

const char *sg_bearer_tokens_match(const struct sg_bearer_tokens *t,
                                   const unsigned char digest[SG_BEARER_DIGEST_LEN])
{
    /* found is the index + 1 of the match (digests are unique: at most one). */
    uintptr_t found = 0;
    for (size_t i = 0; i < t->n; i++) {
        uintptr_t eq =
            (uintptr_t)(CRYPTO_memcmp(t->v[i].digest, digest, SG_BEARER_DIGEST_LEN) == 0);
        found |= ((uintptr_t)0 - eq) & (uintptr_t)(i + 1);
    }
    return found ? t->v[found - 1].name : NULL;
}
