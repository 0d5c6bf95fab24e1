/* The `backends` section: each entry's keys, its URL, its service account
 * (the password read from its file here, never shown), TLS and timeouts,
 * then its dialect module's own conf hook. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/ssl.h>

#include "conf/conf_internal.h"
#include "snapgate/common.h"
#include "snapgate/module.h"
#include "conf/conf_tls.h"

/* A password file is a line of text, not a document. */
#define PASSWORD_MAX 4096

static const char *const contract_dialects[] = {"cis",   "rest",        "vijson",
                                                "vim25", "snapservice", NULL};

static void read_name(const struct sg_conf_node *n, const char *path, struct sg_conf_errs *errs,
                      void *target)
{
    struct sg_conf_backend *b = target;
    char q[SG_CONF_QUOTE_MAX];
    char *name;
    if (sg_conf_read_string(n, path, errs, &name) != SG_OK)
        return;
    size_t len = strlen(name);
    if (len > 64 || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789_.-") != len) {
        sg_conf_errs_add(errs, n->line, path,
                         "%s is not a backend name (want 1 to 64 of A-Z a-z 0-9 _ . -)",
                         sg_conf_node_quote(n, q));
        free(name);
        return;
    }
    free(b->name);
    b->name = name;
}

static void read_url(const struct sg_conf_node *n, const char *path, struct sg_conf_errs *errs,
                     void *target)
{
    struct sg_conf_backend *b = target;
    char q[SG_CONF_QUOTE_MAX];
    char *url;
    if (sg_conf_read_string(n, path, errs, &url) != SG_OK)
        return;
    struct sg_conf_url u;
    const char *why;
    bool echo;
    if (sg_conf_url_parse(url, &u, &why, &echo) != SG_OK) {
        if (echo)
            sg_conf_errs_add(errs, n->line, path, "invalid url %s: %s", sg_conf_node_quote(n, q),
                             why);
        else if (n->env)
            sg_conf_errs_add(errs, n->line, path, "invalid url in %s: %s", n->env, why);
        else
            sg_conf_errs_add(errs, n->line, path, "invalid url: %s", why);
        free(url);
        return;
    }
    free(b->url);
    free(b->scheme);
    free(b->host);
    free(b->base_path);
    b->url = url;
    b->scheme = u.scheme;
    b->host = u.host;
    b->port = u.port;
    b->base_path = u.base_path;
}

static void read_dialect(const struct sg_conf_node *n, const char *path, struct sg_conf_errs *errs,
                         void *target)
{
    struct sg_conf_backend *b = target;
    char q[SG_CONF_QUOTE_MAX];
    if (sg_conf_want_scalar(n, path, errs, "a dialect name") != SG_OK)
        return;
    size_t i = 0;
    while (contract_dialects[i] && strcmp(contract_dialects[i], n->scalar) != 0)
        i++;
    if (!contract_dialects[i]) {
        sg_conf_errs_add(errs, n->line, path,
                         "unknown dialect %s (want cis, rest, vijson, vim25 or snapservice)",
                         sg_conf_node_quote(n, q));
        return;
    }
    b->dialect = sg_module_find(SG_MOD_DIALECT, n->scalar);
    if (!b->dialect)
        sg_conf_errs_add(errs, n->line, path, "%s is not supported yet", sg_conf_node_quote(n, q));
}

