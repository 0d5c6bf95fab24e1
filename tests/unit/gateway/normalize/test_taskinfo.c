/* The shared TaskInfo -> Info mapping (gateway/normalize/taskinfo.c): the fault tables,
 * and the rules the dialect fixtures do not each pin (status per state,
 * descriptionId forms, fallbacks, what is never passed through). */
#include <check.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "snapgate/common.h"
#include "snapgate/taskinfo.h"

static const struct {
    const char *fault;
    const char *error_type;
    enum sg_outcome outcome;
} faults[] = {
    {"RequestCanceled", "CANCELED", SG_OUT_ERROR},
    {"NoPermission", "UNAUTHORIZED", SG_OUT_UNAUTHORIZED},
    {"NotAuthenticated", "UNAUTHENTICATED", SG_OUT_UNAUTHENTICATED},
    {"ManagedObjectNotFound", "NOT_FOUND", SG_OUT_NOT_FOUND},
    {"InvalidArgument", "INVALID_ARGUMENT", SG_OUT_ERROR},
    {"InvalidState", "NOT_ALLOWED_IN_CURRENT_STATE", SG_OUT_ERROR},
    {"Timedout", "TIMED_OUT", SG_OUT_ERROR},
    /* exact names only: subtypes and case variants are not the type */
    {"InvalidPowerState", "ERROR", SG_OUT_ERROR},
    {"noPermission", "ERROR", SG_OUT_ERROR},
    {"SystemError", "ERROR", SG_OUT_ERROR},
    {"", "ERROR", SG_OUT_ERROR},
    {NULL, "ERROR", SG_OUT_ERROR},
};

START_TEST(fault_tables)
{
    ck_assert_str_eq(sg_vim_fault_error_type(faults[_i].fault), faults[_i].error_type);
    ck_assert_int_eq(sg_vim_fault_outcome(faults[_i].fault), faults[_i].outcome);
}
END_TEST

#define BASE                                                                                       \
    "\"_typeName\":\"TaskInfo\",\"descriptionId\":\"Folder.createVm\",\"cancelable\":true,"        \
    "\"queueTime\":\"2024-07-01T10:00:00.5Z\",\"startTime\":\"2024-07-01T10:00:01Z\","             \
    "\"completeTime\":\"2024-07-01T10:00:02Z\""

