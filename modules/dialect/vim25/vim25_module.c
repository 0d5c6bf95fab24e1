/* The vim25 dialect module: SOAP RetrievePropertiesEx of Task.info against
 * any vCenter, the session in the vmware_soap_session cookie. The TaskInfo in
 * the answer is converted to the VI/JSON shape and mapped by the same code as
 * the vijson dialect (gateway/normalize/taskinfo.c). */
#include <stddef.h>

#include "snapgate/module.h"
#include "vim25.h"

static const struct sg_dialect_ops vim25_ops = {
    .build_task = sg_vim25_build_task,
    .build_login = sg_vim25_build_login,
    .parse_login = sg_vim25_parse_login,
    .apply_session = sg_vim25_apply_session,
    .normalize = sg_vim25_normalize,
};

/* No settings of its own: the backend entry's common keys are all it needs. */
const struct sg_module sg_module_dialect_vim25 = {
    .name = "vim25",
    .kind = SG_MOD_DIALECT,
    .conf = NULL,
    .free_conf = NULL,
    .worker_init = NULL,
    .worker_fini = NULL,
    .ops = &vim25_ops,
};
