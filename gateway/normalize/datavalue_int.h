/* Builders shared by the DataValue encoders (normalize/datavalue*.c). They
 * make json-c trees that take new references to the input's leaves, so the
 * text is rendered by json-c exactly as the REST path renders an Info. The
 * input is checked canonical before any builder runs; they trust its shape. */
#ifndef SG_DATAVALUE_INT_H
#define SG_DATAVALUE_INT_H

#include <stddef.h>

struct json_object;

/* A new reference to obj[key], NULL when absent. */
struct json_object *sg_dv_member(struct json_object *obj, const char *key);

/* {"STRUCTURE":{name:fields}}; takes fields. */
struct json_object *sg_dv_structure(const char *name, struct json_object *fields);

/* {"OPTIONAL":v}; takes v, NULL gives {"OPTIONAL":null}. */
struct json_object *sg_dv_optional(struct json_object *v);

/* An opaque value: objects become STRUCTURE SG_DV_OPAQUE_STRUCT, arrays LIST,
 * null stays null, other leaves are shared. NULL for JSON null. */
struct json_object *sg_dv_opaque(struct json_object *v);

/* A LocalizableMessage structure. */
struct json_object *sg_dv_message(struct json_object *msg);

/* The ERROR value of a standard error; challenge NULL leaves that field out. */
struct json_object *sg_dv_error_value(struct json_object *err, const char *challenge);

/* What an encoder takes: v is a JSON object, nests at most SG_INFO_MAX_DEPTH
 * containers deep, and is canonical (canon, a canonicalizer run on a copy of
 * v, accepts it unchanged). SG_OK, or SG_ERR with a reason naming `what`. */
int sg_dv_check(struct json_object *v, const char *what,
                int (*canon)(struct json_object *copy, char *reason, size_t cap), char *reason,
                size_t cap);

/* Renders tree compactly and puts it; malloc'd text, *len set. */
char *sg_dv_render(struct json_object *tree, size_t *len);

#endif
