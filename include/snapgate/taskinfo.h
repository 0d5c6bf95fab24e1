/* vim TaskInfo (the VI/JSON and SOAP vim25 dialects) to snapservice Info: the
 * mapping table of api/SNAPSERVICE.md section 4, in one place. Both dialects
 * hand it the same json-c shape, the VI/JSON one: objects carry "_typeName",
 * MoRefs are {"_typeName": "ManagedObjectReference", "type", "value"}, boxed
 * any-typed values are {"_typeName", "_value"}, and progress / cancelable are
 * JSON numbers / booleans (the vim25 dialect converts its XML to this). */
#ifndef SG_TASKINFO_H
#define SG_TASKINFO_H

#include <stddef.h>

#include "snapgate/task.h"

struct json_object;

/* Maps ti (a TaskInfo object, borrowed, not changed) to an Info and runs
 * sg_info_canonicalize on it, so the result obeys the union rule and has
 * canonical times. task_id (may be NULL) is the MoRef value asked for: vc_task
 * is task.value, else task_id. Returns SG_OK with *info (a new reference the
 * caller puts) and *status, or SG_ERR with reason (never quoting ti's values)
 * and *info NULL. */
int sg_taskinfo_to_info(struct json_object *ti, const char *task_id, struct json_object **info,
                        enum sg_task_status *status, char *reason, size_t cap);

/* The vAPI error_type of a task that failed with the vim fault fault_type:
 * RequestCanceled CANCELED, NoPermission UNAUTHORIZED, NotAuthenticated
 * UNAUTHENTICATED, ManagedObjectNotFound NOT_FOUND, InvalidArgument
 * INVALID_ARGUMENT, InvalidState NOT_ALLOWED_IN_CURRENT_STATE, Timedout
 * TIMED_OUT, anything else (NULL too) ERROR. Exact names, no hierarchy.
 * Returns a static string. */
const char *sg_vim_fault_error_type(const char *fault_type);

/* What a fault on the task request itself (not inside TaskInfo) means for the
 * gateway: ManagedObjectNotFound SG_OUT_NOT_FOUND, NotAuthenticated
 * SG_OUT_UNAUTHENTICATED, NoPermission SG_OUT_UNAUTHORIZED, anything else
 * (NULL too) SG_OUT_ERROR. */
enum sg_outcome sg_vim_fault_outcome(const char *fault_type);

#endif
