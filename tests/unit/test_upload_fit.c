/*
 * Run records cut to fit the master's upload limit: under the budget,
 * each output's tail kept from a character's start, after a marker.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "target/upload_fit.h"

static char *
repeat(const char *unit, size_t times, const char *end)
{
	size_t u = strlen(unit), e = strlen(end);
	char *s = malloc(u * times + e + 1);

	assert_non_null(s);
	for (size_t i = 0; i < times; i++)
		memcpy(s + i * u, unit, u);
	memcpy(s + u * times, end, e + 1);
	return s;
}

static json_t *
run_with(const char *out1, const char *out2)
{
	return json_pack("{s:s,s:[{s:i,s:s},{s:i,s:s}]}", "job", "j", "steps",
	    "step", 1, "output", out1, "step", 2, "output", out2);
}

static const char *
output_of(json_t *run, size_t i)
{
	return json_string_value(json_object_get(
	    json_array_get(json_object_get(run, "steps"), i), "output"));
}

static void
test_fits_and_keeps_the_tail(void **state)
{
	/* two-byte characters, so a cut at an odd byte lands mid-character */
	char *big = repeat("\xc3\xa9", 50000, "END\n");
	json_t *run = run_with(big, "small\n");
	size_t size;

	(void)state;
	/* each step may keep 20004 / 2 / 2 = 5001 bytes: an odd cut */
	size = upload_fit_run(run, 20004);
	assert_true(size > 0 && size <= 20004);
	assert_int_equal(size, upload_json_size(run));
	assert_non_null(strstr(output_of(run, 0), "of 100004 bytes"));
	assert_true(strncmp(output_of(run, 0), "[cohort: output cut", 19) == 0);
	assert_non_null(strstr(output_of(run, 0), "END\n"));
	/* a short output is left as it is */
	assert_string_equal(output_of(run, 1), "small\n");
	json_decref(run);
	free(big);
}

static void
test_under_the_budget_changes_nothing(void **state)
{
	json_t *run = run_with("a\n", "b\n");
	size_t before = upload_json_size(run);

	(void)state;
	assert_int_equal(upload_fit_run(run, 1000), before);
	assert_string_equal(output_of(run, 0), "a\n");
	json_decref(run);
}

static void
test_escaped_output_still_fits(void **state)
{
	/* control bytes cost six each in JSON: more rounds of cutting */
	char *ctl = repeat("\x01", 30000, "");
	json_t *run = run_with(ctl, ctl);

	(void)state;
	assert_true(upload_fit_run(run, 8000) <= 8000);
	json_decref(run);
	free(ctl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fits_and_keeps_the_tail),
	    cmocka_unit_test(test_under_the_budget_changes_nothing),
	    cmocka_unit_test(test_escaped_output_still_fits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
