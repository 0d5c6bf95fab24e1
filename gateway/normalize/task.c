/* Task statuses and normalized outcomes. */
#include <json-c/json.h>
#include <string.h>

#include "snapgate/common.h"
#include "snapgate/task.h"

static const char *const status_names[] = {
    [SG_TASK_PENDING] = "PENDING",     [SG_TASK_RUNNING] = "RUNNING", [SG_TASK_BLOCKED] = "BLOCKED",
    [SG_TASK_SUCCEEDED] = "SUCCEEDED", [SG_TASK_FAILED] = "FAILED",
};

const char *sg_task_status_name(enum sg_task_status s)
{
    if ((unsigned)s >= SG_ARRAY_LEN(status_names))
        return "UNKNOWN";
    return status_names[s];
}

int sg_task_status_parse(const char *s, enum sg_task_status *out)
{
    for (size_t i = 0; i < SG_ARRAY_LEN(status_names); i++) {
        if (strcmp(s, status_names[i]) == 0) {
            *out = (enum sg_task_status)i;
            return SG_OK;
        }
    }
    return SG_ERR;
}

void sg_normalized_clear(struct sg_normalized *n)
{
    if (n->info)
        json_object_put(n->info);
    n->info = NULL;
}
