/* auth/vcenter: the backend decides who the caller is.
 *
 *   Authorization: Basic ... / SIGN token=...   POST /api/session with the caller's own
 *                                               header, then GET /api/session for the user
 *   vmware-api-session-id: <id>                 GET /api/session with that id
 *
 * The principal carries the caller's own session, so the task fetch for this
 * caller runs with it (not the service account's) and the backend's 403 is the
 * caller's 403. Outcomes are remembered per worker under an HMAC-SHA256 of the
 * credential with a per-process random key (never the credential itself):
 * accepted ones for minutes, refused ones for seconds; one exchange is in
 * flight per credential however many requests present it. A backend that
 * cannot be reached fails closed (SG_ERR: the core answers 503), and is not
 * remembered.
 *
 * Accepted and refused outcomes are kept apart, each bounded on its own: the
 * accepted ones (least recently used goes first, max_sessions) can only be
 * displaced by credentials the backend accepted, so a flood of garbage
 * credentials churns the small refused list and nothing else. A session this
 * provider opened is ended upstream (session_end.c) when it is evicted,
 * replaced or forgotten; a session the caller presented is the caller's and
 * is never ended here.
 */
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include "snapgate/auth.h"
#include "snapgate/common.h"
#include "snapgate/log.h"
#include "snapgate/module.h"
#include "session_end.h"
#include "vc_own_session.h"
#include "snapgate/strmap.h"
#include "snapgate/call.h"

#define MOD "auth.vcenter"
#define ACCEPTED_TTL_MS (5u * 60u * 1000u)
#define REFUSED_TTL_MS (10u * 1000u)
#define MAX_SESSIONS_DEFAULT 4096u
#define MAX_SESSIONS_LIMIT 1000000u
/* Refused credentials are cheap to ask again: a small list is enough. */
#define MAX_REFUSED 1024u
/* Past the backend's request timeout a task fetch that began with a session
 * has ended; this much more covers the callback's own turn. */
#define END_GRACE_EXTRA_MS 1000u
#define MAX_CREDENTIAL 16384

struct vc_conf {
    char *backend;
    uint64_t max_sessions;
    uint64_t request_timeout_ms; /* the backend's: how long a fetch may use a session */
};

struct waiter {
    struct waiter *next;
    struct sg_principal *out;
    sg_auth_cb cb;
    void *arg;
};

enum vc_state { VC_PENDING, VC_ACCEPTED, VC_REFUSED };

/* What the backend said about one credential (or one exchange under way). */
struct vc_entry {
    char key[65]; /* hex HMAC of the credential */
    enum vc_state state;
    /* session was opened by this provider (an exchange), so it is ended when
     * forgotten; false: the caller presented it, and it stays the caller's. */
    bool owned;
    uint64_t until_ms;
    char name[SG_PRINCIPAL_NAME_MAX];
    char *session; /* the caller's session; a secret */
    /* in inst->accepted (least recently used first) or inst->refused (oldest
     * first) once settled; in neither while pending */
    TAILQ_ENTRY(vc_entry) link;
    /* while pending */
    struct sg_call *call;
    struct waiter *waiters;
    struct vc_inst *inst;
};
TAILQ_HEAD(vc_entry_list, vc_entry);

struct vc_inst {
    struct sg_backend_worker *bw;
    const char *backend;
    size_t max_sessions;
    struct sg_strmap entries; /* every entry, by key */
    struct vc_entry_list accepted, refused;
    size_t naccepted, nrefused;
    struct vc_ender *ender;
};

static unsigned char hmac_key[32];
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void init_hmac_key(void)
{
    if (RAND_bytes(hmac_key, sizeof(hmac_key)) != 1)
        abort();
}

