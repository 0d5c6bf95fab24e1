/* The backend-worker: the upstream client of one backend on one worker's event
 * base, holding what its fetches, calls and exchanges share (the pool, the TLS
 * context, the DNS resolver, the Host header, the session, the retry budget).
 * Creating it connects nothing; destroying it cancels all in flight. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "snapgate/log.h"
#include "snapgate/module.h"
#include "upstream/upstream_int.h"

#define MOD "upstream"

static bool host_is_ip(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

struct sg_backend_worker *sg_backend_worker_create(struct event_base *base,
                                                   const struct sg_conf_backend *b,
                                                   unsigned worker_id)
{
    struct sg_backend_worker *bw = sg_xcalloc(1, sizeof(*bw));
    bool tls = b->scheme && strcmp(b->scheme, "https") == 0;
    bw->base = base;
    bw->b = b;
    bw->ops = b->dialect->ops;
    bw->dpriv = b->dialect_priv;
    bw->worker_id = worker_id;
    bw->host_is_ip = host_is_ip(b->host);
    TAILQ_INIT(&bw->fetches);
    TAILQ_INIT(&bw->calls);
    sg_pool_init(bw);
    sg_session_init(bw);
    sg_retry_budget_init(&bw->retry_budget, (unsigned)b->retry_budget_percent);

    bool v6 = strchr(b->host, ':') != NULL;
    bool default_port = b->port == (tls ? 443 : 80);
    if (default_port)
        bw->host_header = sg_xasprintf(v6 ? "[%s]" : "%s", b->host);
    else
        bw->host_header = sg_xasprintf(v6 ? "[%s]:%u" : "%s:%u", b->host, (unsigned)b->port);

    if (tls) {
        /* Built and checked with the config (sg_conf_tls_prepare), so a
         * bad CA file is a config error, never a client missing here. */
        if (!b->tls_ctx) {
            sg_log_error(MOD, "backend %s: TLS context not prepared with the config", b->name);
            abort();
        }
        SSL_CTX_up_ref(b->tls_ctx);
        bw->ssl_ctx = b->tls_ctx;
    }
    /* Names are resolved without blocking the loop; addresses need no DNS.
     * evdns_base_new fails only when memory (or the RNG seed) does: like
     * sg_xmalloc, that is not a state to serve on. */
    if (!bw->host_is_ip) {
        bw->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
                                           EVDNS_BASE_DISABLE_WHEN_INACTIVE);
        if (!bw->dns) {
            sg_log_error(MOD, "backend %s: cannot set up the DNS resolver", b->name);
            abort();
        }
    }
    return bw;
}

void sg_backend_worker_destroy(struct sg_backend_worker *bw)
{
    if (!bw)
        return;
    /* Freeing bw under a running callback would pull the floor from under it. */
    if (bw->cb_depth > 0)
        abort();
    struct sg_fetch *f;
    while ((f = TAILQ_FIRST(&bw->fetches)) != NULL)
        sg_fetch_cancel(f);
    sg_call_cancel_all(bw);
    sg_session_fini(bw);
    sg_pool_fini(bw);
    if (bw->dns)
        evdns_base_free(bw->dns, 0);
    SSL_CTX_free(bw->ssl_ctx);
    free(bw->host_header);
    free(bw);
}
