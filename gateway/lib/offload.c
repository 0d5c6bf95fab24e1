/* The offload pool. One mutex-guarded FIFO feeds the threads; each finished job
 * is handed to its port (a per-consumer list plus a libevent event on the
 * consumer's base) and event_active() wakes that loop, which runs done.
 *
 * Why ports and not event_base_once(base, ...) per job: a worker that shuts
 * down must be able to take its jobs back. With a port it can cancel what is
 * still queued and wait for what is running, so no pool thread ever touches a
 * base or an instance that is gone.
 *
 * Lock order: pool.mtx may be held while taking a port's mtx, never the
 * reverse. event_active() is called with the port's mtx held; libevent drops
 * the base lock while running callbacks, so that does not deadlock with a done
 * callback that submits again. */
#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "lib/offload.h"
#include "snapgate/common.h"
#include "snapgate/log.h"

struct offload_job {
    struct offload_job *next;
    struct sg_offload_port *port;
    sg_offload_work_fn work;
    sg_offload_done_fn done;
    void *arg;
    bool cancelled;
};

struct sg_offload_port {
    struct sg_offload_port *next_port; /* in pool.ports, under pool.mtx */
    struct event_base *base;
    bool closed; /* base was cancelled: no new jobs (under pool.mtx) */
    struct event *ev;
    pthread_mutex_t mtx;
    pthread_cond_t idle;
    struct offload_job *done_head, *done_tail; /* finished or cancelled, done not yet run */
    unsigned outstanding;                      /* accepted and not yet on the done list */
};

static struct {
    pthread_mutex_t mtx;
    pthread_cond_t wake;
    pthread_t *threads;
    unsigned nthreads;
    struct offload_job *head, *tail;
    size_t queued;
    bool running;
    bool stopping;
    struct sg_offload_port *ports; /* every live port, for sg_offload_cancel_base */
} pool = {.mtx = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static void list_append(struct offload_job **head, struct offload_job **tail, struct offload_job *j)
{
    j->next = NULL;
    if (*tail)
        (*tail)->next = j;
    else
        *head = j;
    *tail = j;
}

/* Runs every done on the list, in order, and frees the jobs. */
static void run_done_list(struct offload_job *j)
{
    while (j) {
        struct offload_job *next = j->next;
        j->done(j->arg, j->cancelled);
        free(j);
        j = next;
    }
}

static void on_port_ready(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sg_offload_port *port = arg;
    pthread_mutex_lock(&port->mtx);
    struct offload_job *list = port->done_head;
    port->done_head = port->done_tail = NULL;
    pthread_mutex_unlock(&port->mtx);
    run_done_list(list);
}

static void hand_to_port(struct offload_job *j)
{
    struct sg_offload_port *port = j->port;
    pthread_mutex_lock(&port->mtx);
    list_append(&port->done_head, &port->done_tail, j);
    port->outstanding--;
    event_active(port->ev, EV_READ, 0);
    if (port->outstanding == 0)
        pthread_cond_broadcast(&port->idle);
    pthread_mutex_unlock(&port->mtx);
}

static void *on_thread_start(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&pool.mtx);
    for (;;) {
        while (!pool.head && !pool.stopping)
            pthread_cond_wait(&pool.wake, &pool.mtx);
        /* Stopping drains the queue first: only an empty queue ends a thread. */
        if (!pool.head)
            break;
        struct offload_job *j = pool.head;
        pool.head = j->next;
        if (!pool.head)
            pool.tail = NULL;
        pool.queued--;
        pthread_mutex_unlock(&pool.mtx);
        j->work(j->arg);
        hand_to_port(j);
        pthread_mutex_lock(&pool.mtx);
    }
    pthread_mutex_unlock(&pool.mtx);
    return NULL;
}

/* Ends the first n threads once the queue is empty. The caller has set
 * pool.stopping (so nobody else joins) and woken them. */
static void join_threads(unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        pthread_join(pool.threads[i], NULL);
    pthread_mutex_lock(&pool.mtx);
    free(pool.threads);
    pool.threads = NULL;
    pool.nthreads = 0;
    pool.running = false;
    pool.stopping = false;
    pthread_mutex_unlock(&pool.mtx);
}

static void begin_stop(void)
{
    pool.stopping = true;
    pthread_cond_broadcast(&pool.wake);
}

int sg_offload_start(unsigned nthreads)
{
    if (nthreads == 0)
        return SG_ERR;
    /* Pool threads call event_active() on other threads' bases. Harmless when
     * main already did it; bases created before this call are not covered. */
    if (evthread_use_pthreads() != 0)
        return SG_ERR;
    pthread_mutex_lock(&pool.mtx);
    if (pool.threads) { /* running, starting or stopping */
        pthread_mutex_unlock(&pool.mtx);
        return SG_ERR;
    }
    pool.stopping = false;
    pool.threads = sg_xcalloc(nthreads, sizeof(*pool.threads));
    pthread_mutex_unlock(&pool.mtx);

    /* Signals belong to the loops (libevent signal events), not to the pool:
     * the threads inherit a fully blocked mask. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    unsigned started = 0;
    while (started < nthreads &&
           pthread_create(&pool.threads[started], NULL, on_thread_start, NULL) == 0)
        started++;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (started < nthreads) {
        sg_log_error("offload", "cannot start pool thread %u of %u", started + 1, nthreads);
        pthread_mutex_lock(&pool.mtx);
        begin_stop();
        pthread_mutex_unlock(&pool.mtx);
        join_threads(started);
        return SG_ERR;
    }
    /* Only now may jobs come in: every accepted job has a thread to run it. */
    pthread_mutex_lock(&pool.mtx);
    pool.nthreads = nthreads;
    pool.running = true;
    pthread_mutex_unlock(&pool.mtx);
    return SG_OK;
}

