/*
 * Unit tests for the record of a run a crash cut off (interrupted.h):
 * built from the ledger's start and step rows, as a table of cases; and
 * the same read back from a store's rows, which runlog empties when the
 * run ends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "target/interrupted.h"
#include "target/tstore.h"

#define T0 1700000000000 /* the run's start, ms */
#define FOUND (T0 + 60000) /* the restart */

static const struct tstore_step ended = {
    1, 1, "first", "succeeded", 0, T0 + 5, 100, ""};
static const struct tstore_step retrying = {
    1, 1, "first", "retrying", 3, T0 + 5, 100, "exit code 3"};
static const struct tstore_step cut = {
    2, 1, "long", "running", -1, T0 + 200, 0, ""};

struct want_step {
	int step, attempt;
	enum run_outcome outcome;
	int exit_code;
	int64_t started_ms, duration_ms;
	const char *message_has;
};

static const struct {
	const char *name;
	int64_t started_ms; /* the ledger's */
	enum cutoff_fate fate;
	const struct tstore_step *steps[2];
	size_t nsteps;
	int64_t want_started_ms, want_duration_ms;
	int want_exit_code;
	struct want_step want[2];
} cases[] = {
    {"one step ended, one cut off and killed at the restart", T0, CUTOFF_KILLED,
	{&ended, &cut}, 2, T0, 60000, -1,
	{{1, 1, OUTCOME_SUCCEEDED, 0, T0 + 5, 100, ""},
	    {2, 1, OUTCOME_INTERRUPTED, -1, T0 + 200, 59800,
		"process group was killed"}}},
    {"the step cut off had ended unseen", T0, CUTOFF_GONE, {&cut}, 1, T0, 60000,
	-1,
	{{2, 1, OUTCOME_INTERRUPTED, -1, T0 + 200, 59800,
	    "exit status unknown"}}},
    {"its outcome lost while the store refused writes: the daemon ran on", T0,
	CUTOFF_LOST, {&cut}, 1, T0, 60000, -1,
	{{2, 1, OUTCOME_INTERRUPTED, -1, T0 + 200, 59800,
	    "lost while the store refused writes"}}},
    {"cut off in a retry wait: no step was running", T0, CUTOFF_UNKNOWN,
	{&retrying}, 1, T0, 60000, 3,
	{{1, 1, OUTCOME_RETRYING, 3, T0 + 5, 100, "exit code 3"}}},
    {"cut off before its first step spawned", T0, CUTOFF_UNKNOWN, {NULL}, 0, T0,
	60000, -1, {{0}}},
    {"no start in the ledger: as of when it was found", 0, CUTOFF_UNKNOWN,
	{NULL}, 0, FOUND, 0, -1, {{0}}},
    {"a clock set back: no negative duration", FOUND + 5000, CUTOFF_UNKNOWN,
	{NULL}, 0, FOUND + 5000, 0, -1, {{0}}},
};

static void
check(const struct run_report *rep, size_t i)
{
	assert_non_null(rep);
	assert_int_equal(rep->target_run_id, 42);
	assert_string_equal(rep->job, "slow");
	assert_int_equal(rep->instr_id, 7);
	assert_int_equal(rep->outcome, OUTCOME_INTERRUPTED);
	assert_string_equal(rep->message, "interrupted: test");
	assert_int_equal(rep->started_ms, cases[i].want_started_ms);
	assert_int_equal(rep->duration_ms, cases[i].want_duration_ms);
	assert_int_equal(rep->exit_code, cases[i].want_exit_code);
	assert_int_equal(rep->nsteps, cases[i].nsteps);
	for (size_t k = 0; k < rep->nsteps; k++) {
		const struct run_step_rec *s = &rep->steps[k];
		const struct want_step *w = &cases[i].want[k];

		assert_int_equal(s->step, w->step);
		assert_int_equal(s->attempt, w->attempt);
		assert_int_equal(s->outcome, w->outcome);
		assert_int_equal(s->exit_code, w->exit_code);
		assert_int_equal(s->started_ms, w->started_ms);
		assert_int_equal(s->duration_ms, w->duration_ms);
		assert_non_null(strstr(s->message, w->message_has));
		assert_string_equal(s->output,
		    cases[i].fate == CUTOFF_LOST ? INTERRUPTED_OUTPUT_LOST
						 : INTERRUPTED_OUTPUT);
	}
}

static struct interrupted_run
run_of(size_t i)
{
	struct interrupted_run run = {42, "slow", 7, cases[i].started_ms, FOUND,
	    cases[i].fate, "interrupted: test"};

	return run;
}

static void
test_interrupted_report(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct interrupted_run run = run_of(i);
		struct tstore_step rows[2];
		struct run_report *rep;
		struct cerr err;

		print_message("case: %s\n", cases[i].name);
		for (size_t k = 0; k < cases[i].nsteps; k++)
			rows[k] = *cases[i].steps[k];
		rep = interrupted_report(&run, rows, cases[i].nsteps, &err);
		check(rep, i);
		run_report_free(rep);
	}
}

/* The same cases through a store: the rows as step_spawned and
 * step_ended put them, an attempt put twice kept once. */
static void
test_interrupted_load(void **state)
{
	char dir[] = "/tmp/cohort-interrupted-XXXXXX", path[64];
	struct tstore *s = NULL;
	struct cerr err;
	int64_t run_id;
	int existed;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/target.db", dir);
	assert_int_equal(tstore_open(path, &s, &err), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct interrupted_run run = run_of(i);
		struct run_report *rep;

		print_message("case: %s\n", cases[i].name);
		assert_int_equal(tstore_run_add(s, "slow", 0, 0, 0, 1, &run_id,
				     &existed, &err),
		    0);
		for (size_t k = 0; k < cases[i].nsteps; k++) {
			struct tstore_step spawned = *cases[i].steps[k];

			spawned.outcome = "running";
			assert_int_equal(
			    tstore_step_put(s, run_id, &spawned, &err), 0);
			assert_int_equal(
			    tstore_step_put(s, run_id, cases[i].steps[k], &err),
			    0);
		}
		run.run_id = run_id;
		rep = interrupted_load(s, &run, &err);
		assert_non_null(rep);
		assert_int_equal(rep->target_run_id, run_id);
		rep->target_run_id = 42; /* what check() wants */
		check(rep, i);
		run_report_free(rep);
		assert_int_equal(tstore_step_delete(s, run_id, &err), 0);
		rep = interrupted_load(s, &run, &err);
		assert_non_null(rep);
		assert_int_equal(rep->nsteps, 0);
		run_report_free(rep);
	}
	tstore_close(s);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_interrupted_report),
	    cmocka_unit_test(test_interrupted_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
