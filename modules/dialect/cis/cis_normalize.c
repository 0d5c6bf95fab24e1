/* Upstream answers to /api/cis/tasks/{task}: a 200 carries the Info itself,
 * every other status is classified by its code (and, for a 500, by the flat
 * standard error's error_type). */
#include <json-c/json.h>
#include <stdio.h>

#include "cis.h"
#include "snapgate/dialect_util.h"

static void normalize_info(const char *body, size_t len, struct sg_normalized *out)
{
    struct json_object *info = sg_dialect_parse_object(body, len, out);
    struct json_object *vc_task;

    if (!info)
        return;
    /* cis.task.Info has no vc_task (SNAPSERVICE.md section 3): a member of
     * that name is not the field we serve under it, and we cannot vouch for
     * what it means, so it is an unknown member like any other and the answer
     * is rejected rather than silently passed on or trimmed. A null one is
     * unset, like any null member. */
    if (json_object_object_get_ex(info, "vc_task", &vc_task) && vc_task != NULL) {
        snprintf(out->reason, sizeof out->reason,
                 "upstream HTTP 200; unknown member \"vc_task\" (cis Info has none)");
        json_object_put(info);
        out->outcome = SG_OUT_ERROR;
        return;
    }
    sg_dialect_accept_info(info, out);
}

void sg_cis_normalize(void *priv, const char *task_id, int http_status, const char *body,
                      size_t len, struct sg_normalized *out)
{
    (void)priv;
    (void)task_id;
    sg_dialect_normalized_init(out);
    if (http_status == 200)
        normalize_info(body, len, out);
    else
        sg_dialect_classify_failure(http_status, body, len, NULL, out);
}
