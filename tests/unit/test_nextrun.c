/*
 * Unit tests for next-run previews (common/nextrun.c): a table of one
 * schedule each, the zone it is previewed in, the instants listed and the
 * notes that mark DST gaps, repeated wall times and offset changes; the
 * kinds without times; and the count limit. Also the duration syntax of
 * cohortctl's --older-than (ctl_duration).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/nextrun.h"
#include "common/timefmt.h"
#include "ctl/ctl.h"

#define NCASES(t) (sizeof(t) / sizeof((t)[0]))

static struct job *
job_with(const char *sched)
{
	char text[1024];
	struct job *job = NULL;
	struct cerr err;

	snprintf(text, sizeof(text),
	    "{'name':'j','steps':[{'command':'true'}],'schedules':[{'name':'s',"
	    "%s}]}",
	    sched);
	for (char *p = text; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	if (jobdoc_parse(text, strlen(text), &job, &err) < 0)
		fail_msg("%s: %s", text, err.msg);
	return job;
}

#define BERLIN ",'time_zone':'Europe/Berlin'"

struct next_case {
	const char *what;
	const char *sched;
	const char *zone; /* the caller's zone; NULL: unknown */
	const char *after;
	int count;
	const char *want_zone;
	int want_target_zone;
	const char *want_note; /* of the schedule, NULL: none */
	int nruns;
	struct {
		const char *at, *dst, *note;
	} runs[3];
};

static const struct next_case next_cases[] = {
    {"spring forward", "'kind':'daily','every_days':1,'at':'02:30'" BERLIN,
	NULL, "2024-03-29T12:00:00Z", 3, "Europe/Berlin", 0, NULL, 3,
	{{"2024-03-30T02:30:00+01:00", NULL, NULL},
	    {"2024-03-31T03:00:00+02:00", "gap",
		"02:30:00 does not exist (DST gap): runs at 03:00:00"},
	    {"2024-04-01T02:30:00+02:00", NULL, NULL}}},
    {"fall back", "'kind':'daily','every_days':1,'at':'02:30'" BERLIN, NULL,
	"2024-10-26T12:00:00Z", 2, "Europe/Berlin", 0, NULL, 2,
	{{"2024-10-27T02:30:00+02:00", "repeated",
	     "02:30:00 happens twice (DST ends): runs once, at the first"},
	    {"2024-10-28T02:30:00+01:00", NULL,
		"UTC offset changes from +02:00 to +01:00"}}},
    {"offset change at noon",
	"'kind':'daily','every_days':1,'at':'12:00'" BERLIN, NULL,
	"2024-03-30T00:00:00Z", 2, "Europe/Berlin", 0, NULL, 2,
	{{"2024-03-30T12:00:00+01:00", NULL, NULL},
	    {"2024-03-31T12:00:00+02:00", NULL,
		"UTC offset changes from +01:00 to +02:00"}}},
    {"no zone on the master", "'cron':'0 6 * * 1'", NULL,
	"2024-05-01T00:00:00Z", 2, "UTC", 1, NULL, 2,
	{{"2024-05-06T06:00:00+00:00", NULL, NULL},
	    {"2024-05-13T06:00:00+00:00", NULL, NULL}}},
    {"no zone on a target", "'cron':'0 6 * * 1'", "America/New_York",
	"2024-05-01T00:00:00Z", 1, "America/New_York", 0, NULL, 1,
	{{"2024-05-06T06:00:00-04:00", NULL, NULL}}},
    {"own zone wins", "'cron':'0 6 * * 1','time_zone':'UTC'",
	"America/New_York", "2024-05-01T00:00:00Z", 1, "UTC", 0, NULL, 1,
	{{"2024-05-06T06:00:00+00:00", NULL, NULL}}},
    {"start", "'kind':'start'", NULL, "2024-05-01T00:00:00Z", 3, "UTC", 1,
	"runs when the target daemon starts", 0, {{0}}},
    {"idle", "'kind':'idle','idle_load':0.5,'idle_for_s':60", "UTC",
	"2024-05-01T00:00:00Z", 3, "UTC", 0, "runs when the target is idle", 0,
	{{0}}},
    {"disabled", "'cron':'* * * * *','enabled':false", NULL,
	"2024-05-01T00:00:00Z", 3, "UTC", 1, "disabled", 0, {{0}}},
    {"once, passed", "'kind':'once','at':'2024-01-01T00:00'", NULL,
	"2024-05-01T00:00:00Z", 3, "UTC", 1, "no more runs", 0, {{0}}},
    {"count 0", "'cron':'* * * * *'", NULL, "2024-05-01T00:00:00Z", 0, "UTC", 1,
	"no more runs", 0, {{0}}},
};

static void
expect_str(
    const char *what, const char *field, const json_t *v, const char *want)
{
	const char *got = json_string_value(v);

	if ((want == NULL) != (got == NULL) ||
	    (want != NULL && strcmp(got, want) != 0))
		fail_msg("%s: %s '%s', want '%s'", what, field,
		    got ? got : "(null)", want ? want : "(null)");
}

