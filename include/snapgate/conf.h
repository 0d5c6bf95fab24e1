/* The configuration: a YAML tree with line numbers, the validated config object
 * built from it, and the error list that -t prints as FILE:LINE: key.path: reason. */
#ifndef SG_CONF_H
#define SG_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- The raw tree (gateway/conf/conf_tree.c) ------------------------------------ */

enum sg_node_type { SG_NODE_SCALAR = 1, SG_NODE_MAP, SG_NODE_SEQ };

/* A node of the parsed YAML document. Maps keep their keys in document order. */
struct sg_conf_node {
    enum sg_node_type type;
    int line;        /* 1-based line of the node in the file; 0: made from the environment */
    const char *env; /* the SNAPGATE_* variable a scalar came from, NULL otherwise */
    char *scalar;    /* SG_NODE_SCALAR: the value, NUL-terminated */
    bool quoted;     /* SG_NODE_SCALAR: was written quoted (so "" is a string) */
    size_t n;        /* MAP: pairs; SEQ: items */
    char **keys;     /* MAP: the keys */
    int *key_lines;  /* MAP: each key's line */
    struct sg_conf_node **items; /* MAP: values; SEQ: items */
};

/* Errors, collected so that -t can print them all. Each message is already
 * formatted "FILE:LINE: key.path: reason". */
struct sg_conf_errs {
    const char *file; /* the config file name as given; NULL reads "<config>" */
    char **msgs;
    size_t n;
    /* Warnings (a valid config, but an operator should look): logged at once
     * ("config" module) unless defer_warnings, then kept in warns, formatted
     * like msgs, for a caller whose log is not set up yet (main: -t, start). */
    bool defer_warnings;
    char **warns;
    size_t nwarns;
};

/* Appends "FILE:LINE: path: reason". Line 0 marks a value that came from the
 * environment: FILE then reads "env" (so env:0: ...). */
