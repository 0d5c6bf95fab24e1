/* A backend's TLS context, built and checked with the config (conf_tls.c). */
#ifndef SG_CONF_TLS_H
#define SG_CONF_TLS_H

#include <stddef.h>

#include "snapgate/conf.h"

struct sg_conf_node;
struct sg_conf_errs;

/* Builds b's TLS context into b->tls_ctx (https) and checks the CA file it
 * names (any scheme), as sg_conf_load does for every backend: a file that
 * would not load is a config error, found by -t and refused by a reload,
 * never a client that cannot be built. SG_OK, or SG_ERR with err filled
 * ("/x/ca.pem holds no PEM certificate"). */
int sg_conf_tls_prepare(struct sg_conf_backend *b, char *err, size_t cap);
/* The same for the backend entry item at path, the failure added to errs at
 * the line of tls.ca_file (or tls, or the entry). */
void sg_conf_backend_tls(const struct sg_conf_node *item, const char *path,
                         struct sg_conf_backend *b, struct sg_conf_errs *errs);

#endif
