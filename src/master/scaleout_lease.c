/*
 * scaleout_lease: whether a worker can be trusted with executions, and
 * what an execution loses when it cannot (see scaleout.h, "The lease").
 * A worker is alive while it holds a poll or has polled within
 * worker_lease_s; each pass (scaleout.c) checks every assigned or
 * running execution here before it dispatches the queued ones
 * (scaleout_dispatch.c): an execution whose worker is gone, offline or
 * blocked, or whose start will never run, ends its attempt and is queued
 * again or fails.
 */
#include "master/scaleout.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/strmap.h"
#include "common/timefmt.h"
#include "master/longpoll.h"
#include "master/master.h"
#include "master/scaleout_int.h"
#include "master/scaleout_pick.h"
#include "store/store.h"

/* An execution assigned this long without a run has its start looked up. */
#define START_GRACE_S 3

void
scaleout_note_time(struct strmap *map, const char *name, int64_t now)
{
	int64_t *at = strmap_get(map, name);
	struct cerr err;

	if (at == NULL) {
		at = malloc(sizeof(*at));
		if (at == NULL || strmap_put(map, name, at, NULL, &err) < 0) {
			free(at);
			return;
		}
	}
	*at = now;
}

void
scaleout_resynced(struct master *m, const char *worker)
{
	if (m->scaleout != NULL) {
		scaleout_note_time(
		    &m->scaleout->resynced_at, worker, master_now());
		scaleout_kick(m);
	}
}

int
scaleout_worker_alive(
    struct master *m, const struct store_target *t, int64_t now)
{
	struct scaleout *so = m->scaleout;
	int64_t seen = t->last_poll, *held;

	if (t->defected)
		return 0;
	if (longpoll_is_waiting(m, t->name)) {
		if (so != NULL)
			scaleout_note_time(&so->held_at, t->name, now);
		return 1;
	}
	held = so != NULL ? strmap_get(&so->held_at, t->name) : NULL;
	if (held != NULL && *held > seen)
		seen = *held;
	return seen > 0 && now - seen <= m->conf->worker_lease_s;
}

/* Whether this master became active so recently that worker t, which
 * may have run an execution all along, has not yet had its poll interval
 * (the longest it waits to reconnect) and a lease to come back: its
 * executions are not judged lost yet. It is not picked meanwhile unless
 * alive. */
int
scaleout_in_grace(struct master *m, const struct store_target *t, int64_t now)
{
	const struct scaleout *so = m->scaleout;

	return so != NULL && so->active_since > 0 &&
	    now - so->active_since <=
	    m->conf->worker_lease_s + t->poll_interval_s;
}

/* See scaleout_int.h. */
int
scaleout_end_attempt(struct master *m, struct open_exec *x, const char *what,
    int uncounted, int64_t now, struct cerr *err)
{
	char reason[SCALEOUT_WHY_MAX];
	int again = uncounted || x->e.attempt < 1 + x->e.retries;

	snprintf(reason, sizeof(reason), "attempt %lld %s%s",
	    (long long)x->e.attempt, what,
	    uncounted   ? "; it did not run, so it is not counted; queued again"
		: again ? "; queued again"
			: "; no retries left");
	if (uncounted)
		x->e.attempt--;
	log_warn("execution_attempt_ended", "id=%lld job=%s worker=%s msg=%s",
	    (long long)x->e.id, x->e.job, x->e.worker, LOG_TEXT(reason));
	if (scaleout_set_reason(x, reason, err) < 0)
		return -1;
	if (again) {
		x->e.status = EXEC_QUEUED;
		x->e.worker[0] = '\0';
		x->e.instr_id = 0;
		x->e.assigned_at = 0;
		x->e.started_at = 0;
	} else {
		x->e.status = EXEC_FAILED;
		x->e.finished_at = now;
	}
	return store_exec_update(m->store, &x->e, err);
}

struct start_find {
	int64_t id;
	int found;
	enum instr_status status;
	int cleared;
};

static int
start_cb(void *arg, const struct store_instr *in)
{
	struct start_find *f = arg;

	f->found = 1;
	f->status = in->status;
	f->cleared = in->cleared;
	return 0;
}

/* Where an assigned execution's start stands: found, with its status, or
 * not found (dropped by a resync, or trimmed once applied). */
