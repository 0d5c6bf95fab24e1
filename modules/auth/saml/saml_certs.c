/* The STS certificates: read and checked at conf time (so -t and a reload see
 * a bad file), kept as DER, and turned into xmlsec keys per worker so no
 * xmlsec object is ever shared between threads. They are pinned keys, not a
 * trust chain: only their public keys matter, their validity dates do not
 * (vCenter's STS signing certificates are long-lived and replaced by
 * configuration, not by expiry). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <xmlsec/xmlsec.h>
#include <xmlsec/crypto.h>
#include <xmlsec/keys.h>

#include "saml.h"
#include "saml_xml.h"
#include "snapgate/common.h"
#include "snapgate/log.h"

struct der_cert {
    unsigned char *der;
    size_t len;
};

struct sg_saml_certs {
    struct der_cert *v;
    size_t n;
};

struct sg_saml_keys {
    xmlSecKeyPtr *v;
    size_t n;
};

static xmlSecKeyPtr key_from_der(const struct der_cert *c)
{
    return xmlSecCryptoAppKeyLoadMemory(c->der, (xmlSecSize)c->len, xmlSecKeyDataFormatCertDer,
                                        NULL, NULL, NULL);
}

/* One PEM block: a certificate with an RSA or EC key that xmlsec can load.
 * SG_OK with *out filled, or SG_ERR with err set (index is 1-based). */
static int check_block(const char *path, size_t index, const char *name, const unsigned char *data,
                       long len, struct der_cert *out, char *err, size_t cap)
{
    const unsigned char *p = data;
    X509 *x = NULL;
    int rc = SG_ERR;

    if (strcmp(name, "CERTIFICATE") != 0) {
        sg_errf(err, cap, "%s: block %zu is a %s, not a CERTIFICATE", path, index, name);
        goto fail;
    }
    x = d2i_X509(NULL, &p, len);
    if (!x || p != data + len) {
        sg_errf(err, cap, "%s: certificate %zu is not valid DER", path, index);
        goto fail;
    }
    /* d2i_X509 accepts a certificate whose SubjectPublicKeyInfo is sound ASN.1
     * but not a key OpenSSL can decode (an unknown algorithm, a bad EC point);
     * its key is then NULL, which EVP_PKEY_get_base_id would dereference. */
    EVP_PKEY *pk = X509_get0_pubkey(x);
    if (!pk) {
        sg_errf(err, cap, "%s: certificate %zu: its public key cannot be read", path, index);
        goto fail;
    }
    int type = EVP_PKEY_get_base_id(pk);
    if (type != EVP_PKEY_RSA && type != EVP_PKEY_EC) {
        sg_errf(err, cap, "%s: certificate %zu has neither an RSA nor an EC public key", path,
                index);
        goto fail;
    }
    out->der = sg_xmalloc((size_t)len);
    memcpy(out->der, data, (size_t)len);
    out->len = (size_t)len;
    xmlSecKeyPtr k = key_from_der(out);
    if (!k) {
        sg_errf(err, cap, "%s: certificate %zu: xmlsec cannot load its key", path, index);
        free(out->der);
        out->der = NULL;
        goto fail;
    }
    xmlSecKeyDestroy(k);
    rc = SG_OK;

fail:
    X509_free(x);
    return rc;
}

/* The whole of file into *buf (caller frees), refusing a NUL byte: OpenSSL's
 * PEM reader ends a line at a NUL, so a NUL in an END line would make it skip
 * every certificate after it unseen (found by fuzz_saml_certs). */
static int read_file(const char *path, BIO *file, char **buf, size_t *len, char *err, size_t cap)
{
    size_t n = 0, bufcap = 4096;
    char *b = sg_xmalloc(bufcap);
    errno = 0;
    for (;;) {
        if (n > SG_SAML_CERTS_FILE_MAX) {
            sg_errf(err, cap, "%s: larger than %u bytes", path, SG_SAML_CERTS_FILE_MAX);
            goto fail;
        }
        if (n == bufcap) { /* room for one byte more than the bound, to see it passed */
            bufcap =
                bufcap * 2 < SG_SAML_CERTS_FILE_MAX + 1 ? bufcap * 2 : SG_SAML_CERTS_FILE_MAX + 1;
            b = sg_xrealloc(b, bufcap);
        }
        int got = BIO_read(file, b + n, (int)(bufcap - n));
        if (got <= 0) {
            if (BIO_eof(file))
                break;
            ERR_clear_error();
            sg_errf(err, cap, "%s: cannot read: %s", path,
                    errno ? strerror(errno) : "unknown error");
            goto fail;
        }
        if (memchr(b + n, '\0', (size_t)got)) {
            sg_errf(err, cap, "%s: holds a NUL byte", path);
            goto fail;
        }
        n += (size_t)got;
    }
    *buf = b;
    *len = n;
    return SG_OK;

fail:
    free(b);
    return SG_ERR;
}

