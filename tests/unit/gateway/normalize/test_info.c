/* Info validation and canonicalization (gateway/normalize/info*.c): the date-time
 * rewrite, the field table, nulls, the union rule, and the JSON parser. */
#include <check.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sg_test_util.h"
#include "snapgate/common.h"
#include "snapgate/info.h"

/* ---- sg_time_to_utc_ms ---------------------------------------------------- */

static const struct {
    const char *in;
    const char *out; /* NULL: must be rejected */
} times[] = {
    {"2024-07-01T10:15:30.123Z", "2024-07-01T10:15:30.123Z"},
    {"2024-07-01T10:15:30Z", "2024-07-01T10:15:30.000Z"},
    {"2024-07-01T10:15:30.1Z", "2024-07-01T10:15:30.100Z"},
    {"2024-07-01T10:15:30.12Z", "2024-07-01T10:15:30.120Z"},
    {"2024-07-01T10:15:30.123456789Z", "2024-07-01T10:15:30.123Z"},
    {"2024-07-01T10:15:30.9999999Z", "2024-07-01T10:15:30.999Z"},
    {"2024-07-01T01:59:59.999999+02:00", "2024-06-30T23:59:59.999Z"},
    {"2024-07-01T02:04:31+02:00", "2024-07-01T00:04:31.000Z"},
    {"2024-12-31T23:30:00-01:00", "2025-01-01T00:30:00.000Z"},
    {"2025-01-01T00:30:00+01:00", "2024-12-31T23:30:00.000Z"},
    {"2024-02-28T23:00:00-02:00", "2024-02-29T01:00:00.000Z"},
    {"2024-03-01T00:30:00+01:00", "2024-02-29T23:30:00.000Z"},
    {"2023-03-01T00:30:00+01:00", "2023-02-28T23:30:00.000Z"},
    {"2100-03-01T00:30:00+01:00", "2100-02-28T23:30:00.000Z"},
    {"2000-02-29T12:00:00Z", "2000-02-29T12:00:00.000Z"},
    {"2024-07-01t10:15:30.5z", "2024-07-01T10:15:30.500Z"},
    {"2024-07-01T10:15:30-00:00", "2024-07-01T10:15:30.000Z"},
    {"2024-07-01T05:45:00+05:45", "2024-07-01T00:00:00.000Z"},
    {"2024-07-01T00:00:00-09:30", "2024-07-01T09:30:00.000Z"},
    {"2024-07-01T23:59:00-23:59", "2024-07-02T23:58:00.000Z"},
    {"2016-12-31T23:59:60.5Z", "2017-01-01T00:00:00.500Z"},
    {"1970-01-01T00:00:00+01:00", "1969-12-31T23:00:00.000Z"},
    {"0000-01-01T01:00:00+01:00", "0000-01-01T00:00:00.000Z"},
    {"9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"},
    {"0000-01-01T00:30:00+01:00", NULL},
    {"9999-12-31T23:59:59-00:01", NULL},
    {"", NULL},
    {"2024-07-01", NULL},
    {"2024-07-01T10:15:30", NULL},
    {"2024-07-01 10:15:30Z", NULL},
    {"2024-7-01T10:15:30Z", NULL},
    {"24-07-01T10:15:30Z", NULL},
    {"2024-07-01T10:15Z", NULL},
    {"2024-07-01T10:15:30.Z", NULL},
    {"2024-07-01T10:15:30,5Z", NULL},
    {"2024-07-01T10:15:30+0200", NULL},
    {"2024-07-01T10:15:30+02", NULL},
    {"2024-07-01T10:15:30+2:00", NULL},
    {"2024-07-01T10:15:30+24:00", NULL},
    {"2024-07-01T10:15:30+02:60", NULL},
    {"2024-00-01T00:00:00Z", NULL},
    {"2024-13-01T00:00:00Z", NULL},
    {"2024-04-31T00:00:00Z", NULL},
    {"2024-07-00T00:00:00Z", NULL},
    {"2023-02-29T00:00:00Z", NULL},
    {"1900-02-29T00:00:00Z", NULL},
    {"2024-07-01T24:00:00Z", NULL},
    {"2024-07-01T10:60:00Z", NULL},
    {"2024-07-01T10:15:61Z", NULL},
    {"2024-07-01T10:15:30Z ", NULL},
    {" 2024-07-01T10:15:30Z", NULL},
    {"2024-07-01T10:15:30.123Zjunk", NULL},
    {"+2024-07-01T10:15:30Z", NULL},
    {"2024-07-01T10:15:30UTC", NULL},
};

START_TEST(time_table)
{
    char out[32];
    int rc = sg_time_to_utc_ms(times[_i].in, out);
    /* The epoch reader takes the same texts, to the same instant. */
    int64_t ms = 0;
    char back[32] = "";
    int erc = sg_time_to_epoch_ms(times[_i].in, &ms);
    if (times[_i].out) {
        ck_assert_msg(rc == SG_OK, "rejected %s", times[_i].in);
        ck_assert_str_eq(out, times[_i].out);
        ck_assert_uint_eq(strlen(out), SG_TIME_UTC_MS_LEN);
        ck_assert_int_eq(erc, SG_OK);
        ck_assert_int_eq(sg_time_format_utc_ms(ms, back), SG_OK);
        ck_assert_str_eq(back, times[_i].out);
    } else {
        ck_assert_msg(rc == SG_ERR, "accepted %s as %s", times[_i].in, out);
        ck_assert_msg(erc == SG_ERR, "the epoch reader accepted %s", times[_i].in);
    }
}
END_TEST

