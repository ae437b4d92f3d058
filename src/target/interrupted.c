/*
 * interrupted: a run cut off by a crash, recorded from the ledger (see
 * interrupted.h). Pure but for interrupted_load(), which reads the
 * store: the unit tests build records from rows of their own.
 */
#include "target/interrupted.h"

#include "common/timefmt.h"
#include "common/wire.h"

struct build {
	const struct interrupted_run *run;
	struct run_report *rep;
	size_t left_out; /* rows the report could not take */
	int oom;
};

static const char *
cutoff_message(enum cutoff_fate fate)
{
	switch (fate) {
	case CUTOFF_KILLED:
		return "interrupted: still running when the target daemon "
		       "restarted; its process group was killed then";
	case CUTOFF_GONE:
		return "interrupted: the target daemon stopped while this "
		       "step ran, and by the restart its process had ended "
		       "(or its pid was another process's): exit status "
		       "unknown, timed up to the restart";
	case CUTOFF_LOST:
		return "interrupted: this run's outcome was lost while the "
		       "store refused writes: exit status unknown, timed up "
		       "to when the store took writes again";
	case CUTOFF_UNKNOWN:
		break;
	}
	return "interrupted: the target daemon stopped while this step ran: "
	       "exit status unknown, timed up to when this was found";
}

static struct run_report *
build_new(const struct interrupted_run *run)
{
	int64_t started = run->started_ms > 0 ? run->started_ms : run->found_ms;

	return run_report_new(run->run_id, run->job, run->instr_id, started,
	    timefmt_local_offset(started / 1000));
}

static int
build_step(void *arg, const struct tstore_step *row)
{
	struct build *b = arg;
	struct run_step_rec s = {row->step, row->attempt,
	    (char *)row->step_name, OUTCOME_INTERRUPTED, row->exit_code,
	    row->started_ms, row->duration_ms, (char *)row->message,
	    (char *)(b->run->fate == CUTOFF_LOST ? INTERRUPTED_OUTPUT_LOST
						 : INTERRUPTED_OUTPUT),
	    0, 0};
	struct cerr err;

	if (run_outcome_parse(row->outcome, &s.outcome) < 0 ||
	    s.outcome == OUTCOME_RUNNING) {
		s.outcome = OUTCOME_INTERRUPTED;
		s.exit_code = -1;
		s.duration_ms = b->run->found_ms - row->started_ms;
		if (s.duration_ms < 0)
			s.duration_ms = 0;
		s.message = (char *)cutoff_message(b->run->fate);
	}
	if (b->rep->nsteps >= RUNREC_MAX_STEP_ROWS) {
		b->left_out++;
		return 0;
	}
	if (run_report_add_step(b->rep, &s, &err) < 0) {
		b->oom = 1;
		return 1;
	}
	b->rep->exit_code = s.exit_code;
	return 0;
}

/* The job row: outcome, message, duration; NULL on out-of-memory (the
 * report is freed). */
static struct run_report *
build_end(struct build *b, struct cerr *err)
{
	struct run_report *rep = b->rep;
	char note[96];

	if (b->oom)
		goto oom;
	rep->outcome = OUTCOME_INTERRUPTED;
	rep->duration_ms = b->run->found_ms - rep->started_ms;
	if (rep->duration_ms < 0)
		rep->duration_ms = 0;
	if (run_report_set_message(rep, b->run->why, err) < 0)
		goto oom;
	if (b->left_out > 0) {
		snprintf(note, sizeof(note),
		    "%zu later step rows not kept (over %d)", b->left_out,
		    RUNREC_MAX_STEP_ROWS);
		if (run_report_add_note(rep, note, err) < 0)
			goto oom;
	}
	return rep;
oom:
	run_report_free(rep);
	cerr_set(err, CERR_INTERNAL, "run %lld: out of memory",
	    (long long)b->run->run_id);
	return NULL;
}

struct run_report *
interrupted_report(const struct interrupted_run *run,
    const struct tstore_step *steps, size_t nsteps, struct cerr *err)
{
	struct build b = {run, build_new(run), 0, 0};

	if (b.rep == NULL) {
		cerr_set(err, CERR_INTERNAL, "run %lld: out of memory",
		    (long long)run->run_id);
		return NULL;
	}
	for (size_t i = 0; i < nsteps && !b.oom; i++)
		build_step(&b, &steps[i]);
	return build_end(&b, err);
}

struct run_report *
interrupted_load(
    struct tstore *s, const struct interrupted_run *run, struct cerr *err)
{
	struct build b = {run, build_new(run), 0, 0};

	if (b.rep == NULL) {
		cerr_set(err, CERR_INTERNAL, "run %lld: out of memory",
		    (long long)run->run_id);
		return NULL;
	}
	if (tstore_step_list(s, run->run_id, build_step, &b, err) < 0) {
		run_report_free(b.rep);
		return NULL;
	}
	return build_end(&b, err);
}
