/* Upstream answers to /api/cis/tasks/{task}: a 200 carries the Info itself,
 * every other status is classified by its code (and, for a 500, by the
 * standard error's error_type). */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cis.h"
#include "snapgate/common.h"
#include "snapgate/info.h"

static void set_outcome(struct sg_normalized *out, enum sg_outcome o, const char *why)
{
    out->outcome = o;
    snprintf(out->reason, sizeof out->reason, "%s", why);
}

/* A 500 is RESOURCE_INACCESSIBLE only when its body is a well-formed standard
 * error saying so; anything else at 500 is a plain ERROR. */
static void classify_500(const char *body, size_t len, struct sg_normalized *out)
{
    char why[120];
    struct json_object *err = sg_info_parse_json(body, len, why, sizeof why);
    struct json_object *type;

    if (!err) {
        snprintf(out->reason, sizeof out->reason, "upstream HTTP 500; %s", why);
        out->outcome = SG_OUT_ERROR;
        return;
    }
    if (sg_std_error_canonicalize(err, why, sizeof why) != SG_OK) {
        snprintf(out->reason, sizeof out->reason, "upstream HTTP 500, not a standard error: %s",
                 why);
        out->outcome = SG_OUT_ERROR;
        goto done;
    }
    json_object_object_get_ex(err, "error_type", &type);
    snprintf(out->reason, sizeof out->reason, "upstream HTTP 500 %.40s",
             json_object_get_string(type));
    out->outcome = strcmp(json_object_get_string(type), "RESOURCE_INACCESSIBLE") == 0
                       ? SG_OUT_INACCESSIBLE
                       : SG_OUT_ERROR;
done:
    json_object_put(err);
}

static void normalize_info(const char *body, size_t len, struct sg_normalized *out)
{
    char why[160];
    struct json_object *info = sg_info_parse_json(body, len, why, sizeof why);

    if (!info) {
        snprintf(out->reason, sizeof out->reason, "upstream HTTP 200; %s", why);
        goto fail;
    }
    if (!json_object_is_type(info, json_type_object)) {
        snprintf(out->reason, sizeof out->reason, "upstream HTTP 200; body is not a JSON object");
        goto fail;
    }
    /* cis.task.Info has no vc_task (SNAPSERVICE.md section 3): a member of
     * that name is not the field we serve under it, and we cannot vouch for
     * what it means, so it is an unknown member like any other and the answer
     * is rejected rather than silently passed on or trimmed. A null one is
     * unset, like any null member. */
    struct json_object *vc_task;
    if (json_object_object_get_ex(info, "vc_task", &vc_task) && vc_task != NULL) {
        snprintf(out->reason, sizeof out->reason,
                 "upstream HTTP 200; unknown member \"vc_task\" (cis Info has none)");
        goto fail;
    }
    if (sg_info_canonicalize(info, &out->status, why, sizeof why) != SG_OK) {
        snprintf(out->reason, sizeof out->reason, "upstream Info rejected: %s", why);
        goto fail;
    }
    out->outcome = SG_OUT_INFO;
    out->info = info;
    snprintf(out->reason, sizeof out->reason, "upstream HTTP 200 %s",
             sg_task_status_name(out->status));
    return;
fail:
    json_object_put(info);
    out->outcome = SG_OUT_ERROR;
}

void sg_cis_normalize(void *priv, const char *task_id, int http_status, const char *body,
                      size_t len, struct sg_normalized *out)
{
    (void)priv;
    (void)task_id;
    char why[64];

    out->info = NULL;
    out->status = SG_TASK_PENDING;
    out->reason[0] = '\0';
    switch (http_status) {
    case 200:
        normalize_info(body, len, out);
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
    case 500:
        classify_500(body, len, out);
        return;
    default:
        snprintf(why, sizeof why, "unexpected upstream HTTP %d", http_status);
        set_outcome(out, SG_OUT_ERROR, why);
        return;
    }
}
