/* The `basic` auth provider. A request's way:
 *   header parse (sync DECLINED/DENIED) -> cache lookup by HMAC (sync OK)
 *   -> miss: crypt on the offload pool, AGAIN -> on the loop: cache the success,
 *      call back exactly once with OK(principal) or DENIED.
 * An unknown user runs crypt too, against a dummy hash, so response time does
 * not tell which names exist. Failures are not cached. Decoded passwords are
 * cleansed as soon as they are no longer needed; no credential, hash or
 * password reaches a log line or an error message. */
#include <crypt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "basic.h"
#include "snapgate/cred_cache.h"
#include "snapgate/offload.h"
#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "snapgate/log.h"

/* What the conf hook builds: shared read-only by every worker's instance. */
struct basic_conf {
    char *users_file;
    struct sg_basic_users *users;
};

/* One per worker; touched only on that worker's loop thread. */
struct basic_inst {
    const struct basic_conf *conf;
    struct sg_offload_port *port;
    struct sg_cred_cache *cache;
    uint64_t cache_ttl_ms; /* from the check's end: hits do not extend it */
    uint64_t generation;   /* bumped by forget: older checks must not refill the cache */
};

struct basic_job {
    struct basic_inst *inst;
    struct sg_principal *out;
    sg_auth_cb cb;
    void *cb_arg;
    uint64_t generation;
    bool cacheable; /* the HMAC could be computed */
    unsigned char mac[SG_CRED_KEY_LEN];
    char name[SG_PRINCIPAL_NAME_MAX];
    bool known; /* name is in the users file */
    char
        *setting; /* the user's stored hash, or the dummy; a copy, so reloads cannot pull it away */
    char *password; /* NUL-terminated copy, cleansed by the work */
    size_t password_len;
    bool crypt_failed;
    bool ok;
    struct crypt_data cd; /* crypt_rn's scratch: per job, so pool threads share nothing */
};

/* ---- conf ------------------------------------------------------------------ */

static void basic_conf_free(struct basic_conf *bc)
{
    if (!bc)
        return;
    free(bc->users_file);
    sg_basic_users_free(bc->users);
    free(bc);
}

static int on_conf(const struct sg_conf_node *node, const char *path, const struct sg_conf *conf,
                   struct sg_conf_errs *errs, void **priv)
{
    (void)conf;
    struct basic_conf *bc = sg_xcalloc(1, sizeof(*bc));
    char *uf_path = sg_xasprintf("%s.users_file", path);
    char err[512];
    int rc = SG_OK;
    *priv = NULL;

    if (node->type != SG_NODE_MAP) {
        sg_conf_errs_add(errs, node->line, path, "expected a map");
        rc = SG_ERR;
        goto fail;
    }
    for (size_t i = 0; i < node->n; i++) {
        if (strcmp(node->keys[i], "type") == 0 || strcmp(node->keys[i], "users_file") == 0)
            continue;
        char *kp = sg_xasprintf("%s.%s", path, node->keys[i]);
        sg_conf_errs_add(errs, node->key_lines[i], kp, "unknown key");
        free(kp);
        rc = SG_ERR;
    }
    const struct sg_conf_node *uf = sg_conf_node_get(node, "users_file");
    if (!uf) {
        sg_conf_errs_add(errs, node->line, uf_path, "required key is missing");
        rc = SG_ERR;
        goto fail;
    }
    if (sg_conf_read_string(uf, uf_path, errs, &bc->users_file) != SG_OK) {
        rc = SG_ERR;
        goto fail;
    }
    if (sg_basic_users_load(bc->users_file, &bc->users, err, sizeof(err)) != SG_OK) {
        sg_conf_errs_add(errs, uf->line, uf_path, "%s", err);
        rc = SG_ERR;
        goto fail;
    }
    /* Hashes are slow to crack, not impossible: keep them from other users. */
    sg_conf_check_secret_mode(errs, uf->line, uf_path, bc->users_file);
    if (rc != SG_OK)
        goto fail;
    free(uf_path);
    *priv = bc;
    return SG_OK;

fail:
    free(uf_path);
    basic_conf_free(bc);
    return rc;
}

static void on_free_conf(void *priv)
{
    basic_conf_free(priv);
}

/* ---- per worker ----------------------------------------------------------- */

/* The instance borrows priv: the core frees the conf only after worker_fini of
 * every instance built from it. */
static void *on_worker_init(void *priv, struct sg_worker *w)
{
    struct basic_inst *inst = sg_xcalloc(1, sizeof(*inst));
    inst->conf = priv;
    inst->port = sg_offload_port_new(sg_worker_base(w));
    inst->cache = sg_cred_cache_new(SG_BASIC_CACHE_MAX);
    inst->cache_ttl_ms = SG_BASIC_CACHE_TTL_MS;
    return inst;
}

/* Checks still queued are cancelled (their callers get DENIED), running ones
 * are waited for and answered, all before this returns. */
