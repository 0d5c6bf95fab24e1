/* Request parsers lent to connections only while they read or answer a
 * request: see conn_parser.h.
 *
 * evhtp touches a connection's parser when it reads (its read callback,
 * which reaches it only through conn.c's wrapper, or directly from its resume
 * and write callbacks when input is waiting), when a hook asks for the
 * method or version of a request in progress, when its write callback ends a
 * keep-alive request (htparser_init), and when it frees the connection (a
 * NULL parser is fine there). So a connection may go without one exactly
 * when it has no request, no unread input and is not paused: its next use
 * then starts with a socket read, through the wrapper, which gives one back
 * first. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdlib.h>

#include "http/conn_parser.h"
#include "lib/spares.h"
#include "snapgate/common.h"
#include "worker/wstate.h"

void sg_conn_parser_acquire(struct sg_wstate *ws, evhtp_connection_t *c)
{
    if (c->parser)
        return;
    htparser *p = ws->nspare_parsers ? ws->spare_parsers[--ws->nspare_parsers] : htparser_new();
    if (!p)
        abort(); /* allocation only, as sg_xmalloc */
    htparser_init(p, htp_type_request);
    htparser_set_userdata(p, c);
    c->parser = p;
}

void sg_conn_parser_release(struct sg_wstate *ws, evhtp_connection_t *c, size_t held_bytes)
{
    if (!c->parser || c->request || held_bytes > 0 || (c->flags & EVHTP_CONN_FLAG_PAUSED) ||
        !c->bev || evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
        return;
    htparser *p = c->parser;
    c->parser = NULL;
    if (SG_KEEP_SPARES && ws->nspare_parsers < SG_ARRAY_LEN(ws->spare_parsers))
        ws->spare_parsers[ws->nspare_parsers++] = p;
    else
        free(p); /* evhtp's htparser_new is plain malloc */
}

void sg_conn_parsers_free(struct sg_wstate *ws)
{
    while (ws->nspare_parsers > 0)
        free(ws->spare_parsers[--ws->nspare_parsers]);
}
