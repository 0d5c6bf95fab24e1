/* Answers to GET /sdk/vim25/{release}/Task/{moId}/info: a 200 is a TaskInfo
 * for the shared mapping; a failure is classified by its status, and where the
 * status alone does not say, by the fault object VI/JSON sends as the body. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "snapgate/common.h"
#include "snapgate/info.h"
#include "snapgate/taskinfo.h"
#include "vijson.h"

static void set_outcome(struct sg_normalized *out, enum sg_outcome o, const char *why)
{
    out->outcome = o;
    snprintf(out->reason, sizeof out->reason, "%s", why);
}

static void normalize_info(const char *task_id, const char *body, size_t len,
                           struct sg_normalized *out)
{
    char why[160];
    struct json_object *ti = sg_info_parse_json(body, len, why, sizeof why);

    out->outcome = SG_OUT_ERROR;
    if (!ti) {
        snprintf(out->reason, sizeof out->reason, "upstream HTTP 200; %s", why);
        return;
    }
    if (sg_taskinfo_to_info(ti, task_id, &out->info, &out->status, why, sizeof why) != SG_OK) {
        snprintf(out->reason, sizeof out->reason, "upstream TaskInfo rejected: %s", why);
    } else {
        out->outcome = SG_OUT_INFO;
        snprintf(out->reason, sizeof out->reason, "upstream HTTP 200 %s",
                 sg_task_status_name(out->status));
    }
    json_object_put(ti);
}

/* A VI/JSON fault body is the fault object itself: {"_typeName": ..., ...}. */
static void classify_fault(int http_status, const char *body, size_t len, struct sg_normalized *out)
{
    char why[120];
    struct json_object *f = sg_info_parse_json(body, len, why, sizeof why), *t;
    const char *type = NULL;

    if (f && json_object_is_type(f, json_type_object) &&
        json_object_object_get_ex(f, "_typeName", &t) && json_object_is_type(t, json_type_string))
        type = json_object_get_string(t);
    out->outcome = sg_vim_fault_outcome(type);
    if (type)
        snprintf(out->reason, sizeof out->reason, "upstream HTTP %d fault %.60s", http_status,
                 type);
    else
        snprintf(out->reason, sizeof out->reason, "upstream HTTP %d without a fault body",
                 http_status);
    json_object_put(f);
}

void sg_vijson_normalize(void *priv, const char *task_id, int http_status, const char *body,
                         size_t len, struct sg_normalized *out)
{
    (void)priv;
    char why[64];

    out->info = NULL;
    out->status = SG_TASK_PENDING;
    out->reason[0] = '\0';
    switch (http_status) {
    case 200:
        normalize_info(task_id, body, len, out);
        return;
    case 401:
        set_outcome(out, SG_OUT_UNAUTHENTICATED, "upstream HTTP 401");
        return;
    case 403:
        set_outcome(out, SG_OUT_UNAUTHORIZED, "upstream HTTP 403");
        return;
    case 404:
        set_outcome(out, SG_OUT_NOT_FOUND, "upstream HTTP 404");
        return;
    case 429:
    case 502:
    case 503:
    case 504:
        snprintf(why, sizeof why, "upstream HTTP %d", http_status);
        set_outcome(out, SG_OUT_UNAVAILABLE, why);
        return;
    default:
        if (http_status >= 400 && http_status < 600) {
            classify_fault(http_status, body, len, out);
            return;
        }
        snprintf(why, sizeof why, "unexpected upstream HTTP %d", http_status);
        set_outcome(out, SG_OUT_ERROR, why);
        return;
    }
}
