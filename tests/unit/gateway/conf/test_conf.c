/* sg_conf_load: defaults, every key, every class of error (collected, with
 * FILE:LINE: key.path), the not-supported-yet paths, the environment, and
 * that no secret ever reaches a message. Expectations that depend on which
 * modules the build registered are computed from the registry, so the suite
 * holds for any SNAPGATE_MODULES. */
#include <check.h>
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf_diff.h"
#include "conf/conf_internal.h"
#include "sg_test_util.h"
#include "snapgate/common.h"
#include "snapgate/log.h"
#include "snapgate/module.h"

#define SECRET "s3cret-pw"

static struct sg_conf_errs errs;
static char *pw_file, *empty_pw_file, *ca_file;

/* A real (self-signed) certificate: a CA file is loaded at conf time. */
static const char test_ca_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBjTCCATOgAwIBAgIUAdEMLm0jv6LwXufBZjf4MjtqzxkwCgYIKoZIzj0EAwIw\n"
    "GzEZMBcGA1UEAwwQc25hcGdhdGUgdGVzdCBDQTAgFw0yNjEyMDcxMjMyMTJaGA8y\n"
    "MTI2MTExMzEyMzIxMlowGzEZMBcGA1UEAwwQc25hcGdhdGUgdGVzdCBDQTBZMBMG\n"
    "ByqGSM49AgEGCCqGSM49AwEHA0IABGxW23gweZZZ/4YDs4YmPS6IHaUF9Yr30pdt\n"
    "hLuubp5U3sWXani5Utna2LRxXbN1s/yq3q1A/4Ti+0Fyjh668OijUzBRMB0GA1Ud\n"
    "DgQWBBQiWyIP4MtG9aVzZeo8SRqGRWbGWTAfBgNVHSMEGDAWgBQiWyIP4MtG9aVz\n"
    "Zeo8SRqGRWbGWTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQDO\n"
    "oBc2aK0sUBpD2sOkR17nmDLp1eA7v/cFa4vYUTfwxQIgQwey2NQ9ua8HqgySNEbH\n"
    "84ywQlGo5huLLMJeDAsabKk=\n"
    "-----END CERTIFICATE-----\n";

static const char *const env_vars[] = {
    "SNAPGATE_LISTEN",      "SNAPGATE_ADMIN_LISTEN",    "SNAPGATE_WORKERS",
    "SNAPGATE_REDIS_URL",   "SNAPGATE_LOG_LEVEL",       "SNAPGATE_LOG_FORMAT",
    "SNAPGATE_BACKEND_URL", "SNAPGATE_BACKEND_DIALECT",
};

static void setup(void)
{
    memset(&errs, 0, sizeof(errs));
    for (size_t i = 0; i < SG_ARRAY_LEN(env_vars); i++)
        unsetenv(env_vars[i]);
    pw_file = sg_test_write_temp(SECRET "\n");
    empty_pw_file = sg_test_write_temp("\n");
    ca_file = sg_test_write_temp(test_ca_pem);
}

static void teardown(void)
{
    sg_conf_errs_clear(&errs);
    unlink(pw_file);
    unlink(empty_pw_file);
    unlink(ca_file);
    free(pw_file);
    free(empty_pw_file);
    free(ca_file);
}

/* A contract value with no module in this build (NULL when all are built). */
static const char *unbuilt(enum sg_module_kind kind, const char *except)
{
    static const char *const dialects[] = {"cis", "rest", "vijson", "vim25", "snapservice", NULL};
    static const char *const types[] = {"basic", "bearer", "jwt", "saml", NULL};
    const char *const *names = kind == SG_MOD_DIALECT ? dialects : types;
    for (size_t i = 0; names[i]; i++) {
        if (!sg_module_find(kind, names[i]) && (!except || strcmp(names[i], except) != 0))
            return names[i];
    }
    return NULL;
}

static char *replace_all(const char *s, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to), n = 0;
    for (const char *p = strstr(s, from); p; p = strstr(p + fl, from))
        n++;
    char *out = sg_xmalloc(strlen(s) + n * tl + 1), *o = out;
    for (const char *p; (p = strstr(s, from)); s = p + fl) {
        memcpy(o, s, (size_t)(p - s));
        o += p - s;
        memcpy(o, to, tl);
        o += tl;
    }
    strcpy(o, s);
    return out;
}

/* @D@: an unbuilt dialect, @T@: an unbuilt auth type, @PW@ / @EMPTY@ / @CA@:
 * the temp files. Caller frees. */
static char *expand(const char *s)
{
    static const char *keys[] = {"@D@", "@T@", "@PW@", "@EMPTY@", "@CA@"};
    const char *vals[] = {unbuilt(SG_MOD_DIALECT, "vijson"), unbuilt(SG_MOD_AUTH, NULL), pw_file,
                          empty_pw_file, ca_file};
    char *out = sg_xstrdup(s);
    for (size_t i = 0; i < SG_ARRAY_LEN(keys); i++) {
        char *next = replace_all(out, keys[i], vals[i] ? vals[i] : "?");
        free(out);
        out = next;
    }
    return out;
}

/* Loads yaml (expanded) from a temp file; *path_out gets the file's name. */
static struct sg_conf *load_yaml(const char *yaml, char **path_out)
{
    char *text = expand(yaml);
    char *path = sg_test_write_temp(text);
    free(text);
    ck_assert_ptr_nonnull(path);
    struct sg_conf *conf = sg_conf_load(path, &errs);
    unlink(path);
    *path_out = path;
    return conf;
}

/* Asserts errs holds exactly want (NULL-terminated, expanded), in order; a
 * message starting with "env:" is taken as is, others get "FILE:" in front. */
static void assert_msgs(const char *file, const char *const *want)
{
    size_t n = 0;
    while (want[n])
        n++;
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "  got: %s\n", errs.msgs[i]);
    ck_assert_uint_eq(errs.n, n);
    for (size_t i = 0; i < n; i++) {
        char *w = expand(want[i]);
        char *full = strncmp(w, "env:", 4) ? sg_xasprintf("%s:%s", file, w) : sg_xstrdup(w);
        ck_assert_str_eq(errs.msgs[i], full);
        free(full);
        free(w);
    }
}

/* Whether some message in errs holds needle; when none does, all are shown. */
static bool errs_hold(const char *needle)
{
    for (size_t i = 0; i < errs.n; i++)
        if (strstr(errs.msgs[i], needle))
            return true;
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "  got: %s\n", errs.msgs[i]);
    return false;
}

static void assert_no_secrets(void)
{
    for (size_t i = 0; i < errs.n; i++) {
        ck_assert_msg(!strstr(errs.msgs[i], SECRET), "secret in: %s", errs.msgs[i]);
        ck_assert_msg(!strstr(errs.msgs[i], "hunter2"), "secret in: %s", errs.msgs[i]);
    }
}

