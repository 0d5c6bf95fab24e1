/* Snapservice task Info: parsing upstream JSON safely, validating an Info
 * against the field table and union rule of api/SNAPSERVICE.md, and rewriting
 * every date-time to the one form the gateway serves. Shared by every dialect:
 * a dialect maps its upstream shape to an Info and hands it to
 * sg_info_canonicalize, which either accepts it (possibly rewriting times and
 * dropping nulls) or names the first rule it breaks. Nothing is ever repaired. */
#ifndef SG_INFO_H
#define SG_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "snapgate/task.h"

struct json_object;

/* Nesting limit for upstream JSON: an Info needs about ten levels; the rest is
 * headroom for opaque `result` values. Deeper bodies are rejected. */
#define SG_INFO_MAX_DEPTH 64

/* Length of the canonical date-time "YYYY-MM-DDTHH:MM:SS.mmmZ" (without NUL). */
#define SG_TIME_UTC_MS_LEN 24

/* Rewrites one RFC 3339 date-time (offset "Z"/"z" or +-hh:mm, 'T' or 't',
 * optional fraction of any length, seconds 00..60) to UTC
 * "YYYY-MM-DDTHH:MM:SS.mmmZ". The fraction is truncated to milliseconds, never
 * rounded; no fraction gives .000; offsets may move the day, month and year.
 * A leap second (:60) counts as the next second. Independent of locale and TZ.
 * Returns SG_OK with out NUL-terminated, or SG_ERR (out unspecified) for
 * anything else, including results outside years 0000..9999. */
int sg_time_to_utc_ms(const char *in, char out[32]);
/* The same date-time as Unix epoch milliseconds (the same truncation, the
 * same range); SG_OK or SG_ERR. */
int sg_time_to_epoch_ms(const char *in, int64_t *epoch_ms);
/* Unix epoch milliseconds as "YYYY-MM-DDTHH:MM:SS.mmmZ"; SG_ERR outside years
 * 0000..9999. */
int sg_time_format_utc_ms(int64_t epoch_ms, char out[32]);

/* 1 when s is exactly one name of the vAPI standard error_type enumeration
 * (ERROR, NOT_FOUND, ...), else 0. NULL gives 0. */
int sg_std_error_type_valid(const char *s);

/* Parses an upstream body strictly (RFC 8259: no trailing data, valid UTF-8,
 * nesting at most SG_INFO_MAX_DEPTH). body need not be NUL-terminated.
 * Returns a new reference the caller puts, or NULL with reason filled (never
 * quoting the body). Any JSON value is returned; callers check its type. */
struct json_object *sg_info_parse_json(const char *body, size_t len, char *reason, size_t cap);

/* Validates and canonicalizes a standard error value
 * {"error_type", "messages": [LocalizableMessage...], "data"?: object} in place:
 * null members dropped, date-time params rewritten. SG_OK, or SG_ERR with
 * reason. Borrows err. */
int sg_std_error_canonicalize(struct json_object *err, char *reason, size_t cap);

/* Validates and canonicalizes a whole Info in place (borrowed):
 * - drops null members of the Info and of every structure inside it
 *   (messages, params, target, progress, error), then checks that required
 *   members are present: null means unset;
 * - rejects unknown members, wrong JSON types, empty identifiers, int64
 *   overflow, non-JSON numbers (NaN, Infinity) anywhere, including `result`;
 * - rewrites start_time, end_time and every `dt` param (also inside nested
 *   `l` messages and error.messages) with sg_time_to_utc_ms;
 * - enforces the union rule (which of progress/result/error/start_time/end_time
 *   each status requires or forbids), end_time not before start_time, and at
 *   least one message in a FAILED task's error.
 * `result` is opaque: checked for well-formed numbers, never changed.
 * Returns SG_OK and *status, or SG_ERR with a specific reason such as
 * "RUNNING without start_time" (info may then be partly rewritten). */
int sg_info_canonicalize(struct json_object *info, enum sg_task_status *status, char *reason,
                         size_t cap);

#endif
