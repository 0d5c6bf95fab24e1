/* The bearer provider with a tokens file written at test time, the shared
 * Bearer-header reader, and the provider chain with bearer and jwt in both
 * orders (run the way gateway/http/request_auth.c runs it: DECLINED asks the next,
 * anything else ends the chain, and the end of the chain is a 401). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "modules/auth/bearer/bearer.h"
#include "modules/auth/jwt/jwt.h"
#include "snapgate/auth_token.h"
#include "sg_test_jwt.h"
#include "sg_test_util.h"
#include "snapgate/common.h"
#include "snapgate/conf.h"

static const struct sg_auth_ops *ops;
static void *priv;

struct token {
    const char *name, *token;
};

/* carol has two tokens (rotation); the last one looks like a JWT. */
static const struct token tokens[] = {
    {"alice", "alice-token-0123456789"}, {"bob", "Zm9vYmFy~+/bob.tok=="},
    {"carol", "carol-old-token"},        {"carol", "carol-new-token"},
    {"jay", "aaaa.bbbb.cccc"},
};

static char *sha256_hex(const char *s, int upper)
{
    unsigned char d[32];
    unsigned int dl = 0;
    ck_assert(EVP_Digest(s, strlen(s), d, &dl, EVP_sha256(), NULL));
    char *hex = sg_xcalloc(1, 65);
    for (unsigned i = 0; i < dl; i++)
        snprintf(hex + 2 * i, 3, upper ? "%02X" : "%02x", d[i]);
    return hex;
}

/* ---- conf nodes built by hand ------------------------------------------------ */

static struct sg_conf_node *scalar(const char *v, int line)
{
    struct sg_conf_node *n = sg_xcalloc(1, sizeof(*n));
    n->type = SG_NODE_SCALAR;
    n->line = line;
    n->scalar = sg_xstrdup(v);
    return n;
}

static struct sg_conf_node *map_of(const char *const *kv)
{
    struct sg_conf_node *m = sg_xcalloc(1, sizeof(*m));
    m->type = SG_NODE_MAP;
    m->line = 10;
    while (kv[2 * m->n])
        m->n++;
    m->keys = sg_xcalloc(m->n, sizeof(*m->keys));
    m->key_lines = sg_xcalloc(m->n, sizeof(*m->key_lines));
    m->items = sg_xcalloc(m->n, sizeof(*m->items));
    for (size_t i = 0; i < m->n; i++) {
        m->keys[i] = sg_xstrdup(kv[2 * i]);
        m->key_lines[i] = 11 + (int)i;
        m->items[i] = scalar(kv[2 * i + 1], 11 + (int)i);
    }
    return m;
}

static void node_free(struct sg_conf_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        free(n->keys ? n->keys[i] : NULL);
        node_free(n->items[i]);
    }
    free(n->keys);
    free(n->key_lines);
    free(n->items);
    free(n->scalar);
    free(n);
}

static int run_conf(const struct sg_module *m, const char *const *kv, struct sg_conf_errs *errs,
                    void **out)
{
    struct sg_conf_node *node = map_of(kv);
    int rc = m->conf(node, "auth.providers[0]", NULL, errs, out);
    node_free(node);
    return rc;
}

/* ---- fixture ---------------------------------------------------------------- */

static char *tokens_file_text(void)
{
    char *content = sg_xstrdup("# snapgate tokens\r\n\n   \n");
    for (size_t i = 0; i < SG_ARRAY_LEN(tokens); i++) {
        char *hex = sha256_hex(tokens[i].token, (int)(i % 2));
        char *next =
            sg_xasprintf("%s%s:sha256:%s%s\n", content, tokens[i].name, hex, i == 1 ? "  \r" : "");
        free(hex);
        free(content);
        content = next;
    }
    return content;
}

static void *start_bearer(void **p)
{
    char *content = tokens_file_text();
    char *path = sg_test_write_temp(content);
    struct sg_conf_errs errs = {.file = "test.yaml"};
    const char *kv[] = {"type", "bearer", "tokens_file", path, NULL};
    int rc = run_conf(&sg_module_auth_bearer, kv, &errs, p);
    unlink(path);
    free(path);
    free(content);
    ck_assert_msg(rc == SG_OK, "conf: %s", errs.n ? errs.msgs[0] : "?");
    return sg_module_auth_bearer.worker_init(*p, NULL);
}

static void setup(void)
{
    ops = sg_module_auth_bearer.ops;
    start_bearer(&priv);
}