/* ---- defaults and good values ---- */

static void assert_defaults(const struct sg_conf *c)
{
    ck_assert_str_eq(c->listen, "127.0.0.1:8080");
    ck_assert_str_eq(c->admin_listen, "127.0.0.1:9901");
    ck_assert_uint_eq(c->workers, 1);
    ck_assert_int_eq(c->log_level, SG_LOG_INFO);
    ck_assert_int_eq(c->log_format, SG_LOG_JSON);
    ck_assert_uint_eq(c->ttl_pending_ms, 1000);
    ck_assert_uint_eq(c->ttl_running_ms, 1000);
    ck_assert_uint_eq(c->ttl_blocked_ms, 5000);
    ck_assert_uint_eq(c->ttl_terminal_ms, 24ULL * 3600 * 1000);
    ck_assert_uint_eq(c->ttl_not_found_ms, 30000);
    ck_assert_uint_eq(c->local_max_entries, 100000);
    ck_assert_uint_eq(c->local_max_ttl_ms, 1000);
    ck_assert_str_eq(c->auth_realm, "snapgate");
    ck_assert_uint_eq(c->auth_allow_n, 0);
    ck_assert_uint_eq(c->providers_n, 0);
    ck_assert_uint_eq(c->backends_n, 0);
    ck_assert_uint_eq(c->drain_timeout_ms, 20000);
}

START_TEST(test_defaults_without_file)
{
    struct sg_conf *c = sg_conf_load(NULL, &errs);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(errs.n, 0);
    ck_assert_ptr_null(c->path);
    assert_defaults(c);
    sg_conf_free(c);
}
END_TEST

START_TEST(test_defaults_from_empty_file)
{
    char *path = sg_test_own_fixture_path("conf/empty.yaml");
    struct sg_conf *c = sg_conf_load(path, &errs);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->path, path);
    assert_defaults(c);
    sg_conf_free(c);
    free(path);
}
END_TEST

START_TEST(test_every_core_key)
{
    char *path = sg_test_own_fixture_path("conf/all-keys.yaml");
    struct sg_conf *c = sg_conf_load(path, &errs);
    assert_msgs(path, (const char *const[]){NULL});
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->listen, "0.0.0.0:18080");
    ck_assert_str_eq(c->admin_listen, "[::1]:19901");
    ck_assert_uint_eq(c->workers, 4);
    ck_assert_int_eq(c->log_level, SG_LOG_DEBUG);
    ck_assert_int_eq(c->log_format, SG_LOG_TEXT);
    ck_assert_uint_eq(c->ttl_pending_ms, 2000);
    ck_assert_uint_eq(c->ttl_running_ms, 1500);
    ck_assert_uint_eq(c->ttl_blocked_ms, 60000);
    ck_assert_uint_eq(c->ttl_terminal_ms, 48ULL * 3600 * 1000);
    ck_assert_uint_eq(c->ttl_not_found_ms, 10000);
    ck_assert_uint_eq(c->local_max_entries, 500);
    ck_assert_str_eq(c->auth_realm, "vSAN snapshots");
    ck_assert_uint_eq(c->auth_allow_n, 2);
    ck_assert_str_eq(c->auth_allow[0], "alice");
    ck_assert_str_eq(c->auth_allow[1], "group:ops");
    ck_assert_uint_eq(c->drain_timeout_ms, 45000);
    sg_conf_free(c);
    free(path);
}
END_TEST

/* Every backend key through the reader (the load itself needs a built dialect). */
START_TEST(test_backend_every_key)
{
    const char *dialect = unbuilt(SG_MOD_DIALECT, "vijson");
    if (!dialect)
        return;
    char *yaml = expand("- name: vc-1.lab_A\n"
                        "  url: \"https://vc1.example.com:8443/base/\"\n"
                        "  dialect: @D@\n"
                        "  credentials:\n"
                        "    username: \"svc@vsphere.local\"\n"
                        "    password_file: @PW@\n"
                        "  tls:\n"
                        "    ca_file: @CA@\n"
                        "    verify: false\n"
                        "  timeouts: { connect: 2s, request: 750ms }\n");
    errs.file = "b.yaml";
    struct sg_conf_node *seq = sg_conf_tree_parse_string(yaml, &errs);
    struct sg_conf *c = sg_xcalloc(1, sizeof(*c));
    sg_conf_backends_read(seq, "backends", &errs, c);
    assert_msgs("b.yaml", (const char *const[]){"3: backends[0].dialect: \"@D@\" is not "
                                                "supported yet",
                                                NULL});
    ck_assert_uint_eq(c->backends_n, 1);
    const struct sg_conf_backend *b = &c->backends[0];
    ck_assert_str_eq(b->name, "vc-1.lab_A");
    ck_assert_str_eq(b->url, "https://vc1.example.com:8443/base/");
    ck_assert_str_eq(b->scheme, "https");
    ck_assert_str_eq(b->host, "vc1.example.com");
    ck_assert_uint_eq(b->port, 8443);
    ck_assert_str_eq(b->base_path, "/base");
    ck_assert_ptr_null(b->dialect);
    ck_assert_ptr_null(b->dialect_priv);
    ck_assert_str_eq(b->username, "svc@vsphere.local");
    ck_assert_str_eq(b->password, SECRET);
    ck_assert_str_eq(b->password_file, pw_file);
    ck_assert_str_eq(b->tls_ca_file, ca_file);
    ck_assert(!b->tls_verify);
    /* https: the clients' TLS context is built with the config. */
    ck_assert_ptr_nonnull(b->tls_ctx);
    ck_assert_uint_eq(b->connect_timeout_ms, 2000);
    ck_assert_uint_eq(b->request_timeout_ms, 750);
    ck_assert_int_eq(b->line, 1);
    sg_conf_free(c);
    sg_conf_tree_free(seq);
    free(yaml);
}
END_TEST

START_TEST(test_backend_defaults_and_release)
{
    /* vijson takes a release; TLS and timeouts default. */
    char *yaml = expand("- name: vc1\n"
                        "  url: http://vc1\n"
                        "  dialect: vijson\n"
                        "  release: \"8.0.3.0\"\n"
                        "  credentials: {username: u, password_file: @PW@}\n");
    errs.file = "b.yaml";
    struct sg_conf_node *seq = sg_conf_tree_parse_string(yaml, &errs);
    struct sg_conf *c = sg_xcalloc(1, sizeof(*c));
    sg_conf_backends_read(seq, "backends", &errs, c);
    if (sg_module_find(SG_MOD_DIALECT, "vijson"))
        assert_msgs("b.yaml", (const char *const[]){NULL});
    else
        assert_msgs("b.yaml", (const char *const[]){
                                  "3: backends[0].dialect: \"vijson\" is not supported yet", NULL});
    const struct sg_conf_backend *b = &c->backends[0];
    /* release passed the walk: its value is the vijson module's, read by its
     * conf hook (test_dialect_vijson.c). */
    ck_assert_uint_eq(b->port, 80);
    ck_assert_str_eq(b->base_path, "");
    ck_assert(b->tls_verify);
    ck_assert_ptr_null(b->tls_ca_file);
    ck_assert_ptr_null(b->tls_ctx); /* plain http */
    ck_assert_uint_eq(b->connect_timeout_ms, 5000);
    ck_assert_uint_eq(b->request_timeout_ms, 10000);
    sg_conf_free(c);
    sg_conf_tree_free(seq);
    free(yaml);
}
END_TEST

