/* fuzz_config: YAML bytes (and SNAPGATE_* environment values) through the
 * whole config loader, sg_conf_load (gateway/conf/): libyaml, the tree, the
 * schema walk, the environment layer, every module's conf hook and the files
 * they read.
 * Input: the bytes before the first NUL are the config file (written to a
 * scratch file, loaded by path as snapgate -c does). After the NUL, each line
 * sets one variable: its first byte picks the name (mod the list below), the
 * rest is the value. Every variable is unset again after the load.
 * The files a config may name exist in /tmp/sgfuzz-conf/ (users, tokens,
 * password, jwks.json, certs.pem; see dict/config.dict), so the fuzzer reaches
 * the readers behind the keys, not only "file not found".
 * Properties:
 * - a config comes back exactly when no error was collected;
 * - every error and warning is "FILE:LINE: path: reason" (FILE the config's
 *   path, or env with line 0) and holds no control byte: operator input is
 *   quoted, never written raw into a log line;
 * - loading the same bytes again gives the same config (sg_conf_diff: no
 *   fixed key differs, the backends are equal): the loader is deterministic;
 * - no leak.
 * SG_FUZZ_DICT: config.dict */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf_diff.h"
#include "snapgate/conf.h"
#include "snapgate/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DIR "/tmp/sgfuzz-conf"

static const char *const env_names[] = {
    "SNAPGATE_LISTEN",      "SNAPGATE_ADMIN_LISTEN",    "SNAPGATE_WORKERS",
    "SNAPGATE_LOG_LEVEL",   "SNAPGATE_LOG_FORMAT",      "SNAPGATE_REDIS_URL",
    "SNAPGATE_BACKEND_URL", "SNAPGATE_BACKEND_DIALECT",
};
#define N_ENV (sizeof(env_names) / sizeof(env_names[0]))

/* A self-signed EC P-256 certificate (CN=sgfuzz): a CA bundle and a set of
 * STS signing certificates that load. */
static const char cert_pem[] = "-----BEGIN CERTIFICATE-----\n"
                               "MIIBeDCCAR+gAwIBAgIUT7EzKwmDK2ZOjXZKZvtZ0t/PvIMwCgYIKoZIzj0EAwIw\n"
                               "ETEPMA0GA1UEAwwGc2dmdXp6MCAXDTI2MTIwNzE1MTQ1OFoYDzIxMjYxMTEzMTUx\n"
                               "NDU4WjARMQ8wDQYDVQQDDAZzZ2Z1enowWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC\n"
                               "AAQH4yO+3sfjOoB7lk/w5UPzJtIYs4tUzzgy4i1vBVqn05WgPL4fWtQohNqvMs5A\n"
                               "uctw4186IeAC3vJxDqCMq0P9o1MwUTAdBgNVHQ4EFgQU55AWaFUZwNdb5H43zxB8\n"
                               "s/iwe6kwHwYDVR0jBBgwFoAU55AWaFUZwNdb5H43zxB8s/iwe6kwDwYDVR0TAQH/\n"
                               "BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiBYntrQeoEAF5axF7iQyBt6Kh/1SuPP\n"
                               "b/xeRoDg+dk59gIgXHdcgzFZs6lK1tKuWBXcfCdY31WdpIrfN5uUFHzRgN8=\n"
                               "-----END CERTIFICATE-----\n";

