/* snapgate's own sessions (issue 13): what `com.vmware.cis.session.create`
 * over JSON-RPC and `POST /api/snapservice/sessions` hand out, and what a
 * `session_id` security context or a `vmware-api-session-id` header presents
 * later.
 *
 * An id is 256 random bits (RAND_bytes), given to the caller as 64 lower-case
 * hex characters and never kept: the store holds only a keyed hash of it
 * (HMAC-SHA-256), with the principal (name and groups), the creation time and
 * the last access. A session ends after sessions.idle_timeout unused, after
 * sessions.max_lifetime in any case, or when deleted.
 *
 * With Redis configured the sessions live there (the shared tier's kv
 * operations), so every replica behind a load balancer knows every session
 * and a delete ends it everywhere; without Redis they live in the process,
 * shared by its workers. Delegated principals (a backend's own session) are
 * never stored: their sessions are the backend's.
 *
 * Completions follow the cache's rule: a call returns SG_OK / SG_DENIED /
 * SG_ERR at once, or SG_AGAIN and calls cb exactly once later, from the
 * worker's loop, never from inside the call. Ids are never logged. */
#ifndef SG_AUTH_SESSION_H
#define SG_AUTH_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "snapgate/auth.h"

struct sg_wstate;

/* 256 bits as hex. */
#define SG_SESSION_ID_LEN 64

struct sg_session_info {
    char user[SG_PRINCIPAL_NAME_MAX];
    uint64_t created_ms;       /* Unix epoch ms */
    uint64_t last_accessed_ms; /* Unix epoch ms: this access, for check */
};

/* rc: SG_OK, SG_DENIED (no such live session), SG_ERR (the store failed). */
typedef void (*sg_session_cb)(int rc, void *arg);

/* Makes a session for p (name and groups are copied; p must not be delegated).
 * id receives the new id (NUL-terminated) before the call returns, valid once
 * the outcome is SG_OK; on SG_ERR the caller must not hand it out. */
int sg_session_create(struct sg_wstate *ws, const struct sg_principal *p,
                      char id[SG_SESSION_ID_LEN + 1], sg_session_cb cb, void *arg);

/* Whether id[0..len) names a live session; on SG_OK out (name and groups) and
 * info are filled (they must stay valid until cb runs) and the session's last
 * access is now. Ids of another form are SG_DENIED at once. */
int sg_session_check(struct sg_wstate *ws, const char *id, size_t len, struct sg_principal *out,
                     struct sg_session_info *info, sg_session_cb cb, void *arg);

/* Ends the session id[0..len) for every replica: SG_OK once the store has
 * dropped it, SG_DENIED when there was none. */
int sg_session_delete(struct sg_wstate *ws, const char *id, size_t len, sg_session_cb cb,
                      void *arg);

#endif