/* Reads one backend whose password file has mode; returns errs.nwarns. */
static size_t password_file_warnings(mode_t mode)
{
    ck_assert_int_eq(chmod(pw_file, mode), 0);
    char *yaml = expand("- name: vc1\n"
                        "  url: http://vc1\n"
                        "  dialect: cis\n"
                        "  credentials: {username: u, password_file: @PW@}\n");
    errs.file = "b.yaml";
    errs.defer_warnings = true;
    struct sg_conf_node *seq = sg_conf_tree_parse_string(yaml, &errs);
    struct sg_conf *c = sg_xcalloc(1, sizeof(*c));
    sg_conf_backends_read(seq, "backends", &errs, c);
    /* A warning never fails the load. */
    ck_assert_str_eq(c->backends[0].password, SECRET);
    sg_conf_free(c);
    sg_conf_tree_free(seq);
    free(yaml);
    return errs.nwarns;
}

START_TEST(test_password_file_readable_by_others_is_warned_about)
{
    ck_assert_uint_eq(password_file_warnings(0644), 1);
    char *want = sg_xasprintf("b.yaml:4: backends[0].credentials.password_file: %s has mode "
                              "0644: anyone can read it; a secret should be 0600 or 0400",
                              pw_file);
    ck_assert_msg(!strncmp(errs.warns[0], want, strlen(want)), "%s", errs.warns[0]);
    free(want);
    sg_conf_errs_clear(&errs);
    ck_assert_uint_eq(password_file_warnings(0660), 1);
    ck_assert_msg(strstr(errs.warns[0], "0660: its group can read and change it"), "%s",
                  errs.warns[0]);
    sg_conf_errs_clear(&errs);
    ck_assert_uint_eq(password_file_warnings(0600), 0);
    ck_assert_uint_eq(password_file_warnings(0400), 0);
}
END_TEST

/* ---- errors of the core keys (fixtures) ---- */

static const struct {
    const char *fixture;
    const char *want[16];
} fixture_cases[] = {
    {"conf/errors-collected.yaml",
     {"3: cache.bogus: unknown key",
      "5: cache.ttl.running: invalid duration \"5x\" (want an integer and one of ms, s, m, h)"}},
    {"conf/unknown-keys.yaml",
     {"1: listn: unknown key", "3: log.colour: unknown key", "6: cache.ttl.paused: unknown key",
      "8: cache.local.size: unknown key", "10: auth.users: unknown key",
      "12: shutdown.grace: unknown key"}},
    {"conf/wrong-types.yaml",
     {"1: listen: want a string, got a sequence", "2: log: want a map, got a scalar",
      "4: cache.ttl: want a map, got a scalar", "6: auth.allow: want a sequence, got a scalar",
      "7: auth.providers: want a sequence, got a map", "8: backends: want a sequence, got a map",
      "9: workers: want an integer, got a map", "10: shutdown: want a map, got a sequence"}},
    {"conf/bad-values.yaml",
     {"1: listen: \"localhost\" is not an address to listen on (want HOST:PORT or [IPv6]:PORT, "
      "port 1..65535)",
      "2: admin_listen: \"127.0.0.1:0\" is not an address to listen on (want HOST:PORT or "
      "[IPv6]:PORT, port 1..65535)",
      "3: workers: \"65\" is out of range (want 1..64)",
      "5: log.level: \"loud\" is not one of error, warn, info, debug",
      "6: log.format: \"xml\" is not one of json, text",
      "9: cache.ttl.pending: duration \"0s\" must be greater than zero",
      "10: cache.ttl.terminal: duration \"0ms\" must be greater than zero",
      "12: cache.local.max_entries: \"0\" is out of range (want 1..100000000)",
      "14: shutdown.drain_timeout: duration \"0s\" must be greater than zero",
      "16: auth.realm: must be printable ASCII without '\"' or '\\' (it is sent in "
      "WWW-Authenticate)",
      "17: auth.allow[0]: \"group:\" names no group (want group:NAME)",
      "17: auth.allow[1]: must not be empty"}},
};

START_TEST(test_fixture_errors)
{
    char *path = sg_test_own_fixture_path(fixture_cases[_i].fixture);
    struct sg_conf *c = sg_conf_load(path, &errs);
    ck_assert_ptr_null(c);
    assert_msgs(path, fixture_cases[_i].want);
    assert_no_secrets();
    free(path);
}
END_TEST

START_TEST(test_syntax_error_names_its_line)
{
    char *path = sg_test_own_fixture_path("conf/syntax-error.yaml");
    ck_assert_ptr_null(sg_conf_load(path, &errs));
    ck_assert_uint_eq(errs.n, 1);
    char *prefix = sg_xasprintf("%s:5: (yaml): syntax error: ", path);
    ck_assert_msg(!strncmp(errs.msgs[0], prefix, strlen(prefix)), "%s", errs.msgs[0]);
    free(prefix);
    free(path);
}
END_TEST

START_TEST(test_missing_file)
{
    ck_assert_ptr_null(sg_conf_load("/nonexistent/snapgate.yaml", &errs));
    assert_msgs("/nonexistent/snapgate.yaml",
                (const char *const[]){"0: (file): cannot open: No such file or directory", NULL});
}
END_TEST

START_TEST(test_top_level_not_a_map)
{
    char *path;
    ck_assert_ptr_null(load_yaml("- a\n- b\n", &path));
    assert_msgs(path, (const char *const[]){"1: (top level): want a map of settings, got a "
                                            "sequence",
                                            NULL});
    free(path);
}
END_TEST

START_TEST(test_duplicate_key_in_load)
{
    char *path;
    ck_assert_ptr_null(load_yaml("workers: 2\nlog:\n  level: info\nworkers: 3\n", &path));
    assert_msgs(path, (const char *const[]){"4: workers: duplicate key (first at line 1)", NULL});
    free(path);
}
END_TEST

