/* The rest dialect module: vCenter's legacy Automation API answers with the
 * cis Info wrapped in {"value": ...}, maps written as key/value lists, and
 * errors as {"type", "value"}; this module unwraps all three. */
#include <stddef.h>

#include "rest.h"
#include "snapgate/module.h"

static const struct sg_dialect_ops rest_ops = {
    .build_task = sg_rest_build_task,
    .build_login = sg_rest_build_login,
    .parse_login = sg_rest_parse_login,
    .apply_session = sg_rest_apply_session,
    .normalize = sg_rest_normalize,
};

/* No settings of its own: the backend entry's common keys are all it needs. */
const struct sg_module sg_module_dialect_rest = {
    .name = "rest",
    .kind = SG_MOD_DIALECT,
    .conf = NULL,
    .free_conf = NULL,
    .worker_init = NULL,
    .worker_fini = NULL,
    .ops = &rest_ops,
};