static void teardown(void)
{
    sg_module_auth_bearer.free_conf(priv);
}

static int auth(const char *hdr, struct sg_principal *p)
{
    memset(p, 0, sizeof(*p));
    return ops->authenticate(priv, hdr, hdr ? strlen(hdr) : 0, p, NULL, NULL);
}

/* ---- authentication ----------------------------------------------------------- */

START_TEST(test_known_tokens_accepted)
{
    char *hdr = sg_xasprintf("Bearer %s", tokens[_i].token);
    struct sg_principal p;
    ck_assert_int_eq(auth(hdr, &p), SG_OK);
    ck_assert_str_eq(p.name, tokens[_i].name);
    ck_assert_int_eq(p.ngroups, 0);
    free(hdr);
}
END_TEST

START_TEST(test_scheme_case_and_spaces)
{
    struct sg_principal p;
    ck_assert_int_eq(auth("bEARER    alice-token-0123456789 \t", &p), SG_OK);
    ck_assert_str_eq(p.name, "alice");
}
END_TEST

static const struct {
    const char *hdr;
    int want;
} answers[] = {
    {NULL, SG_DECLINED},
    {"", SG_DECLINED},
    {"Basic YWxpY2U6eA==", SG_DECLINED},
    {"Bearerx alice-token-0123456789", SG_DECLINED},
    {"Bearer\talice-token-0123456789", SG_DECLINED},
    {"Bear", SG_DECLINED},
    {"Bearer alice-token-012345678", SG_DENIED}, /* one character short */
    {"Bearer alice-token-0123456789x", SG_DENIED},
    {"Bearer ALICE-TOKEN-0123456789", SG_DENIED},
    {"Bearer", SG_DENIED},
    {"Bearer ", SG_DENIED},
    {"Bearer   \t", SG_DENIED},
    {"Bearer alice-token 0123456789", SG_DENIED}, /* a space inside */
    {"Bearer alice\"token", SG_DENIED},
    {"Bearer ===", SG_DENIED},
    {"Bearer ab=cd", SG_DENIED},                           /* '=' only at the end */
    {"Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln", SG_DECLINED}, /* unknown, JWT-shaped: jwt's */
    {"Bearer eyJhbGciOiJub25lIn0.e30.", SG_DECLINED},      /* alg none: still jwt's to reject */
    {"Bearer a.b.c.d", SG_DENIED},
};

START_TEST(test_answers)
{
    struct sg_principal p;
    int rc = auth(answers[_i].hdr, &p);
    ck_assert_msg(rc == answers[_i].want, "%s: got %d", answers[_i].hdr ? answers[_i].hdr : "NULL",
                  rc);
    if (rc != SG_OK)
        ck_assert_str_eq(p.name, "");
}
END_TEST

START_TEST(test_oversize_token_denied)
{
    char *tok = sg_xmalloc(SG_AUTH_TOKEN_MAX + 2);
    memset(tok, 'a', SG_AUTH_TOKEN_MAX + 1);
    tok[SG_AUTH_TOKEN_MAX + 1] = '\0';
    char *hdr = sg_xasprintf("Bearer %s", tok);
    struct sg_principal p;
    ck_assert_int_eq(auth(hdr, &p), SG_DENIED);
    free(hdr);
    tok[SG_AUTH_TOKEN_MAX] = '\0'; /* exactly the limit: judged, and unknown */
    hdr = sg_xasprintf("Bearer %s", tok);
    ck_assert_int_eq(auth(hdr, &p), SG_DENIED);
    free(hdr);
    free(tok);
}
END_TEST

/* ---- the shared header reader ---------------------------------------------------- */

START_TEST(test_bearer_token_reader)
{
    const char *tok;
    size_t tl;
    const char *h = "Bearer   abc.DEF-_~+/==  ";
    ck_assert_int_eq(sg_auth_bearer_token(h, strlen(h), &tok, &tl), SG_OK);
    ck_assert_uint_eq(tl, 14);
    ck_assert(strncmp(tok, "abc.DEF-_~+/==", tl) == 0);
    /* Only len bytes are read. */
    ck_assert_int_eq(sg_auth_bearer_token("Bearer abcdef", 10, &tok, &tl), SG_OK);
    ck_assert_uint_eq(tl, 3);
    ck_assert_int_eq(sg_auth_bearer_token("Bearer ab\x01", 10, &tok, &tl), SG_DENIED);
    ck_assert_ptr_null(tok);

    static const struct {
        const char *t;
        bool jws;
    } shapes[] = {
        {"a.b.c", true},    {"a.b.", true},    {"eyJ0.eyJ0.c2ln", true},
        {"a..c", false},    {".b.c", false},   {"a.b", false},
        {"a.b.c.d", false}, {"a.b.c=", false}, {"a+b.c.d", false},
        {"a/b.c.d", false}, {"", false},       {"..", false},
    };
    for (size_t i = 0; i < SG_ARRAY_LEN(shapes); i++)
        ck_assert_msg(sg_auth_token_is_jws(shapes[i].t, strlen(shapes[i].t)) == shapes[i].jws, "%s",
                      shapes[i].t);
}
END_TEST