START_TEST(test_listen_and_admin_must_differ)
{
    char *path;
    ck_assert_ptr_null(
        load_yaml("listen: \"0.0.0.0:9000\"\nadmin_listen: \"127.0.0.1:9000\"\n", &path));
    assert_msgs(path, (const char *const[]){"2: admin_listen: listen \"0.0.0.0:9000\" and "
                                            "admin_listen \"127.0.0.1:9000\" are the same address "
                                            "(the admin port must be separate)",
                                            NULL});
    free(path);
    sg_conf_errs_clear(&errs);
    /* Another port, or another host on the same port, is fine. */
    struct sg_conf *c =
        load_yaml("listen: \"127.0.0.1:9000\"\nadmin_listen: \"127.0.0.2:9000\"\n", &path);
    ck_assert_ptr_nonnull(c);
    sg_conf_free(c);
    free(path);
}
END_TEST

/* ---- backends ---- */

#define BACKEND_HEAD "backends:\n  - name: vc1\n"
#define GOOD_CRED "    credentials:\n      username: svc\n      password_file: @PW@\n"

static const struct {
    const char *yaml;
    const char *want[8];
} backend_cases[] = {
    {BACKEND_HEAD "    url: \"ftp://vc1\"\n    dialect: @D@\n" GOOD_CRED,
     {"3: backends[0].url: invalid url \"ftp://vc1\": want an http:// or https:// URL",
      "4: backends[0].dialect: \"@D@\" is not supported yet"}},
    {BACKEND_HEAD "    url: \"https://vc1/?a=b\"\n    dialect: @D@\n" GOOD_CRED,
     {"3: backends[0].url: invalid url \"https://vc1/?a=b\": must not have a query or fragment",
      "4: backends[0].dialect: \"@D@\" is not supported yet"}},
    {BACKEND_HEAD "    url: \"https://admin:hunter2@vc1\"\n    dialect: @D@\n" GOOD_CRED,
     {"3: backends[0].url: invalid url: must not carry user info (credentials go under "
      "credentials:)",
      "4: backends[0].dialect: \"@D@\" is not supported yet"}},
    {BACKEND_HEAD "    url: \"https://:443\"\n    dialect: @D@\n" GOOD_CRED,
     {"3: backends[0].url: invalid url \"https://:443\": want a host name or address and an "
      "optional port 1..65535",
      "4: backends[0].dialect: \"@D@\" is not supported yet"}},
    {BACKEND_HEAD "    url: http://vc1\n    dialect: @D@\n"
                  "    credentials:\n      username: svc\n      password_file: /nonexistent/pw\n",
     {"4: backends[0].dialect: \"@D@\" is not supported yet",
      "7: backends[0].credentials.password_file: cannot read \"/nonexistent/pw\": No such file "
      "or directory"}},
    {BACKEND_HEAD "    url: http://vc1\n    dialect: @D@\n"
                  "    credentials:\n      username: svc\n      password_file: @EMPTY@\n",
     {"4: backends[0].dialect: \"@D@\" is not supported yet",
      "7: backends[0].credentials.password_file: \"@EMPTY@\" is empty"}},
    {BACKEND_HEAD "    url: http://vc1\n    dialect: @D@\n" GOOD_CRED
                  "    tls:\n      ca_file: /nonexistent/ca.pem\n      verify: maybe\n",
     {"4: backends[0].dialect: \"@D@\" is not supported yet",
      "9: backends[0].tls.ca_file: cannot read \"/nonexistent/ca.pem\": No such file or "
      "directory",
      "10: backends[0].tls.verify: \"maybe\" is not a boolean (want true or false)"}},
    {BACKEND_HEAD "    url: http://vc1\n    dialect: @D@\n" GOOD_CRED "    tls: {ca_file: /tmp}\n",
     {"4: backends[0].dialect: \"@D@\" is not supported yet",
      "8: backends[0].tls.ca_file: \"/tmp\" is not a regular file"}},
    /* Loaded as the clients will load it: a file without a certificate is
     * refused here, not when the first worker builds its client. */
    {BACKEND_HEAD "    url: https://vc1\n    dialect: @D@\n" GOOD_CRED
                  "    tls: {ca_file: @EMPTY@}\n",
     {"4: backends[0].dialect: \"@D@\" is not supported yet",
      "8: backends[0].tls.ca_file: @EMPTY@ holds no PEM certificate"}},
    {"backends:\n  - tls: {}\n" GOOD_CRED,
     {"2: backends[0].name: required key is missing", "2: backends[0].url: required key is missing",
      "2: backends[0].dialect: required key is missing"}},
    {BACKEND_HEAD "    url: http://vc1\n    dialect: @D@\n",
     {"4: backends[0].dialect: \"@D@\" is not supported yet",
      "2: backends[0]: a backend without credentials needs an auth provider of type vcenter "
      "for it (then the callers' own sessions go upstream)"}},
    {BACKEND_HEAD "    url: http://vc1\n    dialect: @D@\n    credentials:\n      bogus: 1\n",
     {"4: backends[0].dialect: \"@D@\" is not supported yet",
      "6: backends[0].credentials.bogus: unknown key",
      "6: backends[0].credentials.username: required key is missing",
      "6: backends[0].credentials.password_file: required key is missing"}},
    {"backends:\n  - name: \"vc 1\"\n    url: http://vc1\n    dialect: @D@\n    release: \"8.0\"\n"
     "    insecure: true\n" GOOD_CRED "    timeouts: {connect: 0s, request: 1}\n",
     {"2: backends[0].name: \"vc 1\" is not a backend name (want 1 to 64 of A-Z a-z 0-9 _ . -)",
      "4: backends[0].dialect: \"@D@\" is not supported yet",
      "6: backends[0].insecure: unknown key",
      "10: backends[0].timeouts.connect: duration \"0s\" must be greater than zero",
      "10: backends[0].timeouts.request: invalid duration \"1\" (want an integer and one of ms, "
      "s, m, h)",
      "5: backends[0].release: only a vijson backend takes a release"}},
    {BACKEND_HEAD "    url: http://vc1\n    dialect: foo\n" GOOD_CRED,
     {"4: backends[0].dialect: unknown dialect \"foo\" (want cis, rest, vijson, vim25 or "
      "snapservice)"}},
    {BACKEND_HEAD "    url: http://vc1\n    dialect: @D@\n" GOOD_CRED
                  "  - name: vc1\n    url: http://vc2\n    dialect: @D@\n" GOOD_CRED,
     {"4: backends[0].dialect: \"@D@\" is not supported yet",
      "10: backends[1].dialect: \"@D@\" is not supported yet",
      "8: backends[1]: name \"vc1\" is already used by backends[0]"}},
    {"backends:\n  - 5\n", {"2: backends[0]: want a map, got a scalar"}},
};

/* ---- several backends, routing, resilience keys ---- */

#define CIS_BACKEND(name)                                                                          \
    "  - name: " name "\n    url: http://" name "\n    dialect: cis\n" GOOD_CRED

