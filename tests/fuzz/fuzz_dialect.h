/* Shared body of the fuzz_dialect_<name> harnesses: each defines
 * SG_FUZZ_DIALECT (the module name) and SG_FUZZ_TASK (a task id its fixtures
 * use), then includes this file.
 * Feeds the input, as a raw upstream body answered with HTTP 200, to the
 * dialect module's normalize op, the way tests/unit/support/sg_fixture_cases.h
 * drives a dialect (priv NULL; the body in a buffer of exactly its size).
 * Properties (those the fixture runner checks, without an expected answer):
 * - the outcome is one of enum sg_outcome; the reason is non-empty and
 *   NUL-terminated within its buffer;
 * - an INFO outcome carries an Info that, rendered as the core renders it and
 *   parsed back strictly (sg_info_parse_json), passes sg_info_canonicalize with
 *   the same status and renders to the same text (a canonical Info is a fixed
 *   point of the checks);
 * - any other outcome carries no Info. */
#ifndef SG_FUZZ_DIALECT_H
#define SG_FUZZ_DIALECT_H

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snapgate/common.h"
#include "snapgate/dialect.h"
#include "snapgate/info.h"
#include "snapgate/module.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *sg_fuzz_render(struct json_object *o)
{
    return json_object_to_json_string_ext(o,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
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
    char *body = malloc(size ? size : 1);
    if (!body)
        abort();
    memcpy(body, data, size);

    struct sg_normalized out;
    memset(&out, 0x5a, sizeof out);
    out.info = NULL;
    ops->normalize(NULL, SG_FUZZ_TASK, 200, body, size, &out);
    if (!memchr(out.reason, '\0', sizeof out.reason) || out.reason[0] == '\0')
        abort();
    switch (out.outcome) {
    case SG_OUT_INFO: {
        if (!out.info)
            abort();
        char *text = strdup(sg_fuzz_render(out.info));
        char reason[200];
        struct json_object *again = sg_info_parse_json(text, strlen(text), reason, sizeof reason);
        enum sg_task_status st;
        if (!again || sg_info_canonicalize(again, &st, reason, sizeof reason) != SG_OK ||
            st != out.status || strcmp(sg_fuzz_render(again), text) != 0)
            abort();
        json_object_put(again);
        free(text);
        break;
    }
    case SG_OUT_NOT_FOUND:
    case SG_OUT_UNAUTHENTICATED:
    case SG_OUT_UNAUTHORIZED:
    case SG_OUT_UNAVAILABLE:
    case SG_OUT_ERROR:
    case SG_OUT_INACCESSIBLE:
        if (out.info)
            abort();
        break;
    default:
        abort();
    }
    sg_normalized_clear(&out);
    free(body);
    return 0;
}

#endif
