/* The `bearer` auth provider: opaque `Authorization: Bearer` tokens, stored
 * only as SHA-256 digests in a tokens file. This header joins the module's
 * files and gives the unit tests the pieces they drive directly. */
#ifndef SG_AUTH_BEARER_H
#define SG_AUTH_BEARER_H

#include <stddef.h>

#include "snapgate/auth.h"
#include "snapgate/module.h"

extern const struct sg_module sg_module_auth_bearer;

#define SG_BEARER_DIGEST_LEN 32

/* ---- tokens file (tokens.c) ------------------------------------------------ */

struct sg_bearer_tokens;

/* Reads a tokens file: lines "name:sha256:<64 hex digits>" (either case),
 * '#' comments and blank lines allowed, CRLF fine. One name may have several
 * tokens (rotation); one digest may not appear twice (it would name two
 * principals). Returns SG_OK with *out owned by the caller (free with
 * sg_bearer_tokens_free), or SG_ERR with "PATH:LINE: reason" (or "PATH:
 * reason") in err (capacity cap); the message never holds a digest. */
int sg_bearer_tokens_load(const char *path, struct sg_bearer_tokens **out, char *err, size_t cap);
void sg_bearer_tokens_free(struct sg_bearer_tokens *t);
size_t sg_bearer_tokens_count(const struct sg_bearer_tokens *t);
/* The name whose stored digest equals digest, or NULL. Every entry is
 * compared, each in constant time, whatever matches: the time taken depends
 * on the number of entries only. Borrowed from t. */
const char *sg_bearer_tokens_match(const struct sg_bearer_tokens *t,
                                   const unsigned char digest[SG_BEARER_DIGEST_LEN]);

#endif