START_TEST(test_several_backends_and_routing)
{
    if (!sg_module_find(SG_MOD_DIALECT, "cis"))
        return;
    char *path;
    struct sg_conf *c =
        load_yaml("backends:\n" CIS_BACKEND("vc1")
                      CIS_BACKEND("vc2") "    pool: {max_connections: 4}\n"
                                         "    retries: {max: 0, budget_percent: 50}\n"
                                         "    tls: {server_name: vc2.example.com}\n"
                                         "    health_check: {enabled: false, path: /healthz, "
                                         "interval: 10s, timeout: 3s, rise: 3, fall: 4}\n"
                                         "    outlier: {consecutive_failures: 2, ejection: 5s}\n"
                                         "routing:\n  strategy: header\n  owner_ttl: 1h\n",
                  &path);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(c->backends_n, 2);
    ck_assert_int_eq(c->routing, SG_ROUTE_HEADER);
    ck_assert_uint_eq(c->owner_ttl_ms, 3600000);
    /* The defaults of an entry that sets nothing. */
    const struct sg_conf_backend *b = &c->backends[0];
    ck_assert_uint_eq(b->pool_max_connections, 32);
    ck_assert_uint_eq(b->retries_max, 2);
    ck_assert_uint_eq(b->retry_budget_percent, 20);
    ck_assert(b->health_enabled);
    ck_assert_str_eq(b->health_path, "/");
    ck_assert_uint_eq(b->health_interval_ms, 2000);
    ck_assert_uint_eq(b->health_timeout_ms, 1000);
    ck_assert_uint_eq(b->health_rise, 2);
    ck_assert_uint_eq(b->health_fall, 2);
    ck_assert_uint_eq(b->outlier_failures, 5);
    ck_assert_uint_eq(b->outlier_ejection_ms, 30000);
    ck_assert_ptr_null(b->tls_server_name);
    b = &c->backends[1];
    ck_assert_uint_eq(b->pool_max_connections, 4);
    ck_assert_uint_eq(b->retries_max, 0);
    ck_assert_uint_eq(b->retry_budget_percent, 50);
    ck_assert_str_eq(b->tls_server_name, "vc2.example.com");
    ck_assert(!b->health_enabled);
    ck_assert_str_eq(b->health_path, "/healthz");
    ck_assert_uint_eq(b->health_interval_ms, 10000);
    ck_assert_uint_eq(b->health_timeout_ms, 3000);
    ck_assert_uint_eq(b->health_rise, 3);
    ck_assert_uint_eq(b->health_fall, 4);
    ck_assert_uint_eq(b->outlier_failures, 2);
    ck_assert_uint_eq(b->outlier_ejection_ms, 5000);
    sg_conf_free(c);
    free(path);

    /* Fan-out is the default. */
    c = load_yaml("backends:\n" CIS_BACKEND("vc1"), &path);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(c->routing, SG_ROUTE_FANOUT);
    ck_assert_uint_eq(c->owner_ttl_ms, 24u * 3600 * 1000);
    sg_conf_free(c);
    free(path);
}
END_TEST

static const struct {
    const char *yaml;
    const char *want[8];
} resilience_cases[] = {
    {"backends:\n" CIS_BACKEND("vc1") "routing:\n  strategy: random\n  owner_ttl: 0s\n  x: 1\n",
     {"9: routing.strategy: \"random\" is not one of fanout, header",
      "10: routing.owner_ttl: duration \"0s\" must be greater than zero",
      "11: routing.x: unknown key"}},
    {"backends:\n" CIS_BACKEND("vc1") "    pool: {max_connections: 0}\n"
                                      "    retries: {max: 6, budget_percent: 101}\n"
                                      "    tls: {server_name: \"a b\"}\n",
     {"8: backends[0].pool.max_connections: \"0\" is out of range (want 1..1024)",
      "9: backends[0].retries.max: \"6\" is out of range (want 0..5)",
      "9: backends[0].retries.budget_percent: \"101\" is out of range (want 0..100)",
      "10: backends[0].tls.server_name: \"a b\" is not a DNS name"}},
    {"backends:\n" CIS_BACKEND("vc1") "    health_check:\n      path: healthz\n"
                                      "      interval: 1s\n      timeout: 1s\n      rise: 0\n"
                                      "    outlier: {consecutive_failures: 0, ejection: 0s}\n",
     {"9: backends[0].health_check.path: \"healthz\" is not a request path (want /..., no "
      "spaces or control characters)",
      "12: backends[0].health_check.rise: \"0\" is out of range (want 1..100)",
      "13: backends[0].outlier.consecutive_failures: \"0\" is out of range (want 1..1000)",
      "13: backends[0].outlier.ejection: duration \"0s\" must be greater than zero",
      "11: backends[0].health_check.timeout: must be shorter than health_check.interval (1000 "
      "ms)"}},
};

START_TEST(test_resilience_errors)
{
    if (!sg_module_find(SG_MOD_DIALECT, "cis"))
        return;
    char *path;
    ck_assert_ptr_null(load_yaml(resilience_cases[_i].yaml, &path));
    assert_msgs(path, resilience_cases[_i].want);
    free(path);
}
END_TEST

START_TEST(test_backend_errors)
{
    if (!unbuilt(SG_MOD_DIALECT, "vijson"))
        return;
    char *path;
    ck_assert_ptr_null(load_yaml(backend_cases[_i].yaml, &path));
    assert_msgs(path, backend_cases[_i].want);
    assert_no_secrets();
    free(path);
}
END_TEST

/* ---- auth providers ---- */

static const struct {
    const char *yaml;
    const char *want[6];
} provider_cases[] = {
    {"auth:\n  providers:\n    - type: foo\n      x: 1\n",
     {"3: auth.providers[0].type: unknown auth provider type \"foo\" (want basic, bearer, jwt, "
      "saml or vcenter)"}},
    {"auth:\n  providers:\n    - type: @T@\n      bogus: 1\n",
     {"3: auth.providers[0].type: \"@T@\" is not supported yet",
      "4: auth.providers[0].bogus: unknown key (for type @T@)"}},
    {"auth:\n  providers:\n    - users_file: /x\n    - basic\n",
     {"3: auth.providers[0].type: required key is missing",
      "4: auth.providers[1]: want a map, got a scalar"}},
    {"auth:\n  providers:\n    - type: [basic]\n",
     {"3: auth.providers[0].type: want a provider type, got a sequence"}},
};

START_TEST(test_provider_errors)
{
    if (!unbuilt(SG_MOD_AUTH, NULL))
        return;
    char *path;
    ck_assert_ptr_null(load_yaml(provider_cases[_i].yaml, &path));
    assert_msgs(path, provider_cases[_i].want);
    free(path);
}
END_TEST

