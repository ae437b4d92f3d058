/*
 * cron: parsing cron expressions into bit sets and finding the next
 * matching wall time (see cron.h). Matching works day by day on civil
 * dates, then on the first matching time of day, so the search costs at
 * most one step per day however fine the expression is.
 */
#include "common/cron.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/tz.h"

#define CRON_CYCLE_DAYS                                                        \
	146097 /* 400 Gregorian years, a whole number of
				   weeks: the calendar repeats after it */

struct cron_field {
	const char *name;
	int min, max;
	const char *const *names; /* names[i] is value min + i */
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may",
    "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const day_names[] = {
    "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const struct cron_field cron_fields[] = {
    {"second", 0, 59, NULL},
    {"minute", 0, 59, NULL},
    {"hour", 0, 23, NULL},
    {"day of month", 1, 31, NULL},
    {"month", 1, 12, month_names},
    {"day of week", 0, 7, day_names},
};

static const struct {
	const char *macro;
	const char *expr;
} cron_macros[] = {
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

/* One value: a number or (for months and weekdays) a three-letter name.
 * Advances *p past it. */
static int
cron_value(
    const char **p, const struct cron_field *f, int *out, struct cerr *err)
{
	const char *s = *p;
	int n = 0, digits = 0;

	if (f->names != NULL && isalpha((unsigned char)*s)) {
		for (int i = 0; f->names[i] != NULL; i++) {
			if (strncasecmp(s, f->names[i], 3) == 0 &&
			    !isalpha((unsigned char)s[3])) {
				*out = f->min + i;
				*p = s + 3;
				return 0;
			}
		}
		return cerr_set(err, CERR_INVALID,
		    "cron: %s: '%.16s' is not a name", f->name, s);
	}
	while (isdigit((unsigned char)*s) && digits < 4) {
		n = n * 10 + (*s++ - '0');
		digits++;
	}
	if (digits == 0 || isdigit((unsigned char)*s))
		return cerr_set(err, CERR_INVALID,
		    "cron: %s: '%.16s' is not a number", f->name, *p);
	if (n < f->min || n > f->max)
		return cerr_set(err, CERR_INVALID,
		    "cron: %s: %d is out of range %d..%d", f->name, n, f->min,
		    f->max);
	*out = n;
	*p = s;
	return 0;
}

/* One list item "*", "*\/S", "N", "N-M" or "N-M/S" (item is NUL-ended). */
static int
cron_item(const char *item, const struct cron_field *f, uint64_t *bits,
    struct cerr *err)
{
	const char *p = item;
	int lo = f->min, hi = f->max, step = 1, ranged = 1;

	if (*p == '*') {
		p++;
	} else {
		if (cron_value(&p, f, &lo, err) == -1)
			return -1;
		hi = lo;
		ranged = *p == '-';
		if (ranged) {
			p++;
			if (cron_value(&p, f, &hi, err) == -1)
				return -1;
		}
		if (hi < lo)
			return cerr_set(err, CERR_INVALID,
			    "cron: %s: range %d-%d goes backwards", f->name, lo,
			    hi);
	}
	if (*p == '/') {
		if (!ranged)
			return cerr_set(err, CERR_INVALID,
			    "cron: %s: '%.16s': a step needs a range or *",
			    f->name, item);
		p++;
		step = 0;
		while (isdigit((unsigned char)*p) && step <= f->max + 1)
			step = step * 10 + (*p++ - '0');
		if (step < 1 || step > f->max - f->min + 1 || *p != '\0')
			return cerr_set(err, CERR_INVALID,
			    "cron: %s: '%.16s': step must be 1..%d", f->name,
			    item, f->max - f->min + 1);
	}
	if (*p != '\0')
		return cerr_set(err, CERR_INVALID,
		    "cron: %s: '%.16s' is not understood", f->name, item);
	for (int v = lo; v <= hi; v += step)
		*bits |= (uint64_t)1 << v;
	return 0;
}

/* A whole field: a comma list of items. */
static int
cron_field_parse(const char *text, const struct cron_field *f, uint64_t *bits,
    struct cerr *err)
{
	char item[CRON_EXPR_MAX + 1];
	const char *p = text;

	*bits = 0;
	for (;;) {
		size_t len = strcspn(p, ",");

		if (len == 0)
			return cerr_set(err, CERR_INVALID,
			    "cron: %s: empty list item", f->name);
		snprintf(item, sizeof(item), "%.*s", (int)len, p);
		if (cron_item(item, f, bits, err) == -1)
			return -1;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

/* Splits into at most 7 fields (one too many is how a count is refused). */
static int
cron_split(char *copy, char **fields, int max)
{
	int n = 0;

	for (char *p = copy; *p != '\0';) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (n == max)
			return max + 1;
		fields[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
	}
	return n;
}

static int
cron_day_matches_days(const struct cron *c, int64_t days, int month, int day)
{
	int dom, dow;

	if (!(c->months & (1u << month)))
		return 0;
	dom = (c->days >> day) & 1;
	dow = (c->weekdays >> ((tz_weekday(days) + 1) % 7)) & 1;
	if (c->days_star || c->weekdays_star)
		return dom && dow;
	return dom || dow;
}

int
cron_day_matches(const struct cron *c, int64_t year, int month, int day)
{
	return cron_day_matches_days(
	    c, tz_days_from_civil(year, month, day), month, day);
}

/* Fills out from the 5 or 6 fields (seconds first when 6). */
static int
cron_fill(char **fields, int n, struct cron *out, struct cerr *err)
{
	uint64_t bits[6];
	int first = n == 6 ? 0 : 1;

	bits[0] = 1; /* five fields: at second 0 */
	for (int i = first; i < 6; i++)
		if (cron_field_parse(fields[i - first], &cron_fields[i],
			&bits[i], err) == -1)
			return -1;
	memset(out, 0, sizeof(*out));
	out->seconds = bits[0];
	out->minutes = bits[1];
	out->hours = (uint32_t)bits[2];
	out->days = (uint32_t)bits[3];
	out->months = (uint16_t)bits[4];
	/* 7 is Sunday too */
	out->weekdays = (uint8_t)((bits[5] | bits[5] >> 7) & 0x7f);
	out->days_star = fields[3 - first][0] == '*';
	out->weekdays_star = fields[5 - first][0] == '*';
	return 0;
}

int
cron_parse(const char *expr, struct cron *out, struct cerr *err)
{
	char copy[CRON_EXPR_MAX + 1];
	char *fields[7];
	struct cron c;
	int64_t when;
	int n;

	if (strlen(expr) > CRON_EXPR_MAX)
		return cerr_set(err, CERR_INVALID, "cron: longer than %d bytes",
		    CRON_EXPR_MAX);
	while (*expr == ' ' || *expr == '\t')
		expr++;
	for (size_t i = 0;
	     *expr == '@' && i < sizeof(cron_macros) / sizeof(cron_macros[0]);
	     i++)
		if (strcmp(expr, cron_macros[i].macro) == 0)
			expr = cron_macros[i].expr;
	if (*expr == '@')
		return cerr_set(err, CERR_INVALID,
		    "cron: '%.16s' is not a known macro%s", expr,
		    strncmp(expr, "@reboot", 7) == 0
			? " (use the schedule kind \"start\")"
			: "");
	snprintf(copy, sizeof(copy), "%s", expr);
	n = cron_split(copy, fields, 6);
	if (n != 5 && n != 6)
		return cerr_set(err, CERR_INVALID,
		    "cron: expected 5 fields (minute hour day month weekday) or 6 (seconds first), got %s",
		    n > 6        ? "more"
			: n == 0 ? "none"
			: n < 5  ? "fewer"
				 : "more");
	if (cron_fill(fields, n, &c, err) == -1)
		return -1;
	/* one whole calendar cycle decides whether it can ever match */
	if (cron_next_local(
		&c, tz_days_from_civil(2000, 1, 1) * 86400, &when, NULL) == -1)
		return cerr_set(err, CERR_INVALID,
		    "cron: the day of month and month fields never match a date");
	*out = c;
	return 0;
}

/* The first time of day (seconds) >= from that matches, or -1. */
static int
cron_first_time(const struct cron *c, int from)
{
	for (int h = from / 3600; h < 24; h++) {
		if (!(c->hours & (1u << h)))
			continue;
		for (int m = 0; m < 60; m++) {
			int base = h * 3600 + m * 60;

			if (!(c->minutes & ((uint64_t)1 << m)) ||
			    base + 59 < from)
				continue;
			for (int s = 0; s < 60; s++)
				if ((c->seconds & ((uint64_t)1 << s)) &&
				    base + s >= from)
					return base + s;
		}
	}
	return -1;
}

int
cron_next_local(
    const struct cron *c, int64_t local_s, int64_t *out, struct cerr *err)
{
	int64_t day0 = tz_floor_div(local_s, 86400);
	int from = (int)(local_s - day0 * 86400);

	for (int64_t d = day0; d <= day0 + CRON_CYCLE_DAYS; d++, from = 0) {
		int64_t year;
		int month, day, t;

		tz_civil_from_days(d, &year, &month, &day);
		if (!cron_day_matches_days(c, d, month, day))
			continue;
		t = cron_first_time(c, from);
		if (t >= 0) {
			*out = d * 86400 + t;
			return 0;
		}
	}
	return cerr_set(err, CERR_INVALID, "cron: never matches");
}

int
cron_next(const struct cron *c, const char *tz_name, int64_t after,
    int64_t *next_out, struct cerr *err)
{
	struct tz *tz = NULL;
	int64_t local;
	int rc = -1;

	if (after < TZ_UTC_MIN || after > TZ_UTC_MAX)
		return cerr_set(err, CERR_INVALID,
		    "cron: %lld is outside the years 1900..9999",
		    (long long)after);
	if (tz_load(tz_name, &tz, err) == -1)
		return -1;
	if (cron_next_local(c, tz_local_floor_after(tz, after), &local, err) ==
	    -1)
		goto out;
	*next_out = tz_from_local(tz, local, NULL);
	rc = 0;
out:
	tz_free(tz);
	return rc;
}
