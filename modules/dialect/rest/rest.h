/* The rest dialect (vCenter's legacy /rest API, 6.7.1+): the operations the
 * module table in rest_module.c points at, and the legacy-to-Info rewrites. */
#ifndef SG_DIALECT_REST_H
#define SG_DIALECT_REST_H

#include <stddef.h>

#include "snapgate/dialect.h"

struct json_object;

int sg_rest_build_task(void *priv, const struct sg_conf_backend *b, const char *task_id,
                       struct sg_http_req *out);
int sg_rest_build_login(void *priv, const struct sg_conf_backend *b, struct sg_http_req *out);
int sg_rest_parse_login(void *priv, int http_status, sg_header_lookup hdr, void *hdr_ctx,
                        const char *body, size_t len, char **session, char *reason,
                        size_t reason_cap);
void sg_rest_apply_session(void *priv, const char *session, struct sg_http_req *req);
void sg_rest_normalize(void *priv, const char *task_id, int http_status, const char *body,
                       size_t len, struct sg_normalized *out);

/* Rewrites the params of one LocalizableMessage (or nested `l` message) in
 * place: a list [{"key": k, "value": v}, ...] becomes {k: v, ...}, and every
 * nested `l` message inside is rewritten the same way. Params already an
 * object are kept (their nested messages still rewritten); absent, null or
 * other types are left for the Info validator to judge. SG_ERR with reason
 * for a list entry that is not exactly {key, value}, an empty or non-string
 * key, or a key given twice (a map cannot hold both values, and picking one
 * would be repairing). msg is borrowed; where names it in the reason. */
int sg_rest_message_params(struct json_object *msg, const char *where, char *reason, size_t cap);

/* sg_rest_message_params over every message of a legacy Info: description,
 * progress.message and each of error.messages. Anything not shaped as a
 * message is left for the Info validator. */
int sg_rest_info_params(struct json_object *info, char *reason, size_t cap);

/* The same over each message of a standard error value's `messages`. */
int sg_rest_error_params(struct json_object *err, const char *where, char *reason, size_t cap);

#endif
