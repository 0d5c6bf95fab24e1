/* Weak stand-ins for the conf helpers the basic provider's conf hook calls,
 * so its suite links while gateway/conf*.c is written in another branch. Once
 * the real definitions are linked in they win (weak symbols yield), and the
 * suite's assertions hold for both: they only look at "key.path: reason". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapgate/common.h"
#include "snapgate/conf.h"

__attribute__((weak)) const struct sg_conf_node *sg_conf_node_get(const struct sg_conf_node *map,
                                                                  const char *key)
{
    if (!map || map->type != SG_NODE_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->keys[i], key) == 0)
            return map->items[i];
    return NULL;
}

__attribute__((weak)) void sg_conf_errs_add(struct sg_conf_errs *errs, int line, const char *path,
                                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *reason = NULL;
    if (vasprintf(&reason, fmt, ap) < 0)
        abort();
    va_end(ap);
    errs->msgs = sg_xrealloc(errs->msgs, (errs->n + 1) * sizeof(*errs->msgs));
    errs->msgs[errs->n++] =
        sg_xasprintf("%s:%d: %s: %s", errs->file ? errs->file : "<test>", line, path, reason);
    free(reason);
}

__attribute__((weak)) void sg_conf_errs_clear(struct sg_conf_errs *errs)
{
    for (size_t i = 0; i < errs->n; i++)
        free(errs->msgs[i]);
    free(errs->msgs);
    errs->msgs = NULL;
    errs->n = 0;
}

__attribute__((weak)) int sg_conf_read_string(const struct sg_conf_node *n, const char *path,
                                              struct sg_conf_errs *errs, char **out)
{
    if (n->type != SG_NODE_SCALAR) {
        sg_conf_errs_add(errs, n->line, path, "expected a string");
        return SG_ERR;
    }
    *out = sg_xstrdup(n->scalar);
    return SG_OK;
}
