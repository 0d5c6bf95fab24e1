/* DataValue JSON for JSON-RPC (gateway/normalize/datavalue*.c): every API
 * fixture's Info against the independent Python encoding in
 * tests/fixtures/jsonrpc (values, types and key order), the verbatim answers of
 * JSONRPC.md 3.3 and 3.4 byte for byte, the REST path's errors, the envelope
 * and its id check, opaque values, and refusals of what is not canonical. */
#include <check.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalize/datavalue.h"
#include "normalize/reply.h"
#include "sg_test_json.h"
#include "sg_test_util.h"
#include "snapgate/common.h"
#include "snapgate/info.h"

static const char *const cases[] = {
    "cis-blocked",
    "cis-failed",
    "cis-pending",
    "cis-running",
    "cis-succeeded",
    "cis-time-offset",
    "rest-failed",
    "rest-running",
    "snapservice-null-fields",
    "snapservice-valid",
    "vijson-error-no-permission",
    "vijson-error",
    "vijson-queued",
    "vijson-running",
    "vijson-success",
    "vijson-system",
    "vijson-with-description",
    "vim25-error",
    "vim25-queued",
    "vim25-running",
    "vim25-success",
};

/* A DataValue nests several levels per Info level: deeper than json-c's
 * default limit of 32. */
