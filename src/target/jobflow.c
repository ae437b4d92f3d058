/*
 * jobflow: the step flow rules (see jobflow.h). A failed try with tries
 * left in the visit is retried; otherwise the step's on_success or
 * on_failure action decides. "next" on the last step ends the job with that step's
 * own result, as SQL Server Agent does, so a job whose last step fails is
 * reported failed even when its action is "next". Every move to a step
 * (not a retry, which retry_attempts bounds) counts as a transition, and
 * too many of them end the job: step:N back-jumps cannot loop forever.
 */
#include "target/jobflow.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define JOBFLOW_MAX_TRANSITIONS 1000

static const char *
step_name(const struct jobflow *f, int step)
{
	const char *name = f->job->steps[step - 1].name;

	return name != NULL ? name : "";
}

static void decide_done(struct flow_decision *d, enum flow_kind kind,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
decide_done(struct flow_decision *d, enum flow_kind kind, const char *fmt, ...)
{
	va_list ap;

	memset(d, 0, sizeof(*d));
	d->kind = kind;
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
}

/* Runs step as its next execution: kind FLOW_RUN_STEP for a new visit,
 * FLOW_RETRY for another try of the current one. */
static void
run_step(
    struct jobflow *f, int step, enum flow_kind kind, struct flow_decision *d)
{
	f->step = step;
	f->attempt = ++f->runs[step - 1];
	f->tries = kind == FLOW_RETRY ? f->tries + 1 : 1;
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->step = step;
	d->attempt = f->attempt;
}

/* Visits step, or ends the job when the loop guard trips. */
static void
decide_step(struct jobflow *f, int step, struct flow_decision *d)
{
	if (step < 1 || (size_t)step > f->job->nsteps) {
		decide_done(d, FLOW_DONE_FAILURE,
		    "step %d (%s) jumps to step %d, which does not exist",
		    f->step, step_name(f, f->step), step);
		return;
	}
	if (++f->transitions > f->max_transitions) {
		decide_done(d, FLOW_DONE_FAILURE,
		    "step flow loop limit reached (%zu step transitions)",
		    f->max_transitions);
		return;
	}
	run_step(f, step, FLOW_RUN_STEP, d);
}

void
jobflow_init(
    struct jobflow *f, const struct job *job, struct flow_decision *first)
{
	memset(f, 0, sizeof(*f));
	f->job = job;
	f->max_transitions = JOBFLOW_MAX_TRANSITIONS;
	if (job->nsteps == 0) {
		decide_done(first, FLOW_DONE_FAILURE, "the job has no steps");
		return;
	}
	if (job->nsteps > JOB_MAX_STEPS) {
		decide_done(first, FLOW_DONE_FAILURE,
		    "the job has %zu steps, more than %d", job->nsteps,
		    JOB_MAX_STEPS);
		return;
	}
	if (job->start_step < 1 || (size_t)job->start_step > job->nsteps) {
		decide_done(first, FLOW_DONE_FAILURE,
		    "start step %d does not exist", job->start_step);
		return;
	}
	run_step(f, job->start_step, FLOW_RUN_STEP, first);
}

/* Ends the job. An action that contradicts the step's result says so
 * in the reason: "step 1 (a) failed; on_failure is quit_success". */
static void
decide_end(struct jobflow *f, int succeeded, int end_success,
    const char *action, struct flow_decision *d)
{
	char note[48] = "";

	if (succeeded != end_success)
		snprintf(note, sizeof(note), "; %s is %s",
		    succeeded ? "on_success" : "on_failure", action);
	decide_done(d, end_success ? FLOW_DONE_SUCCESS : FLOW_DONE_FAILURE,
	    "step %d (%s) %s%s", f->step, step_name(f, f->step),
	    succeeded ? "succeeded" : "failed", note);
}

static void
decide_action(struct jobflow *f, int succeeded, const struct step_action *a,
    struct flow_decision *d)
{
	switch (a->kind) {
	case ACTION_NEXT:
		if ((size_t)f->step < f->job->nsteps)
			decide_step(f, f->step + 1, d);
		else
			decide_end(f, succeeded, succeeded, "next", d);
		return;
	case ACTION_QUIT_SUCCESS:
		decide_end(f, succeeded, 1, "quit_success", d);
		return;
	case ACTION_QUIT_FAILURE:
		decide_end(f, succeeded, 0, "quit_failure", d);
		return;
	case ACTION_GOTO:
		decide_step(f, a->step, d);
		return;
	}
	decide_done(d, FLOW_DONE_FAILURE, "step %d (%s): unknown action",
	    f->step, step_name(f, f->step));
}

void
jobflow_step_done(struct jobflow *f, int succeeded, struct flow_decision *next)
{
	const struct job_step *s = &f->job->steps[f->step - 1];

	if (!succeeded && f->tries <= s->retry_attempts) {
		run_step(f, f->step, FLOW_RETRY, next);
		next->delay_s = s->retry_interval_s;
		snprintf(next->reason, sizeof(next->reason),
		    "step %d (%s) failed; retry %d of %lld in %lld s", f->step,
		    step_name(f, f->step), f->tries - 1,
		    (long long)s->retry_attempts,
		    (long long)s->retry_interval_s);
		return;
	}
	decide_action(
	    f, succeeded, succeeded ? &s->on_success : &s->on_failure, next);
}