static void on_worker_fini(void *vinst)
{
    struct basic_inst *inst = vinst;
    if (!inst)
        return;
    sg_offload_port_free(inst->port);
    sg_cred_cache_free(inst->cache);
    free(inst);
}

void sg_basic_set_cache_ttl_ms(void *vinst, uint64_t ttl_ms)
{
    struct basic_inst *inst = vinst;
    inst->cache_ttl_ms = ttl_ms;
}

/* ---- the check ------------------------------------------------------------ */

static void job_free(struct basic_job *job)
{
    if (job->password) {
        OPENSSL_cleanse(job->password, job->password_len);
        free(job->password);
    }
    free(job->setting);
    OPENSSL_cleanse(&job->cd, sizeof(job->cd));
    free(job);
}

/* On a pool thread: touches only the job. */
static void on_crypt_work(void *arg)
{
    struct basic_job *job = arg;
    const char *h = crypt_rn(job->password, job->setting, &job->cd, (int)sizeof(job->cd));
    size_t sl = strlen(job->setting);
    bool match = h && strlen(h) == sl && CRYPTO_memcmp(h, job->setting, sl) == 0;
    job->crypt_failed = h == NULL;
    job->ok = job->known && match;
    OPENSSL_cleanse(job->password, job->password_len);
    OPENSSL_cleanse(&job->cd, sizeof(job->cd));
}

/* On the worker's loop thread. */
static void on_crypt_done(void *arg, bool cancelled)
{
    struct basic_job *job = arg;
    struct basic_inst *inst = job->inst;
    if (!cancelled && job->known && job->crypt_failed)
        sg_log_warn("auth.basic", "user %s: the stored hash is not usable by crypt(3)", job->name);
    if (!cancelled && job->ok) {
        snprintf(job->out->name, sizeof(job->out->name), "%s", job->name);
        if (job->cacheable && job->generation == inst->generation)
            sg_cred_cache_put(inst->cache, job->mac, job->out, sg_now_ms() + inst->cache_ttl_ms);
        job->cb(SG_OK, job->out, job->cb_arg);
    } else {
        job->cb(SG_DENIED, NULL, job->cb_arg);
    }
    job_free(job);
}

static int on_authenticate(void *vinst, const char *authorization, size_t len,
                           struct sg_principal *out, sg_auth_cb cb, void *arg)
{
    struct basic_inst *inst = vinst;
    unsigned char buf[SG_BASIC_DECODED_MAX];
    unsigned char mac[SG_CRED_KEY_LEN];
    size_t n = 0, colon = 0;
    int rc = sg_basic_header_parse(authorization, len, buf, &n, &colon);
    if (rc != SG_OK)
        goto fail;
    /* No user in the file has an empty or overlong name: nothing to time. */
    if (colon == 0 || colon >= SG_PRINCIPAL_NAME_MAX) {
        rc = SG_DENIED;
        goto fail;
    }

    bool cacheable = sg_cred_cache_key(inst->cache, authorization, len, mac) == SG_OK;
    if (cacheable && sg_cred_cache_get(inst->cache, mac, sg_now_ms(), out)) {
        rc = SG_OK;
        goto fail;
    }

    struct basic_job *job = sg_xcalloc(1, sizeof(*job));
    job->inst = inst;
    job->out = out;
    job->cb = cb;
    job->cb_arg = arg;
    job->generation = inst->generation;
    job->cacheable = cacheable;
    memcpy(job->mac, mac, sizeof(mac));
    memcpy(job->name, buf, colon);
    const char *stored = sg_basic_users_find(inst->conf->users, job->name);
    job->known = stored != NULL;
    job->setting = sg_xstrdup(stored ? stored : sg_basic_users_dummy(inst->conf->users));
    job->password_len = n - colon - 1;
    job->password = sg_xmalloc(job->password_len + 1);
    memcpy(job->password, buf + colon + 1, job->password_len);
    job->password[job->password_len] = '\0';
    if (sg_offload_submit(inst->port, on_crypt_work, on_crypt_done, job) != SG_OK) {
        /* Overload is not a wrong password: an error, not DENIED. */
        sg_log_warn("auth.basic", "offload pool full or stopped: cannot check a password now");
        job_free(job);
        rc = SG_ERR;
        goto fail;
    }
    rc = SG_AGAIN;

fail:
    OPENSSL_cleanse(buf, n); /* n is 0 unless the parse accepted (and so wrote) it */
    return rc;
}

static void on_forget(void *vinst)
{
    struct basic_inst *inst = vinst;
    sg_cred_cache_clear(inst->cache);
    inst->generation++;
}

static const struct sg_auth_ops basic_ops = {
    .scheme = "Basic",
    .authenticate = on_authenticate,
    .forget = on_forget,
};

const struct sg_module sg_module_auth_basic = {
    .name = "basic",
    .kind = SG_MOD_AUTH,
    .conf = on_conf,
    .free_conf = on_free_conf,
    .worker_init = on_worker_init,
    .worker_fini = on_worker_fini,
    .ops = &basic_ops,
};
