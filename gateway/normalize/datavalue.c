/* The task Info as a DataValue (api/JSONRPC.md 3.2 and 3.3), made once per
 * cache entry from the canonical Info the REST path serves, so both paths say
 * the same thing about a task. */
#include <json-c/json.h>
#include <stddef.h>

#include "normalize/datavalue.h"
#include "normalize/datavalue_int.h"
#include "snapgate/common.h"
#include "snapgate/info.h"

#define INFO_STRUCT "com.vmware.snapservice.tasks.info"
#define PROGRESS_STRUCT "com.vmware.snapservice.tasks.progress"
#define DYNAMIC_ID_STRUCT "com.vmware.vapi.std.dynamic_ID"

static int canon_info(struct json_object *copy, char *reason, size_t cap)
{
    enum sg_task_status st;
    return sg_info_canonicalize(copy, &st, reason, cap);
}

static struct json_object *progress(struct json_object *p)
{
    struct json_object *f = json_object_new_object(), *msg;
    json_object_object_add(f, "total", sg_dv_member(p, "total"));
    json_object_object_add(f, "completed", sg_dv_member(p, "completed"));
    json_object_object_get_ex(p, "message", &msg);
    json_object_object_add(f, "message", sg_dv_message(msg));
    return sg_dv_structure(PROGRESS_STRUCT, f);
}

static struct json_object *target(struct json_object *t)
{
    struct json_object *f = json_object_new_object();
    json_object_object_add(f, "type", sg_dv_member(t, "type"));
    json_object_object_add(f, "id", sg_dv_member(t, "id"));
    return sg_dv_structure(DYNAMIC_ID_STRUCT, f);
}

/* OPTIONAL(build(info[key])), or {"OPTIONAL":null} when unset. */
static struct json_object *opt(struct json_object *info, const char *key,
                               struct json_object *(*build)(struct json_object *))
{
    struct json_object *v;
    if (!json_object_object_get_ex(info, key, &v))
        return sg_dv_optional(NULL);
    return sg_dv_optional(build ? build(v) : json_object_get(v));
}

static struct json_object *error_value(struct json_object *err)
{
    return sg_dv_error_value(err, NULL);
}

char *sg_dv_info(struct json_object *info, size_t *len, char *reason, size_t cap)
{
    if (sg_dv_check(info, "Info", canon_info, reason, cap) != SG_OK)
        return NULL;
    return sg_dv_info_canonical(info, len);
}

char *sg_dv_info_canonical(struct json_object *info, size_t *len)
{
    /* The field order of JSONRPC.md 3.3, which is what the SDK was run with. */
    struct json_object *f = json_object_new_object(), *desc;
    json_object_object_add(f, "progress", opt(info, "progress", progress));
    json_object_object_add(f, "result", opt(info, "result", sg_dv_opaque));
    json_object_object_add(f, "vc_task", opt(info, "vc_task", NULL));
    json_object_object_get_ex(info, "description", &desc);
    json_object_object_add(f, "description", sg_dv_message(desc));
    json_object_object_add(f, "service", sg_dv_member(info, "service"));
    json_object_object_add(f, "operation", sg_dv_member(info, "operation"));
    json_object_object_add(f, "parent", opt(info, "parent", NULL));
    json_object_object_add(f, "target", opt(info, "target", target));
    json_object_object_add(f, "status", sg_dv_member(info, "status"));
    json_object_object_add(f, "cancelable", sg_dv_member(info, "cancelable"));
    json_object_object_add(f, "error", opt(info, "error", error_value));
    json_object_object_add(f, "start_time", opt(info, "start_time", NULL));
    json_object_object_add(f, "end_time", opt(info, "end_time", NULL));
    json_object_object_add(f, "user", opt(info, "user", NULL));
    return sg_dv_render(sg_dv_structure(INFO_STRUCT, f), len);
}
