/* What the session store's files share (session.c: the calls, ids and keys;
 * session_codec.c: the value; session_local.c: the process's table;
 * session_redis.c: the shared tier), and what the unit tests drive directly. */
#ifndef SG_AUTH_SESSION_INT_H
#define SG_AUTH_SESSION_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/session.h"
#include "snapgate/auth.h"

#define LOG_MOD_SESSION "session"

/* ---- keys (session.c) ------------------------------------------------------ */

/* The store's key of an id: HMAC-SHA-256 as 64 lower-case hex digits. */
#define SG_SESSION_KEY_LEN 64
/* The prefix of a key in the shared tier's kv space ("session:" + the key).
 * A change of how keys are derived takes a new prefix. */
#define SG_SESSION_KV_PREFIX "session:"

/* Whether id[0..len) has the form of an id: exactly 64 lower-case hex digits. */
bool sg_session_id_valid(const char *id, size_t len);
/* key receives the store's key of a valid id (NUL-terminated). */
void sg_session_key(const char *id, size_t len, char key[SG_SESSION_KEY_LEN + 1]);

/* ---- the rules (session.c) -------------------------------------------------- */

/* What a call needs of the config, read once when it starts (a reload may
 * swap the config while a shared-tier call is under way). */
struct sg_session_limits {
    uint64_t idle_ms, max_ms;
};

/* Whether a session made at created and last used at last is over at now.
 * Clocks of several replicas may disagree: times in the future count as now. */
bool sg_session_expired(const struct sg_session_limits *lim, uint64_t created_ms, uint64_t last_ms,
                        uint64_t now_ms);
/* How long the store may keep it from now: the least of the idle time and
 * what is left of its lifetime; 0 when it is over. */
uint64_t sg_session_ttl_ms(const struct sg_session_limits *lim, uint64_t created_ms,
                           uint64_t now_ms);

/* ---- the value (session_codec.c) ------------------------------------------- */

#define SG_SESSION_CODEC_VERSION 1
#define SG_SESSION_GROUPS_MAX 1024u    /* the most any provider hands out (jwt) */
#define SG_SESSION_GROUP_LEN_MAX 4096u /* bytes of one group name */

/* The stored form of a session (name, groups, created, last access). Returns a
 * malloc'd buffer and *len, or NULL and *why (static text) when p does not
 * fit: no name, or too many or too long groups. */
unsigned char *sg_session_encode(const struct sg_principal *p, uint64_t created_ms,
                                 uint64_t last_ms, size_t *len, const char **why);
/* Reads exactly len bytes: SG_OK with out's name and groups (the caller clears
 * out) and the times, or SG_ERR with *why and out untouched. Never reads past
 * len; anything but a well-formed version-1 value is refused. */
int sg_session_decode(const void *buf, size_t len, struct sg_principal *out, uint64_t *created_ms,
                      uint64_t *last_ms, const char **why);

/* Copies p's name and groups (nothing delegated) into dst, which is empty. */
void sg_session_principal_copy(struct sg_principal *dst, const struct sg_principal *p);

/* ---- the process's table (session_local.c) ---------------------------------- */

/* The default bound of the table. */
#define SG_SESSION_LOCAL_MAX 100000u

/* As sg_session_table_new, with another bound (tests). */
struct sg_session_table *sg_session_table_new_bounded(size_t max);
/* The clock the store reads (Unix epoch ms; sg_wall_ms unless a test sets
 * another), for both the table and the shared tier. */
void sg_session_table_set_clock(struct sg_session_table *t, uint64_t (*now_ms)(void));
uint64_t sg_session_now(const struct sg_session_table *t);
/* Sessions held, expired ones not yet purged included. */
size_t sg_session_table_count(struct sg_session_table *t);

/* Synchronous, under the table's lock; the outcomes of session.h. */
int sg_session_local_create(struct sg_session_table *t, const struct sg_session_limits *lim,
                            const char *key, const struct sg_principal *p, uint64_t now_ms);
int sg_session_local_check(struct sg_session_table *t, const struct sg_session_limits *lim,
                           const char *key, uint64_t now_ms, struct sg_principal *out,
                           struct sg_session_info *info);
int sg_session_local_delete(struct sg_session_table *t, const struct sg_session_limits *lim,
                            const char *key, uint64_t now_ms);

/* ---- the shared tier (session_redis.c) -------------------------------------- */

/* The operations, for the metrics. */
enum sg_session_op { SG_SESSION_OP_CREATE, SG_SESSION_OP_CHECK, SG_SESSION_OP_DELETE };

/* session.c: a call's outcome, counted, then handed to cb (from the loop). */
void sg_session_finish(struct sg_wstate *ws, enum sg_session_op op, int rc, sg_session_cb cb,
                       void *arg);

/* The stored value's last access is written again (one Redis command) only
 * once the stored one is at least this old, or a tenth of the idle time when
 * that is shorter: a client polling several times a second costs one write a
 * second, and a session may end that much before its full idle time. */
#define SG_SESSION_TOUCH_MS 1000u

/* Each returns SG_AGAIN (then sg_session_finish runs later, from the loop)
 * or SG_ERR at once. */
/* id: the caller's new id, wiped if the store fails. */
int sg_session_shared_create(struct sg_wstate *ws, const struct sg_session_limits *lim,
                             const char *key, const struct sg_principal *p, uint64_t now_ms,
                             char *id, sg_session_cb cb, void *arg);
int sg_session_shared_check(struct sg_wstate *ws, const struct sg_session_limits *lim,
                            const char *key, uint64_t now_ms, struct sg_principal *out,
                            struct sg_session_info *info, sg_session_cb cb, void *arg);
int sg_session_shared_delete(struct sg_wstate *ws, const char *key, sg_session_cb cb, void *arg);

#endif
