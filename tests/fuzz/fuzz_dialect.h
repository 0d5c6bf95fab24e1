/* Shared body of the fuzz_dialect_<name> harnesses: each defines
 * SG_FUZZ_DIALECT (the module name) and SG_FUZZ_TASK (a task id its fixtures
 * use), then includes this file.
 * Input: the first byte picks the upstream HTTP status, sg_fuzz_statuses[b % 16]
 * (byte 0 is 200; 14 and 15 repeat 200 and 500, the statuses whose bodies
 * every dialect parses); the rest is the raw body. Both go to the dialect
 * module's normalize op the way tests/unit/support/sg_fixture_cases.h drives a
 * dialect: priv NULL (no dialect's normalize reads its priv: vijson's release
 * only shapes its requests) and the body in a buffer of exactly its size.
 * Properties, for every status (what dialect.h, task.h and dialect_util.h
 * promise, not what one dialect happens to do):
 * - the outcome is one of enum sg_outcome; the reason is non-empty and
 *   NUL-terminated within its buffer ("never fails: ... SG_OUT_ERROR with a
 *   reason"); the body is not written to;
 * - INFO only for a 2xx answer: only a success carries a task's Info;
 * - 401, 403, 429, 502, 503 and 504 are classified by the status alone,
 *   whatever the body: UNAUTHENTICATED, UNAUTHORIZED, UNAVAILABLE (task.h's
 *   enum sg_outcome, and SNAPSERVICE.md section 4 as dialect_util.h gives it);
 * - an INFO outcome carries an Info whose "status" member is exactly
 *   sg_task_status_name(out.status), and that, rendered as the core renders it
 *   and parsed back strictly (sg_info_parse_json), passes sg_info_canonicalize
 *   with the same status and renders to the same text (a canonical Info is a
 *   fixed point of the checks);
 * - any other outcome carries no Info. */
#ifndef SG_FUZZ_DIALECT_H
#define SG_FUZZ_DIALECT_H

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_info.h"
#include "snapgate/common.h"
#include "snapgate/dialect.h"
#include "snapgate/module.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What backends and the proxies in front of them really answer, and 418
 * (tests/fixtures/cis/cis-unexpected-status) as a status no dialect names. */
static const int sg_fuzz_statuses[16] = {200, 201, 204, 400, 401, 403, 404, 409,
                                         429, 500, 502, 503, 504, 418, 200, 500};

/* The outcome the status alone decides, or -1 when the body may matter. */
static int sg_fuzz_status_outcome(int http)
{
    switch (http) {
    case 401:
        return SG_OUT_UNAUTHENTICATED;
    case 403:
        return SG_OUT_UNAUTHORIZED;
    case 429:
    case 502:
    case 503:
    case 504:
        return SG_OUT_UNAVAILABLE;
    default:
        return -1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct sg_dialect_ops *ops;
    if (!ops) {
        const struct sg_module *m = sg_module_find(SG_MOD_DIALECT, SG_FUZZ_DIALECT);
        if (!m || !m->ops)
            abort();
        ops = m->ops;
    }
    if (size == 0)
        return 0;
    int http = sg_fuzz_statuses[data[0] % 16];
    size_t len = size - 1;
    char *body = malloc(len ? len : 1);
    if (!body)
        abort();
    memcpy(body, data + 1, len);

    struct sg_normalized out;
    memset(&out, 0x5a, sizeof out); /* the dialect must set every field it reports */
    out.info = NULL;
    ops->normalize(NULL, SG_FUZZ_TASK, http, body, len, &out);
    sg_fuzz_check_normalized(&out); /* known outcome, a reason, an Info exactly for INFO */
    if (memcmp(body, data + 1, len) != 0)
        abort();
    int decided = sg_fuzz_status_outcome(http);
    if (decided >= 0 && (int)out.outcome != decided)
        abort();
    if (out.outcome == SG_OUT_INFO) {
        if (http < 200 || http > 299)
            abort();
        /* its status member is out.status's name, byte for byte */
        struct json_object *sv;
        const char *name = sg_task_status_name(out.status);
        if (!json_object_object_get_ex(out.info, "status", &sv) ||
            !json_object_is_type(sv, json_type_string) ||
            (size_t)json_object_get_string_len(sv) != strlen(name) ||
            memcmp(json_object_get_string(sv), name, strlen(name)) != 0)
            abort();
        sg_fuzz_check_fixed_point(out.info, out.status);
    }
    sg_normalized_clear(&out);
    free(body);
    return 0;
}

#endif
