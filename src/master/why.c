/*
 * why: the verdict of `job why` from the facts (see why.h).
 */
#include "master/why.h"

#include <stdio.h>
#include <string.h>

#include "common/timefmt.h"

/* "last polled at T" or "has never polled". */
static const char *
polled(int64_t last_poll, char *buf, size_t size)
{
	char at[TIMEFMT_MAX];

	if (last_poll <= 0)
		snprintf(buf, size, "has never polled");
	else
		snprintf(
		    buf, size, "last polled at %s", timefmt_utc(last_poll, at));
	return buf;
}

static const char *
blocked(const struct why_facts *f, char *text, size_t size)
{
	const struct why_instr *b = &f->blocker;
	char at[TIMEFMT_MAX];

	snprintf(text, size,
	    "%s is blocked: instruction %lld (%s%s%s) failed at %s: %s; it "
	    "applies nothing after it until an administrator clears it "
	    "(cohortctl downloadlist clear %lld) or resyncs the target "
	    "(cohortctl target resync %s)",
	    f->target, (long long)b->id, instr_op_name(b->op),
	    b->object[0] ? " " : "", b->object, timefmt_utc(b->applied_at, at),
	    b->error[0] ? b->error : "no reason given", (long long)b->id,
	    f->target);
	return "blocked";
}

static const char *
not_delivered(const struct why_facts *f, char *text, size_t size)
{
	const struct why_instr *d = &f->definition;
	char at[TIMEFMT_MAX], poll[80];

	snprintf(text, size,
	    "the job's latest definition (instruction %lld, %s, posted at %s) "
	    "is %s; %s (status %s) %s",
	    (long long)d->id, instr_op_name(d->op),
	    timefmt_utc(d->posted_at, at),
	    d->status == INSTR_PENDING ? "not downloaded yet"
				       : "downloaded but not applied yet",
	    f->target, f->status, polled(f->last_poll, poll, sizeof(poll)));
	return "not_delivered";
}

static const char *
scheduled(const struct why_facts *f, char *text, size_t size)
{
	char poll[80];
	int n;

	n = snprintf(text, size, "next run at %s (schedule %s)", f->next_at,
	    f->next_schedule ? f->next_schedule : "?");
	/* Schedules run on the target: offline, it still runs them and
	 * uploads the outcomes when it is back. */
	if (n >= 0 && (size_t)n < size &&
	    strcmp(f->status, "suspected offline") == 0)
		snprintf(text + n, size - (size_t)n,
		    "; %s is suspected offline (it %s): it runs its schedules "
		    "alone and uploads the outcomes when it is back",
		    f->target, polled(f->last_poll, poll, sizeof(poll)));
	return "scheduled";
}

const char *
why_verdict(const struct why_facts *f, char *text, size_t size)
{
	if (!f->aimed) {
		snprintf(text, size,
		    "job %s is not aimed at %s: neither its targets nor its "
		    "groups name it",
		    f->job, f->target);
		return "not_aimed";
	}
	if (strcmp(f->status, "defected") == 0) {
		snprintf(text, size,
		    "%s has defected: the master sends it nothing", f->target);
		return "defected";
	}
	if (f->blocker.found)
		return blocked(f, text, size);
	if (f->definition.found &&
	    (f->definition.status == INSTR_PENDING ||
		f->definition.status == INSTR_DOWNLOADED))
		return not_delivered(f, text, size);
	if (!f->enabled) {
		snprintf(text, size,
		    "job %s is disabled: no schedule starts it; its due "
		    "instants are recorded as missed when it is enabled again",
		    f->job);
		return "disabled";
	}
	if (f->schedules_enabled == 0) {
		snprintf(text, size,
		    "job %s has no enabled schedule: it runs only when started "
		    "(cohortctl job start %s)",
		    f->job, f->job);
		return "on_demand";
	}
	if (f->next_at == NULL) {
		snprintf(text, size,
		    "no schedule of job %s has a run ahead (a one-time "
		    "schedule that has passed, or an end date)",
		    f->job);
		return "no_run_ahead";
	}
	return scheduled(f, text, size);
}
