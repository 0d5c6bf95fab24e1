/* sd_notify messages: what snapgate tells a Type=notify service manager, read
 * back from a unix datagram socket standing in for systemd's. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "process/notify.h"

static int sock_fd = -1;
static char sock_dir[64];
static char sock_path[96];

/* A fresh socket per test, named by $NOTIFY_SOCKET. */
static void setup(void)
{
    snprintf(sock_dir, sizeof(sock_dir), "/tmp/sg-notify-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(sock_dir));
    snprintf(sock_path, sizeof(sock_path), "%s/notify", sock_dir);
    sock_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(sock_fd, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
    ck_assert_int_eq(bind(sock_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    struct timeval tv = {.tv_sec = 2, .tv_usec = 0};
    setsockopt(sock_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setenv("NOTIFY_SOCKET", sock_path, 1);
}

static void teardown(void)
{
    unsetenv("NOTIFY_SOCKET");
    close(sock_fd);
    unlink(sock_path);
    rmdir(sock_dir);
}

/* The next datagram, NUL-terminated, into buf; fails the test on a timeout. */
static const char *next_message(char *buf, size_t cap)
{
    ssize_t n = recv(sock_fd, buf, cap - 1, 0);
    ck_assert_msg(n > 0, "no notification arrived");
    buf[n] = '\0';
    return buf;
}

static int pending_messages(void)
{
    char buf[256];
    return recv(sock_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0;
}

START_TEST(test_ready_says_ready)
{
    char buf[256];
    ck_assert_int_gt(sg_notify_ready(), 0);
    const char *m = next_message(buf, sizeof(buf));
    ck_assert_ptr_nonnull(strstr(m, "READY=1\n"));
    ck_assert_ptr_nonnull(strstr(m, "STATUS="));
}
END_TEST

START_TEST(test_reloading_carries_a_monotonic_timestamp)
{
    char buf[256];
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t before = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    ck_assert_int_gt(sg_notify_reloading(), 0);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t after = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    const char *m = next_message(buf, sizeof(buf));
    ck_assert_msg(strncmp(m, "RELOADING=1\n", 12) == 0, "got %s", m);
    const char *t = strstr(m, "MONOTONIC_USEC=");
    ck_assert_ptr_nonnull(t);
    uint64_t usec = strtoull(t + strlen("MONOTONIC_USEC="), NULL, 10);
    ck_assert_uint_ge(usec, before);
    ck_assert_uint_le(usec, after);
}
END_TEST

START_TEST(test_without_socket_nothing_is_sent)
{
    unsetenv("NOTIFY_SOCKET");
    ck_assert_int_eq(sg_notify_ready(), 0);
    ck_assert_int_eq(sg_notify_reloading(), 0);
    ck_assert(!pending_messages());
}
END_TEST

/* Last in the suite: it latches the stopped state for the rest of the process
 * when Check runs without fork. */
START_TEST(test_after_stopping_ready_and_reloading_are_silent)
{
    char buf[256];
    ck_assert_int_gt(sg_notify_stopping(), 0);
    const char *m = next_message(buf, sizeof(buf));
    ck_assert_msg(strncmp(m, "STOPPING=1\n", 11) == 0, "got %s", m);
    ck_assert_int_eq(sg_notify_ready(), 0);
    ck_assert_int_eq(sg_notify_reloading(), 0);
    ck_assert_int_eq(sg_notify_stopping(), 0); /* once */
    ck_assert(!pending_messages());
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("notify");
    TCase *tc = tcase_create("sd_notify");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_ready_says_ready);
    tcase_add_test(tc, test_reloading_carries_a_monotonic_timestamp);
    tcase_add_test(tc, test_without_socket_nothing_is_sent);
    tcase_add_test(tc, test_after_stopping_ready_and_reloading_are_silent);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
