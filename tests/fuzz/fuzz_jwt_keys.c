/* fuzz_jwt_keys: feeds arbitrary bytes, as the content of a keys file (a
 * memfd rewritten per execution, opened by its /proc/self/fd path), to
 * sg_jwt_keys_load (modules/auth/jwt/keys.c), then puts what loads to use.
 * Properties:
 * - failure: *out NULL; the error is non-empty, starts with "PATH: ", and
 *   holds none of the file's key material (no string value of 8 bytes or more
 *   of a key's k, n, e, x, y or d when the file parses as JSON);
 * - success: at least one key; every key verifies exactly one of RS256 (an
 *   RSA public key of 2048 bits or more, no secret), ES256 (an EC P-256
 *   public key, no secret) or HS256 (a secret of 32 bytes or more, no pkey);
 *   no two keys share a kid; a PEM file gives one key without kid; a JWKS
 *   gives one key per member of "keys" not marked "use": "enc";
 * - usable keys: six tokens of the fixed keys of fuzz_jwt_fixture.h (RS256,
 *   ES256 and HS256, each with its JWKS kid and without kid; RS256 and ES256
 *   are the fixture's constants, signed once, HS256 is minted at start) go
 *   through sg_jwt_verify with the loaded set (no issuer, no audience, the
 *   fixed clock), and each gets exactly the answer the loaded keys call for:
 *   SG_OK when a key of the token's alg whose kid fits (equal bytes, or either
 *   side without kid) holds the signer's key material (EVP_PKEY_eq, or the
 *   same HMAC key: the same secret bytes, maybe followed by NUL bytes up to
 *   the 64-byte block); else SG_DECLINED when no key fits or none of the
 *   fitting ones has a kid, SG_DENIED otherwise;
 * - no leaks (LeakSanitizer).
 * SG_FUZZ_DICT: jwt.dict */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "fuzz_jwt_fixture.h"
#include "modules/auth/jwt/jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fixed token and what signed it. */
struct signed_token {
    const char *tok;
    enum sg_jwt_alg alg;
    const char *kid; /* the header's, or NULL */
    EVP_PKEY *pkey;  /* RS256 / ES256: the signer's public key */
    const unsigned char *secret;
};

static struct sg_fuzz_file file;
static struct signed_token toks[6];
static bool ready;

static void init(void)
{
    static const char claims[] = "{\"sub\":\"fuzz\",\"exp\":1800000000}";
    EVP_PKEY *rsa = fj_pkey(fj_rsa_pem), *ec = fj_pkey(fj_ec_pem);
    sg_fuzz_file_open(&file, "sg-fuzz");
    /* RS256 / ES256: the fixture's constant tokens (their payload is claims):
     * there are only public keys here, nothing to sign with. */
    toks[0] = (struct signed_token){fj_rs256_kid, SG_JWT_RS256, "rsa1", rsa, NULL};
    toks[1] = (struct signed_token){fj_rs256_nokid, SG_JWT_RS256, NULL, rsa, NULL};
    toks[2] = (struct signed_token){fj_es256_kid, SG_JWT_ES256, "ec1", ec, NULL};
    toks[3] = (struct signed_token){fj_es256_nokid, SG_JWT_ES256, NULL, ec, NULL};
    toks[4] = (struct signed_token){
        tj_hs256("{\"alg\":\"HS256\",\"kid\":\"hs1\"}", claims, fj_hs1, FJ_HS_LEN), SG_JWT_HS256,
        "hs1", NULL, fj_hs1};
    toks[5] = (struct signed_token){tj_hs256("{\"alg\":\"HS256\"}", claims, fj_hs0, FJ_HS_LEN),
                                    SG_JWT_HS256, NULL, NULL, fj_hs0};
    ready = true;
}

/* The JSON value of exactly data[0..size) by json-c's default (lenient)
 * parser, or NULL; it reads every text the strict loader reads the same way. */
static json_object *parse_json(const uint8_t *data, size_t size)
{
    json_tokener *t = json_tokener_new();
    json_object *o = json_tokener_parse_ex(t, (const char *)data, (int)size);
    if (json_tokener_get_error(t) != json_tokener_success) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(t);
    return o;
}

/* ---- failure ---------------------------------------------------------------- */

/* Whether err quotes a key-material string of the JWKS (when it is one). */
static bool err_quotes_material(const uint8_t *data, size_t size, const char *err)
{
    bool found = false;
    json_object *root = parse_json(data, size);
    json_object *arr;
    if (!root || !json_object_object_get_ex(root, "keys", &arr) ||
        json_object_get_type(arr) != json_type_array) {
        json_object_put(root);
        return false;
    }
    static const char *const members[] = {"k", "n", "e", "x", "y", "d"};
    for (size_t i = 0; i < json_object_array_length(arr) && !found; i++) {
        json_object *key = json_object_array_get_idx(arr, i), *v;
        for (size_t m = 0; m < SG_ARRAY_LEN(members) && !found; m++)
            if (json_object_object_get_ex(key, members[m], &v) &&
                json_object_get_type(v) == json_type_string && json_object_get_string_len(v) >= 8)
                found = memmem(err, strlen(err), json_object_get_string(v),
                               (size_t)json_object_get_string_len(v)) != NULL;
    }
    json_object_put(root);
    return found;
}

/* ---- success ------------------------------------------------------------------- */

