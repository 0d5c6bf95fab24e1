/* The client API's routes: the task GET, vAPI JSON-RPC, sessions. Everything
 * else is a 404 or 405 decided here, before authentication, so probing
 * unknown paths costs no password hash. */
#include <stdbool.h>
#include <string.h>

#include "http/router.h"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The task id rules, one decoded byte at a time: byte c at index n (0-based)
 * of the id. Shared by the REST path's decoder and sg_task_id_check (the
 * JSON-RPC path, whose id arrives decoded), so both refuse the same ids with
 * the same reasons. */
static int id_byte_ok(unsigned char c, size_t n, const char **why)
{
    if (c <= 0x20 || c >= 0x7f) {
        *why = "the task id holds whitespace, control or non-ASCII characters";
        return -1;
    }
    if (n >= SG_TASK_ID_MAX) {
        *why = "the task id is longer than 256 bytes";
        return -1;
    }
    return 0;
}

/* The rules on the whole id. "." and ".." are path dot-segments: the id goes
 * upstream as a path segment, where URL normalization (RFC 3986 5.2.4, done
 * by servers and proxies, percent-encoded or not) would turn
 * /api/cis/tasks/.. into another resource, whose answer would then be taken
 * for this task's (found by fuzz_http_front). No task id is one. */
static int id_whole(const char *id, size_t n, const char **why)
{
    if (n == 0) {
        *why = "the task id is empty";
        return -1;
    }
    if ((n == 1 && id[0] == '.') || (n == 2 && id[0] == '.' && id[1] == '.')) {
        *why = "the task id is a path dot-segment (\".\" or \"..\")";
        return -1;
    }
    return 0;
}

int sg_task_id_decode(const char *seg, size_t len, char *out, size_t cap, const char **why)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)seg[i];
        if (c == '%') {
            int hi = i + 2 < len ? hex_value(seg[i + 1]) : -1;
            int lo = i + 2 < len ? hex_value(seg[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *why = "malformed percent-encoding in the task id";
                return -1;
            }
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        if (id_byte_ok(c, n, why) != 0)
            return -1;
        if (n + 1 >= cap) {
            *why = "the task id is longer than 256 bytes";
            return -1;
        }
        out[n++] = (char)c;
    }
    if (id_whole(out, n, why) != 0)
        return -1;
    out[n] = '\0';
    return 0;
}

int sg_task_id_check(const char *id, size_t len, const char **why)
{
    for (size_t i = 0; i < len; i++) {
        if (id_byte_ok((unsigned char)id[i], i, why) != 0)
            return -1;
    }
    return id_whole(id, len, why);
}

/* vAPI JSON-RPC: /api where the 8.0U3 SDK sends it, /snapservice where the
 * 9.0 samples do. Exact paths: the SDK adds nothing to its connector URL. */
static bool is_rpc_path(const char *path)
{
    return strcmp(path, "/api") == 0 || strcmp(path, "/snapservice") == 0;
}

const char *sg_route_allow(const char *path)
{
    if (is_rpc_path(path))
        return "POST";
    if (strcmp(path, SG_SESSIONS_PATH) == 0)
        return "POST, GET, DELETE";
    return "GET, HEAD";
}

enum sg_route sg_route_request(const char *method, const char *path, char *id, const char **why)
{
    static const size_t prefix_len = sizeof(SG_TASK_PREFIX) - 1;
    if (is_rpc_path(path))
        return strcmp(method, "POST") == 0 ? SG_ROUTE_RPC : SG_ROUTE_BAD_METHOD;
    if (strcmp(path, SG_SESSIONS_PATH) == 0)
        return strcmp(method, "POST") == 0 || strcmp(method, "GET") == 0 ||
                       strcmp(method, "DELETE") == 0
                   ? SG_ROUTE_SESSIONS
                   : SG_ROUTE_BAD_METHOD;
    if (strncmp(path, SG_TASK_PREFIX, prefix_len) != 0)
        return SG_ROUTE_NOT_FOUND;
    const char *seg = path + prefix_len;
    size_t len = strlen(seg);
    /* An empty id or a second segment is another path, not a bad id: no route. */
    if (len == 0 || memchr(seg, '/', len))
        return SG_ROUTE_NOT_FOUND;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return SG_ROUTE_BAD_METHOD;
    if (sg_task_id_decode(seg, len, id, SG_TASK_ID_MAX + 1, why) != 0)
        return SG_ROUTE_BAD_ID;
    return SG_ROUTE_TASK;
}
