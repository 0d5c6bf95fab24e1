/* sd_notify(3) messages for Type=notify units. libsystemd does the socket
 * work (abstract and path sockets, credentials); this file only decides what
 * is said when, and keeps a drain from being followed by READY=1. */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "process/notify.h"
#include "snapgate/log.h"

/* Set by the first sg_notify_stopping(); read from any thread. */
static _Atomic int notify_stopped;

static int notify_send(const char *msg)
{
    /* unset_environment 0: a later message (reload, stop) needs the socket too. */
    int r = sd_notify(0, msg);
    if (r < 0)
        sg_log_warn("notify", "sd_notify failed: %s", strerror(-r));
    return r;
}

int sg_notify_ready(void)
{
    if (atomic_load(&notify_stopped))
        return 0;
    return notify_send("READY=1\nSTATUS=serving");
}

int sg_notify_reloading(void)
{
    if (atomic_load(&notify_stopped))
        return 0;
    /* systemd (Type=notify-reload, v253+) matches the reload by this
     * timestamp; older managers ignore it. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t usec = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    char msg[96];
    snprintf(msg, sizeof(msg), "RELOADING=1\nSTATUS=reloading the config\nMONOTONIC_USEC=%" PRIu64,
             usec);
    return notify_send(msg);
}

int sg_notify_stopping(void)
{
    if (atomic_exchange(&notify_stopped, 1))
        return 0;
    return notify_send("STOPPING=1\nSTATUS=draining");
}
