/* What the request_*.c files share: the request itself and the steps each
 * file owns. The life of a request is described in request.c. */
#ifndef SG_REQUEST_INT_H
#define SG_REQUEST_INT_H

#include <assert.h>
#include <evhtp/evhtp.h>
#include <stdbool.h>
#include <stdint.h>

#include "cache/cache_store.h"
#include "cache/flight.h"
#include "normalize/reply.h"
#include "snapgate/auth.h"
#include "snapgate/cache.h"
#include "auth/session.h"
#include "auth/throttle.h"
#include "http/jsonrpc_request.h"

struct sg_wstate;

/* What a routed request asks for. */
enum sg_req_kind {
    SG_REQ_TASK = 0, /* GET|HEAD /api/snapservice/tasks/{task} */
    SG_REQ_RPC,      /* POST /api, /snapservice: r->rpc says which operation */
    SG_REQ_SESSIONS, /* POST|GET|DELETE /api/snapservice/sessions */
};

struct sg_request {
    int refs;
    bool finished;
    bool paused;
    bool in_http_callback; /* inside sg_request_on_http: evhtp is parsing */
    unsigned calling;      /* calls under way that take a completion for this request */
    evhtp_request_t *ev;   /* NULL once evhtp has freed the request */
    struct sg_wstate *ws;
    struct event *deadline;
    struct event *delay_timer; /* a throttled attempt or 401 waits on it */
    /* Failed-login protection (gateway/auth/throttle.h): the keys, built once. */
    bool thr_built;
    bool thr_waited;    /* held: waited before its check, its 401 does not wait again */
    bool thr_refused;   /* held past the bound: a 401 after the wait, never checked */
    bool thr_pair_slot; /* a held slot to give back (sg_throttle_release) */
    bool thr_addr_slot;
    /* "ip:ADDR", "user:NAME", "pair:ADDR\x1fNAME"; "" when not known */
    char thr_addr[INET6_ADDRSTRLEN + 8];
    char thr_user[SG_PRINCIPAL_NAME_MAX + 8];
    char thr_pair[INET6_ADDRSTRLEN + SG_PRINCIPAL_NAME_MAX + 8];
    uint64_t started_us;
    struct sg_auth_set *auth;           /* the chain this request is checked by, held */
    const struct sg_auth_inst *auth_by; /* the provider asked last */
    size_t auth_next;
    struct sg_principal principal;
    bool authenticated;

    enum sg_req_kind kind;
    /* JSON-RPC: the parsed body (its credentials wiped at finish), NULL on
     * REST. Its id is echoed by every answer. */
    struct sg_rpc_request *rpc; /* &rpc_storage on JSON-RPC, else NULL */
    int rpc_error;              /* the vAPI error answered (enum sg_error), -1 none: access log */
    int rpc_protocol_error;     /* the JSON-RPC error code answered, 0 none */
    /* The credentials the provider chain checks, chosen once (request_cred.c):
     * an Authorization value (the header, or a user_pass context as Basic),
     * a session id (vmware-api-session-id, or a session_id context), or a
     * raw SAML assertion with its holder-of-key proof. */
    const char *cred_header;
    char *cred_basic; /* owned, wiped: the Basic value made from user_pass */
    const char *cred_session;
    size_t cred_session_len;
    const char *cred_saml;
    size_t cred_saml_len;
    bool cred_has_proof;
    struct sg_auth_proof cred_proof;
    char *cred_signing_input; /* owned */
    bool cred_presented;      /* some credential came: its failure counts (throttle) */
    bool session_checked;     /* the session store was asked about cred_session */
    bool by_session;          /* authenticated by a snapgate session */
    struct sg_session_info session_info;
    char new_session[SG_SESSION_ID_LEN + 1];
    bool head;
    char method[8];
    char id[80];
    char task[SG_TASK_ID_MAX + 1];
    char cache_key[SG_CACHE_KEY_MAX + 1]; /* the task, or task and backend (header routing) */
    char *path;                           /* as received, for the access log */

    struct sg_flight_waiter waiter; /* membership in a flight while fetching */
    struct sg_cache_entry *stale;   /* newest expired entry seen, for stale_if_error */
    bool shared_failed;             /* the shared tier failed: answer BYPASS */
    bool pair_unknown;    /* delegated: the backend has not yet said whether this caller may */
    bool reauthenticated; /* delegated: the one fresh exchange after a refused session is used */
    int backend_index;    /* the backend the request is bound to (header, delegation), -1 none */

    const char *why; /* why a 5xx answer, for its error line; NULL: the backend failed */

    /* what the access log says */
    int status;
    const char *cache;
    const char *backend;
    int upstream_status;
    uint64_t upstream_ms;

