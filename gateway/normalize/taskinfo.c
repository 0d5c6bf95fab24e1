/* The TaskInfo -> Info mapping (SNAPSERVICE.md section 4), shared by the
 * vijson and vim25 dialects. It builds the Info from scratch (nothing of the
 * TaskInfo is passed through except `result`), then lets sg_info_canonicalize
 * judge it: a TaskInfo that maps to something breaking the union rule is
 * rejected, never repaired. */
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapgate/common.h"
#include "snapgate/info.h"
#include "snapgate/taskinfo.h"

/* Everything a TaskInfo may say that the mapping reads, type-checked once. */
struct ti_view {
    const char *state;
    const char *description_id;
    const char *name;
    const char *desc_key;
    const char *desc_message;
    const char *parent;
    const char *start;
    const char *queue;
    const char *complete;
    const char *user;
    const char *task_value;
    const char *entity_type;
    const char *entity_value;
    struct json_object *cancelable;
    struct json_object *progress;
    struct json_object *result;
    struct json_object *error;
};

static int fail(char *reason, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *reason, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, cap, fmt, ap);
    va_end(ap);
    return SG_ERR;
}

/* 1 and *v when o has key with a value of type t; 0 when absent or null;
 * -1 when present with another type. */
static int member(struct json_object *o, const char *key, json_type t, struct json_object **v)
{
    *v = NULL;
    if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, v) ||
        *v == NULL)
        return 0;
    if (!json_object_is_type(*v, t)) {
        *v = NULL;
        return -1;
    }
    return 1;
}

/* A string member; "" counts as unset (the mapping's "or" falls through). */
static int str(struct json_object *o, const char *key, const char **out)
{
    struct json_object *v;
    int rc = member(o, key, json_type_string, &v);
    *out = rc == 1 && json_object_get_string_len(v) > 0 ? json_object_get_string(v) : NULL;
    return rc;
}

/* v is a MoRef: "type" and "value" both non-empty strings. */
static bool moref_members(struct json_object *v, const char **type, const char **value)
{
    return str(v, "type", type) == 1 && str(v, "value", value) == 1 && *type && *value;
}

/* Member key of o as a MoRef: 1, 0 when absent, -1 when not a MoRef. */
static int moref(struct json_object *o, const char *key, const char **type, const char **value)
{
    struct json_object *v;
    *type = *value = NULL;
    int rc = member(o, key, json_type_object, &v);
    if (rc <= 0)
        return rc;
    if (!moref_members(v, type, value)) {
        *type = *value = NULL;
        return -1;
    }
    return 1;
}

static int view_read(struct json_object *ti, struct ti_view *w, char *reason, size_t cap)
{
    static const char *const strings[] = {"state",     "descriptionId", "name",         "startTime",
                                          "queueTime", "completeTime",  "parentTaskKey"};
    const char **slots[] = {&w->state, &w->description_id, &w->name,  &w->start,
                            &w->queue, &w->complete,       &w->parent};
    struct json_object *obj;

    memset(w, 0, sizeof(*w));
    if (!json_object_is_type(ti, json_type_object))
        return fail(reason, cap, "TaskInfo is not an object");
    for (size_t i = 0; i < SG_ARRAY_LEN(strings); i++) {
        if (str(ti, strings[i], slots[i]) < 0)
            return fail(reason, cap, "TaskInfo.%s is not a string", strings[i]);
    }
    if (member(ti, "description", json_type_object, &obj) < 0 ||
        str(obj, "key", &w->desc_key) < 0 || str(obj, "message", &w->desc_message) < 0)
        return fail(reason, cap, "TaskInfo.description is not a LocalizableMessage");
    /* Only a user-started task names a user; the system's and schedulers'
     * reasons carry none we could serve. */
    const char *reason_type = NULL;
    if (member(ti, "reason", json_type_object, &obj) < 0 || str(obj, "_typeName", &reason_type) < 0)
        return fail(reason, cap, "TaskInfo.reason is not a TaskReason");
    if (reason_type && strcmp(reason_type, "TaskReasonUser") == 0 &&
        str(obj, "userName", &w->user) < 0)
        return fail(reason, cap, "TaskInfo.reason.userName is not a string");
    const char *ignored;
    if (moref(ti, "task", &ignored, &w->task_value) < 0)
        return fail(reason, cap, "TaskInfo.task is not a MoRef");
    if (moref(ti, "entity", &w->entity_type, &w->entity_value) < 0)
        return fail(reason, cap, "TaskInfo.entity is not a MoRef");
    if (member(ti, "cancelable", json_type_boolean, &w->cancelable) < 0)
        return fail(reason, cap, "TaskInfo.cancelable is not a boolean");
    if (member(ti, "progress", json_type_int, &w->progress) < 0)
        return fail(reason, cap, "TaskInfo.progress is not an integer");
    if (member(ti, "error", json_type_object, &w->error) < 0)
        return fail(reason, cap, "TaskInfo.error is not a fault");
    json_object_object_get_ex(ti, "result", &w->result);
    if (!w->state)
        return fail(reason, cap, "TaskInfo.state is missing");
    if (!w->description_id)
        return fail(reason, cap, "TaskInfo.descriptionId is missing");
    if (!w->cancelable)
        return fail(reason, cap, "TaskInfo.cancelable is missing");
    return SG_OK;
}

