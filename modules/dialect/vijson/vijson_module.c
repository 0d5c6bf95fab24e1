/* The vijson dialect module: VI/JSON answers TaskInfo, which the shared
 * mapping (snapgate/taskinfo.h) turns into Info. The one setting of its own
 * is the API release every path names: the backend key `release`, read and
 * checked here. */
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
    char *release = NULL;
    int rc = SG_OK;
    if (!rel) {
        sg_conf_errs_add(errs, node->line, rpath,
                         "required key is missing (a vijson backend names the API release "
                         "its paths use, e.g. \"8.0.3.0\")");
        rc = SG_ERR;
    } else if (sg_conf_read_string(rel, rpath, errs, &release) != SG_OK) {
        rc = SG_ERR; /* empty or not a string: the reader said which */
    } else if (strspn(release, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789._-") != strlen(release)) {
        sg_conf_errs_add(errs, rel->line, rpath,
                         "not a release (want letters, digits, '.', '_' or '-', e.g. \"8.0.3.0\")");
        rc = SG_ERR;
    }
    free(rpath);
    if (rc != SG_OK) {
        free(release);
        return rc;
    }
    struct sg_vijson_conf *vc = sg_xcalloc(1, sizeof(*vc));
    vc->release = release;
    *priv = vc;
    return SG_OK;
}

void sg_vijson_free_conf(void *priv)
{
    struct sg_vijson_conf *vc = priv;
    if (!vc)
        return;
    free(vc->release);
    free(vc);
}

bool sg_vijson_conf_equal(const void *a, const void *b)
{
    const struct sg_vijson_conf *x = a, *y = b;
    if (!x || !y)
        return x == y;
    return strcmp(x->release, y->release) == 0;
}

/* The keys of a backend entry that are this dialect's (the core refuses them
 * on other backends). */
static const char *const vijson_backend_keys[] = {"release", NULL};

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
    .free_conf = sg_vijson_free_conf,
    .backend_keys = vijson_backend_keys,
    .conf_equal = sg_vijson_conf_equal,
    .worker_init = NULL,
    .worker_fini = NULL,
    .ops = &vijson_ops,
};