/* ---- the tokens file and the conf hook --------------------------------------------- */

struct file_case {
    const char *content; /* %s: a valid digest */
    const char *want;
};

static const struct file_case bad_files[] = {
    {"alice\n", ":1: expected name:sha256:<64 hex digits>"},
    {"alice:%s\n", ":1: expected name:sha256:<64 hex digits>"},
    {"# c\n\nalice:sha512:%s\n", ":3: unsupported digest (want sha256)"},
    {"alice:sha256:abc\n", ":1: the digest is not 64 hex digits"},
    {"alice:sha256:%s0\n", ":1: the digest is not 64 hex digits"},
    {"alice:sha256:%s extra\n", ":1: the digest is not 64 hex digits"},
    {"alice:sha256:zz%s\n", ":1: the digest is not 64 hex digits"},
    {":sha256:%s\n", ":1: empty name"},
    {"al\x01ice:sha256:%s\n", ":1: name contains control characters"},
    {"alice:sha256:%s\nbob:sha256:%s\n", ":2: duplicate token (same digest as line 1)"},
};

static char *fill_digest(const char *fmt, const char *hex)
{
    char *out = sg_xstrdup("");
    for (const char *p = fmt; *p; p++) {
        bool sub = p[0] == '%' && p[1] == 's';
        char *next = sub ? sg_xasprintf("%s%s", out, hex) : sg_xasprintf("%s%c", out, *p);
        p += sub;
        free(out);
        out = next;
    }
    return out;
}

START_TEST(test_bad_tokens_files)
{
    char *hex = sha256_hex("some-token", 0);
    const char *fmt = bad_files[_i].content;
    /* "zz%s" and "%s0" must be 64 characters long to reach the hex check. */
    char *short_hex = sg_xstrndup(hex, 62);
    char *content = fill_digest(fmt, strstr(fmt, "zz%s") ? short_hex : hex);
    char *path = sg_test_write_temp(content);
    struct sg_conf_errs errs = {.file = "test.yaml"};
    void *p = NULL;
    const char *kv[] = {"type", "bearer", "tokens_file", path, NULL};
    int rc = run_conf(&sg_module_auth_bearer, kv, &errs, &p);
    unlink(path);
    ck_assert_int_eq(rc, SG_ERR);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(errs.n, 1);
    char *want =
        sg_xasprintf("test.yaml:12: auth.providers[0].tokens_file: %s%s", path, bad_files[_i].want);
    ck_assert_msg(strstr(errs.msgs[0], want), "got \"%s\", want \"%s\"", errs.msgs[0], want);
    ck_assert_ptr_null(strstr(errs.msgs[0], short_hex)); /* never a digest */
    sg_conf_errs_clear(&errs);
    free(want);
    free(path);
    free(content);
    free(short_hex);
    free(hex);
}
END_TEST

START_TEST(test_long_name_and_missing_file_and_key)
{
    char name[SG_PRINCIPAL_NAME_MAX + 1];
    memset(name, 'n', SG_PRINCIPAL_NAME_MAX);
    name[SG_PRINCIPAL_NAME_MAX] = '\0';
    char *hex = sha256_hex("t", 0);
    char *content = sg_xasprintf("%s:sha256:%s\n", name, hex);
    char *path = sg_test_write_temp(content);
    struct sg_bearer_tokens *t = NULL;
    char err[512];
    ck_assert_int_eq(sg_bearer_tokens_load(path, &t, err, sizeof(err)), SG_ERR);
    ck_assert_ptr_nonnull(strstr(err, ":1: name longer than 255 bytes"));
    unlink(path);
    free(path);
    free(content);
    free(hex);

    struct sg_conf_errs errs = {.file = "test.yaml"};
    void *p = NULL;
    const char *kv[] = {"type", "bearer", "tokens_file", "/nonexistent/tokens", NULL};
    ck_assert_int_eq(run_conf(&sg_module_auth_bearer, kv, &errs, &p), SG_ERR);
    ck_assert_ptr_nonnull(
        strstr(errs.msgs[0], "auth.providers[0].tokens_file: /nonexistent/tokens: No such file"));
    sg_conf_errs_clear(&errs);
    const char *kv2[] = {"type", "bearer", NULL};
    ck_assert_int_eq(run_conf(&sg_module_auth_bearer, kv2, &errs, &p), SG_ERR);
    ck_assert_ptr_nonnull(
        strstr(errs.msgs[0], "auth.providers[0].tokens_file: required key is missing"));
    sg_conf_errs_clear(&errs);
}
END_TEST

