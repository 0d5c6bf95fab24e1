/* The `auth` section: realm, allow list and the provider chain. The core
 * knows each contract provider type's keys; the provider's module checks
 * their values in its conf hook. */
#include <stdlib.h>
#include <string.h>

#include "conf/conf_internal.h"
#include "snapgate/common.h"
#include "snapgate/module.h"

/* The contract's provider types and the keys each takes besides `type`. */
static const struct provider_type {
    const char *type;
    const char *keys[5];
} provider_types[] = {
    {"basic", {"users_file"}},
    {"bearer", {"tokens_file"}},
    {"jwt", {"keys_file", "issuer", "audience", "groups_claim"}},
    {"saml", {"sts_certs_file", "audience"}},
    {"vcenter", {"backend", "max_sessions"}},
};

static void read_realm(const struct sg_conf_node *n, const char *path, struct sg_conf_errs *errs,
                       void *target)
{
    struct sg_conf *conf = target;
    char *realm;
    if (sg_conf_read_string(n, path, errs, &realm) != SG_OK)
        return;
    /* It is sent inside a quoted-string of WWW-Authenticate. */
    for (const char *p = realm; *p; p++) {
        if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\') {
            sg_conf_errs_add(errs, n->line, path,
                             "must be printable ASCII without '\"' or '\\' (it is sent in "
                             "WWW-Authenticate)");
            free(realm);
            return;
        }
    }
    free(conf->auth_realm);
    conf->auth_realm = realm;
}

static void read_allow(const struct sg_conf_node *n, const char *path, struct sg_conf_errs *errs,
                       void *target)
{
    struct sg_conf *conf = target;
    char q[SG_CONF_QUOTE_MAX];
    if (sg_conf_node_is_null(n))
        return;
    if (n->type != SG_NODE_SEQ) {
        sg_conf_errs_add(errs, n->line, path, "want a sequence, got %s", sg_conf_node_kind(n));
        return;
    }
    conf->auth_allow = sg_xcalloc(n->n, sizeof(*conf->auth_allow));
    for (size_t i = 0; i < n->n; i++) {
        char *ipath = sg_conf_path_index(path, i);
        char *who;
        if (sg_conf_read_string(n->items[i], ipath, errs, &who) == SG_OK) {
            if (!strcmp(who, "group:")) {
                sg_conf_errs_add(errs, n->items[i]->line, ipath,
                                 "%s names no group (want group:NAME)",
                                 sg_conf_node_quote(n->items[i], q));
                free(who);
            } else {
                conf->auth_allow[conf->auth_allow_n++] = who;
            }
        }
        free(ipath);
    }
}

static const struct provider_type *find_type(const char *type)
{
    for (size_t i = 0; i < SG_ARRAY_LEN(provider_types); i++) {
        if (!strcmp(provider_types[i].type, type))
            return &provider_types[i];
    }
    return NULL;
}

static bool type_has_key(const struct provider_type *t, const char *key)
{
    for (size_t i = 0; i < SG_ARRAY_LEN(t->keys) && t->keys[i]; i++) {
        if (!strcmp(t->keys[i], key))
            return true;
    }
    return false;
}

/* One provider entry: its type, its module, and keys the type does not take. */
static void read_provider(const struct sg_conf_node *item, const char *path,
                          struct sg_conf_auth_provider *p, struct sg_conf_errs *errs)
{
    char q[SG_CONF_QUOTE_MAX];
    p->line = item->line;
    if (item->type != SG_NODE_MAP) {
        sg_conf_errs_add(errs, item->line, path, "want a map, got %s", sg_conf_node_kind(item));
        return;
    }
    const struct sg_conf_node *type = sg_conf_node_get(item, "type");
    char *type_path = sg_conf_path_key(path, "type");
    const struct provider_type *t = NULL;
    if (!type) {
        sg_conf_errs_add(errs, item->line, type_path, "required key is missing");
    } else if (sg_conf_want_scalar(type, type_path, errs, "a provider type") == SG_OK) {
        t = find_type(type->scalar);
        if (!t) {
            sg_conf_errs_add(errs, type->line, type_path,
                             "unknown auth provider type %s (want basic, bearer, jwt, saml or "
                             "vcenter)",
                             sg_conf_node_quote(type, q));
        } else {
            p->module = sg_module_find(SG_MOD_AUTH, t->type);
            if (!p->module)
                sg_conf_errs_add(errs, type->line, type_path, "%s is not supported yet",
                                 sg_conf_node_quote(type, q));
        }
    }
    free(type_path);
    /* Without a known type the other keys cannot be judged. */
    for (size_t i = 0; t && i < item->n; i++) {
        if (!strcmp(item->keys[i], "type") || type_has_key(t, item->keys[i]))
            continue;
        char *key_path = sg_conf_path_key(path, item->keys[i]);
        sg_conf_errs_add(errs, item->key_lines[i], key_path, "unknown key (for type %s)", t->type);
        free(key_path);
    }
}

