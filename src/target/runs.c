/*
 * runs: turns queued rows of the run ledger into running jobs and their
 * ends into records (runlog.c). A master job's run start and end are each
 * one outbox record (the master keeps the latest), written in the same
 * transaction as the ledger change, so what the master eventually sees
 * always matches the ledger. A run is marked running before its first
 * step can exec, and each step's process group is recorded before it may
 * exec, so a run found "running" at start-up was cut off by a crash or
 * stop: whatever it left running is killed and it is recorded as
 * interrupted, never started again (runs_recover.c). When the store
 * refuses a write (a full disk) nothing is started and finished runs wait
 * in memory; a timer tries again (runs_record.c).
 *
 * Overlap: one run of a job at a time. A queued run of a job that is
 * running is refused (recorded canceled with the reason) under the job's
 * overlap policy "refuse", and left queued until the running one ends
 * under "queue". Such waiting runs are passed over where the queue is
 * listed, so however many of them a busy job has, the runs of other jobs
 * queued behind them are reached (kick_cb).
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/jobdoc.h"
#include "common/json.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/runner.h"
#include "common/runrec.h"
#include "common/timefmt.h"
#include "target/events.h"
#include "target/jobrun.h"
#include "target/interrupted.h"
#include "target/orphan.h"
#include "target/runs_int.h"
#include "target/runlog.h"
#include "target/scheduler.h"
#include "target/target.h"
#include "target/tstore.h"

#define RUNS_STALLED (-2)
#define RUNS_WAITING 1
/* Queued runs one pass of kick_cb looks at, waiting ones included: the
 * pass ends there and the next, on the next turn of the event loop,
 * takes up after the last one seen. */
#define RUNS_KICK_SCAN_MAX 1024

static struct active_run *
find_active_job(struct target *t, const char *job)
{
	for (struct active_run *a = t->runs; a != NULL; a = a->next)
		if (strcmp(jobrun_job(a->jr)->name, job) == 0)
			return a;
	return NULL;
}

static void
reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct target *t = arg;

	for (int i = 0; i < t->nfinished; i++)
		jobrun_free(t->finished[i]);
	t->nfinished = 0;
}

/* The events a finished run raises: each step attempt that timed out
 * (warning) and the run's failure (error). */
static void
run_events(struct target *t, const struct run_report *rep)
{
	for (size_t i = 0; i < rep->nsteps; i++) {
		const struct run_step_rec *s = &rep->steps[i];

		if (s->timed_out)
			events_raise(t, EVENT_WARNING, EVENT_STEP_TIMEOUT,
			    rep->job, rep->target_run_id,
			    "job %s, step %d "
			    "(%s), attempt %d: %s",
			    rep->job, s->step, s->step_name, s->attempt,
			    s->message);
	}
	if (rep->outcome == OUTCOME_FAILED)
		events_raise(t, EVENT_ERROR, EVENT_JOB_FAILED, rep->job,
		    rep->target_run_id, "job %s failed on %s: %s", rep->job,
		    t->conf->name, rep->message);
}

static void
run_done(void *arg, struct jobrun *jr, struct run_report *rep)
{
	struct target *t = arg;
	struct timeval now = {0, 0};
	int local = 0;

	for (struct active_run **p = &t->runs; *p != NULL; p = &(*p)->next) {
		if ((*p)->jr == jr) {
			struct active_run *a = *p;

			local = a->local;
			*p = a->next;
			free(a);
			break;
		}
	}
	log_info("run_finished", "run=%lld job=%s outcome=%s",
	    (long long)rep->target_run_id, rep->job,
	    run_outcome_name(rep->outcome));
	run_events(t, rep);
	runs_record_finished(t, rep, local, jobrun_job(jr));
	/* jr may not be freed inside its own callback. */
	if (t->nfinished == (int)(sizeof(t->finished) / sizeof(t->finished[0])))
		reap_cb(-1, 0, t);
	t->finished[t->nfinished++] = jr;
	evtimer_add(t->reap, &now);
	scheduler_run_ended(t, jobrun_job(jr)->name);
	runs_kick(t);
}

static void
job_free_cb(struct job *job)
{
	job_free(job);
}

/* Records the step's process group and its attempt before the step may
 * exec (see runner_spec.on_spawn), so a restart after a crash of the
 * daemon can kill the group and record the attempt cut off. The commit
 * does not wait for the disk: a crash of the daemon leaves it in the
 * kernel's page cache, and a power cut that loses it has killed the
 * process group too. */
