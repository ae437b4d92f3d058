/*
 * Unit tests for schedules and time zones: bad schedule objects refused by
 * field path, the canonical round trip, and tables of next-run cases with
 * times written as local time plus offset ("2024-03-31T03:00:00+02:00"), so
 * each row can be checked against a calendar. The DST rows cover every
 * transition kind in Europe/Berlin, America/New_York, Australia/Lord_Howe
 * (a 30-minute shift) and UTC. Further down: sequences of successive runs
 * and a sweep that every 15-minute wall time around each transition runs
 * exactly once. The zone reader itself is tested in test_tz.c.
 *
 * Schedules are written with single quotes and without their name; sched()
 * adds "name" and makes them JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/schedule.h"
#include "common/tz.h"

#define NCASES(t) (sizeof(t) / sizeof((t)[0]))

static json_t *
sched_json(const char *members)
{
	char text[1024];
	json_error_t jerr;
	json_t *j;

	size_t len = strlen(members);

	/* DAILY "" leaves a trailing comma */
	if (len > 0 && members[len - 1] == ',')
		len--;
	snprintf(text, sizeof(text), "{'name':'s'%s%.*s}", len ? "," : "",
	    (int)len, members);
	for (char *p = text; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	j = json_loads(text, 0, &jerr);
	if (j == NULL)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	return j;
}

static struct schedule *
sched(const char *members)
{
	json_t *j = sched_json(members);
	struct schedule *s = NULL;
	struct cerr err;

	if (schedule_from_json(j, "schedules[1]", &s, &err) != 0)
		fail_msg("refused {%s}: %s", members, err.msg);
	json_decref(j);
	return s;
}

/* "2024-03-31T03:00:00+02:00" (or "...Z") to Unix seconds. */
static int64_t
parse_zoned(const char *s)
{
	char local[20];
	int64_t l;
	int h, m;

	assert_true(strlen(s) >= 20);
	memcpy(local, s, 19);
	local[19] = '\0';
	assert_int_equal(tz_parse_local(local, &l), 0);
	if (s[19] == 'Z')
		return l;
	assert_int_equal(sscanf(s + 20, "%2d:%2d", &h, &m), 2);
	return l - (s[19] == '-' ? -1 : 1) * (h * 3600 + m * 60);
}

/* The next run as "local+offset" in the schedule's zone, or "-". */
static void
next_str(const struct schedule *s, const char *default_tz, int64_t after,
    char *out, size_t size)
{
	struct tz *tz = NULL;
	struct cerr err;
	int64_t next = -1;

	if (schedule_next(s, default_tz, after, &next, &err) != 0)
		fail_msg("schedule_next: %s", err.msg);
	if (next == 0) {
		snprintf(out, size, "-");
		return;
	}
	assert_int_equal(tz_load(schedule_zone(s, default_tz), &tz, &err), 0);
	tz_format_rfc3339(tz, next, out, size);
	tz_free(tz);
}

/* ---- refusals ---- */

#define P "schedules[1]."

static const struct {
	const char *members;
	const char *expect;
} bad_cases[] = {
    {"'foo':1", P "foo: unknown field"},
    {"'kind':'daily','evry_days':2", P "evry_days: unknown field"},
    {"'name':'a b','kind':'start'", P "name: byte 2"},
    {"'name':null,'kind':'start'", P "name: required"},
    {"'name':'','kind':'start'", P "name: must not be empty"},
    {"",
	P
	"kind: required (once, daily, weekly, monthly, monthly_relative, start, idle or cron)"},
    {"'kind':'hourly'",
	P
	"kind: 'hourly' is not one of once, daily, weekly, monthly, monthly_relative, start, idle, cron"},
    {"'kind':7", P "kind: must be a string"},
    {"'kind':'daily','weekdays':['mon']", P "weekdays: not used by kind daily"},
    {"'kind':'daily','every_weeks':1", P "every_weeks: not used by kind daily"},
    {"'kind':'once','at':'2024-01-01T00:00','every_days':1",
	P "every_days: not used by kind once"},
    {"'kind':'cron','cron':'* * * * *','at':'02:00'",
	P "at: not used by kind cron"},
    {"'kind':'start','at':'02:00'", P "at: not used by kind start"},
    {"'kind':'idle','idle_load':1,'idle_for_s':60,'repeat_every_s':5",
	P "repeat_every_s: not used by kind idle"},
    {"'kind':'monthly_relative','which':'first','day':'day','weekdays':['mon']",
	P "weekdays: not used by kind monthly_relative"},
    {"'kind':'daily','cron':'* * * * *'", P "cron: not used by kind daily"},
    {"'kind':'cron'", P "cron: required"},
    {"'cron':'0 24 * * *'", P "cron: hour: 24 is out of range 0..23"},
    {"'cron':'0 0 30 2 *'",
	P "cron: the day of month and month fields never match"},
    {"'cron':5", P "cron: must be a string"},
    {"'kind':'start','enabled':'no'", P "enabled: must be true or false"},
    {"'kind':'start','time_zone':'Mars/Olympus'",
	P "time_zone: 'Mars/Olympus' is not a known time zone"},
    {"'kind':'start','time_zone':'/etc/passwd'",
	P "time_zone: not a zone name"},
    {"'kind':'start','time_zone':'Europe/../../etc/passwd'",
	P "time_zone: not a zone name"},
    {"'kind':'start','time_zone':'Europe//Berlin'",
	P "time_zone: not a zone name"},
    {"'kind':'start','time_zone':'Europe/Berlin '",
	P "time_zone: not a zone name"},
    {"'kind':'start','time_zone':'Europe'",
	P "time_zone: 'Europe' is not a known time zone"},
    {"'kind':'start','time_zone':'zone.tab'",
	P "time_zone: 'zone.tab' is not a usable TZif file"},
    {"'kind':'start','time_zone':5", P "time_zone: must be a string"},
    {"'kind':'start','time_zone':''", P "time_zone: not a zone name"},
    {"'kind':'start','start_date':'2024-13-01'",
	P "start_date: '2024-13-01' is not a date YYYY-MM-DD"},
    {"'kind':'start','start_date':'2024-02-30'",
	P "start_date: '2024-02-30' is not a date"},
    {"'kind':'start','start_date':'2023-02-29'",
	P "start_date: '2023-02-29' is not a date"},
    {"'kind':'start','start_date':'1969-12-31'",
	P "start_date: '1969-12-31' is not a date"},
    {"'kind':'start','start_date':'2024-1-1'",
	P "start_date: '2024-1-1' is not a date"},
    {"'kind':'start','end_date':'2024-01-01T00:00'",
	P "end_date: '2024-01-01T00:00' is not a date"},
    {"'kind':'start','start_date':'2024-02-01','end_date':'2024-01-31'",
	P "end_date: before start_date"},
    {"'kind':'daily','every_days':0",
	P "every_days: 0 is out of range 1..3650"},
    {"'kind':'daily','every_days':3651",
	P "every_days: 3651 is out of range 1..3650"},
    {"'kind':'daily','at':'24:00'",
	P "at: '24:00' is not a time HH:MM or HH:MM:SS"},
    {"'kind':'daily','at':'2:30'", P "at: '2:30' is not a time"},
    {"'kind':'daily','at':'02:30:60'", P "at: '02:30:60' is not a time"},
    {"'kind':'daily','at':'02:60'", P "at: '02:60' is not a time"},
    {"'kind':'daily','at':'02:30:00.5'", P "at: '02:30:00.5' is not a time"},
    {"'kind':'daily','at':2", P "at: must be a string"},
    {"'kind':'daily','at':'02:00','repeat_every_s':60",
	P "at: not allowed with repeat_every_s"},
    {"'kind':'daily','repeat_every_s':0",
	P "repeat_every_s: 0 is out of range 1..86400"},
    {"'kind':'daily','repeat_every_s':86401",
	P "repeat_every_s: 86401 is out of range"},
    {"'kind':'daily','repeat_start':'08:00'",
	P "repeat_start: needs repeat_every_s"},
    {"'kind':'daily','repeat_end':'18:00'",
	P "repeat_end: needs repeat_every_s"},
    {"'kind':'daily','repeat_every_s':60,'repeat_start':'18:00','repeat_end':'08:00'",
	P "repeat_end: before repeat_start"},
    {"'kind':'daily','repeat_every_s':60,'repeat_start':'8:00'",
	P "repeat_start: '8:00' is not a time"},
    {"'kind':'weekly'", P "weekdays: required"},
    {"'kind':'weekly','weekdays':[]",
	P
	"weekdays: must be an array of 1 to 7 of mon, tue, wed, thu, fri, sat, sun"},
    {"'kind':'weekly','weekdays':'mon'", P "weekdays: must be an array"},
    {"'kind':'weekly','weekdays':['monday']",
	P "weekdays[1]: must be one of mon, tue"},
    {"'kind':'weekly','weekdays':['mon',3]", P "weekdays[2]: must be one of"},
    {"'kind':'weekly','weekdays':['Mon']", P "weekdays[1]: must be one of"},
    {"'kind':'weekly','weekdays':['mon','tue','wed','thu','fri','sat','sun','mon']",
	P "weekdays: must be an array of 1 to 7"},
    {"'kind':'weekly','weekdays':['mon'],'every_weeks':521",
	P "every_weeks: 521 is out of range 1..520"},
    {"'kind':'monthly'", P "day: required"},
    {"'kind':'monthly','day':0", P "day: 0 is out of range 1..31"},
    {"'kind':'monthly','day':32", P "day: 32 is out of range 1..31"},
    {"'kind':'monthly','day':'1'", P "day: must be an integer"},
    {"'kind':'monthly','day':1,'every_months':121",
	P "every_months: 121 is out of range 1..120"},
    {"'kind':'monthly','day':31,'every_months':12,'start_date':'2024-04-01'",
	P "day: day 31 never occurs in the months this schedule runs"},
    {"'kind':'monthly','day':30,'every_months':12,'start_date':'2024-02-10'",
	P "day: day 30 never occurs"},
    {"'kind':'monthly','day':29,'every_months':48,'start_date':'2101-02-01'",
	P "day: day 29 never occurs"},
    {"'kind':'monthly_relative','day':'monday'", P "which: required"},
    {"'kind':'monthly_relative','which':'first'", P "day: required"},
    {"'kind':'monthly_relative','which':'fifth','day':'monday'",
	P "which: 'fifth' is not one of first, second, third, fourth, last"},
    {"'kind':'monthly_relative','which':'first','day':'mon'",
	P
	"day: 'mon' is not one of day, weekday, weekend_day, monday, tuesday, wednesday, thursday, friday, saturday, sunday"},
    {"'kind':'monthly_relative','which':'first','day':5",
	P "day: must be a string"},
    {"'kind':'once'", P "at: required"},
    {"'kind':'once','at':'2024-06-01 12:00'",
	P "at: '2024-06-01 12:00' is not a local time YYYY-MM-DDTHH:MM[:SS]"},
    {"'kind':'once','at':'2024-06-01'",
	P "at: '2024-06-01' is not a local time"},
    {"'kind':'once','at':'2024-02-30T00:00'",
	P "at: '2024-02-30T00:00' is not a local time"},
    {"'kind':'once','at':'2024-06-01T12:00Z'",
	P "at: '2024-06-01T12:00Z' is not a local time"},
    {"'kind':'idle','idle_for_s':60", P "idle_load: required"},
    {"'kind':'idle','idle_load':0,'idle_for_s':60",
	P "idle_load: must be a number above 0 and at most 10000"},
    {"'kind':'idle','idle_load':-1.5,'idle_for_s':60",
	P "idle_load: must be a number above 0"},
    {"'kind':'idle','idle_load':'1','idle_for_s':60",
	P "idle_load: must be a number"},
    {"'kind':'idle','idle_load':0.5", P "idle_for_s: required"},
    {"'kind':'idle','idle_load':0.5,'idle_for_s':0",
	P "idle_for_s: 0 is out of range 1..86400"},
    {"'kind':'idle','idle_load':0.5,'idle_for_s':86401",
	P "idle_for_s: 86401 is out of range"},
};

