/* Answers to RetrievePropertiesEx of Task.info. HTTP 200 holds either the
 * TaskInfo (propSet "info") or a missingSet fault (an expired session says
 * NotAuthenticated there, not in the status); HTTP 500 is a SOAP fault whose
 * type decides (ManagedObjectNotFound: the task does not exist). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "snapgate/common.h"
#include "snapgate/taskinfo.h"
#include "vim25.h"

static void set_outcome(struct sg_normalized *out, enum sg_outcome o, const char *why)
{
    out->outcome = o;
    snprintf(out->reason, sizeof out->reason, "%s", why);
}

static void fault_outcome(struct sg_normalized *out, const char *where, char *type)
{
    out->outcome = sg_vim_fault_outcome(type);
    snprintf(out->reason, sizeof out->reason, "%s fault %.60s", where, type ? type : "(untyped)");
    free(type);
}

/* The propSet whose <name> is "info", or NULL. */
static xmlNode *info_prop(xmlNode *objects)
{
    for (xmlNode *c = objects->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "propSet") != 0)
            continue;
        char *name = sg_vim25_text(sg_vim25_child(c, "name"));
        int hit = strcmp(name, "info") == 0;
        free(name);
        if (hit)
            return c;
    }
    return NULL;
}

static void normalize_task_info(const char *task_id, xmlNode *val, struct sg_normalized *out)
{
    char why[160];
    struct json_object *ti = sg_vim25_taskinfo_json(val, why, sizeof why);
    if (!ti) {
        snprintf(out->reason, sizeof out->reason, "upstream TaskInfo rejected: %s", why);
        return;
    }
    if (sg_taskinfo_to_info(ti, task_id, &out->info, &out->status, why, sizeof why) != SG_OK) {
        snprintf(out->reason, sizeof out->reason, "upstream TaskInfo rejected: %s", why);
    } else {
        out->outcome = SG_OUT_INFO;
        snprintf(out->reason, sizeof out->reason, "upstream HTTP 200 %s",
                 sg_task_status_name(out->status));
    }
    json_object_put(ti);
}

static void normalize_response(const char *task_id, xmlNode *resp, struct sg_normalized *out)
{
    xmlNode *objects = sg_vim25_child(sg_vim25_child(resp, "returnval"), "objects");
    if (!objects) {
        set_outcome(out, SG_OUT_ERROR, "upstream HTTP 200 without the task object");
        return;
    }
    xmlNode *prop = info_prop(objects);
    xmlNode *val = sg_vim25_child(prop, "val");
    if (val) {
        normalize_task_info(task_id, val, out);
        return;
    }
    /* missingSet/fault is a LocalizedMethodFault; its own <fault> the type. */
    xmlNode *missing = sg_vim25_child(objects, "missingSet");
    xmlNode *fault = sg_vim25_child(sg_vim25_child(missing, "fault"), "fault");
    if (fault) {
        fault_outcome(out, "upstream HTTP 200 missingSet", sg_vim25_xsi_type(fault));
        return;
    }
    set_outcome(out, SG_OUT_ERROR, "upstream HTTP 200 without Task.info");
}

static void normalize_soap(const char *task_id, int http_status, const char *body, size_t len,
                           struct sg_normalized *out)
{
    char why[120];
    xmlDoc *doc = sg_vim25_parse(body, len, why, sizeof why);
    if (!doc) {
        snprintf(out->reason, sizeof out->reason, "upstream HTTP %d; %s", http_status, why);
        out->outcome = SG_OUT_ERROR;
        return;
    }
    xmlNode *first = sg_vim25_body_child(doc);
    char where[48];
    snprintf(where, sizeof where, "upstream HTTP %d", http_status);
    if (!first) {
        snprintf(out->reason, sizeof out->reason, "%s; not a SOAP envelope", where);
        out->outcome = SG_OUT_ERROR;
    } else if (strcmp((const char *)first->name, "Fault") == 0) {
        fault_outcome(out, where, sg_vim25_fault_type(first));
    } else if (http_status == 200 &&
               strcmp((const char *)first->name, "RetrievePropertiesExResponse") == 0) {
        normalize_response(task_id, first, out);
    } else {
        snprintf(out->reason, sizeof out->reason, "%s; unexpected SOAP answer", where);
        out->outcome = SG_OUT_ERROR;
    }
    xmlFreeDoc(doc);
}

void sg_vim25_normalize(void *priv, const char *task_id, int http_status, const char *body,
                        size_t len, struct sg_normalized *out)
{
    (void)priv;
    char why[64];

    out->outcome = SG_OUT_ERROR;
    out->info = NULL;
    out->status = SG_TASK_PENDING;
    out->reason[0] = '\0';
    switch (http_status) {
    case 200:
    case 500:
        normalize_soap(task_id, http_status, body, len, out);
        return;
    case 401:
        set_outcome(out, SG_OUT_UNAUTHENTICATED, "upstream HTTP 401");
        return;
    case 403:
        set_outcome(out, SG_OUT_UNAUTHORIZED, "upstream HTTP 403");
        return;
    case 429:
    case 502:
    case 503:
    case 504:
        snprintf(why, sizeof why, "upstream HTTP %d", http_status);
        set_outcome(out, SG_OUT_UNAVAILABLE, why);
        return;
    default:
        /* A 404 here means no SOAP endpoint at /sdk, not a missing task. */
        snprintf(why, sizeof why, "unexpected upstream HTTP %d", http_status);
        set_outcome(out, SG_OUT_ERROR, why);
        return;
    }
}
