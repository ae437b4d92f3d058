/*
 * Unit tests for a machine zone given as a POSIX TZ rule ($TZ such as
 * "CET-1CEST,M3.5.0,M10.5.0/3"), taken the way a target takes it
 * (tzlocal_load, with no localtime file to fall back on), checked
 * against glibc's localtime_r under the same TZ: offsets and wall times
 * on both sides of every change over a dozen years, daily schedules
 * across the changes, and what every other tz.h function does with it.
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
#include <jansson.h>

#include "common/schedule.h"
#include "common/tz.h"
#include "common/tzlocal.h"

#define NCASES(t) (sizeof(t) / sizeof((t)[0]))

/* No localtime file: a TZ passed over gives UTC, never this machine's. */
static const struct tzlocal_paths no_etc = {
    "/nonexistent-cohort-etc/localtime", "/nonexistent-cohort-etc/timezone"};

#define FROM_UTC 1546300800LL /* 2019-01-01T00:00:00Z */
#define TO_UTC 1924992000LL /* 2031-01-01T00:00:00Z */

/* The zone a target gets with TZ=rule; TZ stays set, for glibc. */
static struct tz *
zone_of_env(const char *rule)
{
	struct tz *tz = NULL;
	struct cerr err = {0};

	setenv("TZ", rule, 1);
	tzset();
	if (tzlocal_load(&no_etc, &tz, &err) != 0)
		fail_msg("TZ=%s: %s", rule, err.msg);
	return tz;
}

