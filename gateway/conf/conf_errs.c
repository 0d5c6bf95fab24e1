/* The configuration error list: every problem is kept, already formatted
 * "FILE:LINE: key.path: reason", so -t can print them all at once. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_internal.h"
#include "snapgate/common.h"
#include "snapgate/log.h"

/* msg with every control byte written as \xNN (a fresh string; msg is freed).
 * A message quotes what the operator wrote (file names, values), and -t prints
 * it to a terminal and the log to a collector: one message stays one line,
 * whatever a value holds. */
static char *one_line(char *msg)
{
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)msg; *c; c++)
        n += (*c < 0x20 || *c == 0x7f) ? 4 : 1;
    char *out = sg_xmalloc(n + 1), *o = out;
    for (const unsigned char *c = (const unsigned char *)msg; *c; c++) {
        if (*c < 0x20 || *c == 0x7f)
            o += snprintf(o, 5, "\\x%02x", *c);
        else
            *o++ = (char)*c;
    }
    *o = '\0';
    free(msg);
    return out;
}

static char *format_msg(const char *file, int line, const char *path, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static char *format_msg(const char *file, int line, const char *path, const char *fmt, va_list ap)
{
    char *reason = NULL;
    if (vasprintf(&reason, fmt, ap) < 0)
        abort(); /* out of memory: see sg_xasprintf */
    char *msg =
        sg_xasprintf("%s:%d: %s: %s", file, line, path && *path ? path : "(top level)", reason);
    free(reason);
    return one_line(msg);
}

static void errs_vadd(struct sg_conf_errs *errs, const char *file, int line, const char *path,
                      const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void errs_vadd(struct sg_conf_errs *errs, const char *file, int line, const char *path,
                      const char *fmt, va_list ap)
{
    errs->msgs = sg_xrealloc(errs->msgs, (errs->n + 1) * sizeof(*errs->msgs));
    errs->msgs[errs->n++] = format_msg(file, line, path, fmt, ap);
}

/* Line 0 is what the environment layer gives the nodes it makes. */
static const char *file_of(const struct sg_conf_errs *errs, int line)
{
    return line > 0 ? (errs->file ? errs->file : "<config>") : "env";
}

void sg_conf_errs_add(struct sg_conf_errs *errs, int line, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errs_vadd(errs, file_of(errs, line), line, path, fmt, ap);
    va_end(ap);
}

void sg_conf_errs_warn(struct sg_conf_errs *errs, int line, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = format_msg(file_of(errs, line), line, path, fmt, ap);
    va_end(ap);
    /* A reload has its log set up: say it now, whatever the load's outcome. */
    if (!errs->defer_warnings) {
        sg_log_warn("config", "%s", msg);
        free(msg);
        return;
    }
    errs->warns = sg_xrealloc(errs->warns, (errs->nwarns + 1) * sizeof(*errs->warns));
    errs->warns[errs->nwarns++] = msg;
}

void sg_conf_errs_add_file(struct sg_conf_errs *errs, const char *file, int line, const char *path,
                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errs_vadd(errs, file, line, path, fmt, ap);
    va_end(ap);
}

void sg_conf_errs_clear(struct sg_conf_errs *errs)
{
    for (size_t i = 0; i < errs->n; i++)
        free(errs->msgs[i]);
    free(errs->msgs);
    errs->msgs = NULL;
    errs->n = 0;
    for (size_t i = 0; i < errs->nwarns; i++)
        free(errs->warns[i]);
    free(errs->warns);
    errs->warns = NULL;
    errs->nwarns = 0;
}

const char *sg_conf_node_quote(const struct sg_conf_node *n, char buf[SG_CONF_QUOTE_MAX])
{
    /* At most PREFIX bytes of "NAME=", SHOWN source bytes of up to 4 bytes
     * each, "...", two quotes and the NUL: 32 + 160 + 3 + 2 + 1 <= 200. */
    enum { PREFIX = 32, SHOWN = 40 };
    _Static_assert(PREFIX + 4 * SHOWN + 6 <= SG_CONF_QUOTE_MAX, "quote buffer too small");
    size_t len = 0;
    if (n->env) {
        int w = snprintf(buf, PREFIX, "%s=", n->env);
        len = w < PREFIX ? (size_t)w : PREFIX - 1;
    }
    buf[len++] = '"';
    const unsigned char *s = (const unsigned char *)(n->scalar ? n->scalar : "");
    size_t i = 0;
    for (; s[i] && i < SHOWN; i++) {
        if (s[i] == '"' || s[i] == '\\') {
            buf[len++] = '\\';
            buf[len++] = (char)s[i];
        } else if (s[i] < 0x20 || s[i] == 0x7f) {
            len += (size_t)snprintf(buf + len, 5, "\\x%02x", s[i]);
        } else {
            buf[len++] = (char)s[i];
        }
    }
    if (s[i]) {
        memcpy(buf + len, "...", 3);
        len += 3;
    }
    buf[len++] = '"';
    buf[len] = '\0';
    return buf;
}