static struct json_object *parse_dv(const char *text)
{
    struct json_tokener *tok = json_tokener_new_ex(1024);
    struct json_object *o = json_tokener_parse_ex(tok, text, (int)strlen(text));
    if (json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != strlen(text)) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

static struct json_object *load(const char *path)
{
    size_t len = 0;
    char *text = sg_test_read_file(path, &len);
    ck_assert_msg(text != NULL, "cannot read %s", path);
    char reason[160];
    struct json_object *o = sg_info_parse_json(text, len, reason, sizeof reason);
    ck_assert_msg(o != NULL, "%s: %s", path, reason);
    free(text);
    return o;
}

/* A canonical Info from a fixture, as the REST path holds it. */
static struct json_object *fixture_info(const char *name)
{
    char *file = sg_xasprintf("%s.expected.json", name);
    char *path = sg_test_fixture_path(file);
    struct json_object *info = load(path);
    enum sg_task_status st;
    char reason[160];
    ck_assert_msg(sg_info_canonicalize(info, &st, reason, sizeof reason) == SG_OK, "%s: %s", name,
                  reason);
    free(path);
    free(file);
    return info;
}

/* The whole answer for a DataValue and an id, as the hit path builds it. */
static char *answer(enum sg_dv_kind kind, const char *dv, size_t dv_len, const char *id)
{
    size_t suffix_len, len;
    char *suffix = sg_dv_envelope_suffix(kind, dv, dv_len, &suffix_len);
    ck_assert_uint_eq(strlen(suffix), suffix_len);
    char *out = sg_dv_envelope(id, strlen(id), suffix, suffix_len, &len);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(strlen(out), len);
    free(suffix);
    return out;
}

/* The answer for dv and id is byte for byte the verbatim response `name` of
 * JSONRPC.md (the file's last newline aside). */
static void assert_verbatim(const char *name, enum sg_dv_kind kind, const char *dv, size_t dv_len,
                            const char *id)
{
    char *got = answer(kind, dv, dv_len, id);
    size_t len = 0;
    char *want = sg_test_read_own_fixture(&len, "jsonrpc/verbatim/%s.response.json", name);
    if (len && want[len - 1] == '\n')
        want[len - 1] = '\0';
    ck_assert_str_eq(got, want);
    free(want);
    free(got);
}

/* ---- the 21 fixtures ------------------------------------------------------ */

START_TEST(fixture_encodes_as_python)
{
    const char *name = cases[_i];
    struct json_object *info = fixture_info(name);
    char *before = sg_xstrdup(sg_test_json_plain(info));
    char reason[160] = "";
    size_t len = 0;
    char *dv = sg_dv_info(info, &len, reason, sizeof reason);
    ck_assert_msg(dv != NULL, "%s refused: %s", name, reason);
    ck_assert_uint_eq(strlen(dv), len);
    ck_assert_msg(strcmp(sg_test_json_plain(info), before) == 0, "%s: the Info was changed", name);
    /* The unchecked encoder the cache uses gives the same bytes. */
    size_t clen = 0;
    char *canonical = sg_dv_info_canonical(info, &clen);
    ck_assert_uint_eq(clen, len);
    ck_assert_str_eq(canonical, dv);
    free(canonical);

    /* compact and as json-c prints it: parsing and re-rendering changes nothing */
    struct json_object *got = parse_dv(dv);
    ck_assert_msg(got != NULL, "%s: output is not JSON", name);
    ck_assert_str_eq(sg_test_json_plain(got), dv);

    char *file = sg_xasprintf("jsonrpc/%s.datavalue.json", name);
    char *want_text = sg_test_read_own_fixture(NULL, "%s", file);
    struct json_object *want = parse_dv(want_text);
    free(want_text);
    ck_assert_msg(want != NULL, "%s is not JSON", file);
    /* the encoding's field order is part of what it promises */
    ck_assert_msg(sg_test_json_same(got, want, SG_JSON_SAME_ORDER), "%s differs from %s:\n%s", name,
                  file, dv);

    json_object_put(want);
    json_object_put(got);
    free(file);
    free(dv);
    free(before);
    json_object_put(info);
}
END_TEST

/* ---- JSONRPC.md 3.3 and 3.4, byte for byte -------------------------------- */

static const struct {
    const char *name, *id;
} verbatim_infos[] = {
    {"snapservice-valid", "\"0\""},
    {"cis-failed", "\"2\""},
    {"cis-time-offset", "\"3\""},
};

START_TEST(verbatim_info_answer)
{
    struct json_object *info = fixture_info(verbatim_infos[_i].name);
    size_t len;
    char *dv = sg_dv_info(info, &len, NULL, 0);
    ck_assert_ptr_nonnull(dv);
    assert_verbatim(verbatim_infos[_i].name, SG_DV_OUTPUT, dv, len, verbatim_infos[_i].id);
    free(dv);
    json_object_put(info);
}
END_TEST

static const struct {
    const char *name, *error, *challenge, *id;
} verbatim_errors[] = {
    {"not-found",
     "{\"error_type\":\"NOT_FOUND\",\"messages\":[{\"id\":\"snapgate.error.not_found\","
     "\"default_message\":\"The task was not found.\",\"args\":[]}]}",
     NULL, "\"4\""},
    {"unauthenticated",
     "{\"error_type\":\"UNAUTHENTICATED\",\"messages\":[{\"id\":\"snapgate.error."
     "unauthenticated\",\"default_message\":\"Authentication required.\",\"args\":[]}]}",
     "Basic realm=\"snapgate\"", "\"5\""},
};

START_TEST(verbatim_error_answer)
{
    struct json_object *err = json_tokener_parse(verbatim_errors[_i].error);
    char reason[160] = "";
    size_t len;
    char *dv = sg_dv_std_error(err, verbatim_errors[_i].challenge, &len, reason, sizeof reason);
    ck_assert_msg(dv != NULL, "refused: %s", reason);
    assert_verbatim(verbatim_errors[_i].name, SG_DV_ERROR, dv, len, verbatim_errors[_i].id);
    free(dv);
    json_object_put(err);
}
END_TEST

/* ---- the REST path's errors ------------------------------------------------ */

static struct json_object *at(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    ck_assert_msg(json_object_object_get_ex(o, key, &v), "no member %s in %s", key,
                  sg_test_json_plain(o));
    return v;
}

START_TEST(error_reply_says_what_rest_says)
{
    enum sg_error e = (enum sg_error)_i;
    struct json_object *rest = json_tokener_parse(sg_error_reply(e)->body);
    const char *type = json_object_get_string(at(rest, "error_type"));
    struct json_object *msg = json_object_array_get_idx(at(rest, "messages"), 0);

    const char *challenge = e == SG_E_UNAUTHENTICATED ? "Bearer realm=\"snapgate\"" : NULL;
    size_t len;
    char *dv = sg_dv_error_reply(e, challenge, &len);
    ck_assert_ptr_nonnull(dv);
    ck_assert_uint_eq(strlen(dv), len);
    struct json_object *got = parse_dv(dv);
    ck_assert_ptr_nonnull(got);

    char name[96];
    snprintf(name, sizeof name, "com.vmware.vapi.std.errors.%s", type);
    for (char *p = name + strlen("com.vmware.vapi.std.errors."); *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    struct json_object *f = at(at(got, "ERROR"), name);
    ck_assert_uint_eq(json_object_object_length(at(got, "ERROR")), 1);
    ck_assert_str_eq(json_object_get_string(at(at(f, "error_type"), "OPTIONAL")), type);
    ck_assert(json_object_is_type(at(at(f, "data"), "OPTIONAL"), json_type_null));
    struct json_object *m = at(at(json_object_array_get_idx(at(f, "messages"), 0), "STRUCTURE"),
                               "com.vmware.vapi.std.localizable_message");
    ck_assert_uint_eq(json_object_array_length(at(f, "messages")), 1);
    ck_assert_str_eq(json_object_get_string(at(m, "id")), json_object_get_string(at(msg, "id")));
    ck_assert_str_eq(json_object_get_string(at(m, "default_message")),
                     json_object_get_string(at(msg, "default_message")));
    ck_assert_str_eq(sg_test_json_plain(at(m, "args")), "[]");
    if (challenge)
        ck_assert_str_eq(json_object_get_string(at(at(f, "challenge"), "OPTIONAL")), challenge);
    else
        ck_assert(!json_object_object_get_ex(f, "challenge", NULL));

    /* only Unauthenticated has a challenge */
    if (!challenge)
        ck_assert_ptr_null(sg_dv_error_reply(e, "Basic realm=\"x\"", &len));

    json_object_put(got);
    free(dv);
    json_object_put(rest);
}
END_TEST

START_TEST(error_reply_out_of_range)
{
    size_t len;
    ck_assert_ptr_null(sg_dv_error_reply(SG_E__COUNT, NULL, &len));
    ck_assert_ptr_null(sg_dv_error_reply((enum sg_error) - 1, NULL, &len));
}
END_TEST

/* ---- the envelope ---------------------------------------------------------- */

START_TEST(envelope_echoes_ids)
{
    static const char dv[] = "{\"STRUCTURE\":{}}";
    static const struct {
        const char *id;
        enum sg_dv_kind kind;
        const char *want;
    } c[] = {
        {"\"0\"", SG_DV_OUTPUT,
         "{\"jsonrpc\":\"2.0\",\"id\":\"0\",\"result\":{\"output\":{\"STRUCTURE\":{}}}}"},
        {"0", SG_DV_OUTPUT,
         "{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":{\"output\":{\"STRUCTURE\":{}}}}"},
        {"-12.5e+3", SG_DV_ERROR,
         "{\"jsonrpc\":\"2.0\",\"id\":-12.5e+3,\"result\":{\"error\":{\"STRUCTURE\":{}}}}"},
        {"\"a\\\"b\\u00e9\\/\"", SG_DV_ERROR,
         "{\"jsonrpc\":\"2.0\",\"id\":\"a\\\"b\\u00e9\\/\",\"result\":{\"error\":{\"STRUCTURE\":{}"
         "}}}"},
        {"\"\xc3\xa9\"", SG_DV_OUTPUT,
         "{\"jsonrpc\":\"2.0\",\"id\":\"\xc3\xa9\",\"result\":{\"output\":{\"STRUCTURE\":{}}}}"},
    };
    for (size_t i = 0; i < SG_ARRAY_LEN(c); i++) {
        char *got = answer(c[i].kind, dv, strlen(dv), c[i].id);
        ck_assert_str_eq(got, c[i].want);
        struct json_object *o = json_tokener_parse(got);
        ck_assert_msg(o != NULL, "not JSON: %s", got);
        json_object_put(o);
        free(got);
    }
    /* the prefix is what the header promises the hit path */
    ck_assert_uint_eq(strlen(SG_DV_ENVELOPE_PREFIX), SG_DV_ENVELOPE_PREFIX_LEN);
}
END_TEST

static const struct {
    const char *id;
    size_t len; /* 0: strlen */
    bool valid;
} ids[] = {
    {"\"\"", 0, true},
    {"\"task-1\"", 0, true},
    {"\"\\\\\\b\\f\\n\\r\\t\\/\\\"\"", 0, true},
    {"\"\\uD83D\\ude00\"", 0, true},
    {"0", 0, true},
    {"-0", 0, true},
    {"123", 0, true},
    {"1.5", 0, true},
    {"1e9", 0, true},
    {"1E-9", 0, true},
    {"-0.0e+0", 0, true},
    {"", 0, false},
    {"\"", 0, false},
    {"\"abc", 0, false},
    {"abc\"", 0, false},
    {"\"a\"b\"", 0, false},
    {"\"a\\\"", 0, false},
    {"\"\\x\"", 0, false},
    {"\"\\u12\"", 0, false},
    {"\"\\u12g4\"", 0, false},
    {"\"a\nb\"", 0, false},
    {"\"a\x01\"", 0, false},
    {"\"a\0b\"", 5, false},
    {"\"a\"\"b\"", 0, false},
    {" 1", 0, false},
    {"1 ", 0, false},
    {"01", 0, false},
    {"+1", 0, false},
    {"1.", 0, false},
    {".5", 0, false},
    {"1e", 0, false},
    {"1e+", 0, false},
    {"-", 0, false},
    {"0x10", 0, false},
    {"NaN", 0, false},
    {"null", 0, false},
    {"true", 0, false},
    {"[1]", 0, false},
    {"{}", 0, false},
    {"1,\"x\":2", 0, false},
    /* what json-c's strict tokener reads and RFC 8259 does not (fuzz_datavalue) */
    {"-002", 0, false},
    {"00", 0, false},
    {"-.33", 0, false},
    {"1.e5", 0, false},
    {"-Infinity", 0, false},
    {"-15e5\r", 0, false},
    {"\"\x7f\xff\"", 0, true},
};

START_TEST(id_validity)
{
    size_t len = ids[_i].len ? ids[_i].len : strlen(ids[_i].id);
    ck_assert_msg(sg_dv_id_valid(ids[_i].id, len) == ids[_i].valid, "id %s", ids[_i].id);
    size_t out_len;
    char *out = sg_dv_envelope(ids[_i].id, len, "}", 1, &out_len);
    ck_assert(ids[_i].valid ? out != NULL : out == NULL);
    if (out) {
        struct json_object *o = json_tokener_parse(out);
        ck_assert_msg(o != NULL, "not JSON: %s", out);
        json_object_put(o);
    }
    free(out);
}
END_TEST

START_TEST(id_null_pointer)
{
    size_t len;
    ck_assert(!sg_dv_id_valid(NULL, 3));
    ck_assert_ptr_null(sg_dv_envelope(NULL, 3, "}", 1, &len));
}
END_TEST

/* ---- shapes the fixtures do not have -------------------------------------- */

#define DESC "\"description\":{\"id\":\"x\",\"default_message\":\"m\",\"args\":[]}"
#define HEAD DESC ",\"service\":\"s\",\"operation\":\"o\""
#define RUNNING                                                                                    \
    HEAD                                                                                           \
        ",\"status\":\"RUNNING\",\"cancelable\":true,\"start_time\":\"2024-07-01T10:15:30.123Z\"," \
        "\"progress\":{\"total\":100,\"completed\":5,\"message\":{\"id\":\"p\","                   \
        "\"default_message\":\"d\",\"args\":[]}}"

static char *encode_text(const char *text)
{
    struct json_object *info = json_tokener_parse(text);
    ck_assert_msg(info != NULL, "bad test JSON %s", text);
    char reason[160] = "";
    char *dv = sg_dv_info(info, NULL, reason, sizeof reason);
    ck_assert_msg(dv != NULL, "refused %s: %s", text, reason);
    struct json_object *back = parse_dv(dv);
    ck_assert_msg(back != NULL, "not JSON: %s", dv);
    ck_assert_str_eq(sg_test_json_plain(back), dv);
    json_object_put(back);
    json_object_put(info);
    return dv;
}

START_TEST(minimal_pending_exact)
{
    char *dv = encode_text("{" HEAD ",\"status\":\"PENDING\",\"cancelable\":false}");
    ck_assert_str_eq(
        dv, "{\"STRUCTURE\":{\"com.vmware.snapservice.tasks.info\":{\"progress\":{\"OPTIONAL\":"
            "null},\"result\":{\"OPTIONAL\":null},\"vc_task\":{\"OPTIONAL\":null},\"description\":"
            "{\"STRUCTURE\":{\"com.vmware.vapi.std.localizable_message\":{\"id\":\"x\","
            "\"default_message\":\"m\",\"args\":[],\"params\":{\"OPTIONAL\":null},\"localized\":{"
            "\"OPTIONAL\":null}}}},\"service\":\"s\",\"operation\":\"o\",\"parent\":{\"OPTIONAL\":"
            "null},\"target\":{\"OPTIONAL\":null},\"status\":\"PENDING\",\"cancelable\":false,"
            "\"error\":{\"OPTIONAL\":null},\"start_time\":{\"OPTIONAL\":null},\"end_time\":{"
            "\"OPTIONAL\":null},\"user\":{\"OPTIONAL\":null}}}}");
    free(dv);
}
END_TEST

START_TEST(opaque_result)
{
    char *dv = encode_text("{" RUNNING ",\"result\":[1,\"a\",null,{\"k\":[],\"n\":null},2.50,"
                           "true,{}]}");
    ck_assert_msg(
        strstr(dv, "\"result\":{\"OPTIONAL\":[1,\"a\",null,{\"STRUCTURE\":{\"" SG_DV_OPAQUE_STRUCT
                   "\":{\"k\":[],\"n\":null}}},2.50,true,{\"STRUCTURE\":{\"" SG_DV_OPAQUE_STRUCT
                   "\":{}}}]}") != NULL,
        "%s", dv);
    free(dv);
    dv = encode_text("{" RUNNING ",\"result\":-7}");
    ck_assert_ptr_nonnull(strstr(dv, "\"result\":{\"OPTIONAL\":-7}"));
    free(dv);
}
END_TEST

/* DOUBLE needs a fraction; a double keeps its text as json-c parsed it; an
 * INTEGER (`i`, `precision`) is left as it is. */
START_TEST(double_params)
{
    static const struct {
        const char *d, *want;
    } c[] = {
        {"5", "5.0"},       {"-3", "-3.0"}, {"18446744073709551615", "18446744073709551615.0"},
        {"62.50", "62.50"}, {"1e5", "1e5"}, {"-2E-3", "-2E-3"},
    };
    for (size_t i = 0; i < SG_ARRAY_LEN(c); i++) {
        char *text = sg_xasprintf("{" HEAD ",\"status\":\"RUNNING\",\"cancelable\":true,"
                                  "\"start_time\":\"2024-07-01T10:15:30.123Z\",\"progress\":{"
                                  "\"total\":1,\"completed\":0,\"message\":{\"id\":\"p\","
                                  "\"default_message\":\"d\",\"args\":[],\"params\":{\"x\":{"
                                  "\"d\":%s,\"precision\":2},\"y\":{\"i\":7}}}}}",
                                  c[i].d);
        char *dv = encode_text(text);
        char *want = sg_xasprintf("\"d\":{\"OPTIONAL\":%s}", c[i].want);
        ck_assert_msg(strstr(dv, want) != NULL, "d %s: %s", c[i].d, dv);
        ck_assert_ptr_nonnull(strstr(dv, "\"precision\":{\"OPTIONAL\":2}"));
        ck_assert_ptr_nonnull(strstr(dv, "\"i\":{\"OPTIONAL\":7}"));
        free(want);
        free(dv);
        free(text);
    }
}
END_TEST

START_TEST(error_with_data_and_nested)
{
    char *dv = encode_text(
        "{" HEAD ",\"status\":\"FAILED\",\"cancelable\":false,"
        "\"start_time\":\"2024-07-01T10:15:30.123Z\",\"end_time\":\"2024-07-01T10:15:31.000Z\","
        "\"progress\":{\"total\":1,\"completed\":1,\"message\":{\"id\":\"p\",\"default_message\":"
        "\"d\",\"args\":[],\"localized\":\"l10n\"}},"
        "\"error\":{\"error_type\":\"UNAUTHORIZED\",\"messages\":[{\"id\":\"e\",\"default_"
        "message\":"
        "\"E\",\"args\":[\"a\"],\"params\":{\"n\":{\"l\":{\"id\":\"in\"}}}}],\"data\":{\"a\":{"
        "\"b\":"
        "1}}}}");
    ck_assert_msg(
        strstr(
            dv,
            "\"error\":{\"OPTIONAL\":{\"ERROR\":{\"com.vmware.vapi.std.errors.unauthorized\":{"
            "\"messages\":[{\"STRUCTURE\":{\"com.vmware.vapi.std.localizable_message\":{\"id\":"
            "\"e\",\"default_message\":\"E\",\"args\":[\"a\"],\"params\":{\"OPTIONAL\":[{"
            "\"STRUCTURE\":{\"map-entry\":{\"key\":\"n\",\"value\":{\"STRUCTURE\":{\"com.vmware."
            "vapi.std.localization_param\":{\"s\":{\"OPTIONAL\":null},\"dt\":{\"OPTIONAL\":null},"
            "\"i\":{\"OPTIONAL\":null},\"d\":{\"OPTIONAL\":null},\"l\":{\"OPTIONAL\":{"
            "\"STRUCTURE\":{\"com.vmware.vapi.std.nested_localizable_message\":{\"id\":\"in\","
            "\"params\":{\"OPTIONAL\":null}}}}},\"format\":{\"OPTIONAL\":null},\"precision\":{"
            "\"OPTIONAL\":null}}}}}}}]},\"localized\":{\"OPTIONAL\":null}}}}],\"data\":{"
            "\"OPTIONAL\":{\"STRUCTURE\":{\"" SG_DV_OPAQUE_STRUCT
            "\":{\"a\":{\"STRUCTURE\":{\"" SG_DV_OPAQUE_STRUCT
            "\":{\"b\":1}}}}}}},\"error_type\":{\"OPTIONAL\":\"UNAUTHORIZED\"}}}}}") != NULL,
        "%s", dv);
    ck_assert_ptr_nonnull(strstr(dv, "\"localized\":{\"OPTIONAL\":\"l10n\"}"));
    free(dv);
}
END_TEST

/* ---- refusals -------------------------------------------------------------- */

static const char *const not_canonical[] = {
    "[]",
    "\"x\"",
    "{}",
    "{" HEAD ",\"status\":\"PENDING\"}",
    "{" HEAD ",\"status\":\"PENDING\",\"cancelable\":\"no\"}",
    "{" HEAD ",\"status\":\"PENDING\",\"cancelable\":false,\"foo\":1}",
    "{" HEAD ",\"status\":\"DONE\",\"cancelable\":false}",
    /* canonicalize would drop the null: not a fixed point */
    "{" HEAD ",\"status\":\"PENDING\",\"cancelable\":false,\"user\":null}",
    "{" RUNNING ",\"progress\":null}",
    /* union rule */
    "{" HEAD ",\"status\":\"RUNNING\",\"cancelable\":false}",
    "{" RUNNING ",\"end_time\":\"2024-07-01T10:15:31.000Z\"}",
    /* a time not yet rewritten */
    "{" HEAD ",\"status\":\"RUNNING\",\"cancelable\":true,\"start_time\":\"2024-07-01T10:15:30Z\","
    "\"progress\":{\"total\":1,\"completed\":0,\"message\":{\"id\":\"p\",\"default_message\":\"d\","
    "\"args\":[]}}}",
    /* FAILED without error: canonicalize would add one */
    "{" HEAD
    ",\"status\":\"FAILED\",\"cancelable\":false,\"start_time\":\"2024-07-01T10:15:30.123Z\","
    "\"end_time\":\"2024-07-01T10:15:31.000Z\",\"progress\":{\"total\":1,\"completed\":0,"
    "\"message\":{\"id\":\"p\",\"default_message\":\"d\",\"args\":[]}}}",
    "{" RUNNING ",\"target\":{\"type\":\"t\"}}",
    "{" RUNNING ",\"target\":[]}",
};

START_TEST(refuses_not_canonical)
{
    struct json_object *info = json_tokener_parse(not_canonical[_i]);
    ck_assert_msg(info != NULL, "bad test JSON %s", not_canonical[_i]);
    char *before = sg_xstrdup(sg_test_json_plain(info));
    char reason[160] = "";
    size_t len = 7;
    ck_assert_ptr_null(sg_dv_info(info, &len, reason, sizeof reason));
    ck_assert_msg(reason[0] != '\0', "no reason for %s", not_canonical[_i]);
    ck_assert_str_eq(sg_test_json_plain(info), before);
    /* a tiny reason buffer, and none at all */
    char small[16];
    memset(small, 'x', sizeof small);
    ck_assert_ptr_null(sg_dv_info(info, &len, small, sizeof small));
    ck_assert_ptr_nonnull(memchr(small, '\0', sizeof small));
    ck_assert_ptr_null(sg_dv_info(info, NULL, NULL, 0));
    free(before);
    json_object_put(info);
}
END_TEST

START_TEST(refuses_odd_trees)
{
    char reason[160];
    ck_assert_ptr_null(sg_dv_info(NULL, NULL, reason, sizeof reason));

    /* NaN can only come from code, never from the strict parser */
    struct json_object *info = json_tokener_parse("{" RUNNING "}");
    json_object_object_add(info, "result", json_object_new_double(NAN));
    ck_assert_ptr_null(sg_dv_info(info, NULL, reason, sizeof reason));

    /* nesting past SG_INFO_MAX_DEPTH is refused before anything recurses */
    struct json_object *deep = json_object_new_array();
    for (int i = 0; i < 1000; i++) {
        struct json_object *outer = json_object_new_array();
        json_object_array_add(outer, deep);
        deep = outer;
    }
    json_object_object_add(info, "result", deep);
    reason[0] = '\0';
    ck_assert_ptr_null(sg_dv_info(info, NULL, reason, sizeof reason));
    ck_assert_ptr_nonnull(strstr(reason, "deeper"));
    json_object_put(info);
}
END_TEST

START_TEST(refuses_bad_errors)
{
    static const char *const bad[] = {
        "[]",
        "{\"error_type\":\"NOPE\",\"messages\":[]}",
        "{\"error_type\":\"ERROR\"}",
        "{\"error_type\":\"ERROR\",\"messages\":{}}",
        "{\"error_type\":\"ERROR\",\"messages\":[],\"data\":null}",
        "{\"error_type\":\"ERROR\",\"messages\":[],\"data\":[]}",
        "{\"error_type\":\"ERROR\",\"messages\":[{\"id\":\"x\"}]}",
        "{\"error_type\":\"ERROR\",\"messages\":[],\"extra\":1}",
    };
    char reason[160];
    for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++) {
        struct json_object *err = json_tokener_parse(bad[i]);
        reason[0] = '\0';
        ck_assert_msg(sg_dv_std_error(err, NULL, NULL, reason, sizeof reason) == NULL, "%s",
                      bad[i]);
        ck_assert_msg(reason[0] != '\0', "no reason for %s", bad[i]);
        json_object_put(err);
    }
    ck_assert_ptr_null(sg_dv_std_error(NULL, NULL, NULL, reason, sizeof reason));
    struct json_object *nf = json_tokener_parse("{\"error_type\":\"NOT_FOUND\",\"messages\":[]}");
    ck_assert_ptr_null(sg_dv_std_error(nf, "Basic realm=\"x\"", NULL, reason, sizeof reason));
    size_t len;
    char *dv = sg_dv_std_error(nf, NULL, &len, reason, sizeof reason);
    ck_assert_str_eq(dv, "{\"ERROR\":{\"com.vmware.vapi.std.errors.not_found\":{\"messages\":[],"
                         "\"data\":{\"OPTIONAL\":null},\"error_type\":{\"OPTIONAL\":\"NOT_FOUND\"}"
                         "}}}");
    free(dv);
    json_object_put(nf);
}
END_TEST

static Suite *datavalue_suite(void)
{
    Suite *s = suite_create("datavalue");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, fixture_encodes_as_python, 0, (int)SG_ARRAY_LEN(cases));
    tcase_add_loop_test(tc, verbatim_info_answer, 0, (int)SG_ARRAY_LEN(verbatim_infos));
    tcase_add_loop_test(tc, verbatim_error_answer, 0, (int)SG_ARRAY_LEN(verbatim_errors));
    tcase_add_loop_test(tc, error_reply_says_what_rest_says, 0, SG_E__COUNT);
    tcase_add_test(tc, error_reply_out_of_range);
    tcase_add_test(tc, envelope_echoes_ids);
    tcase_add_loop_test(tc, id_validity, 0, (int)SG_ARRAY_LEN(ids));
    tcase_add_test(tc, id_null_pointer);
    tcase_add_test(tc, minimal_pending_exact);
    tcase_add_test(tc, opaque_result);
    tcase_add_test(tc, double_params);
    tcase_add_test(tc, error_with_data_and_nested);
    tcase_add_loop_test(tc, refuses_not_canonical, 0, (int)SG_ARRAY_LEN(not_canonical));
    tcase_add_test(tc, refuses_odd_trees);
    tcase_add_test(tc, refuses_bad_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(datavalue_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
