/*
 * Unit tests for the metrics text writer: label values escaped as the
 * Prometheus text format 0.0.4 says, HELP and TYPE lines before every
 * family, histogram buckets cumulative and ending in +Inf, replies
 * counted by code and timed into the right bucket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "master/metrics.h"

static const struct {
	const char *label, *value;
	uint64_t n;
	const char *expect;
} sample_cases[] = {
    {NULL, NULL, 7, "m 7\n"},
    {"target", "web-1", 0, "m{target=\"web-1\"} 0\n"},
    {"target", "a\"b", 1, "m{target=\"a\\\"b\"} 1\n"},
    {"target", "a\\b", 2, "m{target=\"a\\\\b\"} 2\n"},
    {"target", "a\nb", 3, "m{target=\"a\\nb\"} 3\n"},
    {"target", "", 4, "m{target=\"\"} 4\n"},
    {"v", "\\\"\n", 18446744073709551615ull,
	"m{v=\"\\\\\\\"\\n\"} 18446744073709551615\n"},
};

static void
test_sample(void **state)
{
	for (size_t i = 0; i < sizeof(sample_cases) / sizeof(sample_cases[0]);
	     i++) {
		struct buf b;
		struct cerr err;

		buf_init(&b, 4096);
		assert_int_equal(
		    metrics_write_sample(&b, "m", sample_cases[i].label,
			sample_cases[i].value, sample_cases[i].n, &err),
		    0);
		if (strcmp(buf_str(&b), sample_cases[i].expect) != 0)
			fail_msg("case %zu: got '%s'", i, buf_str(&b));
		buf_cleanup(&b);
	}
}

static const struct {
	const char *help, *expect;
} head_cases[] = {
    {"Plain.", "# HELP m Plain.\n# TYPE m counter\n"},
    /* HELP escapes backslash and newline, not the double quote */
    {"a\\b\nc \"d\"", "# HELP m a\\\\b\\nc \"d\"\n# TYPE m counter\n"},
};

static void
test_head(void **state)
{
	for (size_t i = 0; i < sizeof(head_cases) / sizeof(head_cases[0]);
	     i++) {
		struct buf b;
		struct cerr err;

		buf_init(&b, 4096);
		assert_int_equal(metrics_write_head(&b, "m", "counter",
				     head_cases[i].help, &err),
		    0);
		if (strcmp(buf_str(&b), head_cases[i].expect) != 0)
			fail_msg("case %zu: got '%s'", i, buf_str(&b));
		buf_cleanup(&b);
	}
}

static void
test_histogram(void **state)
{
	static const double bounds[] = {0.001, 0.5, 10};
	static const uint64_t counts[] = {2, 0, 3, 1};
	static const char expect[] = "# HELP h Latency.\n"
				     "# TYPE h histogram\n"
				     "h_bucket{le=\"0.001\"} 2\n"
				     "h_bucket{le=\"0.5\"} 2\n"
				     "h_bucket{le=\"10\"} 5\n"
				     "h_bucket{le=\"+Inf\"} 6\n"
				     "h_sum 12.000250\n"
				     "h_count 6\n";
	struct buf b;
	struct cerr err;

	buf_init(&b, 4096);
	assert_int_equal(metrics_write_histogram(&b, "h", "Latency.", bounds, 3,
			     counts, 12000250, &err),
	    0);
	assert_string_equal(buf_str(&b), expect);
	buf_cleanup(&b);
}

/* A reply: its code's slot, and the bucket its time falls in (-1: none,
 * a deferred reply). */
static const struct {
	int status;
	int64_t us;
	size_t code_slot;
	int bucket;
} http_cases[] = {
    {200, 0, 101, 0},
    {200, 1000, 101, 0}, /* on the bound: le is inclusive */
    {200, 1001, 101, 1},
    {403, 30000, 304, 3},
    {503, 20000000, 404, METRICS_BUCKETS - 1},
    {200, -1, 101, -1},
    {99, 5, 0, 0},
    {600, -1, 0, -1},
};

static void
test_http(void **state)
{
	for (size_t i = 0; i < sizeof(http_cases) / sizeof(http_cases[0]);
	     i++) {
		struct metrics mx;

		memset(&mx, 0, sizeof(mx));
		metrics_http(&mx, http_cases[i].status, http_cases[i].us);
		if (mx.codes[http_cases[i].code_slot] != 1)
			fail_msg("case %zu: code slot", i);
		for (int k = 0; k < METRICS_BUCKETS; k++)
			if (mx.buckets[k] != (k == http_cases[i].bucket))
				fail_msg("case %zu: bucket %d", i, k);
		assert_int_equal(mx.observed, http_cases[i].bucket >= 0);
	}
}

