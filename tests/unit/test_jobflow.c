/*
 * Unit tests for the step flow rules: each case is a small job, the
 * sequence of attempt results fed in ('s' succeeded, 'f' failed), and the
 * trace of decisions expected ("1.1" run step 1 attempt 1, "r1.2@5" retry
 * step 1 as attempt 2 after 5 s, "+" done with success, "-" done with
 * failure), plus the final reason. Every trace is also checked to name
 * no (step, attempt) twice: the master keys history rows on it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "target/jobflow.h"

#define NX                                                                     \
	{                                                                      \
		ACTION_NEXT, 0                                                 \
	}
#define QS                                                                     \
	{                                                                      \
		ACTION_QUIT_SUCCESS, 0                                         \
	}
#define QF                                                                     \
	{                                                                      \
		ACTION_QUIT_FAILURE, 0                                         \
	}
#define GO(n)                                                                  \
	{                                                                      \
		ACTION_GOTO, n                                                 \
	}

struct step_def {
	int retries;
	int interval_s;
	struct step_action ok, fail;
};

static const struct flow_case {
	const char *name;
	int nsteps, start;
	struct step_def steps[4];
	const char *results;
	const char *trace;
	const char *reason; /* of the last decision */
} flow_cases[] = {
    {"one step succeeds", 1, 1, {{0, 0, NX, QF}}, "s", "1.1 +",
	"step 1 (s1) succeeded"},
    {"one step fails", 1, 1, {{0, 0, NX, QF}}, "f", "1.1 -",
	"step 1 (s1) failed"},
    {"next after last step keeps success", 2, 1,
	{{0, 0, NX, NX}, {0, 0, NX, NX}}, "ss", "1.1 2.1 +",
	"step 2 (s2) succeeded"},
    {"next after last step keeps failure", 2, 1,
	{{0, 0, NX, NX}, {0, 0, NX, NX}}, "sf", "1.1 2.1 -",
	"step 2 (s2) failed"},
    {"failure goes next, last succeeds", 2, 1, {{0, 0, NX, NX}, {0, 0, NX, QF}},
	"fs", "1.1 2.1 +", "step 2 (s2) succeeded"},
    {"quit_success on failure", 2, 1, {{0, 0, NX, QS}, {0, 0, NX, QF}}, "f",
	"1.1 +", "step 1 (s1) failed; on_failure is quit_success"},
    {"quit_failure on success", 2, 1, {{0, 0, QF, QF}, {0, 0, NX, QF}}, "s",
	"1.1 -", "step 1 (s1) succeeded; on_success is quit_failure"},
    {"quit_success on success", 2, 1, {{0, 0, QS, QF}, {0, 0, NX, QF}}, "s",
	"1.1 +", "step 1 (s1) succeeded"},
    {"default failure quits", 3, 1,
	{{0, 0, NX, QF}, {0, 0, NX, QF}, {0, 0, NX, QF}}, "sf", "1.1 2.1 -",
	"step 2 (s2) failed"},
    {"start step", 3, 2, {{0, 0, NX, QF}, {0, 0, NX, QF}, {0, 0, NX, QF}}, "ss",
	"2.1 3.1 +", "step 3 (s3) succeeded"},
    {"retry then success", 1, 1, {{2, 5, NX, QF}}, "fs", "1.1 r1.2@5 +",
	"step 1 (s1) succeeded"},
    {"retries exhausted", 1, 1, {{2, 0, NX, QF}}, "fff", "1.1 r1.2@0 r1.3@0 -",
	"step 1 (s1) failed"},
    {"retries then on_failure jumps", 3, 1,
	{{1, 1, NX, GO(3)}, {0, 0, NX, QF}, {0, 0, NX, QF}}, "ffs",
	"1.1 r1.2@1 3.1 +", "step 3 (s3) succeeded"},
    {"success is never retried", 2, 1, {{3, 0, NX, QF}, {0, 0, NX, QF}}, "ss",
	"1.1 2.1 +", "step 2 (s2) succeeded"},
    {"goto forward", 3, 1, {{0, 0, GO(3), QF}, {0, 0, NX, QF}, {0, 0, NX, QF}},
	"ss", "1.1 3.1 +", "step 3 (s3) succeeded"},
    {"goto back counts on", 2, 1, {{1, 0, NX, QF}, {0, 0, QS, GO(1)}}, "fsfss",
	"1.1 r1.2@0 2.1 1.3 2.2 +", "step 2 (s2) succeeded"},
    /* check fails, sleep, check fails, sleep, check succeeds */
    {"revisits keep their rows", 2, 1, {{0, 0, QS, GO(2)}, {0, 0, GO(1), QF}},
	"fsfss", "1.1 2.1 1.2 2.2 1.3 +", "step 1 (s1) succeeded"},
    /* each visit has its own retries; the attempts count on */
    {"a revisit retries again", 2, 1, {{1, 0, QS, GO(2)}, {0, 0, GO(1), QF}},
	"ffsffsfs", "1.1 r1.2@0 2.1 1.3 r1.4@0 2.2 1.5 r1.6@0 +",
	"step 1 (s1) succeeded"},
    {"goto self on failure", 1, 1, {{0, 0, QS, GO(1)}}, "ffs", "1.1 1.2 1.3 +",
	"step 1 (s1) succeeded"},
    {"goto beyond the steps", 2, 1, {{0, 0, GO(7), QF}, {0, 0, NX, QF}}, "s",
	"1.1 -", "step 1 (s1) jumps to step 7, which does not exist"},
    {"start step beyond the steps", 2, 3, {{0, 0, NX, QF}, {0, 0, NX, QF}}, "",
	"-", "start step 3 does not exist"},
    {"no steps", 0, 1, {{0}}, "", "-", "the job has no steps"},
    {"loop guard", 2, 1, {{0, 0, NX, QF}, {0, 0, GO(1), QF}}, "ssssssssss",
	"1.1 2.1 1.2 2.2 1.3 2.3 1.4 2.4 1.5 2.5 -",
	"step flow loop limit reached (9 step transitions)"},
};