START_TEST(time_ignores_tz)
{
    char a[32], b[32];
    setenv("TZ", "America/St_Johns", 1);
    tzset();
    ck_assert_int_eq(sg_time_to_utc_ms("2024-03-10T01:30:00-03:30", a), SG_OK);
    setenv("TZ", "UTC", 1);
    tzset();
    ck_assert_int_eq(sg_time_to_utc_ms("2024-03-10T01:30:00-03:30", b), SG_OK);
    ck_assert_str_eq(a, b);
    ck_assert_str_eq(a, "2024-03-10T05:00:00.000Z");
    ck_assert_int_eq(sg_time_to_utc_ms(NULL, a), SG_ERR);
}
END_TEST

START_TEST(time_epoch_ms)
{
    int64_t ms = -1;
    char out[32];
    ck_assert_int_eq(sg_time_to_epoch_ms("1970-01-01T00:00:00Z", &ms), SG_OK);
    ck_assert_int_eq(ms, 0);
    ck_assert_int_eq(sg_time_to_epoch_ms("2026-12-06T06:24:54.465+02:00", &ms), SG_OK);
    ck_assert_int_eq(ms, 1796531094465LL);
    ck_assert_int_eq(sg_time_format_utc_ms(1796531094465LL, out), SG_OK);
    ck_assert_str_eq(out, "2026-12-06T04:24:54.465Z");
    ck_assert_int_eq(sg_time_format_utc_ms(-1, out), SG_OK);
    ck_assert_str_eq(out, "1969-12-31T23:59:59.999Z");
    ck_assert_int_eq(sg_time_format_utc_ms(253402300800000LL, out), SG_ERR); /* year 10000 */
    ck_assert_int_eq(sg_time_to_epoch_ms(NULL, &ms), SG_ERR);
}
END_TEST

/* ---- error types ---------------------------------------------------------- */

START_TEST(error_types)
{
    static const char *const good[] = {"ERROR",
                                       "ALREADY_EXISTS",
                                       "ALREADY_IN_DESIRED_STATE",
                                       "CANCELED",
                                       "CONCURRENT_CHANGE",
                                       "FEATURE_IN_USE",
                                       "INTERNAL_SERVER_ERROR",
                                       "INVALID_ARGUMENT",
                                       "INVALID_ELEMENT_CONFIGURATION",
                                       "INVALID_ELEMENT_TYPE",
                                       "INVALID_REQUEST",
                                       "NOT_ALLOWED_IN_CURRENT_STATE",
                                       "NOT_FOUND",
                                       "OPERATION_NOT_FOUND",
                                       "RESOURCE_BUSY",
                                       "RESOURCE_IN_USE",
                                       "RESOURCE_INACCESSIBLE",
                                       "SERVICE_UNAVAILABLE",
                                       "TIMED_OUT",
                                       "UNABLE_TO_ALLOCATE_RESOURCE",
                                       "UNAUTHENTICATED",
                                       "UNAUTHORIZED",
                                       "UNEXPECTED_INPUT",
                                       "UNSUPPORTED",
                                       "UNVERIFIED_PEER"};
    for (size_t i = 0; i < SG_ARRAY_LEN(good); i++)
        ck_assert_msg(sg_std_error_type_valid(good[i]), "%s", good[i]);
    ck_assert(!sg_std_error_type_valid("error"));
    ck_assert(!sg_std_error_type_valid("ERROR "));
    ck_assert(!sg_std_error_type_valid(""));
    ck_assert(!sg_std_error_type_valid("com.vmware.vapi.std.errors.error"));
    ck_assert(!sg_std_error_type_valid(NULL));
}
END_TEST

/* ---- sg_info_canonicalize: accept / reject table -------------------------- */

#define MSG(id) "{\"id\":\"" id "\",\"default_message\":\"m\",\"args\":[]}"
#define BASE                                                                                       \
    "\"description\":" MSG("a.b") ",\"service\":\"svc\",\"operation\":\"op\",\"cancelable\":false"
#define PROG "\"progress\":{\"total\":100,\"completed\":5,\"message\":" MSG("p") "}"
#define ST "\"start_time\":\"2024-07-01T10:00:00.000Z\""
#define ET "\"end_time\":\"2024-07-01T11:00:00.000Z\""
#define ERRV "\"error\":{\"error_type\":\"ERROR\",\"messages\":[" MSG("e") "]}"
#define RES "\"result\":{\"k\":[1,2.50,\"x\",true]}"
#define RUN(extra) "{" BASE ",\"status\":\"RUNNING\"," PROG "," ST extra "}"
#define DESC_PARAMS(p)                                                                             \
    "{\"description\":{\"id\":\"a\",\"default_message\":\"m\",\"args\":[],\"params\":" p           \
    "},\"service\":\"svc\",\"operation\":\"op\",\"cancelable\":true,\"status\":\"PENDING\"}"

