/* Token bytes: strict base64, then gunzip with a hard bound on the output.
 * One encoding of each token gets through base64 (alphabet, padding and the
 * unused trailing bits are checked, as EVP_DecodeBlock alone would skip
 * whitespace and accept them all), and inflate stops the moment the output
 * passes SG_SAML_XML_MAX, so a zip bomb costs at most that much work. The
 * base64 reader is also the holder-of-key certificate's and signature's. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "saml.h"
#include "snapgate/common.h"

/* The 6-bit value of a base64 character, or -1. */
static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int sg_saml_b64_decode(const char *tok, size_t len, size_t max, unsigned char **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (len == 0 || len % 4 != 0 || len > max)
        return SG_DENIED;
    size_t pad = 0;
    if (tok[len - 1] == '=')
        pad = tok[len - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < len - pad; i++)
        if (b64_value(tok[i]) < 0)
            return SG_DENIED;
    /* The bits past the last whole byte must be zero: "QQ==" but not "QR==". */
    if (pad == 1 && (b64_value(tok[len - 2]) & 0x3))
        return SG_DENIED;
    if (pad == 2 && (b64_value(tok[len - 3]) & 0xf))
        return SG_DENIED;

    unsigned char *buf = sg_xmalloc(len / 4 * 3 + 1);
    int r = EVP_DecodeBlock(buf, (const unsigned char *)tok, (int)len);
    if (r < (int)pad) {
        free(buf);
        return SG_DENIED;
    }
    *out = buf;
    *n = (size_t)r - pad;
    return SG_OK;
}

/* One gzip member, nothing after it, at most SG_SAML_XML_MAX bytes out. */
static int gunzip(const unsigned char *in, size_t in_len, unsigned char **xml, size_t *xml_len)
{
    z_stream zs;
    size_t cap = in_len * 4 < 4096 ? 4096 : in_len * 4;
    unsigned char *out = NULL;
    int rc = SG_DENIED, zr;
    bool inited = false;

    *xml = NULL;
    *xml_len = 0;
    /* Check the magic first: 16 + MAX_WBITS takes gzip only, but say so plainly. */
    if (in_len < 18 || in[0] != 0x1f || in[1] != 0x8b)
        goto fail;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        goto fail;
    inited = true;
    if (cap > SG_SAML_XML_MAX)
        cap = SG_SAML_XML_MAX;
    /* One spare byte beyond the bound: output that fills it is too big. */
    out = sg_xmalloc(cap + 1);
    zs.next_in = (unsigned char *)in;
    zs.avail_in = (uInt)in_len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap + 1;
    for (;;) {
        zr = inflate(&zs, Z_NO_FLUSH);
        if (zr == Z_STREAM_END)
            break;
        if (zr != Z_OK && zr != Z_BUF_ERROR)
            goto fail;
        if (zs.avail_out > 0) /* no progress possible: the input ended early */
            goto fail;
        if (zs.total_out > SG_SAML_XML_MAX)
            goto fail;
        size_t done = zs.total_out;
        size_t next = cap * 2 > SG_SAML_XML_MAX ? SG_SAML_XML_MAX : cap * 2;
        out = sg_xrealloc(out, next + 1);
        cap = next;
        zs.next_out = out + done;
        zs.avail_out = (uInt)(cap + 1 - done);
    }
    if (zs.total_out > SG_SAML_XML_MAX || zs.avail_in != 0)
        goto fail;
    /* The NUL is for the caller's convenience; libxml2 is given the length. */
    if (zs.total_out == cap + 1)
        out = sg_xrealloc(out, cap + 2);
    out[zs.total_out] = '\0';
    *xml_len = zs.total_out;
    *xml = out;
    out = NULL;
    rc = SG_OK;

fail:
    if (inited)
        inflateEnd(&zs);
    free(out);
    return rc;
}

int sg_saml_token_decode(const char *tok, size_t len, unsigned char **xml, size_t *xml_len)
{
    unsigned char *gz = NULL;
    size_t gz_len = 0;
    *xml = NULL;
    *xml_len = 0;
    int rc = sg_saml_b64_decode(tok, len, SG_SAML_HEADER_MAX, &gz, &gz_len);
    if (rc == SG_OK)
        rc = gunzip(gz, gz_len, xml, xml_len);
    free(gz);
    return rc;
}
