/* Fixture-driven dialect checks shared by the dialect suites: the
 * cases are every "<prefix>*.meta.json" in a directory; each is normalized
 * with the dialect and compared with its expected Info (JSON-equal) or its
 * expected error (the gateway's status and error_type for the outcome, by the
 * meta's credential mode). Header-only: each suite is one executable. */
#ifndef SG_FIXTURE_CASES_H
#define SG_FIXTURE_CASES_H

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sg_test_util.h"
#include "snapgate/common.h"
#include "snapgate/dialect.h"

#define SG_FIXTURE_MAX_CASES 256

struct sg_fixture_set {
    char *cases[SG_FIXTURE_MAX_CASES]; /* "<dir>/<case>" without suffix */
    size_t n;
};

/* Adds dir's cases named prefix*.meta.json; returns how many were found. */
static inline size_t sg_fixture_collect(struct sg_fixture_set *set, const char *dir,
                                        const char *prefix)
{
    static const char suffix[] = ".meta.json";
    size_t found = 0, plen = strlen(prefix);
    DIR *d = opendir(dir);
    if (!d) {
        /* the suite's count check then fails; this line says why */
        fprintf(stderr, "fixtures folder %s: %s\n", dir, strerror(errno));
        return 0;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, prefix, plen) != 0 || n <= sizeof suffix - 1 ||
            strcmp(e->d_name + n - (sizeof suffix - 1), suffix) != 0 ||
            set->n == SG_FIXTURE_MAX_CASES)
            continue;
        set->cases[set->n++] =
            sg_xasprintf("%s/%.*s", dir, (int)(n - (sizeof suffix - 1)), e->d_name);
        found++;
    }
    closedir(d);
    return found;
}

static inline void sg_fixture_free(struct sg_fixture_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        free(set->cases[i]);
    set->n = 0;
}

static inline struct json_object *sg_fixture_json(const char *base, const char *suffix)
{
    char *path = sg_xasprintf("%s%s", base, suffix);
    struct json_object *o = json_object_from_file(path);
    free(path);
    return o;
}

static inline const char *sg_fixture_str(struct json_object *o, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

/* What the gateway answers for an outcome (gateway/reply's table, and the
 * credential-mode rule of SNAPSERVICE.md section 4 for an upstream rejection
 * that survives the one re-login). */
static inline void sg_fixture_answer(enum sg_outcome o, const char *credentials, int *http,
                                     const char **type)
{
    switch (o) {
    case SG_OUT_INFO:
        *http = 200, *type = NULL;
        return;
    case SG_OUT_NOT_FOUND:
        *http = 404, *type = "NOT_FOUND";
        return;
    case SG_OUT_UNAUTHENTICATED:
        if (credentials && strcmp(credentials, "service") == 0)
            *http = 503, *type = "SERVICE_UNAVAILABLE";
        else
            *http = 401, *type = "UNAUTHENTICATED";
        return;
    case SG_OUT_UNAUTHORIZED:
        *http = 403, *type = "UNAUTHORIZED";
        return;
    case SG_OUT_UNAVAILABLE:
        *http = 503, *type = "SERVICE_UNAVAILABLE";
        return;
    case SG_OUT_INACCESSIBLE:
        *http = 500, *type = "RESOURCE_INACCESSIBLE";
        return;
    case SG_OUT_ERROR:
    default:
        *http = 500, *type = "ERROR";
        return;
    }
}

/* Runs one case: base + upstream_suffix is the upstream body. */
static inline void sg_fixture_check(const struct sg_dialect_ops *ops, const char *base,
                                    const char *upstream_suffix)
{
    struct json_object *meta = sg_fixture_json(base, ".meta.json");
    ck_assert_msg(meta != NULL, "%s: meta does not parse", base);
    struct json_object *st;
    ck_assert(json_object_object_get_ex(meta, "upstream_http_status", &st));
    char *up_path = sg_xasprintf("%s%s", base, upstream_suffix);
    size_t len;
    char *body = sg_test_read_file(up_path, &len);
    ck_assert_msg(body != NULL, "%s missing", up_path);

    struct sg_normalized out;
    memset(&out, 0x5a, sizeof out); /* the dialect must set every field it reports */
    out.info = NULL;
    ops->normalize(NULL, sg_fixture_str(meta, "task"), json_object_get_int(st), body, len, &out);
    ck_assert_msg(out.reason[0] != '\0', "%s: empty reason", base);
    ck_assert_uint_lt(strnlen(out.reason, sizeof out.reason), sizeof out.reason);
    /* the reason is a summary, never a dump of the body */
    if (len >= 16) {
        char head[17];
        memcpy(head, body, 16);
        head[16] = '\0';
        ck_assert_msg(strstr(out.reason, head) == NULL, "%s: reason quotes the body", base);
    }

    struct json_object *want = sg_fixture_json(base, ".expected.json");
    if (want) {
        ck_assert_msg(out.outcome == SG_OUT_INFO, "%s: outcome %d (%s)", base, out.outcome,
                      out.reason);
        ck_assert_ptr_nonnull(out.info);
        /* render the way the core does, parse back, compare exactly */
        const char *text = json_object_to_json_string_ext(
            out.info, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        struct json_object *got = json_tokener_parse(text);
        ck_assert_ptr_nonnull(got);
        ck_assert_msg(json_object_equal(got, want), "%s:\n got  %s\n want %s", base, text,
                      json_object_to_json_string_ext(want, JSON_C_TO_STRING_PLAIN));
        ck_assert_str_eq(sg_task_status_name(out.status), sg_fixture_str(want, "status"));
        json_object_put(got);
        json_object_put(want);
    } else {
        struct json_object *err = sg_fixture_json(base, ".expected-error.json");
        ck_assert_msg(err != NULL, "%s: neither expected nor expected-error", base);
        int http;
        const char *type;
        sg_fixture_answer(out.outcome, sg_fixture_str(meta, "credentials"), &http, &type);
        struct json_object *hs;
        ck_assert(json_object_object_get_ex(err, "http_status", &hs));
        ck_assert_msg(http == json_object_get_int(hs) && type &&
                          strcmp(type, sg_fixture_str(err, "error_type")) == 0,
                      "%s: got %d %s (%s), want %d %s", base, http, type ? type : "-", out.reason,
                      json_object_get_int(hs), sg_fixture_str(err, "error_type"));
        ck_assert_ptr_null(out.info);
        json_object_put(err);
    }
    sg_normalized_clear(&out);
    json_object_put(meta);
    free(body);
    free(up_path);
}

#endif