START_TEST(test_every_contract_provider_key_is_known)
{
    /* The contract's keys of every type: only "not supported yet" may come back. */
    static const char *const entries[] = {
        "{type: basic, users_file: /etc/snapgate/users}",
        "{type: bearer, tokens_file: /etc/snapgate/tokens}",
        "{type: jwt, keys_file: /k, issuer: \"https://idp\", audience: a, groups_claim: g}",
        "{type: saml, sts_certs_file: /etc/snapgate/sts.pem, audience: a}",
    };
    for (size_t i = 0; i < SG_ARRAY_LEN(entries); i++) {
        char *path;
        char *yaml = sg_xasprintf("auth:\n  providers:\n    - %s\n", entries[i]);
        struct sg_conf *c = load_yaml(yaml, &path);
        for (size_t j = 0; j < errs.n; j++)
            ck_assert_msg(!strstr(errs.msgs[j], "unknown key"), "%s", errs.msgs[j]);
        sg_conf_free(c);
        sg_conf_errs_clear(&errs);
        free(yaml);
        free(path);
    }
}
END_TEST

START_TEST(test_vcenter_provider_names_a_backend)
{
    if (!unbuilt(SG_MOD_DIALECT, "vijson"))
        return;
    char *path;
    ck_assert_ptr_null(load_yaml("auth:\n  providers:\n"
                                 "    - type: vcenter\n      backend: vc1\n"
                                 "    - type: vcenter\n      backend: vc9\n"
                                 "    - type: vcenter\n" BACKEND_HEAD
                                 "    url: http://vc1\n    dialect: @D@\n" GOOD_CRED,
                                 &path));
    const char *want_unbuilt[] = {
        "3: auth.providers[0].type: \"vcenter\" is not supported yet",
        "5: auth.providers[1].type: \"vcenter\" is not supported yet",
        "7: auth.providers[2].type: \"vcenter\" is not supported yet",
        "11: backends[0].dialect: \"@D@\" is not supported yet",
        "6: auth.providers[1].backend: \"vc9\" is not a configured backend",
        "7: auth.providers[2].backend: required key is missing",
        NULL};
    /* With a vcenter module, its hook has its say too: only ours are checked then. */
    if (!sg_module_find(SG_MOD_AUTH, "vcenter"))
        assert_msgs(path, want_unbuilt);
    free(path);
}
END_TEST

/* A backend without a name stays in the list as an error of its own; the
 * vcenter hook, looking for its backend by name, must step over it (it
 * passed NULL to strcmp: found by fuzz_config). */
START_TEST(test_vcenter_provider_beside_a_nameless_backend)
{
    char *path;
    ck_assert_ptr_null(load_yaml("auth:\n  providers:\n"
                                 "    - type: vcenter\n      backend: vc1\n"
                                 "backends:\n  - url: http://vc1\n    dialect: cis\n" GOOD_CRED,
                                 &path));
    ck_assert_msg(errs_hold(":6: backends[0].name: required key is missing"),
                  "the missing name is the error");
    free(path);
}
END_TEST

/* Whatever a value holds, a message is one line: control bytes are written
 * as \xNN (a tab in a file name came out raw: found by fuzz_config). */
START_TEST(test_messages_hold_no_control_bytes)
{
    if (!sg_module_find(SG_MOD_AUTH, "bearer"))
        return;
    char *path;
    ck_assert_ptr_null(load_yaml("listen: \"a\\tb\\nc:1\"\nauth:\n  providers:\n"
                                 "    - type: bearer\n"
                                 "      tokens_file: \"/no\\tsuch\\nfile\"\n",
                                 &path));
    ck_assert_uint_ge(errs.n, 2);
    for (size_t i = 0; i < errs.n; i++)
        for (const char *c = errs.msgs[i]; *c; c++)
            ck_assert_msg((unsigned char)*c >= 0x20 && *c != 0x7f, "raw control byte in %s",
                          errs.msgs[i]);
    ck_assert_msg(errs_hold("/no\\x09such\\x0afile"), "the file name is shown, escaped");
    free(path);
}
END_TEST

/* ---- the environment ---- */

START_TEST(test_env_scalars_beat_defaults_and_file)
{
    setenv("SNAPGATE_LISTEN", "0.0.0.0:1234", 1);
    setenv("SNAPGATE_ADMIN_LISTEN", "[::1]:4321", 1);
    setenv("SNAPGATE_WORKERS", "8", 1);
    setenv("SNAPGATE_LOG_LEVEL", "debug", 1);
    setenv("SNAPGATE_LOG_FORMAT", "text", 1);
    setenv("SNAPGATE_REDIS_URL", "", 1);
    struct sg_conf *c = sg_conf_load(NULL, &errs);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->listen, "0.0.0.0:1234");
    ck_assert_str_eq(c->admin_listen, "[::1]:4321");
    ck_assert_uint_eq(c->workers, 8);
    ck_assert_int_eq(c->log_level, SG_LOG_DEBUG);
    ck_assert_int_eq(c->log_format, SG_LOG_TEXT);
    sg_conf_free(c);

    /* Over a file that sets them too; the rest of the file stays. */
    setenv("SNAPGATE_WORKERS", "2", 1);
    setenv("SNAPGATE_LOG_LEVEL", "error", 1);
    char *path = sg_test_own_fixture_path("conf/all-keys.yaml");
    c = sg_conf_load(path, &errs);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(c->workers, 2);
    ck_assert_int_eq(c->log_level, SG_LOG_ERROR);
    ck_assert_uint_eq(c->drain_timeout_ms, 45000);
    sg_conf_free(c);
    free(path);
}
END_TEST

START_TEST(test_env_errors_collected)
{
    setenv("SNAPGATE_WORKERS", "abc", 1);
    setenv("SNAPGATE_LISTEN", "nope", 1);
    setenv("SNAPGATE_LOG_FORMAT", "xml", 1);
    char *path;
    ck_assert_ptr_null(load_yaml("workers: 2\nlog:\n  format: json\n  level: loud\n", &path));
    assert_msgs(path, (const char *const[]){
                          "env:0: workers: SNAPGATE_WORKERS=\"abc\" is not an integer",
                          "env:0: log.format: SNAPGATE_LOG_FORMAT=\"xml\" is not one of json, text",
                          "4: log.level: \"loud\" is not one of error, warn, info, debug",
                          "env:0: listen: SNAPGATE_LISTEN=\"nope\" is not an address to listen on "
                          "(want HOST:PORT or [IPv6]:PORT, port 1..65535)",
                          NULL});
    free(path);
}
END_TEST

START_TEST(test_env_listen_clash_is_reported_as_env)
{
    setenv("SNAPGATE_LISTEN", "127.0.0.1:9901", 1);
    ck_assert_ptr_null(sg_conf_load(NULL, &errs));
    assert_msgs("", (const char *const[]){"env:0: listen: listen \"127.0.0.1:9901\" and "
                                          "admin_listen \"127.0.0.1:9901\" are the same address "
                                          "(the admin port must be separate)",
                                          NULL});
}
END_TEST

