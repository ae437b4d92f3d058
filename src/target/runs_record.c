/*
 * runs_record: a run's end into the ledger, the history and the outbox
 * (runlog.c), and what happens when the store refuses the write (a full
 * disk): the report waits in memory, 64 whole and then up to 4,096
 * without their outputs, and a timer writes them later, oldest first.
 * Nothing queued starts meanwhile (runs.c checks nunrecorded).
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/runrec.h"
#include "common/timefmt.h"
#include "target/events.h"
#include "target/runlog.h"
#include "target/runs_int.h"
#include "target/target.h"

#define RUNS_RETRY_S 2

void
runs_retry_later(struct target *t)
{
	struct timeval tv = {RUNS_RETRY_S, 0};

	if (!evtimer_pending(t->record_retry, NULL))
		evtimer_add(t->record_retry, &tv);
}

/* Keeps a report the store refused; 0, or -1 when it had to be dropped. */
static int
keep_unrecorded(struct target *t, struct run_report *rep, int local)
{
	char why[160];

	if (t->nunrecorded == t->unrecorded_cap) {
		int cap = t->unrecorded_cap ? 2 * t->unrecorded_cap
					    : TARGET_UNRECORDED_MAX;
		struct unrecorded_run *grown = cap <= TARGET_UNRECORDED_KEPT
		    ? realloc(t->unrecorded, (size_t)cap * sizeof(*grown))
		    : NULL;

		if (grown == NULL)
			return -1;
		t->unrecorded = grown;
		t->unrecorded_cap = cap;
	}
	/* Many runs ended while the store refused: their outputs (up to
	 * max_output_bytes each) are what would exhaust memory. */
	if (t->nunrecorded >= TARGET_UNRECORDED_MAX) {
		snprintf(why, sizeof(why),
		    "(output not kept: more than %d outcomes waited for the "
		    "store to take writes)",
		    TARGET_UNRECORDED_MAX);
		run_report_drop_outputs(rep, why);
	}
	t->unrecorded[t->nunrecorded].rep = rep;
	t->unrecorded[t->nunrecorded++].local = local;
	return 0;
}

/* When the store refuses (a full disk), the report waits in memory and
 * record_retry writes it later; the ledger keeps the run "running"
 * meanwhile, so if the daemon stops first the next start records it
 * interrupted: late, never lost. */
void
runs_record_finished(
    struct target *t, struct run_report *rep, int local, const struct job *job)
{
	struct cerr err;

	if (t->nunrecorded == 0 &&
	    runlog_finished(t, rep, local, job, &err) == 0) {
		target_store_ok(t);
		run_report_free(rep);
		upload_kick(t);
		return;
	}
	if (t->nunrecorded == 0)
		target_store_failed(t, &err);
	if (keep_unrecorded(t, rep, local) < 0) {
		log_error("run_unrecorded",
		    "run=%lld msg=\"more than %d "
		    "outcomes wait for the store; this one is recorded "
		    "interrupted once the store takes writes\"",
		    (long long)rep->target_run_id, t->nunrecorded);
		t->unrecorded_dropped++;
		run_report_free(rep);
	}
	runs_retry_later(t);
}

/* Writes the reports that waited, oldest first, then starts what is
 * queued. */
static void
record_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct target *t = arg;
	struct cerr err;
	int done = 0;

	while (done < t->nunrecorded) {
		struct unrecorded_run *u = &t->unrecorded[done];

		if (runlog_finished(t, u->rep, u->local, NULL, &err) < 0) {
			target_store_failed(t, &err);
			break;
		}
		run_report_free(u->rep);
		done++;
	}
	memmove(t->unrecorded, t->unrecorded + done,
	    (size_t)(t->nunrecorded - done) * sizeof(t->unrecorded[0]));
	t->nunrecorded -= done;
	if (t->nunrecorded > 0) {
		runs_retry_later(t);
		return;
	}
	if (t->unrecorded_dropped > 0)
		runs_finish_dropped(t);
	if (t->nunrecorded > 0) {
		runs_retry_later(t);
		return;
	}
	target_store_ok(t);
	upload_kick(t);
	runs_kick(t);
}

/* Ends a run that never started, with a reason. */
void
runs_finish_unstarted(struct target *t, int64_t run_id, const char *job,
    int local, int64_t instr_id, enum run_outcome outcome, const char *why)
{
	int64_t now = timefmt_now_ms();
	struct run_report *rep = run_report_new(
	    run_id, job, instr_id, now, timefmt_local_offset(now / 1000));
	struct cerr err;

	if (rep == NULL)
		return;
	rep->outcome = outcome;
	if (run_report_set_message(rep, why, &err) < 0)
		log_error("run", "run=%lld msg=%s", (long long)run_id,
		    LOG_TEXT(err.msg));
	log_warn("run_not_started", "run=%lld job=%s why=%s", (long long)run_id,
	    job, LOG_TEXT(why));
	if (outcome == OUTCOME_FAILED)
		events_raise(t, EVENT_ERROR, EVENT_JOB_FAILED, job, run_id,
		    "job %s failed on %s: %s", job, t->conf->name, why);
	runs_record_finished(t, rep, local, NULL);
}

int
runs_record_init(struct target *t)
{
	t->record_retry = evtimer_new(t->base, record_retry_cb, t);
	return t->record_retry != NULL ? 0 : -1;
}

void
runs_record_shutdown(struct target *t)
{
	for (int i = 0; i < t->nunrecorded; i++)
		run_report_free(t->unrecorded[i].rep);
	free(t->unrecorded);
	t->unrecorded = NULL;
	t->nunrecorded = t->unrecorded_cap = 0;
	if (t->record_retry != NULL)
		event_free(t->record_retry);
	t->record_retry = NULL;
}