static int
find_start(struct pass *p, const struct open_exec *x, struct start_find *f)
{
	memset(f, 0, sizeof(*f));
	f->id = x->e.instr_id;
	if (store_instr_get(p->m->store, f->id, start_cb, f, p->err) == 0)
		return 0;
	return p->err->code == CERR_NOT_FOUND ? 0 : -1;
}

/* An assigned execution whose start will never run: it failed on the
 * worker (counted: the worker refused it, and would again), or a resync
 * of the worker after the assignment dropped it (not counted: it never
 * reached the worker's runs). 1 with what and *uncounted set, else 0. */
static int
start_never_runs(struct pass *p, struct open_exec *x,
    const struct start_find *f, char *what, size_t size, int *uncounted)
{
	const int64_t *resynced =
	    strmap_get(&p->m->scaleout->resynced_at, x->e.worker);

	if (f->found && f->status == INSTR_FAILED) {
		snprintf(what, size,
		    "was not run: its start (instruction %lld) failed on "
		    "worker %s",
		    (long long)x->e.instr_id, x->e.worker);
		return 1;
	}
	if (f->found || resynced == NULL || *resynced < x->e.assigned_at)
		return 0;
	snprintf(what, size,
	    "was not run: a resync or defect of worker %s dropped its "
	    "start (instruction %lld)",
	    x->e.worker, (long long)x->e.instr_id);
	*uncounted = 1;
	return 1;
}

/* An assigned or running execution whose worker can no longer be
 * trusted with it, or whose start will never run. An attempt whose start
 * the worker never downloaded (or that will never run) is not counted
 * against the retries: it certainly did not run. */
int
scaleout_check_lease(struct pass *p, struct open_exec *x)
{
	struct scaleout_candidate *w = scaleout_worker_state(p, x->e.worker);
	char what[SCALEOUT_WHY_MAX], at[TIMEFMT_MAX];
	struct start_find f = {0};
	int uncounted = 0, withdrawn = 0;

	/* A start is normally running within a second; only a slow one is
	 * looked up, or one of a blocked worker. One the worker never
	 * downloaded is not counted if the attempt is lost: it certainly
	 * did not run. */
	if (x->e.status == EXEC_ASSIGNED && w != NULL &&
	    (p->now - x->e.assigned_at >= START_GRACE_S ||
		(!w->alive && !p->grace[w - p->state]) || w->blocked)) {
		if (find_start(p, x, &f) < 0)
			return -1;
		uncounted = f.found && f.status == INSTR_PENDING;
	}
	if (f.id > 0 &&
	    start_never_runs(p, x, &f, what, sizeof(what), &uncounted))
		;
	else if (w != NULL && w->blocked && f.found &&
	    (f.status == INSTR_PENDING || f.status == INSTR_DOWNLOADED)) {
		/* Blocked before its start: the worker applies nothing after
		 * the failure, and records the start's ack before the
		 * failure's when the start came first (so a start that ran
		 * is 'applied' here). Taken back, it never runs, even once
		 * the failure is cleared. A blocked worker whose start was
		 * applied keeps the execution: its run reports as usual. */
		switch (store_instr_withdraw(p->m->store, f.id, p->err)) {
		case -1:
			return -1;
		case 0:
			return 0;
		}
		snprintf(what, sizeof(what),
		    "was not run: worker %s is blocked by a failed instruction "
		    "before its start (instruction %lld, withdrawn)",
		    x->e.worker, (long long)f.id);
		uncounted = withdrawn = 1;
	} else if (w == NULL)
		snprintf(what, sizeof(what), "lost: worker %s was deleted",
		    x->e.worker);
	else if (!w->alive && !p->grace[w - p->state])
		snprintf(what, sizeof(what),
		    "lost: worker %s stopped polling (last poll %s, lease %lld "
		    "s)",
		    x->e.worker,
		    w->last_poll > 0 ? timefmt_utc(w->last_poll, at) : "never",
		    (long long)p->m->conf->worker_lease_s);
	else
		return 0;
	/* If the worker comes back, it stops the run it may still have. */
	if (w != NULL && !withdrawn &&
	    scaleout_post_op(
		p, x->e.worker, INSTR_STOP, x->e.job, x->e.instr_id, NULL) < 0)
		return -1;
	if (w != NULL && w->active > 0)
		w->active--;
	if (scaleout_end_attempt(p->m, x, what, uncounted, p->now, p->err) < 0)
		return -1;
	return x->e.status == EXEC_FAILED ? scaleout_notify_failed(p, x) : 0;
}
