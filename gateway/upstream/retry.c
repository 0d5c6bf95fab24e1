#include "upstream/retry.h"

uint64_t sg_retry_backoff_ms(unsigned attempt, uint32_t r)
{
    uint64_t ceiling = SG_RETRY_BASE_MS;
    for (unsigned i = 0; i < attempt && ceiling < SG_RETRY_CAP_MS; i++)
        ceiling *= 2;
    if (ceiling > SG_RETRY_CAP_MS)
        ceiling = SG_RETRY_CAP_MS;
    /* Inclusive of the ceiling: r / 2^32 * (ceiling + 1), floored. */
    return ((uint64_t)r * (ceiling + 1)) >> 32;
}

void sg_retry_budget_init(struct sg_retry_budget *b, unsigned percent)
{
    b->tokens = SG_RETRY_RESERVE;
    b->per_request = (double)percent / 100.0;
}

void sg_retry_budget_deposit(struct sg_retry_budget *b)
{
    b->tokens += b->per_request;
    if (b->tokens > SG_RETRY_RESERVE)
        b->tokens = SG_RETRY_RESERVE;
}

bool sg_retry_budget_withdraw(struct sg_retry_budget *b)
{
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}
