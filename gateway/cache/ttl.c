#include "cache/ttl.h"

uint64_t sg_ttl_for_status(const struct sg_conf *c, enum sg_task_status s)
{
    switch (s) {
    case SG_TASK_PENDING:
        return c->ttl_pending_ms;
    case SG_TASK_RUNNING:
        return c->ttl_running_ms;
    case SG_TASK_BLOCKED:
        return c->ttl_blocked_ms;
    case SG_TASK_SUCCEEDED:
    case SG_TASK_FAILED:
        return c->ttl_terminal_ms;
    }
    return c->ttl_running_ms;
}

uint64_t sg_ttl_not_found(const struct sg_conf *c)
{
    return c->ttl_not_found_ms;
}

uint64_t sg_ttl_local(const struct sg_conf *c, bool shared_tier, int http_status, int task_status,
                      uint64_t ttl)
{
    if (!shared_tier)
        return ttl;
    /* A SUCCEEDED or FAILED task never changes again: no replica can disagree. */
    if (http_status == 200 && task_status >= 0 &&
        sg_task_status_terminal((enum sg_task_status)task_status))
        return ttl;
    return ttl < c->local_max_ttl_ms ? ttl : c->local_max_ttl_ms;
}
