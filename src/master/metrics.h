/*
 * metrics: what GET /metrics reports, in the Prometheus text format 0.0.4.
 * struct metrics is the master's in-memory counters (polls, instructions
 * posted and acknowledged, runs by outcome, HTTP replies and their
 * latency), bumped where each thing happens and reset at restart, as
 * Prometheus counters may be. The gauges (targets by status, held polls,
 * the lease) are read from the store and memory at scrape time. The
 * writer functions build the text into a struct buf; they are pure, so a
 * unit test checks the format without a master.
 */
#ifndef COHORT_METRICS_H
#define COHORT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/cerr.h"
#include "common/wire.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* Replies 100..599 are counted by code; anything else as 0. */
#define METRICS_CODE_MIN 100
#define METRICS_CODE_MAX 599
/* Request latency buckets, seconds: METRICS_BUCKET_BOUNDS in metrics.c
 * and one more for +Inf. */
#define METRICS_BUCKETS 8

/* The statuses of status.c, as label values. */
enum metrics_status {
	METRICS_NORMAL,
	METRICS_BLOCKED,
	METRICS_OFFLINE,
	METRICS_DEFECTED,
	METRICS_STATUS_COUNT
};

struct metrics {
	uint64_t polls; /* polls received */
	uint64_t posted; /* instructions posted */
	uint64_t applied; /* acknowledged as applied */
	uint64_t failed; /* acknowledged as failed */
	uint64_t runs[OUTCOME_COUNT]; /* job-level run reports stored */
	uint64_t codes[METRICS_CODE_MAX - METRICS_CODE_MIN + 2];
	/* Latency: per bucket (not cumulative; the last is +Inf). */
	uint64_t buckets[METRICS_BUCKETS];
	uint64_t observed;
	int64_t observed_sum_us;
};

/* The values read at scrape time. */
struct metrics_gauges {
	int64_t targets[METRICS_STATUS_COUNT];
	int64_t polls_held;
	int64_t unread; /* instructions not yet acknowledged */
	int lease_active;
	const char *version;
	int64_t exec_queued; /* scale-out executions waiting */
	int64_t exec_active; /* assigned or running */
};

/* A reply with HTTP status code. duration_us >= 0 also observes its
 * latency; a deferred reply (a held poll) passes -1: its time is the
 * hold, not the master's work. */
void metrics_http(struct metrics *mx, int status, int64_t duration_us);

/* The status label of a status_of_target() string; -1 when unknown. */
int metrics_status_index(const char *status);

/* The family's "# HELP" and "# TYPE" lines. */
int metrics_write_head(struct buf *b, const char *name, const char *type,
    const char *help, struct cerr *err);
/* One sample: name{label="value"} n, or name n when label is NULL. The
 * label value is escaped (backslash, double quote, newline). */
int metrics_write_sample(struct buf *b, const char *name, const char *label,
    const char *value, uint64_t n, struct cerr *err);
/* A histogram: cumulative _bucket lines (bounds[i] seconds, then +Inf)
 * from per-bucket counts (nbounds + 1 of them), _sum and _count. */
int metrics_write_histogram(struct buf *b, const char *name, const char *help,
    const double *bounds, size_t nbounds, const uint64_t *counts,
    int64_t sum_us, struct cerr *err);

/* Everything but the per-target series: the counters of mx and g. */
int metrics_write(const struct metrics *mx, const struct metrics_gauges *g,
    struct buf *b, struct cerr *err);

#endif
