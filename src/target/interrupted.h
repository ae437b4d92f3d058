/*
 * interrupted: the record of a run found "running" in the ledger when
 * the daemon starts (or left so when its outcome was lost, runs.c). Such
 * a run was cut off by a crash or a stop, and is recorded once, with
 * outcome interrupted, and never run again. It keeps what the ledger
 * holds of it: the start its "running" record had (so the master's and
 * the local history show the start they showed while it ran) and its
 * step attempts as they started and ended (tstore_step_*). The attempt
 * still "running" there is the one cut off; it is recorded interrupted
 * with its own start. Outputs are not in the ledger (they go with the
 * run's end), so the rows carry a line saying so.
 *
 * Durations run up to when the run was found (the restart): the run
 * certainly went on until its last record, and the step cut off either
 * still ran then (its group is killed then, so the time is exact) or
 * ended somewhere in between, unseen. An upper bound that the messages
 * name is what an operator can check; the last record would often be
 * the cut-off step's own start, a duration of nothing.
 */
#ifndef COHORT_INTERRUPTED_H
#define COHORT_INTERRUPTED_H

#include <stddef.h>
#include <stdint.h>

#include "common/cerr.h"
#include "common/runrec.h"
#include "target/tstore.h"

#define INTERRUPTED_OUTPUT                                                     \
	"(output not kept: the target daemon stopped before the run ended)"
#define INTERRUPTED_OUTPUT_LOST                                                \
	"(output not kept: the run's outcome was lost while the store "        \
	"refused writes)"

/* What the restart found of the step's process group (orphan.h). */
enum cutoff_fate {
	CUTOFF_UNKNOWN, /* none recorded, or it could not be checked */
	CUTOFF_KILLED, /* still running at the restart: killed then */
	CUTOFF_GONE, /* ended, or its pid is another process's now */
	/* the daemon ran on, but the run's outcome was dropped while the
	 * store refused writes (runs_finish_dropped) */
	CUTOFF_LOST,
};

struct interrupted_run {
	int64_t run_id;
	const char *job;
	int64_t instr_id;
	int64_t started_ms; /* the ledger's; 0: never recorded (found_ms) */
	int64_t found_ms; /* when it was found; durations end there */
	enum cutoff_fate fate;
	const char *why; /* the run's message */
};

/* The record, from the ledger's step rows (nsteps of them, in the order
 * they started). NULL with err on out-of-memory; the caller frees it.
 * Rows past RUNREC_MAX_STEP_ROWS are left out with a note. */
struct run_report *interrupted_report(const struct interrupted_run *run,
    const struct tstore_step *steps, size_t nsteps, struct cerr *err);

/* The same with the step rows read from the run's ledger rows in s. */
struct run_report *interrupted_load(
    struct tstore *s, const struct interrupted_run *run, struct cerr *err);

#endif
