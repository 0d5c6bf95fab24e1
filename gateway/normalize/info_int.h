/* Helpers shared by the Info validators (gateway/info_*.c); not module ABI. */
#ifndef SG_INFO_INT_H
#define SG_INFO_INT_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

/* Formats "where: why" (or just "why" when where is empty) into reason;
 * always returns SG_ERR so callers can `return sg_info_fail(...)`. */
int sg_info_fail(char *reason, size_t cap, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* dst = "where.key" (just key when where is empty), truncated to cap. */
void sg_info_join(char *dst, size_t cap, const char *where, const char *key);

/* Removes every member of obj whose value is JSON null: null means unset. */
void sg_info_drop_nulls(struct json_object *obj);

/* SG_ERR naming the first member of obj not in allowed (NULL-terminated). */
int sg_info_only_keys(struct json_object *obj, const char *where, const char *const *allowed,
                      char *reason, size_t cap);

/* Member key of obj must be a string (non-empty when nonempty is set). Absent
 * is an error when required, else SG_OK. */
int sg_info_string_member(struct json_object *obj, const char *key, const char *where,
                          bool required, bool nonempty, char *reason, size_t cap);

/* v is a string holding a NUL byte. Enumerated values (status, error_type,
 * format) are matched as C strings, which stop at the NUL: without this check
 * "RUNNING\u0000junk" would pass as RUNNING and be served with the junk. */

/* v must be a JSON integer within int64. */
int sg_info_int64(struct json_object *v, const char *where, char *reason, size_t cap);

/* v must be a string holding an RFC 3339 date-time; rewritten in place to
 * UTC milliseconds. */
int sg_info_time(struct json_object *v, const char *where, char *reason, size_t cap);

/* Whether s[0..n) is exactly one number as RFC 8259 spells it. */
bool sg_info_number_text_valid(const char *s, size_t n);

/* Every number anywhere under v must be a JSON number as RFC 8259 spells it
 * (not NaN, Infinity, "1." ...). */
int sg_info_numbers_valid(struct json_object *v, char *reason, size_t cap);

/* A LocalizableMessage {id, default_message, args, params?, localized?}. */
int sg_info_message(struct json_object *msg, const char *where, char *reason, size_t cap);

#endif
