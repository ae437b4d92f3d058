/*
 * runs: turns queued rows of the run ledger into running jobs and their
 * ends into outbox records. A run's start and end are each one outbox
 * record (the master keeps the latest), written in the same transaction as
 * the ledger change, so what the master eventually sees always matches the
 * ledger. A run found "running" at start-up was cut off by a crash or stop:
 * it is recorded as interrupted.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/jobdoc.h"
#include "common/json.h"
#include "common/log.h"
#include "common/runner.h"
#include "common/runrec.h"
#include "common/timefmt.h"
#include "target/jobrun.h"
#include "target/target.h"
#include "target/tstore.h"

/* Writes the report to the outbox and moves the ledger row, atomically. */
static int
record_report(struct target *t, const struct run_report *rep,
    enum trun_state state, struct cerr *err)
{
	json_t *v = run_report_to_json(rep);
	char *text = v ? json_dump_compact(v) : NULL;
	int rc = -1;

	json_decref(v);
	if (text == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	if (tstore_begin(t->store, err) < 0)
		goto out;
	if (tstore_outbox_add(t->store, "run", text, t->conf->outbox_max_items,
	    timefmt_now_s(), err) < 0 ||
	    tstore_run_set_state(t->store, rep->target_run_id, state,
	    state == TRUN_FINISHED ? run_outcome_name(rep->outcome) : "",
	    timefmt_now_s(), err) < 0 ||
	    tstore_commit(t->store, err) < 0) {
		tstore_rollback(t->store);
		goto out;
	}
	rc = 0;
out:
	free(text);
	return rc;
}

/* Ends a run that never started, with a reason. */
static void
finish_unstarted(struct target *t, int64_t run_id, const char *job,
    int64_t instr_id, enum run_outcome outcome, const char *why)
{
	int64_t now = timefmt_now_ms();
	struct run_report *rep = run_report_new(run_id, job, instr_id, now,
	    timefmt_local_offset(now / 1000));
	struct cerr err;

	if (rep == NULL)
		return;
	rep->outcome = outcome;
	if (run_report_set_message(rep, why, &err) < 0 ||
	    record_report(t, rep, TRUN_FINISHED, &err) < 0) {
		log_error("run", "run=%lld msg=\"%s\"", (long long)run_id,
		    err.msg);
		events_daemon_error(t, "recording a run's end", err.msg);
	}
	log_warn("run_not_started", "run=%lld job=%s why=\"%s\"",
	    (long long)run_id, job, why);
	if (outcome == OUTCOME_FAILED)
		events_raise(t, EVENT_ERROR, EVENT_JOB_FAILED, job, run_id,
		    "job %s failed on %s: %s", job, t->conf->name, why);
	run_report_free(rep);
	upload_kick(t);
}

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
			    rep->job, rep->target_run_id, "job %s, step %d "
			    "(%s), attempt %d: %s", rep->job, s->step,
			    s->step_name, s->attempt, s->message);
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
	struct cerr err;

	for (struct active_run **p = &t->runs; *p != NULL; p = &(*p)->next) {
		if ((*p)->jr == jr) {
			struct active_run *a = *p;

			*p = a->next;
			free(a);
			break;
		}
	}
	if (record_report(t, rep, TRUN_FINISHED, &err) < 0) {
		log_error("run", "run=%lld msg=\"%s\"",
		    (long long)rep->target_run_id, err.msg);
		events_daemon_error(t, "recording a run's end", err.msg);
	}
	log_info("run_finished", "run=%lld job=%s outcome=%s",
	    (long long)rep->target_run_id, rep->job,
	    run_outcome_name(rep->outcome));
	run_events(t, rep);
	run_report_free(rep);
	/* jr may not be freed inside its own callback. */
	if (t->nfinished == (int)(sizeof(t->finished) /
	    sizeof(t->finished[0])))
		reap_cb(-1, 0, t);
	t->finished[t->nfinished++] = jr;
	evtimer_add(t->reap, &now);
	upload_kick(t);
	runs_kick(t);
}

static void
job_free_cb(struct job *job)
{
	job_free(job);
}

