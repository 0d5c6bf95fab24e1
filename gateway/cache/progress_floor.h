/* progress.completed never decreases for a task across fetches
 * (SNAPSERVICE.md: "can only be incremented"): a backend that reports less
 * than was already served (a retried subtask, another replica's older view)
 * is lifted to the highest value served. */
#ifndef SG_PROGRESS_FLOOR_H
#define SG_PROGRESS_FLOOR_H

#include <stdint.h>

struct json_object;

/* Raises info's progress.completed to floor when it is lower (floor -1: no
 * floor). Returns the completed value info now carries, or -1 when it has
 * no progress. info must be a validated Info (progress.completed an int). */
int64_t sg_progress_apply_floor(struct json_object *info, int64_t floor);

#endif
