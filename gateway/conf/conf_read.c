/* Typed readers for config values (durations, integers, booleans, strings,
 * host:port) and the table-driven walker that applies them to a map. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_internal.h"
#include "snapgate/common.h"

/* ---- plain parsers ---- */

/* Decimal digits only (no sign, no space); SG_ERR when empty, not digits, or
 * past max. *overflow tells the last case apart. */
static int parse_digits(const char *s, size_t len, uint64_t max, uint64_t *out, bool *overflow)
{
    uint64_t v = 0;
    *overflow = false;
    if (len == 0)
        return SG_ERR;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return SG_ERR;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (max - d) / 10) {
            *overflow = true;
            return SG_ERR;
        }
        v = v * 10 + d;
    }
    *out = v;
    return SG_OK;
}

/* The duration grammar, with the overflow case told apart for messages.
 * INT64_MAX ms is the cap so that clock arithmetic with it cannot wrap. */
static int parse_duration(const char *s, uint64_t *out, bool *overflow)
{
    static const struct {
        const char *unit;
        uint64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 60 * 60 * 1000}};
    *overflow = false;
    size_t digits = strspn(s, "0123456789");
    for (size_t i = 0; i < SG_ARRAY_LEN(units); i++) {
        if (strcmp(s + digits, units[i].unit) != 0)
            continue;
        uint64_t v;
        if (parse_digits(s, digits, (uint64_t)INT64_MAX / units[i].ms, &v, overflow) != SG_OK)
            return SG_ERR;
        *out = v * units[i].ms;
        return SG_OK;
    }
    return SG_ERR;
}

const char *sg_conf_duration_text(uint64_t ms, char buf[32])
{
    static const struct {
        const char *unit;
        uint64_t ms;
    } units[] = {{"h", 60 * 60 * 1000}, {"m", 60 * 1000}, {"s", 1000}};
    for (size_t i = 0; i < SG_ARRAY_LEN(units); i++) {
        if (ms && ms % units[i].ms == 0) {
            snprintf(buf, 32, "%llu%s", (unsigned long long)(ms / units[i].ms), units[i].unit);
            return buf;
        }
    }
    snprintf(buf, 32, "%llums", (unsigned long long)ms);
    return buf;
}

int sg_parse_duration_ms(const char *s, uint64_t *out)
{
    bool overflow;
    return parse_duration(s, out, &overflow);
}

int sg_parse_hostport(const char *s, char **host, uint16_t *port)
{
    const char *colon;
    size_t host_len;
    const char *host_start = s;
    char *h = NULL;
    if (*s == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':')
            return SG_ERR;
        host_start = s + 1;
        host_len = (size_t)(end - host_start);
        colon = end + 1;
        h = sg_xstrndup(host_start, host_len);
        struct in6_addr a6;
        if (inet_pton(AF_INET6, h, &a6) != 1)
            goto fail;
    } else {
        colon = strchr(s, ':');
        if (!colon || strchr(colon + 1, ':'))
            return SG_ERR;
        host_len = (size_t)(colon - s);
        if (host_len == 0 || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789.-") != host_len)
            return SG_ERR;
        h = sg_xstrndup(s, host_len);
    }
    uint64_t p;
    bool overflow;
    if (parse_digits(colon + 1, strlen(colon + 1), 65535, &p, &overflow) != SG_OK || p == 0)
        goto fail;
    *host = h;
    *port = (uint16_t)p;
    return SG_OK;
fail:
    free(h);
    return SG_ERR;
}

/* ---- readers that report ---- */

int sg_conf_want_scalar(const struct sg_conf_node *n, const char *path, struct sg_conf_errs *errs,
                        const char *what)
{
    if (n->type == SG_NODE_SCALAR && !sg_conf_node_is_null(n))
        return SG_OK;
    if (n->type == SG_NODE_SCALAR)
        sg_conf_errs_add(errs, n->line, path, "missing value (want %s)", what);
    else
        sg_conf_errs_add(errs, n->line, path, "want %s, got %s", what, sg_conf_node_kind(n));
    return SG_ERR;
}