/* A NUL byte used to end the line's text unseen, so "name:sha256:HEX\0junk"
 * loaded as if the junk were not there (found by fuzz_bearer_tokens). */
START_TEST(test_tokens_file_with_a_nul_byte)
{
    char *hex = sha256_hex("t", 0);
    char *line = sg_xasprintf("alice:sha256:%s", hex);
    char path[] = "/tmp/sg-test-tokens-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    size_t n = strlen(line);
    ck_assert_int_eq(write(fd, "# tokens\n", 9), 9);
    ck_assert_int_eq(write(fd, line, n), (ssize_t)n);
    ck_assert_int_eq(write(fd, "\0junk\n", 6), 6);
    close(fd);
    struct sg_bearer_tokens *t = NULL;
    char err[512];
    ck_assert_int_eq(sg_bearer_tokens_load(path, &t, err, sizeof(err)), SG_ERR);
    ck_assert_ptr_null(t);
    ck_assert_msg(strstr(err, ":2: holds a NUL byte"), "%s", err);
    unlink(path);
    free(line);
    free(hex);
}
END_TEST

START_TEST(test_tokens_match_scans_all)
{
    char *content = tokens_file_text();
    char *path = sg_test_write_temp(content);
    struct sg_bearer_tokens *t = NULL;
    char err[512];
    ck_assert_int_eq(sg_bearer_tokens_load(path, &t, err, sizeof(err)), SG_OK);
    ck_assert_int_eq(sg_bearer_tokens_count(t), SG_ARRAY_LEN(tokens));
    for (size_t i = 0; i < SG_ARRAY_LEN(tokens); i++) {
        unsigned char d[SG_BEARER_DIGEST_LEN];
        ck_assert(
            EVP_Digest(tokens[i].token, strlen(tokens[i].token), d, NULL, EVP_sha256(), NULL));
        ck_assert_str_eq(sg_bearer_tokens_match(t, d), tokens[i].name);
        d[31] ^= 1;
        ck_assert_ptr_null(sg_bearer_tokens_match(t, d));
    }
    sg_bearer_tokens_free(t);
    unlink(path);
    free(path);
    free(content);
}
END_TEST

/* ---- the chain: bearer and jwt in both orders --------------------------------------- */

static const unsigned char hs_secret[32] = "0123456789abcdef0123456789abcdef";

struct chain {
    const struct sg_module *m[2];
    void *inst[2];
    void *priv[2];
};

static void chain_start(struct chain *c, bool jwt_first)
{
    memset(c, 0, sizeof(*c));
    size_t b = jwt_first ? 1 : 0, j = 1 - b;
    c->m[b] = &sg_module_auth_bearer;
    c->inst[b] = start_bearer(&c->priv[b]);
    c->m[j] = &sg_module_auth_jwt;
    char *k = tj_b64url(hs_secret, sizeof(hs_secret));
    char *jwks = sg_xasprintf("{\"keys\":[{\"kty\":\"oct\",\"k\":\"%s\"}]}", k);
    char *path = sg_test_write_temp(jwks);
    struct sg_conf_errs errs = {.file = "test.yaml"};
    const char *kv[] = {"type", "jwt", "keys_file", path, NULL};
    ck_assert_int_eq(run_conf(&sg_module_auth_jwt, kv, &errs, &c->priv[j]), SG_OK);
    c->inst[j] = sg_module_auth_jwt.worker_init(c->priv[j], NULL);
    unlink(path);
    free(path);
    free(jwks);
    free(k);
}

static void chain_stop(struct chain *c)
{
    for (int i = 0; i < 2; i++) {
        if (c->m[i]->worker_fini)
            c->m[i]->worker_fini(c->inst[i]);
        c->m[i]->free_conf(c->priv[i]);
    }
}