static int status_of(const char *state, enum sg_task_status *st)
{
    static const struct {
        const char *state;
        enum sg_task_status status;
    } map[] = {{"queued", SG_TASK_PENDING},
               {"running", SG_TASK_RUNNING},
               {"success", SG_TASK_SUCCEEDED},
               {"error", SG_TASK_FAILED}};
    for (size_t i = 0; i < SG_ARRAY_LEN(map); i++) {
        if (strcmp(state, map[i].state) == 0) {
            *st = map[i].status;
            return SG_OK;
        }
    }
    return SG_ERR;
}

static struct json_object *message(const char *id, const char *text)
{
    struct json_object *m = json_object_new_object();
    json_object_object_add(m, "id", json_object_new_string(id));
    json_object_object_add(m, "default_message", json_object_new_string(text));
    json_object_object_add(m, "args", json_object_new_array());
    return m;
}

/* `result` as plain JSON: MoRefs become {type, id}, boxed any-typed values
 * their _value, and the wire's _typeName tags go. Bounded by the parser's
 * depth limit. Returns a new reference. */
static struct json_object *result_json(struct json_object *v)
{
    if (json_object_is_type(v, json_type_array)) {
        struct json_object *a = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(v); i++)
            json_object_array_add(a, result_json(json_object_array_get_idx(v, i)));
        return a;
    }
    if (!json_object_is_type(v, json_type_object))
        return json_object_get(v);
    const char *type_name = NULL, *type, *value;
    struct json_object *boxed;
    str(v, "_typeName", &type_name);
    if (type_name && strcmp(type_name, "ManagedObjectReference") == 0 &&
        moref_members(v, &type, &value)) {
        struct json_object *m = json_object_new_object();
        json_object_object_add(m, "type", json_object_new_string(type));
        json_object_object_add(m, "id", json_object_new_string(value));
        return m;
    }
    if (type_name && json_object_object_get_ex(v, "_value", &boxed))
        return result_json(boxed);
    struct json_object *o = json_object_new_object();
    json_object_object_foreach(v, key, val)
    {
        if (strcmp(key, "_typeName") != 0)
            json_object_object_add(o, key, val ? result_json(val) : NULL);
    }
    return o;
}

/* TaskInfo.error: a LocalizedMethodFault {fault, localizedMessage} or the
 * fault object itself. Only the type name and the localized text are used. */
static int error_json(struct json_object *err, struct json_object **out, char *reason, size_t cap)
{
    struct json_object *fault = err;
    const char *text = NULL, *type = NULL;
    if (member(err, "fault", json_type_object, &fault) < 0)
        return fail(reason, cap, "TaskInfo.error.fault is not an object");
    if (!fault)
        fault = err;
    if (str(err, "localizedMessage", &text) < 0 || str(fault, "_typeName", &type) < 0)
        return fail(reason, cap, "TaskInfo.error is not a fault");
    if (!type)
        return fail(reason, cap, "TaskInfo.error names no fault type");
    char *id = sg_xasprintf("vim.fault.%s", type);
    struct json_object *msgs = json_object_new_array();
    json_object_array_add(msgs, message(id, text ? text : type));
    free(id);
    *out = json_object_new_object();
    json_object_object_add(*out, "error_type",
                           json_object_new_string(sg_vim_fault_error_type(type)));
    json_object_object_add(*out, "messages", msgs);
    return SG_OK;
}

static void add_str(struct json_object *o, const char *key, const char *v)
{
    if (v)
        json_object_object_add(o, key, json_object_new_string(v));
}

