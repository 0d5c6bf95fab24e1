/* See read_now.h. libevent reads a socket bufferevent with evbuffer_read,
 * which first asks the kernel how many bytes are queued (ioctl FIONREAD) to
 * size the read, then reads at most 4096 of them. For a poll of a few
 * hundred bytes that ioctl is a whole extra syscall per request: about 3 % of
 * a cache hit's CPU on loopback (perf, issue 14). Reading into a 4096-byte
 * scratch buffer and appending what came needs no size up front; the copy of
 * a few hundred bytes costs far less than the syscall.
 *
 * This replaces the callback of the bufferevent's read event (struct
 * bufferevent's ev_read, from event2/bufferevent_struct.h, which libevent
 * installs for this). libevent itself only ever adds and deletes that event
 * afterwards (enable, disable, timeouts), so the replacement stays in place;
 * bufferevent_setfd would assign it again, and nothing calls that on an
 * accepted connection. Its own callback is kept for the case it handles that
 * this does not (a read high-water mark). Rate limits are not used here. */
#include <errno.h>
#include <stdatomic.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>

#include "http/read_now.h"

/* libevent's EVBUFFER_MAX_READ: no more per event than libevent would read. */
#define READ_MAX 4096

/* libevent's bufferevent_readcb (static there): the same function for every
 * socket bufferevent, stored by every worker that installs this. */
static _Atomic(event_callback_fn) libevent_readcb;

/* Whether the bufferevent's owner holds its reading back for now (see
 * sg_read_now_install); the same function for every connection. */
static _Atomic(sg_read_now_held_fn) held_fn;

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct bufferevent *bev = arg;
    sg_read_now_held_fn held = atomic_load_explicit(&held_fn, memory_order_relaxed);
    if (held && held(bev)) {
        /* Bytes (or EOF) came while the owner holds reading back: nothing is
         * read, and reading is disabled now rather than when the hold began.
         * The owner enables it again when the hold ends. */
        bufferevent_disable(bev, EV_READ);
        return;
    }
    if (bev->wm_read.high != 0) {
        atomic_load_explicit(&libevent_readcb, memory_order_relaxed)(fd, what, arg);
        return;
    }
    short why = BEV_EVENT_READING;
    bufferevent_incref(bev); /* a callback below may free it: not before we return */
    if (what == EV_TIMEOUT) {
        /* EV_TIMEOUT|EV_READ means a read came in time, as libevent decides. */
        why |= BEV_EVENT_TIMEOUT;
        goto report;
    }
    char scratch[READ_MAX];
    ssize_t n;
    do
        n = read(fd, scratch, sizeof(scratch));
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        struct evbuffer *in = bufferevent_get_input(bev);
        /* A bufferevent keeps its input's end frozen against its user; its own
         * read thaws it around the read, as here. */
        evbuffer_unfreeze(in, 0);
        int added = evbuffer_add(in, scratch, (size_t)n);
        evbuffer_freeze(in, 0);
        if (added == 0) {
            bufferevent_trigger(bev, EV_READ, 0);
            goto done;
        }
        errno = ENOMEM;
        why |= BEV_EVENT_ERROR;
        goto report;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        goto done; /* a spurious wakeup: wait for the next */
    why |= n == 0 ? BEV_EVENT_EOF : BEV_EVENT_ERROR;

report : {
    /* As libevent: stop reading, then tell the owner (errno kept for it). */
    int saved = errno;
    bufferevent_disable(bev, EV_READ);
    errno = saved;
    bufferevent_trigger_event(bev, why, 0);
}
done:
    bufferevent_decref(bev);
}

bool sg_read_now_installed(struct bufferevent *bev)
{
    return event_get_callback(&bev->ev_read) == on_readable;
}

void sg_read_now_install(struct bufferevent *bev, sg_read_now_held_fn held)
{
    struct event *ev = &bev->ev_read;
    evutil_socket_t fd = event_get_fd(ev);
    if (fd < 0 || event_get_callback_arg(ev) != bev || sg_read_now_installed(bev))
        return;
    atomic_store_explicit(&libevent_readcb, event_get_callback(ev), memory_order_relaxed);
    atomic_store_explicit(&held_fn, held, memory_order_relaxed);
    /* Not active yet (the accept callback runs first), maybe pending: taken
     * out, reassigned with libevent's own flags, and put back as it was. */
    int pending = event_pending(ev, EV_READ, NULL);
    event_del(ev);
    event_assign(ev, event_get_base(ev), fd, event_get_events(ev), on_readable, bev);
    if (pending)
        event_add(ev, evutil_timerisset(&bev->timeout_read) ? &bev->timeout_read : NULL);
}
