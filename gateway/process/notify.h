/* The systemd notification protocol (sd_notify(3)): tells a service manager
 * that started snapgate with Type=notify when it is ready, reloading or
 * stopping. Without $NOTIFY_SOCKET (not under systemd) every call does nothing.
 *
 * Once sg_notify_stopping() has been sent, sg_notify_ready() and
 * sg_notify_reloading() send nothing: a SIGHUP during a drain must not tell
 * the manager the service is ready again. */
#ifndef SG_NOTIFY_H
#define SG_NOTIFY_H

/* Each returns what sd_notify() returned: > 0 sent, 0 nothing to send to (no
 * $NOTIFY_SOCKET, or suppressed after stopping), < 0 a negative errno. A
 * failure is also logged at warn level; callers may ignore the result. */

/* READY=1 with a STATUS line: listeners are bound and workers run, or a
 * reload has finished (whatever its outcome). */
int sg_notify_ready(void);

/* RELOADING=1 with MONOTONIC_USEC= (CLOCK_MONOTONIC now, in microseconds): a
 * reload starts; sg_notify_ready() must follow when it ends. */
int sg_notify_reloading(void);

/* STOPPING=1: the drain has started. Sent once; later calls return 0. */
int sg_notify_stopping(void);

#endif