/* SG_OK with p filled, or SG_DENIED standing for the 401 the core answers. */
static int chain_run(struct chain *c, const char *hdr, struct sg_principal *p)
{
    memset(p, 0, sizeof(*p));
    for (int i = 0; i < 2; i++) {
        const struct sg_auth_ops *o = c->m[i]->ops;
        int rc = o->authenticate(c->inst[i], hdr, hdr ? strlen(hdr) : 0, p, NULL, NULL);
        if (rc != SG_DECLINED)
            return rc;
    }
    return SG_DENIED;
}

START_TEST(test_chain_either_order)
{
    struct chain c;
    struct sg_principal p;
    chain_start(&c, _i == 1);
    char *pl =
        sg_xasprintf("{\"sub\":\"jwt-user\",\"exp\":%lld}", (long long)(sg_wall_ms() / 1000 + 600));
    char *jwt = tj_hs256("{\"alg\":\"HS256\"}", pl, hs_secret, sizeof(hs_secret));
    char *hdr = sg_xasprintf("Bearer %s", jwt);
    ck_assert_int_eq(chain_run(&c, hdr, &p), SG_OK);
    ck_assert_str_eq(p.name, "jwt-user");
    sg_principal_clear(&p);
    free(hdr);

    ck_assert_int_eq(chain_run(&c, "Bearer alice-token-0123456789", &p), SG_OK);
    ck_assert_str_eq(p.name, "alice");
    ck_assert_int_eq(chain_run(&c, "Bearer carol-new-token", &p), SG_OK);
    ck_assert_str_eq(p.name, "carol");

    /* Unknown opaque token, bad JWT, alg none, nothing: all end in a 401. */
    ck_assert_int_eq(chain_run(&c, "Bearer no-such-token", &p), SG_DENIED);
    jwt[strlen(jwt) - 3] ^= 1;
    hdr = sg_xasprintf("Bearer %s", jwt);
    ck_assert_int_eq(chain_run(&c, hdr, &p), SG_DENIED);
    free(hdr);
    char *none = tj_input("{\"alg\":\"none\"}", pl);
    hdr = sg_xasprintf("Bearer %s.", none);
    ck_assert_int_eq(chain_run(&c, hdr, &p), SG_DENIED);
    free(hdr);
    ck_assert_int_eq(chain_run(&c, NULL, &p), SG_DENIED);
    ck_assert_int_eq(chain_run(&c, "Bearer ", &p), SG_DENIED);

    /* An opaque token shaped like a JWT: bearer's when bearer comes first. */
    ck_assert_int_eq(chain_run(&c, "Bearer aaaa.bbbb.cccc", &p), _i == 0 ? SG_OK : SG_DENIED);
    free(none);
    free(jwt);
    free(pl);
    chain_stop(&c);
}
END_TEST

START_TEST(test_module_identity)
{
    ck_assert_str_eq(sg_module_auth_bearer.name, "bearer");
    ck_assert_int_eq(sg_module_auth_bearer.kind, SG_MOD_AUTH);
    ck_assert_str_eq(ops->scheme, "Bearer");
    ck_assert_ptr_eq(sg_module_find(SG_MOD_AUTH, "bearer"), &sg_module_auth_bearer);
    ck_assert_ptr_eq(sg_module_find(SG_MOD_AUTH, "jwt"), &sg_module_auth_jwt);
}
END_TEST

static Suite *auth_bearer_suite(void)
{
    Suite *s = suite_create("auth_bearer");
    TCase *tc = tcase_create("authenticate");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_known_tokens_accepted, 0, SG_ARRAY_LEN(tokens));
    tcase_add_test(tc, test_scheme_case_and_spaces);
    tcase_add_loop_test(tc, test_answers, 0, SG_ARRAY_LEN(answers));
    tcase_add_test(tc, test_oversize_token_denied);
    tcase_add_test(tc, test_bearer_token_reader);
    tcase_add_loop_test(tc, test_bad_tokens_files, 0, SG_ARRAY_LEN(bad_files));
    tcase_add_test(tc, test_long_name_and_missing_file_and_key);
    tcase_add_test(tc, test_tokens_file_with_a_nul_byte);
    tcase_add_test(tc, test_tokens_match_scans_all);
    tcase_add_loop_test(tc, test_chain_either_order, 0, 2);
    tcase_add_test(tc, test_module_identity);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(auth_bearer_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
