/* The offload pool on a real event base: work off the loop, done on it,
 * exactly once; a bounded queue; stop drains; freeing a port cancels. */
#include <check.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/offload.h"
#include "snapgate/common.h"

static struct event_base *base;
static pthread_t loop_thread;

struct job {
    pthread_t work_thread;
    atomic_bool worked;
    int done_calls;
    bool cancelled;
    bool done_on_loop;
    unsigned *remaining; /* the loop breaks when it reaches 0 */
};

/* A gate the blocking jobs wait at until the test opens it. */
static pthread_mutex_t gate_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static unsigned gate_waiting;
static unsigned slow_started;

static void setup(void)
{
    ck_assert_int_eq(evthread_use_pthreads(), 0);
    base = event_base_new();
    ck_assert_ptr_nonnull(base);
    loop_thread = pthread_self();
    gate_open = false;
    gate_waiting = 0;
    slow_started = 0;
    ck_assert_int_eq(sg_offload_start(2), SG_OK);
}

static void teardown(void)
{
    sg_offload_stop();
    event_base_free(base);
}

static void on_work(void *arg)
{
    struct job *j = arg;
    j->work_thread = pthread_self();
    atomic_store(&j->worked, true);
}

/* Announces it has started (for tests that must catch it running), then takes a while. */
static void on_slow_work(void *arg)
{
    pthread_mutex_lock(&gate_mtx);
    slow_started++;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_mtx);
    usleep(20 * 1000);
    on_work(arg);
}

static void on_gated_work(void *arg)
{
    pthread_mutex_lock(&gate_mtx);
    gate_waiting++;
    pthread_cond_broadcast(&gate_cond);
    while (!gate_open)
        pthread_cond_wait(&gate_cond, &gate_mtx);
    pthread_mutex_unlock(&gate_mtx);
    on_work(arg);
}

static void on_done(void *arg, bool cancelled)
{
    struct job *j = arg;
    j->done_calls++;
    j->cancelled = cancelled;
    j->done_on_loop = pthread_equal(pthread_self(), loop_thread);
    if (j->remaining && --*j->remaining == 0)
        event_base_loopbreak(base);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    *(bool *)arg = true;
    event_base_loopbreak(base);
}

/* Runs the loop until *remaining is 0; fails after 10 s. */
static void run_until_done(unsigned *remaining)
{
    bool timed_out = false;
    struct event *t = evtimer_new(base, on_timeout, &timed_out);
    struct timeval tv = {10, 0};
    evtimer_add(t, &tv);
    while (*remaining > 0 && !timed_out)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(t);
    ck_assert_msg(!timed_out, "done callbacks did not arrive (%u left)", *remaining);
}

static void wait_gate_waiting(unsigned n)
{
    pthread_mutex_lock(&gate_mtx);
    while (gate_waiting < n)
        pthread_cond_wait(&gate_cond, &gate_mtx);
    pthread_mutex_unlock(&gate_mtx);
}

static void open_gate(void)
{
    pthread_mutex_lock(&gate_mtx);
    gate_open = true;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_mtx);
}

START_TEST(test_many_jobs_done_on_loop)
{
    enum { N = 500 };
    struct job *jobs = calloc(N, sizeof(*jobs));
    unsigned remaining = N;
    struct sg_offload_port *port = sg_offload_port_new(base);
    for (int i = 0; i < N; i++) {
        jobs[i].remaining = &remaining;
        ck_assert_int_eq(sg_offload_submit(port, on_work, on_done, &jobs[i]), SG_OK);
    }
    run_until_done(&remaining);
    for (int i = 0; i < N; i++) {
        ck_assert(atomic_load(&jobs[i].worked));
        ck_assert_msg(!pthread_equal(jobs[i].work_thread, loop_thread), "work ran on the loop");
        ck_assert_int_eq(jobs[i].done_calls, 1);
        ck_assert(jobs[i].done_on_loop);
        ck_assert(!jobs[i].cancelled);
    }
    sg_offload_port_free(port);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(jobs[i].done_calls, 1);
    free(jobs);
}
END_TEST

START_TEST(test_done_never_inside_submit)
{
    struct job j = {0};
    unsigned remaining = 1;
    j.remaining = &remaining;
    struct sg_offload_port *port = sg_offload_port_new(base);
    ck_assert_int_eq(sg_offload_submit(port, on_work, on_done, &j), SG_OK);
    usleep(50 * 1000); /* the work is long finished: only the loop may deliver done */
    ck_assert_int_eq(j.done_calls, 0);
    run_until_done(&remaining);
    ck_assert_int_eq(j.done_calls, 1);
    sg_offload_port_free(port);
}
END_TEST