static struct job *
job_make(const struct flow_case *c)
{
	struct job *job = calloc(1, sizeof(*job));
	char name[16];

	assert_non_null(job);
	job->name = strdup("flow");
	job->start_step = c->start;
	job->nsteps = (size_t)c->nsteps;
	job->steps = calloc(4, sizeof(*job->steps));
	for (int i = 0; i < c->nsteps; i++) {
		snprintf(name, sizeof(name), "s%d", i + 1);
		job->steps[i].name = strdup(name);
		job->steps[i].retry_attempts = c->steps[i].retries;
		job->steps[i].retry_interval_s = c->steps[i].interval_s;
		job->steps[i].on_success = c->steps[i].ok;
		job->steps[i].on_failure = c->steps[i].fail;
	}
	return job;
}

static void
job_drop(struct job *job)
{
	for (size_t i = 0; i < job->nsteps; i++)
		free(job->steps[i].name);
	free(job->steps);
	free(job->name);
	free(job);
}

static void
trace_add(char *trace, size_t size, const struct flow_decision *d)
{
	size_t len = strlen(trace);
	char *p = trace + len;
	size_t left = size - len;
	const char *sep = len ? " " : "";

	switch (d->kind) {
	case FLOW_RUN_STEP:
		snprintf(p, left, "%s%d.%d", sep, d->step, d->attempt);
		break;
	case FLOW_RETRY:
		snprintf(p, left, "%sr%d.%d@%lld", sep, d->step, d->attempt,
		    (long long)d->delay_s);
		break;
	case FLOW_DONE_SUCCESS:
		snprintf(p, left, "%s+", sep);
		break;
	case FLOW_DONE_FAILURE:
		snprintf(p, left, "%s-", sep);
		break;
	}
}

/* Fails when d runs a (step, attempt) that ran before in this run. */
static void
key_check(const struct flow_case *c, const struct flow_decision *d,
    int seen[][2], size_t *nseen)
{
	if (d->kind != FLOW_RUN_STEP && d->kind != FLOW_RETRY)
		return;
	for (size_t i = 0; i < *nseen; i++)
		if (seen[i][0] == d->step && seen[i][1] == d->attempt)
			fail_msg("%s: step %d attempt %d runs twice", c->name,
			    d->step, d->attempt);
	seen[*nseen][0] = d->step;
	seen[(*nseen)++][1] = d->attempt;
}

