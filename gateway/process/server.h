/* The process: workers, admin listener, signals, drain and reload
 * (server.c, server_drain.c, server_reload.c, server_purge.c). */
#ifndef SG_SERVER_H
#define SG_SERVER_H

#include <stdint.h>

#include "snapgate/conf.h"

/* Runs until drained; takes ownership of conf. on_ready (may be NULL) runs
 * once every listener is bound. Returns the process exit code: 0 after a clean
 * drain, 2 when a listener cannot be bound. */
int sg_server_run(struct sg_conf *conf, void (*on_ready)(void));

/* Drain timing for a shutdown.drain_timeout: how long the listeners stay open
 * after SIGTERM (min(1 s, timeout / 4)), and when the worker loops are stopped
 * with whatever is still in flight (timeout - min(250 ms, timeout / 10)). */
uint64_t sg_server_listen_grace_ms(uint64_t drain_timeout_ms);
uint64_t sg_server_stop_after_ms(uint64_t drain_timeout_ms);

#endif
