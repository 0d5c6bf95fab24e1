/* The Authorization: SIGN value. vCenter clients send `SIGN token="..."`,
 * some without the quotes; the holder-of-key form adds nonce, bodyhash,
 * signature_alg and signature. This provider takes the bearer form only: a
 * holder-of-key request proves possession of the subject's key by signing the
 * request, and checking that proof is not something we do, so accepting the
 * token alone would turn a holder-of-key token into a bearer one. Anything
 * but exactly one `token` parameter is denied. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "saml.h"
#include "snapgate/common.h"

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 9110 tchar. */
static bool is_tchar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A character of an unquoted value: visible ASCII but the list's delimiters
 * (token68 needs '/' and '=', which tchar lacks). */
static bool is_bare_value_char(char c)
{
    return c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != '\\';
}

int sg_saml_header_parse(const char *hdr, size_t len, const char **tok, size_t *tok_len)
{
    *tok = NULL;
    *tok_len = 0;
    if (!hdr || len < 4 || strncasecmp(hdr, "SIGN", 4) != 0)
        return SG_DECLINED;
    /* "SIGNATURE ..." is another scheme; "SIGN" alone is ours, with nothing in it. */
    if (len > 4 && hdr[4] != ' ')
        return SG_DECLINED;
    if (len > SG_SAML_HEADER_MAX)
        return SG_DENIED;

    size_t i = 4;
    bool first = true;
    while (i < len && hdr[i] == ' ')
        i++;
    while (true) {
        while (i < len && is_ows(hdr[i]))
            i++;
        if (i == len)
            break;
        if (!first) {
            if (hdr[i] != ',')
                return SG_DENIED;
            i++;
            while (i < len && is_ows(hdr[i]))
                i++;
        }
        first = false;

        size_t name = i;
        while (i < len && is_tchar(hdr[i]))
            i++;
        size_t name_len = i - name;
        while (i < len && is_ows(hdr[i]))
            i++;
        if (name_len == 0 || i == len || hdr[i] != '=')
            return SG_DENIED;
        i++;
        while (i < len && is_ows(hdr[i]))
            i++;

        size_t value, value_len;
        if (i < len && hdr[i] == '"') {
            value = ++i;
            /* A base64 token never needs an escape: a backslash is denied, not decoded. */
            while (i < len && hdr[i] != '"' && hdr[i] != '\\' && hdr[i] >= 0x20 && hdr[i] < 0x7f)
                i++;
            if (i == len || hdr[i] != '"')
                return SG_DENIED;
            value_len = i - value;
            i++;
        } else {
            value = i;
            while (i < len && is_bare_value_char(hdr[i]))
                i++;
            value_len = i - value;
        }

        if (name_len != 5 || strncasecmp(hdr + name, "token", 5) != 0)
            return SG_DENIED; /* holder-of-key parameters and unknown ones alike */
        if (*tok || value_len == 0)
            return SG_DENIED;
        *tok = hdr + value;
        *tok_len = value_len;
    }
    return *tok ? SG_OK : SG_DENIED;
}