int sg_saml_certs_load(const char *path, struct sg_saml_certs **out, char *err, size_t cap)
{
    struct sg_saml_certs *c = sg_xcalloc(1, sizeof(*c));
    BIO *file = NULL, *bio = NULL;
    char *text = NULL;
    size_t text_len = 0;
    int rc = SG_ERR;

    *out = NULL;
    sg_saml_global_init();
    errno = 0;
    file = BIO_new_file(path, "r");
    if (!file) {
        sg_errf(err, cap, "%s: cannot open: %s", path, errno ? strerror(errno) : "unknown error");
        goto fail;
    }
    if (read_file(path, file, &text, &text_len, err, cap) != SG_OK)
        goto fail;
    bio = BIO_new_mem_buf(text, (int)text_len);
    if (!bio) {
        sg_errf(err, cap, "%s: out of memory", path);
        goto fail;
    }
    c->v = sg_xcalloc(SG_SAML_CERTS_MAX, sizeof(*c->v));
    for (;;) {
        char *name = NULL, *header = NULL;
        unsigned char *data = NULL;
        long len = 0;
        if (!PEM_read_bio(bio, &name, &header, &data, &len)) {
            unsigned long e = ERR_peek_last_error();
            ERR_clear_error();
            if (ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
                break; /* the end of the file, or text outside any block */
            sg_errf(err, cap, "%s: block %zu is not valid PEM", path, c->n + 1);
            goto fail;
        }
        int brc = SG_ERR;
        if (c->n == SG_SAML_CERTS_MAX)
            sg_errf(err, cap, "%s: more than %u certificates", path, SG_SAML_CERTS_MAX);
        else if (header && header[0])
            /* RFC 1421 headers (Proc-Type, DEK-Info) mean an encrypted block:
             * a certificate never is one, and OpenSSL's own reader would stop
             * there (found by fuzz_saml_certs). */
            sg_errf(err, cap, "%s: certificate %zu: a PEM block with headers (encrypted?)", path,
                    c->n + 1);
        else
            brc = check_block(path, c->n + 1, name, data, len, &c->v[c->n], err, cap);
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        if (brc != SG_OK)
            goto fail;
        c->n++;
    }
    if (c->n == 0) {
        sg_errf(err, cap, "%s: holds no PEM certificate", path);
        goto fail;
    }
    *out = c;
    c = NULL;
    rc = SG_OK;

fail:
    /* What OpenSSL queued on a refused block is told in err already; left
     * queued, it would be the "last error" a later caller on this thread
     * (conf_tls.c) reports. */
    ERR_clear_error();
    BIO_free(bio);
    BIO_free(file);
    free(text);
    sg_saml_certs_free(c);
    return rc;
}

void sg_saml_certs_free(struct sg_saml_certs *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].der);
    free(c->v);
    free(c);
}

size_t sg_saml_certs_count(const struct sg_saml_certs *c)
{
    return c->n;
}

struct sg_saml_keys *sg_saml_keys_new(const struct sg_saml_certs *c)
{
    struct sg_saml_keys *k = sg_xcalloc(1, sizeof(*k));
    k->v = sg_xcalloc(c->n, sizeof(*k->v));
    for (size_t i = 0; i < c->n; i++) {
        k->v[i] = key_from_der(&c->v[i]);
        if (!k->v[i]) {
            sg_log_error("auth.saml", "xmlsec failed to load a certificate it loaded before");
            abort();
        }
        k->n++;
    }
    return k;
}

void sg_saml_keys_free(struct sg_saml_keys *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->n; i++)
        xmlSecKeyDestroy(k->v[i]);
    free(k->v);
    free(k);
}

size_t sg_saml_keys_count(const struct sg_saml_keys *k)
{
    return k->n;
}

xmlSecKeyPtr sg_saml_keys_get(const struct sg_saml_keys *k, size_t i)
{
    return k->v[i];
}
