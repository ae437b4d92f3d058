/*
 * Unit tests for tz: the TZif reader checked against glibc's reading of the
 * same files, wall time to UTC under the DST rules (gap: the end of the
 * gap; repeat: the first occurrence), zone name checks, the system zone,
 * and civil date arithmetic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/tz.h"

#define NCASES(t) (sizeof(t) / sizeof((t)[0]))

/* Offsets agree with glibc's own reading of the same files from 1901 to
 * 2100, past the last transition where the footer rule takes over. TZ is
 * set for glibc only and restored. */
static void
test_tz_matches_glibc(void **state)
{
	static const char *const zones[] = {"Europe/Berlin", "America/New_York",
	    "Australia/Lord_Howe", "UTC", "Pacific/Apia", "America/Santiago",
	    "Asia/Tehran", "Africa/Casablanca", "Europe/Dublin",
	    "Antarctica/Troll", "Pacific/Chatham", "Asia/Kolkata",
	    "America/St_Johns", "Europe/London", "Australia/Sydney"};
	const char *old = getenv("TZ");
	char *saved = old != NULL ? strdup(old) : NULL;

	for (size_t z = 0; z < NCASES(zones); z++) {
		struct tz *tz = NULL;
		struct cerr err;

		assert_int_equal(tz_load(zones[z], &tz, &err), 0);
		setenv("TZ", zones[z], 1);
		tzset();
		for (int64_t t = -2100000000LL; t < 4102444800LL;
		     t += 86400 * 3 + 3599) {
			time_t tt = (time_t)t;
			struct tm tm;

			localtime_r(&tt, &tm);
			if (tm.tm_gmtoff != tz_offset_at(tz, t))
				fail_msg("%s at %lld: glibc %ld, ours %d",
				    zones[z], (long long)t, tm.tm_gmtoff,
				    tz_offset_at(tz, t));
		}
		tz_free(tz);
	}
	if (saved != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

static const struct {
	const char *zone;
	const char *local;
	enum tz_local_kind kind;
	const char *utc_as_local; /* the instant chosen, with its offset */
} local_cases[] = {
    {"Europe/Berlin", "2024-03-31T01:59:59", TZ_LOCAL_UNIQUE,
	"2024-03-31T01:59:59+01:00"},
    {"Europe/Berlin", "2024-03-31T02:00:00", TZ_LOCAL_GAP,
	"2024-03-31T03:00:00+02:00"},
    {"Europe/Berlin", "2024-03-31T02:59:59", TZ_LOCAL_GAP,
	"2024-03-31T03:00:00+02:00"},
    {"Europe/Berlin", "2024-03-31T03:00:00", TZ_LOCAL_UNIQUE,
	"2024-03-31T03:00:00+02:00"},
    {"Europe/Berlin", "2024-10-27T01:59:59", TZ_LOCAL_UNIQUE,
	"2024-10-27T01:59:59+02:00"},
    {"Europe/Berlin", "2024-10-27T02:00:00", TZ_LOCAL_REPEATED,
	"2024-10-27T02:00:00+02:00"},
    {"Europe/Berlin", "2024-10-27T02:59:59", TZ_LOCAL_REPEATED,
	"2024-10-27T02:59:59+02:00"},
    {"Europe/Berlin", "2024-10-27T03:00:00", TZ_LOCAL_UNIQUE,
	"2024-10-27T03:00:00+01:00"},
    {"America/New_York", "2024-03-10T02:30:00", TZ_LOCAL_GAP,
	"2024-03-10T03:00:00-04:00"},
    {"America/New_York", "2024-11-03T01:30:00", TZ_LOCAL_REPEATED,
	"2024-11-03T01:30:00-04:00"},
    {"Australia/Lord_Howe", "2024-10-06T02:00:00", TZ_LOCAL_GAP,
	"2024-10-06T02:30:00+11:00"},
    {"Australia/Lord_Howe", "2024-10-06T02:29:00", TZ_LOCAL_GAP,
	"2024-10-06T02:30:00+11:00"},
    {"Australia/Lord_Howe", "2024-10-06T02:30:00", TZ_LOCAL_UNIQUE,
	"2024-10-06T02:30:00+11:00"},
    {"Australia/Lord_Howe", "2024-04-07T01:30:00", TZ_LOCAL_REPEATED,
	"2024-04-07T01:30:00+11:00"},
    {"Australia/Lord_Howe", "2024-04-07T01:59:59", TZ_LOCAL_REPEATED,
	"2024-04-07T01:59:59+11:00"},
    {"Australia/Lord_Howe", "2024-04-07T02:00:00", TZ_LOCAL_UNIQUE,
	"2024-04-07T02:00:00+10:30"},
    {"America/Santiago", "2024-09-08T00:30:00", TZ_LOCAL_GAP,
	"2024-09-08T01:00:00-03:00"},
    {"Antarctica/Troll", "2024-03-31T01:30:00", TZ_LOCAL_GAP,
	"2024-03-31T03:00:00+02:00"},
    {"Pacific/Apia", "2011-12-30T12:00:00", TZ_LOCAL_GAP,
	"2011-12-31T00:00:00+14:00"},
    {"UTC", "2024-03-31T02:30:00", TZ_LOCAL_UNIQUE,
	"2024-03-31T02:30:00+00:00"},
};

static void
test_tz_from_local(void **state)
{
	char got[64];

	for (size_t i = 0; i < NCASES(local_cases); i++) {
		struct tz *tz = NULL;
		struct cerr err;
		enum tz_local_kind kind;
		int64_t local, utc;

		assert_int_equal(tz_load(local_cases[i].zone, &tz, &err), 0);
		assert_int_equal(
		    tz_parse_local(local_cases[i].local, &local), 0);
		utc = tz_from_local(tz, local, &kind);
		tz_format_rfc3339(tz, utc, got, sizeof(got));
		if (kind != local_cases[i].kind ||
		    strcmp(got, local_cases[i].utc_as_local) != 0)
			fail_msg("case %zu %s %s: got %s kind %d", i,
			    local_cases[i].zone, local_cases[i].local, got,
			    kind);
		tz_free(tz);
	}
}

static void
test_tz_names(void **state)
{
	static const struct {
		const char *name;
		const char *expect; /* NULL: accepted */
	} cases[] = {
	    {"Europe/Berlin", NULL},
	    {"UTC", NULL},
	    {"Etc/GMT+5", NULL},
	    {"America/Argentina/Buenos_Aires", NULL},
	    {"", "not a zone name"},
	    {"/Europe/Berlin", "not a zone name"},
	    {"Europe/Berlin/", "not a zone name"},
	    {"../zoneinfo/UTC", "not a zone name"},
	    {"Europe/..", "not a zone name"},
	    {"Europe Berlin", "not a zone name"},
	    {"Europe/Berlin\n", "not a zone name"},
	    {"Europe/Nowhere", "'Europe/Nowhere' is not a known time zone"},
	    {"America", "'America' is not a known time zone"},
	    {"iso3166.tab", "is not a usable TZif file"},
	    {"posixrules-not-there", "not a known time zone"},
	    {"a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z/0/1/2/3/4/5/6",
		"not a zone name"},
	};
	struct cerr err;

	for (size_t i = 0; i < NCASES(cases); i++) {
		int rc = tz_check_name(cases[i].name, "tz", &err);

		if (cases[i].expect == NULL && rc != 0)
			fail_msg("case %zu refused: %s", i, err.msg);
		if (cases[i].expect != NULL &&
		    (rc == 0 || strstr(err.msg, cases[i].expect) == NULL ||
			strncmp(err.msg, "tz: ", 4) != 0))
			fail_msg("case %zu: '%s' not in '%s'", i,
			    cases[i].expect, rc == 0 ? "(accepted)" : err.msg);
	}
}

static void
test_tz_system_name(void **state)
{
	const char *old = getenv("TZ");
	char *saved = old != NULL ? strdup(old) : NULL;
	char buf[TZ_NAME_MAX + 1];
	struct cerr err;

	setenv("TZ", ":Europe/Berlin", 1);
	assert_string_equal(tz_system_name(buf, sizeof(buf)), "Europe/Berlin");
	setenv("TZ", "/usr/share/zoneinfo/Asia/Tokyo", 1);
	assert_string_equal(tz_system_name(buf, sizeof(buf)), "Asia/Tokyo");
	setenv("TZ", "CET-1CEST", 1); /* not a name: falls through */
	unsetenv("TZ");
	/* whatever the machine says, it is a zone we can load */
	assert_int_equal(
	    tz_check_name(tz_system_name(buf, sizeof(buf)), "tz", &err), 0);
	if (saved != NULL)
		setenv("TZ", saved, 1);
	free(saved);
}

static void
test_tz_civil(void **state)
{
	int64_t day, local;
	int sec;
	char buf[32];

	for (int64_t d = -800000; d <= 3000000; d += 17) {
		int64_t y;
		int m, dd;

		tz_civil_from_days(d, &y, &m, &dd);
		assert_int_equal(tz_days_from_civil(y, m, dd), d);
		assert_true(dd >= 1 && dd <= tz_month_days(y, m));
	}
	assert_int_equal(tz_days_from_civil(2024, 1, 1), 19723);
	assert_int_equal(tz_weekday(0), 3); /* Thursday */
	assert_int_equal(tz_weekday(-3), 0); /* Monday 1969-12-29 */
	assert_int_equal(tz_weekday(19723), 0);
	assert_false(tz_is_leap(2100));
	assert_true(tz_is_leap(2000));
	assert_true(tz_is_leap(2028));
	assert_int_equal(tz_month_days(2100, 2), 28);
	assert_int_equal(tz_floor_div(-1, 7), -1);
	assert_int_equal(tz_floor_div(-7, 7), -1);
	assert_int_equal(tz_floor_div(6, 7), 0);
	assert_int_equal(tz_parse_date("2024-02-29", &day), 0);
	assert_int_equal(tz_parse_date("2100-02-29", &day), -1);
	assert_int_equal(tz_parse_date("2024-02-29x", &day), -1);
	assert_int_equal(tz_parse_date("+024-02-29", &day), -1);
	assert_int_equal(tz_parse_time("23:59:59", &sec), 0);
	assert_int_equal(sec, 86399);
	assert_int_equal(tz_parse_time("23:59:5", &sec), -1);
	assert_int_equal(tz_parse_time("-1:00", &sec), -1);
	assert_int_equal(tz_parse_local("9999-12-31T23:59:59", &local), 0);
	assert_string_equal(
	    tz_format_local(local, buf, sizeof(buf)), "9999-12-31T23:59:59");
	assert_int_equal(tz_parse_local("2024-01-01T00:00", &local), 0);
	assert_int_equal(local, 19723LL * 86400);
	assert_int_equal(tz_parse_local("2024-01-01T00:00:00:00", &local), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tz_matches_glibc),
	    cmocka_unit_test(test_tz_from_local),
	    cmocka_unit_test(test_tz_names),
	    cmocka_unit_test(test_tz_system_name),
	    cmocka_unit_test(test_tz_civil),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