START_TEST(test_env_redis)
{
    char *path;
    /* Empty turns Redis off, whatever the file says. */
    setenv("SNAPGATE_REDIS_URL", "", 1);
    struct sg_conf *c = load_yaml("redis:\n  url: \"redis://127.0.0.1:6379/0\"\n", &path);
    ck_assert_ptr_nonnull(c);
    sg_conf_free(c);
    free(path);
    setenv("SNAPGATE_REDIS_URL", "redis://:hunter2@127.0.0.1:6379/0", 1);
    c = sg_conf_load(NULL, &errs);
    if (sg_module_find(SG_MOD_CACHE, "redis")) {
        /* The variable alone defines the redis section. */
        ck_assert_ptr_nonnull(c);
        ck_assert_ptr_nonnull(c->shared_cache);
        sg_conf_free(c);
    } else {
        ck_assert_ptr_null(c);
        assert_msgs("", (const char *const[]){"env:0: redis: Redis is not supported by this build "
                                              "(module cache/redis is not compiled in)",
                                              NULL});
    }
    assert_no_secrets();
}
END_TEST

START_TEST(test_max_ttl_needs_redis)
{
    char *path;
    struct sg_conf *c = load_yaml("cache:\n  local:\n    max_ttl: 2s\n", &path);
    ck_assert_ptr_null(c);
    assert_msgs(path, (const char *const[]){"3: cache.local.max_ttl: applies only in front of "
                                            "redis (without redis the in-process tier is the "
                                            "whole cache and keeps answers for their full TTL)",
                                            NULL});
    free(path);
}
END_TEST

START_TEST(test_redis_keys)
{
    char *path;
    struct sg_conf *c =
        load_yaml("redis:\n  url: \"redis://127.0.0.1:6379/0\"\n  timeout: 100ms\n"
                  "  on_error: reject\ncache:\n  stale_if_error: 0s\n  local:\n    max_ttl: 0s\n",
                  &path);
    if (sg_module_find(SG_MOD_CACHE, "redis")) {
        ck_assert_ptr_nonnull(c);
        ck_assert_ptr_nonnull(c->shared_cache_priv); /* timeout: the module's (test_cache_redis) */
        ck_assert_int_eq(c->redis_on_error, SG_REDIS_REJECT);
        ck_assert_uint_eq(c->stale_if_error_ms, 0);
        ck_assert_uint_eq(c->local_max_ttl_ms, 0);
        sg_conf_free(c);
    } else {
        ck_assert_ptr_null(c);
        sg_conf_errs_clear(&errs);
    }
    free(path);
    c = load_yaml("redis:\n  timeout: 100ms\n  on_error: sometimes\n", &path);
    ck_assert_ptr_null(c);
    assert_msgs(
        path, (const char *const[]){"3: redis.on_error: \"sometimes\" is not one of bypass, reject",
                                    "2: redis.url: required key is missing", NULL});
    free(path);
}
END_TEST

/* redis.timeout is the module's, yet a reload still sees it change. */
START_TEST(test_redis_timeout_change_needs_a_restart)
{
    if (!sg_module_find(SG_MOD_CACHE, "redis"))
        return;
    char *p1, *p2, *p3;
    struct sg_conf *a =
        load_yaml("redis:\n  url: \"redis://127.0.0.1:6379/0\"\n  timeout: 100ms\n", &p1);
    struct sg_conf *b =
        load_yaml("redis:\n  url: \"redis://127.0.0.1:6379/0\"\n  timeout: 200ms\n", &p2);
    struct sg_conf *c =
        load_yaml("redis:\n  url: \"redis://127.0.0.1:6379/0\"\n  timeout: 100ms\n", &p3);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_nonnull(c);
    struct sg_conf_diff d;
    sg_conf_diff(a, b, &d);
    ck_assert_ptr_nonnull(d.fixed_key);
    ck_assert_str_eq(d.fixed_key, "redis");
    sg_conf_diff(a, c, &d);
    ck_assert_ptr_null(d.fixed_key);
    sg_conf_free(a);
    sg_conf_free(b);
    sg_conf_free(c);
    unlink(p1);
    unlink(p2);
    unlink(p3);
    free(p1);
    free(p2);
    free(p3);
}
END_TEST

START_TEST(test_env_dialect_without_url)
{
    setenv("SNAPGATE_BACKEND_DIALECT", "cis", 1);
    ck_assert_ptr_null(sg_conf_load(NULL, &errs));
    assert_msgs("", (const char *const[]){"env:0: backends: SNAPGATE_BACKEND_DIALECT is set "
                                          "without SNAPGATE_BACKEND_URL",
                                          NULL});
}
END_TEST

#define TWO_BACKENDS                                                                               \
    "backends:\n"                                                                                  \
    "  - name: vc1\n    url: http://vc1\n    dialect: @D@\n" GOOD_CRED                             \
    "  - name: default\n    url: https://old\n    dialect: @D@\n" GOOD_CRED                        \
    "    tls: {ca_file: @CA@, verify: false}\n"                                                    \
    "    timeouts: {connect: 3s, request: 4s}\n"

START_TEST(test_env_backend_replaces_file_backends)
{
    if (!unbuilt(SG_MOD_DIALECT, "vijson"))
        return;
    setenv("SNAPGATE_BACKEND_URL", "http://10.1.2.3:8080/api/", 1);
    char *d = expand("@D@");
    setenv("SNAPGATE_BACKEND_DIALECT", d, 1);
    free(d);
    char *path;
    /* One backend left (no "more than one"), its dialect from the env. */
    ck_assert_ptr_null(load_yaml(TWO_BACKENDS, &path));
    assert_msgs(path, (const char *const[]){"env:0: backends[0].dialect: "
                                            "SNAPGATE_BACKEND_DIALECT=\"@D@\" is not supported yet",
                                            NULL});
    free(path);
    sg_conf_errs_clear(&errs);

    /* And what that backend holds: env url, the file default's account. */
    char *yaml = expand(TWO_BACKENDS);
    errs.file = "f.yaml";
    struct sg_conf_node *root = sg_conf_tree_parse_string(yaml, &errs);
    sg_conf_env_apply(root, &errs);
    struct sg_conf *c = sg_xcalloc(1, sizeof(*c));
    sg_conf_backends_read(sg_conf_node_get(root, "backends"), "backends", &errs, c);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_uint_eq(c->backends_n, 1);
    const struct sg_conf_backend *b = &c->backends[0];
    ck_assert_str_eq(b->name, "default");
    ck_assert_str_eq(b->url, "http://10.1.2.3:8080/api/");
    ck_assert_str_eq(b->host, "10.1.2.3");
    ck_assert_uint_eq(b->port, 8080);
    ck_assert_str_eq(b->base_path, "/api");
    ck_assert_str_eq(b->username, "svc");
    ck_assert_str_eq(b->password, SECRET);
    ck_assert_str_eq(b->tls_ca_file, ca_file);
    ck_assert(!b->tls_verify);
    ck_assert_uint_eq(b->connect_timeout_ms, 3000);
    ck_assert_uint_eq(b->request_timeout_ms, 4000);
    sg_conf_free(c);
    sg_conf_tree_free(root);
    free(yaml);
}
END_TEST

