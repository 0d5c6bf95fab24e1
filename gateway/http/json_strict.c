/* A strict RFC 8259 parser into a json-c tree (see http/json_strict.h for what
 * it refuses and why). Recursive descent, depth-bounded; decoded strings pass
 * through one scratch buffer the size of the body, wiped before it is freed
 * because the body may hold a password. */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/json_strict.h"
#include "normalize/info_int.h"
#include "snapgate/common.h"

struct parser {
    const unsigned char *s;
    size_t n, i;
    char *scratch;     /* the string or number being read; len + 1 bytes */
    size_t scratch_hi; /* how much of scratch was ever written: what to wipe */
    struct sg_json_capture *capture;
    char *why;
    size_t cap;
};

static bool parse_value(struct parser *p, int depth, struct json_object **out);

/* json-c returns NULL only when malloc failed: not a condition we recover
 * from (lib/alloc.c). */
static struct json_object *must(struct json_object *o)
{
    if (!o)
        abort();
    return o;
}

static bool fail(struct parser *p, const char *what)
{
    if (p->why && p->cap)
        snprintf(p->why, p->cap, "not JSON: %s at offset %zu", what, p->i);
    return false;
}

static void skip_ws(struct parser *p)
{
    while (p->i < p->n &&
           (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
        p->i++;
}

static bool at(const struct parser *p, char c)
{
    return p->i < p->n && p->s[p->i] == (unsigned char)c;
}

static void used(struct parser *p, size_t n)
{
    if (n > p->scratch_hi)
        p->scratch_hi = n;
}

static int hex4(const unsigned char *s)
{
    int v = 0;
    for (int k = 0; k < 4; k++) {
        unsigned char c = s[k];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

/* The length of the well-formed UTF-8 sequence at s (RFC 3629, table 3-7 of
 * Unicode: no overlong forms, no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t n;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (left < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++) {
        if (s[k] < 0x80 || s[k] > 0xbf)
            return 0;
    }
    return n;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A \u escape at p->i (and its low surrogate when it is a high one) as a code
 * point, or -1 (reason set). \u0000 and lone surrogates are refused: neither
 * is text, and a NUL would cut the C string a caller compares. */
static long read_u_escape(struct parser *p)
{
    int cp = p->i + 6 <= p->n ? hex4(p->s + p->i + 2) : -1;
    if (cp < 0)
        return fail(p, "a malformed \\u escape"), -1;
    if (cp == 0)
        return fail(p, "a \\u0000 escape"), -1;
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return fail(p, "an unpaired surrogate escape"), -1;
    if (cp < 0xd800 || cp > 0xdbff) {
        p->i += 6;
        return cp;
    }
    int low = p->i + 12 <= p->n && p->s[p->i + 6] == '\\' && p->s[p->i + 7] == 'u'
                  ? hex4(p->s + p->i + 8)
                  : -1;
    if (low < 0xdc00 || low > 0xdfff)
        return fail(p, "an unpaired surrogate escape"), -1;
    p->i += 12;
    return 0x10000 + ((long)(cp - 0xd800) << 10) + (low - 0xdc00);
}

/* The string whose opening quote is at p->i, decoded into p->scratch
 * (NUL-terminated, *len bytes). Decoding never lengthens a string, so the
 * scratch buffer (the body's size) always has room. */
static bool parse_string(struct parser *p, size_t *len)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    size_t o = 0;
    p->i++;
    for (;;) {
        if (p->i >= p->n)
            return fail(p, "an unterminated string");
        unsigned char c = p->s[p->i];
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(p, "a control byte in a string");
        if (c == '\\') {
            unsigned char e = p->i + 1 < p->n ? p->s[p->i + 1] : 0;
            const char *m = e ? strchr(from, e) : NULL;
            if (e == 'u') {
                long cp = read_u_escape(p);
                if (cp < 0)
                    return false;
                o += put_utf8(p->scratch + o, (uint32_t)cp);
            } else if (m) {
                p->scratch[o++] = to[m - from];
                p->i += 2;
            } else {
                return fail(p, "an unknown escape");
            }
        } else if (c < 0x80) {
            p->scratch[o++] = (char)c;
            p->i++;
        } else {
            size_t k = utf8_len(p->s + p->i, p->n - p->i);
            if (k == 0)
                return fail(p, "invalid UTF-8");
            memcpy(p->scratch + o, p->s + p->i, k);
            o += k;
            p->i += k;
        }
    }
    p->i++;
    p->scratch[o] = '\0';
    used(p, o + 1);
    *len = o;
    return true;
}

static bool number_byte(unsigned char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* The longest run of number bytes, then RFC 8259's grammar on it (the check
 * the Info validators use, normalize/info_check.c): "1.", "-.5", "01" and
 * "1e" are refused here, where json-c takes some of them. */
static bool parse_number(struct parser *p, struct json_object **out)
{
    size_t start = p->i;
    bool integer = true;
    while (p->i < p->n && number_byte(p->s[p->i])) {
        unsigned char c = p->s[p->i++];
        integer = integer && c != '.' && c != 'e' && c != 'E';
    }
    size_t n = p->i - start;
    p->i = start; /* a reason names where the number starts */
    if (!sg_info_number_text_valid((const char *)p->s + start, n))
        return fail(p, "a malformed number");
    memcpy(p->scratch, p->s + start, n);
    p->scratch[n] = '\0';
    used(p, n + 1);
    if (integer) {
        errno = 0;
        long long v = strtoll(p->scratch, NULL, 10);
        /* json-c would clamp it: the tree would hold another number. */
        if (errno == ERANGE)
            return fail(p, "an integer outside int64");
        *out = must(json_object_new_int64(v));
    } else {
        *out = must(json_object_new_double_s(strtod(p->scratch, NULL), p->scratch));
    }
    p->i = start + n;
    return true;
}

static bool parse_literal(struct parser *p, const char *word, struct json_object **out)
{
    size_t n = strlen(word);
    if (p->n - p->i < n || memcmp(p->s + p->i, word, n) != 0)
        return fail(p, "an unknown literal");
    p->i += n;
    if (word[0] == 't' || word[0] == 'f')
        *out = must(json_object_new_boolean(word[0] == 't'));
    return true;
}

static bool parse_members(struct parser *p, int depth, struct json_object *obj)
{
    if (at(p, '}'))
        return true;
    for (;;) {
        if (!at(p, '"'))
            return fail(p, "expected a member name");
        size_t key_at = p->i, klen;
        if (!parse_string(p, &klen))
            return false;
        /* Two readers of one body must not see two different values. */
        if (json_object_object_get_ex(obj, p->scratch, NULL)) {
            p->i = key_at;
            return fail(p, "a duplicate member name");
        }
        char *key = sg_xstrndup(p->scratch, klen);
        skip_ws(p);
        if (!at(p, ':')) {
            free(key);
            return fail(p, "expected ':'");
        }
        p->i++;
        skip_ws(p);
        size_t val_at = p->i;
        struct json_object *val = NULL;
        if (!parse_value(p, depth + 1, &val)) {
            free(key);
            return false;
        }
        struct sg_json_capture *cap = p->capture;
        if (depth == 0 && cap && strcmp(key, cap->key) == 0) {
            cap->found = true;
            cap->off = val_at;
            cap->len = p->i - val_at;
        }
        if (json_object_object_add(obj, key, val) != 0)
            abort();
        free(key);
        skip_ws(p);
        if (!at(p, ','))
            return at(p, '}') || fail(p, "expected ',' or '}'");
        p->i++;
        skip_ws(p);
    }
}

static bool parse_elements(struct parser *p, int depth, struct json_object *arr)
{
    if (at(p, ']'))
        return true;
    for (;;) {
        struct json_object *val = NULL;
        if (!parse_value(p, depth + 1, &val))
            return false;
        if (json_object_array_add(arr, val) != 0)
            abort();
        skip_ws(p);
        if (!at(p, ','))
            return at(p, ']') || fail(p, "expected ',' or ']'");
        p->i++;
        skip_ws(p);
    }
}

static bool parse_container(struct parser *p, int depth, struct json_object **out)
{
    bool object = at(p, '{');
    struct json_object *c = must(object ? json_object_new_object() : json_object_new_array());
    p->i++;
    skip_ws(p);
    if (!(object ? parse_members(p, depth, c) : parse_elements(p, depth, c))) {
        sg_json_put_wiped(c);
        return false;
    }
    p->i++; /* the closing bracket */
    *out = c;
    return true;
}

static bool parse_value(struct parser *p, int depth, struct json_object **out)
{
    *out = NULL;
    if (p->i >= p->n)
        return fail(p, "expected a value");
    switch (p->s[p->i]) {
    case '{':
    case '[':
        if (depth >= SG_JSON_STRICT_DEPTH)
            return fail(p, "nested too deep");
        return parse_container(p, depth, out);
    case '"': {
        size_t n;
        if (!parse_string(p, &n))
            return false;
        *out = must(json_object_new_string_len(p->scratch, (int)n));
        return true;
    }
    case 't':
        return parse_literal(p, "true", out);
    case 'f':
        return parse_literal(p, "false", out);
    case 'n':
        return parse_literal(p, "null", out);
    default:
        if (p->s[p->i] == '-' || (p->s[p->i] >= '0' && p->s[p->i] <= '9'))
            return parse_number(p, out);
        return fail(p, "expected a value");
    }
}

bool sg_json_strict_parse(const char *buf, size_t len, struct sg_json_capture *capture,
                          struct json_object **out, char *why, size_t cap)
{
    struct parser p = {
        .s = (const unsigned char *)buf, .n = len, .capture = capture, .why = why, .cap = cap};
    *out = NULL;
    if (capture) {
        capture->found = false;
        capture->off = capture->len = 0;
    }
    /* json-c sizes strings with an int. */
    if (!buf || len == 0 || len > INT_MAX)
        return fail(&p, len ? "a body too large" : "an empty body");
    p.scratch = sg_xmalloc(len + 1);
    skip_ws(&p);
    bool ok = parse_value(&p, 0, out);
    if (ok) {
        skip_ws(&p);
        if (p.i != len) {
            ok = fail(&p, "bytes after the value");
            sg_json_put_wiped(*out);
            *out = NULL;
        }
    }
    OPENSSL_cleanse(p.scratch, p.scratch_hi);
    free(p.scratch);
    if (!ok && capture)
        capture->found = false;
    return ok;
}

static void wipe(struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_string:
        /* The buffer is the object's own: writing it is safe, json-c only
         * hands it out as const to keep callers from changing a value. */
        OPENSSL_cleanse((char *)json_object_get_string(v), (size_t)json_object_get_string_len(v));
        break;
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(v); i++)
            wipe(json_object_array_get_idx(v, i));
        break;
    case json_type_object: {
        json_object_object_foreach(v, key, val)
        {
            (void)key;
            wipe(val);
        }
        break;
    }
    default:
        break;
    }
}

void sg_json_put_wiped(struct json_object *v)
{
    if (!v)
        return;
    wipe(v);
    json_object_put(v);
}
