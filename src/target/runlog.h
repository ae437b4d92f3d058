/*
 * runlog: where the records of a run go. Every state change of a run moves
 * its ledger row; a master job's run also becomes an outbox record for the
 * master (a local job's run stays on this target); a finished run also
 * becomes a row of the local history, which is then trimmed to the job's
 * limits (history_max_rows / history_max_age_s in the job, else the
 * history_max_rows_per_job key). Missed due instants are records too:
 * a finished ledger row with outcome "missed" and a message naming the
 * reason, uploaded and kept like any run.
 */
#ifndef COHORT_RUNLOG_H
#define COHORT_RUNLOG_H

#include <stdint.h>

#include "common/cerr.h"
#include "common/jobdoc.h"
#include "common/runrec.h"
#include "target/target.h"
#include "target/tstore.h"

/* Writes rep's records for its run (rep->target_run_id) inside the
 * caller's transaction. local: a local job's run (no outbox record). job:
 * the job's document for its history limits, NULL to look it up. */
int runlog_write(struct target *t, const struct run_report *rep,
    enum trun_state state, int local, const struct job *job, struct cerr *err);
/* The same in a transaction of its own. */
int runlog_record(struct target *t, const struct run_report *rep,
    enum trun_state state, int local, const struct job *job, struct cerr *err);

/* Records a finished run in a transaction of its own. A report over
 * SQLite's size limit (CERR_TOO_LARGE) would be refused however often it
 * was tried, and while it waited for the store nothing would start
 * (runs.c): it is written without its outputs, and if still too big
 * without its step rows, each time with a note in the job row's message
 * (rep is changed so). runrec.h bounds a report well under SQLite's
 * default limit; this is for an SQLite built or set lower. -1 with err
 * when the store refused it otherwise, or refused even the job row. */
int runlog_finished(struct target *t, struct run_report *rep, int local,
    const struct job *job, struct cerr *err);

/* Adds a missed-run record for job inside the caller's transaction: a new
 * ledger row, finished with outcome "missed", started_ms the first missed
 * instant. */
int runlog_missed(struct target *t, const char *job_name, int local,
    const struct job *job, int64_t started_ms, const char *message,
    struct cerr *err);

/* Retention of the local history: every job's limits, then
 * history_max_rows in all. Logs failures. */
void runlog_housekeeping(struct target *t);

#endif
