/* Access lines go to stdout. Each thread batches its lines and writes whole
 * lines at most PIPE_BUF bytes at a time, so lines from different workers
 * never interleave even on a pipe, and a busy worker makes one write() per
 * few dozen requests instead of one per request. The workers flush on a short
 * timer and when they stop.
 *
 * A line is written by hand, not by printf: it is written for every request,
 * and stdio's format parsing, strftime and float formatting were a sixth of a
 * cache hit's cycles. The date and time to the second are formatted once per
 * second per thread; the rest are copies, escapes and integer digits. */
#include <limits.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "obs/access_log.h"
#include "snapgate/log.h"

#define LINE_MAX_BYTES 2048
/* A value is escaped into at most this much (what the line allowed before). */
#define VALUE_MAX 600
#define TEXT_PATH_MAX 520

struct line {
    char buf[LINE_MAX_BYTES];
    size_t n;
};

static void put_mem(struct line *l, const char *s, size_t len)
{
    if (len > sizeof(l->buf) - 1 - l->n)
        len = sizeof(l->buf) - 1 - l->n;
    memcpy(l->buf + l->n, s, len);
    l->n += len;
}

static void put(struct line *l, const char *s)
{
    put_mem(l, s, strlen(s));
}
#define PUT_LIT(l, s) put_mem((l), (s), sizeof(s) - 1)

static void put_uint(struct line *l, unsigned long long v)
{
    char d[24];
    size_t i = sizeof(d);
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put_mem(l, d + i, sizeof(d) - i);
}

static void put_int(struct line *l, int v)
{
    if (v < 0) {
        PUT_LIT(l, "-");
        put_uint(l, (unsigned long long)-(long long)v);
    } else {
        put_uint(l, (unsigned long long)v);
    }
}

/* us as milliseconds with three decimals (what %.3f of us / 1000.0 wrote). */
static void put_ms3(struct line *l, uint64_t us)
{
    put_uint(l, us / 1000u);
    char frac[4] = {'.', (char)('0' + us / 100u % 10u), (char)('0' + us / 10u % 10u),
                    (char)('0' + us % 10u)};
    put_mem(l, frac, sizeof(frac));
}

/* s JSON-escaped, the escaped text at most max - 8 bytes (sg_log_json_escape's bound). */
static void put_escaped(struct line *l, const char *s, size_t max)
{
    size_t cap = sizeof(l->buf) - l->n < max ? sizeof(l->buf) - l->n : max;
    size_t n = 0;
    sg_log_json_escape(l->buf + l->n, cap, &n, s);
    l->n += n;
}

/* ,"key":"escaped value" */
static void put_str(struct line *l, const char *key, const char *val)
{
    PUT_LIT(l, ",\"");
    put(l, key);
    PUT_LIT(l, "\":\"");
    put_escaped(l, val ? val : "-", VALUE_MAX);
    PUT_LIT(l, "\"");
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" now, the part to the second made once a second. */
static void put_time(struct line *l)
{
    static _Thread_local time_t cached_sec = -1;
    static _Thread_local char cached[24];
    static _Thread_local size_t cached_len;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    if (tv.tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&tv.tv_sec, &tm);
        cached_len = strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = tv.tv_sec;
    }
    put_mem(l, cached, cached_len);
    int ms = (int)(tv.tv_usec / 1000);
    char frac[5] = {'.', (char)('0' + ms / 100), (char)('0' + ms / 10 % 10), (char)('0' + ms % 10),
                    'Z'};
    put_mem(l, frac, sizeof(frac));
}

static const char *or_dash(const char *s)
{
    return s ? s : "-";
}

static void json_line(struct line *l, const struct sg_access_rec *r)
{
    PUT_LIT(l, "{\"time\":\"");
    put_time(l);
    PUT_LIT(l, "\",\"type\":\"access\"");
    put_str(l, "request_id", r->request_id);
    put_str(l, "method", r->method);
    put_str(l, "path", r->path);
    PUT_LIT(l, ",\"status\":");
    put_int(l, r->status);
    put_str(l, "cache", r->cache);
    put_str(l, "backend", r->backend);
    put_str(l, "user", r->user);
    PUT_LIT(l, ",\"upstream_status\":");
    put_int(l, r->upstream_status);
    PUT_LIT(l, ",\"duration_ms\":");
    put_ms3(l, r->duration_us);
    PUT_LIT(l, ",\"upstream_ms\":");
    put_uint(l, r->upstream_ms);
    put_str(l, "protocol", r->protocol ? r->protocol : "rest");
    put_str(l, "outcome", r->outcome ? r->outcome : "-");
    PUT_LIT(l, "}\n");
}

static void text_line(struct line *l, const struct sg_access_rec *r)
{
    put_time(l);
    PUT_LIT(l, " access id=");
    put(l, or_dash(r->request_id));
    PUT_LIT(l, " method=");
    put(l, or_dash(r->method));
    PUT_LIT(l, " path=\"");
    put_escaped(l, or_dash(r->path), TEXT_PATH_MAX);
    PUT_LIT(l, "\" status=");
    put_int(l, r->status);
    PUT_LIT(l, " cache=");
    put(l, or_dash(r->cache));
    PUT_LIT(l, " backend=");
    put(l, or_dash(r->backend));
    PUT_LIT(l, " user=");
    put(l, or_dash(r->user));
    PUT_LIT(l, " upstream_status=");
    put_int(l, r->upstream_status);
    PUT_LIT(l, " duration_ms=");
    put_ms3(l, r->duration_us);
    PUT_LIT(l, " upstream_ms=");
    put_uint(l, r->upstream_ms);
    PUT_LIT(l, " protocol=");
    put(l, r->protocol ? r->protocol : "rest");
    PUT_LIT(l, " outcome=");
    put(l, r->outcome ? r->outcome : "-");
    PUT_LIT(l, "\n");
}

static void append(const char *line, size_t n);

void sg_access_log(const struct sg_access_rec *r)
{
    struct line l;
    l.n = 0;
    if (sg_log_get_format() == SG_LOG_JSON)
        json_line(&l, r);
    else
        text_line(&l, r);
    /* A line cut at the buffer's end still ends the line. */
    if (l.n == sizeof(l.buf) - 1 && l.buf[l.n - 1] != '\n')
        l.buf[l.n - 1] = '\n';
    append(l.buf, l.n);
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
