/* redis.url: TCP with an optional password and db, or a unix socket. The
 * password may come back in no error message, and a mistyped URL may hold it
 * anywhere, so reasons name the part that is wrong and never quote the URL. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "redis.h"
#include "snapgate/common.h"

void sg_redis_url_clear(struct sg_redis_url *u)
{
    if (u->password)
        explicit_bzero(u->password, strlen(u->password));
    free(u->password);
    free(u->host);
    free(u->path);
    memset(u, 0, sizeof(*u));
}

static void set_err(char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

/* Decimal digits only (no sign, no space), at most max. */
static int parse_uint(const char *s, size_t n, long max, long *out)
{
    if (n == 0 || n > 10)
        return SG_ERR;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return SG_ERR;
        v = v * 10 + (s[i] - '0');
    }
    if (v > max)
        return SG_ERR;
    *out = v;
    return SG_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes n bytes of s; NULL on a bad escape or a decoded NUL. */
static char *pct_decode(const char *s, size_t n)
{
    char *out = sg_xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            out[o++] = s[i];
            continue;
        }
        int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
        int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
        if (hi >= 0 && lo >= 0 && (hi | lo) != 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
            continue;
        }
        explicit_bzero(out, o);
        free(out);
        return NULL;
    }
    out[o] = '\0';
    return out;
}

static bool host_name_ok(const char *h, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)h[i]) && h[i] != '-' && h[i] != '.')
            return false;
    return h[0] != '-' && h[0] != '.';
}

static int parse_unix(const char *rest, struct sg_redis_url *u, char *err, size_t cap)
{
    /* unix:///path: an empty authority, then an absolute path. */
    if (rest[0] != '/') {
        set_err(err, cap, "want unix:///absolute/path/to.sock[?db=N]");
        return SG_ERR;
    }
    size_t plen = strcspn(rest, "?#");
    struct sockaddr_un sun;
    if (plen < 2 || plen >= sizeof(sun.sun_path)) {
        set_err(err, cap, "the socket path must be 2..%zu bytes", sizeof(sun.sun_path) - 1);
        return SG_ERR;
    }
    const char *q = rest + plen;
    if (*q == '#') {
        set_err(err, cap, "must not have a fragment");
        return SG_ERR;
    }
    if (*q == '?') {
        long db;
        if (strncmp(q, "?db=", 4) != 0 || parse_uint(q + 4, strlen(q + 4), INT_MAX, &db)) {
            set_err(err, cap, "the only query allowed is ?db=N with N a non-negative integer");
            return SG_ERR;
        }
        u->db = (int)db;
    }
    u->path = sg_xstrndup(rest, plen);
    return SG_OK;
}

/* [":" password "@"]: rest points after "redis://", at points to the last '@'. */
static int parse_userinfo(const char *rest, const char *at, struct sg_redis_url *u, char *err,
                          size_t cap)
{
    if (rest[0] != ':') {
        set_err(err, cap,
                "give the password as redis://:PASSWORD@host (ACL user names are not "
                "supported by hiredis 0.14)");
        return SG_ERR;
    }
    if (at == rest + 1) {
        set_err(err, cap, "the password is empty");
        return SG_ERR;
    }
    u->password = pct_decode(rest + 1, (size_t)(at - rest - 1));
    if (!u->password) {
        set_err(err, cap, "the password has a bad percent-escape (want %%XX, not %%00)");
        return SG_ERR;
    }
    return SG_OK;
}

/* host[:port] of n bytes at s. */
static int parse_hostport(const char *s, size_t n, struct sg_redis_url *u, char *err, size_t cap)
{
    const char *port = NULL;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        char v6[INET6_ADDRSTRLEN];
        struct in6_addr a;
        size_t alen = close ? (size_t)(close - s - 1) : 0;
        if (!close || alen == 0 || alen >= sizeof(v6)) {
            set_err(err, cap, "want [IPv6] in brackets");
            return SG_ERR;
        }
        memcpy(v6, s + 1, alen);
        v6[alen] = '\0';
        if (inet_pton(AF_INET6, v6, &a) != 1) {
            set_err(err, cap, "the bracketed host is not an IPv6 address");
            return SG_ERR;
        }
        u->host = sg_xstrdup(v6);
        const char *after = close + 1;
        if (after < s + n && *after != ':') {
            set_err(err, cap, "unexpected text after ']'");
            return SG_ERR;
        }
        port = after < s + n ? after + 1 : NULL;
    } else {
        const char *colon = memchr(s, ':', n);
        size_t hlen = colon ? (size_t)(colon - s) : n;
        if (!host_name_ok(s, hlen)) {
            set_err(err, cap, "the host is not a host name or IPv4 address");
            return SG_ERR;
        }
        u->host = sg_xstrndup(s, hlen);
        port = colon ? colon + 1 : NULL;
    }
    u->port = SG_REDIS_DEFAULT_PORT;
    if (port) {
        long p;
        size_t plen = (size_t)(s + n - port);
        if (parse_uint(port, plen, 65535, &p) || p == 0) {
            set_err(err, cap, "the port must be 1..65535");
            return SG_ERR;
        }
        u->port = (uint16_t)p;
    }
    return SG_OK;
}

static int parse_tcp(const char *rest, struct sg_redis_url *u, char *err, size_t cap)
{
    /* The last '@' ends the user info: a db path cannot hold one, and a
     * password with a raw '@' or '/' still splits where the user meant. */
    const char *at = strrchr(rest, '@');
    const char *hp = rest;
    if (at) {
        if (parse_userinfo(rest, at, u, err, cap))
            return SG_ERR;
        hp = at + 1;
    }
    size_t hplen = strcspn(hp, "/?#");
    if (parse_hostport(hp, hplen, u, err, cap))
        return SG_ERR;
    const char *p = hp + hplen;
    if (*p == '?' || *p == '#') {
        set_err(err, cap, "must not have a query or fragment (the db goes in the path: /N)");
        return SG_ERR;
    }
    if (*p == '/' && p[1] != '\0') {
        long db;
        if (parse_uint(p + 1, strlen(p + 1), INT_MAX, &db)) {
            set_err(err, cap, "the path must be /N with N a non-negative database number");
            return SG_ERR;
        }
        u->db = (int)db;
    }
    return SG_OK;
}

int sg_redis_url_parse(const char *url, struct sg_redis_url *out, char *err, size_t cap)
{
    struct sg_redis_url u = {0};
    int rc;
    if (!strncmp(url, "redis://", 8)) {
        rc = parse_tcp(url + 8, &u, err, cap);
    } else if (!strncmp(url, "unix://", 7)) {
        rc = parse_unix(url + 7, &u, err, cap);
    } else if (!strncmp(url, "rediss://", 9)) {
        set_err(err, cap, "TLS (rediss://) is not supported by hiredis 0.14");
        rc = SG_ERR;
    } else {
        set_err(err, cap, "want redis://[:password@]host[:port][/db] or unix:///path[?db=N]");
        rc = SG_ERR;
    }
    if (rc != SG_OK)
        goto fail;
    *out = u;
    return SG_OK;
fail:
    sg_redis_url_clear(&u);
    return SG_ERR;
}
