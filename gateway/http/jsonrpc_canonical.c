/* Canonical JSON as the vAPI runtime's signer writes it, and the holder-of-key
 * signing input (see http/jsonrpc_canonical.h for the rules and why). */
#include <json-c/json.h>
#include <json-c/printbuf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/json_strict.h"
#include "http/jsonrpc_canonical.h"
#include "normalize/info_int.h"
#include "snapgate/common.h"

static void put(struct printbuf *pb, const char *s, size_t n)
{
    if (printbuf_memappend(pb, s, (int)n) < 0)
        abort();
}

static void put_u(struct printbuf *pb, unsigned cp)
{
    static const char hex[] = "0123456789abcdef";
    char u[6] = {'\\', 'u', hex[cp >> 12 & 15], hex[cp >> 8 & 15], hex[cp >> 4 & 15], hex[cp & 15]};
    put(pb, u, sizeof u);
}

/* The code point of the UTF-8 sequence at s (*k its length), or -1. The
 * strict parser's strings are valid; a tree made elsewhere may not be. */
static long utf8_decode(const unsigned char *s, size_t left, size_t *k)
{
    unsigned char c = s[0];
    size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    long min = n == 4 ? 0x10000 : n == 3 ? 0x800 : 0x80;
    if (c < 0xc2 || c > 0xf4 || left < n)
        return -1;
    long cp = c & (0x3f >> (n - 1));
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return -1;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    *k = n;
    return cp;
}

/* Python's json with ensure_ascii (its c_encode_basestring_ascii). */
static bool put_string(struct printbuf *pb, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    put(pb, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        const char *esc = c == '"'    ? "\\\""
                          : c == '\\' ? "\\\\"
                          : c == '\b' ? "\\b"
                          : c == '\f' ? "\\f"
                          : c == '\n' ? "\\n"
                          : c == '\r' ? "\\r"
                          : c == '\t' ? "\\t"
                                      : NULL;
        if (esc) {
            put(pb, esc, 2);
            i++;
        } else if (c >= 0x20 && c < 0x7f) {
            put(pb, (const char *)s + i, 1);
            i++;
        } else if (c < 0x80) {
            put_u(pb, c);
            i++;
        } else {
            size_t k;
            long cp = utf8_decode(s + i, n - i, &k);
            if (cp < 0)
                return false;
            if (cp >= 0x10000) {
                put_u(pb, (unsigned)(0xd800 + ((cp - 0x10000) >> 10)));
                put_u(pb, (unsigned)(0xdc00 + ((cp - 0x10000) & 0x3ff)));
            } else {
                put_u(pb, (unsigned)cp);
            }
            i += k;
        }
    }
    put(pb, "\"", 1);
    return true;
}

static bool put_double(struct printbuf *pb, struct json_object *v)
{
    /* A parsed double renders as its source text (json_object_new_double_s). */
    const char *t = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    size_t n = strlen(t);
    if (!sg_info_number_text_valid(t, n))
        return false;
    char *buf = sg_xmalloc(n + 32);
    int w = sg_json_canonical_double(t, n, buf, n + 32);
    if (w > 0)
        put(pb, buf, (size_t)w);
    free(buf);
    return w > 0;
}

struct member {
    const char *key;
    struct json_object *val;
};

static int by_key(const void *a, const void *b)
{
    /* strcmp compares as unsigned char: UTF-8 byte order, code point order. */
    return strcmp(((const struct member *)a)->key, ((const struct member *)b)->key);
}

static bool put_value(struct printbuf *pb, struct json_object *v, const struct json_object *skip_in,
                      const char *skip_key, int depth);

static bool put_object(struct printbuf *pb, struct json_object *v,
                       const struct json_object *skip_in, const char *skip_key, int depth)
{
    size_t n = 0, cap = (size_t)json_object_object_length(v);
    struct member *m = sg_xcalloc(cap ? cap : 1, sizeof *m);
    json_object_object_foreach(v, key, val)
    {
        if (v == skip_in && strcmp(key, skip_key) == 0)
            continue;
        m[n].key = key;
        m[n++].val = val;
    }
    qsort(m, n, sizeof *m, by_key);
    bool ok = true;
    put(pb, "{", 1);
    for (size_t i = 0; i < n && ok; i++) {
        if (i)
            put(pb, ",", 1);
        ok = put_string(pb, m[i].key, strlen(m[i].key));
        put(pb, ":", 1);
        ok = ok && put_value(pb, m[i].val, skip_in, skip_key, depth + 1);
    }
    put(pb, "}", 1);
    free(m);
    return ok;
}

static bool put_value(struct printbuf *pb, struct json_object *v, const struct json_object *skip_in,
                      const char *skip_key, int depth)
{
    if (depth > SG_JSON_STRICT_DEPTH)
        return false;
    switch (json_object_get_type(v)) {
    case json_type_null:
        put(pb, "null", 4);
        return true;
    case json_type_boolean:
        json_object_get_boolean(v) ? put(pb, "true", 4) : put(pb, "false", 5);
        return true;
    case json_type_int: {
        /* int64 or uint64 digits, exactly; "-0" cannot be an int64. */
        const char *t = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
        put(pb, t, strlen(t));
        return true;
    }
    case json_type_double:
        return put_double(pb, v);
    case json_type_string:
        return put_string(pb, json_object_get_string(v), (size_t)json_object_get_string_len(v));
    case json_type_array: {
        bool ok = true;
        put(pb, "[", 1);
        for (size_t i = 0; i < json_object_array_length(v) && ok; i++) {
            if (i)
                put(pb, ",", 1);
            ok = put_value(pb, json_object_array_get_idx(v, i), skip_in, skip_key, depth + 1);
        }
        put(pb, "]", 1);
        return ok;
    }
    case json_type_object:
        return put_object(pb, v, skip_in, skip_key, depth);
    }
    return false;
}

char *sg_json_canonical(struct json_object *v, const struct json_object *skip_in,
                        const char *skip_key, size_t *len)
{
    struct printbuf *pb = printbuf_new();
    if (!pb)
        abort();
    char *out = NULL;
    if (put_value(pb, v, skip_in, skip_key ? skip_key : "", 0)) {
        out = sg_xmalloc((size_t)pb->bpos + 1);
        memcpy(out, pb->buf, (size_t)pb->bpos);
        out[pb->bpos] = '\0';
        if (len)
            *len = (size_t)pb->bpos;
    }
    printbuf_free(pb);
    return out;
}

char *sg_rpc_signing_input(const struct sg_rpc_request *r, size_t *len)
{
    struct json_object *params, *ctx, *sec;
    if (!r->tree || r->sec.scheme != SG_RPC_SCHEME_SAML_HOK ||
        !json_object_object_get_ex(r->tree, "params", &params) ||
        !json_object_object_get_ex(params, "ctx", &ctx) ||
        !json_object_object_get_ex(ctx, "securityCtx", &sec))
        return NULL;
    return sg_json_canonical(r->tree, sec, "signature", len);
}
