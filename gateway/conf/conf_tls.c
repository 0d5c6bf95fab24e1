/* A backend's TLS, built while the config loads: the client SSL_CTX its
 * workers share (https) and the CA file it names checked (any scheme), so a
 * file that would not load is a config error found by -t and refused by a
 * reload, never a client that cannot be built (gateway/upstream/upstream_tls.c
 * uses the context). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conf/conf_internal.h"
#include "conf/conf_tls.h"
#include "snapgate/common.h"
#include "snapgate/conf.h"

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

/* A client context for b: TLS 1.2 or later, the peer verified unless
 * tls.verify is off, the CA file or the system store. NULL with err filled. */
static SSL_CTX *client_ctx_new(const struct sg_conf_backend *b, char *err, size_t cap)
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

int sg_conf_tls_prepare(struct sg_conf_backend *b, char *err, size_t cap)
{
    bool tls = b->scheme && strcmp(b->scheme, "https") == 0;
    if (!tls && !b->tls_ca_file)
        return SG_OK;
    SSL_CTX *ctx = client_ctx_new(b, err, cap);
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

/* Loads the entry's TLS context (and its CA file) exactly as the clients
 * will use it: a file that would not load fails -t and a reload here,
 * instead of leaving a backend no worker can build. */
void sg_conf_backend_tls(const struct sg_conf_node *item, const char *path,
                         struct sg_conf_backend *b, struct sg_conf_errs *errs)
{
    char err[600];
    if (sg_conf_tls_prepare(b, err, sizeof(err)) == SG_OK)
        return;
    const struct sg_conf_node *tls = sg_conf_node_get(item, "tls");
    const struct sg_conf_node *ca = tls ? sg_conf_node_get(tls, "ca_file") : NULL;
    char *key_path = sg_conf_path_key(path, b->tls_ca_file ? "tls.ca_file" : "tls");
    sg_conf_errs_add(errs, ca ? ca->line : tls ? tls->line : item->line, key_path, "%s", err);
    free(key_path);
}
