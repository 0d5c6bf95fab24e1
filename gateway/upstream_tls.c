/* TLS for upstream connections: one client SSL_CTX per backend, built (and
 * its CA file checked) when the config is loaded and shared by every worker's
 * client of that backend, one SSL per connection with SNI and the peer name check, and telling a
 * TLS failure apart from a plain connection failure for the logs and reasons. */
#include <stdio.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "upstream_int.h"

static void describe_openssl_error(const char *what, char *err, size_t cap)
{
    char buf[160];
    unsigned long e = ERR_peek_last_error();
    if (e) {
        ERR_error_string_n(e, buf, sizeof(buf));
        snprintf(err, cap, "%s: %s", what, buf);
    } else {
        snprintf(err, cap, "%s", what);
    }
    ERR_clear_error();
}

/* Counts the certificates (not CRLs) in ctx's trust store. */
static int store_certs(SSL_CTX *ctx)
{
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
    int n = 0;
    for (int i = 0; i < sk_X509_OBJECT_num(objs); i++)
        if (X509_OBJECT_get_type(sk_X509_OBJECT_value(objs, i)) == X509_LU_X509)
            n++;
    return n;
}

/* Loads file into ctx's trust store. OpenSSL's own "no certificate or crl
 * found" does not tell the operator that an empty file, a DER file or a key
 * was given where a PEM bundle was wanted, so the reason is spelled out; a
 * file of CRLs alone loads but could never verify a backend. */
static int load_ca_file(SSL_CTX *ctx, const char *file, char *err, size_t cap)
{
    ERR_clear_error();
    if (SSL_CTX_load_verify_locations(ctx, file, NULL) != 1) {
        unsigned long e = ERR_peek_error();
        const char *why = ERR_reason_error_string(e);
        if (ERR_GET_LIB(e) == ERR_LIB_X509 &&
            ERR_GET_REASON(e) == X509_R_NO_CERTIFICATE_OR_CRL_FOUND)
            snprintf(err, cap, "%s holds no PEM certificate", file);
        else if (ERR_GET_LIB(e) == ERR_LIB_PEM)
            snprintf(err, cap, "%s holds a malformed PEM block: %s", file, why ? why : "?");
        else
            snprintf(err, cap, "cannot load %s: %s", file, why ? why : "unknown OpenSSL error");
        ERR_clear_error();
        return SG_ERR;
    }
    if (store_certs(ctx) == 0) {
        snprintf(err, cap, "%s holds no PEM certificate", file);
        return SG_ERR;
    }
    return SG_OK;
}

SSL_CTX *sg_upstream_tls_ctx_new(const struct sg_conf_backend *b, char *err, size_t cap)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        describe_openssl_error("cannot create a TLS context", err, cap);
        goto fail;
    }
    /* vCenter and the appliances speak TLS 1.2+; older versions are a downgrade. */
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, b->tls_verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    /* A named CA file is loaded even with verify off: a file that names
     * nothing usable is a mistake to report, not to carry until verify is on. */
    if (b->tls_ca_file) {
        if (load_ca_file(ctx, b->tls_ca_file, err, cap) != SG_OK)
            goto fail;
    } else if (b->tls_verify && SSL_CTX_set_default_verify_paths(ctx) != 1) {
        describe_openssl_error("cannot load the system CA store", err, cap);
        goto fail;
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

int sg_upstream_tls_prepare(struct sg_conf_backend *b, char *err, size_t cap)
{
    bool tls = b->scheme && strcmp(b->scheme, "https") == 0;
    if (!tls && !b->tls_ca_file)
        return SG_OK;
    SSL_CTX *ctx = sg_upstream_tls_ctx_new(b, err, cap);
    if (!ctx)
        return SG_ERR;
    /* Plain http: the file was checked, there is nothing to keep it for. */
    if (!tls) {
        SSL_CTX_free(ctx);
        return SG_OK;
    }
    SSL_CTX_free(b->tls_ctx);
    b->tls_ctx = ctx;
    return SG_OK;
}

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
