/*
 * Unit tests for cron expressions: a table of good expressions with the
 * sets they stand for, a table of bad ones with the message naming the
 * field, and a table of next-run cases written as local times with their
 * offsets ("2024-03-31T03:00:00+02:00") so a reader can check them
 * against a calendar, DST gaps and repeats included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/cron.h"
#include "common/tz.h"

#define NCASES(t) (sizeof(t) / sizeof((t)[0]))

/* The members of bits in lo..hi as "1,3-5,9". */
static void
set_str(uint64_t bits, int lo, int hi, char *out, size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (int v = lo; v <= hi; v++) {
		int end = v;

		if (!(bits & ((uint64_t)1 << v)))
			continue;
		while (end < hi && (bits & ((uint64_t)1 << (end + 1))))
			end++;
		len +=
		    snprintf(out + len, size - len, "%s%d", len ? "," : "", v);
		if (end > v)
			len += snprintf(out + len, size - len, "-%d", end);
		v = end;
	}
}

/* "sec|min|hour|dom|month|dow|XY": X is '*' when the day-of-month field
 * starts with '*', Y likewise for day of week. */
static void
cron_str(const struct cron *c, char *out, size_t size)
{
	char f[6][200];

	set_str(c->seconds, 0, 59, f[0], sizeof(f[0]));
	set_str(c->minutes, 0, 59, f[1], sizeof(f[1]));
	set_str(c->hours, 0, 23, f[2], sizeof(f[2]));
	set_str(c->days, 1, 31, f[3], sizeof(f[3]));
	set_str(c->months, 1, 12, f[4], sizeof(f[4]));
	set_str(c->weekdays, 0, 6, f[5], sizeof(f[5]));
	snprintf(out, size, "%s|%s|%s|%s|%s|%s|%c%c", f[0], f[1], f[2], f[3],
	    f[4], f[5], c->days_star ? '*' : '-', c->weekdays_star ? '*' : '-');
}

#define ALLDAYS "1-31|1-12|0-6"