static const struct {
    const char *json;
    const char *reason; /* NULL: accepted; else a substring of the reason */
    enum sg_task_status status;
} canon[] = {
    /* each union row, good */
    {"{" BASE ",\"status\":\"PENDING\"}", NULL, SG_TASK_PENDING},
    {"{" BASE ",\"status\":\"PENDING\",\"parent\":\"p\",\"user\":\"u\",\"vc_task\":\"task-1\","
     "\"target\":{\"type\":\"T\",\"id\":\"i\"}}",
     NULL, SG_TASK_PENDING},
    {RUN(""), NULL, SG_TASK_RUNNING},
    {RUN("," RES), NULL, SG_TASK_RUNNING},
    {"{" BASE ",\"status\":\"BLOCKED\"," PROG "," ST "}", NULL, SG_TASK_BLOCKED},
    {"{" BASE ",\"status\":\"SUCCEEDED\"," PROG "," ST "," ET "}", NULL, SG_TASK_SUCCEEDED},
    {"{" BASE ",\"status\":\"SUCCEEDED\"," PROG "," ST "," ET ",\"result\":\"x\"}", NULL,
     SG_TASK_SUCCEEDED},
    {"{" BASE ",\"status\":\"SUCCEEDED\"," PROG "," ST "," ET ",\"result\":false}", NULL,
     SG_TASK_SUCCEEDED},
    {"{" BASE ",\"status\":\"FAILED\"," PROG "," ST "," ET "," ERRV "}", NULL, SG_TASK_FAILED},
    {"{" BASE ",\"status\":\"FAILED\"," PROG "," ST "," ET "," ERRV "," RES "}", NULL,
     SG_TASK_FAILED},
    {"{" BASE ",\"status\":\"FAILED\"," PROG "," ST "," ET "}", NULL, SG_TASK_FAILED},
    {"{" BASE ",\"status\":\"SUCCEEDED\"," PROG "," ST ",\"end_time\":\"2024-07-01T10:00:00Z\"}",
     NULL, SG_TASK_SUCCEEDED},
    /* each union row, bad */
    {"{" BASE ",\"status\":\"PENDING\"," PROG "}", "PENDING with progress", 0},
    {"{" BASE ",\"status\":\"PENDING\"," ST "}", "PENDING with start_time", 0},
    {"{" BASE ",\"status\":\"PENDING\"," ET "}", "PENDING with end_time", 0},
    {"{" BASE ",\"status\":\"PENDING\",\"result\":1}", "PENDING with result", 0},
    {"{" BASE ",\"status\":\"PENDING\"," ERRV "}", "PENDING with error", 0},
    {"{" BASE ",\"status\":\"RUNNING\"," ST "}", "RUNNING without progress", 0},
    {"{" BASE ",\"status\":\"RUNNING\"," PROG "}", "RUNNING without start_time", 0},
    {RUN("," ET), "RUNNING with end_time", 0},
    {RUN("," ERRV), "RUNNING with error", 0},
    {"{" BASE ",\"status\":\"BLOCKED\"," PROG "}", "BLOCKED without start_time", 0},
    {"{" BASE ",\"status\":\"BLOCKED\"," PROG "," ST "," ET "}", "BLOCKED with end_time", 0},
    {"{" BASE ",\"status\":\"SUCCEEDED\"," PROG "," ST "}", "SUCCEEDED without end_time", 0},
    {"{" BASE ",\"status\":\"SUCCEEDED\"," ST "," ET "}", "SUCCEEDED without progress", 0},
    {"{" BASE ",\"status\":\"SUCCEEDED\"," PROG "," ET "}", "SUCCEEDED without start_time", 0},
    {"{" BASE ",\"status\":\"SUCCEEDED\"," PROG "," ST "," ET "," ERRV "}", "SUCCEEDED with error",
     0},
    {"{" BASE ",\"status\":\"FAILED\"," PROG "," ST "," ERRV "}", "FAILED without end_time", 0},
    {"{" BASE ",\"status\":\"FAILED\"," ST "," ET "," ERRV "}", "FAILED without progress", 0},
    {"{" BASE ",\"status\":\"FAILED\"," PROG "," ET "," ERRV "}", "FAILED without start_time", 0},
    {"{" BASE ",\"status\":\"FAILED\"," PROG "," ST "," ET
     ",\"error\":{\"error_type\":\"ERROR\",\"messages\":[]}}",
     "error without messages", 0},
    {"{" BASE ",\"status\":\"SUCCEEDED\"," PROG "," ST
     ",\"end_time\":\"2024-07-01T09:59:59.999Z\"}",
     "end_time before start_time", 0},
    {"{" BASE ",\"status\":\"SUCCEEDED\"," PROG ",\"start_time\":\"2024-07-01T12:00:00+02:00\","
     "\"end_time\":\"2024-07-01T10:59:59.999+01:00\"}",
     "end_time before start_time", 0},
    /* required members and types */
    {"{" BASE "}", "status missing", 0},
    {"{" BASE ",\"status\":\"DONE\"}", "not a task status", 0},
    {"{" BASE ",\"status\":\"pending\"}", "not a task status", 0},
    {"{" BASE ",\"status\":1}", "not a task status", 0},
    {"{\"service\":\"s\",\"operation\":\"o\",\"cancelable\":true,\"status\":\"PENDING\"}",
     "description missing", 0},
    {"{\"description\":\"x\",\"service\":\"s\",\"operation\":\"o\",\"cancelable\":true,"
     "\"status\":\"PENDING\"}",
     "description: must be a LocalizableMessage", 0},
    {"{\"description\":" MSG(
         "a") ",\"operation\":\"o\",\"cancelable\":true,\"status\":\"PENDING\"}",
     "service missing", 0},
    {"{\"description\":" MSG("a") ",\"service\":5,\"operation\":\"o\",\"cancelable\":true,"
                                  "\"status\":\"PENDING\"}",
     "service must be a string", 0},
    {"{\"description\":" MSG("a") ",\"service\":\"\",\"operation\":\"o\",\"cancelable\":true,"
                                  "\"status\":\"PENDING\"}",
     "service must not be empty", 0},
    {"{\"description\":" MSG("a") ",\"service\":\"s\",\"cancelable\":true,\"status\":\"PENDING\"}",
     "operation missing", 0},
    {"{\"description\":" MSG("a") ",\"service\":\"s\",\"operation\":\"o\",\"status\":\"PENDING\"}",
     "cancelable missing", 0},
    {"{\"description\":" MSG("a") ",\"service\":\"s\",\"operation\":\"o\",\"cancelable\":\"true\","
                                  "\"status\":\"PENDING\"}",
     "cancelable must be a boolean", 0},
    {"{" BASE ",\"status\":\"PENDING\",\"user\":7}", "user must be a string", 0},
    {"{" BASE ",\"status\":\"PENDING\",\"parent\":[]}", "parent must be a string", 0},
    {"{" BASE ",\"status\":\"PENDING\",\"vc_task\":\"\"}", "vc_task must not be empty", 0},
    {"{" BASE ",\"status\":\"PENDING\",\"target\":\"vm-1\"}", "target: must be an object", 0},
    {"{" BASE ",\"status\":\"PENDING\",\"target\":{\"type\":\"T\"}}", "target: id missing", 0},
    {"{" BASE ",\"status\":\"PENDING\",\"target\":{\"type\":\"T\",\"id\":\"i\",\"x\":1}}",
     "target: unknown member \"x\"", 0},
    {"{" BASE ",\"status\":\"PENDING\",\"foo\":1}", "unknown member \"foo\"", 0},
    {"[1]", "Info must be a JSON object", 0},
    /* progress */
    {"{" BASE ",\"status\":\"RUNNING\"," ST ",\"progress\":[]}", "progress: must be an object", 0},
    {"{" BASE ",\"status\":\"RUNNING\"," ST ",\"progress\":{\"total\":\"5\",\"completed\":1,"
     "\"message\":" MSG("p") "}}",
     "progress.total: must be an integer", 0},
    {"{" BASE ",\"status\":\"RUNNING\"," ST ",\"progress\":{\"total\":5,\"completed\":1.5,"
     "\"message\":" MSG("p") "}}",
     "progress.completed: must be an integer", 0},
    {"{" BASE ",\"status\":\"RUNNING\"," ST ",\"progress\":{\"total\":9223372036854775808,"
     "\"completed\":1,\"message\":" MSG("p") "}}",
     "progress.total: out of int64 range", 0},
    {"{" BASE ",\"status\":\"RUNNING\"," ST ",\"progress\":{\"total\":9223372036854775807,"
     "\"completed\":-9223372036854775808,\"message\":" MSG("p") "}}",
     NULL, SG_TASK_RUNNING},
    {"{" BASE ",\"status\":\"RUNNING\"," ST ",\"progress\":{\"total\":5,\"completed\":1}}",
     "progress: message missing", 0},
    {"{" BASE ",\"status\":\"RUNNING\"," ST ",\"progress\":{\"total\":5,\"message\":" MSG("p") "}}",
     "progress: completed missing", 0},
    /* times */
    {"{" BASE ",\"status\":\"RUNNING\"," PROG ",\"start_time\":\"yesterday\"}",
     "start_time: not an RFC 3339 date-time", 0},
    {"{" BASE ",\"status\":\"RUNNING\"," PROG ",\"start_time\":1719828000}",
     "start_time: must be a date-time string", 0},
    {"{" BASE ",\"status\":\"RUNNING\"," PROG ",\"start_time\":\"2024-07-01T10:00:00Z\\u0000x\"}",
     "start_time: not an RFC 3339 date-time", 0},
    /* messages */
    {"{\"description\":{\"default_message\":\"m\",\"args\":[]},\"service\":\"s\",\"operation\":"
     "\"o\",\"cancelable\":true,\"status\":\"PENDING\"}",
     "description: id missing", 0},
    {"{\"description\":{\"id\":\"a\",\"args\":[]},\"service\":\"s\",\"operation\":\"o\","
     "\"cancelable\":true,\"status\":\"PENDING\"}",
     "description: default_message missing", 0},
    {"{\"description\":{\"id\":\"a\",\"default_message\":\"m\"},\"service\":\"s\",\"operation\":"
     "\"o\",\"cancelable\":true,\"status\":\"PENDING\"}",
     "description: args missing", 0},
    {"{\"description\":{\"id\":\"a\",\"default_message\":\"m\",\"args\":[1]},\"service\":\"s\","
     "\"operation\":\"o\",\"cancelable\":true,\"status\":\"PENDING\"}",
     "description: args[0] must be a string", 0},
    {"{\"description\":{\"id\":\"a\",\"default_message\":\"m\",\"args\":\"x\"},\"service\":\"s\","
     "\"operation\":\"o\",\"cancelable\":true,\"status\":\"PENDING\"}",
     "description: args must be an array", 0},
    {"{\"description\":{\"id\":\"a\",\"default_message\":\"m\",\"args\":[],\"localized\":1},"
     "\"service\":\"s\",\"operation\":\"o\",\"cancelable\":true,\"status\":\"PENDING\"}",
     "description: localized must be a string", 0},
    {"{\"description\":{\"id\":\"a\",\"default_message\":\"m\",\"args\":[],\"extra\":1},"
     "\"service\":\"s\",\"operation\":\"o\",\"cancelable\":true,\"status\":\"PENDING\"}",
     "description: unknown member \"extra\"", 0},
    /* params */
    {DESC_PARAMS(
         "{\"p\":{\"s\":\"a\"},\"q\":{\"i\":-3},\"r\":{\"d\":1},\"t\":{\"d\":0.5,"
         "\"precision\":2},\"u\":{\"dt\":\"2024-07-01T10:00:00Z\",\"format\":\"FULL_DATE\"},"
         "\"v\":{\"l\":{\"id\":\"n\"}},\"w\":{\"s\":\"\"}}"),
     NULL, SG_TASK_PENDING},
    {DESC_PARAMS("[]"), "description.params: must be an object", 0},
    {DESC_PARAMS("{\"p\":null}"), "description.params.p: must be a LocalizationParam", 0},
    {DESC_PARAMS("{\"p\":{}}"), "description.params.p: exactly one of", 0},
    {DESC_PARAMS("{\"p\":{\"s\":\"a\",\"i\":1}}"), "description.params.p: exactly one of", 0},
    {DESC_PARAMS("{\"p\":{\"s\":1}}"), "description.params.p: s must be a string", 0},
    {DESC_PARAMS("{\"p\":{\"i\":\"1\"}}"), "description.params.p.i: must be an integer", 0},
    {DESC_PARAMS("{\"p\":{\"i\":1.0}}"), "description.params.p.i: must be an integer", 0},
    {DESC_PARAMS("{\"p\":{\"d\":\"1\"}}"), "description.params.p: d must be a number", 0},
    {DESC_PARAMS("{\"p\":{\"dt\":\"x\"}}"), "description.params.p.dt: not an RFC 3339", 0},
    {DESC_PARAMS("{\"p\":{\"s\":\"a\",\"format\":\"SHORT_DATE\"}}"), "format without dt", 0},
    {DESC_PARAMS("{\"p\":{\"dt\":\"2024-07-01T10:00:00Z\",\"format\":\"WEIRD\"}}"),
     "format is not a date-time format name", 0},
    {DESC_PARAMS("{\"p\":{\"i\":1,\"precision\":2}}"), "precision without d", 0},
    {DESC_PARAMS("{\"p\":{\"d\":1.5,\"precision\":\"2\"}}"), "precision: must be an integer", 0},
    {DESC_PARAMS("{\"p\":{\"s\":\"a\",\"x\":1}}"), "unknown member \"x\"", 0},
    {DESC_PARAMS("{\"p\":{\"l\":\"x\"}}"), "description.params.p.l: must be a nested message", 0},
    {DESC_PARAMS("{\"p\":{\"l\":{\"params\":{}}}}"), "description.params.p.l: id missing", 0},
    {DESC_PARAMS("{\"p\":{\"l\":{\"id\":\"n\",\"default_message\":\"m\"}}}"),
     "description.params.p.l: unknown member \"default_message\"", 0},
    {DESC_PARAMS("{\"p\":{\"l\":{\"id\":\"n\",\"params\":{\"q\":{\"dt\":\"bad\"}}}}}"),
     "description.params.p.l.params.q.dt: not an RFC 3339", 0},
    /* error */
    {"{" BASE ",\"status\":\"FAILED\"," PROG "," ST "," ET ",\"error\":\"boom\"}",
     "error: must be a standard error", 0},
    {"{" BASE ",\"status\":\"FAILED\"," PROG "," ST "," ET
     ",\"error\":{\"error_type\":\"BOOM\",\"messages\":[" MSG("e") "]}}",
     "error_type \"BOOM\" is not a standard one", 0},
    {"{" BASE ",\"status\":\"FAILED\"," PROG "," ST "," ET
     ",\"error\":{\"messages\":[" MSG("e") "]}}",
     "error: error_type missing", 0},
    {"{" BASE ",\"status\":\"FAILED\"," PROG "," ST "," ET ",\"error\":{\"error_type\":\"ERROR\"}}",
     "error: messages missing", 0},
    {"{" BASE ",\"status\":\"FAILED\"," PROG "," ST "," ET
     ",\"error\":{\"error_type\":\"ERROR\",\"messages\":[" MSG("e") "],\"data\":[]}}",
     "error: data must be an object", 0},
    {"{" BASE ",\"status\":\"FAILED\"," PROG "," ST "," ET
     ",\"error\":{\"error_type\":\"ERROR\",\"messages\":[{\"id\":\"e\"}]}}",
     "error.messages[0]: default_message missing", 0},
    {"{" BASE ",\"status\":\"FAILED\"," PROG "," ST "," ET
     ",\"error\":{\"error_type\":\"ERROR\",\"messages\":[" MSG("e") "],\"x\":1}}",
     "error: unknown member \"x\"", 0},
    /* an enumerated value holding a NUL is not that value with junk hidden
     * after it (found with fuzz_info_check) */
    {"{" BASE ",\"status\":\"PENDING\\u0000x\"}", "status holds a NUL byte", 0},
    {"{" BASE ",\"status\":\"PENDING\\u0000\"}", "status holds a NUL byte", 0},
    {"{" BASE ",\"status\":\"FAILED\"," PROG "," ST "," ET
     ",\"error\":{\"error_type\":\"ERROR\\u0000x\",\"messages\":[" MSG("e") "]}}",
     "error: error_type holds a NUL byte", 0},
    {DESC_PARAMS("{\"p\":{\"dt\":\"2024-07-01T10:00:00Z\",\"format\":\"SHORT_DATE\\u0000x\"}}"),
     "format is not a date-time format name", 0},
    /* nulls: dropped where a member is optional, "missing" where required */
    {"{" BASE ",\"status\":\"RUNNING\"," PROG "," ST ",\"end_time\":null,\"error\":null,"
     "\"result\":null,\"parent\":null,\"vc_task\":null,\"target\":null,\"user\":null}",
     NULL, SG_TASK_RUNNING},
    {"{" BASE ",\"status\":\"PENDING\",\"progress\":null}", NULL, SG_TASK_PENDING},
    {"{" BASE ",\"status\":null}", "status missing", 0},
    {"{\"description\":null,\"service\":\"s\",\"operation\":\"o\",\"cancelable\":true,"
     "\"status\":\"PENDING\"}",
     "description missing", 0},
    {"{" BASE ",\"status\":\"RUNNING\"," PROG ",\"start_time\":null}", "RUNNING without start_time",
     0},
    {"{" BASE ",\"status\":\"PENDING\",\"target\":{\"type\":\"T\",\"id\":null}}",
     "target: id missing", 0},
    {"{\"description\":{\"id\":\"a\",\"default_message\":\"m\",\"args\":null},\"service\":\"s\","
     "\"operation\":\"o\",\"cancelable\":true,\"status\":\"PENDING\"}",
     "description: args missing", 0},
    {DESC_PARAMS("{\"p\":{\"s\":null}}"), "description.params.p: exactly one of", 0},
    /* numbers that are not JSON, anywhere (json-c's tokener accepts them) */
    {RUN(",\"result\":{\"x\":[NaN]}"), "not valid JSON", 0},
    {RUN(",\"result\":-Infinity"), "not valid JSON", 0},
    {RUN(",\"result\":[1e400, -0.0, 1.5e3]"), NULL, SG_TASK_RUNNING},
    /* spellings json-c's strict tokener takes and RFC 8259 does not: served as
     * parsed, they made the answer invalid JSON (found writing fuzz_datavalue) */
    {RUN(",\"result\":1."), "not valid JSON", 0},
    {RUN(",\"result\":[1.e5]"), "not valid JSON", 0},
    {RUN(",\"result\":{\"x\":-.5}"), "not valid JSON", 0},
    {DESC_PARAMS("{\"p\":{\"d\":2.}}"), "not valid JSON", 0},
};

