#include <json-c/json.h>

#include "cache/progress_floor.h"

int64_t sg_progress_apply_floor(struct json_object *info, int64_t floor)
{
    struct json_object *progress, *completed;
    if (!json_object_object_get_ex(info, "progress", &progress) ||
        !json_object_object_get_ex(progress, "completed", &completed) ||
        !json_object_is_type(completed, json_type_int))
        return -1;
    int64_t have = json_object_get_int64(completed);
    if (floor > have) {
        json_object_set_int64(completed, floor);
        return floor;
    }
    return have;
}