static const struct {
	const char *expr;
	const char *sets;
} good_cases[] = {
    {"* * * * *", "0|0-59|0-23|" ALLDAYS "|**"},
    {"0 0 * * *", "0|0|0|" ALLDAYS "|**"},
    {"*/15 * * * *", "0|0,15,30,45|0-23|" ALLDAYS "|**"},
    {"0 9-17 * * mon-fri", "0|0|9-17|1-31|1-12|1-5|*-"},
    {"0 0 1,15 * *", "0|0|0|1,15|1-12|0-6|-*"},
    {"30 2 * * 7", "0|30|2|1-31|1-12|0|*-"},
    {"0 0 * * 0,7", "0|0|0|1-31|1-12|0|*-"},
    {"0 0 * * 5-7", "0|0|0|1-31|1-12|0,5-6|*-"},
    {"0 0 * * 1-7", "0|0|0|" ALLDAYS "|*-"},
    {"0 0 * jan,JUL *", "0|0|0|1-31|1,7|0-6|**"},
    {"0 0 * FEB-apr *", "0|0|0|1-31|2-4|0-6|**"},
    {"0 0 * * SUN", "0|0|0|1-31|1-12|0|*-"},
    {"0 0 * * Sat,sun", "0|0|0|1-31|1-12|0,6|*-"},
    {"5,10-12,30-40/5 * * * *", "0|5,10-12,30,35,40|0-23|" ALLDAYS "|**"},
    {"0-59/20 * * * *", "0|0,20,40|0-23|" ALLDAYS "|**"},
    {"*/7 * * * *", "0|0,7,14,21,28,35,42,49,56|0-23|" ALLDAYS "|**"},
    {"1-5/2 * * * *", "0|1,3,5|0-23|" ALLDAYS "|**"},
    {"*/60 * * * *", "0|0|0-23|" ALLDAYS "|**"},
    {"0 */6 * * *", "0|0|0,6,12,18|" ALLDAYS "|**"},
    {"23 0-23/2 * * *", "0|23|0,2,4,6,8,10,12,14,16,18,20,22|" ALLDAYS "|**"},
    {"0 0,12 1 */2 *", "0|0|0,12|1|1,3,5,7,9,11|0-6|-*"},
    {"0 4 8-14 * *", "0|0|4|8-14|1-12|0-6|-*"},
    {"15 14 1 * *", "0|15|14|1|1-12|0-6|-*"},
    {"0 22 * * 1-5", "0|0|22|1-31|1-12|1-5|*-"},
    {"5 4 * * sun", "0|5|4|1-31|1-12|0|*-"},
    {"59 23 31 12 *", "0|59|23|31|12|0-6|-*"},
    {"0 0 29 2 *", "0|0|0|29|2|0-6|-*"},
    {"0 0 31 1,3 *", "0|0|0|31|1,3|0-6|-*"},
    {"0 0 30 1-12 *", "0|0|0|30|1-12|0-6|-*"},
    {"0 0 1-7 * mon", "0|0|0|1-7|1-12|1|--"},
    {"0 0 */2 * mon",
	"0|0|0|1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31|1-12|1|*-"},
    {"0 0 13 * fri", "0|0|0|13|1-12|5|--"},
    {"0 0 1 1 *", "0|0|0|1|1|0-6|-*"},
    {"@yearly", "0|0|0|1|1|0-6|-*"},
    {"@annually", "0|0|0|1|1|0-6|-*"},
    {"@monthly", "0|0|0|1|1-12|0-6|-*"},
    {"@weekly", "0|0|0|1-31|1-12|0|*-"},
    {"@daily", "0|0|0|" ALLDAYS "|**"},
    {"@midnight", "0|0|0|" ALLDAYS "|**"},
    {"@hourly", "0|0|0-23|" ALLDAYS "|**"},
    {"30 * * * * *", "30|0-59|0-23|" ALLDAYS "|**"},
    {"*/10 * * * * *", "0,10,20,30,40,50|0-59|0-23|" ALLDAYS "|**"},
    {"0 0 0 * * *", "0|0|0|" ALLDAYS "|**"},
    {"0 30 2 * * mon-fri", "0|30|2|1-31|1-12|1-5|*-"},
    {"  0   0  *  *  * ", "0|0|0|" ALLDAYS "|**"},
    {"0\t0\t*\t*\t*", "0|0|0|" ALLDAYS "|**"},
    {"0 0 * * mon,wed,fri", "0|0|0|1-31|1-12|1,3,5|*-"},
    {"0 0 * 12 *", "0|0|0|1-31|12|0-6|**"},
    {"0 0 31 * *", "0|0|0|31|1-12|0-6|-*"},
};

