/*
 * metrics: the master's counters and the Prometheus text writer (see
 * metrics.h). Names are fixed here; the only label values from outside
 * are target names (validated when the target enlisted) and they are
 * escaped all the same.
 */
#include "master/metrics.h"

#include <stdio.h>
#include <string.h>

/* Request latency bucket bounds, seconds (METRICS_BUCKETS - 1 of them). */
static const double bucket_bounds[METRICS_BUCKETS - 1] = {
    0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10};

static const char *const status_names[METRICS_STATUS_COUNT] = {
    [METRICS_NORMAL] = "normal",
    [METRICS_BLOCKED] = "blocked",
    [METRICS_OFFLINE] = "suspected_offline",
    [METRICS_DEFECTED] = "defected",
};

void
metrics_http(struct metrics *mx, int status, int64_t duration_us)
{
	size_t i = 0;

	if (status >= METRICS_CODE_MIN && status <= METRICS_CODE_MAX)
		i = (size_t)(status - METRICS_CODE_MIN) + 1;
	mx->codes[i]++;
	if (duration_us < 0)
		return;
	for (i = 0; i < METRICS_BUCKETS - 1; i++)
		if ((double)duration_us <= bucket_bounds[i] * 1e6)
			break;
	mx->buckets[i]++;
	mx->observed++;
	mx->observed_sum_us += duration_us;
}

int
metrics_status_index(const char *status)
{
	/* status.c says "suspected offline"; a label value says it with
	 * an underscore, as Prometheus label values usually do. */
	if (strcmp(status, "suspected offline") == 0)
		return METRICS_OFFLINE;
	for (int i = 0; i < METRICS_STATUS_COUNT; i++)
		if (strcmp(status, status_names[i]) == 0)
			return i;
	return -1;
}

/* Appends s with the characters the format escapes: backslash and
 * newline always, the double quote in label values. */
