/* The vijson dialect module: VI/JSON answers TaskInfo, which the shared
 * mapping in gateway/taskinfo.c turns into Info. The one setting of its own
 * is the API release every path names. */
#include <stdlib.h>
#include <string.h>

#include "snapgate/common.h"
#include "snapgate/module.h"
#include "vijson.h"

int sg_vijson_conf(const struct sg_conf_node *node, const char *path, const struct sg_conf *conf,
                   struct sg_conf_errs *errs, void **priv)
{
    (void)conf;
    *priv = NULL;
    const struct sg_conf_node *rel = sg_conf_node_get(node, "release");
    char *rpath = sg_xasprintf("%s.release", path);
    int rc = SG_OK;
    if (!rel) {
        sg_conf_errs_add(errs, node->line, rpath,
                         "required key is missing (a vijson backend names the API release "
                         "its paths use, e.g. \"8.0.3.0\")");
        rc = SG_ERR;
    } else if (rel->type == SG_NODE_SCALAR && rel->scalar &&
               strspn(rel->scalar, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789._-") != strlen(rel->scalar)) {
        sg_conf_errs_add(errs, rel->line, rpath,
                         "not a release (want letters, digits, '.', '_' or '-', e.g. \"8.0.3.0\")");
        rc = SG_ERR;
    }
    /* A release that is empty or not a scalar has the backend reader's error. */
    free(rpath);
    return rc;
}

static const struct sg_dialect_ops vijson_ops = {
    .build_task = sg_vijson_build_task,
    .build_login = sg_vijson_build_login,
    .parse_login = sg_vijson_parse_login,
    .apply_session = sg_vijson_apply_session,
    .normalize = sg_vijson_normalize,
};

const struct sg_module sg_module_dialect_vijson = {
    .name = "vijson",
    .kind = SG_MOD_DIALECT,
    .conf = sg_vijson_conf,
    .free_conf = NULL,
    .worker_init = NULL,
    .worker_fini = NULL,
    .ops = &vijson_ops,
};
