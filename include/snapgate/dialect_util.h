/* Building blocks the vCenter-family dialects (cis, rest, snapservice) share:
 * the one-segment task GET, the Basic-auth session login, the session id
 * check, and the classification of task answers by HTTP status. A dialect
 * composes its ops from these; none of it is required by the dialect ABI. */
#ifndef SG_DIALECT_UTIL_H
#define SG_DIALECT_UTIL_H

#include <stddef.h>

#include "snapgate/dialect.h"
#include "snapgate/task.h"

struct json_object;
struct sg_conf_backend;

/* Session ids longer than this are refused: a hostile backend must not make
 * us carry (and send back) something absurd. */
#define SG_DIALECT_SESSION_MAX 4096

/* GET <prefix><task_id as one percent-encoded segment> with Accept JSON.
 * prefix ends with '/'. Refuses (SG_ERR, out untouched) an empty id and the
 * dot-segments "." and "..", which the server would resolve against the path. */
int sg_dialect_task_request(const char *prefix, const char *task_id, struct sg_http_req *out);

/* POST path with "Authorization: Basic base64(user:password)" from b's
 * service account, then Accept JSON. SG_ERR (out untouched) without a service
 * account or for a user name holding ':' (Basic cannot carry it, RFC 7617).
 * The plain credentials are wiped from the heap before returning. */
int sg_dialect_basic_login(const struct sg_conf_backend *b, const char *path,
                           struct sg_http_req *out);

/* The session id out of a login answer: the body is a JSON string (member
 * NULL) or an object whose member `member` is one ({"value": "<id>"}).
 * 401/403 give SG_DENIED; other statuses than 200/201, bodies of another shape
 * and ids that are empty, longer than SG_DIALECT_SESSION_MAX or hold anything
 * but visible ASCII give SG_ERR. On SG_OK *session is malloc'd (caller frees).
 * reason never quotes the body (it may hold the id or echoed credentials). */
int sg_dialect_parse_session(int http_status, const char *body, size_t len, const char *member,
                             char **session, char *reason, size_t reason_cap);

/* Finds the standard error value inside a parsed error body (borrowed from
 * body), or NULL with why filled. NULL as an unwrapper: the body is the flat
 * standard error itself. */
typedef struct json_object *(*sg_std_error_unwrap)(struct json_object *body, char *why, size_t cap);

/* Classifies an answer to a task GET whose HTTP status is not 200 (SNAPSERVICE.md
 * section 4): 401 UNAUTHENTICATED, 403 UNAUTHORIZED, 404 NOT_FOUND, 429/502/
 * 503/504 UNAVAILABLE; 500 is INACCESSIBLE only when the body holds a valid
 * standard error of type RESOURCE_INACCESSIBLE, else ERROR; anything else
 * ERROR. Sets out->outcome and out->reason (never quoting the body); the body
 * is only read for a 500. */
void sg_dialect_classify_failure(int http_status, const char *body, size_t len,
                                 sg_std_error_unwrap unwrap, struct sg_normalized *out);

/* Parses a 200 body that must be one JSON object: a new reference, or NULL
 * with out set to SG_OUT_ERROR and a reason. */
struct json_object *sg_dialect_parse_object(const char *body, size_t len,
                                            struct sg_normalized *out);

/* Hands an Info (owned: consumed either way) to sg_info_canonicalize: on
 * success out is SG_OUT_INFO with out->info = info and out->status; else
 * SG_OUT_ERROR with the violated rule as reason and info released. */
void sg_dialect_accept_info(struct json_object *info, struct sg_normalized *out);

/* Resets out before a dialect fills it: no info, PENDING, empty reason. */
void sg_dialect_normalized_init(struct sg_normalized *out);

#endif
