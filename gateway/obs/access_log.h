/* The access log: one line per request on stdout, JSON or text by log.format. */
#ifndef SG_ACCESS_LOG_H
#define SG_ACCESS_LOG_H

#include <stdint.h>

struct sg_access_rec {
    const char *request_id;
    const char *method;
    const char *path; /* as received; truncated in the line when long */
    int status;
    const char *cache;   /* HIT MISS STALE BYPASS, or "-" when the cache was not consulted */
    const char *backend; /* backend name, or "-" */
    const char *user;    /* authenticated principal, or "-"; never a credential */
    int upstream_status; /* 0 when none */
    uint64_t duration_us;
    uint64_t upstream_ms;
    const char *protocol; /* "rest" or "jsonrpc" */
    /* JSON-RPC only (always HTTP 200): what the answer said, "ok", a vAPI
     * error_type ("NOT_FOUND") or a JSON-RPC code ("-32700"); "-" on REST. */
    const char *outcome;
};

/* Buffers one line in the calling thread's batch. */
void sg_access_log(const struct sg_access_rec *rec);
/* Writes the calling thread's batch. */
void sg_access_log_flush(void);

#endif
