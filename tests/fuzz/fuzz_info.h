/* Checks shared by the harnesses that see an Info or a normalized upstream
 * answer (fuzz_dialect.h, fuzz_info_check.c, fuzz_upstream_reader.c): each
 * aborts when its property fails, so that every harness holds the code to the
 * same promise, written once. */
#ifndef SG_FUZZ_INFO_H
#define SG_FUZZ_INFO_H

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "snapgate/common.h"
#include "snapgate/info.h"
#include "snapgate/task.h"

/* o as the core renders an Info (served and cached). */
static inline const char *sg_fuzz_render(struct json_object *o)
{
    return json_object_to_json_string_ext(o,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* A reason names why: non-empty and NUL-terminated within its cap bytes. */
static inline void sg_fuzz_check_reason(const char *reason, size_t cap)
{
    if (!memchr(reason, '\0', cap) || reason[0] == '\0')
        abort();
}

/* Fixed point: info, accepted by sg_info_canonicalize with status st, rendered
 * and parsed back strictly (sg_info_parse_json), is accepted again with the
 * same status and renders to the same text: what a client or the cache gets
 * back passes the checks unchanged. */
static inline void sg_fuzz_check_fixed_point(struct json_object *info, enum sg_task_status st)
{
    char *text = strdup(sg_fuzz_render(info));
    if (!text)
        abort();
    char reason[200];
    enum sg_task_status again_st;
    struct json_object *again = sg_info_parse_json(text, strlen(text), reason, sizeof reason);
    if (!again || sg_info_canonicalize(again, &again_st, reason, sizeof reason) != SG_OK ||
        again_st != st || strcmp(sg_fuzz_render(again), text) != 0)
        abort();
    json_object_put(again);
    free(text);
}

/* What struct sg_normalized promises, whoever filled it: the outcome is one of
 * enum sg_outcome, the reason names why (sg_fuzz_check_reason), and an Info is
 * there exactly for INFO. */
static inline void sg_fuzz_check_normalized(const struct sg_normalized *n)
{
    sg_fuzz_check_reason(n->reason, sizeof n->reason);
    switch (n->outcome) {
    case SG_OUT_INFO:
        if (!n->info)
            abort();
        break;
    case SG_OUT_NOT_FOUND:
    case SG_OUT_UNAUTHENTICATED:
    case SG_OUT_UNAUTHORIZED:
    case SG_OUT_UNAVAILABLE:
    case SG_OUT_ERROR:
    case SG_OUT_INACCESSIBLE:
        if (n->info)
            abort();
        break;
    default:
        abort();
    }
}

#endif
