/* fuzz_bearer: feeds Authorization values to the `bearer` auth provider's
 * authenticate op (modules/auth/bearer/bearer.c), found in the module table
 * (sg_module_find) and configured once, through its conf hook, with a tokens
 * file written at start (tokens of every token68 shape: '~', '+', '/',
 * '=' padding, one shaped like a JWT; two tokens of one name).
 * Two headers per input:
 * 1. the input itself (a buffer of exactly its size);
 * 2. "Bearer" in the case the first byte's bits pick, 1 to 4 spaces, the
 *    known token the first byte picks, then the rest of the input.
 * Both are judged by a model of auth_token.h and bearer.c's contract:
 * SG_DECLINED when the scheme is not "Bearer" (any case) followed by a space
 * or the end; else the token (after the spaces, without trailing spaces and
 * tabs) must be 1..8192 bytes of token68 (ALPHA DIGIT - . _ ~ + / then only
 * '='s), or SG_DENIED; then SG_OK with that token's name when the token is
 * exactly one of the file's, SG_DECLINED when it has the shape of a JWS (for
 * a jwt provider), SG_DENIED otherwise. Properties:
 * - the return is exactly the model's (never SG_ERR or SG_AGAIN): no header
 *   that is not exactly a known token is accepted, and another scheme is
 *   always declined, never denied;
 * - SG_OK: the principal is the token's name, without groups;
 * - otherwise the principal is left empty;
 * - header 2 whose rest is only spaces and tabs is accepted as the token's name;
 * - no leaks (LeakSanitizer).
 * SG_FUZZ_DICT: bearer.dict */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "modules/auth/bearer/bearer.h"
#include "snapgate/auth.h"
#include "snapgate/auth_token.h"
#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "snapgate/module.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
    const char *name, *token;
} known[] = {
    {"alice", "alice-token-0123456789"},
    {"bob", "Zm9vYmFy~+/bob.tok=="},
    {"carol", "carol-old-token"},
    {"carol", "carol-new-token"},
    {"jay", "aaaa.bbbb.cccc"},
    {"k", "x"},
    {"eq", "Z="},
};

static const struct sg_auth_ops *ops;
static void *inst;

static void init(void)
{
    const struct sg_module *m = sg_module_find(SG_MOD_AUTH, "bearer");
    if (!m || !m->ops)
        abort();
    ops = m->ops;
    char path[] = "/tmp/sg-fuzz-bearer-XXXXXX"; /* mkstemp: mode 0600, as a secret wants */
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f)
        abort();
    fputs("# fuzz_bearer\n", f);
    for (size_t i = 0; i < SG_ARRAY_LEN(known); i++) {
        unsigned char d[32];
        if (!EVP_Digest(known[i].token, strlen(known[i].token), d, NULL, EVP_sha256(), NULL))
            abort();
        fprintf(f, "%s:sha256:", known[i].name);
        for (size_t k = 0; k < sizeof(d); k++)
            fprintf(f, i % 2 ? "%02X" : "%02x", d[k]);
        fputs("\r\n", f);
    }
    fclose(f);
    char *yaml = sg_xasprintf("tokens_file: %s\n", path);
    struct sg_conf_errs errs = {.file = "fuzz.yaml", .defer_warnings = true};
    struct sg_conf_node *node = sg_conf_tree_parse_string(yaml, &errs);
    void *priv = NULL;
    if (!node || m->conf(node, "auth.providers[0]", NULL, &errs, &priv) != SG_OK || errs.n ||
        errs.nwarns) {
        fprintf(stderr, "fuzz_bearer: conf: %s\n",
                errs.n        ? errs.msgs[0]
                : errs.nwarns ? errs.warns[0]
                              : "?");
        abort();
    }
    unlink(path);
    sg_conf_tree_free(node);
    sg_conf_errs_clear(&errs);
    free(yaml);
    inst = m->worker_init(priv, NULL);
    /* Nothing is remembered; forget must not change any answer. */
    ops->forget(inst);
    struct sg_principal p = {0};
    if (ops->authenticate(inst, NULL, 0, &p, NULL, NULL) != SG_DECLINED)
        abort();
}