static const struct {
    const char *ti;     /* members after BASE, or a whole object when it starts with '{' */
    const char *member; /* a member of the Info to check, "" for the rejection cases */
    const char *want;   /* its JSON text; NULL: absent; for rejections a reason substring */
    bool ok;
} cases[] = {
    {",\"state\":\"queued\",\"progress\":5,\"result\":1", "progress", NULL, true},
    {",\"state\":\"queued\",\"result\":1", "result", NULL, true},
    {",\"state\":\"queued\"", "start_time", NULL, true},
    {",\"state\":\"running\"", "status", "\"RUNNING\"", true},
    {",\"state\":\"running\"", "end_time", NULL, true},
    {",\"state\":\"running\"", "start_time", "\"2024-07-01T10:00:01.000Z\"", true},
    {",\"state\":\"running\",\"error\":{\"_typeName\":\"SystemError\"}", "error", NULL, true},
    {",\"state\":\"success\",\"progress\":3", "progress",
     "{\"total\":100,\"completed\":100,\"message\":{\"id\":\"Folder.createVm.progress\","
     "\"default_message\":\"Folder.createVm\",\"args\":[]}}",
     true},
    {",\"state\":\"success\"", "service", "\"Folder\"", true},
    {",\"state\":\"success\"", "operation", "\"createVm\"", true},
    {",\"state\":\"success\"", "vc_task", "\"task-7\"", true},
    {",\"state\":\"success\",\"task\":{\"type\":\"Task\",\"value\":\"task-8\"}", "vc_task",
     "\"task-8\"", true},
    {",\"state\":\"success\",\"name\":\"\",\"description\":{\"key\":\"\",\"message\":\"\"}",
     "description",
     "{\"id\":\"Folder.createVm\",\"default_message\":\"Folder.createVm\",\"args\":[]}", true},
    {",\"state\":\"success\",\"reason\":{\"_typeName\":\"TaskReasonAlarm\",\"userName\":\"x\"}",
     "user", NULL, true},
    {",\"state\":\"success\",\"result\":{\"_typeName\":\"int\",\"_value\":5}", "result", "5", true},
    {",\"state\":\"success\",\"result\":[{\"_typeName\":\"X\",\"a\":null}]", "result",
     "[{\"a\":null}]", true},
    {",\"state\":\"error\",\"error\":{\"fault\":{\"_typeName\":\"Timedout\"},"
     "\"localizedMessage\":\"took too long\"}",
     "error",
     "{\"error_type\":\"TIMED_OUT\",\"messages\":[{\"id\":\"vim.fault.Timedout\","
     "\"default_message\":\"took too long\",\"args\":[]}]}",
     true},
    {",\"state\":\"blocked\"", "", "state is not", false},
    {",\"state\":\"running\",\"cancelable\":\"yes\"", "", "cancelable is not a boolean", false},
    {",\"state\":\"running\",\"entity\":{\"type\":\"VirtualMachine\"}", "", "entity is not a MoRef",
     false},
    {",\"state\":\"running\",\"description\":\"x\"", "", "description is not", false},
    {",\"state\":\"error\",\"error\":{\"localizedMessage\":\"m\"}", "", "names no fault type",
     false},
    {"{\"state\":\"running\",\"descriptionId\":\"nodot\",\"cancelable\":true}", "",
     "no service.operation", false},
    {"{\"state\":\"running\",\"descriptionId\":\"a.\",\"cancelable\":true}", "",
     "no service.operation", false},
    {"{\"state\":\"running\",\"cancelable\":true}", "", "descriptionId is missing", false},
    {"{\"state\":\"running\",\"descriptionId\":\"a.b\"}", "", "cancelable is missing", false},
    {"{\"state\":\"running\",\"descriptionId\":\"a.b\",\"cancelable\":true}", "",
     "RUNNING without start_time", false},
    {"[]", "", "not an object", false},
};

START_TEST(mapping)
{
    char *text = cases[_i].ti[0] == '{' || cases[_i].ti[0] == '['
                     ? sg_xstrdup(cases[_i].ti)
                     : sg_xasprintf("{" BASE "%s}", cases[_i].ti);
    struct json_object *ti = json_tokener_parse(text), *info = (void *)1, *v;
    ck_assert_msg(ti != NULL, "case %d: bad test JSON", _i);
    enum sg_task_status st;
    char reason[200] = "";
    int rc = sg_taskinfo_to_info(ti, "task-7", &info, &st, reason, sizeof reason);
    if (!cases[_i].ok) {
        ck_assert_int_eq(rc, SG_ERR);
        ck_assert_ptr_null(info);
        ck_assert_msg(strstr(reason, cases[_i].want) != NULL, "case %d: reason %s", _i, reason);
    } else {
        ck_assert_msg(rc == SG_OK, "case %d: %s", _i, reason);
        bool has = json_object_object_get_ex(info, cases[_i].member, &v);
        if (!cases[_i].want) {
            ck_assert_msg(!has, "case %d: %s present", _i, cases[_i].member);
        } else {
            ck_assert_msg(has, "case %d: %s absent", _i, cases[_i].member);
            struct json_object *want = json_tokener_parse(cases[_i].want);
            ck_assert_msg(json_object_equal(v, want), "case %d: %s is %s", _i, cases[_i].member,
                          json_object_to_json_string(v));
            json_object_put(want);
        }
        json_object_put(info);
    }
    json_object_put(ti);
    free(text);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("taskinfo");
    TCase *tc = tcase_create("tables");
    tcase_add_loop_test(tc, fault_tables, 0, (int)SG_ARRAY_LEN(faults));
    tcase_add_loop_test(tc, mapping, 0, (int)SG_ARRAY_LEN(cases));
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