static void
check_case(const struct next_case *c, const json_t *s)
{
	const json_t *runs = json_object_get(s, "runs");

	expect_str(c->what, "zone", json_object_get(s, "zone"), c->want_zone);
	if (json_is_true(json_object_get(s, "target_zone")) !=
	    c->want_target_zone)
		fail_msg("%s: target_zone", c->what);
	expect_str(c->what, "note", json_object_get(s, "note"), c->want_note);
	if ((int)json_array_size(runs) != c->nruns)
		fail_msg("%s: %zu runs, want %d", c->what,
		    json_array_size(runs), c->nruns);
	for (int i = 0; i < c->nruns; i++) {
		const json_t *r = json_array_get(runs, (size_t)i);

		expect_str(
		    c->what, "at", json_object_get(r, "at"), c->runs[i].at);
		expect_str(
		    c->what, "dst", json_object_get(r, "dst"), c->runs[i].dst);
		expect_str(c->what, "note", json_object_get(r, "note"),
		    c->runs[i].note);
	}
}

static void
test_next_table(void **state)
{
	for (size_t i = 0; i < NCASES(next_cases); i++) {
		const struct next_case *c = &next_cases[i];
		struct job *job = job_with(c->sched);
		struct tz *zone = NULL;
		int64_t after_ms;
		struct cerr err;
		json_t *list;

		assert_int_equal(timefmt_parse(c->after, &after_ms), 0);
		if (c->zone != NULL)
			assert_int_equal(tz_load(c->zone, &zone, &err), 0);
		list = nextrun_json(job, zone, after_ms / 1000, c->count, &err);
		if (list == NULL)
			fail_msg("%s: %s", c->what, err.msg);
		assert_int_equal(json_array_size(list), 1);
		check_case(c, json_array_get(list, 0));
		json_decref(list);
		tz_free(zone);
		job_free(job);
	}
}

static void
test_next_refusals(void **state)
{
	struct job *job = job_with("'cron':'* * * * *'");
	struct cerr err;

	assert_null(nextrun_json(job, NULL, 0, NEXTRUN_MAX_COUNT + 1, &err));
	assert_int_equal(err.code, CERR_INVALID);
	assert_null(nextrun_json(job, NULL, 0, -1, &err));
	job_free(job);
}

/* A target whose zone was read from a copied /etc/localtime: the zone
 * is used as given, never looked up again by its name, which loads no
 * zone file. */
static void
test_next_zone_from_a_file(void **state)
{
	struct job *job = job_with("'cron':'0 6 * * 1'");
	struct tz *zone = NULL;
	struct cerr err;
	json_t *list, *s;

	assert_int_equal(
	    tz_load_file(TZ_DIR "/Europe/Berlin", "localtime", &zone, &err), 0);
	list = nextrun_json(job, zone, 1714521600 /* 2024-05-01 */, 1, &err);
	if (list == NULL)
		fail_msg("%s", err.msg);
	s = json_array_get(list, 0);
	expect_str(
	    "file zone", "zone", json_object_get(s, "zone"), "localtime");
	assert_false(json_is_true(json_object_get(s, "target_zone")));
	expect_str("file zone", "at",
	    json_object_get(
		json_array_get(json_object_get(s, "runs"), 0), "at"),
	    "2024-05-06T06:00:00+02:00");
	json_decref(list);
	tz_free(zone);
	job_free(job);
}

struct duration_case {
	const char *text;
	long long want; /* -1: refused */
};

static const struct duration_case duration_cases[] = {
    {"90", 90},
    {"90s", 90},
    {"15m", 900},
    {"12h", 43200},
    {"30d", 2592000},
    {"2w", 1209600},
    {"0", -1},
    {"-5d", -1},
    {"", -1},
    {"d", -1},
    {"5x", -1},
    {"5dd", -1},
    {"1.5h", -1},
    {"99999999999w", -1},
    {"36500d", 3153600000LL},
    {"36501d", -1},
};

static void
test_duration(void **state)
{
	for (size_t i = 0; i < NCASES(duration_cases); i++) {
		const struct duration_case *c = &duration_cases[i];
		long long got = -1;
		struct cerr err;
		int rc = ctl_duration(c->text, "--older-than", &got, &err);

		if (c->want < 0 && rc != -1)
			fail_msg("'%s' accepted as %lld", c->text, got);
		if (c->want >= 0 && (rc != 0 || got != c->want))
			fail_msg(
			    "'%s': %lld, want %lld", c->text, got, c->want);
		if (rc < 0)
			assert_non_null(strstr(err.msg, "--older-than"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_next_table),
	    cmocka_unit_test(test_next_refusals),
	    cmocka_unit_test(test_next_zone_from_a_file),
	    cmocka_unit_test(test_duration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
