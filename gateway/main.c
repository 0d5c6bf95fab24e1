/* snapgate [-c FILE] [-t] [-V] [-h]: see the contract's "Command line". */
#include <event2/thread.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/offload.h"
#include "process/server.h"
#include "snapgate/conf.h"
#include "snapgate/log.h"

#define EXIT_BAD_CONFIG 1

static void usage(FILE *out)
{
    fprintf(out,
            "usage: snapgate [-c FILE | --config FILE] [-t | --check-config] [-V | --version] "
            "[-h | --help]\n"
            "  -c, --config FILE    the YAML config (default: built-in defaults + SNAPGATE_* env)\n"
            "  -t, --check-config   validate the config offline, print problems, exit 0 or 1\n"
            "  -V, --version        print the version and exit\n"
            "  -h, --help           this help\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 't'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    int check = 0, c;
    while ((c = getopt_long(argc, argv, "c:tVh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 't':
            check = 1;
            break;
        case 'V':
            printf("snapgate %s\n", SNAPGATE_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_BAD_CONFIG;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "snapgate: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return EXIT_BAD_CONFIG;
    }

    /* Warnings wait for the log format the config itself sets. */
    struct sg_conf_errs errs = {.file = path ? path : "<defaults>", .defer_warnings = true};
    struct sg_conf *conf = sg_conf_load(path, &errs);
    if (!conf || check) {
        /* "warning: " in front: a script reading FILE:LINE: lines as
         * problems must not take a warning for one. */
        for (size_t i = 0; i < errs.nwarns; i++)
            fprintf(stderr, "warning: %s\n", errs.warns[i]);
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "%s\n", errs.msgs[i]);
        sg_conf_errs_clear(&errs);
        if (conf)
            printf("%s: configuration is valid\n", path ? path : "<defaults>");
        sg_conf_free(conf);
        return conf ? 0 : EXIT_BAD_CONFIG;
    }

    sg_log_setup((enum sg_log_level)conf->log_level, (enum sg_log_format)conf->log_format);
    for (size_t i = 0; i < errs.nwarns; i++)
        sg_log_warn("config", "%s", errs.warns[i]);
    sg_conf_errs_clear(&errs);
    if (conf->providers_n == 0)
        sg_log_warn("config", "no auth provider is configured: every task request is answered "
                              "401 (authentication fails closed)");
    /* Cross-thread event_active and the offload pool need libevent's locking. */
    evthread_use_pthreads();
    sg_offload_start(2);
    int rc = sg_server_run(conf, NULL);
    sg_offload_stop();
    return rc;
}
