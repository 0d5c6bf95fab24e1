/* Requests that dialects build for the upstream client. */
#include <stdlib.h>

#include "snapgate/common.h"
#include "snapgate/dialect.h"

void sg_http_req_add_header(struct sg_http_req *r, const char *name, const char *value)
{
    /* A dialect adding more than the fixed slots is a programming error. */
    if (r->nheaders >= SG_HTTP_REQ_MAX_HEADERS)
        abort();
    r->header_names[r->nheaders] = sg_xstrdup(name);
    r->header_values[r->nheaders] = sg_xstrdup(value);
    r->nheaders++;
}

void sg_http_req_clear(struct sg_http_req *r)
{
    free(r->path);
    free(r->body);
    for (size_t i = 0; i < r->nheaders; i++) {
        free(r->header_names[i]);
        free(r->header_values[i]);
    }
    *r = (struct sg_http_req){0};
}
