/* What the configuration loader's files share and nothing else needs: key
 * paths, value quoting for messages, tree editing for the environment layer,
 * and the table-driven schema walker. */
#ifndef SG_CONF_INTERNAL_H
#define SG_CONF_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapgate/conf.h"

/* ---- errors (conf_errs.c) ---- */

/* Like sg_conf_errs_add with an explicit FILE, for problems of the file
 * itself (cannot open) where no line exists. */
void sg_conf_errs_add_file(struct sg_conf_errs *errs, const char *file, int line, const char *path,
                           const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* A scalar for a message: "value", or SNAPGATE_X="value" when it came from
 * the environment; escaped, cut short when long. Returns buf. */
#define SG_CONF_QUOTE_MAX 200
const char *sg_conf_node_quote(const struct sg_conf_node *n, char buf[SG_CONF_QUOTE_MAX]);

/* ---- paths and node helpers (conf_tree.c) ---- */

/* "parent.key" (or "key" at the top); caller frees. */
char *sg_conf_path_key(const char *parent, const char *key);
/* "parent[i]"; caller frees. */
char *sg_conf_path_index(const char *parent, size_t i);

/* A plain empty, ~ or null scalar: YAML's null. Sections treat it as empty. */
bool sg_conf_node_is_null(const struct sg_conf_node *n);
/* "a map", "a sequence" or "a scalar", for "want X, got Y" messages. */
const char *sg_conf_node_kind(const struct sg_conf_node *n);

/* Tree editing for the environment layer. New scalars are quoted strings;
 * env (a string literal, not copied) names the variable they came from. */
struct sg_conf_node *sg_conf_node_new_scalar(const char *value, int line, const char *env);
struct sg_conf_node *sg_conf_node_new(enum sg_node_type type, int line);
/* Appends value under key (map) or as the next item (seq, key NULL); takes value. */
void sg_conf_node_append(struct sg_conf_node *parent, const char *key, int key_line,
                         struct sg_conf_node *value);
/* Replaces the value of key (freeing the old one) or appends it; takes value. */
void sg_conf_node_set(struct sg_conf_node *map, const char *key, struct sg_conf_node *value);
/* Detaches and returns the value of key (the caller owns it), NULL if absent. */
struct sg_conf_node *sg_conf_node_take(struct sg_conf_node *map, const char *key, int *key_line);

/* ---- readers with a lower bound (conf_read.c) ---- */

int sg_conf_read_duration_min(const struct sg_conf_node *n, const char *path,
                              struct sg_conf_errs *errs, uint64_t min_ms, uint64_t *out);
/* Also at most max_ms (0: unbounded). */
int sg_conf_read_duration_range(const struct sg_conf_node *n, const char *path,
                                struct sg_conf_errs *errs, uint64_t min_ms, uint64_t max_ms,
                                uint64_t *out);
/* ms as the config would write it, in its largest whole unit ("720h", "90s",
 * "250ms"); returns buf. */
const char *sg_conf_duration_text(uint64_t ms, char buf[32]);
/* SG_OK when n is a scalar; else adds "want <what>, got ..." (null: missing value). */
int sg_conf_want_scalar(const struct sg_conf_node *n, const char *path, struct sg_conf_errs *errs,
                        const char *what);

/* ---- the schema walker (conf_read.c) ---- */

enum sg_conf_spec_kind {
    SG_SPEC_MAP = 1,     /* a nested map; sub describes it; same target */
    SG_SPEC_DURATION,    /* uint64_t ms at off, at least min, at most max (0: any) */
    SG_SPEC_UINT,        /* uint64_t at off, min..max */
    SG_SPEC_BOOL,        /* bool at off */
    SG_SPEC_STRING,      /* char * at off (old value freed), not empty */
    SG_SPEC_ENUM,        /* int at off: the index of the value in names */
    SG_SPEC_CUSTOM,      /* custom reads it */
    SG_SPEC_UNSUPPORTED, /* a contract key this release does not build: reason */
    SG_SPEC_MODULE,      /* a contract key whose value the owning module's hook checks */
};

struct sg_conf_spec {
    const char *key;
    enum sg_conf_spec_kind kind;
    size_t off;
    uint64_t min, max;
    const struct sg_conf_spec *sub;
    const char *const *names; /* NULL-terminated */
    void (*custom)(const struct sg_conf_node *n, const char *path, struct sg_conf_errs *errs,
                   void *target);
    const char *reason;
};

/* Checks that map is a map (null reads as empty), reports unknown keys at
 * their line, and reads each known key into target as its spec says. specs
 * ends with an entry whose key is NULL. */
void sg_conf_walk(const struct sg_conf_node *map, const char *path,
                  const struct sg_conf_spec *specs, void *target, struct sg_conf_errs *errs);

/* ---- URLs (conf_url.c) ---- */

struct sg_conf_url {
    char *scheme; /* "http" | "https", lower case */
    char *host;   /* without brackets */
    uint16_t port;
    char *base_path; /* without trailing '/', "" when none */
};

/* Splits an http(s) URL; on SG_ERR *why says what is wrong (static text) and
 * *echo whether the URL may be shown (not when it carries user info). */
int sg_conf_url_parse(const char *s, struct sg_conf_url *out, const char **why, bool *echo);
void sg_conf_url_clear(struct sg_conf_url *u);

/* ---- parts of the load (conf_backend.c, conf_auth.c, conf_env.c) ---- */

/* The `backends` value: fills conf->backends. */
void sg_conf_backends_read(const struct sg_conf_node *n, const char *path,
                           struct sg_conf_errs *errs, void *conf);
/* The `auth` map: realm, allow, and conf->providers (module and line). */
void sg_conf_auth_read(const struct sg_conf_node *n, const char *path, struct sg_conf_errs *errs,
                       void *conf);
/* After the whole tree is read: cross-checks and module conf hooks. */
/* The redis section: url through the cache/redis module's hook (conf_redis.c). */
void sg_conf_redis_finish(const struct sg_conf_node *root, struct sg_conf *conf,
                          struct sg_conf_errs *errs);
/* Backends without credentials are only for callers a vcenter provider vouches for. */
void sg_conf_delegation_check(const struct sg_conf_node *root, const struct sg_conf *conf,
                              struct sg_conf_errs *errs);
void sg_conf_backends_finish(const struct sg_conf_node *root, struct sg_conf *conf,
                             struct sg_conf_errs *errs);
void sg_conf_providers_finish(const struct sg_conf_node *root, struct sg_conf *conf,
                              struct sg_conf_errs *errs);
void sg_conf_backend_clear(struct sg_conf_backend *b);

/* Folds the SNAPGATE_* variables into the tree (root is a map), so that the
 * one validator checks file and environment values alike. */
void sg_conf_env_apply(struct sg_conf_node *root, struct sg_conf_errs *errs);

#endif
