/* Backend URLs: http or https, a host, an optional port and path prefix;
 * nothing the upstream client would have to second-guess (no user info,
 * query or fragment). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf_internal.h"
#include "snapgate/common.h"

void sg_conf_url_clear(struct sg_conf_url *u)
{
    free(u->scheme);
    free(u->host);
    free(u->base_path);
    memset(u, 0, sizeof(*u));
}

static bool path_chars_ok(const char *p)
{
    /* RFC 3986 path characters: unreserved, sub-delims, ':', '@', '/', '%'. */
    return strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                     "-._~!$&'()*+,;=:@/%") == strlen(p);
}

int sg_conf_url_parse(const char *s, struct sg_conf_url *out, const char **why, bool *echo)
{
    struct sg_conf_url u = {0};
    *echo = true;
    const char *rest;
    if (!strncasecmp(s, "https://", 8)) {
        u.scheme = sg_xstrdup("https");
        u.port = 443;
        rest = s + 8;
    } else if (!strncasecmp(s, "http://", 7)) {
        u.scheme = sg_xstrdup("http");
        u.port = 80;
        rest = s + 7;
    } else {
        *why = "want an http:// or https:// URL";
        goto fail;
    }
    size_t auth_len = strcspn(rest, "/?#");
    if (memchr(rest, '@', auth_len)) {
        /* Whatever is before the '@' may be a password: never show it. */
        *echo = false;
        *why = "must not carry user info (credentials go under credentials:)";
        goto fail;
    }
    if (strpbrk(rest, "?#")) {
        *why = "must not have a query or fragment";
        goto fail;
    }
    char *hostport = sg_xstrndup(rest, auth_len);
    char *colon_at = hostport[0] == '[' ? strchr(hostport, ']') : hostport;
    char *colon = colon_at ? strchr(colon_at, ':') : NULL;
    int rc;
    if (colon) {
        uint16_t port;
        rc = sg_parse_hostport(hostport, &u.host, &port);
        u.port = port;
    } else {
        /* No port: borrow the host:port parser with the scheme's default. */
        char *with_port = sg_xasprintf("%s:%u", hostport, (unsigned)u.port);
        uint16_t port;
        rc = sg_parse_hostport(with_port, &u.host, &port);
        free(with_port);
    }
    free(hostport);
    if (rc != SG_OK) {
        *why = "want a host name or address and an optional port 1..65535";
        goto fail;
    }
    const char *path = rest + auth_len;
    if (!path_chars_ok(path)) {
        *why = "has characters a URL path cannot carry";
        goto fail;
    }
    size_t plen = strlen(path);
    while (plen > 0 && path[plen - 1] == '/')
        plen--;
    u.base_path = sg_xstrndup(path, plen);
    *out = u;
    return SG_OK;
fail:
    sg_conf_url_clear(&u);
    return SG_ERR;
}
