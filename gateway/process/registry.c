/* Lookups in the generated static module registry. */
#include <string.h>

#include "snapgate/module.h"

const struct sg_module *sg_module_find(enum sg_module_kind kind, const char *name)
{
    for (const struct sg_module *const *m = sg_modules; *m; m++) {
        if ((*m)->kind == kind && strcmp((*m)->name, name) == 0)
            return *m;
    }
    return NULL;
}
