/* Bearer tokens: where the token is in the header, and whether it looks like
 * a JWT. Both providers use these so that "is this mine?" gets one answer. */
#include <string.h>
#include <strings.h>

#include "snapgate/auth_token.h"
#include "snapgate/common.h"

static bool is_b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static bool is_token68(char c)
{
    return is_b64url(c) || c == '.' || c == '~' || c == '+' || c == '/';
}

int sg_auth_bearer_token(const char *hdr, size_t len, const char **tok, size_t *tl)
{
    *tok = NULL;
    *tl = 0;
    if (!hdr || len < 6 || strncasecmp(hdr, "Bearer", 6) != 0)
        return SG_DECLINED;
    /* "Bearerx" is another scheme; "Bearer" alone is ours, with nothing in it. */
    if (len > 6 && hdr[6] != ' ')
        return SG_DECLINED;
    size_t start = 6, end = len;
    while (start < len && hdr[start] == ' ')
        start++;
    while (end > start && (hdr[end - 1] == ' ' || hdr[end - 1] == '\t'))
        end--;
    if (end == start || end - start > SG_AUTH_TOKEN_MAX)
        return SG_DENIED;
    /* token68: the padding '='s may only end it. */
    size_t body = end;
    while (body > start && hdr[body - 1] == '=')
        body--;
    if (body == start)
        return SG_DENIED;
    for (size_t i = start; i < body; i++)
        if (!is_token68(hdr[i]))
            return SG_DENIED;
    *tok = hdr + start;
    *tl = end - start;
    return SG_OK;
}

bool sg_auth_token_is_jws(const char *tok, size_t tl)
{
    size_t dots[2] = {0, 0}, nd = 0;
    for (size_t i = 0; i < tl; i++) {
        if (tok[i] == '.') {
            if (nd == 2)
                return false;
            dots[nd++] = i;
        } else if (!is_b64url(tok[i])) {
            return false;
        }
    }
    return nd == 2 && dots[0] > 0 && dots[1] > dots[0] + 1;
}
