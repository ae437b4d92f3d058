/*
 * runs_recover: the runs a dead daemon left "running" in the ledger. At
 * start-up the step each one was running is killed with its process
 * group if it still runs (orphan.h checks it is still the recorded
 * process), and the run is recorded interrupted from what the ledger
 * holds of it (interrupted.h): its start, its step attempts. It is never
 * started again: the ledger row moves to finished in the transaction
 * that writes the record (runlog.c), and the master stores the record
 * as an upsert keyed by (target, run, step, attempt), so an upload
 * repeated after a lost reply changes nothing.
 */
#include "target/runs_int.h"

#include "common/log.h"
#include "common/paths.h"
#include "common/timefmt.h"
#include "target/orphan.h"
#include "target/tstore.h"

/* In place of a group leader's start time (clock ticks, never
 * negative): the group was killed by this start-up already. */
#define RUNS_KILLED_AT_START (-1)

/* The step a dead daemon left running is killed with its process group;
 * what became of it goes into the record. */
static enum cutoff_fate
kill_orphan(struct tstore *store, int64_t run_id)
{
	int64_t pgid = 0, start = 0;
	struct cerr err;
	int rc;

	if (tstore_run_get_pgid(store, run_id, &pgid, &start, &err) < 0) {
		log_error("orphan", "run=%lld msg=%s", (long long)run_id,
		    LOG_TEXT(err.msg));
		return CUTOFF_UNKNOWN;
	}
	if (pgid <= 1)
		return CUTOFF_UNKNOWN;
	if (start == RUNS_KILLED_AT_START)
		return CUTOFF_KILLED;
	rc = orphan_kill((pid_t)pgid, (uint64_t)start, &err);
	if (rc < 0) {
		log_error("orphan", "run=%lld pgid=%lld msg=%s",
		    (long long)run_id, (long long)pgid, LOG_TEXT(err.msg));
		return CUTOFF_UNKNOWN;
	}
	log_info(rc ? "orphan_killed" : "orphan_gone", "run=%lld pgid=%lld",
	    (long long)run_id, (long long)pgid);
	return rc ? CUTOFF_KILLED : CUTOFF_GONE;
}

void
runs_finish_interrupted(
    struct target *t, const struct interrupted_run *run, int local)
{
	struct run_report *rep = NULL;
	char started[TIMEFMT_MAX];
	struct cerr err;

	rep = interrupted_load(t->store, run, &err);
	if (rep == NULL) {
		/* the job row at least, so that the run ends */
		log_error("run_interrupted", "run=%lld msg=%s",
		    (long long)run->run_id, LOG_TEXT(err.msg));
		rep = interrupted_report(run, NULL, 0, &err);
	}
	if (rep == NULL) {
		log_error("run_interrupted", "run=%lld msg=%s",
		    (long long)run->run_id, LOG_TEXT(err.msg));
		return;
	}
	log_warn("run_interrupted",
	    "run=%lld job=%s started=%s steps=%zu why=%s",
	    (long long)run->run_id, run->job,
	    timefmt_utc_ms(rep->started_ms, started), rep->nsteps,
	    LOG_TEXT(run->why));
	runs_record_finished(t, rep, local, NULL);
}

static int
interrupted_cb(void *arg, const struct tstore_run *row)
{
	struct target *t = arg;
	char why[RUNREC_MESSAGE_MAX], found[TIMEFMT_MAX];
	struct interrupted_run run = {row->run_id, row->job, row->instr_id,
	    row->started_ms, 0, CUTOFF_UNKNOWN, why};

	run.fate = kill_orphan(t->store, row->run_id);
	/* after the kill: a step still running ran until then */
	run.found_ms = timefmt_now_ms();
	snprintf(why, sizeof(why),
	    "interrupted: the target daemon stopped while the run was in "
	    "progress; timed up to the daemon's restart at %s (the time it "
	    "was down included)",
	    timefmt_utc_ms(run.found_ms, found));
	runs_finish_interrupted(t, &run, row->local);
	return 0;
}

int
runs_recover_interrupted(struct target *t, struct cerr *err)
{
	return tstore_run_list_state(
	    t->store, TRUN_RUNNING, interrupted_cb, t, err);
}

/* A root target kills before it drops to its user; the record, made
 * after the drop, is told the group was killed by this start-up. */
static int
orphan_cb(void *arg, const struct tstore_run *row)
{
	struct tstore *store = arg;
	int64_t pgid = 0, start = 0;
	struct cerr err;

	if (kill_orphan(store, row->run_id) != CUTOFF_KILLED)
		return 0;
	if (tstore_run_get_pgid(store, row->run_id, &pgid, &start, &err) < 0 ||
	    tstore_run_set_pgid(
		store, row->run_id, pgid, RUNS_KILLED_AT_START, &err) < 0)
		log_warn("orphan", "run=%lld msg=%s", (long long)row->run_id,
		    LOG_TEXT(err.msg));
	return 0;
}

int
runs_kill_orphans(const struct conf *conf, struct cerr *err)
{
	char db[CONF_STR_MAX + 32];
	struct tstore *store = NULL;
	int rc;

	if (conf_state_path(conf, PATH_TARGET_STORE, db, sizeof(db), err) < 0 ||
	    tstore_open(db, &store, err) < 0)
		return -1;
	rc = tstore_run_list_state(store, TRUN_RUNNING, orphan_cb, store, err);
	tstore_close(store);
	return rc;
}
