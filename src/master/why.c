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

static int
is_open(const struct why_instr *in)
{
	return in->found &&
	    (in->status == INSTR_PENDING || in->status == INSTR_DOWNLOADED);
}

/* The target stopped at a failed instruction: only what was posted after
 * it waits. So it concerns this job when it is the job's own, or when the
 * job's newest instruction is still open behind it. */
static int
blocks_this_job(const struct why_facts *f)
{
	const struct why_instr *b = &f->blocker;

	return b->found &&
	    (strcmp(b->object, f->job) == 0 ||
		(is_open(&f->latest) && f->latest.id > b->id));
}

/* "instruction 5 (insert other)" */
static const char *
instr_name(const struct why_instr *in, char *buf, size_t size)
{
	snprintf(buf, size, "instruction %lld (%s%s%s)", (long long)in->id,
	    instr_op_name(in->op), in->object[0] ? " " : "", in->object);
	return buf;
}

static const char *
blocked(const struct why_facts *f, char *text, size_t size)
{
	const struct why_instr *b = &f->blocker;
	char at[TIMEFMT_MAX], name[200];

	/* the commands first: the error, quoted last, may be long */
	snprintf(text, size,
	    "%s is blocked at %s, which failed at %s: it applies nothing "
	    "posted after it until an administrator clears it (cohortctl "
	    "downloadlist clear %lld) or resyncs the target (cohortctl target "
	    "resync %s); the error: %s",
	    f->target, instr_name(b, name, sizeof(name)),
	    timefmt_utc(b->applied_at, at), (long long)b->id, f->target,
	    b->error[0] ? b->error : "none given");
	return "blocked";
}

static const char *
not_aimed(const struct why_facts *f, char *text, size_t size)
{
	const struct why_instr *l = &f->latest;
	char at[TIMEFMT_MAX], poll[80];

	/* a target that had the job keeps running it until the delete
	 * applies */
	if (is_open(l) && l->op == INSTR_DELETE &&
	    f->definition.status == INSTR_APPLIED) {
		snprintf(text, size,
		    "job %s is no longer aimed at %s, but the delete "
		    "(instruction %lld, posted at %s) is not applied yet: %s "
		    "still has the job and runs it; %s (status %s) %s",
		    f->job, f->target, (long long)l->id,
		    timefmt_utc(l->posted_at, at), f->target, f->target,
		    f->status, polled(f->last_poll, poll, sizeof(poll)));
		return "leaving";
	}
	snprintf(text, size,
	    "job %s is not aimed at %s: neither its targets nor its groups "
	    "name it",
	    f->job, f->target);
	return "not_aimed";
}

static const char *
definition_failed(const struct why_facts *f, char *text, size_t size)
{
	const struct why_instr *d = &f->definition;
	char name[200];

	/* job apply posts even an unchanged document again to this target,
	 * and job start is not posted here meanwhile (failed_defs.h) */
	snprintf(text, size,
	    "the job's latest definition, %s, failed on %s and an "
	    "administrator cleared it: %s %s, and job start is not posted "
	    "there; apply the job again (cohortctl job apply posts its "
	    "definition to %s again, even unchanged), or resync the target "
	    "(cohortctl target resync %s); the error: %s",
	    instr_name(d, name, sizeof(name)), f->target, f->target,
	    d->op == INSTR_INSERT ? "does not have the job"
				  : "runs the job's previous definition",
	    f->target, f->target, d->error[0] ? d->error : "none given");
	return "definition_failed";
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

/* Appends to text what else holds of a job that runs: a start posted
 * and not applied yet; an offline target still runs its schedules; a
 * failure on the target that does not hold this job back. */
static void
running_notes(const struct why_facts *f, char *text, size_t size)
{
	size_t n = strlen(text);
	char poll[80], name[200], at[TIMEFMT_MAX];
	const struct why_instr *l = &f->latest;

	if (n < size && l->found && l->op == INSTR_START &&
	    (l->status == INSTR_PENDING || l->status == INSTR_DOWNLOADED))
		n += (size_t)snprintf(text + n, size - n,
		    "; a start (instruction %lld, posted at %s) is %s: %s %s",
		    (long long)l->id, timefmt_utc(l->posted_at, at),
		    l->status == INSTR_PENDING
			? "not downloaded yet"
			: "downloaded but not applied yet",
		    f->target, polled(f->last_poll, poll, sizeof(poll)));
	if (n < size && strcmp(f->status, "suspected offline") == 0)
		n += (size_t)snprintf(text + n, size - n,
		    "; %s is suspected offline (it %s): it runs its schedules "
		    "alone and uploads the outcomes when it is back",
		    f->target, polled(f->last_poll, poll, sizeof(poll)));
	if (n < size && f->blocker.found)
		snprintf(text + n, size - n,
		    "; %s is blocked at %s, which holds back only what was "
		    "posted after it",
		    f->target, instr_name(&f->blocker, name, sizeof(name)));
}

static const char *
runs_by_schedule(const struct why_facts *f, char *text, size_t size)
{
	const char *verdict = "scheduled";

	if (f->next_run != NULL) {
		snprintf(text, size, "next run at %s (schedule %s)",
		    f->next_run, f->next_schedule ? f->next_schedule : "?");
	} else if (f->start_schedules + f->idle_schedules > 0) {
		snprintf(text, size,
		    "job %s has no timed run ahead; it runs%s%s%s", f->job,
		    f->start_schedules ? " when the target daemon starts" : "",
		    f->start_schedules && f->idle_schedules ? " and" : "",
		    f->idle_schedules ? " when the machine is idle" : "");
		verdict = "on_condition";
	} else if (f->preview_error != NULL) {
		snprintf(text, size,
		    "the master cannot preview job %s's schedules (the target "
		    "computes its own): %s",
		    f->job, f->preview_error);
		return "unknown_next";
	} else {
		snprintf(text, size,
		    "no schedule of job %s has a run ahead (a one-time "
		    "schedule that has passed, or an end date)",
		    f->job);
		return "no_run_ahead";
	}
	running_notes(f, text, size);
	return verdict;
}

const char *
why_verdict(const struct why_facts *f, char *text, size_t size)
{
	if (strcmp(f->status, "defected") == 0) {
		snprintf(text, size,
		    "%s has defected: the master sends it nothing", f->target);
		return "defected";
	}
	if (blocks_this_job(f))
		return blocked(f, text, size);
	if (!f->aimed)
		return not_aimed(f, text, size);
	if (f->definition.found && f->definition.status == INSTR_FAILED &&
	    f->definition.cleared)
		return definition_failed(f, text, size);
	if (is_open(&f->definition))
		return not_delivered(f, text, size);
	if (!f->enabled) {
		snprintf(text, size,
		    "job %s is disabled: no schedule starts it; its due "
		    "instants are recorded as missed when it is enabled again",
		    f->job);
		return "disabled";
	}
	if (f->timed_schedules + f->start_schedules + f->idle_schedules == 0) {
		snprintf(text, size,
		    "job %s has no enabled schedule: it runs only when started "
		    "(cohortctl job start %s)",
		    f->job, f->job);
		running_notes(f, text, size);
		return "on_demand";
	}
	return runs_by_schedule(f, text, size);
}