int sg_taskinfo_to_info(struct json_object *ti, const char *task_id, struct json_object **info,
                        enum sg_task_status *status, char *reason, size_t cap)
{
    struct ti_view w;
    struct json_object *o = NULL, *err = NULL;
    enum sg_task_status st;
    char why[160];

    *info = NULL;
    if (view_read(ti, &w, reason, cap) != SG_OK)
        return SG_ERR;
    if (status_of(w.state, &st) != SG_OK)
        return fail(reason, cap, "TaskInfo.state is not queued, running, success or error");
    const char *dot = strrchr(w.description_id, '.');
    if (!dot || dot == w.description_id || dot[1] == '\0')
        return fail(reason, cap, "TaskInfo.descriptionId has no service.operation form");
    if (st == SG_TASK_FAILED && w.error && error_json(w.error, &err, reason, cap) != SG_OK)
        return SG_ERR;

    o = json_object_new_object();
    const char *desc_text = w.desc_message ? w.desc_message : (w.name ? w.name : w.description_id);
    json_object_object_add(o, "description",
                           message(w.desc_key ? w.desc_key : w.description_id, desc_text));
    char *service = sg_xstrndup(w.description_id, (size_t)(dot - w.description_id));
    add_str(o, "service", service);
    free(service);
    add_str(o, "operation", dot + 1);
    add_str(o, "status", sg_task_status_name(st));
    json_object_object_add(o, "cancelable", json_object_get(w.cancelable));
    add_str(o, "parent", w.parent);
    if (w.entity_type) {
        struct json_object *target = json_object_new_object();
        add_str(target, "type", w.entity_type);
        add_str(target, "id", w.entity_value);
        json_object_object_add(o, "target", target);
    }
    add_str(o, "user", w.user);
    add_str(o, "vc_task", w.task_value ? w.task_value : (task_id && *task_id ? task_id : NULL));
    if (st != SG_TASK_PENDING) {
        add_str(o, "start_time", w.start ? w.start : w.queue);
        if (sg_task_status_terminal(st))
            add_str(o, "end_time", w.complete);
        int64_t done = st == SG_TASK_SUCCEEDED ? 100
                       : w.progress            ? json_object_get_int64(w.progress)
                                               : 0;
        struct json_object *p = json_object_new_object();
        json_object_object_add(p, "total", json_object_new_int64(100));
        json_object_object_add(p, "completed", json_object_new_int64(done));
        char *pid = sg_xasprintf("%s.progress", w.description_id);
        json_object_object_add(p, "message",
                               message(pid, w.desc_message ? w.desc_message : w.description_id));
        free(pid);
        json_object_object_add(o, "progress", p);
        if (w.result)
            json_object_object_add(o, "result", result_json(w.result));
    }
    if (err)
        json_object_object_add(o, "error", err);

    if (sg_info_canonicalize(o, &st, why, sizeof why) != SG_OK) {
        json_object_put(o);
        return fail(reason, cap, "mapped Info rejected: %s", why);
    }
    *info = o;
    *status = st;
    return SG_OK;
}

const char *sg_vim_fault_error_type(const char *fault_type)
{
    static const struct {
        const char *fault;
        const char *error_type;
    } map[] = {
        {"RequestCanceled", "CANCELED"},
        {"NoPermission", "UNAUTHORIZED"},
        {"NotAuthenticated", "UNAUTHENTICATED"},
        {"ManagedObjectNotFound", "NOT_FOUND"},
        {"InvalidArgument", "INVALID_ARGUMENT"},
        {"InvalidState", "NOT_ALLOWED_IN_CURRENT_STATE"},
        {"Timedout", "TIMED_OUT"},
    };
    for (size_t i = 0; fault_type && i < SG_ARRAY_LEN(map); i++) {
        if (strcmp(fault_type, map[i].fault) == 0)
            return map[i].error_type;
    }
    return "ERROR";
}

enum sg_outcome sg_vim_fault_outcome(const char *fault_type)
{
    if (!fault_type)
        return SG_OUT_ERROR;
    if (strcmp(fault_type, "ManagedObjectNotFound") == 0)
        return SG_OUT_NOT_FOUND;
    if (strcmp(fault_type, "NotAuthenticated") == 0)
        return SG_OUT_UNAUTHENTICATED;
    if (strcmp(fault_type, "NoPermission") == 0)
        return SG_OUT_UNAUTHORIZED;
    return SG_OUT_ERROR;
}