static void
test_jobflow_cases(void **state)
{
	for (size_t i = 0; i < sizeof(flow_cases) / sizeof(flow_cases[0]);
	     i++) {
		const struct flow_case *c = &flow_cases[i];
		struct job *job = job_make(c);
		struct flow_decision d;
		struct jobflow f;
		char trace[256] = "";
		const char *r = c->results;
		int seen[32][2];
		size_t nseen = 0;

		jobflow_init(&f, job, &d);
		f.max_transitions = 9;
		trace_add(trace, sizeof(trace), &d);
		key_check(c, &d, seen, &nseen);
		while (d.kind == FLOW_RUN_STEP || d.kind == FLOW_RETRY) {
			if (*r == '\0')
				fail_msg("%s: results ran out at '%s'", c->name,
				    trace);
			jobflow_step_done(&f, *r++ == 's', &d);
			trace_add(trace, sizeof(trace), &d);
			key_check(c, &d, seen, &nseen);
		}
		if (strcmp(trace, c->trace) != 0)
			fail_msg("%s: trace '%s', want '%s'", c->name, trace,
			    c->trace);
		if (*r != '\0')
			fail_msg("%s: results left over: '%s'", c->name, r);
		if (strcmp(d.reason, c->reason) != 0)
			fail_msg("%s: reason '%s'", c->name, d.reason);
		job_drop(job);
	}
}

/* Every action pair on a single step with every result: the job's result
 * follows the action, and "next" (there is no next step) keeps the
 * step's own result. */
static void
test_jobflow_single_step_matrix(void **state)
{
	const struct step_action acts[] = {NX, QS, QF, GO(1)};

	for (size_t a = 0; a < 4; a++)
		for (size_t b = 0; b < 4; b++)
			for (int ok = 0; ok <= 1; ok++) {
				struct flow_case c = {"m", 1, 1,
				    {{0, 0, acts[a], acts[b]}}, "", "", ""};
				const struct step_action *act =
				    ok ? &acts[a] : &acts[b];
				struct job *job = job_make(&c);
				struct flow_decision d;
				struct jobflow f;
				enum flow_kind want;

				jobflow_init(&f, job, &d);
				jobflow_step_done(&f, ok, &d);
				if (act->kind == ACTION_GOTO)
					want = FLOW_RUN_STEP;
				else if (act->kind == ACTION_QUIT_SUCCESS)
					want = FLOW_DONE_SUCCESS;
				else if (act->kind == ACTION_QUIT_FAILURE)
					want = FLOW_DONE_FAILURE;
				else
					want = ok ? FLOW_DONE_SUCCESS
						  : FLOW_DONE_FAILURE;
				if (d.kind != want)
					fail_msg(
					    "actions %zu/%zu ok %d: kind %d", a,
					    b, ok, d.kind);
				job_drop(job);
			}
}

/* The default guard is 1000 transitions. */
static void
test_jobflow_default_guard(void **state)
{
	struct flow_case c = {"g", 1, 1, {{0, 0, GO(1), QF}}, "", "", ""};
	struct job *job = job_make(&c);
	struct flow_decision d;
	struct jobflow f;
	int runs = 1;

	jobflow_init(&f, job, &d);
	assert_int_equal(f.max_transitions, 1000);
	for (;;) {
		jobflow_step_done(&f, 1, &d);
		if (d.kind != FLOW_RUN_STEP)
			break;
		runs++;
	}
	assert_int_equal(d.kind, FLOW_DONE_FAILURE);
	assert_int_equal(runs, 1001);
	assert_string_equal(
	    d.reason, "step flow loop limit reached (1000 step transitions)");
	job_drop(job);
}

/* A job over JOB_MAX_STEPS (which the document refuses) ends at once:
 * the per-step counts have no room for it. */
static void
test_jobflow_too_many_steps(void **state)
{
	struct job job;
	struct flow_decision d;
	struct jobflow f;

	memset(&job, 0, sizeof(job));
	job.nsteps = JOB_MAX_STEPS + 1;
	job.start_step = 1;
	jobflow_init(&f, &job, &d);
	assert_int_equal(d.kind, FLOW_DONE_FAILURE);
	assert_string_equal(d.reason, "the job has 101 steps, more than 100");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_jobflow_cases),
	    cmocka_unit_test(test_jobflow_single_step_matrix),
	    cmocka_unit_test(test_jobflow_default_guard),
	    cmocka_unit_test(test_jobflow_too_many_steps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
