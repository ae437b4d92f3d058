/*
 * sched_int: the scheduler's own types, shared by its files
 * (scheduler.c: loading, evaluation, the timers; sched_record.c: the
 * runs and records an evaluation writes). Not for other modules: they
 * use scheduler.h.
 */
#ifndef COHORT_SCHED_INT_H
#define COHORT_SCHED_INT_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "common/cerr.h"
#include "common/jobdoc.h"
#include "common/tz.h"
#include "target/schedplan.h"
#include "target/target.h"
#include "target/tstore.h"

struct sched_job {
	struct job *job;
	int local;
};

struct sched_entry {
	const struct job *job; /* borrowed from jobs[] */
	const struct schedule *s; /* borrowed from job */
	int local;
	struct tz *tz; /* owned */
	int64_t def_hash;
	int64_t next; /* 0: none */
	struct schedplan_idle idle;
};

struct scheduler {
	struct target *t;
	struct sched_job *jobs;
	size_t njobs;
	struct sched_entry *e;
	size_t n;
	struct tz *utc;
	struct event *timer, *tick;
	int64_t wall_ms, mono_ms; /* the last tick's clocks */
	int64_t jump_window_ms; /* monotonic start of the jump window */
	int jump_events, jumps_held; /* raised in it; not raised */
	int kick, upload; /* after the transaction */
	struct tz *local; /* this machine's zone (tzlocal.h), read once */
};

/* A missed-run record of e's job for m (catch_up: one follows). */
int sched_write_miss(struct scheduler *sc, const struct sched_entry *e,
    const struct schedplan_miss *m, int catch_up, struct cerr *err);
/* Overlap refusals held in row become one record. */
int sched_flush_overlap(struct scheduler *sc, const struct sched_entry *e,
    struct tstore_sched *row, struct cerr *err);
/* Claims the run for due instant `due`, inside the caller's transaction:
 * 1 when the ledger holds it (added now, or there already), 0 when the
 * overlap policy refused it (held in row, or recorded at once when row is
 * NULL: "start" and "idle" schedules), -1 on error. */
int sched_add_due_run(struct scheduler *sc, const struct sched_entry *e,
    int64_t due, struct tstore_sched *row, struct cerr *err);

#endif