void sg_conf_errs_add(struct sg_conf_errs *errs, int line, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A warning "FILE:LINE: path: reason": never fails the load; see defer_warnings. */
void sg_conf_errs_warn(struct sg_conf_errs *errs, int line, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Warns when file, a secret a key names (password_file, users_file,
 * tokens_file), can be read or changed by others than its owner, as ssh does
 * for keys (gateway/conf/conf_secret.c). Never refuses: a Kubernetes Secret is
 * often mounted 0644. */
void sg_conf_check_secret_mode(struct sg_conf_errs *errs, int line, const char *path,
                               const char *file);
/* Frees every message and warning; errs->file is left as it is. */
void sg_conf_errs_clear(struct sg_conf_errs *errs);

/* Parse a YAML document; returns NULL and adds an error on a syntax error. */
struct sg_conf_node *sg_conf_tree_parse_file(const char *path, struct sg_conf_errs *errs);
struct sg_conf_node *sg_conf_tree_parse_string(const char *yaml, struct sg_conf_errs *errs);
void sg_conf_tree_free(struct sg_conf_node *node);
/* Map lookup; NULL when absent or node is not a map. */
const struct sg_conf_node *sg_conf_node_get(const struct sg_conf_node *map, const char *key);

/* Typed readers for module conf hooks: each adds an error naming path on a bad
 * value (wrong type, missing value, bad text) and returns SG_ERR; SG_OK otherwise.
 * read_duration_ms rejects 0 (a zero timeout or TTL means nothing); read_string
 * rejects "" and gives a malloc'd copy the caller owns. */
int sg_conf_read_duration_ms(const struct sg_conf_node *n, const char *path,
                             struct sg_conf_errs *errs, uint64_t *out);
int sg_conf_read_string(const struct sg_conf_node *n, const char *path, struct sg_conf_errs *errs,
                        char **out);
int sg_conf_read_bool(const struct sg_conf_node *n, const char *path, struct sg_conf_errs *errs,
                      bool *out);
int sg_conf_read_uint(const struct sg_conf_node *n, const char *path, struct sg_conf_errs *errs,
                      uint64_t min, uint64_t max, uint64_t *out);
/* Parses "250ms", "5s", "10m", "24h" (an integer and a unit, no sign, no space;
 * "0s" is fine here); SG_OK, or SG_ERR on bad text or a value past INT64_MAX ms. */
int sg_parse_duration_ms(const char *s, uint64_t *out);

/* ---- The validated config (gateway/conf/conf.c) --------------------------------- */

struct sg_module;
struct ssl_ctx_st; /* OpenSSL's SSL_CTX */

enum { SG_REDIS_BYPASS = 0, SG_REDIS_REJECT = 1 };

struct sg_conf_auth_provider {
    const struct sg_module *module; /* the auth module for `type` */
    void *priv;                     /* what the module's conf hook built; freed by its free_conf */
    int line;
};

struct sg_conf_backend {
    char *name;
    char *url;    /* as given, e.g. "https://vc1.example.com:443" */
    char *scheme; /* "http" | "https" */
    char *host;   /* host name or address, without brackets */
    uint16_t port;
    char *base_path;                 /* path prefix of the url without trailing '/', "" when none */
    const struct sg_module *dialect; /* the dialect module for `dialect` */
    void *dialect_priv;
    char *username; /* service account; NULL when credentials are omitted */
    char *password; /* read from password_file at load time; NULL when omitted */
    char *password_file;
    char *tls_ca_file; /* NULL: the system store */
    /* https: the client TLS context, built (and tls_ca_file checked) at load
     * so -t, start and reload fail alike on a bad file; every worker's client
     * of this backend holds a reference. NULL for http. */
    struct ssl_ctx_st *tls_ctx;
    bool tls_verify;
    char *tls_server_name; /* SNI and the name verified; NULL: the url's host */
    uint64_t connect_timeout_ms;
    uint64_t request_timeout_ms;
    uint64_t pool_max_connections; /* per worker; beyond it fetches queue */
    /* retries: idempotent failures (connect, reset, 502/503/504) are tried
     * again with full-jitter backoff inside the request timeout */
    uint64_t retries_max;          /* attempts after the first; 0: none */
    uint64_t retry_budget_percent; /* retries at most this share of requests (plus a reserve) */
    /* health_check: active probes from the main thread */
    bool health_enabled;
    char *health_path; /* GET target, relative to the host (not the url's path) */
    uint64_t health_interval_ms, health_timeout_ms;
    uint64_t health_rise, health_fall;
    /* outlier: passive ejection after consecutive failures */
    uint64_t outlier_failures;    /* consecutive failed fetches that eject */
    uint64_t outlier_ejection_ms; /* base time out; n-th ejection in a row: n times this */
    int line;
};

enum sg_routing { SG_ROUTE_FANOUT = 0, SG_ROUTE_HEADER = 1 };

/* At most this many backends: per-backend metrics live in fixed per-worker blocks. */
#define SG_MAX_BACKENDS 32

struct sg_conf {
    char *path; /* the file loaded, NULL when none */

    char *listen;       /* "host:port" */
    char *admin_listen; /* "host:port" */
    unsigned workers;
    /* Client connections the process holds at once; beyond it a new one is
     * closed as soon as it is accepted (gateway/http/conn.c). */
    uint64_t max_connections;

    int log_level;  /* enum sg_log_level */
    int log_format; /* enum sg_log_format */

    /* cache.ttl.*, in milliseconds */
    uint64_t ttl_pending_ms, ttl_running_ms, ttl_blocked_ms, ttl_terminal_ms, ttl_not_found_ms;
    uint64_t local_max_entries;
    uint64_t local_max_ttl_ms;
    uint64_t stale_if_error_ms; /* 0: never serve stale */

    /* redis: the shared tier; NULL module when absent (the local tier alone). */
    const struct sg_module *shared_cache;
    void *shared_cache_priv; /* what the module's conf hook built from the `redis` map */
    char *redis_url;         /* as given (may hold a password: never log it) */
    int redis_on_error;      /* SG_REDIS_BYPASS: a failure is a miss; SG_REDIS_REJECT: 503 */

    char *auth_realm;
    char **auth_allow; /* users, or "group:NAME" */
    size_t auth_allow_n;
    struct sg_conf_auth_provider *providers;
    size_t providers_n;

    struct sg_conf_backend *backends;
    size_t backends_n;
    int routing;           /* enum sg_routing */
    uint64_t owner_ttl_ms; /* how long a task's owner is remembered (fanout) */

    uint64_t drain_timeout_ms;

    /* sessions: snapgate's own (gateway/auth/session.h); applied in place on
     * reload, to every session at its next use. */
    uint64_t session_idle_ms;         /* sessions.idle_timeout: unused this long, it ends */
    uint64_t session_max_lifetime_ms; /* sessions.max_lifetime: none lives longer */
};

/* Load and validate: file (may be NULL: defaults only), then the SNAPGATE_*
 * environment. Every module's part is validated through its conf hook. errs
 * should come in empty; errs->file is set to path. Returns NULL iff errs holds
 * at least one error; else a config the caller frees with sg_conf_free. Nothing
 * is bound or connected. */
struct sg_conf *sg_conf_load(const char *path, struct sg_conf_errs *errs);
void sg_conf_free(struct sg_conf *conf);

/* Split "host:port" ("[::1]:8080" too); SG_OK or SG_ERR. host is malloc'd. */
int sg_parse_hostport(const char *s, char **host, uint16_t *port);

#endif