START_TEST(canon_table)
{
    char reason[200] = "";
    enum sg_task_status st = (enum sg_task_status)99;
    struct json_object *info =
        sg_info_parse_json(canon[_i].json, strlen(canon[_i].json), reason, sizeof reason);
    ck_assert_msg(info != NULL, "case %d does not parse: %s", _i, reason);
    int rc = sg_info_canonicalize(info, &st, reason, sizeof reason);
    if (!canon[_i].reason) {
        ck_assert_msg(rc == SG_OK, "case %d rejected: %s", _i, reason);
        ck_assert_int_eq(st, canon[_i].status);
        /* nothing null survives */
        ck_assert_ptr_null(strstr(json_object_to_json_string(info), "null"));
    } else {
        ck_assert_msg(rc == SG_ERR, "case %d accepted", _i);
        ck_assert_msg(strstr(reason, canon[_i].reason) != NULL,
                      "case %d: reason \"%s\", want \"%s\"", _i, reason, canon[_i].reason);
        ck_assert_int_eq(st, 99); /* status untouched on failure */
    }
    json_object_put(info);
}
END_TEST

/* ---- sg_info_canonicalize: what it rewrites (and what it leaves alone) ---- */

static const struct {
    const char *in;
    const char *out;
} rewrites[] = {
    /* times with offsets, dt params in description, nested l, error.messages;
     * result and error.data are opaque */
    {"{" BASE ",\"status\":\"FAILED\"," PROG ",\"start_time\":\"2024-12-31T23:59:59.9999-01:00\","
     "\"end_time\":\"2025-01-01T02:00:00+00:30\",\"error\":{\"error_type\":\"TIMED_OUT\","
     "\"messages\":[{\"id\":\"e\",\"default_message\":\"m\",\"args\":[],\"params\":{\"at\":{\"dt\":"
     "\"2025-01-01T00:00:00.1+01:00\",\"format\":\"LONG_TIME\"},\"l\":{\"l\":{\"id\":\"n\","
     "\"params\":{\"x\":{\"l\":{\"id\":\"m\",\"params\":{\"y\":{\"dt\":\"2024-02-29T23:00:00-01:"
     "00\"}}"
     "}}}}}}}],\"data\":{\"t\":\"2024-07-01T10:00:00+02:00\"}},\"result\":{\"dt\":"
     "\"2024-07-01T10:00:00+02:00\",\"params\":{\"p\":{\"dt\":\"x\"}},\"v\":null}}",
     "{" BASE ",\"status\":\"FAILED\"," PROG ",\"start_time\":\"2025-01-01T00:59:59.999Z\","
     "\"end_time\":\"2025-01-01T01:30:00.000Z\",\"error\":{\"error_type\":\"TIMED_OUT\","
     "\"messages\":[{\"id\":\"e\",\"default_message\":\"m\",\"args\":[],\"params\":{\"at\":{\"dt\":"
     "\"2024-12-31T23:00:00.100Z\",\"format\":\"LONG_TIME\"},\"l\":{\"l\":{\"id\":\"n\","
     "\"params\":{\"x\":{\"l\":{\"id\":\"m\",\"params\":{\"y\":{\"dt\":\"2024-03-01T00:00:00."
     "000Z\"}}"
     "}}}}}}}],\"data\":{\"t\":\"2024-07-01T10:00:00+02:00\"}},\"result\":{\"dt\":"
     "\"2024-07-01T10:00:00+02:00\",\"params\":{\"p\":{\"dt\":\"x\"}},\"v\":null}}"},
    /* nulls in optional message members and param kinds are dropped */
    {DESC_PARAMS(
         "{\"p\":{\"s\":\"a\",\"dt\":null,\"i\":null,\"d\":null,\"l\":null,"
         "\"format\":null,\"precision\":null},\"q\":{\"l\":{\"id\":\"n\",\"params\":null}}}"),
     DESC_PARAMS("{\"p\":{\"s\":\"a\"},\"q\":{\"l\":{\"id\":\"n\"}}}")},
    {"{\"description\":{\"id\":\"a\",\"default_message\":\"m\",\"args\":[],\"params\":null,"
     "\"localized\":null},\"service\":\"s\",\"operation\":\"o\",\"cancelable\":true,"
     "\"status\":\"PENDING\",\"user\":null}",
     "{\"description\":{\"id\":\"a\",\"default_message\":\"m\",\"args\":[]},\"service\":\"s\","
     "\"operation\":\"o\",\"cancelable\":true,\"status\":\"PENDING\"}"},
};

