/*
 * ratelimit: token buckets (see ratelimit.h). Tokens are counted in
 * thousandths so that refilling needs no floating point: a bucket gains
 * rate_per_s thousandths per millisecond, and a request costs 1000.
 */
#include "master/ratelimit.h"

#include <stdlib.h>
#include <time.h>

#define COST 1000

struct ratelimit_bucket {
	int64_t tokens; /* thousandths of a request */
	int64_t at_ms; /* when tokens was computed */
};

int64_t
ratelimit_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
ratelimit_init(struct ratelimit *rl, int64_t rate_per_s, int64_t burst)
{
	rl->rate_per_s = rate_per_s;
	rl->burst = burst;
	strmap_init(&rl->buckets);
}

static int
free_cb(void *arg, const char *key, void *value)
{
	free(value);
	return 0;
}

void
ratelimit_cleanup(struct ratelimit *rl)
{
	strmap_foreach(&rl->buckets, free_cb, NULL);
	strmap_cleanup(&rl->buckets);
}

static void
refill(const struct ratelimit *rl, struct ratelimit_bucket *b, int64_t now_ms)
{
	int64_t full = rl->burst * COST, elapsed = now_ms - b->at_ms;

	if (elapsed > 0) {
		/* no overflow: elapsed is capped at the time to fill up */
		if (elapsed > full / rl->rate_per_s + 1)
			elapsed = full / rl->rate_per_s + 1;
		b->tokens += elapsed * rl->rate_per_s;
		if (b->tokens > full)
			b->tokens = full;
		b->at_ms = now_ms;
	}
}

int
ratelimit_take(struct ratelimit *rl, const char *key, int64_t now_ms,
    int64_t *retry_after_s)
{
	struct ratelimit_bucket *b;

	if (rl->rate_per_s <= 0)
		return 0;
	b = strmap_get(&rl->buckets, key);
	if (b == NULL) {
		if (rl->buckets.count >= RATELIMIT_MAX_BUCKETS)
			ratelimit_prune(rl, now_ms);
		b = rl->buckets.count < RATELIMIT_MAX_BUCKETS
		    ? malloc(sizeof(*b))
		    : NULL;
		if (b == NULL ||
		    strmap_put(&rl->buckets, key, b, NULL, NULL) < 0) {
			free(b);
			*retry_after_s = 1;
			return -1;
		}
		b->tokens = rl->burst * COST;
		b->at_ms = now_ms;
	}
	refill(rl, b, now_ms);
	if (b->tokens < COST) {
		*retry_after_s =
		    (COST - b->tokens) / (rl->rate_per_s * 1000) + 1;
		return -1;
	}
	b->tokens -= COST;
	return 0;
}

struct prune_ctx {
	struct ratelimit *rl;
	int64_t now_ms;
	const char *keys[256];
	int n;
};

static int
prune_cb(void *arg, const char *key, void *value)
{
	struct prune_ctx *pc = arg;

	refill(pc->rl, value, pc->now_ms);
	if (((struct ratelimit_bucket *)value)->tokens >= pc->rl->burst * COST)
		pc->keys[pc->n++] = key;
	return pc->n == (int)(sizeof(pc->keys) / sizeof(pc->keys[0]));
}

void
ratelimit_prune(struct ratelimit *rl, int64_t now_ms)
{
	struct prune_ctx pc;

	/* The map may not change while it is walked: collect a batch of
	 * full buckets, drop them, walk again until none is left. */
	do {
		pc.rl = rl;
		pc.now_ms = now_ms;
		pc.n = 0;
		strmap_foreach(&rl->buckets, prune_cb, &pc);
		for (int i = 0; i < pc.n; i++)
			free(strmap_del(&rl->buckets, pc.keys[i]));
	} while (pc.n == (int)(sizeof(pc.keys) / sizeof(pc.keys[0])));
}
