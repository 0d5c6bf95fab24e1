/* Sessions a delegated caller asks for itself (com.vmware.cis.session.create
 * and delete, POST/DELETE /api/snapservice/sessions): opened on the backend
 * with the caller's credential and handed over, ended on the caller's word.
 * Unlike the sessions the provider opens for its exchanges (vcenter.c), these
 * are the caller's from the start: the provider neither remembers nor ends
 * them, and every later request presenting one is checked by the backend. */
#ifndef SG_VC_OWN_SESSION_H
#define SG_VC_OWN_SESSION_H

#include "snapgate/auth.h"

struct sg_backend_worker;

/* POST /api/session with authorization; cb gets the new id. SG_AGAIN, or
 * SG_ERR when bw is NULL (no cb then). */
int vc_own_session_open(struct sg_backend_worker *bw, const char *backend,
                        const char *authorization, sg_auth_session_cb cb, void *arg);
/* DELETE /api/session with the session; cb's session is NULL. */
int vc_own_session_close(struct sg_backend_worker *bw, const char *backend, const char *session,
                         sg_auth_session_cb cb, void *arg);

#endif