/* Reads the whole (small) file; the password is never put in a message. */
static void read_password_file(const struct sg_conf_node *n, const char *path,
                               struct sg_conf_errs *errs, void *target)
{
    struct sg_conf_backend *b = target;
    char q[SG_CONF_QUOTE_MAX];
    char *file;
    if (sg_conf_read_string(n, path, errs, &file) != SG_OK)
        return;
    free(b->password_file);
    b->password_file = file;
    char *buf = sg_xmalloc(PASSWORD_MAX + 2);
    FILE *f = fopen(file, "rb");
    if (!f) {
        sg_conf_errs_add(errs, n->line, path, "cannot read %s: %s", sg_conf_node_quote(n, q),
                         strerror(errno));
        goto fail;
    }
    size_t len = fread(buf, 1, PASSWORD_MAX + 1, f);
    int read_failed = ferror(f);
    fclose(f);
    if (read_failed) {
        sg_conf_errs_add(errs, n->line, path, "cannot read %s", sg_conf_node_quote(n, q));
        goto fail;
    }
    if (len > PASSWORD_MAX) {
        sg_conf_errs_add(errs, n->line, path, "%s is larger than %d bytes",
                         sg_conf_node_quote(n, q), PASSWORD_MAX);
        goto fail;
    }
    buf[len] = '\0';
    /* One trailing newline is the editor's, not the password's. */
    if (len > 0 && buf[len - 1] == '\n')
        buf[--len] = '\0';
    if (len > 0 && buf[len - 1] == '\r')
        buf[--len] = '\0';
    if (len == 0) {
        sg_conf_errs_add(errs, n->line, path, "%s is empty", sg_conf_node_quote(n, q));
        goto fail;
    }
    if (strlen(buf) != len) {
        sg_conf_errs_add(errs, n->line, path, "%s contains a NUL byte", sg_conf_node_quote(n, q));
        goto fail;
    }
    if (b->password) {
        explicit_bzero(b->password, strlen(b->password));
        free(b->password);
    }
    b->password = sg_xstrdup(buf);
    sg_conf_check_secret_mode(errs, n->line, path, file);
fail:
    explicit_bzero(buf, PASSWORD_MAX + 2);
    free(buf);
}

static void read_ca_file(const struct sg_conf_node *n, const char *path, struct sg_conf_errs *errs,
                         void *target)
{
    struct sg_conf_backend *b = target;
    char q[SG_CONF_QUOTE_MAX];
    char *file;
    if (sg_conf_read_string(n, path, errs, &file) != SG_OK)
        return;
    struct stat st;
    FILE *f = fopen(file, "rb");
    if (!f) {
        sg_conf_errs_add(errs, n->line, path, "cannot read %s: %s", sg_conf_node_quote(n, q),
                         strerror(errno));
        free(file);
        return;
    }
    int is_file = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
    fclose(f);
    if (!is_file) {
        sg_conf_errs_add(errs, n->line, path, "%s is not a regular file", sg_conf_node_quote(n, q));
        free(file);
        return;
    }
    free(b->tls_ca_file);
    b->tls_ca_file = file;
}

#define B_OFF(field) offsetof(struct sg_conf_backend, field)

static const struct sg_conf_spec credentials_spec[] = {
    {.key = "username", .kind = SG_SPEC_STRING, .off = B_OFF(username)},
    {.key = "password_file", .kind = SG_SPEC_CUSTOM, .custom = read_password_file},
    {0},
};

static void read_server_name(const struct sg_conf_node *n, const char *path,
                             struct sg_conf_errs *errs, void *target)
{
    struct sg_conf_backend *b = target;
    char q[SG_CONF_QUOTE_MAX];
    char *name;
    if (sg_conf_read_string(n, path, errs, &name) != SG_OK)
        return;
    size_t len = strlen(name);
    /* A DNS name (RFC 1123 letters, digits, hyphens, dots), as SNI carries. */
    if (len > 253 || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "0123456789-.") != len) {
        sg_conf_errs_add(errs, n->line, path, "%s is not a DNS name", sg_conf_node_quote(n, q));
        free(name);
        return;
    }
    free(b->tls_server_name);
    b->tls_server_name = name;
}

static void read_health_path(const struct sg_conf_node *n, const char *path,
                             struct sg_conf_errs *errs, void *target)
{
    struct sg_conf_backend *b = target;
    char q[SG_CONF_QUOTE_MAX];
    char *p;
    if (sg_conf_read_string(n, path, errs, &p) != SG_OK)
        return;
    bool printable = true;
    for (const char *c = p; *c; c++)
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
            printable = false;
    if (p[0] != '/' || !printable) {
        sg_conf_errs_add(errs, n->line, path,
                         "%s is not a request path (want /..., no spaces or control characters)",
                         sg_conf_node_quote(n, q));
        free(p);
        return;
    }
    free(b->health_path);
    b->health_path = p;
}