static int
step_spawned(
    void *arg, const struct jobrun_attempt *at, pid_t pgid, struct cerr *err)
{
	struct target *t = arg;
	struct tstore_step row = {at->step, at->attempt, at->step_name,
	    run_outcome_name(OUTCOME_RUNNING), -1, at->started_ms, 0, ""};
	struct orphan_stat st;

	if (orphan_read_stat(pgid, &st, err) < 0 ||
	    tstore_begin_unsynced(t->store, err) < 0)
		return cerr_wrap(err, "cannot record the step's process group");
	if (tstore_run_set_pgid(t->store, at->target_run_id, pgid,
		(int64_t)st.start_ticks, err) < 0 ||
	    tstore_step_put(t->store, at->target_run_id, &row, err) < 0 ||
	    tstore_commit(t->store, err) < 0) {
		tstore_rollback(t->store);
		return cerr_wrap(err, "cannot record the step's process group");
	}
	upload_kick_soon(t);
	return 0;
}

/* Records an attempt's end in the ledger, for a restart that finds the
 * run cut off later on: without it the attempt would count as the one
 * cut off. Not synced, as step_spawned's. A failure loses only that
 * detail of a crash's record: logged, the run goes on. */
static void
step_ended(void *arg, int64_t run_id, const struct run_step_rec *rec)
{
	struct target *t = arg;
	struct tstore_step row = {rec->step, rec->attempt, rec->step_name,
	    run_outcome_name(rec->outcome), rec->exit_code, rec->started_ms,
	    rec->duration_ms, rec->message};
	struct cerr err;

	if (tstore_begin_unsynced(t->store, &err) < 0)
		goto fail;
	if (tstore_step_put(t->store, run_id, &row, &err) < 0 ||
	    tstore_commit(t->store, &err) < 0) {
		tstore_rollback(t->store);
		goto fail;
	}
	return;
fail:
	log_warn("step_unrecorded", "run=%lld step=%d attempt=%d msg=%s",
	    (long long)run_id, rec->step, rec->attempt, LOG_TEXT(err.msg));
}

/* A queued run, as listed from the ledger. */
struct queued {
	int64_t run_id;
	int64_t instr_id;
	int64_t due_at;
	int64_t started_ms; /* a running one's */
	int local;
	char job[JOB_NAME_MAX + 1];
};

/* The job of a queued run, parsed. */
static int
load_job(struct target *t, const char *name, struct job **out,
    enum job_origin *origin, struct cerr *err)
{
	char *doc = NULL;
	int rc;

	if (tstore_job_get(t->store, name, &doc, origin, err) < 0)
		return -1;
	rc = jobdoc_parse(doc, strlen(doc), out, err);
	free(doc);
	return rc;
}

/* Starts a queued run: 0 started, -1 could not (err says why; the caller
 * ends the run), RUNS_STALLED when the store refused to mark it running
 * (it stays queued and is tried again). The ledger says "running" before
 * any step can run: a crash from then on is recorded interrupted at the
 * next start, never run a second time. */
