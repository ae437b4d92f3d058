/*
 * why: `cohortctl job why`, the explanation of what a job does or does
 * not do on one target, from what the master knows: whether the job is
 * aimed there, the target's status, the download list (is the job's
 * latest definition applied, is the target blocked by a failed
 * instruction), the job's enabled flag and schedules, and the last
 * record the target uploaded for the job (a run, or a missed instant
 * with its reason). Schedules run on the target, so the master explains
 * from these facts; the target's own records say what it decided.
 *
 * why_verdict() is a pure function of the facts, so each case is a unit
 * test (tests/unit/test_why.c); api_why.c gathers the facts.
 */
#ifndef COHORT_WHY_H
#define COHORT_WHY_H

#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"

#define WHY_TEXT_MAX 1024

/* One download-list row, copied out of the store. found 0: none. */
struct why_instr {
	int found;
	int64_t id;
	enum instr_op op;
	enum instr_status status;
	char object[129];
	int64_t posted_at;
	int64_t applied_at;
	char error[512];
};

struct why_facts {
	const char *job;
	const char *target;
	int aimed; /* the job is aimed at the target now */
	const char *status; /* status_of_target(): normal, blocked, ... */
	int64_t last_poll; /* 0: never polled */
	int enabled; /* the job's flag */
	size_t schedules_enabled; /* of the job's schedules */
	struct why_instr definition; /* newest insert/update of the job */
	struct why_instr blocker; /* oldest failed, uncleared instruction */
	const char *next_at; /* the earliest next run (RFC 3339), or NULL */
	const char *next_schedule; /* its schedule's name, or NULL */
};

/* The verdict's stable name, the first that holds of: "not_aimed",
 * "defected", "blocked", "not_delivered" (the job's latest definition is
 * not applied yet), "disabled", "on_demand" (no enabled schedule),
 * "no_run_ahead" (no schedule has an instant to come), "scheduled"; and
 * in text (truncated to size) a sentence a person can act on. */
const char *why_verdict(const struct why_facts *f, char *text, size_t size);

#endif
