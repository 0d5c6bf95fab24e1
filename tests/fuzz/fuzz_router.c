/* fuzz_router: feeds (method, raw path) to sg_route_request (gateway/http/router.c).
 * Input: the bytes before the first '\n' are the method, the rest the raw path
 * (both cut at a NUL, as C strings); no '\n' means method "GET" and the whole
 * input is the path.
 * Properties: a TASK route comes only from GET/HEAD on SG_TASK_PREFIX and gives
 * an id of 1..SG_TASK_ID_MAX printable, non-space ASCII bytes, NUL-terminated in
 * an exactly SG_TASK_ID_MAX + 1 byte buffer (ASan catches any write past it);
 * BAD_ID always names why; re-encoding that id with
 * sg_http_path_segment_encode routes back to the same id; RPC is exactly
 * POST /api or /snapservice, SESSIONS exactly POST/GET/DELETE of the sessions
 * path; BAD_METHOD never for a method the path's Allow names.
 * SG_FUZZ_DICT: http_path.dict */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/router.h"
#include "snapgate/dialect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *cstr(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static void check_id(const char *id)
{
    size_t n = strnlen(id, SG_TASK_ID_MAX + 1);
    if (n < 1 || n > SG_TASK_ID_MAX)
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)id[i] <= 0x20 || (unsigned char)id[i] >= 0x7f)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    char *method = nl ? cstr(data, (size_t)(nl - data)) : cstr((const uint8_t *)"GET", 3);
    char *path = nl ? cstr(nl + 1, size - (size_t)(nl - data) - 1) : cstr(data, size);
    char *id = malloc(SG_TASK_ID_MAX + 1);
    if (!id)
        abort();
    const char *why = NULL;

    switch (sg_route_request(method, path, id, &why)) {
    case SG_ROUTE_TASK: {
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
            abort();
        if (strncmp(path, SG_TASK_PREFIX, sizeof(SG_TASK_PREFIX) - 1) != 0)
            abort();
        check_id(id);
        /* the canonical encoding of the id is the same task */
        char *seg = sg_http_path_segment_encode(id);
        size_t plen = sizeof(SG_TASK_PREFIX) - 1 + strlen(seg);
        char *again = malloc(plen + 1);
        char *id2 = malloc(SG_TASK_ID_MAX + 1);
        if (!again || !id2)
            abort();
        memcpy(again, SG_TASK_PREFIX, sizeof(SG_TASK_PREFIX) - 1);
        strcpy(again + sizeof(SG_TASK_PREFIX) - 1, seg);
        const char *why2 = NULL;
        if (sg_route_request("GET", again, id2, &why2) != SG_ROUTE_TASK || strcmp(id, id2) != 0)
            abort();
        free(id2);
        free(again);
        free(seg);
        break;
    }
    case SG_ROUTE_BAD_ID:
        if (!why || !why[0])
            abort();
        break;
    case SG_ROUTE_RPC:
        /* JSON-RPC: exactly POST /api or POST /snapservice */
        if (strcmp(method, "POST") != 0 ||
            (strcmp(path, "/api") != 0 && strcmp(path, "/snapservice") != 0))
            abort();
        break;
    case SG_ROUTE_SESSIONS:
        if (strcmp(path, SG_SESSIONS_PATH) != 0 ||
            (strcmp(method, "POST") != 0 && strcmp(method, "GET") != 0 &&
             strcmp(method, "DELETE") != 0))
            abort();
        break;
    case SG_ROUTE_BAD_METHOD: {
        /* a path that routes, with a method its Allow does not name */
        const char *allow = sg_route_allow(path);
        size_t m = strlen(method);
        for (const char *a = allow; m && (a = strstr(a, method)) != NULL; a += m) {
            if ((a == allow || a[-1] == ' ') && (a[m] == ',' || a[m] == '\0'))
                abort();
        }
        break;
    }
    case SG_ROUTE_NOT_FOUND:
        break;
    default:
        abort();
    }
    free(id);
    free(path);
    free(method);
    return 0;
}