static int
start_run(struct target *t, const struct queued *q, struct cerr *err)
{
	int64_t run_id = q->run_id, instr_id = q->instr_id;
	const char *name = q->job;
	int local = q->local;
	struct jobrun_params p = {run_id, instr_id, t->conf->name,
	    (size_t)t->conf->max_output_bytes, "/", t->conf, job_free_cb,
	    step_spawned, step_ended, 0};
	int64_t now = timefmt_now_ms(), wait_ms;
	struct run_report *rep = NULL;
	struct active_run *a = NULL;
	enum job_origin origin;
	struct job *job = NULL;

	if (load_job(t, name, &job, &origin, err) < 0)
		return -1;
	/* The job was deleted and one of the other origin took its name. */
	if ((origin == ORIGIN_LOCAL) != local) {
		job_free(job);
		return cerr_set(err, CERR_CONFLICT,
		    "job '%s' was replaced by a %s job of that name before "
		    "this run could start",
		    name, local ? "multiserver" : "local");
	}
	/* A scheduled run made ready just ahead of its instant (scheduler.c)
	 * starts on it: its first step waits for it after its fork. */
	wait_ms = runner_wait_ms(q->due_at * 1000, now);
	now += wait_ms;
	p.not_before_ms = wait_ms > 0 ? now : 0;
	rep = run_report_new(
	    run_id, name, instr_id, now, timefmt_local_offset(now / 1000));
	a = calloc(1, sizeof(*a));
	if (a == NULL || rep == NULL) {
		free(a);
		run_report_free(rep);
		job_free(job);
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	}
	rep->outcome = OUTCOME_RUNNING;
	if (runlog_record(t, rep, TRUN_RUNNING, local, NULL, err) < 0) {
		free(a);
		run_report_free(rep);
		job_free(job);
		return RUNS_STALLED;
	}
	/* The "running" record is uploaded once the first step has spawned
	 * (step_spawned) or the run has ended: an upload kicked here would
	 * run before the step's spawn, and its round trip and the outbox
	 * write after it would delay the process. */
	target_store_ok(t);
	a->run_id = run_id;
	a->local = local;
	/* jobrun owns job from here on, even when it fails to start. */
	a->jr = jobrun_start(t->base, t->runner, job, &p, run_done, t, err);
	if (a->jr == NULL) {
		free(a);
		rep->outcome = OUTCOME_FAILED;
		run_report_set_message(rep, err->msg, err);
		runs_record_finished(t, rep, local, NULL);
		return 0;
	}
	a->next = t->runs;
	t->runs = a;
	log_info("run_started", "run=%lld job=%s instr=%lld", (long long)run_id,
	    name, (long long)instr_id);
	run_report_free(rep);
	return 0;
}

/* Whether a queued run of job would wait: its job runs, and its overlap
 * policy is "queue" (run_done() kicks the queue again when it ends). */
static int
waits_behind(struct target *t, const char *job)
{
	struct active_run *busy = find_active_job(t, job);

	return busy != NULL && jobrun_job(busy->jr)->overlap == OVERLAP_QUEUE;
}

/* Runs of the ledger, a list's worth at a time; master_only: only those
 * of multiserver jobs (a defect's, target/defect.c); not_active: only
 * those nothing runs now (finish_dropped); startable: not those that
 * would wait (waits_behind), and at most RUNS_KICK_SCAN_MAX rows looked
 * at (kick_cb). */
struct queued_list {
	struct target *t;
	int master_only;
	int not_active;
	int startable;
	const char *job; /* only this job's, or NULL */
	struct queued items[64];
	int n;
	int scanned; /* startable: rows looked at */
	int64_t last_seen; /* startable: the last of them */
	int more; /* startable: the listing stopped before the end */
};

static int
queued_cb(void *arg, const struct tstore_run *row)
{
	struct queued_list *q = arg;
	struct queued *e;

	if (q->startable) {
		if (q->scanned == RUNS_KICK_SCAN_MAX) {
			q->more = 1;
			return 1;
		}
		q->scanned++;
		q->last_seen = row->run_id;
		if (waits_behind(q->t, row->job))
			return 0;
	}
	if ((q->master_only && row->local) ||
	    (q->job != NULL && strcmp(q->job, row->job) != 0))
		return 0;
	for (struct active_run *a = q->t->runs; q->not_active && a != NULL;
	     a = a->next)
		if (a->run_id == row->run_id)
			return 0;
	e = &q->items[q->n++];

	e->run_id = row->run_id;
	e->instr_id = row->instr_id;
	e->due_at = row->due_at;
	e->started_ms = row->started_ms;
	e->local = row->local;
	snprintf(e->job, sizeof(e->job), "%s", row->job);
	if (q->n < (int)(sizeof(q->items) / sizeof(q->items[0])))
		return 0;
	q->more = 1;
	return 1;
}

/* 0 started or ended, RUNS_WAITING left queued behind a run of its job
 * ("queue" overlap), RUNS_STALLED when the store refused to start it. */
static int
start_queued(struct target *t, const struct queued *q)
{
	struct active_run *busy = find_active_job(t, q->job);
	char why[256];
	struct cerr err;
	int rc;

	/* "queue": it waits; run_done() kicks the queue again. */
	if (waits_behind(t, q->job))
		return RUNS_WAITING;
	if (busy != NULL) {
		snprintf(why, sizeof(why),
		    "not started: job '%s' is already "
		    "running on target %s (run %lld) and its overlap policy "
		    "is refuse",
		    q->job, t->conf->name, (long long)busy->run_id);
		runs_finish_unstarted(t, q->run_id, q->job, q->local,
		    q->instr_id, OUTCOME_CANCELED, why);
		return 0;
	}
	rc = start_run(t, q, &err);
	if (rc == RUNS_STALLED) {
		target_store_failed(t, &err);
		runs_retry_later(t);
		return rc;
	}
	if (rc < 0)
		runs_finish_unstarted(t, q->run_id, q->job, q->local,
		    q->instr_id, OUTCOME_FAILED, err.msg);
	return 0;
}

