/*
 * runlog: the records of runs (see runlog.h). One report text serves the
 * outbox and the local history, written in the transaction that moves the
 * ledger row, so the three never disagree after a crash.
 */
#include "target/runlog.h"

#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "target/outbox_bound.h"

/* The job's document, parsed; NULL when it is gone or does not parse
 * (then the defaults apply). Caller frees with job_free. */
static struct job *
load_job(struct target *t, const char *name)
{
	struct job *job = NULL;
	enum job_origin origin;
	char *doc = NULL;
	struct cerr err;

	if (tstore_job_get(t->store, name, &doc, &origin, &err) == 0)
		jobdoc_parse(doc, strlen(doc), &job, &err);
	free(doc);
	return job;
}

/* Trims job's local history to its limits. */
static int
trim_job(
    struct target *t, const char *name, const struct job *job, struct cerr *err)
{
	struct job *loaded = job == NULL ? load_job(t, name) : NULL;
	const struct job *j = job != NULL ? job : loaded;
	int64_t keep = t->conf->history_max_rows_per_job, before_ms = 0;
	int rc;

	if (j != NULL && j->history_max_rows > 0)
		keep = j->history_max_rows;
	if (j != NULL && j->history_max_age_s > 0)
		before_ms = timefmt_now_ms() - j->history_max_age_s * 1000;
	rc = tstore_hist_trim_job(t->store, name, keep, before_ms, err);
	job_free(loaded);
	return rc;
}

static int
add_history(struct target *t, const struct run_report *rep, const char *text,
    int local, const struct job *job, struct cerr *err)
{
	struct tstore_hist_row row = {rep->target_run_id, rep->job, local,
	    run_outcome_name(rep->outcome), rep->started_ms, rep->duration_ms,
	    text};

	if (tstore_hist_add(t->store, &row, err) < 0)
		return -1;
	return trim_job(t, rep->job, job, err);
}

int
runlog_write(struct target *t, const struct run_report *rep,
    enum trun_state state, int local, const struct job *job, struct cerr *err)
{
	struct tstore_outbox_bounds bounds = outbox_bound_get(t->conf);
	json_t *v = run_report_to_json(rep);
	char *text = v != NULL ? json_dump_compact(v) : NULL;
	int64_t now = timefmt_now_s();
	int rc = -1;

	json_decref(v);
	if (text == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	if (!local &&
	    tstore_outbox_add(t->store, "run", text, &bounds, now, err) < 0)
		goto out;
	if (tstore_run_set_state(t->store, rep->target_run_id, state,
		state == TRUN_FINISHED ? run_outcome_name(rep->outcome) : "",
		now, err) < 0)
		goto out;
	if (state == TRUN_RUNNING &&
	    tstore_run_set_started(
		t->store, rep->target_run_id, rep->started_ms, err) < 0)
		goto out;
	/* The step rows only serve a run cut off before this. */
	if (state == TRUN_FINISHED &&
	    (tstore_step_delete(t->store, rep->target_run_id, err) < 0 ||
		add_history(t, rep, text, local, job, err) < 0))
		goto out;
	rc = 0;
out:
	free(text);
	return rc;
}

int
runlog_record(struct target *t, const struct run_report *rep,
    enum trun_state state, int local, const struct job *job, struct cerr *err)
{
	if (tstore_begin(t->store, err) < 0)
		return -1;
	if (runlog_write(t, rep, state, local, job, err) < 0 ||
	    tstore_commit(t->store, err) < 0) {
		tstore_rollback(t->store);
		return -1;
	}
	return 0;
}

int
runlog_finished(struct target *t, struct run_report *rep, int local,
    const struct job *job, struct cerr *err)
{
	static const char *const notes[] = {
	    "outputs not kept: the report was too big for the target's store",
	    "step rows not kept: the report was too big for the target's "
	    "store"};

	for (size_t shrunk = 0;; shrunk++) {
		if (runlog_record(t, rep, TRUN_FINISHED, local, job, err) == 0)
			return 0;
		if (err->code != CERR_TOO_LARGE ||
		    shrunk == sizeof(notes) / sizeof(notes[0]))
			return -1;
		log_warn("run_report_too_big", "run=%lld job=%s msg=%s",
		    (long long)rep->target_run_id, rep->job,
		    LOG_TEXT(err->msg));
		if (shrunk == 0)
			run_report_drop_outputs(rep,
			    "(output not kept: the run's report was too big "
			    "for the target's store)");
		else
			run_report_drop_steps(rep);
		/* out of memory: the report goes without its note */
		run_report_add_note(rep, notes[shrunk], NULL);
	}
}

int
runlog_missed(struct target *t, const char *job_name, int local,
    const struct job *job, int64_t started_ms, const char *message,
    struct cerr *err)
{
	struct run_report *rep = NULL;
	int64_t run_id = 0;
	int existed, rc = -1;

	/* Neither an instruction nor a due instant: a record of its own. */
	if (tstore_run_add(t->store, job_name, local, 0, 0, timefmt_now_s(),
		&run_id, &existed, err) < 0)
		return -1;
	rep = run_report_new(run_id, job_name, 0, started_ms,
	    timefmt_local_offset(started_ms / 1000));
	if (rep == NULL) {
		cerr_set(err, CERR_INTERNAL, "out of memory");
		goto out;
	}
	rep->outcome = OUTCOME_MISSED;
	if (run_report_set_message(rep, message, err) < 0 ||
	    runlog_write(t, rep, TRUN_FINISHED, local, job, err) < 0)
		goto out;
	log_warn("run_missed", "run=%lld job=%s msg=%s", (long long)run_id,
	    job_name, LOG_TEXT(message));
	rc = 0;
out:
	run_report_free(rep);
	return rc;
}

static int
housekeeping_cb(
    void *arg, const char *name, enum job_origin origin, const char *doc)
{
	struct target *t = arg;
	struct job *job = NULL;
	struct cerr err;

	if (jobdoc_parse(doc, strlen(doc), &job, &err) < 0 ||
	    trim_job(t, name, job, &err) < 0)
		log_warn(
		    "housekeeping", "job=%s msg=%s", name, LOG_TEXT(err.msg));
	job_free(job);
	return 0;
}

void
runlog_housekeeping(struct target *t)
{
	struct cerr err;

	if (tstore_job_list(t->store, housekeeping_cb, t, &err) < 0 ||
	    tstore_hist_trim(t->store, t->conf->history_max_rows, &err) < 0)
		log_warn("housekeeping", "msg=%s", LOG_TEXT(err.msg));
}
