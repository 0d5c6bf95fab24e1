/* Access lines go to stdout. Each thread batches its lines and writes whole
 * lines at most PIPE_BUF bytes at a time, so lines from different workers
 * never interleave even on a pipe, and a busy worker makes one write() per
 * few dozen requests instead of one per request. The workers flush on a short
 * timer and when they stop. */
#include <stdio.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "obs/access_log.h"
#include "snapgate/log.h"

static void append(const char *line, size_t n);

static void put_str(char *line, size_t cap, size_t *n, const char *key, const char *val)
{
    *n += (size_t)snprintf(line + *n, cap - *n, ",\"%s\":\"", key);
    if (*n >= cap)
        return;
    char tmp[600];
    size_t tl = 0;
    sg_log_json_escape(tmp, sizeof(tmp), &tl, val ? val : "-");
    *n += (size_t)snprintf(line + *n, cap - *n, "%s\"", tmp);
}

void sg_access_log(const struct sg_access_rec *r)
{
    char ts[40];
    sg_log_format_time(ts, sizeof(ts));
    char line[2048];
    size_t n;
    double dur_ms = (double)r->duration_us / 1000.0;
    if (sg_log_get_format() == SG_LOG_JSON) {
        n = (size_t)snprintf(line, sizeof(line), "{\"time\":\"%s\",\"type\":\"access\"", ts);
        put_str(line, sizeof(line), &n, "request_id", r->request_id);
        put_str(line, sizeof(line), &n, "method", r->method);
        put_str(line, sizeof(line), &n, "path", r->path);
        n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"status\":%d", r->status);
        put_str(line, sizeof(line), &n, "cache", r->cache);
        put_str(line, sizeof(line), &n, "backend", r->backend);
        put_str(line, sizeof(line), &n, "user", r->user);
        n += (size_t)snprintf(line + n, sizeof(line) - n,
                              ",\"upstream_status\":%d,\"duration_ms\":%.3f,\"upstream_ms\":%llu",
                              r->upstream_status, dur_ms, (unsigned long long)r->upstream_ms);
        put_str(line, sizeof(line), &n, "protocol", r->protocol ? r->protocol : "rest");
        put_str(line, sizeof(line), &n, "outcome", r->outcome ? r->outcome : "-");
        n += (size_t)snprintf(line + n, sizeof(line) - n, "}\n");
    } else {
        char path[520];
        size_t pl = 0;
        sg_log_json_escape(path, sizeof(path), &pl, r->path ? r->path : "-");
        n = (size_t)snprintf(line, sizeof(line),
                             "%s access id=%s method=%s path=\"%s\" status=%d cache=%s backend=%s "
                             "user=%s upstream_status=%d duration_ms=%.3f upstream_ms=%llu "
                             "protocol=%s outcome=%s\n",
                             ts, r->request_id, r->method ? r->method : "-", path, r->status,
                             r->cache ? r->cache : "-", r->backend ? r->backend : "-",
                             r->user ? r->user : "-", r->upstream_status, dur_ms,
                             (unsigned long long)r->upstream_ms, r->protocol ? r->protocol : "rest",
                             r->outcome ? r->outcome : "-");
    }
    if (n >= sizeof(line)) {
        n = sizeof(line) - 1;
        line[n - 1] = '\n';
    }
    append(line, n);
}

static _Thread_local char pending[PIPE_BUF];
static _Thread_local size_t pending_len;

void sg_access_log_flush(void)
{
    size_t off = 0;
    while (off < pending_len) {
        ssize_t w = write(STDOUT_FILENO, pending + off, pending_len - off);
        if (w <= 0)
            break; /* stdout gone: the lines are lost, the server is not */
        off += (size_t)w;
    }
    pending_len = 0;
}

static void append(const char *line, size_t n)
{
    if (pending_len + n > sizeof(pending))
        sg_access_log_flush();
    memcpy(pending + pending_len, line, n);
    pending_len += n;
}
