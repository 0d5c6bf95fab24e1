/* The JSON-RPC 2.0 envelope around a DataValue, split at the request's id so
 * a cached answer is served with copies only (see normalize/datavalue.h). */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "normalize/datavalue.h"
#include "normalize/info_int.h"
#include "snapgate/common.h"

char *sg_dv_envelope_suffix(enum sg_dv_kind kind, const char *dv, size_t dv_len, size_t *len)
{
    static const char error[] = ",\"result\":{\"error\":";
    const char *head = kind == SG_DV_ERROR ? error : SG_DV_OUTPUT_HEAD;
    size_t head_len = kind == SG_DV_ERROR ? sizeof error - 1 : SG_DV_OUTPUT_HEAD_LEN;
    size_t n = head_len + dv_len + 2;
    char *out = sg_xmalloc(n + 1);
    memcpy(out, head, head_len);
    memcpy(out + head_len, dv, dv_len);
    memcpy(out + head_len + dv_len, "}}", 3);
    if (len)
        *len = n;
    return out;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 8259 string: quotes, no control byte, only the defined escapes. */
static bool string_valid(const char *s, size_t n)
{
    if (n < 2 || s[0] != '"' || s[n - 1] != '"')
        return false;
    for (size_t i = 1; i < n - 1; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"')
            return false;
        if (c != '\\')
            continue;
        if (++i >= n - 1)
            return false; /* the closing quote was escaped */
        if (s[i] == 'u') {
            if (n - 1 - i <= 4)
                return false;
            for (int k = 1; k <= 4; k++) {
                if (!is_hex(s[i + (size_t)k]))
                    return false;
            }
            i += 4;
        } else if (!strchr("\"\\/bfnrt", s[i]) || s[i] == '\0') {
            return false;
        }
    }
    return true;
}

bool sg_dv_id_valid(const char *id, size_t len)
{
    if (!id || len == 0)
        return false;
    return id[0] == '"' ? string_valid(id, len) : sg_info_number_text_valid(id, len);
}

char *sg_dv_envelope(const char *id, size_t id_len, const char *suffix, size_t suffix_len,
                     size_t *len)
{
    if (!sg_dv_id_valid(id, id_len))
        return NULL;
    size_t n = SG_DV_ENVELOPE_PREFIX_LEN + id_len + suffix_len;
    char *out = sg_xmalloc(n + 1);
    memcpy(out, SG_DV_ENVELOPE_PREFIX, SG_DV_ENVELOPE_PREFIX_LEN);
    memcpy(out + SG_DV_ENVELOPE_PREFIX_LEN, id, id_len);
    memcpy(out + SG_DV_ENVELOPE_PREFIX_LEN + id_len, suffix, suffix_len);
    out[n] = '\0';
    if (len)
        *len = n;
    return out;
}
