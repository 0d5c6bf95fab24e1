/* The signing input of a SAML holder-of-key request (JSONRPC.md 1.5): the
 * canonical JSON of the whole request without params.ctx.securityCtx.signature.
 *
 * The signature is over the exact bytes the SDK's signer made (vAPI runtime,
 * security/sso.py JSONCanonicalizer), so "canonical" here is that code's
 * output, quirks included, not a standard's:
 * - no whitespace; object members sorted by name in code point order
 *   (Python's sorted() on str: the byte order of UTF-8); arrays in order;
 * - strings as Python's json module writes them (ensure_ascii): \" \\ \b \f
 *   \n \r \t, every other byte below 0x20 and 0x7f as \u00xx, every non-ASCII
 *   character as \uxxxx in lower-case hex (a surrogate pair past U+FFFF),
 *   '/' as it is;
 * - integers as their digits (Python reads them as int);
 * - numbers with a fraction or an exponent (Python reads them as Decimal) in
 *   the runtime's "canonical double" form, sg_json_canonical_double;
 * - true, false, null.
 * Checked against the verbatim signed request of JSONRPC.md 1.5
 * (tests/unit/gateway/http/test_jsonrpc_canonical.c verifies its signature). */
#ifndef SG_JSONRPC_CANONICAL_H
#define SG_JSONRPC_CANONICAL_H

#include <stddef.h>

#include "http/jsonrpc_request.h"

struct json_object;

/* The canonical text of v, leaving out the member skip_key of the object
 * skip_in (both NULL: nothing left out). Malloc'd and NUL-terminated, *len
 * set; NULL when v holds a string that is not UTF-8, a number
 * sg_json_canonical_double refuses, or nests deeper than json_strict allows.
 * The text holds every string of v: do not canonicalize a tree whose secrets
 * must not be copied (a holder-of-key request's signing input holds none: its
 * token is inside the signature left out). */
char *sg_json_canonical(struct json_object *v, const struct json_object *skip_in,
                        const char *skip_key, size_t *len);

/* The signing input of a request parsed with SG_RPC_OK whose scheme is
 * SG_RPC_SCHEME_SAML_HOK (NULL for any other): what signature.value signs
 * with signatureAlgorithm and the key of the assertion's
 * SubjectConfirmationData. Malloc'd, *len set. */
char *sg_rpc_signing_input(const struct sg_rpc_request *r, size_t *len);

/* The vAPI runtime's canonical form of a JSON number with a fraction or an
 * exponent (lib/jsonlib.py canonicalize_double): XML Schema's canonical double
 * written from the exact decimal value, [-]D.D[D...]E[-]N (one non-zero digit
 * before the point, trailing zeros dropped but one digit kept after it, zero
 * as 0.0E0 with its sign), with what that code does besides, byte for byte:
 * - it normalizes a number written without exponent (once read as a Python
 *   Decimal, printed plain: exponent <= 0, at least 1e-6) by truncating
 *   log10 of its float value, so an exact power of ten below 1 comes out with
 *   two digits: 0.1 is 10.0E-2, 0.001 is 10.0E-4 (1e-7 and below print with
 *   an exponent and come out right);
 * - a zero keeps the exponent Decimal prints it with: 0e5 is 0.0E5, 0.0000000
 *   is 0.0E-7, 0.00 is 0.0E0. So a zero with an exponent is no fixed point:
 *   0.0E5 is 0.0E4 (the ".0" counts as a digit). Every other output is.
 * Refused (-1): what the runtime cannot canonicalize the same way for sure: a
 * plain-printed number of 1e23 or more (it divides by the float 10**n, inexact
 * from there), an exponent beyond +-1e15. text[0..n) must be an RFC 8259
 * number. Writes at most n + 32 bytes and a NUL into out; returns the length. */
int sg_json_canonical_double(const char *text, size_t n, char *out, size_t cap);

#endif
