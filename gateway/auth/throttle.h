/* Failed-login protection: repeated authentication failures from one client
 * address or for one user name slow down. Per worker (share-nothing), so a
 * guesser spread over N workers gets N times the budget; the delay is bounded
 * so a real user is slowed, never locked out.
 *
 * Three keys count failures (the caller builds them, gateway/http/request.c):
 *   "ip:ADDR"            every failure from the address
 *   "user:NAME"          every failure of a Basic user name, from anywhere
 *   "pair:ADDR\x1fNAME"  one user name from one address
 * A failure answers after the largest delay of its keys. A held key (the pair
 * from SG_THROTTLE_PAIR_HOLD failures on, the address from
 * SG_THROTTLE_ADDR_HOLD on) makes EVERY Basic attempt on it wait before it is
 * checked, right password or wrong, remembered or not: otherwise the right one
 * answers first and a guesser that abandons slow answers finds it at full
 * speed. A held key takes at most a few attempts at a time; one more is
 * refused (a 401 after the same wait, never checked), so a flood of guesses
 * cannot queue hashes in front of other users' logins. */
#ifndef SG_THROTTLE_H
#define SG_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "snapgate/strmap.h"

#define SG_THROTTLE_FREE_FAILURES 5   /* failures within the window before any delay */
#define SG_THROTTLE_WINDOW_MS 60000u  /* failures older than this are forgotten */
#define SG_THROTTLE_BASE_DELAY_MS 250 /* the first delay; doubles with each failure */
#define SG_THROTTLE_MAX_DELAY_MS 4000 /* never more than this */

/* From this many failures of a pair on, its next failure would wait: so does
 * its next success. */
#define SG_THROTTLE_PAIR_HOLD (SG_THROTTLE_FREE_FAILURES - 1)
/* An address is held only well past the point where its failures wait: many
 * people share an address (NAT, a jump host), and a hold slows all of them.
 * 20 failures a minute is past typos and well short of a useful spray. */
#define SG_THROTTLE_ADDR_HOLD 20
/* Attempts of one held pair (address) waiting or being checked at once. A
 * person retries one login at a time; a client with many pollers has its
 * credential remembered after the first success. Beyond this, refused. */
#define SG_THROTTLE_PAIR_PENDING 4
#define SG_THROTTLE_ADDR_PENDING 16

/* Keys per worker. An entry costs about 120 bytes, so this is 6 MB at worst.
 * When full, the entry touched longest ago goes (never one with attempts
 * pending): flooding it takes one checked failure per entry, which the holds
 * slow to a trickle, so a key under attack is touched far more recently. */
#define SG_THROTTLE_MAX_KEYS 50000

struct sg_throttle_entry;

struct sg_throttle {
    struct sg_strmap map;                               /* key -> struct sg_throttle_entry */
    TAILQ_HEAD(sg_throttle_lru, sg_throttle_entry) lru; /* by last touch, newest first */
    size_t max;                                         /* SG_THROTTLE_MAX_KEYS */
};

void sg_throttle_init(struct sg_throttle *t);
void sg_throttle_destroy(struct sg_throttle *t);
size_t sg_throttle_count(const struct sg_throttle *t);

/* Counts one failure for key and returns how long its 401 should wait. */
uint64_t sg_throttle_fail(struct sg_throttle *t, const char *key, uint64_t now_ms);
/* How long the next failure of key would wait (nothing counted, 0 unknown). */
uint64_t sg_throttle_next_delay(const struct sg_throttle *t, const char *key, uint64_t now_ms);

enum sg_throttle_hold {
    SG_THROTTLE_FREE,    /* key is not held: check at once, nothing taken */
    SG_THROTTLE_HELD,    /* held: wait, then check; a slot is taken (sg_throttle_release) */
    SG_THROTTLE_REFUSED, /* held and its slots are full: wait, then 401 unchecked */
};
/* One attempt on key, held from `hold` failures within the window on, with at
 * most max_pending attempts taken at once. When held (or refused), *wait_ms
 * is what its failure would wait were every attempt pending before it to
 * fail first: concurrent attempts queue up behind each other's delays, as
 * one after another would, and none can tell its answer from its wait. */
enum sg_throttle_hold sg_throttle_admit(struct sg_throttle *t, const char *key, unsigned hold,
                                        unsigned max_pending, uint64_t now_ms, uint64_t *wait_ms);
/* Gives back the slot a HELD admission took. */
void sg_throttle_release(struct sg_throttle *t, const char *key);

/* The delay for n failures within the window (pure; for tests). */
uint64_t sg_throttle_delay_ms(unsigned n);

#endif
