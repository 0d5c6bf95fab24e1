/* The Authorization: Basic value, decoded strictly. EVP_DecodeBlock alone is
 * too lenient (it skips surrounding whitespace and reports padded lengths), so
 * the alphabet, the padding and the unused trailing bits are checked here
 * first: exactly one encoding of each credential gets through. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "snapgate/basic_header.h"
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

/* tl is a positive multiple of 4; returns the padding count or -1. */
static int b64_check(const char *tok, size_t tl)
{
    int pad = 0;
    if (tok[tl - 1] == '=')
        pad = tok[tl - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < tl - (size_t)pad; i++)
        if (b64_value(tok[i]) < 0)
            return -1;
    /* The bits past the last whole byte must be zero: "QQ==" but not "QR==". */
    if (pad == 1 && (b64_value(tok[tl - 2]) & 0x3))
        return -1;
    if (pad == 2 && (b64_value(tok[tl - 3]) & 0xf))
        return -1;
    return pad;
}

int sg_basic_header_parse(const char *hdr, size_t len, unsigned char *buf, size_t *n, size_t *colon)
{
    *n = 0;
    *colon = 0;
    if (!hdr || len < 5 || strncasecmp(hdr, "Basic", 5) != 0)
        return SG_DECLINED;
    /* "Basicx" is another scheme; "Basic" alone is ours, with nothing in it. */
    if (len > 5 && hdr[5] != ' ')
        return SG_DECLINED;
    if (len > SG_BASIC_HEADER_MAX)
        return SG_DENIED;

    size_t start = 5, end = len;
    while (start < len && hdr[start] == ' ')
        start++;
    /* Trailing whitespace is not part of a field value (RFC 9110 OWS). */
    while (end > start && (hdr[end - 1] == ' ' || hdr[end - 1] == '\t'))
        end--;
    const char *tok = hdr + start;
    size_t tl = end - start;
    if (tl == 0 || tl % 4 != 0)
        return SG_DENIED;
    int pad = b64_check(tok, tl);
    if (pad < 0)
        return SG_DENIED;

    int r = EVP_DecodeBlock(buf, (const unsigned char *)tok, (int)tl);
    if (r < pad) {
        if (r > 0)
            OPENSSL_cleanse(buf, (size_t)r);
        return SG_DENIED;
    }
    size_t dl = (size_t)r - (size_t)pad;
    /* crypt() takes C strings: a NUL would silently cut the password short.
     * A refused decode is wiped here: the caller wipes only an accepted one. */
    const unsigned char *c = memchr(buf, ':', dl);
    if (!c || memchr(buf, '\0', dl)) {
        OPENSSL_cleanse(buf, (size_t)r);
        return SG_DENIED;
    }
    /* The padding's bytes past dl are zero: b64_check refused set bits. */
    *n = dl;
    *colon = (size_t)(c - buf);
    return SG_OK;
}