static const struct {
	const char *expr;
	const char *expect;
} bad_cases[] = {
    {"",
	"expected 5 fields (minute hour day month weekday) or 6 (seconds first), got none"},
    {"   ", "got none"},
    {"* * * *", "got fewer"},
    {"* * * * * * *", "got more"},
    {"60 * * * *", "cron: minute: 60 is out of range 0..59"},
    {"* 24 * * *", "cron: hour: 24 is out of range 0..23"},
    {"* * 0 * *", "cron: day of month: 0 is out of range 1..31"},
    {"* * 32 * *", "cron: day of month: 32 is out of range 1..31"},
    {"* * * 13 *", "cron: month: 13 is out of range 1..12"},
    {"* * * 0 *", "cron: month: 0 is out of range 1..12"},
    {"* * * * 8", "cron: day of week: 8 is out of range 0..7"},
    {"60 * * * * *", "cron: second: 60 is out of range 0..59"},
    {"0 60 * * * *", "cron: minute: 60 is out of range"},
    {"5-1 * * * *", "cron: minute: range 5-1 goes backwards"},
    {"* * * dec-jan *", "cron: month: range 12-1 goes backwards"},
    {"* * * * fri-mon", "cron: day of week: range 5-1 goes backwards"},
    {"*/0 * * * *", "cron: minute: '*/0': step must be 1..60"},
    {"*/61 * * * *", "cron: minute: '*/61': step must be 1..60"},
    {"* */25 * * *", "cron: hour: '*/25': step must be 1..24"},
    {"*/ * * * *", "cron: minute: '*/': step must be"},
    {"*/5-10 * * * *", "cron: minute: '*/5-10': step must be"},
    {"5/15 * * * *", "cron: minute: '5/15': a step needs a range or *"},
    {"1,,2 * * * *", "cron: minute: empty list item"},
    {",1 * * * *", "cron: minute: empty list item"},
    {"1, * * * *", "cron: minute: empty list item"},
    {"a * * * *", "cron: minute: 'a' is not a number"},
    {"-1 * * * *", "cron: minute: '-1' is not a number"},
    {"? * * * *", "cron: minute: '?' is not a number"},
    {"99999 * * * *", "cron: minute: '99999' is not a number"},
    {"1.5 * * * *", "cron: minute: '1.5' is not understood"},
    {"1-2-3 * * * *", "cron: minute: '1-2-3' is not understood"},
    {"*5 * * * *", "cron: minute: '*5' is not understood"},
    {"**/2 * * * *", "cron: minute: '**/2' is not understood"},
    {"* * * foo *", "cron: month: 'foo' is not a name"},
    {"* * * jan-foo *", "cron: month: 'foo' is not a name"},
    {"* * * january *", "cron: month: 'january' is not a name"},
    {"* * * * monday", "cron: day of week: 'monday' is not a name"},
    {"* jan * * *", "cron: hour: 'jan' is not a number"},
    {"0 0 L * *", "cron: day of month: 'L' is not a number"},
    {"0 0 1W * *", "cron: day of month: '1W' is not understood"},
    {"0 0 * * 1#2", "cron: day of week: '1#2' is not understood"},
    {"0 0 ? * MON", "cron: day of month: '?' is not a number"},
    {"0 0 30 2 *",
	"cron: the day of month and month fields never match a date"},
    {"0 0 31 4,6,9,11 *", "never match"},
    {"0 0 31 2,4 *", "never match"},
    {"0 0 30,31 feb *", "never match"},
    {"@reboot",
	"cron: '@reboot' is not a known macro (use the schedule kind \"start\")"},
    {"@every 5m", "cron: '@every 5m' is not a known macro"},
    {"@daily 5", "is not a known macro"},
    {"0 0 * * * extra", "cron: day of week: 'extra' is not a name"},
};

static void
test_cron_parse_good(void **state)
{
	char sets[1024];

	for (size_t i = 0; i < NCASES(good_cases); i++) {
		struct cron c;
		struct cerr err;

		if (cron_parse(good_cases[i].expr, &c, &err) != 0)
			fail_msg("case %zu '%s': %s", i, good_cases[i].expr,
			    err.msg);
		cron_str(&c, sets, sizeof(sets));
		if (strcmp(sets, good_cases[i].sets) != 0)
			fail_msg("case %zu '%s': got %s want %s", i,
			    good_cases[i].expr, sets, good_cases[i].sets);
	}
}

static void
test_cron_parse_bad(void **state)
{
	char longer[400];
	struct cron c;
	struct cerr err;

	for (size_t i = 0; i < NCASES(bad_cases); i++) {
		cerr_clear(&err);
		if (cron_parse(bad_cases[i].expr, &c, &err) == 0)
			fail_msg(
			    "case %zu '%s' accepted", i, bad_cases[i].expr);
		if (strstr(err.msg, bad_cases[i].expect) == NULL)
			fail_msg("case %zu '%s': '%s' not in '%s'", i,
			    bad_cases[i].expr, bad_cases[i].expect, err.msg);
		assert_int_equal(err.code, CERR_INVALID);
	}
	memset(longer, ' ', sizeof(longer) - 1);
	memcpy(longer + 300, "* * * * *", 9);
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(cron_parse(longer, &c, &err), -1);
	assert_non_null(strstr(err.msg, "cron: longer than 256 bytes"));
}

/* "2024-03-31T03:00:00+02:00" (or "Z") to Unix seconds. */
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