    /* Kept in the request, not allocated per call: a JSON-RPC poll is a
     * cache hit whose every allocation shows (http/jsonrpc_request.h). */
    struct sg_rpc_request rpc_storage;
};

/* A call that takes a completion for r: the caller has taken the completion's
 * reference already. */
#define CALL_BEGIN(r) ((r)->calling++)
#define CALL_END(r) ((r)->calling--)
#define ASSERT_NOT_INSIDE_CALL(r)                                                                  \
    assert((r)->calling == 0 && "a completion ran inside the call that started it")

/* Asks the providers from r->auth_next on (request_auth.c). */
void req_auth_continue(struct sg_request *r);
/* Runs the provider chain from its start, throttled where it must (request_auth.c). */
void req_auth_start(struct sg_request *r);
/* The chain said who the caller is: authorize, bind, look up (request_cache.c). */
void req_authenticated(struct sg_request *r);
/* The reference taken for a completion that will not come (the call answered
 * synchronously). Never the last: the caller's frame holds another. */
void req_drop_unused_ref(struct sg_request *r);
/* After a call that takes a completion for r (its reference taken before the
 * call): SG_AGAIN means the completion will come, so the request waits for it
 * (paused, its deadline running) and this returns false; any other rc was
 * answered at once, so the completion's reference is dropped and this returns
 * true: the caller acts on rc now. */
bool req_call_settled(struct sg_request *r, int rc);
/* A miss: joins or leads the task's flight (request_cache.c). */
void req_fetch(struct sg_request *r);
/* Answers with the vAPI error e (request_reply.c). */
void req_finish_error(struct sg_request *r, enum sg_error e);
/* Before the first asynchronous step: evhtp stops reading, the deadline starts. */
void req_go_async(struct sg_request *r);
/* Monotonic microseconds, for durations. */
uint64_t req_now_us(void);
/* Answers from a cached or fetched entry, X-Cache cache (request_reply.c). */
void req_reply_entry(struct sg_request *r, struct sg_cache_entry *e, const char *cache);
/* Drops one reference; the last frees the request. */
void req_put(struct sg_request *r);
/* Gives back the held throttle slots of the attempt (request_auth.c). */
void req_throttle_release(struct sg_request *r);

/* Chooses the credentials the chain checks (request_cred.c). */
void req_cred_choose(struct sg_request *r);
/* Wipes and frees what req_cred_choose made. */
void req_cred_clear(struct sg_request *r);

/* JSON-RPC (request_rpc.c): parses the body, answers protocol errors, and
 * starts authentication for a valid request. */
void req_rpc_begin(struct sg_request *r);
/* Sessions (request_session.c): what an authenticated session operation does,
 * REST or JSON-RPC. */
void req_session_op(struct sg_request *r);
/* The answer of an authenticated request: the task's way through the cache,
 * or a session operation. */
void req_dispatch(struct sg_request *r);

/* JSON-RPC answers (request_rpc_reply.c), all HTTP 200. */
void req_rpc_reply_error(struct sg_request *r, enum sg_error e);
void req_rpc_reply_entry(struct sg_request *r, struct sg_cache_entry *e, const char *cache);
/* output: a DataValue (borrowed), "null" for none. */
void req_rpc_reply_output(struct sg_request *r, const char *output, size_t len);
/* A JSON-RPC 2.0 protocol error (code -32700 .. -32602). */
void req_rpc_reply_protocol(struct sg_request *r, int code);
/* Sends what is staged with status (request_reply.c). */
void req_send(struct sg_request *r, int status);
/* Stages the headers every answer carries (request_reply.c). */
void req_stage_common(struct sg_request *r);

/* Answers written to the connection without evhtp's reply (request_reply.c):
 * when req_raw_begin says yes (a 200 with a body on an HTTP/1 connection, not
 * draining), add the headers to h, write the head with req_raw_head (NULL:
 * it did not fit, use evhtp's reply instead), append the body to what it
 * returns, then req_raw_finish. The bytes equal evhtp's for the same headers
 * (test_hit_bytes). */
struct sg_reply_head;
bool req_raw_begin(const struct sg_request *r, struct sg_reply_head *h);

/* Where an answer's headers go: the prepared head of an answer written
 * directly (raw set), or else evhtp's header list of ev. One list of an
 * answer's headers then serves both writers. */
struct req_headers {
    struct sg_reply_head *raw;
    evhtp_request_t *ev;
};
void req_header(const struct req_headers *to, const char *name, const char *value);
struct evbuffer *req_raw_head(struct sg_request *r, struct sg_reply_head *h, size_t body_len);
void req_raw_finish(struct sg_request *r);

#endif
