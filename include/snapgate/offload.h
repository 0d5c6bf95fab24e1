/* The offload port: how a module runs CPU-heavy work (password hashes) on
 * the core's offload pool without blocking its worker's event loop. Work runs
 * on a pool thread; its completion comes back on the port's loop thread. The
 * pool itself (start, stop, cancel on a dead loop) is the core's
 * (gateway/lib/offload.h). Part of the module ABI (auth/basic uses it). */
#ifndef SG_OFFLOAD_PORT_H
#define SG_OFFLOAD_PORT_H

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

/* A completion channel on base, created and used on base's loop thread. One
 * consumer (a module instance) owns each port. Never NULL (aborts on OOM). */
struct sg_offload_port *sg_offload_port_new(struct event_base *base);

/* Cancels the port's jobs still queued, waits for its jobs running on pool
 * threads to finish (bounded by one job's work), then calls done for all of
 * them right here, before returning, and frees the port. Call it on the loop
 * thread, never from inside one of the port's done callbacks; the done
 * callbacks it runs must not submit to this port. */
void sg_offload_port_free(struct sg_offload_port *port);

/* Queues work(arg) for a pool thread, then done(arg, false) on port's loop.
 * Returns SG_OK (done will come, never from inside this call), or SG_ERR when
 * the pool is not running, is stopping, holds SG_OFFLOAD_QUEUE_MAX jobs, or
 * the port's base was cancelled; then neither work nor done runs and arg stays
 * the caller's. */
int sg_offload_submit(struct sg_offload_port *port, sg_offload_work_fn work,
                      sg_offload_done_fn done, void *arg);

#endif
