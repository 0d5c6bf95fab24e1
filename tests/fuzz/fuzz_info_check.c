/* fuzz_info_check: arbitrary bytes as an upstream Info body through
 * sg_info_parse_json, then sg_info_canonicalize (gateway/normalize/info*.c):
 * the checks every dialect's Info passes before it is served or cached.
 * Properties:
 * - a rejection, by either, names why: the reason is non-empty and
 *   NUL-terminated within its buffer, also when that buffer is only 16 bytes
 *   (on the heap, exactly that size, so an overrun is an ASan report);
 * - the verdict does not depend on the reason buffer: the same bytes parsed
 *   and checked again with the 16-byte buffer are accepted or rejected alike,
 *   with the same status;
 * - an accepted Info agrees with its input: the input's "status" member is
 *   exactly the string sg_task_status_name(status), byte for byte (a JSON
 *   string may hold a NUL); error.error_type, when there, is exactly one name of
 *   the enumeration; no top-level member is null;
 *   start_time and end_time, when present, are canonical (24 characters that
 *   sg_time_to_utc_ms gives back unchanged) and end_time is not before
 *   start_time;
 * - idempotence: checking the accepted Info again in place accepts it with the
 *   same status and changes nothing;
 * - fixed point: its rendering (as the core renders an Info) parsed back and
 *   checked is accepted with the same status and renders to the same text.
 * SG_FUZZ_DICT: json.dict */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_info.h"
#include "snapgate/common.h"
#include "snapgate/info.h"
#include "snapgate/task.h"

#define SMALL_CAP 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A string value as it is served: its bytes and their count (a JSON string
 * may hold NULs). */
struct text {
    char *s;
    size_t n;
};

static bool text_is(const struct text *t, const char *want)
{
    return t->s && t->n == strlen(want) && memcmp(t->s, want, t->n) == 0;
}

/* Parse then check; SG_OK with *info kept (caller puts) or SG_ERR with reason.
 * status_in: the input's "status" string before the check (s NULL when none). */
static int parse_and_check(const char *body, size_t len, char *reason, size_t cap,
                           struct json_object **info, enum sg_task_status *st,
                           struct text *status_in)
{
    struct json_object *s;
    *info = NULL;
    if (status_in)
        *status_in = (struct text){0};
    memset(reason, 0x5a, cap); /* a reason must be written, not found */
    struct json_object *o = sg_info_parse_json(body, len, reason, cap);
    if (!o) {
        sg_fuzz_check_reason(reason, cap);
        return SG_ERR;
    }
    if (status_in && json_object_is_type(o, json_type_object) &&
        json_object_object_get_ex(o, "status", &s) && json_object_is_type(s, json_type_string)) {
        status_in->n = (size_t)json_object_get_string_len(s);
        status_in->s = malloc(status_in->n + 1);
        if (!status_in->s)
            abort();
        memcpy(status_in->s, json_object_get_string(s), status_in->n + 1);
    }
    if (sg_info_canonicalize(o, st, reason, cap) != SG_OK) {
        sg_fuzz_check_reason(reason, cap);
        json_object_put(o);
        return SG_ERR;
    }
    *info = o;
    return SG_OK;
}

/* The documented facts of an accepted Info. */
static void check_accepted(struct json_object *info, enum sg_task_status st,
                           const struct text *status_in)
{
    struct json_object *start = NULL, *end = NULL, *err, *type;
    char canon[32];

    if (!text_is(status_in, sg_task_status_name(st)))
        abort();
    /* error.error_type is exactly one name of the enumeration */
    if (json_object_object_get_ex(info, "error", &err)) {
        if (!json_object_object_get_ex(err, "error_type", &type) ||
            !json_object_is_type(type, json_type_string))
            abort();
        struct text t = {(char *)json_object_get_string(type),
                         (size_t)json_object_get_string_len(type)};
        if (!sg_std_error_type_valid(t.s) || !text_is(&t, t.s))
            abort();
    }
    json_object_object_foreach(info, key, val)
    {
        if (val == NULL)
            abort();
        if (strcmp(key, "start_time") == 0)
            start = val;
        else if (strcmp(key, "end_time") == 0)
            end = val;
    }
    struct json_object *times[] = {start, end};
    for (size_t i = 0; i < 2; i++) {
        if (!times[i])
            continue;
        if (!json_object_is_type(times[i], json_type_string) ||
            json_object_get_string_len(times[i]) != SG_TIME_UTC_MS_LEN)
            abort();
        const char *t = json_object_get_string(times[i]);
        if (sg_time_to_utc_ms(t, canon) != SG_OK || strcmp(canon, t) != 0)
            abort();
    }
    if (start && end && strcmp(json_object_get_string(end), json_object_get_string(start)) < 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exactly its size, no NUL: the parser must honour len */
    char *body = malloc(size ? size : 1);
    char *small = malloc(SMALL_CAP);
    if (!body || !small)
        abort();
    memcpy(body, data, size);

    char reason[200];
    struct text status_in;
    struct json_object *info, *info2;
    enum sg_task_status st, st2;
    int rc = parse_and_check(body, size, reason, sizeof reason, &info, &st, &status_in);
    int rc2 = parse_and_check(body, size, small, SMALL_CAP, &info2, &st2, NULL);
    if (rc != rc2 || (rc == SG_OK && st != st2))
        abort();
    json_object_put(info2);

    if (rc == SG_OK) {
        check_accepted(info, st, &status_in);
        char *text = strdup(sg_fuzz_render(info));

        /* idempotence: in place, nothing left to rewrite */
        if (sg_info_canonicalize(info, &st2, reason, sizeof reason) != SG_OK || st2 != st ||
            strcmp(sg_fuzz_render(info), text) != 0)
            abort();
        free(text);

        /* fixed point: what a client or the cache gets back passes unchanged
         * (info renders as text did: idempotence) */
        sg_fuzz_check_fixed_point(info, st);
    }
    json_object_put(info);
    free(status_in.s);
    free(small);
    free(body);
    return 0;
}
