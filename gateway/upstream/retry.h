/* Retrying a failed upstream request: when to wait, and whether the backend
 * can afford another try. Pure arithmetic, one instance per backend-worker,
 * so it is tested without a network. */
#ifndef SG_RETRY_H
#define SG_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#define SG_RETRY_BASE_MS 25
#define SG_RETRY_CAP_MS 250
/* Retries a quiet backend-worker may spend before requests have paid for any. */
#define SG_RETRY_RESERVE 10.0

/* Full-jitter backoff (a uniform draw in [0, min(cap, base * 2^attempt)]),
 * attempt 0 for the first retry. r is a uniform random 32-bit value. */
uint64_t sg_retry_backoff_ms(unsigned attempt, uint32_t r);

/* A token bucket: each request deposits percent/100 of a retry, each retry
 * withdraws one, the bucket holds at most SG_RETRY_RESERVE (and starts full).
 * So under a lasting outage retries stay within percent of the requests,
 * instead of multiplying the load on a backend that is already failing. */
struct sg_retry_budget {
    double tokens;
    double per_request;
};

void sg_retry_budget_init(struct sg_retry_budget *b, unsigned percent);
void sg_retry_budget_deposit(struct sg_retry_budget *b);
/* Takes one retry from the budget; false (nothing taken) when it is spent. */
bool sg_retry_budget_withdraw(struct sg_retry_budget *b);

#endif