int sg_conf_read_duration_min(const struct sg_conf_node *n, const char *path,
                              struct sg_conf_errs *errs, uint64_t min_ms, uint64_t *out)
{
    return sg_conf_read_duration_range(n, path, errs, min_ms, 0, out);
}

/* max_ms 0: no bound but the parser's. */
int sg_conf_read_duration_range(const struct sg_conf_node *n, const char *path,
                                struct sg_conf_errs *errs, uint64_t min_ms, uint64_t max_ms,
                                uint64_t *out)
{
    char q[SG_CONF_QUOTE_MAX];
    if (sg_conf_want_scalar(n, path, errs, "a duration") != SG_OK)
        return SG_ERR;
    uint64_t v;
    bool overflow;
    if (parse_duration(n->scalar, &v, &overflow) != SG_OK) {
        if (overflow)
            sg_conf_errs_add(errs, n->line, path, "duration %s is too large",
                             sg_conf_node_quote(n, q));
        else
            sg_conf_errs_add(errs, n->line, path,
                             "invalid duration %s (want an integer and one of ms, s, m, h)",
                             sg_conf_node_quote(n, q));
        return SG_ERR;
    }
    if (v < min_ms) {
        if (min_ms == 1)
            sg_conf_errs_add(errs, n->line, path, "duration %s must be greater than zero",
                             sg_conf_node_quote(n, q));
        else
            sg_conf_errs_add(errs, n->line, path, "duration %s is shorter than %llums",
                             sg_conf_node_quote(n, q), (unsigned long long)min_ms);
        return SG_ERR;
    }
    if (max_ms && v > max_ms) {
        char most[32];
        sg_conf_duration_text(max_ms, most);
        sg_conf_errs_add(errs, n->line, path, "duration %s is longer than the maximum %s",
                         sg_conf_node_quote(n, q), most);
        return SG_ERR;
    }
    *out = v;
    return SG_OK;
}

int sg_conf_read_duration_ms(const struct sg_conf_node *n, const char *path,
                             struct sg_conf_errs *errs, uint64_t *out)
{
    return sg_conf_read_duration_min(n, path, errs, 1, out);
}

int sg_conf_read_string(const struct sg_conf_node *n, const char *path, struct sg_conf_errs *errs,
                        char **out)
{
    if (n->type == SG_NODE_SCALAR && n->quoted && !*n->scalar) {
        sg_conf_errs_add(errs, n->line, path, "must not be empty");
        return SG_ERR;
    }
    if (sg_conf_want_scalar(n, path, errs, "a string") != SG_OK)
        return SG_ERR;
    *out = sg_xstrdup(n->scalar);
    return SG_OK;
}

int sg_conf_read_bool(const struct sg_conf_node *n, const char *path, struct sg_conf_errs *errs,
                      bool *out)
{
    char q[SG_CONF_QUOTE_MAX];
    if (sg_conf_want_scalar(n, path, errs, "true or false") != SG_OK)
        return SG_ERR;
    /* YAML 1.2's core schema: no yes/no/on/off surprises. */
    static const char *const yes[] = {"true", "True", "TRUE"}, *const no[] = {"false", "False",
                                                                              "FALSE"};
    for (size_t i = 0; i < SG_ARRAY_LEN(yes); i++) {
        if (!strcmp(n->scalar, yes[i]) || !strcmp(n->scalar, no[i])) {
            *out = !strcmp(n->scalar, yes[i]);
            return SG_OK;
        }
    }
    sg_conf_errs_add(errs, n->line, path, "%s is not a boolean (want true or false)",
                     sg_conf_node_quote(n, q));
    return SG_ERR;
}

