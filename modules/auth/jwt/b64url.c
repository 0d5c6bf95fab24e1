/* Strict unpadded base64url (RFC 7515 section 2): one encoding per byte
 * string, so a token cannot be altered into another one that decodes the
 * same and still carries the old signature bytes. */
#include <stdlib.h>

#include "jwt.h"
#include "snapgate/common.h"

static int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int sg_jwt_b64url_decode(const char *in, size_t inl, unsigned char **out, size_t *outl)
{
    *out = NULL;
    *outl = 0;
    if (inl % 4 == 1)
        return SG_ERR;
    unsigned char *buf = sg_xmalloc(inl / 4 * 3 + 3);
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < inl; i++) {
        int v = b64url_value(in[i]);
        if (v < 0)
            goto fail;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* What is left are the unused low bits of the last character. */
    if (acc != 0)
        goto fail;
    buf[n] = '\0';
    *out = buf;
    *outl = n;
    return SG_OK;

fail:
    free(buf);
    return SG_ERR;
}
