/* The holder-of-key signing input (gateway/http/jsonrpc_canonical.c,
 * jsonrpc_canon_double.c). The acceptance test: the signature of the verbatim
 * HoK request of JSONRPC.md 1.5, made by the real SDK, verifies with OpenSSL
 * over our canonical bytes, with the certificate in the assertion's
 * SubjectConfirmationData; a changed request does not. Then the rules one by
 * one: key order, escaping, numbers (expected values from the runtime's
 * canonicalize_double), and idempotence. */
#include <check.h>
#include <json-c/json.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/json_strict.h"
#include "http/jsonrpc_canonical.h"
#include "http/jsonrpc_request.h"
#include "sg_test_util.h"

static char *fixture(const char *name, size_t *len)
{
    return sg_test_read_own_fixture(len, "jsonrpc/requests/%s", name);
}

/* Test scaffolding: the certificate of the assertion's
 * SubjectConfirmationData, found by a string search and wrapped as PEM. */
static EVP_PKEY *hok_key(const char *assertion)
{
    const char *open = "<ds:X509Certificate>", *close = "</ds:X509Certificate>";
    const char *b = strstr(assertion, "<saml2:SubjectConfirmationData>");
    ck_assert_ptr_nonnull(b);
    b = strstr(b, open);
    ck_assert_ptr_nonnull(b);
    b += strlen(open);
    const char *e = strstr(b, close);
    ck_assert_ptr_nonnull(e);
    size_t n = (size_t)(e - b), o = 0;
    char *pem = malloc(n + n / 64 + 64);
    o += (size_t)sprintf(pem, "-----BEGIN CERTIFICATE-----\n");
    for (size_t i = 0; i < n; i += 64) {
        size_t k = n - i < 64 ? n - i : 64;
        memcpy(pem + o, b + i, k);
        o += k;
        pem[o++] = '\n';
    }
    o += (size_t)sprintf(pem + o, "-----END CERTIFICATE-----\n");
    BIO *bio = BIO_new_mem_buf(pem, (int)o);
    X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    ck_assert_ptr_nonnull(cert);
    EVP_PKEY *key = X509_get_pubkey(cert);
    X509_free(cert);
    BIO_free(bio);
    free(pem);
    return key;
}

