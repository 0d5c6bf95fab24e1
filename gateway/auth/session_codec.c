/* The stored form of a session, as the shared tier keeps it (Redis, read by
 * every replica). Layout, version 1 (integers big-endian):
 *   0  4  magic "SGSS"
 *   4  1  version (1)
 *   5  8  created_ms (Unix epoch)
 *  13  8  last_ms (Unix epoch), not before created_ms
 *  21  1  name length n (1..SG_PRINCIPAL_NAME_MAX - 1)
 *  22  n  name
 *  then 2 group count g (0..SG_SESSION_GROUPS_MAX)
 *  then g times: 2 length l (0..SG_SESSION_GROUP_LEN_MAX), l bytes
 * Nothing may follow; no string holds a NUL. A value of another version is
 * refused (a denied session, never a guess): a new layout comes with a new
 * version, and replicas of both then read both before the old one writes it. */
#include <stdlib.h>
#include <string.h>

#include "auth/session_int.h"
#include "snapgate/common.h"

#define MAGIC "SGSS"
#define HEAD_LEN 22 /* through the name's length */

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static void put_u16(unsigned char *p, size_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static size_t get_u16(const unsigned char *p)
{
    return (size_t)p[0] << 8 | p[1];
}

unsigned char *sg_session_encode(const struct sg_principal *p, uint64_t created_ms,
                                 uint64_t last_ms, size_t *len, const char **why)
{
    size_t n = strnlen(p->name, SG_PRINCIPAL_NAME_MAX);
    if (n == 0 || n >= SG_PRINCIPAL_NAME_MAX) {
        *why = "the principal has no name";
        return NULL;
    }
    if (p->ngroups > SG_SESSION_GROUPS_MAX) {
        *why = "the principal has more groups than a session holds";
        return NULL;
    }
    size_t total = HEAD_LEN + n + 2;
    for (size_t i = 0; i < p->ngroups; i++) {
        size_t l = strlen(p->groups[i]);
        if (l > SG_SESSION_GROUP_LEN_MAX) {
            *why = "a group name is longer than a session holds";
            return NULL;
        }
        total += 2 + l;
    }
    unsigned char *buf = sg_xmalloc(total), *o = buf;
    memcpy(o, MAGIC, 4);
    o[4] = SG_SESSION_CODEC_VERSION;
    put_u64(o + 5, created_ms);
    put_u64(o + 13, last_ms < created_ms ? created_ms : last_ms);
    o[21] = (unsigned char)n;
    memcpy(o + HEAD_LEN, p->name, n);
    o += HEAD_LEN + n;
    put_u16(o, p->ngroups);
    o += 2;
    for (size_t i = 0; i < p->ngroups; i++) {
        size_t l = strlen(p->groups[i]);
        put_u16(o, l);
        memcpy(o + 2, p->groups[i], l);
        o += 2 + l;
    }
    *len = total;
    return buf;
}

/* A string of l bytes at p, without NUL: a malloc'd C string, or NULL. */
static char *take_string(const unsigned char *p, size_t l)
{
    if (memchr(p, '\0', l))
        return NULL;
    return sg_xstrndup((const char *)p, l);
}

static void free_groups(char **groups, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(groups[i]);
    free(groups);
}

int sg_session_decode(const void *buf, size_t len, struct sg_principal *out, uint64_t *created_ms,
                      uint64_t *last_ms, const char **why)
{
    const unsigned char *b = buf;
    if (len < HEAD_LEN || memcmp(b, MAGIC, 4) != 0) {
        *why = "not a session value";
        return SG_ERR;
    }
    if (b[4] != SG_SESSION_CODEC_VERSION) {
        *why = "a session value of another version";
        return SG_ERR;
    }
    uint64_t created = get_u64(b + 5), last = get_u64(b + 13);
    size_t n = b[21];
    if (last < created) {
        *why = "last access before creation";
        return SG_ERR;
    }
    if (n == 0 || len - HEAD_LEN < n + 2 || memchr(b + HEAD_LEN, '\0', n)) {
        *why = "bad name";
        return SG_ERR;
    }
    size_t at = HEAD_LEN + n;
    size_t g = get_u16(b + at);
    at += 2;
    if (g > SG_SESSION_GROUPS_MAX) {
        *why = "too many groups";
        return SG_ERR;
    }
    char **groups = g ? sg_xcalloc(g, sizeof(*groups)) : NULL;
    for (size_t i = 0; i < g; i++) {
        size_t l = len - at >= 2 ? get_u16(b + at) : SIZE_MAX;
        if (l > SG_SESSION_GROUP_LEN_MAX || len - at - 2 < l ||
            !(groups[i] = take_string(b + at + 2, l))) {
            free_groups(groups, i);
            *why = "bad group";
            return SG_ERR;
        }
        at += 2 + l;
    }
    if (at != len) {
        free_groups(groups, g);
        *why = "bytes after the value";
        return SG_ERR;
    }
    memcpy(out->name, b + HEAD_LEN, n);
    out->name[n] = '\0';
    out->groups = groups;
    out->ngroups = g;
    *created_ms = created;
    *last_ms = last;
    return SG_OK;
}

void sg_session_principal_copy(struct sg_principal *dst, const struct sg_principal *p)
{
    memcpy(dst->name, p->name, sizeof(dst->name));
    dst->name[sizeof(dst->name) - 1] = '\0';
    dst->ngroups = p->ngroups;
    dst->groups = p->ngroups ? sg_xcalloc(p->ngroups, sizeof(*dst->groups)) : NULL;
    for (size_t i = 0; i < p->ngroups; i++)
        dst->groups[i] = sg_xstrdup(p->groups[i]);
}