START_TEST(test_env_backend_url_alone)
{
    /* No file backend named default: no account, and the dialect is cis. */
    setenv("SNAPGATE_BACKEND_URL", "https://vc.example", 1);
    ck_assert_ptr_null(sg_conf_load(NULL, &errs));
    const char *no_cred = "env:0: backends[0]: a backend without credentials needs an auth "
                          "provider of type vcenter for it (then the callers' own sessions go "
                          "upstream)";
    if (sg_module_find(SG_MOD_DIALECT, "cis"))
        assert_msgs("", (const char *const[]){no_cred, NULL});
    else
        assert_msgs("", (const char *const[]){"env:0: backends[0].dialect: \"cis\" is not "
                                              "supported yet",
                                              no_cred, NULL});
}
END_TEST

START_TEST(test_env_backend_bad_urls)
{
    setenv("SNAPGATE_BACKEND_URL", "ftp://x", 1);
    ck_assert_ptr_null(sg_conf_load(NULL, &errs));
    ck_assert_str_eq(errs.msgs[0], "env:0: backends[0].url: invalid url "
                                   "SNAPGATE_BACKEND_URL=\"ftp://x\": want an http:// or https:// "
                                   "URL");
    sg_conf_errs_clear(&errs);
    setenv("SNAPGATE_BACKEND_URL", "https://root:hunter2@vc", 1);
    ck_assert_ptr_null(sg_conf_load(NULL, &errs));
    ck_assert_str_eq(errs.msgs[0], "env:0: backends[0].url: invalid url in SNAPGATE_BACKEND_URL: "
                                   "must not carry user info (credentials go under credentials:)");
    assert_no_secrets();
}
END_TEST

/* ---- the shipped example ---- */

struct example_case {
    const char *file;
    unsigned workers;
    int shared;
};

static const struct example_case examples[] = {
    {"snapgate.example.yaml", 2, 0},
    {"sidecar.example.yaml", 1, 0},
    {"tier.example.yaml", 2, 1},
};

/* Every example under conf/ loads as written (its file paths swapped for real
 * temporary files) in a build with the modules it names. */
START_TEST(test_example_config)
{
    const struct example_case *ex = &examples[_i];
    char *rel = sg_xasprintf("../../conf/%s", ex->file);
    char *example = sg_test_own_fixture_path(rel);
    char *text = sg_test_read_file(example, NULL);
    ck_assert_ptr_nonnull(text);
    /* A real sha512crypt line, so a built basic module can read it. */
    char *line = sg_xasprintf("backup-operator:%s\n", crypt("pw", "$6$saltsalt$"));
    char *users = sg_test_write_temp(line);
    free(line);
    char *a = replace_all(text, "/etc/snapgate/users", users);
    char *b = replace_all(a, "/run/secrets/vc1", pw_file);
    char *yaml = replace_all(b, "/etc/snapgate/vc1-ca.pem", ca_file);
    char *path = sg_test_write_temp(yaml);
    struct sg_conf *c = sg_conf_load(path, &errs);
    bool built = sg_module_find(SG_MOD_AUTH, "basic") && sg_module_find(SG_MOD_DIALECT, "cis") &&
                 (!ex->shared || sg_module_find(SG_MOD_CACHE, "redis"));
    if (built) {
        assert_msgs(path, (const char *const[]){NULL});
        ck_assert_ptr_nonnull(c);
        ck_assert_uint_eq(c->backends_n, 1);
        ck_assert_str_eq(c->backends[0].password, SECRET);
        ck_assert_uint_eq(c->providers_n, 1);
        ck_assert_uint_eq(c->workers, ex->workers);
        ck_assert_int_eq(c->shared_cache != NULL, ex->shared);
    } else {
        ck_assert_ptr_null(c);
    }
    sg_conf_free(c);
    unlink(path);
    unlink(users);
    free(path);
    free(users);
    free(yaml);
    free(b);
    free(a);
    free(text);
    free(example);
    free(rel);
}
END_TEST

static Suite *conf_suite(void)
{
    Suite *s = suite_create("conf");
    TCase *tc = tcase_create("load");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_defaults_without_file);
    tcase_add_test(tc, test_defaults_from_empty_file);
    tcase_add_test(tc, test_every_core_key);
    tcase_add_test(tc, test_backend_every_key);
    tcase_add_test(tc, test_backend_defaults_and_release);
    tcase_add_test(tc, test_password_file_readable_by_others_is_warned_about);
    tcase_add_loop_test(tc, test_fixture_errors, 0, SG_ARRAY_LEN(fixture_cases));
    tcase_add_test(tc, test_syntax_error_names_its_line);
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_top_level_not_a_map);
    tcase_add_test(tc, test_duplicate_key_in_load);
    tcase_add_test(tc, test_listen_and_admin_must_differ);
    tcase_add_loop_test(tc, test_backend_errors, 0, SG_ARRAY_LEN(backend_cases));
    tcase_add_test(tc, test_several_backends_and_routing);
    tcase_add_loop_test(tc, test_resilience_errors, 0, SG_ARRAY_LEN(resilience_cases));
    tcase_add_loop_test(tc, test_provider_errors, 0, SG_ARRAY_LEN(provider_cases));
    tcase_add_test(tc, test_every_contract_provider_key_is_known);
    tcase_add_test(tc, test_vcenter_provider_names_a_backend);
    tcase_add_test(tc, test_vcenter_provider_beside_a_nameless_backend);
    tcase_add_test(tc, test_messages_hold_no_control_bytes);
    tcase_add_loop_test(tc, test_example_config, 0, (int)SG_ARRAY_LEN(examples));
    suite_add_tcase(s, tc);

    tc = tcase_create("env");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_env_scalars_beat_defaults_and_file);
    tcase_add_test(tc, test_env_errors_collected);
    tcase_add_test(tc, test_env_listen_clash_is_reported_as_env);
    tcase_add_test(tc, test_env_redis);
    tcase_add_test(tc, test_max_ttl_needs_redis);
    tcase_add_test(tc, test_redis_keys);
    tcase_add_test(tc, test_redis_timeout_change_needs_a_restart);
    tcase_add_test(tc, test_env_dialect_without_url);
    tcase_add_test(tc, test_env_backend_replaces_file_backends);
    tcase_add_test(tc, test_env_backend_url_alone);
    tcase_add_test(tc, test_env_backend_bad_urls);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(conf_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