static bool verifies(const struct sg_rpc_request *r, const char *msg, size_t len)
{
    const char *b64 = r->sec.signature;
    size_t n = strlen(b64);
    unsigned char *sig = malloc(n);
    int m = EVP_DecodeBlock(sig, (const unsigned char *)b64, (int)n);
    ck_assert_int_gt(m, 0);
    m -= (n > 0 && b64[n - 1] == '=') + (n > 1 && b64[n - 2] == '=');
    EVP_PKEY *key = hok_key(r->sec.saml_token);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    ck_assert_int_eq(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
    int ok = EVP_DigestVerify(ctx, sig, (size_t)m, (const unsigned char *)msg, len);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    free(sig);
    return ok == 1;
}

static char *signing_input(const char *body, size_t len, struct sg_rpc_request *r, size_t *n)
{
    char reason[200] = "";
    ck_assert_msg(sg_rpc_request_parse(body, len, r, reason, sizeof reason) == SG_RPC_OK, "%s",
                  reason);
    ck_assert_int_eq(r->sec.scheme, SG_RPC_SCHEME_SAML_HOK);
    char *in = sg_rpc_signing_input(r, n);
    ck_assert_ptr_nonnull(in);
    ck_assert_uint_eq(strlen(in), *n);
    return in;
}

START_TEST(test_hok_verbatim_verifies)
{
    size_t len, want_len, n;
    char *body = fixture("saml-hok.json", &len);
    char *want = fixture("saml-hok.canonical", &want_len);
    struct sg_rpc_request r;
    char *in = signing_input(body, len, &r, &n);
    ck_assert_str_eq(in, want);
    ck_assert_msg(verifies(&r, in, n), "the SDK's signature does not verify");
    free(in);
    sg_rpc_request_clear(&r);
    free(want);
    free(body);
}
END_TEST

/* The same request re-rendered by json-c: other key order, whitespace and
 * escapes ("\/"), the same values: the same signing input. */
START_TEST(test_hok_any_layout_verifies)
{
    size_t len, n;
    char *body = fixture("saml-hok.json", &len);
    struct json_object *o = json_tokener_parse(body);
    ck_assert_ptr_nonnull(o);
    const char *pretty = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
    ck_assert_str_ne(pretty, body);
    struct sg_rpc_request r;
    char *in = signing_input(pretty, strlen(pretty), &r, &n);
    ck_assert(verifies(&r, in, n));
    free(in);
    sg_rpc_request_clear(&r);
    json_object_put(o);
    free(body);
}
END_TEST

/* What JSONRPC.md 1.5 saw the runtime's verifier refuse, and more. */
START_TEST(test_hok_changed_fails)
{
    static const char *const edits[][2] = {
        {"\"task\":\"task-1\"", "\"task\":\"task-2\""},
        {"\"id\":\"0\"", "\"id\":\"1\""},
        {"\"id\":\"0\"", "\"id\":0"},
        {"04:44:54.465Z", "05:44:54.465Z"},
        {"\"opId\":\"e3cacc22", "\"opId\":\"f3cacc22"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        size_t len, n;
        char *body = fixture("saml-hok.json", &len);
        char *at = strstr(body, edits[i][0]);
        ck_assert_ptr_nonnull(at);
        char *changed = malloc(len + 16);
        size_t pre = (size_t)(at - body);
        int w = sprintf(changed, "%.*s%s%s", (int)pre, body, edits[i][1], at + strlen(edits[i][0]));
        struct sg_rpc_request r;
        char *in = signing_input(changed, (size_t)w, &r, &n);
        ck_assert_msg(!verifies(&r, in, n), "edit %zu still verifies", i);
        free(in);
        sg_rpc_request_clear(&r);
        free(changed);
        free(body);
    }
}
END_TEST

START_TEST(test_signing_input_hok_only)
{
    static const char *const files[] = {"none.json", "session-id.json", "user-pass.json",
                                        "saml-bearer.json", "session-create.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        size_t len, n = 99;
        char *body = fixture(files[i], &len);
        struct sg_rpc_request r;
        ck_assert_int_eq(sg_rpc_request_parse(body, len, &r, NULL, 0), SG_RPC_OK);
        ck_assert_ptr_null(sg_rpc_signing_input(&r, &n));
        sg_rpc_request_clear(&r);
        free(body);
    }
    struct sg_rpc_request none = {0};
    ck_assert_ptr_null(sg_rpc_signing_input(&none, NULL));
}
END_TEST

static char *canonical_of(const char *text)
{
    struct json_object *o = NULL;
    char why[128] = "";
    ck_assert_msg(sg_json_strict_parse(text, strlen(text), NULL, &o, why, sizeof why), "%s: %s",
                  text, why);
    size_t n;
    char *c = sg_json_canonical(o, NULL, NULL, &n);
    if (c)
        ck_assert_uint_eq(strlen(c), n);
    json_object_put(o);
    return c;
}

static const char *const layout[][2] = {
    /* keys by code point (UTF-16 order would put U+10000 before U+E000) */
    {"{\"b\":1,\"a\":2,\"aa\":3,\"Z\":4,\"\\u00e9\":5,\"\\ue000\":6,\"\\ud800\\udc00\":7,\"\":8}",
     "{\"\":8,\"Z\":4,\"a\":2,\"aa\":3,\"b\":1,\"\\u00e9\":5,\"\\ue000\":6,\"\\ud800\\udc00\":7}"},
    {" [ 3 , {\"y\" : [ ] , \"x\" : { } } , \"s\" ] ", "[3,{\"x\":{},\"y\":[]},\"s\"]"},
    /* strings as Python's json writes them with ensure_ascii */
    {"\"a/b\\/c\"", "\"a/b/c\""},
    {"\"q\\\"b\\\\\"", "\"q\\\"b\\\\\""},
    {"\"\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f ~\"", "\"\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f ~\""},
    {"\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", "\"caf\\u00e9 \\u20ac \\ud83d\\ude00\""},
    {"\"\\u00E9\\uFFFF\"", "\"\\u00e9\\uffff\""},
    /* integers as Python's int prints them */
    {"[0,-0,7,-42,9223372036854775807,-9223372036854775808]",
     "[0,0,7,-42,9223372036854775807,-9223372036854775808]"},
    {"[true,false,null]", "[true,false,null]"},
    /* doubles, in objects too */
    {"{\"d\":1.50,\"e\":-2.5e-3,\"f\":0.1}", "{\"d\":1.5E0,\"e\":-2.5E-3,\"f\":10.0E-2}"},
};

START_TEST(test_layout)
{
    char *got = canonical_of(layout[_i][0]);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, layout[_i][1]);
    free(got);
}
END_TEST

/* Inputs and what the vAPI runtime's canonicalize_double (vmware-vapi-runtime
 * lib/jsonlib.py, restated statement for statement in a scratch script: Decimal
 * with prec = len(mantissa), int(math.log10(...)), int(math.pow(10, n))) gave
 * for each under CPython 3.11 on this platform. */
static const char *const doubles[][2] = {
    {"1.5", "1.5E0"},
    {"0.1", "10.0E-2"},
    {"0.001", "10.0E-4"},
    {"0.01", "10.0E-3"},
    {"0.0001", "10.0E-5"},
    {"0.00001", "10.0E-6"},
    {"0.000001", "10.0E-7"},
    {"1e-6", "10.0E-7"},
    {"1E-6", "10.0E-7"},
    {"1.0e-5", "10.0E-6"},
    {"0.0000001", "1.0E-7"},
    {"1E-7", "1.0E-7"},
    {"0.00000010", "1.0E-7"},
    {"0.002", "2.0E-3"},
    {"0.3", "3.0E-1"},
    {"0.5", "5.0E-1"},
    {"0.05", "5.0E-2"},
    {"7.0e-1", "7.0E-1"},
    {"0.1e1", "1.0E0"},
    {"1.0", "1.0E0"},
    {"1.50", "1.5E0"},
    {"5e0", "5.0E0"},
    {"10.0", "1.0E1"},
    {"10.5", "1.05E1"},
    {"100.0", "1.0E2"},
    {"123.45", "1.2345E2"},
    {"123e-2", "1.23E0"},
    {"999.999", "9.99999E2"},
    {"99999.99999e-3", "9.999999999E1"},
    {"12.0e3", "1.2E4"},
    {"1e5", "1.0E5"},
    {"-1E+2", "-1.0E2"},
    {"-2.5e-3", "-2.5E-3"},
    {"2.50E-10", "2.5E-10"},
    {"0.0123456", "1.23456E-2"},
    {"0.000001234", "1.234E-6"},
    {"9.99999999999999999", "9.99999999999999999E0"},
    {"12345678901234567890.5", "1.23456789012345678905E19"},
    {"1234567890123456789012.5", "1.2345678901234567890125E21"},
    {"9999999999999999999999.9", "9.9999999999999999999999E21"},
    {"1e22", "1.0E22"},
    {"1e23", "1.0E23"},
    {"1e400", "1.0E400"},
    {"1e-400", "1.0E-400"},
    {"0.0", "0.0E0"},
    {"0.00", "0.0E0"},
    {"-0.0", "-0.0E0"},
    {"0e5", "0.0E5"},
    {"0.0000000", "0.0E-7"},
    {"-0e-10", "-0.0E-10"},
    {"0.0E5", "0.0E4"},
    {"0.0E-7", "0.0E-8"},
};

START_TEST(test_double)
{
    const char *in = doubles[_i][0];
    char out[128];
    int n = sg_json_canonical_double(in, strlen(in), out, sizeof out);
    ck_assert_msg(n > 0, "%s refused", in);
    ck_assert_str_eq(out, doubles[_i][1]);
    ck_assert_uint_eq((size_t)n, strlen(out));
    /* Canonical in, the same out: the form is a fixed point, but for a zero
     * with an exponent, which the runtime itself moves by one each time
     * (0e5 is 0.0E5, and 0.0E5 is 0.0E4: Decimal counts the ".0"). */
    char again[128];
    int m = sg_json_canonical_double(out, (size_t)n, again, sizeof again);
    if (strncmp(out + (out[0] == '-'), "0.0E", 4) == 0 && strcmp(out + (out[0] == '-'), "0.0E0"))
        return;
    ck_assert_int_eq(m, n);
    ck_assert_str_eq(again, out);
}
END_TEST

START_TEST(test_double_refused)
{
    /* The runtime divides by the float 10**23 here (99999999999999991611392
     * would come out), or overflows; an exponent past 1e15 is no id. */
    static const char *const refused[] = {"100000000000000000000000.0",
                                          "123456789012345678901234.5", "1e1000000000000001"};
    char out[128];
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        ck_assert_int_eq(sg_json_canonical_double(refused[i], strlen(refused[i]), out, sizeof out),
                         -1);
    ck_assert_int_eq(sg_json_canonical_double("1.5", 3, out, 34), -1); /* cap < n + 32 */
    char *c = canonical_of("[1,100000000000000000000000.0]");
    ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_skip_one_member)
{
    const char *text = "{\"signature\":1,\"a\":{\"signature\":2,\"b\":3}}";
    struct json_object *o = NULL, *a;
    ck_assert(sg_json_strict_parse(text, strlen(text), NULL, &o, NULL, 0));
    ck_assert(json_object_object_get_ex(o, "a", &a));
    char *c = sg_json_canonical(o, a, "signature", NULL);
    ck_assert_str_eq(c, "{\"a\":{\"b\":3},\"signature\":1}");
    free(c);
    c = sg_json_canonical(o, o, "signature", NULL);
    ck_assert_str_eq(c, "{\"a\":{\"b\":3,\"signature\":2}}");
    free(c);
    json_object_put(o);
}
END_TEST

START_TEST(test_not_utf8_refused)
{
    /* A tree built elsewhere (not by the strict parser) may hold bytes that
     * are no text: nothing canonical to say about them. */
    struct json_object *s = json_object_new_string("caf\xe9");
    ck_assert_ptr_null(sg_json_canonical(s, NULL, NULL, NULL));
    json_object_put(s);
    struct json_object *d = json_object_new_double(NAN);
    ck_assert_ptr_null(sg_json_canonical(d, NULL, NULL, NULL));
    json_object_put(d);
}
END_TEST

START_TEST(test_idempotent)
{
    static const char *const files[] = {
        "none.json",     "session-id.json",     "user-pass.json",    "saml-bearer.json",
        "saml-hok.json", "session-create.json", "saml-hok.canonical"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        size_t len;
        char *body = fixture(files[i], &len);
        char *once = canonical_of(body);
        char *twice = canonical_of(once);
        ck_assert_str_eq(once, twice);
        free(twice);
        free(once);
        free(body);
    }
}
END_TEST

static Suite *canonical_suite(void)
{
    Suite *s = suite_create("jsonrpc_canonical");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_hok_verbatim_verifies);
    tcase_add_test(tc, test_hok_any_layout_verifies);
    tcase_add_test(tc, test_hok_changed_fails);
    tcase_add_test(tc, test_signing_input_hok_only);
    tcase_add_loop_test(tc, test_layout, 0, (int)(sizeof layout / sizeof layout[0]));
    tcase_add_loop_test(tc, test_double, 0, (int)(sizeof doubles / sizeof doubles[0]));
    tcase_add_test(tc, test_double_refused);
    tcase_add_test(tc, test_skip_one_member);
    tcase_add_test(tc, test_not_utf8_refused);
    tcase_add_test(tc, test_idempotent);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(canonical_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
