/* The SNAPGATE_* environment, which beats the file. Values are folded into
 * the YAML tree as nodes of line 0 that remember their variable, so the one
 * validator checks them and its messages read "env:0: key: SNAPGATE_X=...". */
#include <stdlib.h>
#include <string.h>

#include "conf/conf_internal.h"
#include "snapgate/common.h"

/* The section map under root, made when absent or null. NULL when the file
 * has something else there: its own error is reported by the validator. */
static struct sg_conf_node *section(struct sg_conf_node *root, const char *key)
{
    const struct sg_conf_node *have = sg_conf_node_get(root, key);
    if (have && have->type == SG_NODE_MAP)
        return (struct sg_conf_node *)have;
    if (have && !sg_conf_node_is_null(have))
        return NULL;
    struct sg_conf_node *map = sg_conf_node_new(SG_NODE_MAP, 0);
    sg_conf_node_set(root, key, map);
    return map;
}

/* Sets key in the section (NULL: root) from var, when var is set. */
static void apply_scalar(struct sg_conf_node *root, const char *sect, const char *key,
                         const char *var)
{
    const char *value = getenv(var);
    if (!value)
        return;
    struct sg_conf_node *map = sect ? section(root, sect) : root;
    if (map)
        sg_conf_node_set(map, key, sg_conf_node_new_scalar(value, 0, var));
}

static void apply_redis(struct sg_conf_node *root)
{
    const char *url = getenv("SNAPGATE_REDIS_URL");
    if (!url)
        return;
    if (!*url) {
        /* The contract's way to turn Redis off: whatever the file says. */
        sg_conf_tree_free(sg_conf_node_take(root, "redis", NULL));
        return;
    }
    apply_scalar(root, "redis", "url", "SNAPGATE_REDIS_URL");
}

/* The file's backend named "default", whose account, TLS and timeouts the
 * environment's backend keeps. */
static struct sg_conf_node *file_default_backend(struct sg_conf_node *root)
{
    const struct sg_conf_node *seq = sg_conf_node_get(root, "backends");
    if (!seq || seq->type != SG_NODE_SEQ)
        return NULL;
    for (size_t i = 0; i < seq->n; i++) {
        const struct sg_conf_node *name = sg_conf_node_get(seq->items[i], "name");
        if (name && name->type == SG_NODE_SCALAR && !strcmp(name->scalar, "default"))
            return seq->items[i];
    }
    return NULL;
}

static void apply_backend(struct sg_conf_node *root, struct sg_conf_errs *errs)
{
    static const char *const kept[] = {"credentials", "tls", "timeouts"};
    const char *url = getenv("SNAPGATE_BACKEND_URL");
    const char *dialect = getenv("SNAPGATE_BACKEND_DIALECT");
    if (!url) {
        if (dialect)
            sg_conf_errs_add(errs, 0, "backends",
                             "SNAPGATE_BACKEND_DIALECT is set without SNAPGATE_BACKEND_URL");
        return;
    }
    struct sg_conf_node *b = sg_conf_node_new(SG_NODE_MAP, 0);
    sg_conf_node_append(b, "name", 0, sg_conf_node_new_scalar("default", 0, NULL));
    sg_conf_node_append(b, "url", 0, sg_conf_node_new_scalar(url, 0, "SNAPGATE_BACKEND_URL"));
    sg_conf_node_append(b, "dialect", 0,
                        dialect ? sg_conf_node_new_scalar(dialect, 0, "SNAPGATE_BACKEND_DIALECT")
                                : sg_conf_node_new_scalar("cis", 0, NULL));
    struct sg_conf_node *from_file = file_default_backend(root);
    for (size_t i = 0; from_file && i < SG_ARRAY_LEN(kept); i++) {
        int key_line;
        struct sg_conf_node *v = sg_conf_node_take(from_file, kept[i], &key_line);
        if (v)
            sg_conf_node_append(b, kept[i], key_line, v);
    }
    /* It replaces every backend of the file. */
    struct sg_conf_node *seq = sg_conf_node_new(SG_NODE_SEQ, 0);
    sg_conf_node_append(seq, NULL, 0, b);
    sg_conf_node_set(root, "backends", seq);
}

void sg_conf_env_apply(struct sg_conf_node *root, struct sg_conf_errs *errs)
{
    apply_scalar(root, NULL, "listen", "SNAPGATE_LISTEN");
    apply_scalar(root, NULL, "admin_listen", "SNAPGATE_ADMIN_LISTEN");
    apply_scalar(root, NULL, "workers", "SNAPGATE_WORKERS");
    apply_scalar(root, "log", "level", "SNAPGATE_LOG_LEVEL");
    apply_scalar(root, "log", "format", "SNAPGATE_LOG_FORMAT");
    apply_redis(root);
    apply_backend(root, errs);
}
