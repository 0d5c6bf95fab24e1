/* The cis dialect module: vCenter's Automation API task endpoint answers in
 * the snapservice Info shape already (minus vc_task), so the work is asking
 * for it, logging in, and validating what comes back. */
#include <stddef.h>

#include "cis.h"
#include "snapgate/module.h"

static const struct sg_dialect_ops cis_ops = {
    .build_task = sg_cis_build_task,
    .build_login = sg_cis_build_login,
    .parse_login = sg_cis_parse_login,
    .apply_session = sg_cis_apply_session,
    .normalize = sg_cis_normalize,
};

/* No settings of its own: the backend entry's common keys are all it needs. */
const struct sg_module sg_module_dialect_cis = {
    .name = "cis",
    .kind = SG_MOD_DIALECT,
    .conf = NULL,
    .free_conf = NULL,
    .worker_init = NULL,
    .worker_fini = NULL,
    .ops = &cis_ops,
};
