/* Request ids: a per-process random prefix, the worker and a counter. Unique
 * across replicas without coordination, and cheap (no syscalls per request). */
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/conn.h"
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

void sg_request_id_new(struct sg_wstate *ws, char *out, size_t cap)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_prefix);
    snprintf(out, cap, "%s-%u-%llx", prefix, sg_worker_id(ws->worker),
             (unsigned long long)++ws->seq);
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
