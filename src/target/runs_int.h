/*
 * runs_int: what runs.c, runs_record.c and runs_recover.c share and
 * nothing else includes. Not part of the interface.
 */
#ifndef COHORT_RUNS_INT_H
#define COHORT_RUNS_INT_H

#include "common/jobdoc.h"
#include "common/runrec.h"
#include "target/interrupted.h"
#include "target/target.h"

/* Records a run's end; when the store refuses, the report waits in
 * memory (runs.c). job: for its history limits, NULL to look it up.
 * Takes ownership of rep. */
void runs_record_finished(
    struct target *t, struct run_report *rep, int local, const struct job *job);

/* Ends a run that never started, with a reason (runs_record.c). */
void runs_finish_unstarted(struct target *t, int64_t run_id, const char *job,
    int local, int64_t instr_id, enum run_outcome outcome, const char *why);

/* Tries the waiting reports again in a while (runs_record.c). */
void runs_retry_later(struct target *t);

/* The timer that writes waiting reports, and its end (runs_record.c). */
int runs_record_init(struct target *t);
void runs_record_shutdown(struct target *t);

/* Once every waiting report is in: records interrupted the runs whose
 * report had to be dropped (runs.c). */
void runs_finish_dropped(struct target *t);

/* Records a run of the ledger that was cut off, from what the ledger
 * holds of it (interrupted.h), and logs it. */
void runs_finish_interrupted(
    struct target *t, const struct interrupted_run *run, int local);

/* At start-up: kills what each run found "running" left behind and
 * records the run interrupted. */
int runs_recover_interrupted(struct target *t, struct cerr *err);

#endif