static void
test_schedule_bad(void **state)
{
	for (size_t i = 0; i < NCASES(bad_cases); i++) {
		json_t *j = sched_json(bad_cases[i].members);
		struct schedule *s = NULL;
		struct cerr err;

		/* a case that drops "name" does it by overriding it */
		cerr_clear(&err);
		if (schedule_from_json(j, "schedules[1]", &s, &err) == 0)
			fail_msg(
			    "case %zu {%s} accepted", i, bad_cases[i].members);
		assert_null(s);
		if (strstr(err.msg, bad_cases[i].expect) == NULL)
			fail_msg("case %zu: '%s' not in '%s'", i,
			    bad_cases[i].expect, err.msg);
		assert_int_equal(err.code, CERR_INVALID);
		json_decref(j);
	}
}

static void
test_schedule_not_object(void **state)
{
	json_t *j = json_string("daily");
	struct schedule *s = NULL;
	struct cerr err;

	assert_int_equal(schedule_from_json(j, "schedules[3]", &s, &err), -1);
	assert_string_equal(err.msg, "schedules[3]: must be an object");
	json_decref(j);
}

/* ---- canonical form ---- */

static const struct {
	const char *members;
	const char *canonical; /* without name, enabled, time_zone, dates */
} canon_cases[] = {
    {"'kind':'once','at':'2024-06-01T12:00'",
	"'kind':'once','at':'2024-06-01T12:00:00'"},
    {"'kind':'daily'", "'kind':'daily','every_days':1,'at':'00:00:00'"},
    {"'kind':'daily','every_days':2,'at':'02:30'",
	"'kind':'daily','every_days':2,'at':'02:30:00'"},
    {"'kind':'daily','repeat_every_s':10",
	"'kind':'daily','every_days':1,'repeat_every_s':10,'repeat_start':'00:00:00','repeat_end':'23:59:59'"},
    {"'kind':'daily','at':null,'repeat_every_s':60,'repeat_start':'08:00','repeat_end':'18:00:30'",
	"'kind':'daily','every_days':1,'repeat_every_s':60,'repeat_start':'08:00:00','repeat_end':'18:00:30'"},
    {"'kind':'weekly','weekdays':['sun','mon','sun']",
	"'kind':'weekly','every_weeks':1,'weekdays':['mon','sun'],'at':'00:00:00'"},
    {"'kind':'monthly','day':31,'every_months':3",
	"'kind':'monthly','every_months':3,'day':31,'at':'00:00:00'"},
    {"'kind':'monthly_relative','which':'last','day':'weekend_day','at':'10:00:05'",
	"'kind':'monthly_relative','every_months':1,'which':'last','day':'weekend_day','at':'10:00:05'"},
    {"'kind':'start'", "'kind':'start'"},
    {"'kind':'idle','idle_load':1,'idle_for_s':300",
	"'kind':'idle','idle_load':1.0,'idle_for_s':300"},
    {"'cron':'*/5 * * * *'", "'kind':'cron','cron':'*/5 * * * *'"},
    {"'kind':'cron','cron':'@daily'", "'kind':'cron','cron':'@daily'"},
};