START_TEST(test_two_ports_one_base)
{
    struct job a = {0}, b = {0};
    unsigned remaining = 2;
    a.remaining = b.remaining = &remaining;
    struct sg_offload_port *pa = sg_offload_port_new(base), *pb = sg_offload_port_new(base);
    ck_assert_int_eq(sg_offload_submit(pa, on_work, on_done, &a), SG_OK);
    ck_assert_int_eq(sg_offload_submit(pb, on_work, on_done, &b), SG_OK);
    run_until_done(&remaining);
    ck_assert_int_eq(a.done_calls, 1);
    ck_assert_int_eq(b.done_calls, 1);
    sg_offload_port_free(pa);
    sg_offload_port_free(pb);
}
END_TEST

START_TEST(test_queue_bound_fails_at_once)
{
    static struct job blockers[2], queued[SG_OFFLOAD_QUEUE_MAX], extra;
    unsigned remaining = 2 + SG_OFFLOAD_QUEUE_MAX;
    struct sg_offload_port *port = sg_offload_port_new(base);
    for (int i = 0; i < 2; i++) {
        blockers[i].remaining = &remaining;
        ck_assert_int_eq(sg_offload_submit(port, on_gated_work, on_done, &blockers[i]), SG_OK);
    }
    wait_gate_waiting(2); /* both threads busy: everything else stays queued */
    for (int i = 0; i < SG_OFFLOAD_QUEUE_MAX; i++) {
        queued[i].remaining = &remaining;
        ck_assert_int_eq(sg_offload_submit(port, on_work, on_done, &queued[i]), SG_OK);
    }
    ck_assert_int_eq(sg_offload_submit(port, on_work, on_done, &extra), SG_ERR);
    open_gate();
    run_until_done(&remaining);
    ck_assert_int_eq(extra.done_calls, 0);
    ck_assert(!atomic_load(&extra.worked));
    ck_assert_int_eq(queued[SG_OFFLOAD_QUEUE_MAX - 1].done_calls, 1);
    sg_offload_port_free(port);
}
END_TEST

START_TEST(test_stop_drains_then_refuses)
{
    enum { N = 50 };
    struct job jobs[N] = {0};
    unsigned remaining = N;
    struct sg_offload_port *port = sg_offload_port_new(base);
    for (int i = 0; i < N; i++) {
        jobs[i].remaining = &remaining;
        ck_assert_int_eq(sg_offload_submit(port, on_slow_work, on_done, &jobs[i]), SG_OK);
    }
    sg_offload_stop();
    /* Every queued job ran before stop returned; done still comes on the loop. */
    for (int i = 0; i < N; i++) {
        ck_assert(atomic_load(&jobs[i].worked));
        ck_assert_int_eq(jobs[i].done_calls, 0);
    }
    struct job late = {0};
    ck_assert_int_eq(sg_offload_submit(port, on_work, on_done, &late), SG_ERR);
    run_until_done(&remaining);
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(jobs[i].done_calls, 1);
        ck_assert(!jobs[i].cancelled);
    }
    sg_offload_stop(); /* a second stop is a no-op */
    ck_assert_int_eq(sg_offload_start(1), SG_OK);
    unsigned one = 1;
    late.remaining = &one;
    ck_assert_int_eq(sg_offload_submit(port, on_work, on_done, &late), SG_OK);
    run_until_done(&one);
    ck_assert_int_eq(late.done_calls, 1);
    sg_offload_port_free(port);
}
END_TEST

START_TEST(test_port_free_cancels_queued_and_waits_running)
{
    struct job blockers[2] = {0}, mine[10] = {0}, running = {0};
    unsigned remaining = 2;
    struct sg_offload_port *other = sg_offload_port_new(base);
    struct sg_offload_port *port = sg_offload_port_new(base);
    for (int i = 0; i < 2; i++) {
        blockers[i].remaining = &remaining;
        ck_assert_int_eq(sg_offload_submit(other, on_gated_work, on_done, &blockers[i]), SG_OK);
    }
    wait_gate_waiting(2);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(sg_offload_submit(port, on_work, on_done, &mine[i]), SG_OK);
    sg_offload_port_free(port);
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(mine[i].done_calls, 1);
        ck_assert(mine[i].cancelled);
        ck_assert(!atomic_load(&mine[i].worked));
        ck_assert(mine[i].done_on_loop);
    }
    open_gate();
    run_until_done(&remaining);

    /* A job already running is waited for and answered as finished. */
    port = sg_offload_port_new(base);
    ck_assert_int_eq(sg_offload_submit(port, on_slow_work, on_done, &running), SG_OK);
    pthread_mutex_lock(&gate_mtx);
    while (slow_started < 1)
        pthread_cond_wait(&gate_cond, &gate_mtx);
    pthread_mutex_unlock(&gate_mtx);
    sg_offload_port_free(port);
    ck_assert_int_eq(running.done_calls, 1);
    ck_assert(atomic_load(&running.worked));
    ck_assert(!running.cancelled);
    sg_offload_port_free(other);
}
END_TEST

