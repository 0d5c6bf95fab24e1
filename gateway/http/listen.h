#ifndef SG_LISTEN_H
#define SG_LISTEN_H

#include <evhtp/evhtp.h>

struct sg_wstate;
struct sg_accept_guard;

/* Binds htp to hostport ("127.0.0.1:8080", "[::1]:8080"); SG_OK or SG_ERR. */
int sg_listen_bind(evhtp_t *htp, const char *hostport, int backlog);

/* How long a listener rests after accept() failed (EMFILE and the like): the
 * pending connection stays in the kernel's queue and would wake the loop
 * again at once, so without the rest the loop spins at 100 % CPU. */
#define SG_ACCEPT_PAUSE_MS 100

/* Keeps htp's bound listener from spinning and flooding the log when accept()
 * fails: the listener pauses SG_ACCEPT_PAUSE_MS after each failure, and the
 * failures (and the connections refused over max_connections, see
 * sg_accept_guard_refused) are logged under module at most once a second,
 * with their count. With ws (a worker's listener, on ws's thread) they are
 * also counted in ws's metrics. Create it after sg_listen_bind, before htp's
 * loop runs; free it after evhtp_free(htp), before the loop's base. It takes
 * htp's user slot (htp->arg), which must be unused. Never NULL. */
struct sg_accept_guard *sg_accept_guard_new(evhtp_t *htp, const char *module, struct sg_wstate *ws);
/* A connection was closed at once because max_connections was reached. */
void sg_accept_guard_refused(struct sg_accept_guard *g, unsigned long long cap);
void sg_accept_guard_free(struct sg_accept_guard *g);

#endif
