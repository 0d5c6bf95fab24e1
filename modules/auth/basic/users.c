/* The users file: read whole at conf time (so a reload re-reads it), validated
 * line by line, then kept sorted by name for lookups from any worker (the set
 * is immutable after loading, so sharing it needs no lock). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic.h"
#include "snapgate/line_file.h"
#include "snapgate/common.h"

struct basic_user {
    char *name;
    char *hash;
    int line;
};

struct sg_basic_users {
    struct basic_user *v;
    size_t n;
    const char *dummy; /* borrowed from v, or default_dummy */
};

/* Cost-matched stand-in for an empty file: yescrypt at the library's default
 * cost, over a password nobody has. */
static const char default_dummy[] =
    "$y$j9T$2zaX9fX2PhDw4jo5rRs841$axLUAm4/Dhb/mNl7/dVHurm2CquaKt6PEZgipWPKON5";

static const char *const hash_prefixes[] = {"$y$", "$2b$", "$2y$", "$6$"};

static bool has_supported_prefix(const char *hash)
{
    for (size_t i = 0; i < SG_ARRAY_LEN(hash_prefixes); i++)
        if (strncmp(hash, hash_prefixes[i], strlen(hash_prefixes[i])) == 0)
            return true;
    return false;
}

/* crypt(3) hashes are printable ASCII without spaces or ':'. */
static bool hash_chars_ok(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == ':')
            return false;
    return true;
}

static int by_name(const void *a, const void *b)
{
    const struct basic_user *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Validates one non-blank line and appends it to u; SG_ERR with err set. */
static int parse_line(void *ctx, char *line, const char *path, int lineno, char *err, size_t cap)
{
    struct sg_basic_users *u = ctx;
    char *colon = strchr(line, ':');
    if (!colon) {
        sg_errf(err, cap, "%s:%d: expected name:hash", path, lineno);
        return SG_ERR;
    }
    *colon = '\0';
    const char *name = line, *hash = colon + 1;
    if (*name == '\0') {
        sg_errf(err, cap, "%s:%d: empty user name", path, lineno);
        return SG_ERR;
    }
    if (sg_has_control(name)) {
        sg_errf(err, cap, "%s:%d: user name contains control characters", path, lineno);
        return SG_ERR;
    }
    if (strlen(name) >= SG_PRINCIPAL_NAME_MAX) {
        sg_errf(err, cap, "%s:%d: user name longer than %d bytes", path, lineno,
                SG_PRINCIPAL_NAME_MAX - 1);
        return SG_ERR;
    }
    if (!has_supported_prefix(hash)) {
        sg_errf(err, cap,
                "%s:%d: unsupported hash (want yescrypt $y$, bcrypt $2b$ or sha512crypt $6$)", path,
                lineno);
        return SG_ERR;
    }
    if (!hash_chars_ok(hash)) {
        sg_errf(err, cap, "%s:%d: malformed hash", path, lineno);
        return SG_ERR;
    }
    u->v = sg_xrealloc(u->v, (u->n + 1) * sizeof(*u->v));
    u->v[u->n].name = sg_xstrdup(name);
    u->v[u->n].hash = sg_xstrdup(hash);
    u->v[u->n].line = lineno;
    u->n++;
    return SG_OK;
}

int sg_basic_users_load(const char *path, struct sg_basic_users **out, char *err, size_t cap)
{
    struct sg_basic_users *u = sg_xcalloc(1, sizeof(*u));
    *out = NULL;
    if (sg_line_file_read(path, parse_line, u, err, cap) != SG_OK)
        goto fail;
    /* The hash pointers survive sorting (only the entries move). */
    u->dummy = u->n > 0 ? u->v[0].hash : default_dummy;
    if (u->n > 0) {
        qsort(u->v, u->n, sizeof(*u->v), by_name);
        for (size_t i = 1; i < u->n; i++) {
            if (strcmp(u->v[i - 1].name, u->v[i].name) == 0) {
                sg_errf(err, cap, "%s:%d: duplicate user \"%s\" (first on line %d)", path,
                        u->v[i].line, u->v[i].name, u->v[i - 1].line);
                goto fail;
            }
        }
    }
    *out = u;
    return SG_OK;

fail:
    sg_basic_users_free(u);
    return SG_ERR;
}

void sg_basic_users_free(struct sg_basic_users *u)
{
    if (!u)
        return;
    for (size_t i = 0; i < u->n; i++) {
        free(u->v[i].name);
        free(u->v[i].hash);
    }
    free(u->v);
    free(u);
}

size_t sg_basic_users_count(const struct sg_basic_users *u)
{
    return u->n;
}

static int by_key(const void *key, const void *elem)
{
    const struct basic_user *e = elem;
    return strcmp(key, e->name);
}

const char *sg_basic_users_find(const struct sg_basic_users *u, const char *name)
{
    /* An empty file (valid: the dummy stands in) leaves v NULL, and bsearch's
     * array argument must not be NULL even for zero elements. */
    if (u->n == 0)
        return NULL;
    const struct basic_user *e = bsearch(name, u->v, u->n, sizeof(*u->v), by_key);
    return e ? e->hash : NULL;
}

const char *sg_basic_users_dummy(const struct sg_basic_users *u)
{
    return u->dummy;
}
