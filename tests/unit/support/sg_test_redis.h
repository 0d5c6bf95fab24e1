/* A private redis-server for a unit test: a free loopback port (or a unix
 * socket only), optionally a password, no persistence, killed with the test
 * (PR_SET_PDEATHSIG) or by sg_test_redis_stop; and a synchronous hiredis
 * client to set the scene and look behind the code under test. A missing
 * redis-server fails the test with the reason (nothing skips under ctest).
 * Header-only: each suite that includes it gets its own copy; all static
 * inline, so a suite need not use every helper. */
#ifndef SG_TEST_REDIS_H
#define SG_TEST_REDIS_H

#include <check.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

struct sg_test_redis {
    pid_t pid;
    int port;         /* 0 with sock set: a unix socket only */
    char sock[108];   /* the unix socket path, "" when TCP */
    const char *pass; /* requirepass, NULL when none */
};

static inline int sg_test_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* A client of s (logged in when it has a password), or NULL when it does
 * not answer PING within a second. */
static inline redisContext *sg_test_redis_try(const struct sg_test_redis *s)
{
    struct timeval tv = {1, 0};
    redisContext *c = s->port ? redisConnectWithTimeout("127.0.0.1", s->port, tv)
                              : redisConnectUnixWithTimeout(s->sock, tv);
    if (!c || c->err)
        goto fail;
    redisSetTimeout(c, tv);
    if (s->pass) {
        redisReply *r = redisCommand(c, "AUTH %s", s->pass);
        bool ok = r && r->type == REDIS_REPLY_STATUS;
        freeReplyObject(r);
        if (!ok)
            goto fail;
    }
    redisReply *r = redisCommand(c, "PING");
    bool ok = r && r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    if (!ok)
        goto fail;
    return c;
fail:
    if (c)
        redisFree(c);
    return NULL;
}

/* A client of s; the test fails when the server does not answer. */
static inline redisContext *sg_test_redis_cli(const struct sg_test_redis *s)
{
    redisContext *c = sg_test_redis_try(s);
    ck_assert_msg(c != NULL, "cannot reach the test redis-server");
    return c;
}

/* Runs one command on a fresh connection; the caller frees the reply. */
static inline redisReply *sg_test_redis_cmd(const struct sg_test_redis *s, const char *fmt, ...)
{
    redisContext *c = sg_test_redis_cli(s);
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    ck_assert_ptr_nonnull(r);
    return r;
}

/* The same for commands with binary arguments. */
static inline redisReply *sg_test_redis_argv(const struct sg_test_redis *s, int argc,
                                             const char **argv, const size_t *lens)
{
    redisContext *c = sg_test_redis_cli(s);
    redisReply *r = redisCommandArgv(c, argc, argv, lens);
    redisFree(c);
    ck_assert_ptr_nonnull(r);
    return r;
}

/* Starts redis-server on s->port (a free one when 0, unless s->sock asks
 * for a unix socket only), with s->sock and s->pass when set, and waits for
 * PING. Called again after sg_test_redis_stop, it restarts on the same port. */
static inline void sg_test_redis_start(struct sg_test_redis *s)
{
    if (!s->port && !s->sock[0])
        s->port = sg_test_free_port();
    char port[16];
    snprintf(port, sizeof(port), "%d", s->port);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* Dies with the test process, whatever way that ends. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        const char *argv[20] = {"redis-server", "--port", port,          "--save", "",
                                "--appendonly", "no",     "--daemonize", "no",     "--bind",
                                "127.0.0.1"};
        int n = 11;
        if (s->sock[0]) {
            argv[n++] = "--unixsocket";
            argv[n++] = s->sock;
        }
        if (s->pass) {
            argv[n++] = "--requirepass";
            argv[n++] = s->pass;
        }
        argv[n] = NULL;
        execvp("redis-server", (char *const *)argv);
        _exit(127);
    }
    s->pid = pid;
    for (int i = 0; i < 500; i++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            s->pid = 0;
            ck_abort_msg(WIFEXITED(st) && WEXITSTATUS(st) == 127
                             ? "redis-server is not installed: apt-get install -y redis-server"
                             : "redis-server exited at start");
        }
        redisContext *c = sg_test_redis_try(s);
        if (c) {
            redisFree(c);
            return;
        }
        usleep(10 * 1000);
    }
    ck_abort_msg("redis-server did not answer PING within 5 s");
}

static inline void sg_test_redis_stop(struct sg_test_redis *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
}

#endif
