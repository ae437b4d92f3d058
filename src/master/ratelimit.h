/*
 * ratelimit: a token bucket per client, keyed by certificate serial (or,
 * for anonymous calls, by address). A bucket holds up to burst requests
 * and refills at rate_per_s; a request finding it empty is refused with
 * 429 rate_limited and told when to come back. A target's polls and
 * uploads are a few per poll interval, far below the defaults, so the
 * limit only bites a client that floods.
 *
 * Buckets that have refilled completely carry no information and are
 * dropped by ratelimit_prune() (the master's housekeeping); the number of
 * buckets is capped, and a newcomer past the cap is refused, so a flood
 * of addresses cannot grow the table without bound.
 */
#ifndef COHORT_RATELIMIT_H
#define COHORT_RATELIMIT_H

#include <stdint.h>

#include "common/strmap.h"

#define RATELIMIT_MAX_BUCKETS 200000

struct ratelimit {
	int64_t rate_per_s; /* 0: no limit */
	int64_t burst;
	struct strmap buckets; /* key -> struct ratelimit_bucket */
};

void ratelimit_init(struct ratelimit *rl, int64_t rate_per_s, int64_t burst);
void ratelimit_cleanup(struct ratelimit *rl);

/* Takes one request from key's bucket at now_ms (monotonic). 0: allowed;
 * -1: refused, *retry_after_s says when one will be available. */
int ratelimit_take(struct ratelimit *rl, const char *key, int64_t now_ms,
    int64_t *retry_after_s);

/* The monotonic clock the buckets run on, in ms. */
int64_t ratelimit_now_ms(void);

/* Drops the buckets that are full again at now_ms. */
void ratelimit_prune(struct ratelimit *rl, int64_t now_ms);

#endif
