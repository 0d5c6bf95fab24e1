/* The snapservice dialect module: a backend that already serves
 * Snapservice.Tasks.Info. Its answers are validated in full and passed on
 * unchanged (null members dropped, times canonical), vc_task included. */
#include <stddef.h>

#include "snapgate/module.h"
#include "snapservice.h"

static const struct sg_dialect_ops snapservice_ops = {
    .build_task = sg_snapservice_build_task,
    .build_login = sg_snapservice_build_login,
    .parse_login = sg_snapservice_parse_login,
    .apply_session = sg_snapservice_apply_session,
    .normalize = sg_snapservice_normalize,
};

/* No settings of its own: the backend entry's common keys are all it needs. */
const struct sg_module sg_module_dialect_snapservice = {
    .name = "snapservice",
    .kind = SG_MOD_DIALECT,
    .conf = NULL,
    .free_conf = NULL,
    .worker_init = NULL,
    .worker_fini = NULL,
    .ops = &snapservice_ops,
};
