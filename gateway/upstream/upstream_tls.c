/* TLS for upstream connections: one SSL per connection with SNI and the peer
 * name check, on the backend's SSL_CTX (built with the config, conf/conf_tls.c,
 * and shared by every worker's client of that backend), and telling a TLS
 * failure apart from a plain connection failure for the logs and reasons. */
#include <stdio.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "upstream/upstream_int.h"

SSL *sg_upstream_tls_ssl_new(const struct sg_backend_worker *bw)
{
    const struct sg_conf_backend *b = bw->b;
    SSL *ssl = SSL_new(bw->ssl_ctx);
    if (!ssl)
        abort(); /* only allocation fails here */
    /* tls.server_name: a backend reached by address (or through a tunnel)
     * whose certificate names it otherwise; it is then also the name verified. */
    const char *name = b->tls_server_name;
    /* RFC 6066: SNI carries host names only, never address literals. */
    if (name)
        SSL_set_tlsext_host_name(ssl, name);
    else if (!bw->host_is_ip)
        SSL_set_tlsext_host_name(ssl, b->host);
    if (b->tls_verify) {
        X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
        if (name) {
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            X509_VERIFY_PARAM_set1_host(param, name, 0);
        } else if (bw->host_is_ip) {
            X509_VERIFY_PARAM_set1_ip_asc(param, b->host);
        } else {
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            X509_VERIFY_PARAM_set1_host(param, b->host, 0);
        }
    }
    return ssl;
}

bool sg_upstream_tls_established(const struct sg_conn *c)
{
    return c->ssl && SSL_is_init_finished(c->ssl);
}

bool sg_upstream_tls_failure(struct sg_conn *c, char *buf, size_t cap)
{
    if (!c->ssl || SSL_is_init_finished(c->ssl))
        return false;
    /* Without verification OpenSSL still records a verify result; it is not
     * why the handshake failed then. */
    long vr = c->bw->b->tls_verify ? SSL_get_verify_result(c->ssl) : X509_V_OK;
    if (vr != X509_V_OK) {
        snprintf(buf, cap, "TLS verification failed: %s", X509_verify_cert_error_string(vr));
        return true;
    }
    struct bufferevent *bev = evhttp_connection_get_bufferevent(c->evcon);
    unsigned long e = bufferevent_get_openssl_error(bev);
    if (e) {
        char es[120];
        ERR_error_string_n(e, es, sizeof(es));
        snprintf(buf, cap, "TLS handshake failed: %s", es);
        while (bufferevent_get_openssl_error(bev))
            ;
        return true;
    }
    /* The handshake began (TCP was up) but never finished: the peer hung up
     * mid-handshake, typically because it rejected our hello. */
    if (!SSL_in_before(c->ssl)) {
        snprintf(buf, cap, "TLS handshake failed: connection closed by the backend");
        return true;
    }
    return false;
}