int sg_conf_read_uint(const struct sg_conf_node *n, const char *path, struct sg_conf_errs *errs,
                      uint64_t min, uint64_t max, uint64_t *out)
{
    char q[SG_CONF_QUOTE_MAX];
    if (sg_conf_want_scalar(n, path, errs, "an integer") != SG_OK)
        return SG_ERR;
    uint64_t v = 0;
    bool overflow;
    if (parse_digits(n->scalar, strlen(n->scalar), UINT64_MAX, &v, &overflow) != SG_OK &&
        !overflow) {
        sg_conf_errs_add(errs, n->line, path, "%s is not an integer", sg_conf_node_quote(n, q));
        return SG_ERR;
    }
    if (overflow || v < min || v > max) {
        sg_conf_errs_add(errs, n->line, path, "%s is out of range (want %llu..%llu)",
                         sg_conf_node_quote(n, q), (unsigned long long)min,
                         (unsigned long long)max);
        return SG_ERR;
    }
    *out = v;
    return SG_OK;
}

/* ---- the walker ---- */

static void read_enum(const struct sg_conf_node *n, const char *path, struct sg_conf_errs *errs,
                      const char *const *names, int *out)
{
    char q[SG_CONF_QUOTE_MAX];
    if (sg_conf_want_scalar(n, path, errs, "a string") != SG_OK)
        return;
    char want[256] = "";
    for (int i = 0; names[i]; i++) {
        if (!strcmp(n->scalar, names[i])) {
            *out = i;
            return;
        }
        snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%s", i ? ", " : "", names[i]);
    }
    sg_conf_errs_add(errs, n->line, path, "%s is not one of %s", sg_conf_node_quote(n, q), want);
}

static void read_value(const struct sg_conf_spec *sp, const struct sg_conf_node *n,
                       const char *path, int key_line, void *target, struct sg_conf_errs *errs)
{
    char *at = (char *)target + sp->off;
    switch (sp->kind) {
    case SG_SPEC_MAP:
        sg_conf_walk(n, path, sp->sub, target, errs);
        break;
    case SG_SPEC_DURATION:
        sg_conf_read_duration_range(n, path, errs, sp->min, sp->max, (uint64_t *)(void *)at);
        break;
    case SG_SPEC_UINT:
        sg_conf_read_uint(n, path, errs, sp->min, sp->max, (uint64_t *)(void *)at);
        break;
    case SG_SPEC_BOOL:
        sg_conf_read_bool(n, path, errs, (bool *)(void *)at);
        break;
    case SG_SPEC_STRING: {
        char *s;
        if (sg_conf_read_string(n, path, errs, &s) == SG_OK) {
            free(*(char **)(void *)at);
            *(char **)(void *)at = s;
        }
        break;
    }
    case SG_SPEC_ENUM:
        read_enum(n, path, errs, sp->names, (int *)(void *)at);
        break;
    case SG_SPEC_CUSTOM:
        sp->custom(n, path, errs, target);
        break;
    case SG_SPEC_UNSUPPORTED:
        sg_conf_errs_add(errs, key_line, path, "%s", sp->reason);
        break;
    case SG_SPEC_MODULE:
        break;
    }
}

void sg_conf_walk(const struct sg_conf_node *map, const char *path,
                  const struct sg_conf_spec *specs, void *target, struct sg_conf_errs *errs)
{
    if (sg_conf_node_is_null(map))
        return;
    if (map->type != SG_NODE_MAP) {
        sg_conf_errs_add(errs, map->line, path, "want a map, got %s", sg_conf_node_kind(map));
        return;
    }
    for (size_t i = 0; i < map->n; i++) {
        const struct sg_conf_spec *sp = specs;
        while (sp->key && strcmp(sp->key, map->keys[i]) != 0)
            sp++;
        char *key_path = sg_conf_path_key(path, map->keys[i]);
        if (!sp->key)
            sg_conf_errs_add(errs, map->key_lines[i], key_path, "unknown key");
        else
            read_value(sp, map->items[i], key_path, map->key_lines[i], target, errs);
        free(key_path);
    }
}
