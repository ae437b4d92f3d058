/*
 * Unit tests for `job why`'s verdict: each case is a set of facts (a
 * target's aim and status, the download list, the job's flags, its next
 * run), the verdict expected and words its explanation must hold; each
 * case adds the one fact that makes the verdict before it give way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "master/why.h"

#define T0 1764892800 /* 2025-12-05T00:00:00Z */

/* A healthy fact base: aimed, normal, definition applied (it is also
 * the job's latest instruction), enabled, one timed schedule with a next
 * run. */
static struct why_facts
base(void)
{
	struct why_facts f;

	memset(&f, 0, sizeof(f));
	f.job = "tick";
	f.target = "web-1";
	f.aimed = 1;
	f.status = "normal";
	f.last_poll = T0;
	f.enabled = 1;
	f.timed_schedules = 1;
	f.definition.found = 1;
	f.definition.id = 7;
	f.definition.op = INSTR_INSERT;
	f.definition.status = INSTR_APPLIED;
	f.definition.posted_at = T0 - 60;
	f.definition.applied_at = T0 - 59;
	snprintf(f.definition.object, sizeof(f.definition.object), "tick");
	f.latest = f.definition;
	f.next_run = "2025-12-05T00:01:00Z";
	f.next_schedule = "every-minute";
	return f;
}

/* The target failed instruction 5, for another job. */
static void
block_at_5(struct why_facts *f, const char *object)
{
	f->status = "blocked";
	f->blocker.found = 1;
	f->blocker.id = 5;
	f->blocker.op = INSTR_INSERT;
	f->blocker.status = INSTR_FAILED;
	f->blocker.applied_at = T0 - 30;
	snprintf(f->blocker.object, sizeof(f->blocker.object), "%s", object);
	snprintf(f->blocker.error, sizeof(f->blocker.error), "no such proxy");
}

static void
expect(const struct why_facts *f, const char *verdict, const char *words1,
    const char *words2)
{
	char text[WHY_TEXT_MAX];
	const char *got = why_verdict(f, text, sizeof(text));

	if (strcmp(got, verdict) != 0)
		fail_msg("verdict %s, expected %s (%s)", got, verdict, text);
	if (strstr(text, words1) == NULL)
		fail_msg("'%s' not in: %s", words1, text);
	if (words2 != NULL && strstr(text, words2) == NULL)
		fail_msg("'%s' not in: %s", words2, text);
}

static void
test_scheduled(void **state)
{
	struct why_facts f = base();

	(void)state;
	expect(&f, "scheduled", "next run at 2025-12-05T00:01:00Z",
	    "schedule every-minute");
	/* offline: schedules still run there */
	f.status = "suspected offline";
	expect(
	    &f, "scheduled", "suspected offline", "runs its schedules alone");
}

static void
test_without_a_timed_run(void **state)
{
	struct why_facts f = base();
	char text[WHY_TEXT_MAX];

	(void)state;
	f.next_run = NULL;
	f.next_schedule = NULL;
	expect(&f, "no_run_ahead", "no schedule of job tick has a run ahead",
	    NULL);
	f.preview_error = "zone Mars/Olympus: no such zone";
	expect(&f, "unknown_next", "cannot preview", "Mars/Olympus");
	f.idle_schedules = 1;
	expect(&f, "on_condition", "when the machine is idle", NULL);
	f.start_schedules = 1;
	expect(
	    &f, "on_condition", "when the target daemon starts and when", NULL);
	f.timed_schedules = f.start_schedules = f.idle_schedules = 0;
	expect(&f, "on_demand", "runs only when started",
	    "cohortctl job start tick");
	/* a start posted and not applied yet is named, with the last poll */
	f.latest.id = 9;
	f.latest.op = INSTR_START;
	f.latest.status = INSTR_PENDING;
	f.latest.posted_at = T0 - 10;
	f.status = "suspected offline";
	expect(&f, "on_demand", "a start (instruction 9, posted at",
	    "is not downloaded yet: web-1 last polled");
	f.latest.status = INSTR_DOWNLOADED;
	expect(&f, "on_demand", "downloaded but not applied yet", NULL);
	f.latest.status = INSTR_APPLIED;
	f.status = "normal";
	why_verdict(&f, text, sizeof(text));
	assert_null(strstr(text, "a start ("));
}

static void
test_disabled(void **state)
{
	struct why_facts f = base();

	(void)state;
	f.enabled = 0;
	expect(&f, "disabled", "job tick is disabled", "recorded as missed");
}