static const struct {
	const char *expr;
	const char *zone;
	const char *after;
	const char *next;
} next_cases[] = {
    /* UTC: the calendar */
    {"* * * * *", "UTC", "2024-01-01T00:00:00Z", "2024-01-01T00:01:00+00:00"},
    {"* * * * *", "UTC", "2024-01-01T00:00:30Z", "2024-01-01T00:01:00+00:00"},
    {"* * * * * *", "UTC", "2024-01-01T00:00:00Z", "2024-01-01T00:00:01+00:00"},
    {"0 * * * *", "UTC", "2024-01-01T00:00:00Z", "2024-01-01T01:00:00+00:00"},
    {"0 0 * * *", "UTC", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00+00:00"},
    {"0 0 * * *", "UTC", "2023-12-31T23:59:59Z", "2024-01-01T00:00:00+00:00"},
    {"30 2 * * *", "UTC", "2024-01-01T02:30:00Z", "2024-01-02T02:30:00+00:00"},
    {"30 2 * * *", "UTC", "2024-01-01T02:29:59Z", "2024-01-01T02:30:00+00:00"},
    {"*/15 * * * *", "UTC", "2024-01-01T10:07:00Z",
	"2024-01-01T10:15:00+00:00"},
    {"*/15 * * * *", "UTC", "2024-01-01T10:45:00Z",
	"2024-01-01T11:00:00+00:00"},
    {"*/15 * * * *", "UTC", "2024-12-31T23:45:00Z",
	"2025-01-01T00:00:00+00:00"},
    {"0 9-17 * * mon-fri", "UTC", "2024-01-05T17:00:00Z",
	"2024-01-08T09:00:00+00:00"},
    {"0 9-17 * * mon-fri", "UTC", "2024-01-06T12:00:00Z",
	"2024-01-08T09:00:00+00:00"},
    {"0 9-17 * * mon-fri", "UTC", "2024-01-08T09:00:00Z",
	"2024-01-08T10:00:00+00:00"},
    {"0 0 1 * *", "UTC", "2024-01-15T00:00:00Z", "2024-02-01T00:00:00+00:00"},
    {"0 0 31 * *", "UTC", "2024-01-31T00:00:00Z", "2024-03-31T00:00:00+00:00"},
    {"0 0 31 * *", "UTC", "2024-03-31T00:00:00Z", "2024-05-31T00:00:00+00:00"},
    {"0 0 31 * *", "UTC", "2024-07-31T00:00:00Z", "2024-08-31T00:00:00+00:00"},
    {"0 0 30 * *", "UTC", "2024-01-30T00:00:00Z", "2024-03-30T00:00:00+00:00"},
    {"0 0 29 2 *", "UTC", "2023-01-01T00:00:00Z", "2024-02-29T00:00:00+00:00"},
    {"0 0 29 2 *", "UTC", "2024-03-01T00:00:00Z", "2028-02-29T00:00:00+00:00"},
    {"0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00+00:00"},
    {"0 0 * 2 *", "UTC", "2100-02-28T00:00:00Z", "2101-02-01T00:00:00+00:00"},
    {"0 0 1 1 *", "UTC", "2024-01-01T00:00:00Z", "2025-01-01T00:00:00+00:00"},
    {"@yearly", "UTC", "2024-06-01T00:00:00Z", "2025-01-01T00:00:00+00:00"},
    {"@hourly", "UTC", "2024-01-01T10:30:00Z", "2024-01-01T11:00:00+00:00"},
    {"@weekly", "UTC", "2024-01-07T00:00:00Z", "2024-01-14T00:00:00+00:00"},
    {"@monthly", "UTC", "2024-02-01T00:00:00Z", "2024-03-01T00:00:00+00:00"},
    {"0 0 1,15 * *", "UTC", "2024-01-01T00:00:00Z",
	"2024-01-15T00:00:00+00:00"},
    /* both day fields restricted: either matches */
    {"0 0 1-7 * mon", "UTC", "2024-01-01T00:00:00Z",
	"2024-01-02T00:00:00+00:00"},
    {"0 0 1-7 * mon", "UTC", "2024-01-07T00:00:00Z",
	"2024-01-08T00:00:00+00:00"},
    {"0 0 13 * fri", "UTC", "2024-01-01T00:00:00Z",
	"2024-01-05T00:00:00+00:00"},
    {"0 0 13 * fri", "UTC", "2024-01-12T00:00:00Z",
	"2024-01-13T00:00:00+00:00"},
    /* day of month starting with '*': both must match */
    {"0 0 */2 * mon", "UTC", "2024-01-01T00:00:00Z",
	"2024-01-15T00:00:00+00:00"},
    {"0 0 * * 7", "UTC", "2024-01-06T00:00:00Z", "2024-01-07T00:00:00+00:00"},
    {"0 0 * * 0", "UTC", "2024-01-06T00:00:00Z", "2024-01-07T00:00:00+00:00"},
    {"59 23 31 12 *", "UTC", "2024-01-01T00:00:00Z",
	"2024-12-31T23:59:00+00:00"},
    {"0 12 * * sat,sun", "UTC", "2024-01-05T13:00:00Z",
	"2024-01-06T12:00:00+00:00"},
    {"0 12 * * sat,sun", "UTC", "2024-01-06T12:00:00Z",
	"2024-01-07T12:00:00+00:00"},
    {"0 0 * feb *", "UTC", "2024-02-29T00:00:00Z", "2025-02-01T00:00:00+00:00"},
    {"*/10 * * * * *", "UTC", "2024-01-01T00:00:05Z",
	"2024-01-01T00:00:10+00:00"},
    {"30 * * * * *", "UTC", "2024-01-01T00:00:30Z",
	"2024-01-01T00:01:30+00:00"},
    {"0 0 0 * * *", "UTC", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00+00:00"},
    {"0 30 2 * * mon-fri", "UTC", "2024-01-05T02:30:00Z",
	"2024-01-08T02:30:00+00:00"},
    {"5 4 * * sun", "UTC", "2024-01-07T04:05:00Z", "2024-01-14T04:05:00+00:00"},
    {"0 22 * * 1-5", "UTC", "2024-01-05T22:00:00Z",
	"2024-01-08T22:00:00+00:00"},
    {"0 0,12 1 */2 *", "UTC", "2024-01-01T12:00:00Z",
	"2024-03-01T00:00:00+00:00"},
    {"0 4 8-14 * *", "UTC", "2024-01-14T04:00:00Z",
	"2024-02-08T04:00:00+00:00"},
    {"0 12 * * *", "UTC", "2024-03-31T12:00:00Z", "2024-04-01T12:00:00+00:00"},
    {"0 0 1 1 *", "UTC", "2037-06-01T00:00:00Z", "2038-01-01T00:00:00+00:00"},
    /* Europe/Berlin: 2024-03-31 02:00 -> 03:00, 2024-10-27 03:00 -> 02:00 */
    {"0 9 * * *", "Europe/Berlin", "2024-01-01T09:00:00+01:00",
	"2024-01-02T09:00:00+01:00"},
    {"0 9 * * *", "Europe/Berlin", "2024-03-30T09:00:00+01:00",
	"2024-03-31T09:00:00+02:00"},
    {"30 2 * * *", "Europe/Berlin", "2024-03-30T02:30:00+01:00",
	"2024-03-31T03:00:00+02:00"},
    {"30 2 * * *", "Europe/Berlin", "2024-03-31T03:00:00+02:00",
	"2024-04-01T02:30:00+02:00"},
    {"30 2 * * *", "Europe/Berlin", "2024-10-26T02:30:00+02:00",
	"2024-10-27T02:30:00+02:00"},
    {"30 2 * * *", "Europe/Berlin", "2024-10-27T02:30:00+02:00",
	"2024-10-28T02:30:00+01:00"},
    {"30 2 * * *", "Europe/Berlin", "2024-10-27T02:00:00+01:00",
	"2024-10-28T02:30:00+01:00"},
    {"0 2 * * *", "Europe/Berlin", "2024-03-30T02:00:00+01:00",
	"2024-03-31T03:00:00+02:00"},
    {"0 3 * * *", "Europe/Berlin", "2024-03-30T03:00:00+01:00",
	"2024-03-31T03:00:00+02:00"},
    {"59 1 * * *", "Europe/Berlin", "2024-03-30T01:59:00+01:00",
	"2024-03-31T01:59:00+01:00"},
    {"0 * * * *", "Europe/Berlin", "2024-03-31T01:00:00+01:00",
	"2024-03-31T03:00:00+02:00"},
    {"0 * * * *", "Europe/Berlin", "2024-03-31T03:00:00+02:00",
	"2024-03-31T04:00:00+02:00"},
    {"0 * * * *", "Europe/Berlin", "2024-10-27T02:00:00+02:00",
	"2024-10-27T03:00:00+01:00"},
    {"*/15 * * * *", "Europe/Berlin", "2024-03-31T01:45:00+01:00",
	"2024-03-31T03:00:00+02:00"},
    {"*/15 * * * *", "Europe/Berlin", "2024-03-31T03:00:00+02:00",
	"2024-03-31T03:15:00+02:00"},
    {"*/15 * * * *", "Europe/Berlin", "2024-10-27T02:45:00+02:00",
	"2024-10-27T03:00:00+01:00"},
    {"* * * * *", "Europe/Berlin", "2024-03-31T01:59:00+01:00",
	"2024-03-31T03:00:00+02:00"},
    {"* * * * *", "Europe/Berlin", "2024-10-27T02:59:00+02:00",
	"2024-10-27T03:00:00+01:00"},
    {"* * * * * *", "Europe/Berlin", "2024-03-31T01:59:59+01:00",
	"2024-03-31T03:00:00+02:00"},
    {"30 2 31 3 *", "Europe/Berlin", "2024-01-01T00:00:00+01:00",
	"2024-03-31T03:00:00+02:00"},
    {"30 2 * * sun", "Europe/Berlin", "2024-03-24T02:30:00+01:00",
	"2024-03-31T03:00:00+02:00"},
    {"30 2 * * *", "Europe/Berlin", "2025-03-29T02:30:00+01:00",
	"2025-03-30T03:00:00+02:00"},
    {"30 2 * * *", "Europe/Berlin", "2025-10-25T02:30:00+02:00",
	"2025-10-26T02:30:00+02:00"},
    /* past the zone file's last transition: the POSIX rule */
    {"30 2 * * *", "Europe/Berlin", "2099-03-28T02:30:00+01:00",
	"2099-03-29T03:00:00+02:00"},
    {"30 2 * * *", "Europe/Berlin", "2099-10-24T02:30:00+02:00",
	"2099-10-25T02:30:00+02:00"},
    /* America/New_York: 2024-03-10 02:00 -> 03:00, 2024-11-03 02:00 -> 01:00 */
    {"0 9 * * *", "America/New_York", "2024-03-09T09:00:00-05:00",
	"2024-03-10T09:00:00-04:00"},
    {"30 2 * * *", "America/New_York", "2024-03-09T02:30:00-05:00",
	"2024-03-10T03:00:00-04:00"},
    {"30 1 * * *", "America/New_York", "2024-11-02T01:30:00-04:00",
	"2024-11-03T01:30:00-04:00"},
    {"30 1 * * *", "America/New_York", "2024-11-03T01:30:00-04:00",
	"2024-11-04T01:30:00-05:00"},
    {"0 * * * *", "America/New_York", "2024-11-03T01:00:00-04:00",
	"2024-11-03T02:00:00-05:00"},
    {"0 * * * *", "America/New_York", "2024-03-10T01:00:00-05:00",
	"2024-03-10T03:00:00-04:00"},
    {"*/15 * * * *", "America/New_York", "2024-11-03T01:45:00-04:00",
	"2024-11-03T02:00:00-05:00"},
    {"0 0 * * *", "America/New_York", "2024-03-09T00:00:00-05:00",
	"2024-03-10T00:00:00-05:00"},
    {"30 2 * * *", "America/New_York", "2025-03-08T02:30:00-05:00",
	"2025-03-09T03:00:00-04:00"},
    /* Australia/Lord_Howe: +10:30 <-> +11:00 at 02:00 (30-minute shift) */
    {"15 2 * * *", "Australia/Lord_Howe", "2024-10-05T02:15:00+10:30",
	"2024-10-06T02:30:00+11:00"},
    {"0 2 * * *", "Australia/Lord_Howe", "2024-10-05T02:00:00+10:30",
	"2024-10-06T02:30:00+11:00"},
    {"30 2 * * *", "Australia/Lord_Howe", "2024-10-05T02:30:00+10:30",
	"2024-10-06T02:30:00+11:00"},
    {"45 1 * * *", "Australia/Lord_Howe", "2024-04-06T01:45:00+11:00",
	"2024-04-07T01:45:00+11:00"},
    {"45 1 * * *", "Australia/Lord_Howe", "2024-04-07T01:45:00+11:00",
	"2024-04-08T01:45:00+10:30"},
    {"0,30 * * * *", "Australia/Lord_Howe", "2024-04-07T01:30:00+11:00",
	"2024-04-07T02:00:00+10:30"},
    {"*/15 * * * *", "Australia/Lord_Howe", "2024-10-06T01:45:00+10:30",
	"2024-10-06T02:30:00+11:00"},
    {"*/15 * * * *", "Australia/Lord_Howe", "2024-10-06T02:30:00+11:00",
	"2024-10-06T02:45:00+11:00"},
    {"0 0 * * *", "Australia/Lord_Howe", "2024-10-05T00:00:00+10:30",
	"2024-10-06T00:00:00+10:30"},
    /* other zones */
    {"0 0 * * *", "Asia/Kolkata", "2024-01-01T00:00:00+05:30",
	"2024-01-02T00:00:00+05:30"},
    {"45 2 * * *", "Pacific/Chatham", "2024-09-28T02:45:00+12:45",
	"2024-09-29T03:45:00+13:45"},
};

static void
test_cron_next(void **state)
{
	char got[64];

	for (size_t i = 0; i < NCASES(next_cases); i++) {
		struct cron c;
		struct cerr err;
		struct tz *tz = NULL;
		int64_t next = 0;

		assert_int_equal(cron_parse(next_cases[i].expr, &c, &err), 0);
		if (cron_next(&c, next_cases[i].zone,
			parse_zoned(next_cases[i].after), &next, &err) != 0)
			fail_msg("case %zu: %s", i, err.msg);
		assert_int_equal(tz_load(next_cases[i].zone, &tz, &err), 0);
		tz_format_rfc3339(tz, next, got, sizeof(got));
		tz_free(tz);
		if (strcmp(got, next_cases[i].next) != 0)
			fail_msg("case %zu '%s' %s after %s: got %s want %s", i,
			    next_cases[i].expr, next_cases[i].zone,
			    next_cases[i].after, got, next_cases[i].next);
	}
}

static void
test_cron_next_bad_zone(void **state)
{
	struct cron c;
	struct cerr err;
	int64_t next = 0;

	assert_int_equal(cron_parse("* * * * *", &c, &err), 0);
	assert_int_equal(cron_next(&c, "Nowhere/Land", 0, &next, &err), -1);
	assert_non_null(strstr(err.msg, "'Nowhere/Land' is not a known"));
	assert_int_equal(cron_next(&c, NULL, 0, &next, &err), 0);
	assert_int_equal(next, 60);
	assert_int_equal(cron_next(&c, NULL, INT64_MAX, &next, &err), -1);
	assert_non_null(strstr(err.msg, "outside the years 1900..9999"));
}

/* Vixie's day rule on its own, straight from the parsed sets. */
static void
test_cron_day_matches(void **state)
{
	struct cron c;
	struct cerr err;

	assert_int_equal(cron_parse("0 0 13 * fri", &c, &err), 0);
	assert_true(cron_day_matches(&c, 2024, 9, 13)); /* both */
	assert_true(cron_day_matches(&c, 2024, 9, 6)); /* a Friday */
	assert_true(cron_day_matches(&c, 2024, 10, 13)); /* a Sunday 13th */
	assert_false(cron_day_matches(&c, 2024, 10, 14));
	assert_int_equal(cron_parse("0 0 * 2 *", &c, &err), 0);
	assert_false(cron_day_matches(&c, 2024, 3, 1));
	assert_true(cron_day_matches(&c, 2024, 2, 29));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cron_parse_good),
	    cmocka_unit_test(test_cron_parse_bad),
	    cmocka_unit_test(test_cron_next),
	    cmocka_unit_test(test_cron_next_bad_zone),
	    cmocka_unit_test(test_cron_day_matches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
