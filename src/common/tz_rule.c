/*
 * tz_rule: the POSIX TZ rule, parsed and applied (see tz_rule.h). A rule
 * is pure data; the offset at an instant comes from the year's two
 * change dates, computed on demand, so a rule covers every year alike.
 */
#include "common/tz_rule.h"

#include <ctype.h>
#include <string.h>

#include "common/tz.h"

static const char *
rule_name(const char *p)
{
	const char *start = p;

	if (*p == '<') {
		for (p++; *p != '>'; p++)
			if (*p == '\0' ||
			    !(isalnum((unsigned char)*p) || *p == '+' ||
				*p == '-'))
				return NULL;
		return p - start >= 4 ? p + 1 : NULL;
	}
	while (isalpha((unsigned char)*p))
		p++;
	return p - start >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]], hours up to max_h. */
static const char *
rule_hms(const char *p, int max_h, int32_t *out)
{
	int sign = 1, part[3] = {0, 0, 0};

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	for (int i = 0; i < 3; i++) {
		int digits = 0;

		if (i > 0 && *p != ':')
			break;
		if (i > 0)
			p++;
		while (isdigit((unsigned char)*p) && digits < 3) {
			part[i] = part[i] * 10 + (*p++ - '0');
			digits++;
		}
		if (digits == 0 || (i > 0 && part[i] > 59))
			return NULL;
	}
	if (part[0] > max_h)
		return NULL;
	*out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
	return p;
}

static const char *
rule_num(const char *p, int min, int max, int *out)
{
	int n = 0, digits = 0;

	while (isdigit((unsigned char)*p) && digits < 4) {
		n = n * 10 + (*p++ - '0');
		digits++;
	}
	if (digits == 0 || n < min || n > max)
		return NULL;
	*out = n;
	return p;
}

static const char *
rule_date(const char *p, struct tz_rule_date *d)
{
	d->time_s = 7200;
	if (*p == 'J') {
		d->form = 'J';
		p = rule_num(p + 1, 1, 365, &d->n);
	} else if (*p == 'M') {
		d->form = 'M';
		p = rule_num(p + 1, 1, 12, &d->month);
		p = p != NULL && *p == '.' ? rule_num(p + 1, 1, 5, &d->week)
					   : NULL;
		p = p != NULL && *p == '.' ? rule_num(p + 1, 0, 6, &d->wday)
					   : NULL;
	} else {
		d->form = 'N';
		p = rule_num(p, 0, 365, &d->n);
	}
	if (p != NULL && *p == '/')
		p = rule_hms(p + 1, 167, &d->time_s);
	return p;
}

/* The dates glibc uses when a rule has summer time but no ",start,end"
 * and there is no posixrules file: "M3.2.0,M11.1.0", both at 02:00.
 * (With one, glibc takes that file's transitions, but moves them the
 * wrong way for other offsets and past 2037 takes its offsets too.) */
static void
rule_default_dates(struct tz_rule *r)
{
	/* Field by field into the caller's zeroed rule: a whole-struct
	 * assignment may leave its padding unspecified, and tz_same()
	 * compares rules with memcmp. */
	r->start.form = 'M';
	r->start.n = 0;
	r->start.month = 3;
	r->start.week = 2;
	r->start.wday = 0;
	r->start.time_s = 7200;
	r->end.form = 'M';
	r->end.n = 0;
	r->end.month = 11;
	r->end.week = 1;
	r->end.wday = 0;
	r->end.time_s = 7200;
}

int
tz_rule_parse(const char *s, struct tz_rule *r)
{
	const char *p = rule_name(s);
	int32_t off = 0;

	memset(r, 0, sizeof(*r));
	p = p != NULL ? rule_hms(p, 24, &off) : NULL;
	if (p == NULL)
		return -1;
	r->std_off = -off;
	if (*p == '\0')
		return 0;
	p = rule_name(p);
	if (p == NULL)
		return -1;
	r->has_dst = 1;
	r->dst_off = r->std_off + 3600;
	if (*p != ',' && *p != '\0') {
		p = rule_hms(p, 24, &off);
		if (p == NULL)
			return -1;
		r->dst_off = -off;
	}
	if (*p == '\0') {
		rule_default_dates(r);
		return 0;
	}
	p = *p == ',' ? rule_date(p + 1, &r->start) : NULL;
	p = p != NULL && *p == ',' ? rule_date(p + 1, &r->end) : NULL;
	return p != NULL && *p == '\0' ? 0 : -1;
}

static int64_t
rule_day(int64_t year, const struct tz_rule_date *d)
{
	int64_t first;
	int day, mdays;

	if (d->form == 'J')
		return tz_days_from_civil(year, 1, 1) + d->n - 1 +
		    (tz_is_leap(year) && d->n >= 60);
	if (d->form == 'N')
		return tz_days_from_civil(year, 1, 1) + d->n;
	first = tz_days_from_civil(year, d->month, 1);
	/* tz_weekday counts from Monday, POSIX from Sunday */
	day = 1 + (d->wday - (tz_weekday(first) + 1) % 7 + 7) % 7 +
	    (d->week - 1) * 7;
	mdays = tz_month_days(year, d->month);
	while (day > mdays)
		day -= 7;
	return first + day - 1;
}

/* The year's two change instants in UTC: start read in standard time,
 * end in summer time, as POSIX says. */
static void
rule_changes(
    const struct tz_rule *r, int64_t year, int64_t *start, int64_t *end)
{
	*start =
	    rule_day(year, &r->start) * 86400 + r->start.time_s - r->std_off;
	*end = rule_day(year, &r->end) * 86400 + r->end.time_s - r->dst_off;
}

int32_t
tz_rule_offset(const struct tz_rule *r, int64_t utc)
{
	int64_t year, start, end;
	int month, day;

	if (!r->has_dst)
		return r->std_off;
	tz_civil_from_days(
	    tz_floor_div(utc + r->std_off, 86400), &year, &month, &day);
	rule_changes(r, year, &start, &end);
	if (start < end)
		return utc >= start && utc < end ? r->dst_off : r->std_off;
	/* southern hemisphere: summer time spans the turn of the year */
	return utc >= end && utc < start ? r->std_off : r->dst_off;
}

size_t
tz_rule_breaks(const struct tz_rule *r, int64_t utc, int64_t *out)
{
	int64_t year;
	int month, day;
	size_t n = 0;

	if (!r->has_dst)
		return 0;
	tz_civil_from_days(
	    tz_floor_div(utc + r->std_off, 86400), &year, &month, &day);
	for (int64_t y = year - 1; y <= year + 1; y++) {
		rule_changes(r, y, &out[n], &out[n + 1]);
		out[n + 2] = tz_days_from_civil(y, 1, 1) * 86400 - r->std_off;
		n += 3;
	}
	return n;
}