static void
test_schedule_canonical(void **state)
{
	for (size_t i = 0; i < NCASES(canon_cases); i++) {
		struct schedule *s = sched(canon_cases[i].members), *again;
		json_t *got = schedule_to_json(s), *want, *second;
		struct cerr err;
		char members[512];

		snprintf(members, sizeof(members),
		    "'enabled':true,'time_zone':null,'start_date':null,'end_date':null,%s",
		    canon_cases[i].canonical);
		want = sched_json(members);
		if (!json_equal(got, want))
			fail_msg("case %zu: got %s", i,
			    json_dumps(got, JSON_COMPACT));
		assert_int_equal(schedule_from_json(got, "s", &again, &err), 0);
		second = schedule_to_json(again);
		assert_true(json_equal(got, second));
		json_decref(got);
		json_decref(want);
		json_decref(second);
		schedule_free(s);
		schedule_free(again);
	}
}

static void
test_schedule_accessors(void **state)
{
	struct schedule *s =
	    sched("'kind':'daily','enabled':false,"
		  "'time_zone':'Europe/Berlin',"
		  "'start_date':'2024-01-01','end_date':'2024-12-31'");
	json_t *j = schedule_to_json(s);
	struct cerr err;
	int64_t next = -1;

	assert_string_equal(schedule_name(s), "s");
	assert_int_equal(schedule_kind(s), SCHED_DAILY);
	assert_false(schedule_enabled(s));
	assert_string_equal(
	    schedule_kind_name(SCHED_MONTHLY_RELATIVE), "monthly_relative");
	assert_string_equal(schedule_kind_name(SCHED_KIND_COUNT), "unknown");
	assert_string_equal(schedule_zone(s, "UTC"), "Europe/Berlin");
	assert_string_equal(
	    json_string_value(json_object_get(j, "start_date")), "2024-01-01");
	assert_string_equal(
	    json_string_value(json_object_get(j, "end_date")), "2024-12-31");
	json_decref(j);
	schedule_free(s);
	s = sched("'kind':'daily'");
	assert_int_equal(schedule_next(s, NULL, INT64_MAX, &next, &err), 0);
	assert_int_equal(next, 0);
	assert_int_equal(schedule_next(s, NULL, INT64_MIN, &next, &err), 0);
	assert_int_equal(next, 0);
	assert_int_equal(schedule_next(s, "Nowhere/Land", 0, &next, &err), -1);
	assert_string_equal(err.msg,
	    "schedule s: time zone: 'Nowhere/Land' is not a known time zone");
	schedule_free(s);
	s = sched("'kind':'start'");
	assert_string_equal(schedule_zone(s, NULL), "UTC");
	assert_string_equal(schedule_zone(s, "Asia/Tokyo"), "Asia/Tokyo");
	schedule_free(s);
	schedule_free(NULL);
}

/* ---- next run: one step each ---- */

#define DAILY "'kind':'daily',"
#define WEEKLY "'kind':'weekly',"
#define MONTHLY "'kind':'monthly',"
#define REL "'kind':'monthly_relative',"
#define BER "Europe/Berlin"
#define NY "America/New_York"
#define LH "Australia/Lord_Howe"