static const struct sg_conf_spec tls_spec[] = {
    {.key = "ca_file", .kind = SG_SPEC_CUSTOM, .custom = read_ca_file},
    {.key = "verify", .kind = SG_SPEC_BOOL, .off = B_OFF(tls_verify)},
    {.key = "server_name", .kind = SG_SPEC_CUSTOM, .custom = read_server_name},
    {0},
};

static const struct sg_conf_spec pool_spec[] = {
    {.key = "max_connections",
     .kind = SG_SPEC_UINT,
     .off = B_OFF(pool_max_connections),
     .min = 1,
     .max = 1024},
    {0},
};

static const struct sg_conf_spec retries_spec[] = {
    {.key = "max", .kind = SG_SPEC_UINT, .off = B_OFF(retries_max), .min = 0, .max = 5},
    {.key = "budget_percent",
     .kind = SG_SPEC_UINT,
     .off = B_OFF(retry_budget_percent),
     .min = 0,
     .max = 100},
    {0},
};

static const struct sg_conf_spec health_spec[] = {
    {.key = "enabled", .kind = SG_SPEC_BOOL, .off = B_OFF(health_enabled)},
    {.key = "path", .kind = SG_SPEC_CUSTOM, .custom = read_health_path},
    {.key = "interval", .kind = SG_SPEC_DURATION, .off = B_OFF(health_interval_ms), .min = 100},
    {.key = "timeout", .kind = SG_SPEC_DURATION, .off = B_OFF(health_timeout_ms), .min = 1},
    {.key = "rise", .kind = SG_SPEC_UINT, .off = B_OFF(health_rise), .min = 1, .max = 100},
    {.key = "fall", .kind = SG_SPEC_UINT, .off = B_OFF(health_fall), .min = 1, .max = 100},
    {0},
};

static const struct sg_conf_spec outlier_spec[] = {
    {.key = "consecutive_failures",
     .kind = SG_SPEC_UINT,
     .off = B_OFF(outlier_failures),
     .min = 1,
     .max = 1000},
    {.key = "ejection", .kind = SG_SPEC_DURATION, .off = B_OFF(outlier_ejection_ms), .min = 1},
    {0},
};

static const struct sg_conf_spec timeouts_spec[] = {
    {.key = "connect", .kind = SG_SPEC_DURATION, .off = B_OFF(connect_timeout_ms), .min = 1},
    {.key = "request", .kind = SG_SPEC_DURATION, .off = B_OFF(request_timeout_ms), .min = 1},
    {0},
};

static const struct sg_conf_spec backend_spec[] = {
    {.key = "name", .kind = SG_SPEC_CUSTOM, .custom = read_name},
    {.key = "url", .kind = SG_SPEC_CUSTOM, .custom = read_url},
    {.key = "dialect", .kind = SG_SPEC_CUSTOM, .custom = read_dialect},
    {.key = "credentials", .kind = SG_SPEC_MAP, .sub = credentials_spec},
    {.key = "tls", .kind = SG_SPEC_MAP, .sub = tls_spec},
    {.key = "timeouts", .kind = SG_SPEC_MAP, .sub = timeouts_spec},
    {.key = "pool", .kind = SG_SPEC_MAP, .sub = pool_spec},
    {.key = "retries", .kind = SG_SPEC_MAP, .sub = retries_spec},
    {.key = "health_check", .kind = SG_SPEC_MAP, .sub = health_spec},
    {.key = "outlier", .kind = SG_SPEC_MAP, .sub = outlier_spec},
    {0},
};

/* How many backend keys of its own m has (none unless a dialect). */
static size_t dialect_key_count(const struct sg_module *m)
{
    size_t k = 0;
    if (m->kind == SG_MOD_DIALECT && m->backend_keys)
        while (m->backend_keys[k])
            k++;
    return k;
}

