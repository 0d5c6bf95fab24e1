/* The session store's calls (auth/session.h): ids, their keys, the expiry
 * rules, and which store answers: the shared tier when Redis is configured
 * (session_redis.c), else the process's table (session_local.c). Every
 * outcome is counted here (obs/metrics.h). No id is ever logged. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

#include "auth/session_int.h"
#include "obs/metrics.h"
#include "snapgate/common.h"
#include "snapgate/log.h"
#include "worker/wstate.h"

/* The HMAC key of the store's keys: fixed and public, on purpose.
 *
 * The store must not hand an id to whoever reads it (a Redis dump, a core
 * file), so it keeps only a one-way hash of each id. A secret HMAC key would
 * add nothing: a secret protects inputs that can be guessed (a password, a
 * short token), against someone who tries candidates offline. An id is 256
 * bits from RAND_bytes; finding one from its hash means searching 2^256
 * candidates whether or not the key is known. A fixed key is also the same on
 * every replica that shares Redis, with no new config and no secret to hand
 * out or rotate.
 *
 * What the key does is separate domains: these hashes are not SHA-256 of the
 * id, or an HMAC under any key used elsewhere. A change of how keys are made
 * takes a new key string and a new SG_SESSION_KV_PREFIX. Lookups by the hash
 * (Redis, the table) are not constant time, and need not be: timing can at
 * most tell about hashes, which do not lead back to ids. */
static const char key_domain[] = "snapgate session store key v1";

static const char hex[] = "0123456789abcdef";

static void to_hex(const unsigned char *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * n] = '\0';
}

bool sg_session_id_valid(const char *id, size_t len)
{
    if (!id || len != SG_SESSION_ID_LEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return false;
    return true;
}

void sg_session_key(const char *id, size_t len, char key[SG_SESSION_KEY_LEN + 1])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (!HMAC(EVP_sha256(), key_domain, sizeof(key_domain) - 1, (const unsigned char *)id, len, mac,
              &mac_len) ||
        mac_len != SG_SESSION_KEY_LEN / 2) {
        /* SHA-256 is always there: a library this broken cannot keep secrets. */
        sg_log_error(LOG_MOD_SESSION, "OpenSSL cannot compute HMAC-SHA-256");
        abort();
    }
    to_hex(mac, mac_len, key);
}

bool sg_session_expired(const struct sg_session_limits *lim, uint64_t created_ms, uint64_t last_ms,
                        uint64_t now_ms)
{
    uint64_t idle = now_ms > last_ms ? now_ms - last_ms : 0;
    uint64_t age = now_ms > created_ms ? now_ms - created_ms : 0;
    return idle >= lim->idle_ms || age >= lim->max_ms;
}

uint64_t sg_session_ttl_ms(const struct sg_session_limits *lim, uint64_t created_ms,
                           uint64_t now_ms)
{
    uint64_t age = now_ms > created_ms ? now_ms - created_ms : 0;
    if (age >= lim->max_ms)
        return 0;
    uint64_t left = lim->max_ms - age;
    return left < lim->idle_ms ? left : lim->idle_ms;
}

/* ---- outcomes ------------------------------------------------------------------ */

/* Counts a final outcome (SG_AGAIN is counted when it completes); returns rc. */
static int count(struct sg_wstate *ws, enum sg_session_op op, int rc)
{
    if (rc == SG_AGAIN)
        return rc;
    switch (op) {
    case SG_SESSION_OP_CREATE:
        if (rc == SG_OK)
            sg_metrics_session_created(ws);
        break;
    case SG_SESSION_OP_CHECK:
        sg_metrics_session_check(ws, rc);
        break;
    case SG_SESSION_OP_DELETE:
        if (rc == SG_OK)
            sg_metrics_session_deleted(ws);
        break;
    }
    return rc;
}

