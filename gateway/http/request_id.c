/* Request ids: a per-process random prefix, the worker and a counter. Unique
 * across replicas without coordination, and cheap (no syscalls per request). */
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/conn.h"
#include "http/reply_head.h"
#include "worker/worker.h"
#include "worker/wstate.h"

static char prefix[13];

static void init_prefix(void)
{
    unsigned char r[6];
    if (RAND_bytes(r, sizeof(r)) != 1)
        abort();
    snprintf(prefix, sizeof(prefix), "%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4],
             r[5]);
}

/* value in lower-case hex, no leading zeros, at out; returns the end. */
static char *put_hex(char *out, unsigned long long value)
{
    char digits[16];
    size_t n = sizeof(digits);
    do {
        digits[--n] = "0123456789abcdef"[value & 0xf];
        value >>= 4;
    } while (value > 0);
    memcpy(out, digits + n, sizeof(digits) - n);
    return out + sizeof(digits) - n;
}

/* "<prefix>-<worker>-<seq in hex>", formatted by hand: this runs for every
 * request without an id of its own, and snprintf was a visible share of a
 * cache hit's CPU (issue 14). */
void sg_request_id_new(struct sg_wstate *ws, char *out, size_t cap)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_prefix);
    char worker[SG_REPLY_U64_TEXT];
    sg_reply_u64_text(worker, "-", sg_worker_id(ws->worker));
    size_t p = sizeof(prefix) - 1, w = strlen(worker);
    /* 12 + 11 + 1 + 16 bytes and the NUL: every caller's buffer is larger. */
    if (cap < p + w + 1 + 16 + 1) {
        if (cap)
            out[0] = '\0';
        return;
    }
    memcpy(out, prefix, p);
    memcpy(out + p, worker, w);
    out[p + w] = '-';
    *put_hex(out + p + w + 1, (unsigned long long)++ws->seq) = '\0';
}

void sg_request_id_choose(struct sg_wstate *ws, evhtp_headers_t *hdrs, char *out, size_t cap)
{
    /* NULL when absent, and for a header whose value was never read whole. */
    const char *given = hdrs ? evhtp_header_find(hdrs, "X-Request-Id") : NULL;
    if (given) {
        size_t n = strlen(given);
        bool ok = n > 0 && n < cap;
        /* No quote or backslash: the id goes into log lines as it is. */
        for (size_t i = 0; ok && i < n; i++)
            ok = given[i] > 0x20 && given[i] < 0x7f && given[i] != '"' && given[i] != '\\';
        if (ok) {
            memcpy(out, given, n + 1);
            return;
        }
    }
    sg_request_id_new(ws, out, cap);
}
