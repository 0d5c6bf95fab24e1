/* JSON-RPC answers (POST /api): always HTTP 200 (the SDK reads no body of any
 * other status), the request's id spliced between a fixed prefix and a
 * suffix made earlier: per cache entry for a task Info, once per process for
 * each error, once per auth set for "unauthenticated" (it names the schemes).
 * Nothing here renders JSON except the rare protocol error. */
#include <event2/buffer.h>
#include <evhtp/evhtp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_set.h"
#include "http/jsonrpc_request.h"
#include "http/reply_head.h"
#include "http/request_int.h"
#include "normalize/datavalue.h"
#include "obs/metrics.h"

static struct {
    char *text;
    size_t len;
} error_suffix[SG_E__COUNT];

static void make_error_suffixes(void)
{
    for (int e = 0; e < SG_E__COUNT; e++) {
        size_t dv_len = 0;
        char *dv = sg_dv_error_reply((enum sg_error)e, NULL, &dv_len);
        if (!dv)
            abort(); /* every kind has an error DataValue: a bug otherwise */
        error_suffix[e].text = sg_dv_envelope_suffix(SG_DV_ERROR, dv, dv_len, &error_suffix[e].len);
        free(dv);
    }
}

static void on_entry_sent(const void *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    sg_cache_entry_put(arg);
}

/* Who owns the suffix, so the buffer need not copy it. */
enum suffix_owner {
    SUFFIX_STATIC, /* the process: never freed */
    SUFFIX_ENTRY,  /* entry: the buffer holds a reference until it is written */
    SUFFIX_COPY,   /* the caller, who frees it after the call: copied */
};

static void add_envelope(struct sg_request *r, struct evbuffer *out, const char *suffix, size_t len,
                         enum suffix_owner owner, struct sg_cache_entry *entry)
{
    evbuffer_add_reference(out, SG_DV_ENVELOPE_PREFIX, SG_DV_ENVELOPE_PREFIX_LEN, NULL, NULL);
    if (r->rpc->id_len)
        evbuffer_add(out, r->rpc->id, r->rpc->id_len);
    else
        evbuffer_add_reference(out, "null", 4, NULL, NULL);
    if (owner == SUFFIX_ENTRY && entry)
        evbuffer_add_reference(out, suffix, len, on_entry_sent, sg_cache_entry_get(entry));
    else if (owner == SUFFIX_STATIC)
        evbuffer_add_reference(out, suffix, len, NULL, NULL);
    else
        evbuffer_add(out, suffix, len);
}

/* A JSON-RPC answer's headers after X-Request-Id, for either writer. */
static void rpc_headers(const struct req_headers *to, const struct sg_request *r)
{
    req_header(to, "Content-Type", "application/json");
    if (r->cache)
        req_header(to, "X-Cache", r->cache);
}

/* Stages prefix, id, suffix and sends 200. entry is set for SUFFIX_ENTRY only.
 * Written to the connection directly when it can be (request_int.h). */
static void send_envelope(struct sg_request *r, const char *suffix, size_t len,
                          enum suffix_owner owner, struct sg_cache_entry *entry)
{
    struct sg_reply_head h;
    if (req_raw_begin(r, &h)) {
        rpc_headers(&(struct req_headers){.raw = &h, .ev = r->ev}, r);
        size_t id_len = r->rpc->id_len ? r->rpc->id_len : 4;
        struct evbuffer *out = req_raw_head(r, &h, SG_DV_ENVELOPE_PREFIX_LEN + id_len + len);
        if (out) {
            add_envelope(r, out, suffix, len, owner, entry);
            req_raw_finish(r);
            return;
        }
    }
    if (r->ev) {
        req_stage_common(r);
        rpc_headers(&(struct req_headers){.raw = NULL, .ev = r->ev}, r);
        add_envelope(r, r->ev->buffer_out, suffix, len, owner, entry);
    }
    req_send(r, 200);
}

void req_rpc_reply_error(struct sg_request *r, enum sg_error e)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (r->finished)
        return;
    r->rpc_error = e;
    if (e == SG_E_UNAUTHENTICATED && r->auth) {
        /* The set outlives the answer's bytes? Not surely (a reload): copy. */
        send_envelope(r, r->auth->rpc_unauthenticated, r->auth->rpc_unauthenticated_len,
                      SUFFIX_COPY, NULL);
        return;
    }
    pthread_once(&once, make_error_suffixes);
    send_envelope(r, error_suffix[e].text, error_suffix[e].len, SUFFIX_STATIC, NULL);
}

void req_rpc_reply_entry(struct sg_request *r, struct sg_cache_entry *e, const char *cache)
{
    if (r->finished)
        return;
    r->cache = cache;
    if (e->http_status == 200 && e->rpc) {
        send_envelope(r, e->rpc, e->rpc_len, SUFFIX_ENTRY, e);
        return;
    }
    /* A negative entry (404), or an Info the encoder refused when it was
     * stored (logged then). */
    req_rpc_reply_error(r, e->http_status == 404 ? SG_E_NOT_FOUND : SG_E_ERROR);
}

void req_rpc_reply_output(struct sg_request *r, const char *output, size_t len)
{
    if (r->finished)
        return;
    /* Session answers are rare: made here, copied into the buffer. */
    char *suffix = sg_dv_envelope_suffix(SG_DV_OUTPUT, output, len, &len);
    send_envelope(r, suffix, len, SUFFIX_COPY, NULL);
    free(suffix);
}

void req_rpc_reply_protocol(struct sg_request *r, int code)
{
    if (r->finished)
        return;
    if (r->ev) {
        req_stage_common(r);
        evhtp_headers_add_header(r->ev->headers_out,
                                 evhtp_header_new("Content-Type", "application/json", 0, 0));
        const struct sg_rpc_request *q = r->rpc;
        evbuffer_add_printf(r->ev->buffer_out,
                            "{\"jsonrpc\":\"2.0\",\"id\":%.*s,\"error\":{\"code\":%d,"
                            "\"message\":\"%s\"}}",
                            q && q->id_len ? (int)q->id_len : 4, q && q->id_len ? q->id : "null",
                            code, sg_rpc_code_message((enum sg_rpc_code)code));
    }
    r->rpc_protocol_error = code;
    req_send(r, 200);
}