static void put_file(const char *name, const char *text, mode_t mode)
{
    char path[256], tmp[300];
    snprintf(path, sizeof path, DIR "/%s", name);
    snprintf(tmp, sizeof tmp, "%s.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || fchmod(fd, mode) != 0)
        abort();
    close(fd);
    if (rename(tmp, path) != 0)
        abort();
}

static char yaml_path[256];

static void init(void)
{
    sg_log_setup(SG_LOG_ERROR, SG_LOG_TEXT);
    for (size_t i = 0; i < N_ENV; i++)
        unsetenv(env_names[i]);
    if (mkdir(DIR, 0700) != 0 && access(DIR, W_OK) != 0)
        abort();
    /* password "secret" (sha512crypt, 1000 rounds: cheap to load) */
    put_file("users",
             "# fuzz\nadministrator@vsphere.local:$6$rounds=1000$fuzzsalt$VaozQpX6.rHlYgQ8XkQuQwn"
             "kNdGdaeCOvmZC4qxWknLh/eg/UKI7XrlNFcouj7rjYRe.I0VJYPdKlgC8OexQQ0\n",
             0600);
    put_file("tokens",
             "ci:sha256:1a7674eb4ee78df7e1ac439a93c3fa8e3c945784d4dec9fd8e3011738b2f1d62\n", 0600);
    put_file("password", "VMware1!\n", 0600);
    put_file("jwks.json",
             "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"k1\",\"alg\":\"HS256\","
             "\"k\":\"c2dmdXp6LWhtYWMta2V5LW9mLXRoaXJ0eS10d28tYnl0ZXMh\"}]}\n",
             0644);
    put_file("certs.pem", cert_pem, 0644);
    /* An https backend without ca_file loads OpenSSL's default store: point it
     * at one certificate, or parsing the system bundle (~140 certificates,
     * 80 ms under ASan) would be most of every such execution. */
    setenv("SSL_CERT_FILE", DIR "/certs.pem", 1);
    setenv("SSL_CERT_DIR", DIR "/no-such-dir", 1);
    snprintf(yaml_path, sizeof yaml_path, DIR "/in.%ld.yaml", (long)getpid());
}

/* "FILE:LINE: " with FILE the config's path or "env", then no control byte. */
static void check_msg(const char *msg)
{
    size_t fl = strlen(yaml_path);
    const char *p;
    if (strncmp(msg, yaml_path, fl) == 0 && msg[fl] == ':')
        p = msg + fl + 1;
    else if (strncmp(msg, "env:", 4) == 0)
        p = msg + 4;
    else
        abort();
    if (*p < '0' || *p > '9')
        abort();
    while (*p >= '0' && *p <= '9')
        p++;
    if (p[0] != ':' || p[1] != ' ')
        abort();
    for (const unsigned char *c = (const unsigned char *)msg; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            abort();
}

static struct sg_conf *load(struct sg_conf_errs *errs)
{
    memset(errs, 0, sizeof *errs);
    errs->defer_warnings = true;
    struct sg_conf *c = sg_conf_load(yaml_path, errs);
    if ((c == NULL) != (errs->n > 0))
        abort();
    for (size_t i = 0; i < errs->n; i++)
        check_msg(errs->msgs[i]);
    for (size_t i = 0; i < errs->nwarns; i++)
        check_msg(errs->warns[i]);
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        init();
        ready = true;
    }
    const uint8_t *nul = memchr(data, '\0', size);
    size_t ylen = nul ? (size_t)(nul - data) : size;

    int fd = open(yaml_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || (ylen && write(fd, data, ylen) != (ssize_t)ylen))
        abort();
    close(fd);

    if (nul) {
        const uint8_t *p = nul + 1, *end = data + size;
        while (p < end) {
            const uint8_t *eol = memchr(p, '\n', (size_t)(end - p));
            size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
            if (n >= 1) {
                char *value = strndup((const char *)p + 1, n - 1); /* stops at a NUL */
                if (!value)
                    abort();
                setenv(env_names[p[0] % N_ENV], value, 1);
                free(value);
            }
            p += n + 1;
        }
    }

    struct sg_conf_errs e1, e2;
    struct sg_conf *c1 = load(&e1);
    if (c1) {
        struct sg_conf *c2 = load(&e2);
        if (!c2)
            abort();
        struct sg_conf_diff d;
        sg_conf_diff(c1, c2, &d);
        if (d.fixed_key || d.backends_changed)
            abort();
        sg_conf_free(c2);
        sg_conf_errs_clear(&e2);
    }
    sg_conf_free(c1);
    sg_conf_errs_clear(&e1);
    for (size_t i = 0; i < N_ENV; i++)
        unsetenv(env_names[i]);
    return 0;
}
