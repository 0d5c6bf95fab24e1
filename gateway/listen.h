#ifndef SG_LISTEN_H
#define SG_LISTEN_H

#include <evhtp/evhtp.h>

/* Binds htp to hostport ("127.0.0.1:8080", "[::1]:8080"); SG_OK or SG_ERR. */
int sg_listen_bind(evhtp_t *htp, const char *hostport, int backlog);

#endif