static void
restore_tz(char *saved)
{
	if (saved != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

static char *
save_tz(void)
{
	const char *old = getenv("TZ");

	return old != NULL ? strdup(old) : NULL;
}

/* glibc's offset at utc and its wall time as local seconds. */
static long
glibc_at(int64_t utc, int64_t *local_s)
{
	time_t t = (time_t)utc;
	struct tm tm;

	localtime_r(&t, &tm);
	*local_s =
	    tz_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) *
		86400 +
	    tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	return tm.tm_gmtoff;
}

static void
check_instant(const char *rule, const struct tz *tz, int64_t utc)
{
	int64_t want_local;
	long want = glibc_at(utc, &want_local);

	if (tz_offset_at(tz, utc) != want || tz_to_local(tz, utc) != want_local)
		fail_msg("TZ=%s at %lld: glibc %ld, ours %d", rule,
		    (long long)utc, want, tz_offset_at(tz, utc));
}

/* The first second in (lo, hi] whose glibc offset differs from lo's. */
static int64_t
glibc_change(int64_t lo, int64_t hi)
{
	int64_t l;
	long before = glibc_at(lo, &l);

	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;

		if (glibc_at(mid, &l) == before)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

static const struct {
	const char *rule;
	int changes; /* glibc's changes of offset from 2019 to 2030 */
} glibc_cases[] = {
    {"CET-1CEST,M3.5.0,M10.5.0/3", 24},
    {"EST5EDT,M3.2.0,M11.1.0", 24},
    {"<+0330>-3:30", 0},
    {"JST-9", 0},
    {"UTC0", 0},
    {"<-0930>9:30", 0},
    /* southern hemisphere: summer across the turn of the year */
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", 24},
    {"<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", 24},
    /* negative and past-midnight change times (Nuuk, Israel) */
    {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", 24},
    {"IST-2IDT,M3.4.4/26,M10.5.0", 24},
    /* Jn (Feb 29 never counted) and zero-based n (counted), with times */
    {"AAA-2BBB,J60/25,J300", 24},
    {"CCC3DDD,59/-1,299/2", 24},
    /* summer not one hour ahead; change times with minutes and seconds */
    {"EEE5FFF4:30,M3.2.0/-1:30,M11.1.0/1:15:30", 24},
    {"GGG-1HHH-3,M3.5.0/1,M10.5.0", 24},
    /* no dates: glibc's built-in default, the US rules since 2007 */
    {"AAA5BBB", 24},
    {"CET-1CEST", 24},
    {"JST-9junk", 24},
};

/* Offsets and wall times agree with glibc's every ~hour and on both sides
 * of every change it makes, for rules of every form. glibc is pointed at
 * a TZDIR without posixrules: for a rule without dates it then uses its
 * built-in US dates, as cohort does. With the file (Debian's links it to
 * America/New_York) glibc moves that file's changes by the difference of
 * offsets, even the autumn one of an "EST5EDT"-like rule, and past 2037
 * takes the file's own offsets; cohort does not follow it there. */
static void
test_tz_rule_matches_glibc(void **state)
{
	char *saved = save_tz();

	assert_null(getenv("TZDIR")); /* unset again after */
	setenv("TZDIR", "/nonexistent-cohort-zoneinfo", 1);

	for (size_t i = 0; i < NCASES(glibc_cases); i++) {
		const char *rule = glibc_cases[i].rule;
		struct tz *tz = zone_of_env(rule);
		int changes = 0;
		int64_t l;

		assert_string_equal(tz_name(tz), rule);
		for (int64_t t = FROM_UTC; t < TO_UTC; t += 3599) {
			int64_t next = t + 3599;

			check_instant(rule, tz, t);
			if (glibc_at(t, &l) != glibc_at(next, &l)) {
				int64_t at = glibc_change(t, next);

				check_instant(rule, tz, at - 1);
				check_instant(rule, tz, at);
				changes++;
			}
		}
		if (changes != glibc_cases[i].changes)
			fail_msg("TZ=%s: %d changes, want %d", rule, changes,
			    glibc_cases[i].changes);
		tz_free(tz);
	}
	unsetenv("TZDIR");
	restore_tz(saved);
}

static struct schedule *
daily_at(const char *at)
{
	char text[128];
	json_error_t jerr;
	json_t *j;
	struct schedule *s = NULL;
	struct cerr err;

	snprintf(text, sizeof(text),
	    "{\"name\":\"d\",\"kind\":\"daily\",\"at\":\"%s\"}", at);
	j = json_loads(text, 0, &jerr);
	assert_non_null(j);
	if (schedule_from_json(j, "schedules[1]", &s, &err) != 0)
		fail_msg("%s: %s", text, err.msg);
	json_decref(j);
	return s;
}

/* A daily schedule in a rule zone runs when it runs in the IANA zone
 * that has that rule now (itself checked against glibc in test_tz.c),
 * day by day through 2024-2026, DST gaps and repeats included. */
static void
test_tz_rule_daily_like_its_zone(void **state)
{
	static const struct {
		const char *rule, *zone, *at;
	} cases[] = {
	    {"CET-1CEST,M3.5.0,M10.5.0/3", "Europe/Berlin", "02:30"},
	    {"CET-1CEST,M3.5.0,M10.5.0/3", "Europe/Berlin", "09:00"},
	    {"EST5EDT,M3.2.0,M11.1.0", "America/New_York", "01:30"},
	    {"EST5EDT,M3.2.0,M11.1.0", "America/New_York", "02:15"},
	    {"AEST-10AEDT,M10.1.0,M4.1.0/3", "Australia/Sydney", "02:30"},
	    {"<+0330>-3:30", "Asia/Tehran", "06:00"},
	};
	char *saved = save_tz();
	struct cerr err;

	for (size_t i = 0; i < NCASES(cases); i++) {
		struct tz *rule = zone_of_env(cases[i].rule), *zone = NULL;
		struct schedule *s = daily_at(cases[i].at);
		int64_t after = 1704067200LL; /* 2024-01-01T00:00:00Z */

		assert_int_equal(tz_load(cases[i].zone, &zone, &err), 0);
		for (int day = 0; day < 3 * 366; day++) {
			struct schedule_due a, b;

			schedule_next_due(s, rule, after, &a);
			schedule_next_due(s, zone, after, &b);
			if (a.utc != b.utc || a.dst != b.dst ||
			    a.offset_s != b.offset_s)
				fail_msg(
				    "TZ=%s at %s after %lld: %lld, %s %lld",
				    cases[i].rule, cases[i].at,
				    (long long)after, (long long)a.utc,
				    cases[i].zone, (long long)b.utc);
			after = a.utc;
		}
		schedule_free(s);
		tz_free(rule);
		tz_free(zone);
	}
	restore_tz(saved);
}

/* The next runs of "daily at 02:30" around the changes, written out. */
static void
test_tz_rule_daily_across_dst(void **state)
{
	static const struct {
		const char *rule;
		const char *after; /* UTC */
		const char *want[3];
	} cases[] = {
	    {"CET-1CEST,M3.5.0,M10.5.0/3", "2025-03-29T12:00:00",
		{"2025-03-30T03:00:00+02:00", "2025-03-31T02:30:00+02:00",
		    "2025-04-01T02:30:00+02:00"}},
	    {"CET-1CEST,M3.5.0,M10.5.0/3", "2025-10-25T12:00:00",
		{"2025-10-26T02:30:00+02:00", "2025-10-27T02:30:00+01:00",
		    "2025-10-28T02:30:00+01:00"}},
	    {"AEST-10AEDT,M10.1.0,M4.1.0/3", "2025-10-04T00:00:00",
		{"2025-10-05T03:00:00+11:00", "2025-10-06T02:30:00+11:00",
		    "2025-10-07T02:30:00+11:00"}},
	    {"AEST-10AEDT,M10.1.0,M4.1.0/3", "2026-04-04T00:00:00",
		{"2026-04-05T02:30:00+11:00", "2026-04-06T02:30:00+10:00",
		    "2026-04-07T02:30:00+10:00"}},
	    /* no dates: the second Sunday of March, first of November */
	    {"CET-1CEST", "2025-03-08T12:00:00",
		{"2025-03-09T03:00:00+02:00", "2025-03-10T02:30:00+02:00",
		    "2025-03-11T02:30:00+02:00"}},
	};
	char *saved = save_tz();
	struct schedule *s = daily_at("02:30");

	for (size_t i = 0; i < NCASES(cases); i++) {
		struct tz *tz = zone_of_env(cases[i].rule);
		int64_t after;
		char got[40];

		/* UTC is the wall time of offset 0 */
		assert_int_equal(tz_parse_local(cases[i].after, &after), 0);
		for (int k = 0; k < 3; k++) {
			struct schedule_due d;

			schedule_next_due(s, tz, after, &d);
			tz_format_rfc3339(tz, d.utc, got, sizeof(got));
			if (strcmp(got, cases[i].want[k]) != 0)
				fail_msg("TZ=%s run %d: %s, want %s",
				    cases[i].rule, k, got, cases[i].want[k]);
			after = d.utc;
		}
		tz_free(tz);
	}
	schedule_free(s);
	restore_tz(saved);
}

/* Copies are the same zone; rules are the same as the zone files that
 * end in them only where they have no history: tz_same compares data. */
static void
test_tz_rule_same_copy(void **state)
{
	static const struct {
		const char *rule, *other; /* other: a zone name or a rule */
		int same;
	} cases[] = {
	    {"JST-9", "JST-9", 1},
	    {"UTC0", "UTC", 1},
	    {"UTC0", "Etc/UTC", 1},
	    {"<+05>-5", "Etc/GMT-5", 1},
	    {"JST-9", "Etc/GMT-10", 0},
	    {"CET-1CEST,M3.5.0,M10.5.0/3", "CET-1CEST,M3.5.0,M10.5.0/3", 1},
	    {"CET-1CEST,M3.5.0,M10.5.0/3", "EET-2EEST,M3.5.0/3,M10.5.0/4", 0},
	    {"CET-1CEST,M3.5.0,M10.5.0/3", "Europe/Berlin", 0},
	    /* the default dates are the explicit ones */
	    {"AAA5BBB", "AAA5BBB,M3.2.0/2,M11.1.0", 1},
	};
	char *saved = save_tz();
	struct cerr err;

	for (size_t i = 0; i < NCASES(cases); i++) {
		struct tz *a = zone_of_env(cases[i].rule);
		struct tz *b = zone_of_env(cases[i].other), *c = NULL;

		if (tz_same(a, b) != cases[i].same)
			fail_msg("%s vs %s", cases[i].rule, cases[i].other);
		assert_int_equal(tz_copy(a, &c, &err), 0);
		assert_true(tz_same(a, c));
		assert_string_equal(tz_name(c), cases[i].rule);
		for (int64_t t = FROM_UTC; t < TO_UTC; t += 86400 * 7 + 3599)
			assert_int_equal(
			    tz_offset_at(c, t), tz_offset_at(a, t));
		tz_free(a);
		tz_free(b);
		tz_free(c);
	}
	restore_tz(saved);
}

/* Wall times in the gap and the repeat, and the floor the schedule code
 * starts from, as for a zone file (test_tz.c). */
static void
test_tz_rule_from_local(void **state)
{
	static const struct {
		const char *rule, *local;
		enum tz_local_kind kind;
		const char *utc_as_local;
	} cases[] = {
	    {"CET-1CEST,M3.5.0,M10.5.0/3", "2024-03-31T02:30:00", TZ_LOCAL_GAP,
		"2024-03-31T03:00:00+02:00"},
	    {"CET-1CEST,M3.5.0,M10.5.0/3", "2024-10-27T02:30:00",
		TZ_LOCAL_REPEATED, "2024-10-27T02:30:00+02:00"},
	    {"CET-1CEST,M3.5.0,M10.5.0/3", "2024-10-27T03:00:00",
		TZ_LOCAL_UNIQUE, "2024-10-27T03:00:00+01:00"},
	    {"AEST-10AEDT,M10.1.0,M4.1.0/3", "2024-10-06T02:00:00",
		TZ_LOCAL_GAP, "2024-10-06T03:00:00+11:00"},
	    {"AEST-10AEDT,M10.1.0,M4.1.0/3", "2024-04-07T02:59:59",
		TZ_LOCAL_REPEATED, "2024-04-07T02:59:59+11:00"},
	    {"<+0330>-3:30", "2024-03-21T00:00:00", TZ_LOCAL_UNIQUE,
		"2024-03-21T00:00:00+03:30"},
	    {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "2024-03-30T23:30:00",
		TZ_LOCAL_GAP, "2024-03-31T00:00:00-01:00"},
	    /* summer times of an hour or two, found by fuzzing: the first
	     * occurrence was missed when the zone was sampled 3 h apart */
	    {"AAAA-6BBBB,J60,58/28", "2026-03-01T03:10:34", TZ_LOCAL_REPEATED,
		"2026-03-01T03:10:34+07:00"},
	    {"AAAA-6BBBB,J60,58/28", "2026-03-01T02:30:00", TZ_LOCAL_GAP,
		"2026-03-01T03:00:00+07:00"},
	    {"AAA-2BBB5,J1/11,J01", "2025-01-01T10:11:58", TZ_LOCAL_REPEATED,
		"2025-01-01T10:11:58+02:00"},
	};
	char *saved = save_tz();
	char got[40];

	for (size_t i = 0; i < NCASES(cases); i++) {
		struct tz *tz = zone_of_env(cases[i].rule);
		enum tz_local_kind kind;
		int64_t local, utc;

		assert_int_equal(tz_parse_local(cases[i].local, &local), 0);
		utc = tz_from_local(tz, local, &kind);
		tz_format_rfc3339(tz, utc, got, sizeof(got));
		if (kind != cases[i].kind ||
		    strcmp(got, cases[i].utc_as_local) != 0)
			fail_msg("TZ=%s %s: %s kind %d", cases[i].rule,
			    cases[i].local, got, kind);
		/* the floor after the instant just before is its wall time */
		assert_int_equal(
		    tz_from_local(tz, tz_local_floor_after(tz, utc - 1), NULL),
		    utc);
		tz_free(tz);
	}
	restore_tz(saved);
}

/* Made directly: named by the rule, refused when it is none, and never
 * a name tz_load or a job document's time_zone accepts. */
static void
test_tz_rule_load(void **state)
{
	static const struct {
		const char *rule;
		const char *want_err; /* NULL: accepted */
	} cases[] = {
	    {"CET-1CEST,M3.5.0,M10.5.0/3", NULL},
	    {"<+0330>-3:30", NULL},
	    {"AAA-2BBB,J60/167,J300/-167", NULL},
	    {"CET-1CEST,M3.5.0", "not a POSIX TZ rule"},
	    {"CET-1CEST,M13.5.0,M10.5.0", "not a POSIX TZ rule"},
	    {"CET-1CEST,M3.5.0,M10.5.0/168", "not a POSIX TZ rule"},
	    {"CET-1CEST,M3.5.0,M10.5.0 ", "not a POSIX TZ rule"},
	    {"CET-1CEST,J0,J300", "not a POSIX TZ rule"},
	    {"CET-1CEST,366,300", "not a POSIX TZ rule"},
	    {"JST-25", "not a POSIX TZ rule"},
	    {"JS-9", "not a POSIX TZ rule"},
	    {"<+0330-3:30", "not a POSIX TZ rule"},
	    {"Europe/Berlin", "not a POSIX TZ rule"},
	    {"", "not a POSIX TZ rule"},
	    {"<+0330>-3:30<+0430>,J79/24,J263/24<+0330>-3:30<+0430>,J79/24,J263",
		"longer than 64 bytes"},
	};
	struct cerr err;

	for (size_t i = 0; i < NCASES(cases); i++) {
		struct tz *tz = NULL;
		int rc = tz_load_rule(cases[i].rule, &tz, &err);

		if (cases[i].want_err == NULL && rc != 0)
			fail_msg("%s refused: %s", cases[i].rule, err.msg);
		if (cases[i].want_err == NULL) {
			assert_string_equal(tz_name(tz), cases[i].rule);
			assert_int_equal(
			    tz_check_name(cases[i].rule, "tz", &err), -1);
		}
		if (cases[i].want_err != NULL &&
		    (rc == 0 || strstr(err.msg, cases[i].want_err) == NULL))
			fail_msg("%s: '%s' not in '%s'", cases[i].rule,
			    cases[i].want_err,
			    rc == 0 ? "(accepted)" : err.msg);
		tz_free(tz);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tz_rule_matches_glibc),
	    cmocka_unit_test(test_tz_rule_daily_like_its_zone),
	    cmocka_unit_test(test_tz_rule_daily_across_dst),
	    cmocka_unit_test(test_tz_rule_same_copy),
	    cmocka_unit_test(test_tz_rule_from_local),
	    cmocka_unit_test(test_tz_rule_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
