/* The Authorization: Basic value, decoded strictly: one implementation for the
 * basic provider (which checks the password) and the core's failed-login
 * throttle (which only needs the user name). */
#ifndef SNAPGATE_BASIC_HEADER_H
#define SNAPGATE_BASIC_HEADER_H

#include <stddef.h>

/* Longer Authorization values are denied without decoding. */
#define SG_BASIC_HEADER_MAX 4096
/* What base64 of at most SG_BASIC_HEADER_MAX bytes can decode to. */
#define SG_BASIC_DECODED_MAX (SG_BASIC_HEADER_MAX / 4 * 3)

/* Parses "Basic <base64(user:password)>" of len bytes. Returns SG_DECLINED
 * (absent, or not the Basic scheme followed by a space), SG_DENIED (too long,
 * empty, base64 not strict and canonical, a NUL byte, no ':'), or SG_OK with
 * the decoded bytes in buf (capacity SG_BASIC_DECODED_MAX, not NUL-terminated),
 * *n their count and *colon the index of the first ':'. On SG_OK the secret
 * bytes are buf[0..*n) and the caller cleanses those (what follows them in buf
 * is untouched or zero); on every other return buf holds nothing: a decode
 * that was then refused is cleansed here. Wiping *n bytes rather than the
 * whole 3 KiB buffer matters: this runs on every request. */
int sg_basic_header_parse(const char *hdr, size_t len, unsigned char *buf, size_t *n,
                          size_t *colon);

#endif
