/*
 * runs_int: what runs.c and runs_recover.c share and nothing else
 * includes. Not part of the interface.
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

/* Records a run of the ledger that was cut off, from what the ledger
 * holds of it (interrupted.h), and logs it. */
void runs_finish_interrupted(
    struct target *t, const struct interrupted_run *run, int local);

/* At start-up: kills what each run found "running" left behind and
 * records the run interrupted. */
int runs_recover_interrupted(struct target *t, struct cerr *err);

#endif
