/* The `basic` auth provider: Authorization: Basic checked against a crypt(3)
 * users file, with the hashes computed on the offload pool and a per-worker
 * cache of recently verified credentials (the core's cred_cache). This header joins the module's
 * files and gives the unit tests the pieces they drive directly. */
#ifndef SG_AUTH_BASIC_H
#define SG_AUTH_BASIC_H

#include <stddef.h>
#include <stdint.h>

#include "snapgate/auth.h"
#include "snapgate/basic_header.h"
#include "snapgate/module.h"

extern const struct sg_module sg_module_auth_basic;

#define SG_BASIC_CACHE_MAX 4096
#define SG_BASIC_CACHE_TTL_MS 60000u

/* ---- users file (users.c) -------------------------------------------------- */

struct sg_basic_users;

/* Reads a users file: lines "name:hash", '#' comments and blank lines allowed;
 * hashes must be yescrypt ($y$), bcrypt ($2b$, $2y$) or sha512crypt ($6$).
 * Returns SG_OK with *out owned by the caller (free with sg_basic_users_free),
 * or SG_ERR with a message "PATH:LINE: reason" (or "PATH: reason") in err
 * (capacity cap); the message never contains a hash or a password. */
int sg_basic_users_load(const char *path, struct sg_basic_users **out, char *err, size_t cap);
void sg_basic_users_free(struct sg_basic_users *u);
size_t sg_basic_users_count(const struct sg_basic_users *u);
/* The stored hash of name (NUL-terminated), or NULL when there is no such user.
 * Borrowed from u. */
const char *sg_basic_users_find(const struct sg_basic_users *u, const char *name);
/* The hash an unknown user's password is run against, so that a miss costs
 * what a hit costs: the first user's hash (same algorithm and cost as the real
 * ones), or a built-in yescrypt hash for an empty file. Borrowed from u. */
const char *sg_basic_users_dummy(const struct sg_basic_users *u);

/* ---- the Authorization header (header.c) --------------------------------- */

/* sg_basic_header_parse: snapgate/basic_header.h (shared with the core). */

/* ---- the provider (basic.c) ------------------------------------------------ */

/* Test hook: how long a worker instance remembers a credential it verifies from
 * now on (default SG_BASIC_CACHE_TTL_MS); entries already cached keep theirs. */
void sg_basic_set_cache_ttl_ms(void *inst, uint64_t ttl_ms);

#endif
