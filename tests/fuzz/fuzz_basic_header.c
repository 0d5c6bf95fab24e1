/* fuzz_basic_header: feeds Authorization values to sg_basic_header_parse
 * (gateway/auth/basic_header.c), two ways per input:
 * 1. the input itself as the header value (exactly its bytes, so ASan sees any
 *    read past len). Properties: the return is SG_OK, SG_DECLINED or SG_DENIED;
 *    SG_OK implies 0 < n <= SG_BASIC_DECODED_MAX, colon < n, buf[colon] is the
 *    first ':' and no NUL in buf[0..n); and (differential, vs. OpenSSL's
 *    EVP_EncodeBlock as the reference) the token between "Basic" + spaces and the
 *    trailing OWS is exactly the canonical base64 of buf[0..n).
 * 2. the input as credentials, encoded by the reference into "Basic <b64>":
 *    accepted (SG_OK, same bytes, same colon) exactly when it is non-empty, has
 *    a ':', no NUL and fits SG_BASIC_HEADER_MAX; otherwise SG_DENIED.
 * SG_FUZZ_DICT: basic_header.dict */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "snapgate/basic_header.h"
#include "snapgate/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The canonical base64 of p[0..n), malloc'd and NUL-terminated; *len its length. */
static char *b64(const uint8_t *p, size_t n, size_t *len)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (!out)
        abort();
    *len = (size_t)EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    return out;
}

static void as_header(const uint8_t *data, size_t size)
{
    char *hdr = malloc(size ? size : 1);
    unsigned char *buf = malloc(SG_BASIC_DECODED_MAX);
    if (!hdr || !buf)
        abort();
    memcpy(hdr, data, size);
    size_t n = 99, colon = 99;
    int rc = sg_basic_header_parse(hdr, size, buf, &n, &colon);
    if (rc == SG_OK) {
        if (n == 0 || n > SG_BASIC_DECODED_MAX || colon >= n || buf[colon] != ':')
            abort();
        if (memchr(buf, ':', colon) || memchr(buf, '\0', n))
            abort();
        size_t start = 5, end = size;
        while (start < size && hdr[start] == ' ')
            start++;
        while (end > start && (hdr[end - 1] == ' ' || hdr[end - 1] == '\t'))
            end--;
        size_t elen;
        char *enc = b64(buf, n, &elen);
        if (elen != end - start || memcmp(enc, hdr + start, elen) != 0)
            abort();
        free(enc);
    } else if (rc != SG_DECLINED && rc != SG_DENIED) {
        abort();
    }
    free(buf);
    free(hdr);
}

static void as_credentials(const uint8_t *data, size_t size)
{
    if (size > SG_BASIC_DECODED_MAX)
        return;
    size_t elen;
    char *enc = b64(data, size, &elen);
    size_t hlen = 6 + elen;
    char *hdr = malloc(hlen);
    unsigned char *buf = malloc(SG_BASIC_DECODED_MAX);
    if (!hdr || !buf)
        abort();
    memcpy(hdr, "Basic ", 6);
    memcpy(hdr + 6, enc, elen);
    size_t n, colon;
    int rc = sg_basic_header_parse(hdr, hlen, buf, &n, &colon);
    const uint8_t *c = memchr(data, ':', size);
    int valid = size > 0 && c && !memchr(data, '\0', size) && hlen <= SG_BASIC_HEADER_MAX;
    if (valid) {
        if (rc != SG_OK || n != size || memcmp(buf, data, size) != 0 || colon != (size_t)(c - data))
            abort();
    } else if (rc != SG_DENIED) {
        abort();
    }
    free(buf);
    free(hdr);
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_header(data, size);
    as_credentials(data, size);
    return 0;
}
