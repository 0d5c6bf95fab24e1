/* Upstream answers to /api/snapservice/tasks/{task}: a 200 is already the
 * Info we serve, so it only has to pass the shared validator (which drops
 * null members, the fixtures' reading of "unset", and accepts vc_task); it is
 * never repaired. Other statuses are classified like cis: the same flat
 * standard error body and status table. */
#include "snapgate/dialect_util.h"
#include "snapservice.h"

void sg_snapservice_normalize(void *priv, const char *task_id, int http_status, const char *body,
                              size_t len, struct sg_normalized *out)
{
    (void)priv;
    (void)task_id;
    sg_dialect_normalized_init(out);
    if (http_status != 200) {
        sg_dialect_classify_failure(http_status, body, len, NULL, out);
        return;
    }
    struct json_object *info = sg_dialect_parse_object(body, len, out);
    if (info)
        sg_dialect_accept_info(info, out);
}