/* hex(HMAC-SHA256(key, kind || credential)) */
static void credential_key(char kind, const char *cred, size_t len, char out[65])
{
    pthread_once(&hmac_once, init_hmac_key);
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t mdlen = 0;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    if (!ctx || !EVP_MAC_init(ctx, hmac_key, sizeof(hmac_key), params) ||
        !EVP_MAC_update(ctx, (const unsigned char *)&kind, 1) ||
        !EVP_MAC_update(ctx, (const unsigned char *)cred, len) ||
        !EVP_MAC_final(ctx, md, &mdlen, sizeof(md)))
        abort(); /* HMAC-SHA256 is always there in OpenSSL 3 */
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

/* Frees an entry that is in no list and not in the map; a session this
 * provider opened is ended (now: it was never handed to a request). */
static void entry_free(struct vc_entry *e, bool now)
{
    if (e->call)
        sg_call_cancel(e->call);
    if (e->owned && e->session)
        vc_ender_end(e->inst->ender, e->session, now);
    else
        sg_wipe_free(e->session);
    free(e);
}

/* Takes a settled entry out of its list and the map, and frees it; its
 * session may still be in use by a request, so it ends after the grace. */
static void entry_drop(struct vc_entry *e)
{
    struct vc_inst *inst = e->inst;
    if (e->state == VC_ACCEPTED) {
        TAILQ_REMOVE(&inst->accepted, e, link);
        inst->naccepted--;
    } else if (e->state == VC_REFUSED) {
        TAILQ_REMOVE(&inst->refused, e, link);
        inst->nrefused--;
    }
    sg_strmap_del(&inst->entries, e->key);
    entry_free(e, false);
}

/* Files a settled entry, displacing the oldest of its own kind when full:
 * a refusal never displaces an accepted credential. */
static void entry_file(struct vc_entry *e, enum vc_state state)
{
    struct vc_inst *inst = e->inst;
    e->state = state;
    if (state == VC_ACCEPTED) {
        if (inst->naccepted >= inst->max_sessions) {
            sg_log_debug(MOD, "remembered sessions reached %zu: ending the least recently used",
                         inst->max_sessions);
            entry_drop(TAILQ_FIRST(&inst->accepted));
        }
        TAILQ_INSERT_TAIL(&inst->accepted, e, link);
        inst->naccepted++;
    } else {
        if (inst->nrefused >= MAX_REFUSED)
            entry_drop(TAILQ_FIRST(&inst->refused));
        TAILQ_INSERT_TAIL(&inst->refused, e, link);
        inst->nrefused++;
    }
}

static void fill(const struct vc_entry *e, struct sg_principal *out)
{
    snprintf(out->name, sizeof(out->name), "%s", e->name);
    out->upstream_session = sg_xstrdup(e->session);
    out->upstream_backend = sg_xstrdup(e->inst->backend);
}

/* Ends an exchange: remembers its outcome (unless the backend could not be
 * asked) and answers every request that waited for it. */
static void settle(struct vc_entry *e, int rc)
{
    struct vc_inst *inst = e->inst;
    e->call = NULL;
    struct waiter *w = e->waiters;
    e->waiters = NULL;
    if (rc != SG_OK && e->session) {
        /* A refusal remembers no secret; a session opened for an exchange whose
         * user could not be read is ended (no request ever saw it). */
        if (e->owned)
            vc_ender_end(inst->ender, e->session, true);
        else
            sg_wipe_free(e->session);
        e->session = NULL;
    }
    if (rc == SG_ERR) {
        sg_strmap_del(&inst->entries, e->key);
    } else {
        e->until_ms = sg_now_ms() + (rc == SG_OK ? ACCEPTED_TTL_MS : REFUSED_TTL_MS);
        entry_file(e, rc == SG_OK ? VC_ACCEPTED : VC_REFUSED);
    }
    while (w) {
        struct waiter *next = w->next;
        if (rc == SG_OK)
            fill(e, w->out);
        w->cb(rc, w->out, w->arg);
        free(w);
        w = next;
    }
    if (rc == SG_ERR)
        entry_free(e, true);
}

/* The answer to GET /api/session: {"user": "...", ...}. */
static void on_session_info(const struct sg_call_result *res, void *arg)
{
    struct vc_entry *e = arg;
    e->call = NULL;
    if (res->status == 401 || res->status == 403) {
        settle(e, SG_DENIED);
        return;
    }
    if (res->status != 200) {
        sg_log_warn(MOD, "backend %s: session check failed: %s (HTTP %d)", e->inst->backend,
                    res->status ? "unexpected answer" : res->reason, res->status);
        settle(e, SG_ERR);
        return;
    }
    struct json_object *o = json_tokener_parse(res->body);
    struct json_object *user = NULL;
    const char *name = NULL;
    if (o && json_object_object_get_ex(o, "user", &user) &&
        json_object_is_type(user, json_type_string))
        name = json_object_get_string(user);
    if (!name || !*name || strlen(name) >= SG_PRINCIPAL_NAME_MAX) {
        sg_log_warn(MOD, "backend %s: session check answer names no user", e->inst->backend);
        json_object_put(o);
        settle(e, SG_ERR);
        return;
    }
    snprintf(e->name, sizeof(e->name), "%s", name);
    json_object_put(o);
    settle(e, SG_OK);
}

static void check_session(struct vc_entry *e)
{
    struct sg_http_req req = {.method = "GET", .path = sg_xstrdup("/api/session")};
    sg_http_req_add_header(&req, VC_SESSION_HEADER, e->session);
    sg_http_req_add_header(&req, "Accept", "application/json");
    e->call = sg_call_start(e->inst->bw, &req, on_session_info, e);
}

/* The answer to POST /api/session: 201 and the session id as a JSON string. */
static void on_login(const struct sg_call_result *res, void *arg)
{
    struct vc_entry *e = arg;
    e->call = NULL;
    if (res->status == 401 || res->status == 403) {
        settle(e, SG_DENIED);
        return;
    }
    struct json_object *o =
        res->status == 200 || res->status == 201 ? json_tokener_parse(res->body) : NULL;
    if (!o || !json_object_is_type(o, json_type_string) || json_object_get_string_len(o) == 0) {
        sg_log_warn(MOD, "backend %s: credential exchange failed: %s (HTTP %d)", e->inst->backend,
                    res->status ? "unexpected answer" : res->reason, res->status);
        json_object_put(o);
        settle(e, SG_ERR);
        return;
    }
    e->session = sg_xstrdup(json_object_get_string(o));
    e->owned = true;
    json_object_put(o);
    check_session(e);
}

static void start_exchange(struct vc_entry *e, const char *authorization)
{
    struct sg_http_req req = {.method = "POST", .path = sg_xstrdup("/api/session")};
    sg_http_req_add_header(&req, "Authorization", authorization);
    sg_http_req_add_header(&req, "Accept", "application/json");
    e->call = sg_call_start(e->inst->bw, &req, on_login, e);
}

/* Answers from what is remembered, joins an exchange under way, or starts one. */
static int lookup(struct vc_inst *inst, char kind, const char *cred, size_t len,
                  struct sg_principal *out, sg_auth_cb cb, void *arg)
{
    if (!inst->bw)
        return SG_ERR;
    char key[65];
    credential_key(kind, cred, len, key);
    struct vc_entry *e = sg_strmap_get(&inst->entries, key);
    if (e && e->state != VC_PENDING && sg_now_ms() >= e->until_ms) {
        entry_drop(e); /* an accepted one is replaced by the exchange below */
        e = NULL;
    }
    if (e && e->state == VC_REFUSED)
        return SG_DENIED;
    if (e && e->state == VC_ACCEPTED) {
        TAILQ_REMOVE(&inst->accepted, e, link); /* now the most recently used */
        TAILQ_INSERT_TAIL(&inst->accepted, e, link);
        fill(e, out);
        return SG_OK;
    }
    struct waiter *w = sg_xcalloc(1, sizeof(*w));
    w->out = out;
    w->cb = cb;
    w->arg = arg;
    if (e) {
        w->next = e->waiters;
        e->waiters = w;
        return SG_AGAIN;
    }
    /* Pending exchanges are not bounded here: each one is a request waiting
     * for it, bounded by the connections the core accepts. */
    e = sg_xcalloc(1, sizeof(*e));
    e->inst = inst;
    e->state = VC_PENDING;
    e->waiters = w;
    memcpy(e->key, key, sizeof(key));
    sg_strmap_put(&inst->entries, key, e);
    if (kind == 'S') {
        e->session = sg_xstrndup(cred, len);
        check_session(e);
    } else {
        start_exchange(e, cred);
    }
    return SG_AGAIN;
}

static bool has_scheme(const char *h, size_t len, const char *scheme)
{
    size_t n = strlen(scheme);
    return len > n && strncasecmp(h, scheme, n) == 0 && h[n] == ' ';
}

static int vc_authenticate(void *p, const char *authorization, size_t len, struct sg_principal *out,
                           sg_auth_cb cb, void *arg)
{
    if (!authorization || len == 0 || len > MAX_CREDENTIAL)
        return SG_DECLINED;
    /* The schemes vCenter's /api/session takes. */
    if (!has_scheme(authorization, len, "Basic") && !has_scheme(authorization, len, "SIGN"))
        return SG_DECLINED;
    return lookup(p, 'A', authorization, len, out, cb, arg);
}

static int vc_authenticate_session(void *p, const char *session_id, struct sg_principal *out,
                                   sg_auth_cb cb, void *arg)
{
    size_t len = session_id ? strlen(session_id) : 0;
    if (len == 0 || len > 4096)
        return SG_DECLINED;
    for (size_t i = 0; i < len; i++)
        if (session_id[i] <= 0x20 || session_id[i] >= 0x7f)
            return SG_DENIED;
    return lookup(p, 'S', session_id, len, out, cb, arg);
}

/* The backend refused a session it gave out: whatever vouched for it is void.
 * The session is already dead upstream, so it is not ended again. */
static void vc_reject(void *p, const struct sg_principal *principal)
{
    struct vc_inst *inst = p;
    if (!principal->upstream_session)
        return;
    struct vc_entry *e, *next;
    for (e = TAILQ_FIRST(&inst->accepted); e; e = next) {
        next = TAILQ_NEXT(e, link);
        if (!e->session || strcmp(e->session, principal->upstream_session) != 0)
            continue;
        sg_wipe_free(e->session);
        e->session = NULL;
        entry_drop(e);
    }
}

/* Drops everything settled; the sessions this provider opened are ended. */
static void vc_forget(void *p)
{
    struct vc_inst *inst = p;
    while (!TAILQ_EMPTY(&inst->accepted))
        entry_drop(TAILQ_FIRST(&inst->accepted));
    while (!TAILQ_EMPTY(&inst->refused))
        entry_drop(TAILQ_FIRST(&inst->refused));
}

static int vc_conf(const struct sg_conf_node *node, const char *path, const struct sg_conf *conf,
                   struct sg_conf_errs *errs, void **priv)
{
    char *key_path = sg_xasprintf("%s.backend", path);
    const struct sg_conf_node *b = sg_conf_node_get(node, "backend");
    char *name = NULL;
    int rc = SG_ERR;
    if (!b) {
        sg_conf_errs_add(errs, node->line, key_path, "required key is missing");
        goto fail;
    }
    if (sg_conf_read_string(b, key_path, errs, &name) != SG_OK)
        goto fail;
    for (size_t i = 0; i < conf->backends_n; i++) {
        const struct sg_conf_backend *be = &conf->backends[i];
        /* A backend without a name is already an error of its own; it is
         * still in the list. */
        if (!be->name || strcmp(be->name, name) != 0)
            continue;
        /* The session API delegation speaks is the Automation API's. */
        if (!be->dialect || strcmp(be->dialect->name, "cis") != 0) {
            sg_conf_errs_add(errs, b->line, key_path,
                             "backend \"%s\" must speak the cis dialect to check callers' "
                             "credentials (/api/session)",
                             name);
            goto fail;
        }
        uint64_t max_sessions = MAX_SESSIONS_DEFAULT;
        const struct sg_conf_node *m = sg_conf_node_get(node, "max_sessions");
        char *max_path = sg_xasprintf("%s.max_sessions", path);
        int mrc =
            m ? sg_conf_read_uint(m, max_path, errs, 1, MAX_SESSIONS_LIMIT, &max_sessions) : SG_OK;
        free(max_path);
        if (mrc != SG_OK)
            goto fail;
        struct vc_conf *vc = sg_xcalloc(1, sizeof(*vc));
        vc->backend = name;
        vc->max_sessions = max_sessions;
        vc->request_timeout_ms = be->request_timeout_ms;
        *priv = vc;
        name = NULL;
        rc = SG_OK;
        break;
    }
    /* An unknown backend name is reported by the core. */
fail:
    free(name);
    free(key_path);
    return rc;
}

static void vc_free_conf(void *priv)
{
    struct vc_conf *vc = priv;
    if (vc)
        free(vc->backend);
    free(vc);
}

static void *vc_worker_init(void *priv, struct sg_worker *w)
{
    const struct vc_conf *vc = priv;
    struct vc_inst *inst = sg_xcalloc(1, sizeof(*inst));
    inst->backend = vc->backend;
    inst->bw = sg_worker_backend(w, vc->backend);
    inst->max_sessions = (size_t)vc->max_sessions;
    sg_strmap_init(&inst->entries);
    TAILQ_INIT(&inst->accepted);
    TAILQ_INIT(&inst->refused);
    inst->ender =
        vc_ender_new(sg_worker_base(w), inst->bw, vc->request_timeout_ms + END_GRACE_EXTRA_MS);
    return inst;
}

static void fail_pending(const char *key, void *value, void *arg)
{
    (void)key;
    struct vc_entry *e = value;
    struct vc_entry ***list = arg;
    if (e->state == VC_PENDING)
        *(*list)++ = e;
}

static void vc_worker_fini(void *p)
{
    struct vc_inst *inst = p;
    /* Every waiter is answered once: a check cut short fails closed. */
    struct vc_entry **pending = sg_xcalloc(inst->entries.count + 1, sizeof(*pending));
    struct vc_entry **end = pending;
    sg_strmap_each(&inst->entries, fail_pending, &end);
    for (struct vc_entry **e = pending; e < end; e++) {
        if ((*e)->call)
            sg_call_cancel((*e)->call);
        (*e)->call = NULL;
        settle(*e, SG_ERR);
    }
    free(pending);
    vc_forget(inst);
    /* Nothing holds this instance's sessions any more: no grace is due. */
    vc_ender_free(inst->ender);
    sg_strmap_destroy(&inst->entries);
    free(inst);
}

static int vc_open_session(void *p, const char *authorization, sg_auth_session_cb cb, void *arg)
{
    struct vc_inst *inst = p;
    return vc_own_session_open(inst->bw, inst->backend, authorization, cb, arg);
}

static int vc_close_session(void *p, const char *session, sg_auth_session_cb cb, void *arg)
{
    struct vc_inst *inst = p;
    /* What vouched for the session goes first: a request presenting it after
     * its end must ask the backend again, not find it remembered. */
    struct sg_principal gone = {.upstream_session = (char *)session};
    vc_reject(inst, &gone);
    return vc_own_session_close(inst->bw, inst->backend, session, cb, arg);
}

static const struct sg_auth_ops vc_ops = {
    .scheme = "Basic",
    .authenticate = vc_authenticate,
    .forget = vc_forget,
    .authenticate_session = vc_authenticate_session,
    .reject = vc_reject,
    .open_session = vc_open_session,
    .close_session = vc_close_session,
};

const struct sg_module sg_module_auth_vcenter = {
    .name = "vcenter",
    .kind = SG_MOD_AUTH,
    .conf = vc_conf,
    .free_conf = vc_free_conf,
    .worker_init = vc_worker_init,
    .worker_fini = vc_worker_fini,
    .ops = &vc_ops,
};