static int
put_escaped(struct buf *b, const char *s, int quote, struct cerr *err)
{
	for (; *s != '\0'; s++) {
		int rc;

		if (*s == '\\')
			rc = buf_puts(b, "\\\\", err);
		else if (*s == '\n')
			rc = buf_puts(b, "\\n", err);
		else if (*s == '"' && quote)
			rc = buf_puts(b, "\\\"", err);
		else
			rc = buf_append(b, s, 1, err);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int
metrics_write_head(struct buf *b, const char *name, const char *type,
    const char *help, struct cerr *err)
{
	if (buf_printf(b, err, "# HELP %s ", name) < 0 ||
	    put_escaped(b, help, 0, err) < 0 ||
	    buf_printf(b, err, "\n# TYPE %s %s\n", name, type) < 0)
		return -1;
	return 0;
}

int
metrics_write_sample(struct buf *b, const char *name, const char *label,
    const char *value, uint64_t n, struct cerr *err)
{
	if (buf_puts(b, name, err) < 0)
		return -1;
	if (label != NULL &&
	    (buf_printf(b, err, "{%s=\"", label) < 0 ||
		put_escaped(b, value, 1, err) < 0 ||
		buf_puts(b, "\"}", err) < 0))
		return -1;
	return buf_printf(b, err, " %llu\n", (unsigned long long)n);
}

int
metrics_write_histogram(struct buf *b, const char *name, const char *help,
    const double *bounds, size_t nbounds, const uint64_t *counts,
    int64_t sum_us, struct cerr *err)
{
	uint64_t total = 0;

	if (metrics_write_head(b, name, "histogram", help, err) < 0)
		return -1;
	for (size_t i = 0; i <= nbounds; i++) {
		total += counts[i];
		if ((i < nbounds
			    ? buf_printf(b, err,
				  "%s_bucket{le=\"%g\"} "
				  "%llu\n",
				  name, bounds[i], (unsigned long long)total)
			    : buf_printf(b, err,
				  "%s_bucket{le=\"+Inf\"} %llu\n", name,
				  (unsigned long long)total)) < 0)
			return -1;
	}
	return buf_printf(b, err, "%s_sum %lld.%06lld\n%s_count %llu\n", name,
	    (long long)(sum_us / 1000000), (long long)(sum_us % 1000000), name,
	    (unsigned long long)total);
}

/* A family of one unlabelled sample. */
static int
write_one(struct buf *b, const char *name, const char *type, const char *help,
    uint64_t n, struct cerr *err)
{
	if (metrics_write_head(b, name, type, help, err) < 0)
		return -1;
	return metrics_write_sample(b, name, NULL, NULL, n, err);
}

static int
write_targets(const struct metrics_gauges *g, struct buf *b, struct cerr *err)
{
	if (metrics_write_head(b, "cohort_targets", "gauge",
		"Targets by status (defected rows are kept).", err) < 0)
		return -1;
	for (int i = 0; i < METRICS_STATUS_COUNT; i++)
		if (metrics_write_sample(b, "cohort_targets", "status",
			status_names[i], (uint64_t)g->targets[i], err) < 0)
			return -1;
	return 0;
}

static int
write_runs(const struct metrics *mx, struct buf *b, struct cerr *err)
{
	if (metrics_write_head(b, "cohort_runs_total", "counter",
		"Job run reports stored, by outcome (the job's own row, not its "
		"steps).",
		err) < 0)
		return -1;
	for (int o = 0; o < OUTCOME_COUNT; o++)
		if (o != OUTCOME_RUNNING &&
		    metrics_write_sample(b, "cohort_runs_total", "outcome",
			run_outcome_name(o), mx->runs[o], err) < 0)
			return -1;
	return 0;
}

static int
write_http(const struct metrics *mx, struct buf *b, struct cerr *err)
{
	char code[16];

	if (metrics_write_head(b, "cohort_http_requests_total", "counter",
		"HTTP replies by status code (0: outside 100..599).", err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(mx->codes) / sizeof(mx->codes[0]); i++) {
		if (mx->codes[i] == 0)
			continue;
		snprintf(code, sizeof(code), "%d",
		    i ? (int)i - 1 + METRICS_CODE_MIN : 0);
		if (metrics_write_sample(b, "cohort_http_requests_total",
			"code", code, mx->codes[i], err) < 0)
			return -1;
	}
	return metrics_write_histogram(b,
	    "cohort_http_request_duration_seconds",
	    "Time to answer a request "
	    "in the master, held polls excluded.",
	    bucket_bounds, METRICS_BUCKETS - 1, mx->buckets,
	    mx->observed_sum_us, err);
}

int
metrics_write(const struct metrics *mx, const struct metrics_gauges *g,
    struct buf *b, struct cerr *err)
{
	if (metrics_write_head(b, "cohort_build_info", "gauge",
		"The master's version.", err) < 0 ||
	    metrics_write_sample(
		b, "cohort_build_info", "version", g->version, 1, err) < 0 ||
	    write_one(b, "cohort_lease_active", "gauge",
		"1 on the active master, 0 on a standby.", g->lease_active != 0,
		err) < 0 ||
	    write_targets(g, b, err) < 0 ||
	    write_one(b, "cohort_polls_total", "counter",
		"Polls received from targets.", mx->polls, err) < 0 ||
	    write_one(b, "cohort_polls_held", "gauge",
		"Polls held open now, waiting for an instruction.",
		(uint64_t)g->polls_held, err) < 0 ||
	    write_one(b, "cohort_instructions_unread", "gauge",
		"Instructions posted and not yet acknowledged (pending or "
		"downloaded), over all targets: the download lists' depth.",
		(uint64_t)g->unread, err) < 0 ||
	    write_one(b, "cohort_executions_queued", "gauge",
		"Scale-out executions waiting for a worker: the queue's "
		"depth.",
		(uint64_t)g->exec_queued, err) < 0 ||
	    write_one(b, "cohort_executions_active", "gauge",
		"Scale-out executions assigned to a worker or running.",
		(uint64_t)g->exec_active, err) < 0 ||
	    write_one(b, "cohort_instructions_posted_total", "counter",
		"Instructions posted to download lists.", mx->posted,
		err) < 0 ||
	    write_one(b, "cohort_instructions_applied_total", "counter",
		"Instructions targets acknowledged as applied.", mx->applied,
		err) < 0 ||
	    write_one(b, "cohort_instructions_failed_total", "counter",
		"Instructions targets acknowledged as failed.", mx->failed,
		err) < 0 ||
	    write_runs(mx, b, err) < 0 || write_http(mx, b, err) < 0)
		return -1;
	return 0;
}