static int
start_run(struct target *t, int64_t run_id, const char *name,
    int64_t instr_id, struct cerr *err)
{
	struct jobrun_params p = {run_id, instr_id, t->conf->name,
	    (size_t)t->conf->max_output_bytes, "/", t->conf, job_free_cb};
	struct active_run *a = NULL;
	struct run_report *rep = NULL;
	struct job *job = NULL;
	enum job_origin origin;
	char *doc = NULL;
	int64_t now = timefmt_now_ms();

	if (tstore_job_get(t->store, name, &doc, &origin, err) < 0 ||
	    jobdoc_parse(doc, strlen(doc), &job, err) < 0)
		goto fail;
	a = calloc(1, sizeof(*a));
	rep = run_report_new(run_id, name, instr_id, now,
	    timefmt_local_offset(now / 1000));
	if (a == NULL || rep == NULL) {
		cerr_set(err, CERR_INTERNAL, "out of memory");
		goto fail;
	}
	a->run_id = run_id;
	/* jobrun owns job from here on, even when it fails to start. */
	a->jr = jobrun_start(t->base, t->runner, job, &p, run_done, t, err);
	job = NULL;
	if (a->jr == NULL)
		goto fail;
	a->next = t->runs;
	t->runs = a;
	rep->outcome = OUTCOME_RUNNING;
	if (record_report(t, rep, TRUN_RUNNING, err) < 0) {
		log_error("run", "run=%lld msg=\"%s\"", (long long)run_id,
		    err->msg);
		events_daemon_error(t, "recording a run's start", err->msg);
	}
	log_info("run_started", "run=%lld job=%s instr=%lld",
	    (long long)run_id, name, (long long)instr_id);
	run_report_free(rep);
	free(doc);
	upload_kick(t);
	return 0;
fail:
	free(a);
	run_report_free(rep);
	job_free(job);
	free(doc);
	return -1;
}

struct queued {
	int64_t run_id;
	int64_t instr_id;
	char job[JOB_NAME_MAX + 1];
};

struct queued_list {
	struct queued items[64];
	int n;
};

static int
queued_cb(void *arg, int64_t run_id, const char *job, int64_t instr_id,
    int64_t created_at)
{
	struct queued_list *q = arg;
	struct queued *e = &q->items[q->n++];

	e->run_id = run_id;
	e->instr_id = instr_id;
	snprintf(e->job, sizeof(e->job), "%s", job);
	return q->n == (int)(sizeof(q->items) / sizeof(q->items[0]));
}

static void
start_queued(struct target *t, const struct queued *q)
{
	struct active_run *busy = find_active_job(t, q->job);
	char why[256];
	struct cerr err;

	if (busy != NULL) {
		snprintf(why, sizeof(why), "not started: job '%s' is already "
		    "running on target %s (run %lld)", q->job, t->conf->name,
		    (long long)busy->run_id);
		finish_unstarted(t, q->run_id, q->job, q->instr_id,
		    OUTCOME_CANCELED, why);
		return;
	}
	if (start_run(t, q->run_id, q->job, q->instr_id, &err) < 0)
		finish_unstarted(t, q->run_id, q->job, q->instr_id,
		    OUTCOME_FAILED, err.msg);
}

static void
kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct target *t = arg;
	struct queued_list q;
	struct cerr err;

	q.n = 0;
	if (tstore_run_list_state(t->store, TRUN_QUEUED, queued_cb, &q,
	    &err) < 0) {
		log_error("runs", "msg=\"%s\"", err.msg);
		events_daemon_error(t, "listing queued runs", err.msg);
		return;
	}
	for (int i = 0; i < q.n; i++)
		start_queued(t, &q.items[i]);
	if (q.n == (int)(sizeof(q.items) / sizeof(q.items[0])))
		runs_kick(t);
}

void
runs_kick(struct target *t)
{
	struct timeval now = {0, 0};

	evtimer_add(t->runs_kick, &now);
}

void
runs_stop_job(struct target *t, const char *job, const char *why)
{
	for (struct active_run *a = t->runs; a != NULL; a = a->next)
		if (strcmp(jobrun_job(a->jr)->name, job) == 0)
			jobrun_cancel(a->jr, why);
}

static int
interrupted_cb(void *arg, int64_t run_id, const char *job, int64_t instr_id,
    int64_t created_at)
{
	finish_unstarted(arg, run_id, job, instr_id, OUTCOME_INTERRUPTED,
	    "interrupted: the target daemon stopped while the run was in "
	    "progress");
	return 0;
}

int
runs_recover(struct target *t, struct cerr *err)
{
	t->runs_kick = evtimer_new(t->base, kick_cb, t);
	t->reap = evtimer_new(t->base, reap_cb, t);
	if (t->runs_kick == NULL || t->reap == NULL)
		return cerr_set(err, CERR_INTERNAL, "cannot create timers");
	if (tstore_run_list_state(t->store, TRUN_RUNNING, interrupted_cb, t,
	    err) < 0)
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
	if (t->runs_kick != NULL)
		event_free(t->runs_kick);
	if (t->reap != NULL)
		event_free(t->reap);
}