/* The dialect module whose backend_keys hold key, or NULL. */
static const struct sg_module *dialect_key_owner(const char *key)
{
    for (size_t i = 0; sg_modules[i]; i++)
        for (size_t k = 0; k < dialect_key_count(sg_modules[i]); k++)
            if (!strcmp(sg_modules[i]->backend_keys[k], key))
                return sg_modules[i];
    return NULL;
}

/* backend_spec plus every dialect module's own keys as SG_SPEC_MODULE: the
 * walk passes them over, the module's conf hook reads them
 * (sg_conf_backends_finish). The caller frees the result. */
static struct sg_conf_spec *backend_walk_spec(void)
{
    size_t n = SG_ARRAY_LEN(backend_spec) - 1, total = n;
    for (size_t i = 0; sg_modules[i]; i++)
        total += dialect_key_count(sg_modules[i]);
    struct sg_conf_spec *spec = sg_xcalloc(total + 1, sizeof(*spec));
    memcpy(spec, backend_spec, n * sizeof(*spec));
    for (size_t i = 0; sg_modules[i]; i++)
        for (size_t k = 0; k < dialect_key_count(sg_modules[i]); k++)
            spec[n++] = (struct sg_conf_spec){.key = sg_modules[i]->backend_keys[k],
                                              .kind = SG_SPEC_MODULE};
    return spec;
}

static void require(const struct sg_conf_node *map, const char *path, const char *key,
                    const void *have, bool key_present, struct sg_conf_errs *errs)
{
    /* A present but bad value has its own message already. */
    if (have || key_present)
        return;
    char *key_path = sg_conf_path_key(path, key);
    sg_conf_errs_add(errs, map->line, key_path, "required key is missing");
    free(key_path);
}

/* The checks that need the whole entry. */
static void check_entry(const struct sg_conf_node *item, const char *path,
                        const struct sg_conf_backend *b, struct sg_conf_errs *errs)
{
    require(item, path, "name", b->name, sg_conf_node_get(item, "name"), errs);
    require(item, path, "url", b->url, sg_conf_node_get(item, "url"), errs);
    require(item, path, "dialect", b->dialect, sg_conf_node_get(item, "dialect"), errs);

    /* A dialect's own keys (its module's backend_keys) on a backend of
     * another dialect. */
    const struct sg_conf_node *dialect = sg_conf_node_get(item, "dialect");
    for (size_t i = 0; i < item->n; i++) {
        const struct sg_module *owner = dialect_key_owner(item->keys[i]);
        if (!owner ||
            (dialect && dialect->type == SG_NODE_SCALAR && !strcmp(dialect->scalar, owner->name)))
            continue;
        char *kpath = sg_conf_path_key(path, item->keys[i]);
        sg_conf_errs_add(errs, item->key_lines[i], kpath, "only a %s backend takes a %s",
                         owner->name, item->keys[i]);
        free(kpath);
    }

    /* Without credentials the callers' own sessions go upstream: checked
     * against the providers in sg_conf_delegation_check. */
    const struct sg_conf_node *cred = sg_conf_node_get(item, "credentials");
    if (cred && cred->type == SG_NODE_MAP) {
        char *cpath = sg_conf_path_key(path, "credentials");
        require(cred, cpath, "username", b->username, sg_conf_node_get(cred, "username"), errs);
        require(cred, cpath, "password_file", b->password_file,
                sg_conf_node_get(cred, "password_file"), errs);
        free(cpath);
    }

    /* A probe that outlasts its interval would overlap the next one. */
    if (b->health_enabled && b->health_timeout_ms >= b->health_interval_ms) {
        const struct sg_conf_node *hc = sg_conf_node_get(item, "health_check");
        const struct sg_conf_node *t = hc ? sg_conf_node_get(hc, "timeout") : NULL;
        char *hpath = sg_conf_path_key(path, "health_check.timeout");
        sg_conf_errs_add(errs, t ? t->line : item->line, hpath,
                         "must be shorter than health_check.interval (%llu ms)",
                         (unsigned long long)b->health_interval_ms);
        free(hpath);
    }
}

