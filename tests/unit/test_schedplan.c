/*
 * Unit tests for the scheduler's decisions (schedplan.c), with no daemon,
 * clock or store: tables of (schedule, zone, cursor, now, daemon start,
 * misfire policy, job disabled) -> (run now, catch-up, missed records with
 * reason and count, new cursor, next instant). Times are RFC 3339 strings
 * so each row reads against a calendar. Then the "last instant before"
 * bisection against a linear walk, the missed-record messages, the idle
 * detector over sequences of load samples, the dates of "start" and
 * "idle" schedules, and clock-jump arithmetic.
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
#include "common/timefmt.h"
#include "common/tz.h"
#include "target/schedplan.h"

#define NCASES(t) (sizeof(t) / sizeof((t)[0]))

/* Schedules in single quotes, without their name. */
static struct schedule *
sched(const char *members)
{
	char text[1024];
	struct schedule *s = NULL;
	json_error_t jerr;
	struct cerr err;
	json_t *j;

	snprintf(text, sizeof(text), "{'name':'s',%s}", members);
	for (char *p = text; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	j = json_loads(text, 0, &jerr);
	if (j == NULL)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	if (schedule_from_json(j, "schedules[1]", &s, &err) != 0)
		fail_msg("refused %s: %s", text, err.msg);
	json_decref(j);
	return s;
}

/* RFC 3339 to Unix seconds; NULL is 0. */
static int64_t
at(const char *text)
{
	int64_t ms;

	if (text == NULL)
		return 0;
	if (timefmt_parse(text, &ms) < 0)
		fail_msg("bad test time %s", text);
	return ms / 1000;
}

static struct tz *
zone(const char *name)
{
	struct tz *tz = NULL;
	struct cerr err;

	if (tz_load(name, &tz, &err) < 0)
		fail_msg("zone %s: %s", name, err.msg);
	return tz;
}

#define EVERY10 "'kind':'daily','every_days':1,'repeat_every_s':10"
#define NIGHTLY "'kind':'daily','every_days':1,'at':'02:30'"
#define CRON2 "'kind':'cron','cron':'*/2 * * * * *'"
#define GAPDAY                                                                 \
	"'kind':'daily','every_days':1,'repeat_every_s':600,"                  \
	"'repeat_start':'01:30','repeat_end':'03:30'"

struct miss_want {
	enum schedplan_reason reason;
	int64_t count;
	int more;
	const char *first, *last;
};

struct step_case {
	const char *what;
	const char *sched, *zone;
	const char *cursor, *now, *started;
	int64_t grace_s;
	enum misfire_policy misfire;
	int paused;
	/* expected */
	const char *run; /* NULL: no run */
	int catch_up;
	int nmiss;
	struct miss_want miss[SCHEDPLAN_MISS_MAX];
	const char *next; /* NULL: none */
};

#define T0 "2024-05-01T10:00:00Z"
#define DOWN MISFIRE_RUN_ONCE
#define SKIP MISFIRE_SKIP
#define M(r, c, f, l)                                                          \
	{                                                                      \
		SCHEDPLAN_##r, c, 0, f, l                                      \
	}

static const struct step_case step_cases[] = {
    {"on time", EVERY10, "UTC", T0, "2024-05-01T10:00:10Z", T0, 60, DOWN, 0,
	"2024-05-01T10:00:10Z", 0, 0, {{0}}, "2024-05-01T10:00:20Z"},
    {"not yet due", EVERY10, "UTC", T0, "2024-05-01T10:00:09Z", T0, 60, DOWN, 0,
	NULL, 0, 0, {{0}}, "2024-05-01T10:00:10Z"},
    {"cursor is now", EVERY10, "UTC", T0, T0, T0, 60, DOWN, 0, NULL, 0, 0,
	{{0}}, "2024-05-01T10:00:10Z"},
    /* The clock was set back: nothing is due again until it passes the
     * cursor. */
    {"clock set back", EVERY10, "UTC", T0, "2024-05-01T09:00:00Z", T0, 60, DOWN,
	0, NULL, 0, 0, {{0}}, "2024-05-01T10:00:10Z"},
    {"down one minute", EVERY10, "UTC", T0, "2024-05-01T10:01:00Z",
	"2024-05-01T10:01:00Z", 60, DOWN, 0, "2024-05-01T10:01:00Z", 0, 1,
	{M(DAEMON_DOWN, 5, "2024-05-01T10:00:10Z", "2024-05-01T10:00:50Z")},
	"2024-05-01T10:01:10Z"},
    {"down one minute, skip, last on time", EVERY10, "UTC", T0,
	"2024-05-01T10:01:05Z", "2024-05-01T10:01:04Z", 60, SKIP, 0,
	"2024-05-01T10:01:00Z", 0, 1,
	{M(DAEMON_DOWN, 5, "2024-05-01T10:00:10Z", "2024-05-01T10:00:50Z")},
	"2024-05-01T10:01:10Z"},
    {"down two days, catch-up", NIGHTLY, "UTC", "2024-05-01T03:00:00Z",
	"2024-05-03T10:00:00Z", "2024-05-03T10:00:00Z", 60, DOWN, 0,
	"2024-05-03T02:30:00Z", 1, 1,
	{M(DAEMON_DOWN, 1, "2024-05-02T02:30:00Z", "2024-05-02T02:30:00Z")},
	"2024-05-04T02:30:00Z"},
    {"down two days, skip", NIGHTLY, "UTC", "2024-05-01T03:00:00Z",
	"2024-05-03T10:00:00Z", "2024-05-03T10:00:00Z", 60, SKIP, 0, NULL, 0, 1,
	{M(DAEMON_DOWN, 2, "2024-05-02T02:30:00Z", "2024-05-03T02:30:00Z")},
	"2024-05-04T02:30:00Z"},
    {"down one night, catch-up only", NIGHTLY, "UTC", "2024-05-01T03:00:00Z",
	"2024-05-02T09:00:00Z", "2024-05-02T09:00:00Z", 60, DOWN, 0,
	"2024-05-02T02:30:00Z", 1, 0, {{0}}, "2024-05-03T02:30:00Z"},
    {"within grace", NIGHTLY, "UTC", "2024-05-01T03:00:00Z",
	"2024-05-02T02:30:59Z", "2024-05-02T02:30:30Z", 60, SKIP, 0,
	"2024-05-02T02:30:00Z", 0, 0, {{0}}, "2024-05-03T02:30:00Z"},
    {"past grace, skip", NIGHTLY, "UTC", "2024-05-01T03:00:00Z",
	"2024-05-02T02:31:01Z", "2024-05-02T02:31:00Z", 60, SKIP, 0, NULL, 0, 1,
	{M(DAEMON_DOWN, 1, "2024-05-02T02:30:00Z", "2024-05-02T02:30:00Z")},
	"2024-05-03T02:30:00Z"},
    {"zero grace, run_once", NIGHTLY, "UTC", "2024-05-01T03:00:00Z",
	"2024-05-02T02:30:01Z", "2024-05-02T02:30:01Z", 0, DOWN, 0,
	"2024-05-02T02:30:00Z", 1, 0, {{0}}, "2024-05-03T02:30:00Z"},
    {"job was disabled", EVERY10, "UTC", T0, "2024-05-01T10:01:00Z", T0, 60,
	DOWN, 1, NULL, 0, 1,
	{M(JOB_DISABLED, 6, "2024-05-01T10:00:10Z", "2024-05-01T10:01:00Z")},
	"2024-05-01T10:01:10Z"},
    {"disabled, nothing due", NIGHTLY, "UTC", "2024-05-01T03:00:00Z",
	"2024-05-01T04:00:00Z", T0, 60, DOWN, 1, NULL, 0, 0, {{0}},
	"2024-05-02T02:30:00Z"},
    /* Running since before the first of them: late, not "down". */
    {"late while running", CRON2, "UTC", T0, "2024-05-01T10:00:07Z",
	"2024-05-01T09:00:00Z", 60, DOWN, 0, "2024-05-01T10:00:06Z", 0, 1,
	{M(LATE, 2, "2024-05-01T10:00:02Z", "2024-05-01T10:00:04Z")},
	"2024-05-01T10:00:08Z"},
    {"clock jumped an hour", CRON2, "UTC", T0, "2024-05-01T11:00:00Z",
	"2024-05-01T09:00:00Z", 5, SKIP, 0, "2024-05-01T11:00:00Z", 0, 1,
	{M(LATE, 1799, "2024-05-01T10:00:02Z", "2024-05-01T10:59:58Z")},
	"2024-05-01T11:00:02Z"},
    {"started between", CRON2, "UTC", T0, "2024-05-01T10:00:07Z",
	"2024-05-01T10:00:03Z", 60, DOWN, 0, "2024-05-01T10:00:06Z", 0, 1,
	{M(DAEMON_DOWN, 2, "2024-05-01T10:00:02Z", "2024-05-01T10:00:04Z")},
	"2024-05-01T10:00:08Z"},
    {"once, passed", "'kind':'once','at':'2024-05-01T09:00'", "UTC", T0,
	"2024-05-01T10:30:00Z", T0, 60, DOWN, 0, NULL, 0, 0, {{0}}, NULL},
    {"once, due", "'kind':'once','at':'2024-05-01T10:30'", "UTC", T0,
	"2024-05-01T10:30:00Z", T0, 60, DOWN, 0, "2024-05-01T10:30:00Z", 0, 0,
	{{0}}, NULL},
    {"once in Berlin, late", "'kind':'once','at':'2024-05-01T12:30'",
	"Europe/Berlin", T0, "2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z", 60,
	DOWN, 0, "2024-05-01T10:30:00Z", 1, 0, {{0}}, NULL},
    {"after end date", NIGHTLY ",'end_date':'2024-05-02'", "UTC",
	"2024-05-01T03:00:00Z", "2024-05-05T00:00:00Z", "2024-05-05T00:00:00Z",
	60, SKIP, 0, NULL, 0, 1,
	{M(DAEMON_DOWN, 1, "2024-05-02T02:30:00Z", "2024-05-02T02:30:00Z")},
	NULL},
    /* Berlin, 2024-03-31: 02:00-03:00 does not exist. The 02:00 slot runs
     * at 03:00 (01:00Z), together with the 03:00 slot (the same instant);
     * 02:10..02:50 are one DST-gap record. */
    {"DST gap, repeating", GAPDAY, "Europe/Berlin", "2024-03-31T00:50:00Z",
	"2024-03-31T01:00:00Z", "2024-03-30T00:00:00Z", 60, DOWN, 0,
	"2024-03-31T01:00:00Z", 0, 1,
	{M(DST_GAP, 5, "2024-03-31T01:00:00Z", "2024-03-31T01:00:00Z")},
	"2024-03-31T01:10:00Z"},
    {"DST gap, once a day", NIGHTLY, "Europe/Berlin", "2024-03-30T12:00:00Z",
	"2024-03-31T01:00:00Z", "2024-03-30T00:00:00Z", 60, DOWN, 0,
	"2024-03-31T01:00:00Z", 0, 0, {{0}}, "2024-04-01T00:30:00Z"},
    /* 2024-10-27: 02:30 happens twice (00:30Z and 01:30Z); it runs once,
     * at the first. */
    {"DST repeat, first", NIGHTLY, "Europe/Berlin", "2024-10-26T12:00:00Z",
	"2024-10-27T00:30:00Z", "2024-10-26T00:00:00Z", 60, DOWN, 0,
	"2024-10-27T00:30:00Z", 0, 0, {{0}}, "2024-10-28T01:30:00Z"},
    {"DST repeat, second is not due", NIGHTLY, "Europe/Berlin",
	"2024-10-27T00:30:00Z", "2024-10-27T01:30:00Z", "2024-10-26T00:00:00Z",
	60, DOWN, 0, NULL, 0, 0, {{0}}, "2024-10-28T01:30:00Z"},
    {"New York, down over spring forward", NIGHTLY, "America/New_York",
	"2024-03-09T12:00:00Z", "2024-03-11T12:00:00Z", "2024-03-11T12:00:00Z",
	60, DOWN, 0, "2024-03-11T06:30:00Z", 1, 1,
	{M(DAEMON_DOWN, 1, "2024-03-10T07:00:00Z", "2024-03-10T07:00:00Z")},
	"2024-03-12T06:30:00Z"},
};

static void
check_miss(const struct step_case *c, const struct schedplan_miss *got,
    const struct miss_want *want)
{
	if (got->reason != want->reason || got->count != want->count ||
	    got->more != want->more || got->first != at(want->first) ||
	    got->last != at(want->last))
		fail_msg("%s: miss %s x%lld%s %lld..%lld, want %s x%lld %s..%s",
		    c->what, schedplan_reason_name(got->reason),
		    (long long)got->count, got->more ? "+" : "",
		    (long long)got->first, (long long)got->last,
		    schedplan_reason_name(want->reason), (long long)want->count,
		    want->first, want->last);
}

static void
run_step_case(const struct step_case *c, const struct tz *utc, int64_t booted)
{
	struct schedule *s = sched(c->sched);
	struct tz *tz = zone(c->zone);
	struct schedplan_in in = {s, tz, utc, at(c->cursor), at(c->now),
	    at(c->started), c->grace_s, c->misfire, c->paused, booted};
	struct schedplan_out out;

	schedplan_step(&in, &out);
	if (out.run_due != at(c->run) || out.catch_up != c->catch_up)
		fail_msg("%s: run %lld catch-up %d, want %s %d", c->what,
		    (long long)out.run_due, out.catch_up,
		    c->run ? c->run : "none", c->catch_up);
	if (out.nmiss != c->nmiss)
		fail_msg("%s: %d missed records, want %d", c->what, out.nmiss,
		    c->nmiss);
	for (int k = 0; k < c->nmiss; k++)
		check_miss(c, &out.miss[k], &c->miss[k]);
	if (out.next != at(c->next))
		fail_msg("%s: next %lld, want %s", c->what, (long long)out.next,
		    c->next ? c->next : "none");
	if (out.cursor != (in.cursor > in.now ? in.cursor : in.now))
		fail_msg("%s: cursor %lld", c->what, (long long)out.cursor);
	schedule_free(s);
	tz_free(tz);
}

static void
test_step_table(void **state)
{
	struct tz *utc = zone("UTC");

	for (size_t i = 0; i < NCASES(step_cases); i++)
		run_step_case(&step_cases[i], utc, 0);
	tz_free(utc);
	(void)state;
}

/* With the machine's boot known: instants before it were missed with
 * the machine, not only the daemon. */
static const struct {
	struct step_case c;
	const char *booted;
} boot_cases[] = {
    /* The machine was down for the first of them: "target offline"; a
     * boot after the first instant decides it, whatever came later. */
    {{"machine down", CRON2, "UTC", T0, "2024-05-01T10:00:07Z",
	 "2024-05-01T10:00:05Z", 60, DOWN, 0, "2024-05-01T10:00:06Z", 0, 1,
	 {M(TARGET_OFFLINE, 2, "2024-05-01T10:00:02Z", "2024-05-01T10:00:04Z")},
	 "2024-05-01T10:00:08Z"},
	"2024-05-01T10:00:03Z"},
    {{"booted before the first", CRON2, "UTC", T0, "2024-05-01T10:00:07Z",
	 "2024-05-01T10:00:05Z", 60, DOWN, 0, "2024-05-01T10:00:06Z", 0, 1,
	 {M(DAEMON_DOWN, 2, "2024-05-01T10:00:02Z", "2024-05-01T10:00:04Z")},
	 "2024-05-01T10:00:08Z"},
	"2024-05-01T10:00:01Z"},
    {{"machine down, skip", NIGHTLY, "UTC", "2024-05-01T03:00:00Z",
	 "2024-05-04T00:00:00Z", "2024-05-04T00:00:00Z", 60, SKIP, 0, NULL, 0,
	 1,
	 {M(TARGET_OFFLINE, 2, "2024-05-02T02:30:00Z", "2024-05-03T02:30:00Z")},
	 "2024-05-04T02:30:00Z"},
	"2024-05-03T23:59:00Z"},
};

static void
test_step_target_offline(void **state)
{
	struct tz *utc = zone("UTC");

	for (size_t i = 0; i < NCASES(boot_cases); i++)
		run_step_case(&boot_cases[i].c, utc, at(boot_cases[i].booted));
	tz_free(utc);
	(void)state;
}

/* Ten days down with a run every second: the count stops at the scan
 * limit, the last instant is still found (by bisection), and one run. */
static void
test_step_long_downtime(void **state)
{
	struct schedule *s = sched("'kind':'cron','cron':'* * * * * *'");
	struct tz *utc = zone("UTC");
	struct schedplan_in in = {s, utc, utc, at(T0),
	    at("2024-05-11T10:00:00Z"), at("2024-05-11T10:00:00Z"), 60, DOWN, 0,
	    0};
	struct schedplan_out out;

	schedplan_step(&in, &out);
	assert_int_equal(out.run_due, at("2024-05-11T10:00:00Z"));
	assert_int_equal(out.nmiss, 1);
	assert_int_equal(out.miss[0].count, SCHEDPLAN_SCAN_MAX);
	assert_true(out.miss[0].more);
	assert_int_equal(out.miss[0].last, at("2024-05-11T09:59:59Z"));
	schedule_free(s);
	tz_free(utc);
}

struct last_case {
	const char *sched, *zone, *lo, *hi;
};

static const struct last_case last_cases[] = {
    {EVERY10, "UTC", T0, "2024-05-01T10:07:33Z"},
    {NIGHTLY, "Europe/Berlin", "2024-03-01T00:00:00Z", "2024-04-15T00:00:00Z"},
    {NIGHTLY, "Europe/Berlin", "2024-10-20T00:00:00Z", "2024-10-30T00:00:00Z"},
    {GAPDAY, "Europe/Berlin", "2024-03-30T00:00:00Z", "2024-04-01T00:00:00Z"},
    {"'kind':'weekly','every_weeks':2,'weekdays':['tue','sat'],'at':'23:59'",
	"Australia/Lord_Howe", "2024-01-01T00:00:00Z", "2024-12-31T00:00:00Z"},
    {"'kind':'monthly','every_months':1,'day':31,'at':'00:00'",
	"America/New_York", "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"},
    {NIGHTLY, "UTC", "2024-05-01T03:00:00Z", "2024-05-01T04:00:00Z"},
};

/* The bisection agrees with walking every instant. */
static void
test_last_in(void **state)
{
	for (size_t i = 0; i < NCASES(last_cases); i++) {
		const struct last_case *c = &last_cases[i];
		struct schedule *s = sched(c->sched);
		struct tz *tz = zone(c->zone);
		int64_t lo = at(c->lo), hi = at(c->hi), walk = 0, at_ = lo;
		struct schedule_due d;

		for (;;) {
			schedule_next_due(s, tz, at_, &d);
			if (d.utc == 0 || d.utc > hi)
				break;
			walk = at_ = d.utc;
		}
		if (schedplan_last_in(s, tz, lo, hi) != walk)
			fail_msg("case %zu: last %lld, walk %lld", i,
			    (long long)schedplan_last_in(s, tz, lo, hi),
			    (long long)walk);
		/* every instant is its own last */
		if (walk != 0)
			assert_int_equal(
			    schedplan_last_in(s, tz, lo, walk), walk);
		schedule_free(s);
		tz_free(tz);
	}
}

struct text_case {
	struct schedplan_miss m;
	enum misfire_policy misfire;
	int catch_up;
	const char *want;
};

#define A 1714557600 /* 2024-05-01T10:00:00Z */

static const struct text_case text_cases[] = {
    {{SCHEDPLAN_DAEMON_DOWN, A, A, 0, 0, 1, 0, 0}, DOWN, 0,
	"missed the due instant 2024-05-01T12:00:00+02:00: the target daemon "
	"was not running"},
    {{SCHEDPLAN_TARGET_OFFLINE, A, A, 0, 0, 1, 0, 0}, DOWN, 1,
	"missed the due instant 2024-05-01T12:00:00+02:00: the target machine "
	"was down (it booted after); one catch-up run follows (misfire "
	"run_once)"},
    {{SCHEDPLAN_DAEMON_DOWN, A, A + 60, 0, 0, 7, 0, 0}, DOWN, 1,
	"missed 7 due instants from 2024-05-01T12:00:00+02:00 to "
	"2024-05-01T12:01:00+02:00: the target daemon was not running; one "
	"catch-up run follows (misfire run_once)"},
    {{SCHEDPLAN_LATE, A, A + 60, 0, 0, 10000, 1, 0}, SKIP, 0,
	"missed more than 10000 due instants from 2024-05-01T12:00:00+02:00 "
	"to 2024-05-01T12:01:00+02:00: found late (the wall clock jumped "
	"forward or the daemon stalled); no catch-up (misfire skip)"},
    {{SCHEDPLAN_JOB_DISABLED, A, A, 0, 0, 1, 0, 0}, SKIP, 0,
	"missed the due instant 2024-05-01T12:00:00+02:00: the job was "
	"disabled"},
    {{SCHEDPLAN_OVERLAP, A, A + 4, 0, 0, 3, 0, 0}, DOWN, 0,
	"missed 3 due instants from 2024-05-01T12:00:00+02:00 to "
	"2024-05-01T12:00:04+02:00: the job was still running and its "
	"overlap policy refuses a second run"},
    {{SCHEDPLAN_DST_GAP, 1711846800, 1711846800, 1711851000, 1711853400, 5, 0,
	 0},
	DOWN, 0,
	"missed 5 wall times from 2024-03-31T02:10:00 to 2024-03-31T02:50:00 "
	"(Europe/Berlin): inside a DST gap they do not exist; the schedule "
	"ran once at 2024-03-31T03:00:00+02:00"},
    /* the run at the gap's end was refused: the note must not say it ran */
    {{SCHEDPLAN_DST_GAP, 1711846800, 1711846800, 1711851000, 1711853400, 5, 0,
	 1},
	DOWN, 0,
	"missed 5 wall times from 2024-03-31T02:10:00 to 2024-03-31T02:50:00 "
	"(Europe/Berlin): inside a DST gap they do not exist; the one run "
	"standing for them, due at 2024-03-31T03:00:00+02:00, did not run "
	"either: the job was still running and its overlap policy refuses a "
	"second run"},
};

static void
test_miss_text(void **state)
{
	struct tz *tz = zone("Europe/Berlin");
	char buf[512];

	for (size_t i = 0; i < NCASES(text_cases); i++) {
		const struct text_case *c = &text_cases[i];

		schedplan_miss_text(
		    &c->m, tz, c->misfire, c->catch_up, buf, sizeof(buf));
		if (strcmp(buf, c->want) != 0)
			fail_msg(
			    "case %zu:\n got %s\nwant %s", i, buf, c->want);
	}
	tz_free(tz);
}

/* start_date and end_date of a "start" or "idle" schedule, against the
 * instant it comes due at, as dates in the schedule's zone. */
struct dates_case {
	const char *sched, *zone, *at;
	int want;
};

#define START_IN(dates) "'kind':'start'," dates
#define IDLE_IN(dates) "'kind':'idle','idle_load':1,'idle_for_s':60," dates

static const struct dates_case dates_cases[] = {
    {START_IN("'end_date':'2024-01-01'"), "UTC", "2025-03-01T12:00:00Z", 0},
    {START_IN("'end_date':'2024-01-01'"), "UTC", "2024-01-01T23:59:59Z", 1},
    {START_IN("'end_date':'2024-01-01'"), "UTC", "2024-01-02T00:00:00Z", 0},
    {START_IN("'start_date':'2024-01-01'"), "UTC", "2023-12-31T23:59:59Z", 0},
    {START_IN("'start_date':'2024-01-01'"), "UTC", "2024-01-01T00:00:00Z", 1},
    {START_IN("'start_date':'2024-01-01','end_date':'2024-01-01'"), "UTC",
	"2024-01-01T12:00:00Z", 1},
    {START_IN("'time_zone':'UTC'"), "UTC", "2025-03-01T12:00:00Z", 1},
    /* 2024-01-01T23:30Z is already Jan 2 in Berlin, still Jan 1 in New
     * York: the zone's date counts, not UTC's */
    {START_IN("'end_date':'2024-01-01'"), "Europe/Berlin",
	"2024-01-01T23:30:00Z", 0},
    {START_IN("'end_date':'2024-01-01'"), "America/New_York",
	"2024-01-02T03:00:00Z", 1},
    {START_IN("'start_date':'2024-01-02'"), "Europe/Berlin",
	"2024-01-01T23:30:00Z", 1},
    {START_IN("'start_date':'2024-01-02'"), "America/New_York",
	"2024-01-02T03:00:00Z", 0},
    {IDLE_IN("'end_date':'2024-01-01'"), "UTC", "2025-06-01T12:00:00Z", 0},
    {IDLE_IN("'start_date':'2024-01-01','end_date':'2024-12-31'"), "UTC",
	"2024-06-01T12:00:00Z", 1},
    {IDLE_IN("'start_date':'2026-01-01'"), "Asia/Tokyo", "2025-12-31T14:59:59Z",
	0},
    {IDLE_IN("'start_date':'2026-01-01'"), "Asia/Tokyo", "2025-12-31T15:00:00Z",
	1},
};

static void
test_in_dates(void **state)
{
	for (size_t i = 0; i < NCASES(dates_cases); i++) {
		const struct dates_case *c = &dates_cases[i];
		struct schedule *s = sched(c->sched);
		struct tz *tz = zone(c->zone);

		if (schedplan_in_dates(s, tz, at(c->at)) != c->want)
			fail_msg("case %zu: %s in %s at %s: want %d", i,
			    c->sched, c->zone, c->at, c->want);
		schedule_free(s);
		tz_free(tz);
	}
}

/* Load samples (one per second from 0) and the seconds at which an idle
 * schedule (below 0.5 for 3 s) comes due. */
struct idle_case {
	const char *what;
	double load[16];
	int nload;
	int fires[4];
	int nfires;
};

static const struct idle_case idle_cases[] = {
    {"busy", {1, 1, 1, 1, 1, 1}, 6, {0}, 0},
    {"idle from the start", {.1, .1, .1, .1, .1, .1}, 6, {3}, 1},
    {"one run per idle period", {.1, .1, .1, .1, .1, .1, .1, .1}, 8, {3}, 1},
    {"a blip restarts the wait", {.1, .1, .9, .1, .1, .1, .1}, 7, {6}, 1},
    {"threshold is not below", {.5, .5, .5, .5, .5}, 5, {0}, 0},
    {"two idle periods", {.1, .1, .1, .1, .9, .2, .2, .2, .2, .2}, 10, {3, 8},
	2},
};

static void
test_idle(void **state)
{
	for (size_t i = 0; i < NCASES(idle_cases); i++) {
		const struct idle_case *c = &idle_cases[i];
		struct schedplan_idle st = {0, 0, 0};
		int fires[16], n = 0;

		for (int k = 0; k < c->nload; k++)
			if (schedplan_idle_step(&st, c->load[k], 0.5, 3,
				5000 + (int64_t)k * 1000))
				fires[n++] = k;
		if (n != c->nfires)
			fail_msg("%s: %d runs, want %d", c->what, n, c->nfires);
		for (int k = 0; k < n; k++)
			if (fires[k] != c->fires[k])
				fail_msg("%s: run %d at %d s, want %d s",
				    c->what, k, fires[k], c->fires[k]);
	}
}

struct skew_case {
	int64_t wall0, mono0, wall1, mono1, want;
};

static const struct skew_case skew_cases[] = {
    {1000000, 50, 1001000, 1050, 0}, /* both moved 1 s */
    {1000000, 50, 4601000, 1050, 3600000}, /* set an hour forward */
    {1000000, 50, 995000, 1050, -6000}, /* set back 5 s + 1 s tick */
    {1000000, 50, 1000990, 1050, -10}, /* slewing: small */
};

static void
test_clock_skew(void **state)
{
	for (size_t i = 0; i < NCASES(skew_cases); i++) {
		const struct skew_case *c = &skew_cases[i];

		assert_int_equal(schedplan_clock_skew_ms(
				     c->wall0, c->mono0, c->wall1, c->mono1),
		    c->want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_step_table),
	    cmocka_unit_test(test_step_target_offline),
	    cmocka_unit_test(test_step_long_downtime),
	    cmocka_unit_test(test_last_in),
	    cmocka_unit_test(test_miss_text),
	    cmocka_unit_test(test_idle),
	    cmocka_unit_test(test_in_dates),
	    cmocka_unit_test(test_clock_skew),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