START_TEST(rewrite_table)
{
    char reason[200] = "";
    enum sg_task_status st;
    struct json_object *in =
        sg_info_parse_json(rewrites[_i].in, strlen(rewrites[_i].in), reason, sizeof reason);
    struct json_object *want = json_tokener_parse(rewrites[_i].out);
    ck_assert_msg(in && want, "case %d does not parse: %s", _i, reason);
    ck_assert_msg(sg_info_canonicalize(in, &st, reason, sizeof reason) == SG_OK, "case %d: %s", _i,
                  reason);
    ck_assert_msg(json_object_equal(in, want), "case %d: got %s", _i,
                  json_object_to_json_string(in));
    json_object_put(in);
    json_object_put(want);
}
END_TEST

/* Parsed doubles keep their source text, so the served body shows what the
 * backend wrote. */
START_TEST(doubles_keep_their_text)
{
    const char *in = RUN(",\"result\":{\"a\":0.75,\"b\":1.5e3,\"c\":62.50,\"d\":-0.0}");
    char reason[200];
    enum sg_task_status st;
    struct json_object *info = sg_info_parse_json(in, strlen(in), reason, sizeof reason);
    ck_assert_ptr_nonnull(info);
    ck_assert_int_eq(sg_info_canonicalize(info, &st, reason, sizeof reason), SG_OK);
    const char *out = json_object_to_json_string_ext(info, JSON_C_TO_STRING_PLAIN |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE);
    ck_assert_ptr_nonnull(strstr(out, "{\"a\":0.75,\"b\":1.5e3,\"c\":62.50,\"d\":-0.0}"));
    json_object_put(info);
}
END_TEST

