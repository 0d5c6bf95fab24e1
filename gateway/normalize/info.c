/* Snapservice Info: the field table and the union rule of api/SNAPSERVICE.md
 * section 1, applied in place. A violation is reported, never repaired: an
 * answer the gateway cannot vouch for becomes a 500 that is not cached. */
#include <json-c/json.h>
#include <stdbool.h>
#include <string.h>

#include "normalize/info_int.h"
#include "snapgate/json_string.h"
#include "snapgate/common.h"
#include "snapgate/info.h"

enum presence { ABSENT = 0, OPT, REQ };

/* Indexed by the union fields below, one row per status. */
enum { F_PROGRESS, F_RESULT, F_ERROR, F_START, F_END, F_COUNT };
static const char *const union_fields[F_COUNT] = {"progress", "result", "error", "start_time",
                                                  "end_time"};
static const enum presence union_rule[][F_COUNT] = {
    [SG_TASK_PENDING] = {ABSENT, ABSENT, ABSENT, ABSENT, ABSENT},
    [SG_TASK_RUNNING] = {REQ, OPT, ABSENT, REQ, ABSENT},
    [SG_TASK_BLOCKED] = {REQ, OPT, ABSENT, REQ, ABSENT},
    [SG_TASK_SUCCEEDED] = {REQ, OPT, ABSENT, REQ, REQ},
    [SG_TASK_FAILED] = {REQ, OPT, OPT, REQ, REQ},
};

static const char *const info_keys[] = {
    "description", "service",  "operation",  "status",   "cancelable", "parent", "target", "user",
    "vc_task",     "progress", "start_time", "end_time", "result",     "error",  NULL,
};

static int check_target(struct json_object *t, char *reason, size_t cap)
{
    static const char *const keys[] = {"type", "id", NULL};
    if (!json_object_is_type(t, json_type_object))
        return sg_info_fail(reason, cap, "target", "must be an object {type, id}");
    sg_info_drop_nulls(t);
    if (sg_info_only_keys(t, "target", keys, reason, cap) != SG_OK ||
        sg_info_string_member(t, "type", "target", true, true, reason, cap) != SG_OK ||
        sg_info_string_member(t, "id", "target", true, true, reason, cap) != SG_OK)
        return SG_ERR;
    return SG_OK;
}

static int check_progress(struct json_object *p, char *reason, size_t cap)
{
    static const char *const keys[] = {"total", "completed", "message", NULL};
    struct json_object *v;
    if (!json_object_is_type(p, json_type_object))
        return sg_info_fail(reason, cap, "progress", "must be an object");
    sg_info_drop_nulls(p);
    if (sg_info_only_keys(p, "progress", keys, reason, cap) != SG_OK)
        return SG_ERR;
    if (!json_object_object_get_ex(p, "total", &v))
        return sg_info_fail(reason, cap, "progress", "total missing");
    if (sg_info_int64(v, "progress.total", reason, cap) != SG_OK)
        return SG_ERR;
    if (!json_object_object_get_ex(p, "completed", &v))
        return sg_info_fail(reason, cap, "progress", "completed missing");
    if (sg_info_int64(v, "progress.completed", reason, cap) != SG_OK)
        return SG_ERR;
    if (!json_object_object_get_ex(p, "message", &v))
        return sg_info_fail(reason, cap, "progress", "message missing");
    return sg_info_message(v, "progress.message", reason, cap);
}

