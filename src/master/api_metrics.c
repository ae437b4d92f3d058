/*
 * api_metrics: GET /metrics, the Prometheus text format 0.0.4 (metrics.h
 * writes it). Readers call it with their certificate like any other read:
 * a scraper is given a viewer certificate. A standby answers it too
 * (cohort_lease_active 0), so both masters of a pair can be scraped.
 *
 * One pass over the targets counts them by status and writes the
 * per-target series (one line per target); the counters come from
 * m->metrics.
 */
#include <string.h>

#include "common/version.h"
#include "master/api.h"
#include "master/lease.h"
#include "master/master.h"
#include "master/metrics.h"
#include "master/status.h"
#include "store/store.h"

/* 10,000 targets at some 200 bytes each, with room to spare. */
#define METRICS_MAX_BYTES ((size_t)32 * 1024 * 1024)

/* Open executions counted for the queue's gauges. */
#define EXECS_COUNTED 100000

static int
exec_cb(void *arg, const struct store_exec *e)
{
	struct metrics_gauges *g = arg;

	if (e->status == EXEC_QUEUED)
		g->exec_queued++;
	else
		g->exec_active++;
	return 0;
}

struct scrape {
	struct master *m;
	struct metrics_gauges g;
	struct buf dropped; /* the per-target series */
	int64_t now;
	int failed;
	struct cerr err;
};

static int
target_cb(void *arg, const struct store_target *t)
{
	struct scrape *s = arg;
	int i = metrics_status_index(status_of_target(s->m, t, s->now));

	if (i >= 0)
		s->g.targets[i]++;
	s->g.unread += t->unread;
	if (metrics_write_sample(&s->dropped,
		"cohort_target_outbox_dropped_total", "target", t->name,
		(uint64_t)t->outbox_dropped, &s->err) < 0) {
		s->failed = 1;
		return 1; /* stops the listing */
	}
	return 0;
}

static int
scrape(struct scrape *s, struct buf *out, struct cerr *err)
{
	if (metrics_write_head(&s->dropped,
		"cohort_target_outbox_dropped_total", "counter",
		"Outbox records a target dropped when its outbox was full, as of "
		"its last poll.",
		err) < 0 ||
	    store_target_list(s->m->store, target_cb, s, err) < 0)
		return -1;
	if (s->failed) {
		*err = s->err;
		return -1;
	}
	if (store_exec_list(s->m->store, STORE_EXECS_OPEN, EXECS_COUNTED,
		exec_cb, &s->g, err) < 0)
		return -1;
	s->g.polls_held = (int64_t)s->m->waiters.count;
	s->g.lease_active = lease_is_active(s->m);
	s->g.version = version_string();
	if (metrics_write(&s->m->metrics, &s->g, out, err) < 0 ||
	    buf_append(out, s->dropped.data, s->dropped.len, err) < 0)
		return -1;
	return 0;
}

void
api_metrics(struct http_req *r)
{
	struct scrape s;
	struct buf out;
	struct cerr err;

	memset(&s, 0, sizeof(s));
	s.m = r->m;
	s.now = master_now();
	buf_init(&s.dropped, METRICS_MAX_BYTES);
	buf_init(&out, METRICS_MAX_BYTES);
	if (scrape(&s, &out, &err) < 0)
		http_reply_error(r, &err);
	else
		http_reply_text(
		    r, 200, METRICS_CONTENT_TYPE, buf_str(&out), out.len);
	buf_cleanup(&s.dropped);
	buf_cleanup(&out);
}
