/* Error replies: every one is a vAPI standard error with the contract's status. */
#include <check.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalize/reply.h"

struct err_case {
    enum sg_error e;
    int status;
    const char *error_type;
};

static const struct err_case err_cases[] = {
    {SG_E_INVALID_ARGUMENT, 400, "INVALID_ARGUMENT"},
    {SG_E_UNAUTHENTICATED, 401, "UNAUTHENTICATED"},
    {SG_E_UNAUTHORIZED, 403, "UNAUTHORIZED"},
    {SG_E_NOT_FOUND, 404, "NOT_FOUND"},
    {SG_E_NO_ROUTE, 404, "NOT_FOUND"},
    {SG_E_BAD_METHOD, 405, "INVALID_REQUEST"},
    {SG_E_HEAD_TIMEOUT, 408, "TIMED_OUT"},
    {SG_E_BODY_TOO_LARGE, 413, "INVALID_ARGUMENT"},
    {SG_E_URI_TOO_LONG, 414, "INVALID_ARGUMENT"},
    {SG_E_HEADERS_TOO_LARGE, 431, "INVALID_ARGUMENT"},
    {SG_E_ERROR, 500, "ERROR"},
    {SG_E_INACCESSIBLE, 500, "RESOURCE_INACCESSIBLE"},
    {SG_E_UNAVAILABLE, 503, "SERVICE_UNAVAILABLE"},
    {SG_E_BAD_BACKEND, 400, "INVALID_ARGUMENT"},
};

START_TEST(test_error_bodies)
{
    const struct err_case *c = &err_cases[_i];
    const struct sg_error_reply *r = sg_error_reply(c->e);
    ck_assert_int_eq(r->status, c->status);
    ck_assert_uint_eq(strlen(r->body), r->len);
    json_object *o = json_tokener_parse(r->body);
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "error_type")),
                     c->error_type);
    ck_assert_str_eq(r->error_type, c->error_type); /* the field says what the body says */
    json_object *msgs = json_object_object_get(o, "messages");
    ck_assert(json_object_is_type(msgs, json_type_array));
    ck_assert_uint_ge(json_object_array_length(msgs), 1);
    json_object *m = json_object_array_get_idx(msgs, 0);
    ck_assert(json_object_is_type(json_object_object_get(m, "id"), json_type_string));
    ck_assert(json_object_is_type(json_object_object_get(m, "default_message"), json_type_string));
    ck_assert(json_object_is_type(json_object_object_get(m, "args"), json_type_array));
    json_object_put(o);
}
END_TEST

START_TEST(test_outcome_mapping)
{
    ck_assert_int_eq(sg_error_for_outcome(SG_OUT_NOT_FOUND), SG_E_NOT_FOUND);
    ck_assert_int_eq(sg_error_for_outcome(SG_OUT_UNAUTHORIZED), SG_E_UNAUTHORIZED);
    ck_assert_int_eq(sg_error_for_outcome(SG_OUT_UNAVAILABLE), SG_E_UNAVAILABLE);
    /* A rejected service account is the operator's problem, not the caller's. */
    ck_assert_int_eq(sg_error_for_outcome(SG_OUT_UNAUTHENTICATED), SG_E_UNAVAILABLE);
    ck_assert_int_eq(sg_error_for_outcome(SG_OUT_ERROR), SG_E_ERROR);
    ck_assert_int_eq(sg_error_for_outcome(SG_OUT_INACCESSIBLE), SG_E_INACCESSIBLE);
}
END_TEST

START_TEST(test_raw_reply)
{
    size_t len = 0;
    char *raw = sg_error_reply_raw(SG_E_HEADERS_TOO_LARGE, "req-1", &len);
    ck_assert_uint_eq(strlen(raw), len);
    ck_assert(strncmp(raw, "HTTP/1.1 431 ", 13) == 0);
    ck_assert_ptr_nonnull(strstr(raw, "\r\nConnection: close\r\n"));
    ck_assert_ptr_nonnull(strstr(raw, "\r\nX-Request-Id: req-1\r\n"));
    const char *body = strstr(raw, "\r\n\r\n") + 4;
    char want[64];
    snprintf(want, sizeof(want), "Content-Length: %zu\r\n", strlen(body));
    ck_assert_ptr_nonnull(strstr(raw, want));
    free(raw);
}
END_TEST

struct etag_case {
    const char *inm;
    int want;
};

static const struct etag_case etag_cases[] = {
    {"\"abc\"", 1},         {"W/\"abc\"", 1},   {"\"x\", \"abc\"", 1}, {"*", 1},
    {"\"abd\"", 0},         {"abc", 0},         {"\"abc", 0},          {"", 0},
    {"\"x\",W/\"abc\"", 1}, {"\"ab\"\"c\"", 0},
};

START_TEST(test_etag_match)
{
    const struct etag_case *c = &etag_cases[_i];
    ck_assert_msg(sg_etag_matches(c->inm, "\"abc\"") == c->want, "If-None-Match %s", c->inm);
}
END_TEST

static Suite *reply_suite(void)
{
    Suite *s = suite_create("reply");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_error_bodies, 0, (int)(sizeof(err_cases) / sizeof(err_cases[0])));
    tcase_add_test(tc, test_outcome_mapping);
    tcase_add_test(tc, test_raw_reply);
    tcase_add_loop_test(tc, test_etag_match, 0, (int)(sizeof(etag_cases) / sizeof(etag_cases[0])));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(reply_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