START_TEST(failed_without_error_gets_a_message)
{
    char reason[200] = "";
    enum sg_task_status st;
    json_object *info =
        json_tokener_parse("{" BASE ",\"status\":\"FAILED\"," PROG "," ST "," ET "}");
    ck_assert_ptr_nonnull(info);
    ck_assert_int_eq(sg_info_canonicalize(info, &st, reason, sizeof(reason)), SG_OK);
    json_object *err = NULL, *msgs = NULL;
    ck_assert(json_object_object_get_ex(info, "error", &err));
    ck_assert_str_eq(json_object_get_string(json_object_object_get(err, "error_type")), "ERROR");
    ck_assert(json_object_object_get_ex(err, "messages", &msgs));
    ck_assert_uint_eq(json_object_array_length(msgs), 1);
    json_object *m = json_object_array_get_idx(msgs, 0);
    ck_assert(json_object_is_type(json_object_object_get(m, "default_message"), json_type_string));
    json_object_put(info);
}
END_TEST

START_TEST(canon_rejects_non_object)
{
    char reason[200];
    enum sg_task_status st;
    struct json_object *s = json_object_new_string("x");
    ck_assert_int_eq(sg_info_canonicalize(s, &st, reason, sizeof reason), SG_ERR);
    ck_assert_int_eq(sg_info_canonicalize(NULL, &st, reason, sizeof reason), SG_ERR);
    /* a tiny reason buffer is truncated, not overrun */
    char tiny[8];
    ck_assert_int_eq(sg_info_canonicalize(s, &st, tiny, sizeof tiny), SG_ERR);
    ck_assert_uint_eq(strlen(tiny), sizeof tiny - 1);
    json_object_put(s);
}
END_TEST