/* ---- the model ---------------------------------------------------------------- */

static bool b64url_char(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* Three base64url parts split by two dots, the first two non-empty. */
static bool jws_shaped(const uint8_t *t, size_t n)
{
    size_t part = 0, len[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '.') {
            if (++part > 2)
                return false;
        } else if (b64url_char(t[i])) {
            len[part]++;
        } else {
            return false;
        }
    }
    return part == 2 && len[0] > 0 && len[1] > 0;
}

static int model(const uint8_t *h, size_t n, const char **name)
{
    static const char scheme[] = "bearer";
    *name = NULL;
    if (n < 6)
        return SG_DECLINED;
    for (size_t i = 0; i < 6; i++)
        if ((h[i] | 0x20) != (uint8_t)scheme[i])
            return SG_DECLINED;
    if (n > 6 && h[6] != ' ')
        return SG_DECLINED;
    size_t s = 6, e = n;
    while (s < n && h[s] == ' ')
        s++;
    while (e > s && (h[e - 1] == ' ' || h[e - 1] == '\t'))
        e--;
    if (e == s || e - s > SG_AUTH_TOKEN_MAX)
        return SG_DENIED;
    size_t body = e;
    while (body > s && h[body - 1] == '=')
        body--;
    if (body == s)
        return SG_DENIED;
    for (size_t i = s; i < body; i++)
        if (!b64url_char(h[i]) && h[i] != '.' && h[i] != '~' && h[i] != '+' && h[i] != '/')
            return SG_DENIED;
    for (size_t i = 0; i < SG_ARRAY_LEN(known); i++)
        if (strlen(known[i].token) == e - s && memcmp(known[i].token, h + s, e - s) == 0) {
            *name = known[i].name;
            return SG_OK;
        }
    return jws_shaped(h + s, e - s) ? SG_DECLINED : SG_DENIED;
}

/* ---- the check --------------------------------------------------------------------- */

static int check(const uint8_t *h, size_t n)
{
    char *hdr = malloc(n ? n : 1);
    if (!hdr)
        abort();
    memcpy(hdr, h, n);
    struct sg_principal p;
    memset(&p, 0, sizeof(p));
    int rc = ops->authenticate(inst, hdr, n, &p, NULL, NULL);
    const char *want_name;
    int want = model(h, n, &want_name);
    if (rc != want) {
        fprintf(stderr, "fuzz_bearer: authenticate %d, model %d\n", rc, want);
        abort();
    }
    if (rc == SG_OK ? strcmp(p.name, want_name) != 0 : p.name[0] != '\0')
        abort();
    if (p.groups || p.ngroups)
        abort();
    free(hdr);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ops)
        init();
    check(data, size);
    if (size == 0)
        return 0;

    size_t pick = data[0] % SG_ARRAY_LEN(known);
    const char *tok = known[pick].token;
    size_t tl = strlen(tok), spaces = 1 + (data[0] >> 6);
    size_t rest = size - 1, n = 6 + spaces + tl + rest;
    uint8_t *h = malloc(n);
    if (!h)
        abort();
    for (size_t i = 0; i < 6; i++) /* bits 0..5 of the first byte: each letter's case */
        h[i] = (uint8_t)("Bearer"[i] ^ ((data[0] >> i & 1) ? 0x20 : 0));
    memset(h + 6, ' ', spaces);
    memcpy(h + 6 + spaces, tok, tl);
    memcpy(h + 6 + spaces + tl, data + 1, rest);
    int rc = check(h, n);
    bool blank_rest = true;
    for (size_t i = 1; i < size && blank_rest; i++)
        blank_rest = data[i] == ' ' || data[i] == '\t';
    if (blank_rest && rc != SG_OK)
        abort();
    free(h);
    return 0;
}
