/* What the process's files share, private to them: server.c (workers, run),
 * server_drain.c, server_reload.c and server_purge.c. */
#ifndef SG_SERVER_INT_H
#define SG_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "snapgate/conf.h"

struct event;
struct event_base;
struct sg_admin;
struct sg_health;
struct sg_health_checker;
struct sg_session_table;
struct sg_wmsg_queue;
struct sg_wstate;

struct sg_server {
    struct sg_conf *conf;
    struct sg_conf **retired; /* older configs: workers' backends may point into them */
    size_t nretired;
    struct sg_health **retired_health; /* replaced by a backend reload; flights may still report */
    size_t nretired_health;
    struct event_base *base;
    struct sg_wmsg_queue *mq;
    struct sg_admin *admin;
    struct sg_wstate **workers;
    pthread_t *threads;
    unsigned nworkers;
    _Atomic unsigned exited;
    _Atomic int draining;
    struct event *signals[3];
    struct event *reap_timer;
    struct event *listen_grace;
    struct event *drain_deadline;
    struct sg_health *health;                 /* every backend's, shared by the workers */
    struct sg_health_checker *health_checker; /* probes on this (the main) thread */
    struct sg_session_table *sessions;        /* without Redis: every worker's sessions */
};

/* server.c: a request's deadline under conf. */
uint64_t sg_server_deadline_for(const struct sg_conf *conf);

/* server_drain.c: SIGTERM/SIGINT; readiness fails, listeners close after a
 * grace, the workers are stopped at the drain deadline. Once only. */
void sg_server_start_drain(struct sg_server *s);

/* server_reload.c: SIGHUP; loads the config file again and hands it (and new
 * backend clients when the backends changed) to every worker. */
void sg_server_reload(struct sg_server *s);

/* server_purge.c: the admin listener's purge callback (ctx is the server):
 * drops task from every worker's local tier (and once from the shared tier);
 * done(arg) runs on the main loop once every worker has. */
void sg_server_purge(void *ctx, const char *task, void (*done)(void *), void *arg);

#endif