/* ---- sg_info_parse_json --------------------------------------------------- */

static const struct {
    const char *body;
    size_t len; /* 0: strlen */
    int ok;
    const char *reason;
} parses[] = {
    {"{\"a\":1}", 0, 1, NULL},
    {"  {\"a\":1}\r\n ", 0, 1, NULL},
    {"\"abc\"", 0, 1, NULL},
    {"42", 0, 1, NULL},
    {"{\"a\":1}x", 0, 0, "not JSON"},
    {"{\"a\":1}{}", 0, 0, "not JSON"},
    {"{\"a\":1}\0junk", 12, 0, "not JSON"},
    {"{\"a\":1,}", 0, 0, "not JSON"},
    {"{\"a\":\"RUNN", 0, 0, "not JSON"},
    {"{\"a\":\"\xff\"}", 0, 0, "not JSON"},
    {"null", 0, 0, "JSON null"},
    {"", 0, 0, "empty body"},
    {"   ", 0, 0, "not JSON"},
};

START_TEST(parse_table)
{
    char reason[200] = "";
    size_t len = parses[_i].len ? parses[_i].len : strlen(parses[_i].body);
    struct json_object *o = sg_info_parse_json(parses[_i].body, len, reason, sizeof reason);
    if (parses[_i].ok) {
        ck_assert_msg(o != NULL, "case %d: %s", _i, reason);
    } else {
        ck_assert_msg(o == NULL, "case %d accepted", _i);
        ck_assert_msg(strstr(reason, parses[_i].reason) != NULL, "case %d: %s", _i, reason);
    }
    json_object_put(o);
}
END_TEST

