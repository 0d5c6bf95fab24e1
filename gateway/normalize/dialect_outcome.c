/* What a task answer means: a 200 carries an Info the shared validator must
 * accept; every other status is classified by its code (and, for a 500, by
 * the standard error's error_type). */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "snapgate/common.h"
#include "snapgate/dialect_util.h"
#include "snapgate/info.h"

static void set_outcome(struct sg_normalized *out, enum sg_outcome o, const char *why)
{
    out->outcome = o;
    snprintf(out->reason, sizeof out->reason, "%s", why);
}

void sg_dialect_normalized_init(struct sg_normalized *out)
{
    out->info = NULL;
    out->status = SG_TASK_PENDING;
    out->reason[0] = '\0';
}

/* A 500 is RESOURCE_INACCESSIBLE only when its body is a well-formed standard
 * error saying so; anything else at 500 is a plain ERROR. */
static void classify_500(const char *body, size_t len, sg_std_error_unwrap unwrap,
                         struct sg_normalized *out)
{
    char why[120];
    struct json_object *doc = sg_info_parse_json(body, len, why, sizeof why);
    struct json_object *err, *type;

    out->outcome = SG_OUT_ERROR;
    if (!doc) {
        snprintf(out->reason, sizeof out->reason, "upstream HTTP 500; %s", why);
        return;
    }
    err = unwrap ? unwrap(doc, why, sizeof why) : doc;
    if (!err || sg_std_error_canonicalize(err, why, sizeof why) != SG_OK) {
        snprintf(out->reason, sizeof out->reason, "upstream HTTP 500, not a standard error: %s",
                 why);
        goto done;
    }
    json_object_object_get_ex(err, "error_type", &type);
    snprintf(out->reason, sizeof out->reason, "upstream HTTP 500 %.40s",
             json_object_get_string(type));
    if (strcmp(json_object_get_string(type), "RESOURCE_INACCESSIBLE") == 0)
        out->outcome = SG_OUT_INACCESSIBLE;
done:
    json_object_put(doc);
}

void sg_dialect_classify_failure(int http_status, const char *body, size_t len,
                                 sg_std_error_unwrap unwrap, struct sg_normalized *out)
{
    char why[64];

    switch (http_status) {
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
        classify_500(body, len, unwrap, out);
        return;
    default:
        snprintf(why, sizeof why, "unexpected upstream HTTP %d", http_status);
        set_outcome(out, SG_OUT_ERROR, why);
        return;
    }
}

struct json_object *sg_dialect_parse_object(const char *body, size_t len, struct sg_normalized *out)
{
    char why[160];
    struct json_object *o = sg_info_parse_json(body, len, why, sizeof why);

    if (!o) {
        snprintf(out->reason, sizeof out->reason, "upstream HTTP 200; %s", why);
        goto fail;
    }
    if (!json_object_is_type(o, json_type_object)) {
        snprintf(out->reason, sizeof out->reason, "upstream HTTP 200; body is not a JSON object");
        goto fail;
    }
    return o;
fail:
    json_object_put(o);
    out->outcome = SG_OUT_ERROR;
    return NULL;
}

void sg_dialect_accept_info(struct json_object *info, struct sg_normalized *out)
{
    char why[160];

    if (sg_info_canonicalize(info, &out->status, why, sizeof why) != SG_OK) {
        snprintf(out->reason, sizeof out->reason, "upstream Info rejected: %s", why);
        json_object_put(info);
        out->outcome = SG_OUT_ERROR;
        return;
    }
    out->outcome = SG_OUT_INFO;
    out->info = info;
    snprintf(out->reason, sizeof out->reason, "upstream HTTP 200 %s",
             sg_task_status_name(out->status));
}
