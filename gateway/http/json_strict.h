/* Strict JSON for bodies a client sends (the JSON-RPC endpoint, POST /api).
 *
 * json-c's tokener, even with JSON_TOKENER_STRICT, takes what RFC 8259 does
 * not ("1.", "-.5", NaN), keeps the last of two equal member names, stops at
 * a NUL byte without complaint, and clamps integers past int64. A body that is
 * signed (the SAML holder-of-key context signs the whole request) or that
 * carries credentials must mean one thing only, so this parser builds the
 * json-c tree itself and refuses everything that could be read two ways. */
#ifndef SG_JSON_STRICT_H
#define SG_JSON_STRICT_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

/* Containers nest at most this deep (a JSON-RPC request needs 6): recursion
 * stays bounded whatever the body. */
#define SG_JSON_STRICT_DEPTH 32

/* The raw text of one member of the top-level object, as it stands in the
 * body (no surrounding whitespace): what a JSON-RPC answer echoes as its id. */
struct sg_json_capture {
    const char *key; /* set by the caller */
    bool found;
    size_t off, len;
};

/* Parses buf[0..len) as exactly one JSON text (RFC 8259), whitespace around
 * it allowed. Refused, beyond RFC 8259's own grammar (which already refuses
 * "1.", "01", NaN, control bytes in strings, a byte order mark, trailing
 * bytes): invalid UTF-8 (overlong forms, surrogates, past U+10FFFF); a
 * \u0000 escape and unpaired surrogate escapes, so every string is NUL-free
 * Unicode text; two members of one object with the same name; an integer
 * outside int64; nesting deeper than SG_JSON_STRICT_DEPTH.
 *
 * Integers become json-c int64s; numbers with a fraction or an exponent become
 * doubles that keep their source text (json_object_to_json_string gives it
 * back). capture may be NULL. Returns true with *out (NULL for the text
 * `null`), or false with *out NULL and a reason naming the byte offset (never
 * the bytes there: a body may hold credentials). */
bool sg_json_strict_parse(const char *buf, size_t len, struct sg_json_capture *capture,
                          struct json_object **out, char *why, size_t cap);

/* Overwrites every string value under v with zeros, then drops the
 * reference to v: for trees that held passwords or tokens. The tree must not
 * be shared (its strings are wiped for every holder). NULL is fine. */
void sg_json_put_wiped(struct json_object *v);

#endif