static char *nested(int depth)
{
    char *s = sg_xmalloc((size_t)depth * 2 + 1);
    for (int i = 0; i < depth; i++) {
        s[i] = '[';
        s[depth * 2 - 1 - i] = ']';
    }
    s[depth * 2] = '\0';
    return s;
}

START_TEST(parse_depth_limit)
{
    char reason[200];
    char *ok = nested(SG_INFO_MAX_DEPTH);
    char *deep = nested(SG_INFO_MAX_DEPTH + 1);
    struct json_object *o = sg_info_parse_json(ok, strlen(ok), reason, sizeof reason);
    ck_assert_ptr_nonnull(o);
    json_object_put(o);
    ck_assert_ptr_null(sg_info_parse_json(deep, strlen(deep), reason, sizeof reason));
    ck_assert_ptr_nonnull(strstr(reason, "nesting too deep"));
    /* not NUL-terminated: only len bytes are read */
    ck_assert_ptr_null(sg_info_parse_json("{\"a\":1}", 5, reason, sizeof reason));
    free(ok);
    free(deep);
}
END_TEST

static Suite *info_suite(void)
{
    Suite *s = suite_create("info");
    TCase *tc = tcase_create("time");
    tcase_add_loop_test(tc, time_table, 0, (int)SG_ARRAY_LEN(times));
    tcase_add_test(tc, time_ignores_tz);
    tcase_add_test(tc, time_epoch_ms);
    suite_add_tcase(s, tc);
    tc = tcase_create("canonicalize");
    tcase_add_test(tc, error_types);
    tcase_add_loop_test(tc, canon_table, 0, (int)SG_ARRAY_LEN(canon));
    tcase_add_loop_test(tc, rewrite_table, 0, (int)SG_ARRAY_LEN(rewrites));
    tcase_add_test(tc, doubles_keep_their_text);
    tcase_add_test(tc, canon_rejects_non_object);
    tcase_add_test(tc, failed_without_error_gets_a_message);
    suite_add_tcase(s, tc);
    tc = tcase_create("parse");
    tcase_add_loop_test(tc, parse_table, 0, (int)SG_ARRAY_LEN(parses));
    tcase_add_test(tc, parse_depth_limit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(info_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
