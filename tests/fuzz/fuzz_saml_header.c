/* fuzz_saml_header: feeds `Authorization: SIGN` values and token bytes to
 * sg_saml_header_parse (modules/auth/saml/saml_header.c) and
 * sg_saml_token_decode (saml_decode.c: strict base64, then gunzip bounded by
 * SG_SAML_XML_MAX), three ways per input, each copied to a buffer of exactly
 * its size so ASan sees any read past len:
 * 1. the input as the header value. Properties: the return is SG_OK, SG_DENIED
 *    or SG_DECLINED, DECLINED exactly when the value does not start with the
 *    scheme "SIGN" (any case) followed by a space or nothing; SG_OK implies a
 *    non-empty token slice inside the header, of visible ASCII or space
 *    without '"' or '\', in a value of at most SG_SAML_HEADER_MAX bytes, and
 *    the canonical `SIGN token="<token>"` gives the same token back;
 *    SG_DECLINED gives no token. The token then goes through the decoder (see 2).
 * 2. the input as the gzip bytes of a token: base64'd by OpenSSL into
 *    `SIGN token="..."`, which must parse to exactly that token. For every
 *    token decoded (here and in 1) the result is compared with a reference
 *    decoder built from other parts: OpenSSL's base64 with canonicality checked
 *    by re-encoding (EVP_EncodeBlock must give the token back), and a plain
 *    zlib inflate of one gzip member into a fixed SG_SAML_XML_MAX + 1 buffer,
 *    all input consumed (differential). Both accept or both deny, with the
 *    same bytes; SG_OK means at most SG_SAML_XML_MAX bytes, NUL-terminated;
 *    SG_DENIED leaves no output.
 * 3. the input as the assertion: gzip'd by zlib, base64'd, put in a header:
 *    parse and decode must give exactly the input back (round trip).
 * Everything allocated is freed (LeakSanitizer).
 * SG_FUZZ_DICT: saml_header.dict */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "modules/auth/saml/saml.h"
#include "snapgate/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

/* The canonical base64 of p[0..n), NUL-terminated; *len its length. */
static char *b64(const uint8_t *p, size_t n, size_t *len)
{
    char *out = xmalloc(4 * ((n + 2) / 3) + 1);
    *len = (size_t)EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    return out;
}

/* Reference base64: OpenSSL's lenient decoder, then canonicality by
 * re-encoding: the token must be exactly the encoding of what it decodes to.
 * EVP_DecodeBlock counts the padding as zero bytes, so the real length is n,
 * n - 1 or n - 2, and only one of them can re-encode to the token. */
static bool ref_b64(const char *tok, size_t len, uint8_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (len == 0 || len % 4 != 0 || len > SG_SAML_HEADER_MAX)
        return false;
    uint8_t *buf = xmalloc(len / 4 * 3 + 1);
    int r = EVP_DecodeBlock(buf, (const unsigned char *)tok, (int)len);
    for (int cut = 0; r >= 0 && cut <= 2 && cut <= r; cut++) {
        size_t elen;
        char *enc = b64(buf, (size_t)(r - cut), &elen);
        bool same = elen == len && memcmp(enc, tok, len) == 0;
        free(enc);
        if (same) {
            *out = buf;
            *n = (size_t)(r - cut);
            return true;
        }
    }
    free(buf);
    return false;
}

/* Reference gunzip: one member into a buffer one byte over the bound, the
 * whole input consumed, at most SG_SAML_XML_MAX bytes out. */
static bool ref_gunzip(const uint8_t *in, size_t in_len, uint8_t **out, size_t *n)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    *out = NULL;
    *n = 0;
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        abort();
    uint8_t *buf = xmalloc(SG_SAML_XML_MAX + 1);
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)in_len;
    zs.next_out = buf;
    zs.avail_out = SG_SAML_XML_MAX + 1;
    int zr;
    do {
        zr = inflate(&zs, Z_NO_FLUSH);
    } while (zr == Z_OK);
    bool ok = zr == Z_STREAM_END && zs.avail_in == 0 && zs.total_out <= SG_SAML_XML_MAX;
    if (ok) {
        *n = zs.total_out;
        *out = buf;
    } else {
        free(buf);
    }
    inflateEnd(&zs);
    return ok;
}

