/*
 * retention: the master's history retention, run by its housekeeping
 * timer. Each job keeps its newest history_max_rows job runs (the job's
 * own field, else the history_max_rows_per_job key) and, when it sets
 * history_max_age_s, none older; then the whole history keeps its newest
 * history_max_rows rows. Runs of jobs that no longer exist are bounded by
 * the per-job default and the total.
 */
#ifndef COHORT_RETENTION_H
#define COHORT_RETENTION_H

#include "common/cerr.h"
#include "master/master.h"

int retention_run(struct master *m, struct cerr *err);

#endif
