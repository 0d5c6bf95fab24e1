/* The module ABI: a static registry of auth, cache and dialect modules, each a
 * const struct with a config hook, per-worker init/fini and its kind's ops. */
#ifndef SG_MODULE_H
#define SG_MODULE_H

#include <stdbool.h>

#include "snapgate/common.h"
#include "snapgate/conf.h"

struct sg_worker;
struct event_base;

enum sg_module_kind { SG_MOD_AUTH = 1, SG_MOD_CACHE, SG_MOD_DIALECT };

struct sg_module {
    const char *name; /* "basic", "memory", "cis" */
    enum sg_module_kind kind;
    /* Parse and validate this module's config subtree (an auth provider entry,
     * a backend entry, or the `cache` map) at path; no side effects beyond
     * reading files the config names. Report problems with sg_conf_errs_add and
     * return SG_ERR; on SG_OK *priv holds the module's parsed config (may be NULL). */
    int (*conf)(const struct sg_conf_node *node, const char *path, const struct sg_conf *conf,
                struct sg_conf_errs *errs, void **priv);
    void (*free_conf)(void *priv);
    /* Dialects only (NULL elsewhere and when the dialect has none): the keys of
     * a backend entry that belong to this dialect, NULL-terminated. The core's
     * backend reader passes them over (this module's conf hook reads and
     * checks them) and refuses them on a backend of any other dialect with
     * "only a <name> backend takes a <key>". */
    const char *const *backend_keys;
    /* Optional: whether two configs this module's conf hook built (either may
     * be NULL) are the same, so a reload keeps what was built from them (a
     * dialect: the backend's clients). Without it only the same pointer (two
     * NULLs included) counts as the same. */
    bool (*conf_equal)(const void *a, const void *b);
    /* Per worker, after its event base exists: returns the worker's instance (may be NULL). */
    void *(*worker_init)(void *priv, struct sg_worker *w);
    void (*worker_fini)(void *inst);
    const void *ops; /* const struct sg_{auth,cache,dialect}_ops * */
};

/* The registry CMake generates from the enabled modules: NULL-terminated. */
extern const struct sg_module *const sg_modules[];
const struct sg_module *sg_module_find(enum sg_module_kind kind, const char *name);

/* What modules may ask of the worker they run on. */
struct event_base *sg_worker_base(struct sg_worker *w);
unsigned sg_worker_id(const struct sg_worker *w);
/* The worker's client of the backend named name, or NULL: what sg_call_start
 * (snapgate/call.h) sends on; for use on w's loop thread only. */
struct sg_backend_worker;
struct sg_backend_worker *sg_worker_backend(struct sg_worker *w, const char *name);

#endif
