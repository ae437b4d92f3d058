/*
 * schedplan: the scheduler's decisions as pure functions of their inputs
 * (a schedule and its zone, the instant up to which it was handled, the
 * time now, whether the job was disabled), so they are tested without a
 * daemon, a clock or a store. scheduler.c applies them: it adds runs to the
 * ledger, writes missed-run records and arms one timer.
 *
 * The rules (docs/architecture.md, "Scheduling"):
 * - A schedule's cursor says every due instant at or before it is handled
 *   (ran, or was recorded missed). A new or changed schedule starts at
 *   "now": nothing before it is due.
 * - One step handles every instant in (cursor, now] at once, so at most
 *   one run comes out of it: the latest instant L. L runs when it is on
 *   time (now - L <= grace_s) or, late, under the misfire policy run_once
 *   (a catch-up run); under skip a late L is missed too.
 * - Every other instant in (cursor, now] is missed, summarised in one
 *   record: first, last, count. Its reason: "target offline" when the
 *   first of them came before the machine booted, "daemon down" when
 *   before this daemon started, else "late" (the wall clock
 *   jumped forward or the loop stalled); while the job was disabled every
 *   instant is missed with reason "job disabled".
 * - A wall time inside a DST gap runs once at the gap's end; when a
 *   repeating schedule had several wall times in the gap, the others are
 *   one "DST gap" record.
 * - "start" and "idle" schedules have no instants to step through; their
 *   start_date and end_date bound the instant they come due at (the
 *   daemon's start, the moment an idle period qualifies), read in the
 *   schedule's zone as the other kinds' are.
 */
#ifndef COHORT_SCHEDPLAN_H
#define COHORT_SCHEDPLAN_H

#include <stddef.h>
#include <stdint.h>

#include "common/jobdoc.h"
#include "common/schedule.h"
#include "common/tz.h"

/* Counting missed instants stops here; the record then says "more". */
#define SCHEDPLAN_SCAN_MAX 10000
#define SCHEDPLAN_MISS_MAX 2

enum schedplan_reason {
	SCHEDPLAN_DAEMON_DOWN, /* due while cohortd was not running */
	SCHEDPLAN_LATE, /* due while running, found late */
	SCHEDPLAN_JOB_DISABLED,
	SCHEDPLAN_OVERLAP, /* the job was running (overlap refuse) */
	SCHEDPLAN_DST_GAP, /* wall times in a gap, collapsed into one */
	SCHEDPLAN_TARGET_OFFLINE /* due before the machine booted */
};

struct schedplan_miss {
	enum schedplan_reason reason;
	int64_t first, last; /* UTC instants (DST_GAP: the run's) */
	int64_t first_local, last_local; /* the same as wall times */
	int64_t count;
	int more; /* count is a lower bound: the scan stopped */
	int refused; /* DST_GAP: the overlap policy refused the run at first */
};

struct schedplan_in {
	const struct schedule *s;
	const struct tz *tz; /* the schedule's zone */
	const struct tz *utc; /* a loaded "UTC", for wall-time counting */
	int64_t cursor;
	int64_t now;
	int64_t started; /* this daemon's start (Unix seconds) */
	int64_t grace_s;
	enum misfire_policy misfire;
	int paused; /* the job was disabled from cursor to now */
	int64_t booted; /* the machine's boot (Unix seconds); 0: unknown */
};

struct schedplan_out {
	int64_t run_due; /* the instant to run now; 0: none */
	int catch_up; /* run_due is late, run under run_once */
	struct schedule_due due; /* detail of run_due */
	struct schedplan_miss miss[SCHEDPLAN_MISS_MAX];
	int nmiss;
	int64_t cursor; /* the new cursor */
	int64_t next; /* the first due instant after it; 0: none */
};

/* Handles the due instants in (in->cursor, in->now]. */
void schedplan_step(const struct schedplan_in *in, struct schedplan_out *out);

/* The last due instant in (lo, hi], 0 when there is none. */
int64_t schedplan_last_in(
    const struct schedule *s, const struct tz *tz, int64_t lo, int64_t hi);

/* Whether instant `at` lies on or between s's start_date and end_date
 * (either may be absent) as dates in tz, the schedule's zone: 1 or 0. */
int schedplan_in_dates(
    const struct schedule *s, const struct tz *tz, int64_t at);

/* A hash of the schedule's canonical form: a changed definition starts
 * afresh instead of inheriting a cursor that meant something else. */
int64_t schedplan_def_hash(const struct schedule *s);

/* A missed-run record's message, for people ("missed 3 due instants from
 * 2024-03-31T01:00:00+01:00 to ...: the target daemon was not running").
 * catch_up: a catch-up run follows. */
const char *schedplan_miss_text(const struct schedplan_miss *m,
    const struct tz *tz, enum misfire_policy misfire, int catch_up, char *buf,
    size_t size);
const char *schedplan_reason_name(enum schedplan_reason r);

/* "when idle": load below a threshold continuously for idle_for_s, one
 * run per idle period (the load must rise to the threshold or above before
 * the next). */
struct schedplan_idle {
	int below; /* the last sample was below */
	int64_t below_since_ms; /* monotonic */
	int fired; /* ran in this idle period */
};
/* One load sample at monotonic now_ms; 1 when the schedule comes due. */
int schedplan_idle_step(struct schedplan_idle *st, double load,
    double threshold, int64_t idle_for_s, int64_t now_ms);

/* How far the wall clock moved beyond the monotonic clock between two
 * samples (ms; negative: set back). */
int64_t schedplan_clock_skew_ms(
    int64_t wall0_ms, int64_t mono0_ms, int64_t wall1_ms, int64_t mono1_ms);

#endif
