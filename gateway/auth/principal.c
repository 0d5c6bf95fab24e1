/* Principals: who a provider says the caller is. */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "snapgate/auth.h"

void sg_principal_clear(struct sg_principal *p)
{
    for (size_t i = 0; i < p->ngroups; i++)
        free(p->groups[i]);
    free(p->groups);
    if (p->upstream_session) {
        OPENSSL_cleanse(p->upstream_session, strlen(p->upstream_session));
        free(p->upstream_session);
    }
    free(p->upstream_backend);
    memset(p, 0, sizeof(*p));
}