static void
kick_again(struct target *t)
{
	struct timeval now = {0, 0};

	evtimer_add(t->runs_kick, &now);
}

/* One pass over the queue, oldest first, from where the last pass that
 * stopped at its bound left off (t->runs_after). Runs that would wait
 * behind a busy job of theirs are passed over without taking a place in
 * the list, so the runs of other jobs behind any number of them are
 * reached; a pass starts at most a list's worth and looks at most at
 * RUNS_KICK_SCAN_MAX rows, then the next pass takes up after the last
 * row seen. Once the end is reached, a kick that came meanwhile has the
 * queue looked at from the oldest again (a run it was about may lie
 * behind where the passes resumed). */
static void
kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct target *t = arg;
	struct queued_list q = {.t = t, .startable = 1};
	int64_t from = t->runs_after;
	struct cerr err;

	t->runs_after = 0;
	/* Outcomes wait for the store: a run ended now (refused, or its job
	 * gone) could not be recorded either, stay queued, and be ended
	 * again on the next kick. record_retry kicks once they are in. */
	if (t->nunrecorded > 0)
		return;
	if (tstore_run_list_after(
		t->store, TRUN_QUEUED, from, queued_cb, &q, &err) < 0) {
		target_store_failed(t, &err);
		runs_retry_later(t);
		return;
	}
	for (int i = 0; i < q.n; i++)
		if (start_queued(t, &q.items[i]) == RUNS_STALLED)
			return;
	if (q.more) {
		t->runs_after = q.last_seen;
		kick_again(t);
		return;
	}
	if (t->runs_rescan) {
		t->runs_rescan = 0;
		if (from > 0)
			kick_again(t);
	}
}

void
runs_kick(struct target *t)
{
	if (t->runs_after > 0)
		t->runs_rescan = 1;
	kick_again(t);
}

int
runs_running(struct target *t, const char *job)
{
	return find_active_job(t, job) != NULL;
}

int
runs_running_since(
    struct target *t, const char *job, int64_t *run_id, int64_t *started_ms)
{
	struct active_run *a = find_active_job(t, job);

	if (a == NULL)
		return 0;
	*run_id = a->run_id;
	*started_ms = jobrun_started_ms(a->jr);
	return 1;
}

/* A queued run never started: it ends as of now. A running one keeps
 * what the ledger holds of it (interrupted.h). */
static void
end_one(struct target *t, const struct queued *q, enum trun_state state,
    enum run_outcome outcome, const char *why)
{
	struct interrupted_run run = {q->run_id, q->job, q->instr_id,
	    q->started_ms, timefmt_now_ms(), CUTOFF_LOST, why};

	if (state == TRUN_RUNNING)
		runs_finish_interrupted(t, &run, q->local);
	else
		runs_finish_unstarted(
		    t, q->run_id, q->job, q->local, q->instr_id, outcome, why);
}

/* Ends, with outcome and why, every run in state that q's filters pick:
 * each round ends the runs it lists, so the next lists the rest. 1 when
 * all are ended; 0 when the store refused a record (the rest waits for
 * the drain) or could not list. */
static int
end_listed(struct target *t, struct queued_list *q, enum trun_state state,
    enum run_outcome outcome, const char *why)
{
	struct cerr err;

	for (int round = 0; round < 10000; round++) {
		q->n = 0;
		if (tstore_run_list_state(t->store, state, queued_cb, q, &err) <
		    0) {
			target_store_failed(t, &err);
			return 0;
		}
		for (int i = 0; i < q->n; i++)
			end_one(t, &q->items[i], state, outcome, why);
		if (t->nunrecorded > 0)
			return 0;
		if (q->n < (int)(sizeof(q->items) / sizeof(q->items[0])))
			return 1;
	}
	return 1;
}

/* A job stopped is stopped whole: its running run, and the runs queued
 * behind it ("queue" overlap), which would otherwise start at once. */
