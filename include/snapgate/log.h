/* Logging: error lines on stderr, the access log on stdout. Never pass a credential. */
#ifndef SG_LOG_H
#define SG_LOG_H

enum sg_log_level { SG_LOG_ERROR = 0, SG_LOG_WARN, SG_LOG_INFO, SG_LOG_DEBUG };
enum sg_log_format { SG_LOG_JSON = 0, SG_LOG_TEXT };

void sg_log_setup(enum sg_log_level level, enum sg_log_format format);
enum sg_log_level sg_log_get_level(void);
enum sg_log_format sg_log_get_format(void);

/* One line: {"time","level","module","msg"}; module is a short name like "upstream". */
void sg_log(enum sg_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The same for a line about one request: request_id (may be NULL: then as
 * sg_log) goes into the line as its own field, "request_id" in JSON and
 * "id=..." in text, so a line can be joined with the request's access line. */
void sg_log_req(enum sg_log_level level, const char *module, const char *request_id,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define sg_log_error(mod, ...) sg_log(SG_LOG_ERROR, (mod), __VA_ARGS__)
#define sg_log_warn(mod, ...) sg_log(SG_LOG_WARN, (mod), __VA_ARGS__)
#define sg_log_info(mod, ...)                                                                      \
    do {                                                                                           \
        if (sg_log_get_level() >= SG_LOG_INFO)                                                     \
            sg_log(SG_LOG_INFO, (mod), __VA_ARGS__);                                               \
    } while (0)
#define sg_log_debug(mod, ...)                                                                     \
    do {                                                                                           \
        if (sg_log_get_level() >= SG_LOG_DEBUG)                                                    \
            sg_log(SG_LOG_DEBUG, (mod), __VA_ARGS__);                                              \
    } while (0)

/* Now, UTC, as 2026-01-02T03:04:05.678Z; returns the length written. */
size_t sg_log_format_time(char *out, size_t cap);

/* Append s to buf (capacity cap, current length *len) as a JSON string body
 * (without quotes), escaping as JSON requires; truncates rather than overflows. */
void sg_log_json_escape(char *buf, size_t cap, size_t *len, const char *s);

#endif
