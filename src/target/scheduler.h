/*
 * scheduler: runs this target's jobs (the master's and local ones) on
 * their schedules. It keeps one libevent timer for the earliest due
 * instant of all schedules and, when it fires, asks schedplan.c what to
 * do: a due instant becomes a queued run keyed by (job, due instant) in
 * the run ledger (so it can never run twice, even across restarts);
 * instants that cannot run become missed-run records (runlog.c). Each
 * schedule's cursor is kept in the local store with the run it adds, in
 * one transaction.
 *
 * A one-second tick watches the wall clock against the monotonic clock (a
 * jump is logged as a "clock_jump" event line and every schedule is looked
 * at again) and samples the load average for "idle" schedules. "start"
 * schedules run once when the scheduler starts.
 */
#ifndef COHORT_SCHEDULER_H
#define COHORT_SCHEDULER_H

#include <stdint.h>

#include "common/cerr.h"
#include "common/tz.h"
#include "target/target.h"

/* Loads every job, records what was missed while the daemon was down,
 * queues "start" runs and arms the timers. */
int scheduler_start(struct target *t, struct cerr *err);
/* Jobs changed (an instruction was applied, a local job changed): loads
 * them again. Logs failures. */
void scheduler_reload(struct target *t);
/* A run of job ended: overlap refusals held back for it become records. */
void scheduler_run_ended(struct target *t, const char *job);
void scheduler_stop(struct target *t);

/* The next due instant of a job's schedule as the scheduler has it (Unix
 * seconds); 0 when none (no more runs, job or schedule disabled, a
 * "start" or "idle" schedule, unknown). */
int64_t scheduler_next(
    const struct target *t, const char *job, const char *schedule);

/* The zone schedules without their own run in, the machine's as
 * localtime() has it (tzlocal.h), read when the scheduler started;
 * borrowed. NULL when the scheduler is not running. */
const struct tz *scheduler_zone(const struct target *t);

#endif