static void check_key(const struct sg_jwt_key *k)
{
    char group[64] = "";
    switch (k->alg) {
    case SG_JWT_RS256:
        if (!k->pkey || k->secret || !EVP_PKEY_is_a(k->pkey, "RSA") ||
            EVP_PKEY_get_bits(k->pkey) < SG_JWT_RSA_MIN_BITS)
            abort();
        break;
    case SG_JWT_ES256:
        if (!k->pkey || k->secret || !EVP_PKEY_is_a(k->pkey, "EC") ||
            !EVP_PKEY_get_utf8_string_param(k->pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                            sizeof(group), NULL) ||
            strcmp(group, "prime256v1") != 0)
            abort();
        break;
    case SG_JWT_HS256:
        if (k->pkey || !k->secret || k->secret_len < SG_JWT_HMAC_MIN_BYTES)
            abort();
        break;
    default:
        abort();
    }
}

/* How many keys a JWKS text should give: its "keys" members not "use": "enc". */
static size_t jwks_count(const uint8_t *data, size_t size)
{
    json_object *root = parse_json(data, size), *arr, *use;
    size_t n = 0;
    if (!root || !json_object_object_get_ex(root, "keys", &arr))
        abort(); /* it loaded as a JWKS */
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *k = json_object_array_get_idx(arr, i);
        bool enc = json_object_object_get_ex(k, "use", &use) &&
                   json_object_get_type(use) == json_type_string &&
                   json_object_get_string_len(use) == 3 &&
                   memcmp(json_object_get_string(use), "enc", 3) == 0;
        if (!enc)
            n++;
    }
    json_object_put(root);
    return n;
}

/* Does key k hold the material t was signed with? */
static bool same_material(const struct sg_jwt_key *k, const struct signed_token *t)
{
    if (t->secret) {
        /* HMAC (RFC 2104) pads a key no longer than the hash's block (64
         * bytes for SHA-256) with zeros: the signer's secret followed by NUL
         * bytes is the same HMAC key, and verifies its tokens. */
        if (!k->secret || k->secret_len < FJ_HS_LEN || k->secret_len > 64 ||
            memcmp(k->secret, t->secret, FJ_HS_LEN) != 0)
            return false;
        for (size_t i = FJ_HS_LEN; i < k->secret_len; i++)
            if (k->secret[i] != 0)
                return false;
        return true;
    }
    return k->pkey && EVP_PKEY_eq(k->pkey, t->pkey) == 1;
}

static void check_token(const struct sg_jwt_keys *ks, const struct signed_token *t)
{
    const struct sg_jwt_policy p = {.keys = ks, .groups_claim = "groups"};
    size_t fitting = 0;
    bool named = false, match = false;
    for (size_t i = 0; i < ks->n; i++) {
        const struct sg_jwt_key *k = &ks->v[i];
        if (k->alg != t->alg || (t->kid && k->kid && strcmp(t->kid, k->kid) != 0))
            continue;
        fitting++;
        named = named || (t->kid && k->kid);
        match = match || same_material(k, t);
    }
    int want = match ? SG_OK : (fitting == 0 || !named) ? SG_DECLINED : SG_DENIED;
    struct sg_jwt_claims c;
    const char *why = NULL;
    int rc = sg_jwt_verify(&p, t->tok, strlen(t->tok), FJ_NOW, &c, &why);
    if (getenv("SG_FUZZ_VERBOSE")) /* reproducing by hand: what each token got */
        fprintf(stderr, "fuzz_jwt_keys: %s token (kid %s): %d\n", sg_jwt_alg_name(t->alg),
                t->kid ? t->kid : "-", rc);
    if (rc != want) {
        fprintf(stderr, "fuzz_jwt_keys: %s token (kid %s): %d (%s), want %d\n",
                sg_jwt_alg_name(t->alg), t->kid ? t->kid : "-", rc, why ? why : "ok", want);
        abort();
    }
    if (rc == SG_OK && strcmp(c.sub, "fuzz") != 0)
        abort();
    if (rc != SG_OK && (!why || !*why))
        abort();
    sg_jwt_claims_clear(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready)
        init();
    if (size > SG_JWT_KEYS_FILE_MAX)
        return 0;
    sg_fuzz_file_set(&file, data, size);
    static struct sg_jwt_keys not_set;
    struct sg_jwt_keys *ks = &not_set; /* a failure must leave it NULL */
    char err[512];
    memset(err, 0x5a, sizeof(err));
    int rc = sg_jwt_keys_load(file.path, &ks, err, sizeof(err));
    if (rc != SG_OK) {
        size_t pl = strlen(file.path);
        if (rc != SG_ERR || ks || !memchr(err, '\0', sizeof(err)) ||
            strncmp(err, file.path, pl) != 0 || strncmp(err + pl, ": ", 2) != 0 ||
            err[pl + 2] == '\0')
            abort();
        if (err_quotes_material(data, size, err))
            abort();
        if (getenv("SG_FUZZ_VERBOSE"))
            fprintf(stderr, "fuzz_jwt_keys: %s\n", err);
        return 0;
    }
    if (!ks || ks->n == 0)
        abort();
    for (size_t i = 0; i < ks->n; i++) {
        check_key(&ks->v[i]);
        for (size_t j = 0; j < i; j++)
            if (ks->v[i].kid && ks->v[j].kid && strcmp(ks->v[i].kid, ks->v[j].kid) == 0)
                abort();
    }
    size_t s = 0;
    while (s < size && (data[s] == ' ' || data[s] == '\t' || data[s] == '\r' || data[s] == '\n'))
        s++;
    if (s < size && data[s] == '{') {
        if (ks->n != jwks_count(data, size))
            abort();
    } else if (ks->n != 1 || ks->v[0].kid) {
        abort();
    }
    for (size_t i = 0; i < SG_ARRAY_LEN(toks); i++)
        check_token(ks, &toks[i]);
    sg_jwt_keys_free(ks);
    return 0;
}
