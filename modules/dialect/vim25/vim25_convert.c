/* A SOAP TaskInfo into the json-c shape VI/JSON sends, so one mapping
 * (gateway/normalize/taskinfo.c) serves both dialects. XML has no types of its own: the
 * TaskInfo fields that are not strings are named in a table, any-typed values
 * say theirs in xsi:type, and a MoRef is an element with a plain `type`
 * attribute (not the xsi one) and text. */
#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "snapgate/common.h"
#include "snapgate/info.h"
#include "vim25.h"

enum kind { K_ANY = 0, K_INT, K_BOOL, K_DOUBLE, K_STRING };

/* TaskInfo's members that are not strings or structures. */
static const struct {
    const char *name;
    enum kind kind;
} taskinfo_fields[] = {
    {"progress", K_INT},
    {"eventChainId", K_INT},
    {"cancelled", K_BOOL},
    {"cancelable", K_BOOL},
};

/* xsd types an any-typed value may carry (xsi:type="xsd:int"). */
static const struct {
    const char *name;
    enum kind kind;
} xsd_types[] = {
    {"string", K_STRING},
    {"int", K_INT},
    {"long", K_INT},
    {"short", K_INT},
    {"byte", K_INT},
    {"boolean", K_BOOL},
    {"double", K_DOUBLE},
    {"float", K_DOUBLE},
    {"dateTime", K_STRING},
    {"anyURI", K_STRING},
    {"base64Binary", K_STRING},
};

/* A scalar of kind k from text t; NULL when t is not one. */
static struct json_object *scalar(enum kind k, const char *t)
{
    char *end;
    switch (k) {
    case K_INT: {
        errno = 0;
        long long v = strtoll(t, &end, 10);
        if (errno || end == t || *end)
            return NULL;
        return json_object_new_int64(v);
    }
    case K_BOOL:
        if (!strcmp(t, "true") || !strcmp(t, "1"))
            return json_object_new_boolean(1);
        if (!strcmp(t, "false") || !strcmp(t, "0"))
            return json_object_new_boolean(0);
        return NULL;
    case K_DOUBLE: {
        errno = 0;
        double v = strtod(t, &end);
        if (errno || end == t || *end)
            return NULL;
        /* Keep the backend's own digits, as the JSON dialects do. */
        return json_object_new_double_s(v, t);
    }
    default:
        return json_object_new_string(t);
    }
}

static bool has_element_children(xmlNode *n)
{
    return sg_vim25_child(n, NULL) != NULL;
}

static struct json_object *convert(xmlNode *n, enum kind hint, int depth, char *reason, size_t cap);

/* Members of an object element; a name that repeats becomes an array. */
static struct json_object *members(xmlNode *n, const char *type_name, int depth, char *reason,
                                   size_t cap, bool top)
{
    struct json_object *o = json_object_new_object();
    if (type_name)
        json_object_object_add(o, "_typeName", json_object_new_string(type_name));
    for (xmlNode *c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const char *key = (const char *)c->name;
        enum kind k = K_ANY;
        for (size_t i = 0; top && i < SG_ARRAY_LEN(taskinfo_fields); i++) {
            if (!strcmp(key, taskinfo_fields[i].name))
                k = taskinfo_fields[i].kind;
        }
        struct json_object *v = convert(c, k, depth + 1, reason, cap), *prev;
        if (!v) {
            json_object_put(o);
            return NULL;
        }
        if (!json_object_object_get_ex(o, key, &prev)) {
            json_object_object_add(o, key, v);
        } else if (json_object_is_type(prev, json_type_array)) {
            json_object_array_add(prev, v);
        } else {
            struct json_object *a = json_object_new_array();
            json_object_array_add(a, json_object_get(prev));
            json_object_array_add(a, v);
            json_object_object_add(o, key, a);
        }
    }
    return o;
}