/* The defaults of one entry, documented in README "Backends". */
static void backend_defaults(struct sg_conf_backend *b, int line)
{
    b->tls_verify = true;
    b->connect_timeout_ms = 5000;
    b->request_timeout_ms = 10000;
    b->pool_max_connections = 32;
    b->retries_max = 2;
    b->retry_budget_percent = 20;
    b->health_enabled = true;
    b->health_path = sg_xstrdup("/");
    b->health_interval_ms = 2000;
    b->health_timeout_ms = 1000;
    b->health_rise = 2;
    b->health_fall = 2;
    b->outlier_failures = 5;
    b->outlier_ejection_ms = 30000;
    b->line = line;
    b->base_path = sg_xstrdup("");
}

void sg_conf_backends_read(const struct sg_conf_node *n, const char *path,
                           struct sg_conf_errs *errs, void *target)
{
    struct sg_conf *conf = target;
    if (sg_conf_node_is_null(n))
        return;
    if (n->type != SG_NODE_SEQ) {
        sg_conf_errs_add(errs, n->line, path, "want a sequence, got %s", sg_conf_node_kind(n));
        return;
    }
    conf->backends = sg_xcalloc(n->n, sizeof(*conf->backends));
    conf->backends_n = n->n;
    struct sg_conf_spec *spec = backend_walk_spec();
    for (size_t i = 0; i < n->n; i++) {
        const struct sg_conf_node *item = n->items[i];
        struct sg_conf_backend *b = &conf->backends[i];
        backend_defaults(b, item->line);
        char *ipath = sg_conf_path_index(path, i);
        if (i == SG_MAX_BACKENDS)
            sg_conf_errs_add(errs, item->line, path, "more than %d backends", SG_MAX_BACKENDS);
        if (item->type != SG_NODE_MAP) {
            sg_conf_errs_add(errs, item->line, ipath, "want a map, got %s",
                             sg_conf_node_kind(item));
        } else {
            sg_conf_walk(item, ipath, spec, b, errs);
            check_entry(item, ipath, b, errs);
            sg_conf_backend_tls(item, ipath, b, errs);
            for (size_t j = 0; j < i && b->name; j++) {
                if (conf->backends[j].name && !strcmp(conf->backends[j].name, b->name))
                    sg_conf_errs_add(errs, sg_conf_node_get(item, "name")->line, ipath,
                                     "name \"%s\" is already used by backends[%zu]", b->name, j);
            }
        }
        free(ipath);
    }
    free(spec);
}

void sg_conf_backends_finish(const struct sg_conf_node *root, struct sg_conf *conf,
                             struct sg_conf_errs *errs)
{
    const struct sg_conf_node *seq = sg_conf_node_get(root, "backends");
    for (size_t i = 0; i < conf->backends_n; i++) {
        struct sg_conf_backend *b = &conf->backends[i];
        if (!b->dialect || !b->dialect->conf)
            continue;
        char *ipath = sg_conf_path_index("backends", i);
        size_t before = errs->n;
        if (b->dialect->conf(seq->items[i], ipath, conf, errs, &b->dialect_priv) != SG_OK &&
            errs->n == before)
            sg_conf_errs_add(errs, b->line, ipath, "rejected by the %s dialect", b->dialect->name);
        free(ipath);
    }
}

void sg_conf_backend_clear(struct sg_conf_backend *b)
{
    if (b->dialect_priv && b->dialect && b->dialect->free_conf)
        b->dialect->free_conf(b->dialect_priv);
    free(b->name);
    free(b->url);
    free(b->scheme);
    free(b->host);
    free(b->base_path);
    free(b->username);
    if (b->password) {
        explicit_bzero(b->password, strlen(b->password));
        free(b->password);
    }
    free(b->password_file);
    free(b->tls_ca_file);
    SSL_CTX_free(b->tls_ctx);
    free(b->tls_server_name);
    free(b->health_path);
    memset(b, 0, sizeof(*b));
}
