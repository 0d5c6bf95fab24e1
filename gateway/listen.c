/* Binding an evhtp listener to a "host:port" from the config. */
#include <stdlib.h>
#include <string.h>

#include "listen.h"
#include "snapgate/common.h"
#include "snapgate/conf.h"

int sg_listen_bind(evhtp_t *htp, const char *hostport, int backlog)
{
    char *host = NULL;
    uint16_t port = 0;
    if (sg_parse_hostport(hostport, &host, &port) != SG_OK)
        return SG_ERR;
    /* evhtp takes IPv6 addresses with an "ipv6:" prefix. */
    char *addr = strchr(host, ':') ? sg_xasprintf("ipv6:%s", host) : sg_xstrdup(host);
    int rc = evhtp_bind_socket(htp, addr, port, backlog);
    free(addr);
    free(host);
    return rc == 0 ? SG_OK : SG_ERR;
}
