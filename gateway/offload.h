/* The offload pool: a few process-wide threads for CPU-heavy work (password
 * hashes) that must not block an event loop. Work runs on a pool thread; its
 * completion comes back on the submitting loop's thread through a port.
 *
 * Threading rule: libevent must be made thread-aware with evthread_use_pthreads()
 * before any event base that owns a port is created (main does it first thing;
 * tests must too), because pool threads wake the loop with event_active(). */
#ifndef SG_OFFLOAD_H
#define SG_OFFLOAD_H

#include <stdbool.h>

struct event_base;
struct sg_offload_port;

/* Jobs waiting for a thread beyond this many make sg_offload_submit fail at
 * once: a caller gets an answer now instead of queueing behind minutes of work. */
#define SG_OFFLOAD_QUEUE_MAX 1024

/* Runs on a pool thread; must not touch loop-owned state. */
typedef void (*sg_offload_work_fn)(void *arg);
/* Runs on the port's loop thread, exactly once per accepted job. cancelled is
 * true when sg_offload_port_free removed the job before work ran (work never
 * ran); otherwise work has finished. */
typedef void (*sg_offload_done_fn)(void *arg, bool cancelled);

/* Starts nthreads (>= 1) pool threads with every signal blocked. Returns SG_OK,
 * or SG_ERR when already running, nthreads is 0 or a thread cannot be created. */
int sg_offload_start(unsigned nthreads);

/* Refuses new jobs, lets the threads finish every job already queued (each one's
 * done is then delivered through its port as usual), and joins them. Nothing is
 * cancelled here. A no-op when the pool is not running; it may be started again. */
void sg_offload_stop(void);

/* A completion channel on base, created and used on base's loop thread. One
 * consumer (a module instance) owns each port. Never NULL (aborts on OOM). */
struct sg_offload_port *sg_offload_port_new(struct event_base *base);

/* Cancels the port's jobs still queued, waits for its jobs running on pool
 * threads to finish (bounded by one job's work), then calls done for all of
 * them right here, before returning, and frees the port. Call it on the loop
 * thread, never from inside one of the port's done callbacks; the done
 * callbacks it runs must not submit to this port. */
void sg_offload_port_free(struct sg_offload_port *port);

/* For a loop that has stopped for good (a worker cut off by the drain timeout),
 * before anything its ports' owners hold is torn down: closes every port on
 * base to new jobs, cancels their queued jobs, waits for their running ones,
 * and calls all their done callbacks right here (cancelled, or finished) before
 * returning. Without it a queued job keeps its caller (and so the port) alive
 * past the loop, and a pool thread later wakes a freed base. Call it on the
 * thread that owns base (or after joining it); the ports stay valid for
 * sg_offload_port_free. */
void sg_offload_cancel_base(struct event_base *base);

/* Queues work(arg) for a pool thread, then done(arg, false) on port's loop.
 * Returns SG_OK (done will come, never from inside this call), or SG_ERR when
 * the pool is not running, is stopping, holds SG_OFFLOAD_QUEUE_MAX jobs, or
 * the port's base was cancelled; then neither work nor done runs and arg stays
 * the caller's. */
int sg_offload_submit(struct sg_offload_port *port, sg_offload_work_fn work,
                      sg_offload_done_fn done, void *arg);

#endif