/* The decoder against the reference on one token (tok, len; len bytes only). */
static void check_decode(const char *tok, size_t len)
{
    unsigned char *xml = (unsigned char *)"unset";
    size_t xml_len = 99;
    int rc = sg_saml_token_decode(tok, len, &xml, &xml_len);

    uint8_t *gz = NULL, *want = NULL;
    size_t gz_len = 0, want_len = 0;
    bool ref_ok = ref_b64(tok, len, &gz, &gz_len) && ref_gunzip(gz, gz_len, &want, &want_len);
    free(gz);

    if (rc == SG_OK) {
        if (!ref_ok || !xml || xml_len > SG_SAML_XML_MAX || xml[xml_len] != '\0')
            abort();
        if (xml_len != want_len || memcmp(xml, want, want_len) != 0)
            abort();
        free(xml);
    } else {
        if (rc != SG_DENIED || ref_ok || xml != NULL || xml_len != 0)
            abort();
    }
    free(want);
}

/* A canonical "SIGN token=\"tok\"" header; *len its length. */
static char *sign_header(const char *tok, size_t tok_len, size_t *len)
{
    *len = 12 + tok_len + 1;
    char *h = xmalloc(*len);
    memcpy(h, "SIGN token=\"", 12);
    memcpy(h + 12, tok, tok_len);
    h[12 + tok_len] = '"';
    return h;
}

/* Parses a header that must carry exactly tok. */
static void expect_token(const char *tok, size_t tok_len)
{
    size_t hlen;
    char *h = sign_header(tok, tok_len, &hlen);
    const char *got = NULL;
    size_t got_len = 0;
    int rc = sg_saml_header_parse(h, hlen, &got, &got_len);
    if (hlen <= SG_SAML_HEADER_MAX && tok_len > 0) {
        if (rc != SG_OK || got != h + 12 || got_len != tok_len)
            abort();
    } else if (rc != SG_DENIED) {
        abort();
    }
    free(h);
}

static bool is_scheme(const char *h, size_t n)
{
    return n >= 4 && strncasecmp(h, "SIGN", 4) == 0 && (n == 4 || h[4] == ' ');
}

static void as_header(const uint8_t *data, size_t size)
{
    char *hdr = xmalloc(size);
    memcpy(hdr, data, size);
    const char *tok = (const char *)"unset";
    size_t tok_len = 99;
    int rc = sg_saml_header_parse(hdr, size, &tok, &tok_len);
    if (rc == SG_DECLINED) {
        if (is_scheme(hdr, size) || tok || tok_len)
            abort();
    } else if (rc == SG_DENIED) {
        /* *tok is not promised on SG_DENIED (a duplicate leaves the first). */
        if (!is_scheme(hdr, size))
            abort();
    } else if (rc == SG_OK) {
        if (!is_scheme(hdr, size) || size > SG_SAML_HEADER_MAX || !tok || tok_len == 0)
            abort();
        /* The slice lies inside the header, after the scheme. */
        if (tok < hdr + 5 || tok_len > size || (size_t)(tok - hdr) > size - tok_len)
            abort();
        for (size_t i = 0; i < tok_len; i++)
            if (tok[i] < 0x20 || tok[i] > 0x7e || tok[i] == '"' || tok[i] == '\\')
                abort();
        expect_token(tok, tok_len);
        check_decode(tok, tok_len);
    } else {
        abort();
    }
    free(hdr);
}

/* The input is the gzip stream: its base64 goes through header and decoder. */
static void as_gzip(const uint8_t *data, size_t size)
{
    size_t tlen;
    char *tok = b64(data, size, &tlen);
    expect_token(tok, tlen);
    /* Exactly tlen bytes, so a read past the token is seen. */
    char *exact = xmalloc(tlen);
    memcpy(exact, tok, tlen);
    check_decode(exact, tlen);
    free(exact);
    free(tok);
}

/* The input is the assertion: gzip, base64, header, then all the way back. */
static void as_xml(const uint8_t *data, size_t size)
{
    if (size > SG_SAML_XML_MAX)
        return;
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    size_t cap = deflateBound(&zs, (uLong)size) + 32;
    uint8_t *gz = xmalloc(cap);
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)size;
    zs.next_out = gz;
    zs.avail_out = (uInt)cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        abort();
    size_t gz_len = zs.total_out;
    deflateEnd(&zs);

    size_t tlen, hlen;
    char *tok = b64(gz, gz_len, &tlen);
    char *h = sign_header(tok, tlen, &hlen);
    const char *got = NULL;
    size_t got_len = 0;
    if (hlen <= SG_SAML_HEADER_MAX) {
        if (sg_saml_header_parse(h, hlen, &got, &got_len) != SG_OK || got_len != tlen)
            abort();
        unsigned char *xml = NULL;
        size_t xml_len = 0;
        if (sg_saml_token_decode(got, got_len, &xml, &xml_len) != SG_OK || xml_len != size ||
            (size && memcmp(xml, data, size) != 0) || xml[xml_len] != '\0')
            abort();
        free(xml);
    }
    free(h);
    free(tok);
    free(gz);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_header(data, size);
    as_gzip(data, size);
    as_xml(data, size);
    return 0;
}
