/* The `Authorization: Bearer <token>` value (RFC 6750), shared by the bearer
 * and jwt providers so both read the header the same way. */
#ifndef SG_AUTH_TOKEN_H
#define SG_AUTH_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

/* Longer tokens are denied without looking further (libevhtp caps a header
 * line at 8 KiB anyway). */
#define SG_AUTH_TOKEN_MAX 8192

/* Finds the token in hdr[0..len): the scheme "Bearer" (any case) followed by
 * spaces, the token68 (RFC 9110: ALPHA DIGIT - . _ ~ + / then '='s), optional
 * trailing spaces or tabs. Returns SG_DECLINED (hdr NULL, another scheme, or
 * "Bearer" not followed by a space or the end), SG_DENIED (no token, a token
 * over SG_AUTH_TOKEN_MAX bytes, or bytes outside token68), or SG_OK with *tok
 * pointing into hdr (borrowed) and *tl its length. */
int sg_auth_bearer_token(const char *hdr, size_t len, const char **tok, size_t *tl);

/* Has tok the shape of a JWS compact serialization: exactly three
 * base64url parts (no padding) split by two dots, the first two non-empty?
 * The signature part may be empty, so `alg: none` tokens count as JWTs (and
 * the jwt provider rejects them itself). */
bool sg_auth_token_is_jws(const char *tok, size_t tl);

#endif