void sg_session_finish(struct sg_wstate *ws, enum sg_session_op op, int rc, sg_session_cb cb,
                       void *arg)
{
    count(ws, op, rc);
    cb(rc, arg);
}

static struct sg_session_limits limits(const struct sg_wstate *ws)
{
    struct sg_session_limits lim = {ws->conf->session_idle_ms, ws->conf->session_max_lifetime_ms};
    return lim;
}

/* ---- the calls -------------------------------------------------------------------- */

int sg_session_create(struct sg_wstate *ws, const struct sg_principal *p,
                      char id[SG_SESSION_ID_LEN + 1], sg_session_cb cb, void *arg)
{
    id[0] = '\0';
    if (p->upstream_session) {
        /* A delegated caller's session is its backend's (session.h). */
        sg_log_error(LOG_MOD_SESSION, "a delegated principal's session is not stored here");
        return count(ws, SG_SESSION_OP_CREATE, SG_ERR);
    }
    if (ws->stopping)
        return count(ws, SG_SESSION_OP_CREATE, SG_ERR);
    unsigned char raw[SG_SESSION_ID_LEN / 2];
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        sg_log_error(LOG_MOD_SESSION, "no random bytes for a session id: refused");
        return count(ws, SG_SESSION_OP_CREATE, SG_ERR);
    }
    to_hex(raw, sizeof(raw), id);
    OPENSSL_cleanse(raw, sizeof(raw));
    char key[SG_SESSION_KEY_LEN + 1];
    sg_session_key(id, SG_SESSION_ID_LEN, key);
    struct sg_session_limits lim = limits(ws);
    uint64_t now = sg_session_now(ws->sessions);
    int rc = SG_ERR;
    if (ws->shared)
        rc = sg_session_shared_create(ws, &lim, key, p, now, id, cb, arg);
    else if (ws->sessions)
        rc = sg_session_local_create(ws->sessions, &lim, key, p, now);
    if (rc == SG_ERR)
        OPENSSL_cleanse(id, SG_SESSION_ID_LEN + 1); /* never to be handed out */
    return count(ws, SG_SESSION_OP_CREATE, rc);
}

int sg_session_check(struct sg_wstate *ws, const char *id, size_t len, struct sg_principal *out,
                     struct sg_session_info *info, sg_session_cb cb, void *arg)
{
    if (!sg_session_id_valid(id, len))
        return count(ws, SG_SESSION_OP_CHECK, SG_DENIED);
    if (ws->stopping)
        return count(ws, SG_SESSION_OP_CHECK, SG_ERR);
    char key[SG_SESSION_KEY_LEN + 1];
    sg_session_key(id, len, key);
    struct sg_session_limits lim = limits(ws);
    uint64_t now = sg_session_now(ws->sessions);
    int rc = SG_ERR;
    if (ws->shared)
        rc = sg_session_shared_check(ws, &lim, key, now, out, info, cb, arg);
    else if (ws->sessions)
        rc = sg_session_local_check(ws->sessions, &lim, key, now, out, info);
    return count(ws, SG_SESSION_OP_CHECK, rc);
}

int sg_session_delete(struct sg_wstate *ws, const char *id, size_t len, sg_session_cb cb, void *arg)
{
    if (!sg_session_id_valid(id, len))
        return count(ws, SG_SESSION_OP_DELETE, SG_DENIED);
    if (ws->stopping)
        return count(ws, SG_SESSION_OP_DELETE, SG_ERR);
    char key[SG_SESSION_KEY_LEN + 1];
    sg_session_key(id, len, key);
    int rc = SG_ERR;
    if (ws->shared) {
        rc = sg_session_shared_delete(ws, key, cb, arg);
    } else if (ws->sessions) {
        struct sg_session_limits lim = limits(ws);
        rc = sg_session_local_delete(ws->sessions, &lim, key, sg_session_now(ws->sessions));
    }
    return count(ws, SG_SESSION_OP_DELETE, rc);
}
