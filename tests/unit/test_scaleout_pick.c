/*
 * Unit tests for the choice of a scale-out worker: each state that rules
 * a worker out, the least loaded of those left, and the reason an
 * execution waits when none can take it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "master/scaleout_pick.h"

/* Enabled, alive, not blocked, idle, 10 tasks. */
static struct scaleout_candidate
ready(const char *name)
{
	struct scaleout_candidate c;

	memset(&c, 0, sizeof(c));
	c.name = name;
	c.enabled = 1;
	c.alive = 1;
	c.max_tasks = 10;
	c.last_poll = 1764892800;
	return c;
}

static void
test_least_loaded_first_then_order(void **state)
{
	struct scaleout_candidate c[3] = {
	    ready("w1"), ready("w2"), ready("w3")};
	char why[SCALEOUT_WHY_MAX] = "";

	assert_int_equal(scaleout_pick(c, 3, why, sizeof(why)), 0);
	c[0].active = 2;
	c[1].active = 1;
	c[2].active = 1;
	assert_int_equal(scaleout_pick(c, 3, why, sizeof(why)), 1);
	c[1].active = 3;
	assert_int_equal(scaleout_pick(c, 3, why, sizeof(why)), 2);
	/* one holding a poll first, however loaded: the others may have
	 * just died */
	c[0].holding = 1;
	assert_int_equal(scaleout_pick(c, 3, why, sizeof(why)), 0);
	c[1].holding = 1;
	assert_int_equal(scaleout_pick(c, 3, why, sizeof(why)), 0);
	c[0].active = 5;
	assert_int_equal(scaleout_pick(c, 3, why, sizeof(why)), 1);
}

/* Each state rules one worker out; the other one takes the execution. */
static void
test_each_refusal(void **state)
{
	static const char *const words[] = {"disabled", "offline",
	    "never polled", "blocked by a failed instruction",
	    "runs this job now", "busy (10 of 10 tasks)"};
	char why[SCALEOUT_WHY_MAX];

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		struct scaleout_candidate c[2] = {ready("w1"), ready("w2")};

		switch (i) {
		case 0:
			c[0].enabled = 0;
			break;
		case 1:
			c[0].alive = 0;
			break;
		case 2:
			c[0].alive = 0;
			c[0].last_poll = 0;
			break;
		case 3:
			c[0].blocked = 1;
			break;
		case 4:
			c[0].runs_job = 1;
			break;
		default:
			c[0].active = 10;
			break;
		}
		assert_int_equal(scaleout_pick(c, 2, why, sizeof(why)), 1);
		/* alone, it waits, and the reason names its state */
		why[0] = '\0';
		assert_int_equal(scaleout_pick(c, 1, why, sizeof(why)), -1);
		if (strstr(why, words[i]) == NULL || strstr(why, "w1") == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, why, words[i]);
		assert_non_null(strstr(why, "waiting: no eligible worker can"));
	}
}

static void
test_none_at_all(void **state)
{
	char why[SCALEOUT_WHY_MAX];

	assert_int_equal(scaleout_pick(NULL, 0, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "no eligible worker"));
	assert_non_null(strstr(why, "worker = yes"));
}

/* Many workers: the reason names six and counts the rest; a small buffer
 * is never overrun. */
static void
test_long_reason_is_bounded(void **state)
{
	struct scaleout_candidate c[20];
	char names[20][8], why[SCALEOUT_WHY_MAX], tiny[24];

	for (int i = 0; i < 20; i++) {
		snprintf(names[i], sizeof(names[i]), "w%02d", i);
		c[i] = ready(names[i]);
		c[i].enabled = 0;
	}
	assert_int_equal(scaleout_pick(c, 20, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "w05 disabled"));
	assert_null(strstr(why, "w06"));
	assert_non_null(strstr(why, "and 14 more"));
	memset(tiny, 'x', sizeof(tiny));
	assert_int_equal(scaleout_pick(c, 20, tiny, 16), -1);
	assert_int_equal(strlen(tiny), 15);
	assert_int_equal(tiny[16], 'x');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_least_loaded_first_then_order),
	    cmocka_unit_test(test_each_refusal),
	    cmocka_unit_test(test_none_at_all),
	    cmocka_unit_test(test_long_reason_is_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