void
runs_stop_job(struct target *t, const char *job, const char *why)
{
	struct queued_list q = {.t = t, .job = job};

	for (struct active_run *a = t->runs; a != NULL; a = a->next)
		if (strcmp(jobrun_job(a->jr)->name, job) == 0)
			jobrun_cancel(a->jr, why);
	end_listed(t, &q, TRUN_QUEUED, OUTCOME_CANCELED, why);
}

/* The target defects: every run of a multiserver job ends, queued ones
 * canceled at once, running ones stopped (target/defect.c). */
void
runs_stop_master(struct target *t, const char *why)
{
	struct queued_list q = {.t = t, .master_only = 1};

	for (struct active_run *a = t->runs; a != NULL; a = a->next)
		if (!a->local)
			jobrun_cancel(a->jr, why);
	end_listed(t, &q, TRUN_QUEUED, OUTCOME_CANCELED, why);
}

/* Whether a multiserver job's run is queued, running or not yet
 * recorded: its outcome is still to reach the outbox. -1 with err when
 * the store cannot tell. */
int
runs_master_busy(struct target *t, struct cerr *err)
{
	struct queued_list q = {.t = t, .master_only = 1};

	if (t->nunrecorded > 0)
		return 1;
	for (struct active_run *a = t->runs; a != NULL; a = a->next)
		if (!a->local)
			return 1;
	if (tstore_run_list_state(t->store, TRUN_QUEUED, queued_cb, &q, err) <
	    0)
		return -1;
	return q.n > 0;
}

struct by_instr {
	int64_t instr_id;
	int64_t run_id;
	int local;
	char job[JOB_NAME_MAX + 1];
};

static int
by_instr_cb(void *arg, const struct tstore_run *row)
{
	struct by_instr *b = arg;

	if (row->instr_id != b->instr_id)
		return 0;
	b->run_id = row->run_id;
	b->local = row->local;
	snprintf(b->job, sizeof(b->job), "%s", row->job);
	return 1;
}

void
runs_stop_instr(struct target *t, int64_t instr_id, const char *why)
{
	struct by_instr b = {instr_id, 0, 0, ""};
	struct cerr err;

	if (tstore_run_list_state(
		t->store, TRUN_QUEUED, by_instr_cb, &b, &err) < 0) {
		target_store_failed(t, &err);
		return;
	}
	if (b.run_id > 0) {
		runs_finish_unstarted(t, b.run_id, b.job, b.local, instr_id,
		    OUTCOME_CANCELED, why);
		return;
	}
	if (tstore_run_list_state(
		t->store, TRUN_RUNNING, by_instr_cb, &b, &err) < 0) {
		target_store_failed(t, &err);
		return;
	}
	for (struct active_run *a = t->runs; a != NULL; a = a->next)
		if (b.run_id > 0 && a->run_id == b.run_id)
			jobrun_cancel(a->jr, why);
}

/* Called once every waiting report is in: a run whose report was dropped
 * (keep_unrecorded) is "running" in the ledger with nothing running it,
 * and its job's schedule would take it for a run still going and refuse
 * every instant. It is recorded interrupted. */
void
runs_finish_dropped(struct target *t)
{
	struct queued_list l = {.t = t, .not_active = 1};
	char why[200];

	snprintf(why, sizeof(why),
	    "interrupted: its outcome was lost while the store refused "
	    "writes (more than %d outcomes waited); timed up to when the "
	    "store took writes again",
	    TARGET_UNRECORDED_KEPT);
	/* Not all ended: the next drain sweeps the rest. */
	if (end_listed(t, &l, TRUN_RUNNING, OUTCOME_INTERRUPTED, why))
		t->unrecorded_dropped = 0;
}

int
runs_recover(struct target *t, struct cerr *err)
{
	t->runs_kick = evtimer_new(t->base, kick_cb, t);
	t->reap = evtimer_new(t->base, reap_cb, t);
	if (t->runs_kick == NULL || t->reap == NULL || runs_record_init(t) < 0)
		return cerr_set(err, CERR_INTERNAL, "cannot create timers");
	if (runs_recover_interrupted(t, err) < 0)
		return -1;
	runs_kick(t);
	return 0;
}

void
runs_shutdown(struct target *t)
{
	while (t->runs != NULL) {
		struct active_run *a = t->runs;

		t->runs = a->next;
		jobrun_free(a->jr);
		free(a);
	}
	reap_cb(-1, 0, t);
	runs_record_shutdown(t);
	if (t->runs_kick != NULL)
		event_free(t->runs_kick);
	if (t->reap != NULL)
		event_free(t->reap);
}
