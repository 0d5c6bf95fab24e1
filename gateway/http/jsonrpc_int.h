/* What the JSON-RPC request files (http/jsonrpc_*.c) share. */
#ifndef SG_JSONRPC_INT_H
#define SG_JSONRPC_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "http/jsonrpc_request.h"
#include "snapgate/basic_header.h"

struct json_object;

/* Whether s[0..len) may go into a log line as it is: 1..max bytes of
 * printable ASCII, no space, quote or backslash (the X-Request-Id rule). */
bool sg_rpc_loggable(const char *s, size_t len, size_t max);

/* Sets r->op, service and operation when service/operation name an accepted
 * operation. */
bool sg_rpc_op_find(const char *service, size_t service_len, const char *operation,
                    size_t operation_len, struct sg_rpc_request *r);

/* The longest user:password that "Basic " + its base64 keeps within
 * SG_BASIC_HEADER_MAX (the provider chain reads Basic credentials). */
#define SG_RPC_USER_PASS_MAX ((SG_BASIC_HEADER_MAX - (sizeof "Basic " - 1)) / 4 * 3)

/* Whether obj's member key is a string (then *v is it). */
bool sg_rpc_string(struct json_object *obj, const char *key, struct json_object **v);

/* params.ctx.securityCtx (borrowed; sec may be NULL: none) into *out. Returns
 * SG_RPC_OK or SG_RPC_INVALID_PARAMS with a reason (names, never values). */
enum sg_rpc_code sg_rpc_security_parse(struct json_object *sec, struct sg_rpc_security *out,
                                       char *reason, size_t cap);

#endif