static struct json_object *convert(xmlNode *n, enum kind hint, int depth, char *reason, size_t cap)
{
    struct json_object *v = NULL;
    char *type = NULL, *text = NULL;
    xmlChar *plain_type = NULL;

    if (depth > SG_INFO_MAX_DEPTH) {
        snprintf(reason, cap, "TaskInfo nests deeper than %d", SG_INFO_MAX_DEPTH);
        return NULL;
    }
    type = sg_vim25_xsi_type(n);
    /* xmlHasNsProp with no namespace finds only the unprefixed attribute. */
    if (xmlHasNsProp(n, (const xmlChar *)"type", NULL))
        plain_type = xmlGetNoNsProp(n, (const xmlChar *)"type");
    bool kids = has_element_children(n);

    if (hint != K_ANY) {
        text = sg_vim25_text(n);
        v = kids ? NULL : scalar(hint, text);
        if (!v)
            snprintf(reason, cap, "TaskInfo.%.40s is not a %s", (const char *)n->name,
                     hint == K_INT ? "number" : "boolean");
        goto done;
    }
    if (!kids && plain_type && (!type || !strcmp(type, "ManagedObjectReference"))) {
        text = sg_vim25_text(n);
        v = json_object_new_object();
        json_object_object_add(v, "_typeName", json_object_new_string("ManagedObjectReference"));
        json_object_object_add(v, "type", json_object_new_string((const char *)plain_type));
        json_object_object_add(v, "value", json_object_new_string(text));
        goto done;
    }
    for (size_t i = 0; type && !kids && i < SG_ARRAY_LEN(xsd_types); i++) {
        if (strcmp(type, xsd_types[i].name) != 0)
            continue;
        text = sg_vim25_text(n);
        struct json_object *val = scalar(xsd_types[i].kind, text);
        if (!val) {
            snprintf(reason, cap, "a %s value that is not one", xsd_types[i].name);
            goto done;
        }
        v = json_object_new_object();
        json_object_object_add(v, "_typeName", json_object_new_string(type));
        json_object_object_add(v, "_value", val);
        goto done;
    }
    if (type && !strncmp(type, "ArrayOf", 7)) {
        struct json_object *a = json_object_new_array();
        for (xmlNode *c = n->children; c; c = c->next) {
            if (c->type != XML_ELEMENT_NODE)
                continue;
            struct json_object *item = convert(c, K_ANY, depth + 1, reason, cap);
            if (!item) {
                json_object_put(a);
                goto done;
            }
            json_object_array_add(a, item);
        }
        v = json_object_new_object();
        json_object_object_add(v, "_typeName", json_object_new_string(type));
        json_object_object_add(v, "_value", a);
        goto done;
    }
    if (!kids) {
        text = sg_vim25_text(n);
        if (!type) {
            v = json_object_new_string(text);
        } else if (text[strspn(text, " \t\r\n")] == '\0') {
            /* A typed object with no members: <reason xsi:type="TaskReasonSystem"/>. */
            v = members(n, type, depth, reason, cap, false);
        } else {
            /* A typed simple value, e.g. an enum: boxed like VI/JSON does. */
            v = json_object_new_object();
            json_object_object_add(v, "_typeName", json_object_new_string(type));
            json_object_object_add(v, "_value", json_object_new_string(text));
        }
        goto done;
    }
    v = members(n, type, depth, reason, cap, false);
done:
    free(type);
    free(text);
    xmlFree(plain_type);
    return v;
}

struct json_object *sg_vim25_taskinfo_json(xmlNode *val, char *reason, size_t cap)
{
    char *type = sg_vim25_xsi_type(val);
    struct json_object *ti = NULL;
    if (type && strcmp(type, "TaskInfo") != 0) {
        snprintf(reason, cap, "info is a %.40s, not a TaskInfo", type);
        goto done;
    }
    ti = members(val, "TaskInfo", 0, reason, cap, true);
done:
    free(type);
    return ti;
}