/* Types and shapes of every member, times rewritten; the status parsed. */
static int check_members(struct json_object *info, enum sg_task_status *status, char *reason,
                         size_t cap)
{
    static const char *const strings[] = {"service", "operation", "parent", "user", "vc_task"};
    struct json_object *v;

    if (sg_info_only_keys(info, "", info_keys, reason, cap) != SG_OK)
        return SG_ERR;
    if (!json_object_object_get_ex(info, "status", &v))
        return sg_info_fail(reason, cap, NULL, "status missing");
    if (sg_json_string_has_nul(v))
        return sg_info_fail(reason, cap, NULL, "status holds a NUL byte");
    if (!json_object_is_type(v, json_type_string) ||
        sg_task_status_parse(json_object_get_string(v), status) != SG_OK)
        return sg_info_fail(reason, cap, NULL, "status \"%.40s\" is not a task status",
                            json_object_get_string(v));
    if (!json_object_object_get_ex(info, "description", &v))
        return sg_info_fail(reason, cap, NULL, "description missing");
    if (sg_info_message(v, "description", reason, cap) != SG_OK)
        return SG_ERR;
    for (size_t i = 0; i < SG_ARRAY_LEN(strings); i++) {
        bool required = i < 2; /* service, operation */
        if (sg_info_string_member(info, strings[i], "", required, true, reason, cap) != SG_OK)
            return SG_ERR;
    }
    if (!json_object_object_get_ex(info, "cancelable", &v))
        return sg_info_fail(reason, cap, NULL, "cancelable missing");
    if (!json_object_is_type(v, json_type_boolean))
        return sg_info_fail(reason, cap, NULL, "cancelable must be a boolean");
    if (json_object_object_get_ex(info, "target", &v) && check_target(v, reason, cap) != SG_OK)
        return SG_ERR;
    if (json_object_object_get_ex(info, "progress", &v) && check_progress(v, reason, cap) != SG_OK)
        return SG_ERR;
    if (json_object_object_get_ex(info, "start_time", &v) &&
        sg_info_time(v, "start_time", reason, cap) != SG_OK)
        return SG_ERR;
    if (json_object_object_get_ex(info, "end_time", &v) &&
        sg_info_time(v, "end_time", reason, cap) != SG_OK)
        return SG_ERR;
    if (json_object_object_get_ex(info, "error", &v) &&
        sg_std_error_canonicalize(v, reason, cap) != SG_OK)
        return SG_ERR;
    return sg_info_numbers_valid(info, reason, cap);
}

/* The union rule, then the cross-field facts clients rely on. */
static int check_union(struct json_object *info, enum sg_task_status status, char *reason,
                       size_t cap)
{
    const char *name = sg_task_status_name(status);
    struct json_object *start, *end, *err, *msgs;

    for (int f = 0; f < F_COUNT; f++) {
        bool present = json_object_object_get_ex(info, union_fields[f], NULL);
        if (union_rule[status][f] == REQ && !present)
            return sg_info_fail(reason, cap, NULL, "%s without %s", name, union_fields[f]);
        if (union_rule[status][f] == ABSENT && present)
            return sg_info_fail(reason, cap, NULL, "%s with %s", name, union_fields[f]);
    }
    /* Both are canonical now: same fixed width, so text order is time order. */
    if (json_object_object_get_ex(info, "start_time", &start) &&
        json_object_object_get_ex(info, "end_time", &end) &&
        strcmp(json_object_get_string(end), json_object_get_string(start)) < 0)
        return sg_info_fail(reason, cap, NULL, "end_time before start_time");
    /* SDK samples print error.messages[0] of a FAILED task. */
    if (json_object_object_get_ex(info, "error", &err) &&
        json_object_object_get_ex(err, "messages", &msgs) && json_object_array_length(msgs) == 0)
        return sg_info_fail(reason, cap, NULL, "%s with an error without messages", name);
    return SG_OK;
}

/* The union rule lets a FAILED task omit `error`, but the SDK samples read
 * error.messages[0].default_message on every FAILED task, and a poller that
 * crashes there never learns the task ended. So a FAILED task without an error
 * gets a generic one: it adds a message, it never changes what the backend said. */
static void ensure_failed_error(struct json_object *info, enum sg_task_status st)
{
    if (st != SG_TASK_FAILED || json_object_object_get_ex(info, "error", NULL))
        return;
    struct json_object *msg = json_object_new_object();
    json_object_object_add(msg, "id", json_object_new_string("com.vmware.snapgate.task.failed"));
    json_object_object_add(msg, "default_message",
                           json_object_new_string("The task failed; the backend gave no reason."));
    json_object_object_add(msg, "args", json_object_new_array());
    struct json_object *msgs = json_object_new_array();
    json_object_array_add(msgs, msg);
    struct json_object *err = json_object_new_object();
    json_object_object_add(err, "error_type", json_object_new_string("ERROR"));
    json_object_object_add(err, "messages", msgs);
    json_object_object_add(info, "error", err);
}

int sg_info_canonicalize(struct json_object *info, enum sg_task_status *status, char *reason,
                         size_t cap)
{
    enum sg_task_status st;

    if (!json_object_is_type(info, json_type_object))
        return sg_info_fail(reason, cap, NULL, "Info must be a JSON object");
    sg_info_drop_nulls(info);
    if (check_members(info, &st, reason, cap) != SG_OK ||
        check_union(info, st, reason, cap) != SG_OK)
        return SG_ERR;
    ensure_failed_error(info, st);
    *status = st;
    return SG_OK;
}
