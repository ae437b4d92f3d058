/*
 * why: `cohortctl job why`, the explanation of what a job does or does
 * not do on one target, from what the master knows: whether the job is
 * aimed there, the target's status, the download list (the job's latest
 * instruction and definition, and a failed instruction the target stopped
 * at), the job's enabled flag and schedules, and the last record the
 * target uploaded for the job (a run, or a missed instant with its
 * reason). Schedules run on the target, so the master explains from these
 * facts; the target's own records say what it decided.
 *
 * why_verdict() is a pure function of the facts, so each case is a unit
 * test (tests/unit/test_why.c); api_why.c gathers them.
 */
#ifndef COHORT_WHY_H
#define COHORT_WHY_H

#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"

/* A target's error is at most 1,000 bytes (api_poll.c): kept whole, so
 * no cut can split a character, and every explanation fits its buffer. */
#define WHY_ERROR_MAX 1024
#define WHY_TEXT_MAX 2048

/* One download-list row, copied out of the store. found 0: none. */
struct why_instr {
	int found;
	int64_t id;
	enum instr_op op;
	enum instr_status status;
	int cleared; /* a failed one an administrator cleared */
	char object[129];
	int64_t posted_at;
	int64_t applied_at;
	char error[WHY_ERROR_MAX];
};

struct why_facts {
	const char *job;
	const char *target;
	int aimed; /* the job is aimed at the target now */
	const char *status; /* status_of_target(): normal, blocked, ... */
	int64_t last_poll; /* 0: never polled */
	int enabled; /* the job's flag */
	/* enabled schedules: at clock times (once, daily, weekly, monthly,
	 * cron); when the daemon starts; when the machine is idle */
	size_t timed_schedules, start_schedules, idle_schedules;
	struct why_instr latest; /* the job's newest instruction, any kind */
	struct why_instr definition; /* its newest insert or update */
	struct why_instr blocker; /* the oldest failed, uncleared one */
	const char *next_run; /* the earliest next run, as text, or NULL */
	const char *next_schedule; /* its schedule's name */
	const char *preview_error; /* why none could be previewed, or NULL */
};

/* The verdict's stable name, the first that holds of: "defected",
 * "blocked" (by the job's own failed instruction, or one that holds back
 * the job's newer one), "leaving" (no longer aimed, it had the job, and the
 * delete is not applied yet), "not_aimed", "definition_failed" (its latest definition
 * failed and was cleared: the target has the previous one, or none),
 * "not_delivered" (not applied yet), "disabled", "on_demand" (no enabled
 * schedule), "scheduled", "on_condition" (only start or idle schedules),
 * "unknown_next" (the master cannot preview the schedules),
 * "no_run_ahead"; and in text (truncated to size) a sentence a person can
 * act on. */
const char *why_verdict(const struct why_facts *f, char *text, size_t size);

#endif
