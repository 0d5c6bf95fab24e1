/* Ending the vCenter sessions the vcenter provider opened for callers
 * (`DELETE /api/session`), so that sessions snapgate no longer remembers do
 * not linger upstream until vCenter's idle timeout, counting against its
 * session limit. Sessions a caller presented (`vmware-api-session-id`) are the
 * caller's and never come here.
 *
 * One ender per provider instance, used only on its worker's loop thread. */
#ifndef SG_VC_SESSION_END_H
#define SG_VC_SESSION_END_H

#include <stdbool.h>
#include <stdint.h>

/* The header vCenter takes a session id in (sessions this module ends, and checks). */
#define VC_SESSION_HEADER "vmware-api-session-id"

struct event_base;
struct sg_backend_worker;
struct vc_ender;

/* Sessions are ended on bw, grace_ms after they are handed over (a task fetch
 * that began with the session just before may still be running). */
struct vc_ender *vc_ender_new(struct event_base *base, struct sg_backend_worker *bw,
                              uint64_t grace_ms);

/* Takes session over (wiped and freed here). now: no request can be using it
 * (it was never handed out), so the DELETE goes out at once; else after the
 * grace. Fire-and-forget: the DELETE's own timer is the backend's request
 * timeout, and its outcome is only counted and logged at debug. */
void vc_ender_end(struct vc_ender *en, char *session, bool now);

/* The instance is going away and nothing uses its sessions any more: what
 * still waits for its grace goes out now while the loop runs (a reload); when
 * the loop has stopped (shutdown) nothing can be sent without blocking, so
 * those sessions are left to expire upstream, and the log says how many. */
void vc_ender_free(struct vc_ender *en);

/* What this thread's enders did, for tests and the debug log. */
struct vc_ender_stats {
    unsigned long sent;    /* DELETEs started */
    unsigned long ended;   /* answered 2xx (or 401/404: already gone) */
    unsigned long failed;  /* no answer or another status */
    unsigned long dropped; /* left to expire upstream at shutdown */
};
struct vc_ender_stats vc_ender_stats(void);

#endif