static void read_providers(const struct sg_conf_node *n, const char *path,
                           struct sg_conf_errs *errs, void *target)
{
    struct sg_conf *conf = target;
    if (sg_conf_node_is_null(n))
        return;
    if (n->type != SG_NODE_SEQ) {
        sg_conf_errs_add(errs, n->line, path, "want a sequence, got %s", sg_conf_node_kind(n));
        return;
    }
    conf->providers = sg_xcalloc(n->n, sizeof(*conf->providers));
    conf->providers_n = n->n;
    for (size_t i = 0; i < n->n; i++) {
        char *ipath = sg_conf_path_index(path, i);
        read_provider(n->items[i], ipath, &conf->providers[i], errs);
        free(ipath);
    }
}

/* vcenter delegates to a backend: it must be one that is configured. */
static void check_vcenter_backend(const struct sg_conf_node *item, const char *path,
                                  const struct sg_conf *conf, struct sg_conf_errs *errs)
{
    char q[SG_CONF_QUOTE_MAX];
    const struct sg_conf_node *backend = sg_conf_node_get(item, "backend");
    char *bpath = sg_conf_path_key(path, "backend");
    if (!backend) {
        sg_conf_errs_add(errs, item->line, bpath, "required key is missing");
    } else if (sg_conf_want_scalar(backend, bpath, errs, "a backend name") == SG_OK) {
        size_t i = 0;
        while (i < conf->backends_n &&
               !(conf->backends[i].name && !strcmp(conf->backends[i].name, backend->scalar)))
            i++;
        if (i == conf->backends_n)
            sg_conf_errs_add(errs, backend->line, bpath, "%s is not a configured backend",
                             sg_conf_node_quote(backend, q));
    }
    free(bpath);
}

void sg_conf_providers_finish(const struct sg_conf_node *root, struct sg_conf *conf,
                              struct sg_conf_errs *errs)
{
    const struct sg_conf_node *seq = sg_conf_node_get(sg_conf_node_get(root, "auth"), "providers");
    for (size_t i = 0; i < conf->providers_n; i++) {
        const struct sg_conf_node *item = seq->items[i];
        struct sg_conf_auth_provider *p = &conf->providers[i];
        char *ipath = sg_conf_path_index("auth.providers", i);
        const struct sg_conf_node *type = sg_conf_node_get(item, "type");
        if (type && type->type == SG_NODE_SCALAR && !strcmp(type->scalar, "vcenter"))
            check_vcenter_backend(item, ipath, conf, errs);
        if (p->module && p->module->conf) {
            size_t before = errs->n;
            if (p->module->conf(item, ipath, conf, errs, &p->priv) != SG_OK && errs->n == before)
                sg_conf_errs_add(errs, p->line, ipath, "rejected by the %s provider",
                                 p->module->name);
        }
        free(ipath);
    }
}

static const struct sg_conf_spec auth_spec[] = {
    {.key = "realm", .kind = SG_SPEC_CUSTOM, .custom = read_realm},
    {.key = "allow", .kind = SG_SPEC_CUSTOM, .custom = read_allow},
    {.key = "providers", .kind = SG_SPEC_CUSTOM, .custom = read_providers},
    {0},
};

void sg_conf_auth_read(const struct sg_conf_node *n, const char *path, struct sg_conf_errs *errs,
                       void *conf)
{
    sg_conf_walk(n, path, auth_spec, conf, errs);
}

/* Does a vcenter provider delegate to the backend called name? */
static bool delegated_to(const struct sg_conf_node *root, const char *name)
{
    const struct sg_conf_node *auth = sg_conf_node_get(root, "auth");
    const struct sg_conf_node *seq = auth ? sg_conf_node_get(auth, "providers") : NULL;
    if (!seq || seq->type != SG_NODE_SEQ)
        return false;
    for (size_t i = 0; i < seq->n; i++) {
        const struct sg_conf_node *type = sg_conf_node_get(seq->items[i], "type");
        const struct sg_conf_node *be = sg_conf_node_get(seq->items[i], "backend");
        if (type && type->type == SG_NODE_SCALAR && !strcmp(type->scalar, "vcenter") && be &&
            be->type == SG_NODE_SCALAR && !strcmp(be->scalar, name))
            return true;
    }
    return false;
}

void sg_conf_delegation_check(const struct sg_conf_node *root, const struct sg_conf *conf,
                              struct sg_conf_errs *errs)
{
    const struct sg_conf_node *seq = sg_conf_node_get(root, "backends");
    for (size_t i = 0; i < conf->backends_n; i++) {
        const struct sg_conf_backend *b = &conf->backends[i];
        const struct sg_conf_node *cred = sg_conf_node_get(seq->items[i], "credentials");
        /* A credentials map with errors has its own messages. */
        if ((cred && !sg_conf_node_is_null(cred)) || !b->name || delegated_to(root, b->name))
            continue;
        char *path = sg_conf_path_index("backends", i);
        sg_conf_errs_add(errs, b->line, path,
                         "a backend without credentials needs an auth provider of type vcenter "
                         "for it (then the callers' own sessions go upstream)");
        free(path);
    }
}
