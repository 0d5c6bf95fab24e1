/* Failed-login protection: repeated authentication failures from one client
 * address or for one user name slow down. Per worker (share-nothing), so a
 * guesser spread over N workers gets N times the budget; the delay is bounded
 * so a real user is slowed, never locked out. */
#ifndef SG_THROTTLE_H
#define SG_THROTTLE_H

#include <stdint.h>

#include "strmap.h"

#define SG_THROTTLE_FREE_FAILURES 5   /* failures within the window before any delay */
#define SG_THROTTLE_WINDOW_MS 60000u  /* failures older than this are forgotten */
#define SG_THROTTLE_BASE_DELAY_MS 250 /* the first delay; doubles with each failure */
#define SG_THROTTLE_MAX_DELAY_MS 4000 /* never more than this */

void sg_throttle_init(struct sg_strmap *t);
void sg_throttle_destroy(struct sg_strmap *t);
/* Counts one failure for key and returns how long its 401 should wait. */
uint64_t sg_throttle_fail(struct sg_strmap *t, const char *key, uint64_t now_ms);
/* The delay for n failures within the window (pure; for tests). */
uint64_t sg_throttle_delay_ms(unsigned n);

#endif
