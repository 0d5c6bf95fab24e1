/* The offload pool: a few process-wide threads for CPU-heavy work (password
 * hashes) that must not block an event loop. Work runs on a pool thread; its
 * completion comes back on the submitting loop's thread through a port
 * (snapgate/offload.h: what modules use). This header is the core's side:
 * the pool's lifecycle.
 *
 * Threading rule: libevent must be made thread-aware with evthread_use_pthreads()
 * before any event base that owns a port is created (main does it first thing;
 * tests must too), because pool threads wake the loop with event_active(). */
#ifndef SG_OFFLOAD_H
#define SG_OFFLOAD_H

#include "snapgate/offload.h"

struct event_base;

/* Starts nthreads (>= 1) pool threads with every signal blocked. Returns SG_OK,
 * or SG_ERR when already running, nthreads is 0 or a thread cannot be created. */
int sg_offload_start(unsigned nthreads);

/* Refuses new jobs, lets the threads finish every job already queued (each one's
 * done is then delivered through its port as usual), and joins them. Nothing is
 * cancelled here. A no-op when the pool is not running; it may be started again. */
void sg_offload_stop(void);

/* For a loop that has stopped for good (a worker cut off by the drain timeout),
 * before anything its ports' owners hold is torn down: closes every port on
 * base to new jobs, cancels their queued jobs, waits for their running ones,
 * and calls all their done callbacks right here (cancelled, or finished) before
 * returning. Without it a queued job keeps its caller (and so the port) alive
 * past the loop, and a pool thread later wakes a freed base. Call it on the
 * thread that owns base (or after joining it); the ports stay valid for
 * sg_offload_port_free. */
void sg_offload_cancel_base(struct event_base *base);

#endif