static const char *const families[] = {
    "cohort_build_info",
    "cohort_lease_active",
    "cohort_targets",
    "cohort_polls_total",
    "cohort_polls_held",
    "cohort_instructions_unread",
    "cohort_executions_queued",
    "cohort_executions_active",
    "cohort_instructions_posted_total",
    "cohort_instructions_applied_total",
    "cohort_instructions_failed_total",
    "cohort_runs_total",
    "cohort_http_requests_total",
    "cohort_http_request_duration_seconds",
};

/* Every family has its HELP and TYPE lines, every sample line follows
 * the TYPE of its family, and the values are the struct's. */
static void
test_write(void **state)
{
	struct metrics mx;
	struct metrics_gauges g = {{3, 1, 0, 2}, 4, 6, 1, "1.2.3", 7, 2};
	struct buf b;
	struct cerr err;
	char line[128];

	memset(&mx, 0, sizeof(mx));
	mx.polls = 9;
	mx.runs[OUTCOME_SUCCEEDED] = 5;
	metrics_http(&mx, 200, 100);
	metrics_http(&mx, 404, 100);
	buf_init(&b, 65536);
	assert_int_equal(metrics_write(&mx, &g, &b, &err), 0);
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		snprintf(line, sizeof(line), "# HELP %s ", families[i]);
		if (strstr(buf_str(&b), line) == NULL)
			fail_msg("no HELP for %s", families[i]);
		snprintf(line, sizeof(line), "# TYPE %s ", families[i]);
		if (strstr(buf_str(&b), line) == NULL)
			fail_msg("no TYPE for %s", families[i]);
	}
	assert_non_null(strstr(
	    buf_str(&b), "\ncohort_targets{status=\"suspected_offline\"} 0\n"));
	assert_non_null(
	    strstr(buf_str(&b), "\ncohort_targets{status=\"defected\"} 2\n"));
	assert_non_null(strstr(buf_str(&b), "\ncohort_polls_total 9\n"));
	assert_non_null(strstr(buf_str(&b), "\ncohort_polls_held 4\n"));
	assert_non_null(
	    strstr(buf_str(&b), "\ncohort_instructions_unread 6\n"));
	assert_non_null(strstr(buf_str(&b), "\ncohort_lease_active 1\n"));
	assert_non_null(strstr(buf_str(&b), "\ncohort_executions_queued 7\n"));
	assert_non_null(strstr(buf_str(&b), "\ncohort_executions_active 2\n"));
	assert_non_null(
	    strstr(buf_str(&b), "cohort_build_info{version=\"1.2.3\"} 1\n"));
	assert_non_null(strstr(
	    buf_str(&b), "\ncohort_runs_total{outcome=\"succeeded\"} 5\n"));
	assert_null(strstr(buf_str(&b), "outcome=\"running\""));
	assert_non_null(strstr(
	    buf_str(&b), "\ncohort_http_requests_total{code=\"404\"} 1\n"));
	assert_null(strstr(buf_str(&b), "code=\"500\""));
	assert_non_null(strstr(buf_str(&b),
	    "\ncohort_http_request_duration_seconds_bucket{le=\"+Inf\"} 2\n"
	    "cohort_http_request_duration_seconds_sum 0.000200\n"
	    "cohort_http_request_duration_seconds_count 2\n"));
	buf_cleanup(&b);
}

static const struct {
	const char *status;
	int index;
} status_cases[] = {
    {"normal", METRICS_NORMAL},
    {"blocked", METRICS_BLOCKED},
    {"suspected offline", METRICS_OFFLINE},
    {"defected", METRICS_DEFECTED},
    {"bogus", -1},
};

static void
test_status(void **state)
{
	for (size_t i = 0; i < sizeof(status_cases) / sizeof(status_cases[0]);
	     i++)
		if (metrics_status_index(status_cases[i].status) !=
		    status_cases[i].index)
			fail_msg("case %zu: %s", i, status_cases[i].status);
}

/* Output beyond the buffer's maximum fails, naming why. */
static void
test_too_large(void **state)
{
	struct metrics mx;
	struct metrics_gauges g = {{0, 0, 0, 0}, 0, 0, 0, "1.0.0", 0, 0};
	struct buf b;
	struct cerr err;

	memset(&mx, 0, sizeof(mx));
	buf_init(&b, 64);
	assert_int_equal(metrics_write(&mx, &g, &b, &err), -1);
	assert_int_equal(err.code, CERR_TOO_LARGE);
	buf_cleanup(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sample),
	    cmocka_unit_test(test_head),
	    cmocka_unit_test(test_histogram),
	    cmocka_unit_test(test_http),
	    cmocka_unit_test(test_write),
	    cmocka_unit_test(test_status),
	    cmocka_unit_test(test_too_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
