/* What the JSON-RPC request files (http/jsonrpc_*.c) share. */
#ifndef SG_JSONRPC_INT_H
#define SG_JSONRPC_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "http/jsonrpc_request.h"

struct json_object;

/* Whether s[0..len) may go into a log line as it is: 1..max bytes of
 * printable ASCII, no space, quote or backslash (the X-Request-Id rule). */
bool sg_rpc_loggable(const char *s, size_t len, size_t max);

/* Whether obj's member key is a string (then *v is it). */
bool sg_rpc_string(struct json_object *obj, const char *key, struct json_object **v);

/* params.ctx.securityCtx (borrowed; sec may be NULL: none) into *out. Returns
 * SG_RPC_OK or SG_RPC_INVALID_PARAMS with a reason (names, never values). */
enum sg_rpc_code sg_rpc_security_parse(struct json_object *sec, struct sg_rpc_security *out,
                                       char *reason, size_t cap);

#endif