static const struct {
	const char *members;
	const char *zone; /* the caller's default zone */
	const char *after;
	const char *next; /* "-": no more runs */
} next_cases[] = {
    /* daily, UTC */
    {DAILY "'at':'02:30'", "UTC", "2024-01-01T00:00:00Z",
	"2024-01-01T02:30:00+00:00"},
    {DAILY "'at':'02:30'", "UTC", "2024-01-01T02:30:00Z",
	"2024-01-02T02:30:00+00:00"},
    {DAILY "'at':'02:30'", "UTC", "2024-01-01T02:29:59Z",
	"2024-01-01T02:30:00+00:00"},
    {DAILY "'at':'23:59:59'", "UTC", "2024-02-28T23:59:59Z",
	"2024-02-29T23:59:59+00:00"},
    {DAILY "'at':'00:00'", "UTC", "2024-12-31T00:00:00Z",
	"2025-01-01T00:00:00+00:00"},
    {DAILY "", "UTC", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00+00:00"},
    {DAILY "", NULL, "2024-01-01T00:00:00Z", "2024-01-02T00:00:00+00:00"},
    /* every N days: from start_date, else from 1970-01-01 (2024-01-01 is
     * day 19723, so every 2 days falls on 2024-01-02) */
    {DAILY "'every_days':3,'start_date':'2024-01-01','at':'06:00'", "UTC",
	"2024-01-01T06:00:00Z", "2024-01-04T06:00:00+00:00"},
    {DAILY "'every_days':3,'start_date':'2024-01-01','at':'06:00'", "UTC",
	"2023-12-01T00:00:00Z", "2024-01-01T06:00:00+00:00"},
    {DAILY "'every_days':3,'start_date':'2024-01-01','at':'06:00'", "UTC",
	"2024-01-02T00:00:00Z", "2024-01-04T06:00:00+00:00"},
    {DAILY "'every_days':3,'start_date':'2024-02-27','at':'06:00'", "UTC",
	"2024-02-28T00:00:00Z", "2024-03-01T06:00:00+00:00"},
    {DAILY "'every_days':2", "UTC", "2024-01-01T00:00:00Z",
	"2024-01-02T00:00:00+00:00"},
    {DAILY "'every_days':2", "UTC", "2024-01-02T00:00:00Z",
	"2024-01-04T00:00:00+00:00"},
    {DAILY "'every_days':7,'start_date':'2024-01-03'", "UTC",
	"2024-01-10T00:00:00Z", "2024-01-17T00:00:00+00:00"},
    {DAILY "'every_days':365,'start_date':'2024-01-01'", "UTC",
	"2024-01-01T00:00:00Z", "2024-12-31T00:00:00+00:00"},
    /* start and end dates, inclusive */
    {DAILY "'at':'02:30','end_date':'2024-01-05'", "UTC",
	"2024-01-05T02:30:00Z", "-"},
    {DAILY "'at':'02:30','end_date':'2024-01-05'", "UTC",
	"2024-01-05T00:00:00Z", "2024-01-05T02:30:00+00:00"},
    {DAILY "'at':'02:30','end_date':'2024-01-05'", "UTC",
	"2030-01-01T00:00:00Z", "-"},
    {DAILY "'at':'02:30','start_date':'2024-06-01','end_date':'2024-06-01'",
	"UTC", "2024-01-01T00:00:00Z", "2024-06-01T02:30:00+00:00"},
    {DAILY "'at':'02:30','start_date':'2024-06-01','end_date':'2024-06-01'",
	"UTC", "2024-06-01T02:30:00Z", "-"},
    {DAILY "'every_days':10,'start_date':'2024-01-01','end_date':'2024-01-10'",
	"UTC", "2024-01-01T00:00:00Z", "-"},
    /* repeats within the day */
    {DAILY "'repeat_every_s':3600,'repeat_start':'08:00','repeat_end':'18:00'",
	"UTC", "2024-01-01T12:30:00Z", "2024-01-01T13:00:00+00:00"},
    {DAILY "'repeat_every_s':3600,'repeat_start':'08:00','repeat_end':'18:00'",
	"UTC", "2024-01-01T18:00:00Z", "2024-01-02T08:00:00+00:00"},
    {DAILY "'repeat_every_s':3600,'repeat_start':'08:00','repeat_end':'18:00'",
	"UTC", "2024-01-01T17:59:59Z", "2024-01-01T18:00:00+00:00"},
    {DAILY "'repeat_every_s':3600,'repeat_start':'08:00','repeat_end':'18:00'",
	"UTC", "2024-01-01T07:00:00Z", "2024-01-01T08:00:00+00:00"},
    {DAILY "'repeat_every_s':3600,'repeat_start':'08:00','repeat_end':'17:30'",
	"UTC", "2024-01-01T17:00:00Z", "2024-01-02T08:00:00+00:00"},
    {DAILY "'repeat_every_s':10", "UTC", "2024-01-01T00:00:05Z",
	"2024-01-01T00:00:10+00:00"},
    {DAILY "'repeat_every_s':10", "UTC", "2024-01-01T23:59:50Z",
	"2024-01-02T00:00:00+00:00"},
    {DAILY "'repeat_every_s':7", "UTC", "2024-01-01T23:59:53Z",
	"2024-01-01T23:59:54+00:00"},
    {DAILY "'repeat_every_s':7", "UTC", "2024-01-01T23:59:54Z",
	"2024-01-02T00:00:00+00:00"},
    {DAILY "'repeat_every_s':86400", "UTC", "2024-01-01T00:00:00Z",
	"2024-01-02T00:00:00+00:00"},
    {DAILY "'repeat_every_s':1", "UTC", "2024-01-01T12:34:56Z",
	"2024-01-01T12:34:57+00:00"},
    {DAILY "'repeat_every_s':900,'repeat_start':'00:05'", "UTC",
	"2024-01-01T00:00:00Z", "2024-01-01T00:05:00+00:00"},
    {DAILY "'repeat_every_s':900,'repeat_start':'00:05'", "UTC",
	"2024-01-01T00:05:00Z", "2024-01-01T00:20:00+00:00"},
    {DAILY "'every_days':2,'start_date':'2024-01-01','repeat_every_s':900",
	"UTC", "2024-01-01T23:45:00Z", "2024-01-03T00:00:00+00:00"},
    {DAILY "'repeat_every_s':60,'repeat_start':'12:00','repeat_end':'12:00'",
	"UTC", "2024-01-01T12:00:00Z", "2024-01-02T12:00:00+00:00"},
    /* weekly (2024-01-01 is a Monday) */
    {WEEKLY "'weekdays':['mon','wed','fri'],'at':'09:00'", "UTC",
	"2024-01-01T09:00:00Z", "2024-01-03T09:00:00+00:00"},
    {WEEKLY "'weekdays':['mon','wed','fri'],'at':'09:00'", "UTC",
	"2024-01-05T09:00:00Z", "2024-01-08T09:00:00+00:00"},
    {WEEKLY "'weekdays':['mon','wed','fri'],'at':'09:00'", "UTC",
	"2024-01-01T08:00:00Z", "2024-01-01T09:00:00+00:00"},
    {WEEKLY "'weekdays':['sun']", "UTC", "2024-01-06T12:00:00Z",
	"2024-01-07T00:00:00+00:00"},
    {WEEKLY "'weekdays':['sun']", "UTC", "2024-01-07T00:00:00Z",
	"2024-01-14T00:00:00+00:00"},
    {WEEKLY "'weekdays':['sat'],'at':'23:00'", "UTC", "2024-12-28T23:00:00Z",
	"2025-01-04T23:00:00+00:00"},
    /* every 2 weeks, weeks counted from Monday 1969-12-29: the week of
     * 2024-01-01 is week 2818, an even one */
    {WEEKLY "'every_weeks':2,'weekdays':['mon']", "UTC", "2024-01-01T00:00:00Z",
	"2024-01-15T00:00:00+00:00"},
    {WEEKLY "'every_weeks':2,'weekdays':['mon']", "UTC", "2023-12-31T00:00:00Z",
	"2024-01-01T00:00:00+00:00"},
    {WEEKLY "'every_weeks':2,'weekdays':['sun']", "UTC", "2024-01-01T00:00:00Z",
	"2024-01-07T00:00:00+00:00"},
    /* from the Monday of start_date's week */
    {WEEKLY
	"'every_weeks':2,'weekdays':['tue','thu'],'start_date':'2024-01-03'",
	"UTC", "2024-01-01T00:00:00Z", "2024-01-04T00:00:00+00:00"},
    {WEEKLY
	"'every_weeks':2,'weekdays':['tue','thu'],'start_date':'2024-01-03'",
	"UTC", "2024-01-04T00:00:00Z", "2024-01-16T00:00:00+00:00"},
    {WEEKLY "'every_weeks':3,'weekdays':['sat'],'start_date':'2024-01-01'",
	"UTC", "2024-01-06T00:00:00Z", "2024-01-27T00:00:00+00:00"},
    {WEEKLY "'every_weeks':3,'weekdays':['sat'],'start_date':'2024-01-01'",
	"UTC", "2024-01-27T00:00:00Z", "2024-02-17T00:00:00+00:00"},
    {WEEKLY
	"'weekdays':['mon','tue','wed','thu','fri','sat','sun'],'at':'01:00'",
	"UTC", "2024-01-01T01:00:00Z", "2024-01-02T01:00:00+00:00"},
    {WEEKLY
	"'weekdays':['mon'],'repeat_every_s':1800,'repeat_start':'09:00','repeat_end':'10:00'",
	"UTC", "2024-01-01T09:30:00Z", "2024-01-01T10:00:00+00:00"},
    {WEEKLY
	"'weekdays':['mon'],'repeat_every_s':1800,'repeat_start':'09:00','repeat_end':'10:00'",
	"UTC", "2024-01-01T10:00:00Z", "2024-01-08T09:00:00+00:00"},
    {WEEKLY "'weekdays':['mon'],'end_date':'2024-01-07'", "UTC",
	"2024-01-01T00:00:00Z", "-"},
    /* monthly: a month without the day is skipped */
    {MONTHLY "'day':15", "UTC", "2024-01-15T00:00:00Z",
	"2024-02-15T00:00:00+00:00"},
    {MONTHLY "'day':15", "UTC", "2024-01-14T23:59:59Z",
	"2024-01-15T00:00:00+00:00"},
    {MONTHLY "'day':31", "UTC", "2024-01-31T00:00:00Z",
	"2024-03-31T00:00:00+00:00"},
    {MONTHLY "'day':31", "UTC", "2024-03-31T00:00:00Z",
	"2024-05-31T00:00:00+00:00"},
    {MONTHLY "'day':31", "UTC", "2024-05-31T00:00:00Z",
	"2024-07-31T00:00:00+00:00"},
    {MONTHLY "'day':31", "UTC", "2024-07-31T00:00:00Z",
	"2024-08-31T00:00:00+00:00"},
    {MONTHLY "'day':31", "UTC", "2024-08-31T00:00:00Z",
	"2024-10-31T00:00:00+00:00"},
    {MONTHLY "'day':31", "UTC", "2024-10-31T00:00:00Z",
	"2024-12-31T00:00:00+00:00"},
    {MONTHLY "'day':30", "UTC", "2024-01-30T00:00:00Z",
	"2024-03-30T00:00:00+00:00"},
    {MONTHLY "'day':29", "UTC", "2024-01-29T00:00:00Z",
	"2024-02-29T00:00:00+00:00"},
    {MONTHLY "'day':29", "UTC", "2025-01-29T00:00:00Z",
	"2025-03-29T00:00:00+00:00"},
    {MONTHLY "'day':29", "UTC", "2100-01-29T00:00:00Z",
	"2100-03-29T00:00:00+00:00"},
    {MONTHLY "'day':28", "UTC", "2024-02-28T00:00:00Z",
	"2024-03-28T00:00:00+00:00"},
    /* 2100 is not a leap year, 2028 and 2104 are */
    {MONTHLY "'day':29,'every_months':12,'start_date':'2099-02-01'", "UTC",
	"2099-03-01T00:00:00Z", "2104-02-29T00:00:00+00:00"},
    {MONTHLY "'day':29,'every_months':12,'start_date':'2027-02-01'", "UTC",
	"2027-01-01T00:00:00Z", "2028-02-29T00:00:00+00:00"},
    {MONTHLY "'day':29,'every_months':12,'start_date':'2024-02-01'", "UTC",
	"2024-02-29T00:00:00Z", "2028-02-29T00:00:00+00:00"},
    /* every N months: from start_date's month, else from January 1970 */
    {MONTHLY "'day':1,'every_months':3", "UTC", "2024-02-01T00:00:00Z",
	"2024-04-01T00:00:00+00:00"},
    {MONTHLY "'day':1,'every_months':3", "UTC", "2024-01-01T00:00:00Z",
	"2024-04-01T00:00:00+00:00"},
    {MONTHLY "'day':5,'every_months':2,'start_date':'2024-02-10'", "UTC",
	"2024-01-01T00:00:00Z", "2024-04-05T00:00:00+00:00"},
    {MONTHLY "'day':5,'every_months':2,'start_date':'2024-02-03'", "UTC",
	"2024-01-01T00:00:00Z", "2024-02-05T00:00:00+00:00"},
    {MONTHLY "'day':31,'every_months':2,'start_date':'2024-01-01'", "UTC",
	"2024-01-31T00:00:00Z", "2024-03-31T00:00:00+00:00"},
    {MONTHLY "'day':31,'every_months':2,'start_date':'2024-02-01'", "UTC",
	"2024-01-31T00:00:00Z", "2024-08-31T00:00:00+00:00"},
    {MONTHLY "'day':31,'end_date':'2024-04-30'", "UTC", "2024-03-31T00:00:00Z",
	"-"},
    {MONTHLY
	"'day':1,'repeat_every_s':3600,'repeat_start':'08:00','repeat_end':'10:00'",
	"UTC", "2024-01-01T10:00:00Z", "2024-02-01T08:00:00+00:00"},
    {MONTHLY "'day':1", "UTC", "2024-12-01T00:00:00Z",
	"2025-01-01T00:00:00+00:00"},
    {MONTHLY "'day':1,'every_months':120,'start_date':'2024-01-01'", "UTC",
	"2024-01-01T00:00:00Z", "2034-01-01T00:00:00+00:00"},
    /* monthly_relative */
    {REL "'which':'first','day':'monday'", "UTC", "2024-01-01T00:00:00Z",
	"2024-02-05T00:00:00+00:00"},
    {REL "'which':'first','day':'monday'", "UTC", "2023-12-31T00:00:00Z",
	"2024-01-01T00:00:00+00:00"},
    {REL "'which':'last','day':'friday'", "UTC", "2024-01-01T00:00:00Z",
	"2024-01-26T00:00:00+00:00"},
    {REL "'which':'last','day':'weekday'", "UTC", "2024-03-01T00:00:00Z",
	"2024-03-29T00:00:00+00:00"},
    {REL "'which':'first','day':'weekday'", "UTC", "2024-05-31T00:00:00Z",
	"2024-06-03T00:00:00+00:00"},
    {REL "'which':'first','day':'weekend_day'", "UTC", "2024-01-01T00:00:00Z",
	"2024-01-06T00:00:00+00:00"},
    {REL "'which':'second','day':'weekend_day'", "UTC", "2024-01-06T00:00:00Z",
	"2024-01-07T00:00:00+00:00"},
    {REL "'which':'last','day':'weekend_day'", "UTC", "2024-03-01T00:00:00Z",
	"2024-03-31T00:00:00+00:00"},
    {REL "'which':'second','day':'day'", "UTC", "2024-01-02T00:00:00Z",
	"2024-02-02T00:00:00+00:00"},
    {REL "'which':'last','day':'day'", "UTC", "2024-02-01T00:00:00Z",
	"2024-02-29T00:00:00+00:00"},
    {REL "'which':'last','day':'day'", "UTC", "2025-02-01T00:00:00Z",
	"2025-02-28T00:00:00+00:00"},
    {REL "'which':'fourth','day':'sunday'", "UTC", "2024-02-01T00:00:00Z",
	"2024-02-25T00:00:00+00:00"},
    {REL "'which':'fourth','day':'weekday'", "UTC", "2024-02-01T00:00:00Z",
	"2024-02-06T00:00:00+00:00"},
    {REL "'which':'third','day':'wednesday'", "UTC", "2024-01-01T00:00:00Z",
	"2024-01-17T00:00:00+00:00"},
    {REL "'which':'last','day':'monday'", "UTC", "2024-12-01T00:00:00Z",
	"2024-12-30T00:00:00+00:00"},
    {REL "'which':'first','day':'sunday','every_months':2", "UTC",
	"2024-01-08T00:00:00Z", "2024-03-03T00:00:00+00:00"},
    {REL
	"'which':'last','day':'day','every_months':3,'start_date':'2024-01-01'",
	"UTC", "2024-01-31T00:00:00Z", "2024-04-30T00:00:00+00:00"},
    {REL "'which':'first','day':'thursday','at':'12:00'", "UTC",
	"2024-02-01T12:00:00Z", "2024-03-07T12:00:00+00:00"},
    {REL "'which':'fourth','day':'saturday','at':'12:00'", "UTC",
	"2024-02-24T11:00:00Z", "2024-02-24T12:00:00+00:00"},
    /* once, start, idle */
    {"'kind':'once','at':'2024-06-01T12:00'", "UTC", "2024-01-01T00:00:00Z",
	"2024-06-01T12:00:00+00:00"},
    {"'kind':'once','at':'2024-06-01T12:00'", "UTC", "2024-06-01T11:59:59Z",
	"2024-06-01T12:00:00+00:00"},
    {"'kind':'once','at':'2024-06-01T12:00'", "UTC", "2024-06-01T12:00:00Z",
	"-"},
    {"'kind':'once','at':'2024-06-01T12:00','end_date':'2024-05-31'", "UTC",
	"2024-01-01T00:00:00Z", "-"},
    {"'kind':'once','at':'2024-06-01T12:00','start_date':'2024-06-02'", "UTC",
	"2024-01-01T00:00:00Z", "-"},
    {"'kind':'once','at':'2024-06-01T12:00:30'", BER,
	"2024-01-01T00:00:00+01:00", "2024-06-01T12:00:30+02:00"},
    {"'kind':'start'", "UTC", "2024-01-01T00:00:00Z", "-"},
    {"'kind':'idle','idle_load':0.5,'idle_for_s':60", "UTC",
	"2024-01-01T00:00:00Z", "-"},
    /* cron inside a schedule, with dates and zones */
    {"'cron':'0 0 * * *','start_date':'2024-02-01'", "UTC",
	"2024-01-01T00:00:00Z", "2024-02-01T00:00:00+00:00"},
    {"'cron':'0 0 * * *','end_date':'2024-02-01'", "UTC",
	"2024-02-01T00:00:00Z", "-"},
    {"'cron':'0 9 * * *','time_zone':'America/New_York'", BER,
	"2024-01-01T09:00:00-05:00", "2024-01-02T09:00:00-05:00"},
    {"'cron':'*/5 * * * *'", NULL, "2024-01-01T00:02:00Z",
	"2024-01-01T00:05:00+00:00"},
    /* the zone: the schedule's own, else the caller's, else UTC */
    {DAILY "'at':'02:30'", BER, "2024-01-01T00:00:00+01:00",
	"2024-01-01T02:30:00+01:00"},
    {DAILY "'at':'02:30','time_zone':'America/New_York'", BER,
	"2024-01-01T00:00:00-05:00", "2024-01-01T02:30:00-05:00"},
    {DAILY "'at':'02:30','time_zone':'UTC'", BER, "2024-01-01T00:00:00Z",
	"2024-01-01T02:30:00+00:00"},
    {DAILY "'at':'09:00'", "Asia/Kolkata", "2024-01-01T09:00:00+05:30",
	"2024-01-02T09:00:00+05:30"},
    /* Europe/Berlin: 2024-03-31 02:00 -> 03:00; 2024-10-27 03:00 -> 02:00 */
    {DAILY "'at':'02:30'", BER, "2024-03-30T02:30:00+01:00",
	"2024-03-31T03:00:00+02:00"},
    {DAILY "'at':'02:30'", BER, "2024-03-31T03:00:00+02:00",
	"2024-04-01T02:30:00+02:00"},
    {DAILY "'at':'02:00'", BER, "2024-03-30T02:00:00+01:00",
	"2024-03-31T03:00:00+02:00"},
    {DAILY "'at':'02:59:59'", BER, "2024-03-30T02:59:59+01:00",
	"2024-03-31T03:00:00+02:00"},
    {DAILY "'at':'03:00'", BER, "2024-03-30T03:00:00+01:00",
	"2024-03-31T03:00:00+02:00"},
    {DAILY "'at':'01:59'", BER, "2024-03-30T01:59:00+01:00",
	"2024-03-31T01:59:00+01:00"},
    {DAILY "'at':'02:30'", BER, "2024-10-26T02:30:00+02:00",
	"2024-10-27T02:30:00+02:00"},
    {DAILY "'at':'02:30'", BER, "2024-10-27T02:30:00+02:00",
	"2024-10-28T02:30:00+01:00"},
    {DAILY "'at':'02:30'", BER, "2024-10-27T02:00:00+01:00",
	"2024-10-28T02:30:00+01:00"},
    {DAILY "'at':'02:00'", BER, "2024-10-27T00:00:00+02:00",
	"2024-10-27T02:00:00+02:00"},
    {DAILY "'at':'03:00'", BER, "2024-10-27T02:59:59+02:00",
	"2024-10-27T03:00:00+01:00"},
    {WEEKLY "'weekdays':['sun'],'at':'02:30'", BER, "2024-03-24T02:30:00+01:00",
	"2024-03-31T03:00:00+02:00"},
    {REL "'which':'last','day':'sunday','at':'02:30'", BER,
	"2024-03-01T00:00:00+01:00", "2024-03-31T03:00:00+02:00"},
    {REL "'which':'last','day':'sunday','at':'02:30'", BER,
	"2024-10-01T00:00:00+02:00", "2024-10-27T02:30:00+02:00"},
    {MONTHLY "'day':31,'at':'02:15'", BER, "2024-03-01T00:00:00+01:00",
	"2024-03-31T03:00:00+02:00"},
    {"'kind':'once','at':'2024-03-31T02:30'", BER, "2024-01-01T00:00:00+01:00",
	"2024-03-31T03:00:00+02:00"},
    {"'kind':'once','at':'2024-10-27T02:30'", BER, "2024-10-01T00:00:00+02:00",
	"2024-10-27T02:30:00+02:00"},
    {"'kind':'once','at':'2024-10-27T02:30'", BER, "2024-10-27T02:30:00+02:00",
	"-"},
    {DAILY "'repeat_every_s':900", BER, "2024-03-31T01:45:00+01:00",
	"2024-03-31T03:00:00+02:00"},
    {DAILY "'repeat_every_s':900", BER, "2024-03-31T03:00:00+02:00",
	"2024-03-31T03:15:00+02:00"},
    {DAILY "'repeat_every_s':900", BER, "2024-10-27T02:45:00+02:00",
	"2024-10-27T03:00:00+01:00"},
    {DAILY "'repeat_every_s':900", BER, "2024-10-27T02:00:00+01:00",
	"2024-10-27T03:00:00+01:00"},
    {DAILY "'repeat_every_s':3600,'repeat_start':'01:00','repeat_end':'04:00'",
	BER, "2024-03-31T01:00:00+01:00", "2024-03-31T03:00:00+02:00"},
    {DAILY "'repeat_every_s':3600,'repeat_start':'01:00','repeat_end':'04:00'",
	BER, "2024-03-31T03:00:00+02:00", "2024-03-31T04:00:00+02:00"},
    {DAILY "'repeat_every_s':1800,'repeat_start':'02:00','repeat_end':'02:59'",
	BER, "2024-03-31T00:00:00+01:00", "2024-03-31T03:00:00+02:00"},
    {DAILY "'repeat_every_s':1800,'repeat_start':'02:00','repeat_end':'02:59'",
	BER, "2024-03-31T03:00:00+02:00", "2024-04-01T02:00:00+02:00"},
    {DAILY "'at':'02:30'", BER, "2025-03-29T02:30:00+01:00",
	"2025-03-30T03:00:00+02:00"},
    {DAILY "'at':'02:30'", BER, "2025-10-26T02:30:00+02:00",
	"2025-10-27T02:30:00+01:00"},
    {DAILY "'at':'02:30'", BER, "2099-03-28T02:30:00+01:00",
	"2099-03-29T03:00:00+02:00"},
    /* America/New_York: 2024-03-10 02:00 -> 03:00; 2024-11-03 02:00 -> 01:00 */
    {DAILY "'at':'02:30'", NY, "2024-03-09T02:30:00-05:00",
	"2024-03-10T03:00:00-04:00"},
    {DAILY "'at':'02:00'", NY, "2024-03-09T02:00:00-05:00",
	"2024-03-10T03:00:00-04:00"},
    {DAILY "'at':'01:30'", NY, "2024-11-02T01:30:00-04:00",
	"2024-11-03T01:30:00-04:00"},
    {DAILY "'at':'01:30'", NY, "2024-11-03T01:30:00-04:00",
	"2024-11-04T01:30:00-05:00"},
    {DAILY "'at':'01:30'", NY, "2024-11-03T01:00:00-05:00",
	"2024-11-04T01:30:00-05:00"},
    {DAILY "'at':'02:00'", NY, "2024-11-03T01:59:59-04:00",
	"2024-11-03T02:00:00-05:00"},
    {DAILY "", NY, "2024-03-09T12:00:00-05:00", "2024-03-10T00:00:00-05:00"},
    {DAILY "'repeat_every_s':900", NY, "2024-03-10T01:45:00-05:00",
	"2024-03-10T03:00:00-04:00"},
    {DAILY "'repeat_every_s':900", NY, "2024-11-03T01:45:00-04:00",
	"2024-11-03T02:00:00-05:00"},
    {DAILY "'repeat_every_s':900", NY, "2024-11-03T01:15:00-05:00",
	"2024-11-03T02:00:00-05:00"},
    {WEEKLY "'weekdays':['sun'],'at':'02:00'", NY, "2024-03-03T02:00:00-05:00",
	"2024-03-10T03:00:00-04:00"},
    {REL "'which':'second','day':'sunday','at':'02:30'", NY,
	"2024-03-01T00:00:00-05:00", "2024-03-10T03:00:00-04:00"},
    {REL "'which':'first','day':'sunday','at':'01:30'", NY,
	"2024-11-01T00:00:00-04:00", "2024-11-03T01:30:00-04:00"},
    {"'kind':'once','at':'2024-11-03T01:30'", NY, "2024-11-03T01:30:00-04:00",
	"-"},
    {DAILY "'at':'02:30'", NY, "2025-03-08T02:30:00-05:00",
	"2025-03-09T03:00:00-04:00"},
    /* Australia/Lord_Howe: 2024-04-07 02:00 -> 01:30 (+11 -> +10:30);
     * 2024-10-06 02:00 -> 02:30 (+10:30 -> +11) */
    {DAILY "'at':'02:15'", LH, "2024-10-05T02:15:00+10:30",
	"2024-10-06T02:30:00+11:00"},
    {DAILY "'at':'02:00'", LH, "2024-10-05T02:00:00+10:30",
	"2024-10-06T02:30:00+11:00"},
    {DAILY "'at':'02:30'", LH, "2024-10-05T02:30:00+10:30",
	"2024-10-06T02:30:00+11:00"},
    {DAILY "'at':'02:29:59'", LH, "2024-10-05T02:29:59+10:30",
	"2024-10-06T02:30:00+11:00"},
    {DAILY "'at':'01:45'", LH, "2024-04-06T01:45:00+11:00",
	"2024-04-07T01:45:00+11:00"},
    {DAILY "'at':'01:45'", LH, "2024-04-07T01:45:00+11:00",
	"2024-04-08T01:45:00+10:30"},
    {DAILY "'at':'01:30'", LH, "2024-04-07T01:30:00+11:00",
	"2024-04-08T01:30:00+10:30"},
    {DAILY "'at':'02:00'", LH, "2024-04-07T01:59:59+11:00",
	"2024-04-07T02:00:00+10:30"},
    {DAILY "'repeat_every_s':900", LH, "2024-10-06T01:45:00+10:30",
	"2024-10-06T02:30:00+11:00"},
    {DAILY "'repeat_every_s':900", LH, "2024-10-06T02:30:00+11:00",
	"2024-10-06T02:45:00+11:00"},
    {DAILY "'repeat_every_s':900", LH, "2024-04-07T01:45:00+11:00",
	"2024-04-07T02:00:00+10:30"},
    {DAILY "'repeat_every_s':600", LH, "2024-10-06T01:50:00+10:30",
	"2024-10-06T02:30:00+11:00"},
    {REL "'which':'first','day':'sunday','at':'02:15'", LH,
	"2024-10-01T00:00:00+10:30", "2024-10-06T02:30:00+11:00"},
    {DAILY "'at':'02:15'", LH, "2025-10-04T02:15:00+10:30",
	"2025-10-05T02:30:00+11:00"},
    /* UTC has no transitions */
    {DAILY "'at':'02:30'", "UTC", "2024-03-30T02:30:00Z",
	"2024-03-31T02:30:00+00:00"},
    {DAILY "'repeat_every_s':900", "UTC", "2024-03-31T01:45:00Z",
	"2024-03-31T02:00:00+00:00"},
    {DAILY "'repeat_every_s':900", "UTC", "2024-10-27T02:45:00Z",
	"2024-10-27T03:00:00+00:00"},
};

static void
test_schedule_next(void **state)
{
	char got[64];

	for (size_t i = 0; i < NCASES(next_cases); i++) {
		struct schedule *s = sched(next_cases[i].members);

		next_str(s, next_cases[i].zone,
		    parse_zoned(next_cases[i].after), got, sizeof(got));
		if (strcmp(got, next_cases[i].next) != 0)
			fail_msg("case %zu {%s} %s after %s: got %s want %s", i,
			    next_cases[i].members,
			    next_cases[i].zone ? next_cases[i].zone : "(null)",
			    next_cases[i].after, got, next_cases[i].next);
		schedule_free(s);
	}
}

/* ---- next run: successive runs ---- */

static const struct {
	const char *members;
	const char *zone;
	const char *after;
	const char *runs; /* the next runs in order, space-separated */
} seq_cases[] = {
    /* every 15 minutes across each kind of transition: wall times in a gap
     * collapse onto the gap's end once; repeated ones run once */
    {DAILY "'repeat_every_s':900", BER, "2024-03-31T01:15:00+01:00",
	"2024-03-31T01:30:00+01:00 2024-03-31T01:45:00+01:00 "
	"2024-03-31T03:00:00+02:00 2024-03-31T03:15:00+02:00 "
	"2024-03-31T03:30:00+02:00"},
    {DAILY "'repeat_every_s':900", BER, "2024-10-27T01:30:00+02:00",
	"2024-10-27T01:45:00+02:00 2024-10-27T02:00:00+02:00 "
	"2024-10-27T02:15:00+02:00 2024-10-27T02:30:00+02:00 "
	"2024-10-27T02:45:00+02:00 2024-10-27T03:00:00+01:00 "
	"2024-10-27T03:15:00+01:00"},
    {DAILY "'repeat_every_s':900", NY, "2024-03-10T01:15:00-05:00",
	"2024-03-10T01:30:00-05:00 2024-03-10T01:45:00-05:00 "
	"2024-03-10T03:00:00-04:00 2024-03-10T03:15:00-04:00"},
    {DAILY "'repeat_every_s':900", NY, "2024-11-03T00:30:00-04:00",
	"2024-11-03T00:45:00-04:00 2024-11-03T01:00:00-04:00 "
	"2024-11-03T01:15:00-04:00 2024-11-03T01:30:00-04:00 "
	"2024-11-03T01:45:00-04:00 2024-11-03T02:00:00-05:00 "
	"2024-11-03T02:15:00-05:00"},
    {DAILY "'repeat_every_s':900", LH, "2024-10-06T01:15:00+10:30",
	"2024-10-06T01:30:00+10:30 2024-10-06T01:45:00+10:30 "
	"2024-10-06T02:30:00+11:00 2024-10-06T02:45:00+11:00 "
	"2024-10-06T03:00:00+11:00"},
    {DAILY "'repeat_every_s':900", LH, "2024-04-07T01:00:00+11:00",
	"2024-04-07T01:15:00+11:00 2024-04-07T01:30:00+11:00 "
	"2024-04-07T01:45:00+11:00 2024-04-07T02:00:00+10:30 "
	"2024-04-07T02:15:00+10:30"},
    {DAILY "'repeat_every_s':900", "UTC", "2024-03-31T01:15:00Z",
	"2024-03-31T01:30:00+00:00 2024-03-31T01:45:00+00:00 "
	"2024-03-31T02:00:00+00:00 2024-03-31T02:15:00+00:00 "
	"2024-03-31T02:30:00+00:00"},
    /* cron follows the same rules */
    {"'cron':'*/15 * * * *'", BER, "2024-03-31T01:15:00+01:00",
	"2024-03-31T01:30:00+01:00 2024-03-31T01:45:00+01:00 "
	"2024-03-31T03:00:00+02:00 2024-03-31T03:15:00+02:00"},
    {"'cron':'0 * * * *'", BER, "2024-10-27T00:00:00+02:00",
	"2024-10-27T01:00:00+02:00 2024-10-27T02:00:00+02:00 "
	"2024-10-27T03:00:00+01:00 2024-10-27T04:00:00+01:00"},
    {"'cron':'0 * * * *'", BER, "2024-03-31T00:00:00+01:00",
	"2024-03-31T01:00:00+01:00 2024-03-31T03:00:00+02:00 "
	"2024-03-31T04:00:00+02:00"},
    {"'cron':'*/20 * * * *'", LH, "2024-10-06T01:30:00+10:30",
	"2024-10-06T01:40:00+10:30 2024-10-06T02:30:00+11:00 "
	"2024-10-06T02:40:00+11:00"},
    /* a daily time through both Berlin transitions */
    {DAILY "'at':'02:30'", BER, "2024-03-29T12:00:00+01:00",
	"2024-03-30T02:30:00+01:00 2024-03-31T03:00:00+02:00 "
	"2024-04-01T02:30:00+02:00"},
    {DAILY "'at':'02:30'", BER, "2024-10-25T12:00:00+02:00",
	"2024-10-26T02:30:00+02:00 2024-10-27T02:30:00+02:00 "
	"2024-10-28T02:30:00+01:00"},
    /* month ends */
    {MONTHLY "'day':31", "UTC", "2024-01-01T00:00:00Z",
	"2024-01-31T00:00:00+00:00 2024-03-31T00:00:00+00:00 "
	"2024-05-31T00:00:00+00:00 2024-07-31T00:00:00+00:00 "
	"2024-08-31T00:00:00+00:00 2024-10-31T00:00:00+00:00 "
	"2024-12-31T00:00:00+00:00 2025-01-31T00:00:00+00:00"},
    {MONTHLY "'day':29", "UTC", "2027-12-01T00:00:00Z",
	"2027-12-29T00:00:00+00:00 2028-01-29T00:00:00+00:00 "
	"2028-02-29T00:00:00+00:00 2028-03-29T00:00:00+00:00"},
    {REL "'which':'last','day':'weekday'", "UTC", "2024-01-01T00:00:00Z",
	"2024-01-31T00:00:00+00:00 2024-02-29T00:00:00+00:00 "
	"2024-03-29T00:00:00+00:00 2024-04-30T00:00:00+00:00 "
	"2024-05-31T00:00:00+00:00 2024-06-28T00:00:00+00:00 "
	"2024-07-31T00:00:00+00:00 2024-08-30T00:00:00+00:00 "
	"2024-09-30T00:00:00+00:00 2024-10-31T00:00:00+00:00 "
	"2024-11-29T00:00:00+00:00 2024-12-31T00:00:00+00:00"},
    {REL "'which':'first','day':'weekend_day'", "UTC", "2024-01-01T00:00:00Z",
	"2024-01-06T00:00:00+00:00 2024-02-03T00:00:00+00:00 "
	"2024-03-02T00:00:00+00:00 2024-04-06T00:00:00+00:00 "
	"2024-05-04T00:00:00+00:00 2024-06-01T00:00:00+00:00 "
	"2024-07-06T00:00:00+00:00 2024-08-03T00:00:00+00:00 "
	"2024-09-01T00:00:00+00:00"},
    {WEEKLY
	"'every_weeks':2,'weekdays':['tue','thu'],'start_date':'2024-01-03'",
	"UTC", "2024-01-01T00:00:00Z",
	"2024-01-04T00:00:00+00:00 2024-01-16T00:00:00+00:00 "
	"2024-01-18T00:00:00+00:00 2024-01-30T00:00:00+00:00 "
	"2024-02-01T00:00:00+00:00"},
    {DAILY
	"'every_days':3,'start_date':'2024-02-26','end_date':'2024-03-05','at':'12:00'",
	"UTC", "2024-01-01T00:00:00Z",
	"2024-02-26T12:00:00+00:00 2024-02-29T12:00:00+00:00 "
	"2024-03-03T12:00:00+00:00 -"},
};

static void
test_schedule_sequences(void **state)
{
	char got[64], want[64];

	for (size_t i = 0; i < NCASES(seq_cases); i++) {
		struct schedule *s = sched(seq_cases[i].members);
		int64_t after = parse_zoned(seq_cases[i].after);
		const char *p = seq_cases[i].runs;
		struct cerr err;

		for (int n = 1; *p != '\0'; n++) {
			size_t len = strcspn(p, " ");

			snprintf(want, sizeof(want), "%.*s", (int)len, p);
			next_str(s, seq_cases[i].zone, after, got, sizeof(got));
			if (strcmp(got, want) != 0)
				fail_msg("case %zu run %d: got %s want %s", i,
				    n, got, want);
			if (strcmp(want, "-") != 0)
				assert_int_equal(
				    schedule_next(s, seq_cases[i].zone, after,
					&after, &err),
				    0);
			p += len;
			p += *p == ' ';
		}
		schedule_free(s);
	}
}

/* ---- every wall time around every transition ---- */

static const char *const sweep_zones[] = {"Europe/Berlin", "America/New_York",
    "Australia/Lord_Howe", "UTC", "Europe/Dublin", "Pacific/Chatham",
    "America/Santiago", "Antarctica/Troll", "Asia/Tehran", "America/St_Johns"};

/* The instant a 15-minute grid wall time must run at, found by brute force
 * from the two offsets around transition t: its first occurrence, or t
 * itself when it falls in the gap. */
static int64_t
expected_run(const struct tz *tz, int64_t t, int64_t wall)
{
	int32_t before = tz_offset_at(tz, t - 1), after = tz_offset_at(tz, t);
	int64_t best = INT64_MAX;

	if (tz_offset_at(tz, wall - before) == before)
		best = wall - before;
	if (tz_offset_at(tz, wall - after) == after && wall - after < best)
		best = wall - after;
	return best != INT64_MAX ? best : t;
}

/* Checks the runs of "every 15 minutes" from 12 hours before transition t
 * to 12 hours after it against the brute-force list. */
static void
sweep_transition(
    const struct schedule *s, const char *zone, const struct tz *tz, int64_t t)
{
	int64_t start = t - 12 * 3600, end = t + 12 * 3600;
	int64_t want[200], cursor = start;
	size_t n = 0;
	struct cerr err;
	int64_t w = tz_floor_div(tz_to_local(tz, start) - 3 * 3600, 900) * 900;

	for (; n < NCASES(want) && w < tz_to_local(tz, end) + 3 * 3600;
	     w += 900) {
		int64_t u = expected_run(tz, t, w);

		if (u > start && u <= end && (n == 0 || u != want[n - 1]))
			want[n++] = u;
	}
	for (size_t i = 0; i < n; i++) {
		int64_t next = 0;
		char a[40], b[40], c[40];

		assert_int_equal(
		    schedule_next(s, zone, cursor, &next, &err), 0);
		if (next != want[i])
			fail_msg("%s run %zu after %s: got %s want %s", zone, i,
			    tz_format_rfc3339(tz, cursor, a, sizeof(a)),
			    tz_format_rfc3339(tz, next, b, sizeof(b)),
			    tz_format_rfc3339(tz, want[i], c, sizeof(c)));
		cursor = next;
	}
}

static void
test_schedule_dst_sweep(void **state)
{
	struct schedule *s = sched(DAILY "'repeat_every_s':900");
	int transitions = 0;

	for (size_t z = 0; z < NCASES(sweep_zones); z++) {
		struct tz *tz = NULL;
		struct cerr err;
		int64_t from = parse_zoned("2024-01-01T00:00:00Z");

		assert_int_equal(tz_load(sweep_zones[z], &tz, &err), 0);
		/* every transition of 2024 and 2025, found hour by hour
		 * (all of these zones change on the hour or half hour) */
		for (int64_t t = from; t < from + 2 * 366 * 86400; t += 1800) {
			if (tz_offset_at(tz, t) == tz_offset_at(tz, t - 1800))
				continue;
			while (tz_offset_at(tz, t - 1) !=
			    tz_offset_at(tz, t - 1800))
				t--;
			sweep_transition(s, sweep_zones[z], tz, t);
			transitions++;
		}
		/* a zone without transitions: one plain window */
		sweep_transition(s, sweep_zones[z], tz, from + 86400);
		tz_free(tz);
	}
	assert_true(transitions >= 25);
	schedule_free(s);
}

/* schedule_next_due reports how DST treated the run. */
static void
test_schedule_due_detail(void **state)
{
	struct schedule *s = sched(DAILY "'at':'02:30'");
	struct schedule_due due;
	struct tz *tz = NULL;
	struct cerr err;
	char buf[32];

	assert_int_equal(tz_load(BER, &tz, &err), 0);
	schedule_next_due(
	    s, tz, parse_zoned("2024-03-30T12:00:00+01:00"), &due);
	assert_int_equal(due.dst, TZ_LOCAL_GAP);
	assert_string_equal(tz_format_local(due.local_s, buf, sizeof(buf)),
	    "2024-03-31T02:30:00");
	assert_int_equal(due.offset_s, 7200);
	assert_int_equal(due.utc, parse_zoned("2024-03-31T03:00:00+02:00"));
	schedule_next_due(
	    s, tz, parse_zoned("2024-10-26T12:00:00+02:00"), &due);
	assert_int_equal(due.dst, TZ_LOCAL_REPEATED);
	assert_int_equal(due.offset_s, 7200);
	schedule_next_due(
	    s, tz, parse_zoned("2024-06-01T12:00:00+02:00"), &due);
	assert_int_equal(due.dst, TZ_LOCAL_UNIQUE);
	tz_free(tz);
	schedule_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_schedule_bad),
	    cmocka_unit_test(test_schedule_not_object),
	    cmocka_unit_test(test_schedule_canonical),
	    cmocka_unit_test(test_schedule_accessors),
	    cmocka_unit_test(test_schedule_next),
	    cmocka_unit_test(test_schedule_sequences),
	    cmocka_unit_test(test_schedule_dst_sweep),
	    cmocka_unit_test(test_schedule_due_detail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
