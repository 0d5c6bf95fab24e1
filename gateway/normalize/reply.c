#include <stdio.h>
#include <string.h>

#include "normalize/reply.h"
#include "snapgate/common.h"

#define STD_ERROR(type, id, msg)                                                                   \
    "{\"error_type\":\"" type "\",\"messages\":[{\"id\":\"" id "\",\"default_message\":\"" msg     \
    "\",\"args\":[]}]}"

#define ENTRY(e, code, phrase, type, id, msg)                                                      \
    [e] = {code, phrase, STD_ERROR(type, id, msg), sizeof(STD_ERROR(type, id, msg)) - 1, type}

static const struct sg_error_reply replies[SG_E__COUNT] = {
    ENTRY(SG_E_INVALID_ARGUMENT, 400, "Bad Request", "INVALID_ARGUMENT",
          "com.vmware.snapgate.invalid_task_id", "The task identifier is not valid."),
    /* No detail about which part of the credential was wrong. */
    ENTRY(SG_E_UNAUTHENTICATED, 401, "Unauthorized", "UNAUTHENTICATED",
          "com.vmware.vapi.endpoint.method.authentication.required", "Authentication required."),
    ENTRY(SG_E_UNAUTHORIZED, 403, "Forbidden", "UNAUTHORIZED",
          "com.vmware.vapi.endpoint.method.authorization.denied", "Permission denied."),
    ENTRY(SG_E_NOT_FOUND, 404, "Not Found", "NOT_FOUND", "com.vmware.snapgate.task.not_found",
          "The task was not found."),
    ENTRY(SG_E_NO_ROUTE, 404, "Not Found", "NOT_FOUND", "com.vmware.snapgate.path.not_found",
          "No operation is served at this path."),
    ENTRY(SG_E_BAD_METHOD, 405, "Method Not Allowed", "INVALID_REQUEST",
          "com.vmware.snapgate.method.not_allowed",
          "This method is not allowed on this path (Allow names those that are)."),
    ENTRY(SG_E_HEAD_TIMEOUT, 408, "Request Timeout", "TIMED_OUT",
          "com.vmware.snapgate.request.head_timeout", "The request head was not received in time."),
    ENTRY(SG_E_BODY_TOO_LARGE, 413, "Content Too Large", "INVALID_ARGUMENT",
          "com.vmware.snapgate.request.body_too_large", "The request body is larger than 64 KiB."),
    ENTRY(SG_E_URI_TOO_LONG, 414, "URI Too Long", "INVALID_ARGUMENT",
          "com.vmware.snapgate.request.uri_too_long", "The request URI is longer than 8 KiB."),
    ENTRY(SG_E_HEADERS_TOO_LARGE, 431, "Request Header Fields Too Large", "INVALID_ARGUMENT",
          "com.vmware.snapgate.request.headers_too_large",
          "The request has more than 100 headers or more than 32 KiB of them."),
    ENTRY(SG_E_ERROR, 500, "Internal Server Error", "ERROR",
          "com.vmware.snapgate.backend.invalid_answer",
          "The backend answered with something that is not a valid task."),
    ENTRY(SG_E_INACCESSIBLE, 500, "Internal Server Error", "RESOURCE_INACCESSIBLE",
          "com.vmware.snapgate.task.inaccessible", "The state of the task cannot be read."),
    ENTRY(SG_E_UNAVAILABLE, 503, "Service Unavailable", "SERVICE_UNAVAILABLE",
          "com.vmware.snapgate.backend.unavailable", "No backend could answer."),
    /* The session store (Redis) failed: sessions fail closed, and say it is not a backend. */
    ENTRY(SG_E_SESSIONS_UNAVAILABLE, 503, "Service Unavailable", "SERVICE_UNAVAILABLE",
          "com.vmware.snapgate.sessions.unavailable", "The session store could not be reached."),
    /* Header routing: the header names the backend; the body says which header. */
    ENTRY(SG_E_BAD_BACKEND, 400, "Bad Request", "INVALID_ARGUMENT",
          "com.vmware.snapgate.invalid_backend",
          "The X-Snapgate-Backend header must name a configured backend."),
};

const struct sg_error_reply *sg_error_reply(enum sg_error e)
{
    return &replies[e];
}

enum sg_error sg_error_for_outcome(enum sg_outcome o)
{
    switch (o) {
    case SG_OUT_NOT_FOUND:
        return SG_E_NOT_FOUND;
    case SG_OUT_UNAUTHORIZED:
        return SG_E_UNAUTHORIZED;
    case SG_OUT_INACCESSIBLE:
        return SG_E_INACCESSIBLE;
    case SG_OUT_ERROR:
    case SG_OUT_INFO:
        return SG_E_ERROR;
    case SG_OUT_UNAUTHENTICATED: /* service account rejected: the operator's problem */
    case SG_OUT_UNAVAILABLE:
        return SG_E_UNAVAILABLE;
    }
    return SG_E_ERROR;
}

char *sg_error_reply_raw(enum sg_error e, const char *request_id, size_t *len)
{
    const struct sg_error_reply *r = &replies[e];
    char *out = sg_xasprintf("HTTP/1.1 %d %s\r\n"
                             "Content-Type: application/json\r\n"
                             "Content-Length: %zu\r\n"
                             "Connection: close\r\n"
                             "X-Request-Id: %s\r\n"
                             "\r\n"
                             "%s",
                             r->status, r->reason, r->len, request_id, r->body);
    *len = strlen(out);
    return out;
}

/* Compares one entity-tag token [s, s+n) with etag, ignoring a W/ prefix. */
static int tag_equal(const char *s, size_t n, const char *etag)
{
    if (n >= 2 && s[0] == 'W' && s[1] == '/') {
        s += 2;
        n -= 2;
    }
    return n == strlen(etag) && memcmp(s, etag, n) == 0;
}

int sg_etag_matches(const char *inm, const char *etag)
{
    const char *p = inm;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        if (*p == '*')
            return 1;
        const char *start = p;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (*p != '"')
            return 0; /* malformed: never match */
        const char *end = strchr(p + 1, '"');
        if (!end)
            return 0;
        if (tag_equal(start, (size_t)(end + 1 - start), etag))
            return 1;
        p = end + 1;
    }
    return 0;
}