void sg_offload_stop(void)
{
    pthread_mutex_lock(&pool.mtx);
    if (!pool.running || pool.stopping) {
        pthread_mutex_unlock(&pool.mtx);
        return;
    }
    begin_stop();
    unsigned n = pool.nthreads;
    pthread_mutex_unlock(&pool.mtx);
    join_threads(n);
}

struct sg_offload_port *sg_offload_port_new(struct event_base *base)
{
    struct sg_offload_port *port = sg_xcalloc(1, sizeof(*port));
    port->ev = event_new(base, -1, 0, on_port_ready, port);
    if (!port->ev) {
        /* event_new with no fd fails only when out of memory: same policy as sg_xmalloc. */
        sg_log_error("offload", "out of memory creating a port event");
        abort();
    }
    pthread_mutex_init(&port->mtx, NULL);
    pthread_cond_init(&port->idle, NULL);
    port->base = base;
    pthread_mutex_lock(&pool.mtx);
    port->next_port = pool.ports;
    pool.ports = port;
    pthread_mutex_unlock(&pool.mtx);
    return port;
}

/* Moves the queued jobs of port (or, with port NULL, of every port on base) to
 * *out as cancelled. Caller holds pool.mtx. */
static void unqueue_locked(const struct sg_offload_port *port, const struct event_base *base,
                           struct offload_job **out, struct offload_job **out_tail)
{
    struct offload_job **pp = &pool.head, *prev = NULL;
    while (*pp) {
        struct offload_job *j = *pp;
        if (port ? j->port != port : j->port->base != base) {
            prev = j;
            pp = &j->next;
            continue;
        }
        *pp = j->next;
        if (pool.tail == j)
            pool.tail = prev;
        pool.queued--;
        j->cancelled = true;
        pthread_mutex_lock(&j->port->mtx);
        j->port->outstanding--;
        pthread_mutex_unlock(&j->port->mtx);
        list_append(out, out_tail, j);
    }
}

/* Waits until no pool thread holds a job of port, then takes its finished jobs
 * (their event may stay active: it finds an empty list). */
static struct offload_job *settle(struct sg_offload_port *port)
{
    pthread_mutex_lock(&port->mtx);
    while (port->outstanding > 0)
        pthread_cond_wait(&port->idle, &port->mtx);
    struct offload_job *list = port->done_head;
    port->done_head = port->done_tail = NULL;
    pthread_mutex_unlock(&port->mtx);
    return list;
}

static void append_list(struct offload_job **head, struct offload_job **tail,
                        struct offload_job *list)
{
    while (list) {
        struct offload_job *next = list->next;
        list_append(head, tail, list);
        list = next;
    }
}

void sg_offload_cancel_base(struct event_base *base)
{
    struct offload_job *cancelled = NULL, *cancelled_tail = NULL;
    struct offload_job *finished = NULL, *finished_tail = NULL;
    struct sg_offload_port **mine = NULL;
    size_t n = 0;

    pthread_mutex_lock(&pool.mtx);
    for (struct sg_offload_port *p = pool.ports; p; p = p->next_port)
        if (p->base == base) {
            p->closed = true;
            mine = sg_xrealloc(mine, (n + 1) * sizeof(*mine));
            mine[n++] = p;
        }
    unqueue_locked(NULL, base, &cancelled, &cancelled_tail);
    pthread_mutex_unlock(&pool.mtx);

    /* Only base's thread frees these ports, and no done has run yet: the
     * pointers stay good while we wait outside pool.mtx (other loops keep
     * submitting meanwhile). */
    for (size_t i = 0; i < n; i++)
        append_list(&finished, &finished_tail, settle(mine[i]));
    free(mine);
    /* A done may free its port, or submit again (refused: the port is closed). */
    run_done_list(finished);
    run_done_list(cancelled);
}

void sg_offload_port_free(struct sg_offload_port *port)
{
    if (!port)
        return;
    struct offload_job *cancelled = NULL, *cancelled_tail = NULL;

    pthread_mutex_lock(&pool.mtx);
    unqueue_locked(port, NULL, &cancelled, &cancelled_tail);
    for (struct sg_offload_port **pp = &pool.ports; *pp; pp = &(*pp)->next_port)
        if (*pp == port) {
            *pp = port->next_port;
            break;
        }
    pthread_mutex_unlock(&pool.mtx);

    struct offload_job *list = settle(port);
    /* No pool thread can reach the port any more: its event may go. */
    event_free(port->ev);
    run_done_list(list);
    run_done_list(cancelled);
    pthread_cond_destroy(&port->idle);
    pthread_mutex_destroy(&port->mtx);
    free(port);
}

int sg_offload_submit(struct sg_offload_port *port, sg_offload_work_fn work,
                      sg_offload_done_fn done, void *arg)
{
    pthread_mutex_lock(&pool.mtx);
    if (!pool.running || pool.stopping || port->closed || pool.queued >= SG_OFFLOAD_QUEUE_MAX) {
        pthread_mutex_unlock(&pool.mtx);
        return SG_ERR;
    }
    struct offload_job *j = sg_xcalloc(1, sizeof(*j));
    j->port = port;
    j->work = work;
    j->done = done;
    j->arg = arg;
    pthread_mutex_lock(&port->mtx);
    port->outstanding++;
    pthread_mutex_unlock(&port->mtx);
    list_append(&pool.head, &pool.tail, j);
    pool.queued++;
    pthread_cond_signal(&pool.wake);
    pthread_mutex_unlock(&pool.mtx);
    return SG_OK;
}
