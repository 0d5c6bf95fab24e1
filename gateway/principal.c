/* Principals: who a provider says the caller is. */
#include <stdlib.h>
#include <string.h>

#include "snapgate/auth.h"

void sg_principal_clear(struct sg_principal *p)
{
    for (size_t i = 0; i < p->ngroups; i++)
        free(p->groups[i]);
    free(p->groups);
    memset(p, 0, sizeof(*p));
}