static void
test_not_delivered(void **state)
{
	struct why_facts f = base();

	(void)state;
	f.enabled = 0; /* the disabling update has not arrived */
	f.definition.op = INSTR_UPDATE;
	f.definition.status = INSTR_PENDING;
	f.latest = f.definition;
	f.status = "suspected offline";
	expect(
	    &f, "not_delivered", "instruction 7, update", "not downloaded yet");
	expect(&f, "not_delivered",
	    "web-1 (status suspected offline) last polled",
	    "at 2025-12-05T00:00:00Z");
	f.definition.status = INSTR_DOWNLOADED;
	f.last_poll = 0;
	expect(&f, "not_delivered", "downloaded but not applied",
	    "has never polled");
	/* no definition in the list (scanned past, applied long ago) */
	f.definition.found = 0;
	expect(&f, "disabled", "job tick is disabled", NULL);
}

static void
test_definition_failed_and_cleared(void **state)
{
	struct why_facts f = base();

	(void)state;
	f.definition.status = INSTR_FAILED;
	f.definition.cleared = 1;
	snprintf(f.definition.error, sizeof(f.definition.error), "clash");
	expect(&f, "definition_failed", "does not have the job", "clash");
	/* the advice matches what the commands do (failed_defs.h) */
	expect(&f, "definition_failed", "job start is not posted there",
	    "cohortctl job apply posts its definition to web-1 again, even "
	    "unchanged");
	f.definition.op = INSTR_UPDATE;
	expect(&f, "definition_failed", "runs the job's previous definition",
	    "cohortctl target resync web-1");
}

static void
test_blocked_only_where_it_holds_the_job(void **state)
{
	struct why_facts f = base();

	(void)state;
	/* failed after the job's definition applied: the job runs on */
	block_at_5(&f, "other");
	f.latest.id = f.definition.id = 3;
	expect(&f, "scheduled", "next run at",
	    "blocked at instruction 5 (insert other), which holds back only");
	/* the job's newer instruction waits behind it */
	f.definition.id = 7;
	f.definition.status = INSTR_PENDING;
	f.latest = f.definition;
	expect(&f, "blocked", "instruction 5 (insert other), which failed",
	    "the error: no such proxy");
	expect(&f, "blocked", "cohortctl downloadlist clear 5",
	    "cohortctl target resync web-1");
	/* the job's own instruction failed: blocked even when not aimed */
	f = base();
	block_at_5(&f, "tick");
	f.aimed = 0;
	expect(&f, "blocked", "instruction 5 (insert tick)", NULL);
}

static void
test_defected_not_aimed_and_leaving(void **state)
{
	struct why_facts f = base();

	(void)state;
	f.aimed = 0;
	expect(&f, "not_aimed", "job tick is not aimed at web-1", NULL);
	/* moved away while offline: the delete waits, the job still runs */
	f.latest.id = 9;
	f.latest.op = INSTR_DELETE;
	f.latest.status = INSTR_DOWNLOADED;
	expect(&f, "leaving", "delete (instruction 9",
	    "still has the job and runs it");
	/* the job never reached it */
	f.definition.status = INSTR_PENDING;
	expect(&f, "not_aimed", "job tick is not aimed at web-1", NULL);
	f.status = "defected";
	expect(&f, "defected", "web-1 has defected", NULL);
}

static void
test_long_error_is_not_cut(void **state)
{
	struct why_facts f = base();
	char text[WHY_TEXT_MAX];

	(void)state;
	block_at_5(&f, "tick");
	/* the longest error a target may send, in two-byte characters */
	for (size_t i = 0; i + 2 < 1000; i += 2)
		memcpy(f.blocker.error + i, "\xc3\xa9", 2);
	assert_string_equal(why_verdict(&f, text, sizeof(text)), "blocked");
	assert_non_null(strstr(text, f.blocker.error));
	assert_non_null(strstr(text, "downloadlist clear 5"));
}

static void
test_text_is_cut_not_overrun(void **state)
{
	struct why_facts f = base();
	char text[16];

	(void)state;
	memset(text, 'x', sizeof(text));
	assert_string_equal(why_verdict(&f, text, 8), "scheduled");
	assert_int_equal(strlen(text), 7);
	assert_int_equal(text[8], 'x');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scheduled),
	    cmocka_unit_test(test_without_a_timed_run),
	    cmocka_unit_test(test_disabled),
	    cmocka_unit_test(test_not_delivered),
	    cmocka_unit_test(test_definition_failed_and_cleared),
	    cmocka_unit_test(test_blocked_only_where_it_holds_the_job),
	    cmocka_unit_test(test_defected_not_aimed_and_leaving),
	    cmocka_unit_test(test_long_error_is_not_cut),
	    cmocka_unit_test(test_text_is_cut_not_overrun),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
