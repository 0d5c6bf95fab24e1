/* Error/info lines on stderr in JSON or text. The level and format are process
 * globals set before workers start and again on reload. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "snapgate/common.h"
#include "snapgate/log.h"

/* Atomics: a reload stores them on the main thread while workers read them. */
static _Atomic int log_level = SG_LOG_INFO;
static _Atomic int log_format = SG_LOG_JSON;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void sg_log_setup(enum sg_log_level level, enum sg_log_format format)
{
    atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
    atomic_store_explicit(&log_format, (int)format, memory_order_relaxed);
}

enum sg_log_level sg_log_get_level(void)
{
    return (enum sg_log_level)atomic_load_explicit(&log_level, memory_order_relaxed);
}

enum sg_log_format sg_log_get_format(void)
{
    return (enum sg_log_format)atomic_load_explicit(&log_format, memory_order_relaxed);
}

void sg_log_json_escape(char *buf, size_t cap, size_t *len, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = *len;
    for (; *s && n + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            buf[n++] = '\\';
            buf[n++] = 'u';
            buf[n++] = '0';
            buf[n++] = '0';
            buf[n++] = hex[c >> 4];
            buf[n++] = hex[c & 15];
        } else {
            buf[n++] = (char)c;
        }
    }
    buf[n] = '\0';
    *len = n;
}

size_t sg_log_format_time(char *out, size_t cap)
{
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(out + n, cap - n, ".%03dZ", (int)(tv.tv_usec / 1000));
    return n;
}

/* One line, written with one fwrite so lines from different threads stay whole. */
static void log_line(enum sg_log_level level, const char *module, const char *request_id,
                     const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void log_line(enum sg_log_level level, const char *module, const char *request_id,
                     const char *fmt, va_list ap)
{
    char msg[2048];
    vsnprintf(msg, sizeof(msg), fmt, ap);

    char ts[40];
    sg_log_format_time(ts, sizeof(ts));
    char line[4096];
    size_t n = 0;
    if (atomic_load_explicit(&log_format, memory_order_relaxed) == SG_LOG_JSON) {
        n = (size_t)snprintf(line, sizeof(line), "{\"time\":\"%s\",\"level\":\"%s\",\"module\":\"",
                             ts, level_names[level]);
        sg_log_json_escape(line, sizeof(line), &n, module ? module : "core");
        if (request_id) {
            n += (size_t)snprintf(line + n, sizeof(line) - n, "\",\"request_id\":\"");
            sg_log_json_escape(line, sizeof(line), &n, request_id);
        }
        n += (size_t)snprintf(line + n, sizeof(line) - n, "\",\"msg\":\"");
        sg_log_json_escape(line, sizeof(line), &n, msg);
        n += (size_t)snprintf(line + n, sizeof(line) - n, "\"}\n");
    } else if (request_id) {
        n = (size_t)snprintf(line, sizeof(line), "%s %s [%s] id=%s %s\n", ts, level_names[level],
                             module ? module : "core", request_id, msg);
    } else {
        n = (size_t)snprintf(line, sizeof(line), "%s %s [%s] %s\n", ts, level_names[level],
                             module ? module : "core", msg);
    }
    if (n >= sizeof(line)) {
        n = sizeof(line) - 1;
        line[n - 1] = '\n';
    }
    fwrite(line, 1, n, stderr);
}

void sg_log(enum sg_log_level level, const char *module, const char *fmt, ...)
{
    if ((int)level > atomic_load_explicit(&log_level, memory_order_relaxed))
        return;
    va_list ap;
    va_start(ap, fmt);
    log_line(level, module, NULL, fmt, ap);
    va_end(ap);
}

void sg_log_req(enum sg_log_level level, const char *module, const char *request_id,
                const char *fmt, ...)
{
    if ((int)level > atomic_load_explicit(&log_level, memory_order_relaxed))
        return;
    va_list ap;
    va_start(ap, fmt);
    log_line(level, module, request_id, fmt, ap);
    va_end(ap);
}
