/* vAPI DataValue JSON (api/JSONRPC.md section 3.2) for the JSON-RPC endpoint
 * (POST /api): the task Info, a standard error, and the JSON-RPC envelope
 * around either.
 *
 * The hit path renders nothing. A DataValue is made once per cache entry, from
 * the same canonical Info the REST path serves, and stored as the envelope's
 * suffix (sg_dv_envelope_suffix). Answering a request is then three copies:
 *
 *     SG_DV_ENVELOPE_PREFIX, the request id's raw JSON text, the suffix
 *
 * i.e. two memcpy around the id (evbuffer_add three times, or sg_dv_envelope).
 *
 * Text is compact, in a fixed field order (that of JSONRPC.md 3.3/3.4), with
 * strings escaped as the REST path escapes them (json-c, no slash escapes)
 * and numbers kept as json-c prints them (a parsed double keeps its source
 * text). */
#ifndef SG_DATAVALUE_H
#define SG_DATAVALUE_H

#include <stdbool.h>
#include <stddef.h>

#include "normalize/reply.h"

struct json_object;

/* Struct name given to every JSON object inside an opaque value (Info.result,
 * error.data): the runtime accepts any name, and vAPI has no standard one. */
#define SG_DV_OPAQUE_STRUCT "com.vmware.snapgate.json_object"

/* Encodes a canonical Info (borrowed, not changed) as the DataValue of
 * com.vmware.snapservice.tasks.info: all 9 optional fields wrapped in
 * OPTIONAL, unset ones as {"OPTIONAL":null}; messages as structures, params as
 * map-entry lists in the params object's key order, every LocalizationParam
 * field OPTIONAL; target a DynamicID; error an ERROR named after its
 * error_type; result (opaque) with objects as STRUCTURE SG_DV_OPAQUE_STRUCT
 * and arrays as LIST; a `d` param always written with a fraction (DOUBLE).
 * "Canonical" means exactly what sg_info_canonicalize accepts and leaves
 * unchanged, nested at most SG_INFO_MAX_DEPTH deep; anything else is refused.
 * Returns the malloc'd NUL-terminated text and *len, or NULL with a reason. */
char *sg_dv_info(struct json_object *info, size_t *len, char *reason, size_t cap);

/* sg_dv_info for an Info the caller vouches is canonical because
 * sg_info_canonicalize made it (every normalized Info, which is what the cache
 * stores): without sg_dv_info's check, a deep copy canonicalized again and
 * compared, which cost a third of the encoding on every miss (issue 14).
 * Never NULL. */
char *sg_dv_info_canonical(struct json_object *info, size_t *len);

/* Encodes a canonical standard error {error_type, messages, data?} (borrowed;
 * one sg_std_error_canonicalize leaves unchanged) as the ERROR DataValue of
 * com.vmware.vapi.std.errors.<error_type in lower case>: messages, data
 * (OPTIONAL, null when absent), error_type (OPTIONAL), and challenge
 * (OPTIONAL) only when challenge is not NULL, which only an UNAUTHENTICATED
 * error may carry. Returns malloc'd text and *len, or NULL with a reason. */
char *sg_dv_std_error(struct json_object *err, const char *challenge, size_t *len, char *reason,
                      size_t cap);

/* The ERROR DataValue of one of the REST path's replies (normalize/reply.c:
 * the same error_type, message id and default message), challenge as for
 * sg_dv_std_error. NULL only for a challenge on another error than
 * SG_E_UNAUTHENTICATED (or e out of range). It parses and renders: make each
 * one once (at start, or once per challenge string), not per request. */
char *sg_dv_error_reply(enum sg_error e, const char *challenge, size_t *len);

/* ---- the JSON-RPC 2.0 envelope -------------------------------------------- */

#define SG_DV_ENVELOPE_PREFIX "{\"jsonrpc\":\"2.0\",\"id\":"
#define SG_DV_ENVELOPE_PREFIX_LEN (sizeof(SG_DV_ENVELOPE_PREFIX) - 1)

enum sg_dv_kind {
    SG_DV_OUTPUT, /* ,"result":{"output":<dv>}} : a task Info */
    SG_DV_ERROR,  /* ,"result":{"error":<dv>}}  : a vAPI error (still a JSON-RPC result) */
};

/* How an output suffix begins (SG_DV_OUTPUT): what a reader of stored
 * suffixes checks them by (cache/cache_codec.c). */
#define SG_DV_OUTPUT_HEAD ",\"result\":{\"output\":"
#define SG_DV_OUTPUT_HEAD_LEN (sizeof(SG_DV_OUTPUT_HEAD) - 1)

/* What follows the id: malloc'd, NUL-terminated, *len set. dv is trusted
 * (made by sg_dv_info or sg_dv_std_error). */
char *sg_dv_envelope_suffix(enum sg_dv_kind kind, const char *dv, size_t dv_len, size_t *len);

/* Whether id[0..len) is exactly one JSON string or number token (RFC 8259,
 * no whitespace): what the envelope may echo without breaking its JSON. The
 * bytes of a string are not checked for UTF-8 (the request's parser did). */
bool sg_dv_id_valid(const char *id, size_t len);

/* prefix + id + suffix, malloc'd and NUL-terminated with *len; NULL when the
 * id is not valid (sg_dv_id_valid). */
char *sg_dv_envelope(const char *id, size_t id_len, const char *suffix, size_t suffix_len,
                     size_t *len);

#endif