/* A done that tries to submit again, as a request moving to its next provider
 * would: on a cancelled base that must be refused at once. */
struct resubmit {
    struct job job;
    struct sg_offload_port *port;
    int resubmit_rc;
};

static void on_done_resubmit(void *arg, bool cancelled)
{
    struct resubmit *r = arg;
    on_done(&r->job, cancelled);
    static struct job never;
    r->resubmit_rc = sg_offload_submit(r->port, on_work, on_done, &never);
}

/* Issue 10 item 8: a worker cut off by the drain timeout never runs its loop
 * again. Everything its ports still have on the pool is answered before
 * cancel_base returns, a running job included, and nothing reaches the base
 * afterwards (it is freed right after; ASan sees a late event_active). */
START_TEST(test_cancel_base_settles_everything_now)
{
    struct event_base *dying = event_base_new();
    struct sg_offload_port *p1 = sg_offload_port_new(dying);
    struct sg_offload_port *p2 = sg_offload_port_new(dying);
    struct sg_offload_port *elsewhere = sg_offload_port_new(base);
    struct job running = {0}, queued[20] = {0}, other = {0};
    struct resubmit again = {.port = p2, .resubmit_rc = -99};

    /* One gated job holds a thread; a slow one of p1 is caught running. */
    struct job blocker = {0};
    unsigned remaining = 2;
    blocker.remaining = &remaining;
    other.remaining = &remaining;
    ck_assert_int_eq(sg_offload_submit(elsewhere, on_gated_work, on_done, &blocker), SG_OK);
    wait_gate_waiting(1);
    ck_assert_int_eq(sg_offload_submit(p1, on_slow_work, on_done, &running), SG_OK);
    pthread_mutex_lock(&gate_mtx);
    while (slow_started < 1)
        pthread_cond_wait(&gate_cond, &gate_mtx);
    pthread_mutex_unlock(&gate_mtx);
    /* Both threads busy: these stay queued, interleaved with another base's. */
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(sg_offload_submit(i % 2 ? p1 : p2, on_work, on_done, &queued[i]), SG_OK);
    ck_assert_int_eq(sg_offload_submit(elsewhere, on_work, on_done, &other), SG_OK);
    ck_assert_int_eq(sg_offload_submit(p2, on_work, on_done_resubmit, &again), SG_OK);

    sg_offload_cancel_base(dying);

    ck_assert_int_eq(running.done_calls, 1);
    ck_assert(atomic_load(&running.worked));
    ck_assert(!running.cancelled);
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(queued[i].done_calls, 1);
        ck_assert(queued[i].cancelled);
        ck_assert(!atomic_load(&queued[i].worked));
    }
    ck_assert_int_eq(again.job.done_calls, 1);
    ck_assert_int_eq(again.resubmit_rc, SG_ERR);
    struct job late = {0};
    ck_assert_int_eq(sg_offload_submit(p1, on_work, on_done, &late), SG_ERR);
    /* The other base's jobs were left alone. */
    ck_assert_int_eq(other.done_calls, 0);
    sg_offload_port_free(p1);
    sg_offload_port_free(p2);
    event_base_free(dying);
    open_gate();
    run_until_done(&remaining);
    ck_assert_int_eq(other.done_calls, 1);
    ck_assert(!other.cancelled);
    ck_assert_int_eq(late.done_calls, 0);
    sg_offload_port_free(elsewhere);
}
END_TEST

START_TEST(test_start_rejects_zero_and_double)
{
    ck_assert_int_eq(sg_offload_start(2), SG_ERR); /* already running */
    sg_offload_stop();
    ck_assert_int_eq(sg_offload_start(0), SG_ERR);
    struct sg_offload_port *port = sg_offload_port_new(base);
    struct job j = {0};
    ck_assert_int_eq(sg_offload_submit(port, on_work, on_done, &j), SG_ERR);
    sg_offload_port_free(port);
    ck_assert_int_eq(j.done_calls, 0);
}
END_TEST

static Suite *offload_suite(void)
{
    Suite *s = suite_create("offload");
    TCase *tc = tcase_create("pool");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_many_jobs_done_on_loop);
    tcase_add_test(tc, test_done_never_inside_submit);
    tcase_add_test(tc, test_two_ports_one_base);
    tcase_add_test(tc, test_queue_bound_fails_at_once);
    tcase_add_test(tc, test_stop_drains_then_refuses);
    tcase_add_test(tc, test_port_free_cancels_queued_and_waits_running);
    tcase_add_test(tc, test_start_rejects_zero_and_double);
    tcase_add_test(tc, test_cancel_base_settles_everything_now);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(offload_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
