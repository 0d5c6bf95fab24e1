/* fuzz_saml_certs: feeds arbitrary bytes as the saml provider's
 * sts_certs_file to sg_saml_certs_load (modules/auth/saml/saml_certs.c). The
 * bytes are written to a memfd and loaded through /proc/self/fd/N, the path a
 * configuration would name. Properties:
 *   - failure: no certificates, and a non-empty reason that starts with the
 *     path ("PATH: ..."); a file holding a NUL byte always fails (OpenSSL's
 *     PEM reader would end a line there and could skip certificates unseen);
 *   - success: 1..SG_SAML_CERTS_MAX certificates; sg_saml_keys_new builds one
 *     xmlsec key per certificate; OpenSSL's own reader (PEM_read_bio_X509 in a
 *     loop, a different entry point than the loader's PEM_read_bio) finds
 *     exactly as many certificates in the same file, each with an RSA or EC
 *     public key (differential);
 *   - round trip: those certificates written back by PEM_write_bio_X509 (the
 *     canonical form) load again, with the same count;
 *   - no leaks per execution (LeakSanitizer): certificates, keys, BIOs.
 * SG_FUZZ_DICT: pem.dict */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "fuzz_file.h"
#include "modules/auth/saml/saml.h"
#include "modules/auth/saml/saml_xml.h"
#include "snapgate/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Loads f: the general properties; the count on success, 0 on failure. */
static size_t load(const struct sg_fuzz_file *f)
{
    static char unset;
    struct sg_saml_certs *c = (struct sg_saml_certs *)(void *)&unset; /* must be overwritten */
    char err[512] = "";
    int rc = sg_saml_certs_load(f->path, &c, err, sizeof(err));
    /* The loader leaves OpenSSL's error queue filled when it refuses a block
     * (d2i_X509, xmlsec); the queue's strings, freed only when the next
     * execution overwrites them, unbalance libFuzzer's per-run malloc/free
     * counts, and each unbalanced run costs a full LeakSanitizer scan (90% of
     * the time: about 20x fewer exec/s). Cleared here; a real leak still
     * unbalances them. */
    ERR_clear_error();
    if (rc != SG_OK) {
        size_t plen = strlen(f->path);
        if (rc != SG_ERR || c != NULL || strncmp(err, f->path, plen) != 0 ||
            strncmp(err + plen, ": ", 2) != 0 || err[plen + 2] == '\0')
            abort();
        return 0;
    }
    size_t n = c ? sg_saml_certs_count(c) : 0;
    if (n < 1 || n > SG_SAML_CERTS_MAX)
        abort();
    struct sg_saml_keys *k = sg_saml_keys_new(c);
    if (sg_saml_keys_count(k) != n)
        abort();
    for (size_t i = 0; i < n; i++)
        if (!sg_saml_keys_get(k, i))
            abort();
    sg_saml_keys_free(k);
    sg_saml_certs_free(c);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sg_fuzz_file in, again; /* one memfd per file role */
    static bool ready;
    if (!ready) {
        sg_saml_global_init();
        sg_fuzz_file_open(&in, "sts_certs");
        sg_fuzz_file_open(&again, "sts_certs_again");
        ready = true;
    }
    sg_fuzz_file_set(&in, data, size);
    size_t n = load(&in);
    if (n == 0)
        return 0;
    if (memchr(data, '\0', size))
        abort(); /* a NUL byte could have hidden certificates, and it loaded */

    /* The reference reader over the same file, and the canonical rewrite. */
    BIO *rd = BIO_new_file(in.path, "r"), *wr = BIO_new(BIO_s_mem());
    if (!rd || !wr)
        abort();
    size_t m = 0;
    X509 *x;
    while ((x = PEM_read_bio_X509(rd, NULL, NULL, NULL)) != NULL) {
        EVP_PKEY *pk = X509_get0_pubkey(x);
        int type = pk ? EVP_PKEY_get_base_id(pk) : EVP_PKEY_NONE;
        if (type != EVP_PKEY_RSA && type != EVP_PKEY_EC)
            abort();
        if (!PEM_write_bio_X509(wr, x))
            abort();
        X509_free(x);
        m++;
    }
    ERR_clear_error();
    if (m != n)
        abort();
    char *pem = NULL;
    long len = BIO_get_mem_data(wr, &pem);
    /* Already canonical (the seeds are): loaded above. */
    if ((size_t)len != size || memcmp(pem, data, size) != 0) {
        sg_fuzz_file_set(&again, pem, (size_t)len);
        if (load(&again) != n)
            abort();
    }
    BIO_free(rd);
    BIO_free(wr);
    return 0;
}
