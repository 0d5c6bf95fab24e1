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
 * worker's loop, never from inside the call. The process's table always
 * answers at once; Redis always with SG_AGAIN, or SG_ERR at once while it is
 * down (its circuit open). Every outcome is counted in the metrics
 * (snapgate_sessions_created_total, snapgate_sessions_deleted_total,
 * snapgate_session_checks_total). Ids are never logged.
 *
 * The keyed hash, the value's encoding and the rules are in session.c,
 * session_codec.c and session_int.h. A check refreshes a Redis session's last
 * access at most once a second (SG_SESSION_TOUCH_MS), so a session may end up
 * to that much before its full idle time. */
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

/* Makes a session for p (name and groups are copied; p must not be delegated:
 * SG_ERR). id receives the new id (NUL-terminated) before the call returns,
 * valid once the outcome is SG_OK; it must stay valid until cb runs, and on
 * SG_ERR it is wiped (the caller must not hand it out anyway). */
int sg_session_create(struct sg_wstate *ws, const struct sg_principal *p,
                      char id[SG_SESSION_ID_LEN + 1], sg_session_cb cb, void *arg);

/* Whether id[0..len) names a live session; on SG_OK out (name and groups; out
 * comes in empty, the caller clears it) and info are filled (they must stay
 * valid until cb runs) and the session's last access is now. Ids of another
 * form are SG_DENIED at once. A session unused for sessions.idle_timeout or
 * older than sessions.max_lifetime is SG_DENIED, and dropped. */
int sg_session_check(struct sg_wstate *ws, const char *id, size_t len, struct sg_principal *out,
                     struct sg_session_info *info, sg_session_cb cb, void *arg);

/* Ends the session id[0..len) for every replica: SG_OK once the store has
 * dropped it, SG_DENIED when there was none. */
int sg_session_delete(struct sg_wstate *ws, const char *id, size_t len, sg_session_cb cb,
                      void *arg);

/* The process's sessions when Redis is not configured: one table shared by
 * every worker (ws->sessions; it takes a lock), made before the workers and
 * freed after them. At most 100,000 sessions (SG_SESSION_LOCAL_MAX): a create
 * beyond them is SG_ERR. With Redis configured the table stays empty: a
 * failing Redis is SG_ERR, never a fallback to sessions other replicas cannot
 * see. */
struct sg_session_table;
struct sg_session_table *sg_session_table_new(void);
void sg_session_table_free(struct sg_session_table *t);

#endif
