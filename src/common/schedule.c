/*
 * schedule: validating schedule objects, writing their canonical form, and
 * finding the next due instant (see schedule.h). The search works on the
 * wall clock: tz_local_floor_after() turns "strictly after this instant"
 * into "at or after this wall time", the kind finds its first wall time
 * from there, and tz_from_local() applies the DST rules once at the end.
 */
#include "common/schedule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jobdoc.h"
#include "common/json.h"

#define SCHED_FIELD_MAX 160
#define SCHED_LAST_DAY 2932896 /* 9999-12-31 */

static const char *const kind_names[SCHED_KIND_COUNT + 1] = {"once", "daily",
    "weekly", "monthly", "monthly_relative", "start", "idle", "cron", NULL};
static const char *const which_names[] = {
    "first", "second", "third", "fourth", "last", NULL};
static const char *const relday_names[] = {"day", "weekday", "weekend_day",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
    "sunday", NULL};
static const char *const weekday_names[] = {
    "mon", "tue", "wed", "thu", "fri", "sat", "sun", NULL};

static const char *const common_keys[] = {
    "name", "kind", "enabled", "time_zone", "start_date", "end_date", NULL};
static const char *const all_keys[] = {"name", "kind", "enabled", "time_zone",
    "start_date", "end_date", "at", "every_days", "every_weeks", "every_months",
    "weekdays", "day", "which", "repeat_every_s", "repeat_start", "repeat_end",
    "idle_load", "idle_for_s", "cron", NULL};

/* The keys each kind uses besides the common ones. */
static const char *const kind_keys[SCHED_KIND_COUNT][8] = {
    [SCHED_ONCE] = {"at", NULL},
    [SCHED_DAILY] = {"every_days", "at", "repeat_every_s", "repeat_start",
	"repeat_end", NULL},
    [SCHED_WEEKLY] = {"every_weeks", "weekdays", "at", "repeat_every_s",
	"repeat_start", "repeat_end", NULL},
    [SCHED_MONTHLY] = {"every_months", "day", "at", "repeat_every_s",
	"repeat_start", "repeat_end", NULL},
    [SCHED_MONTHLY_RELATIVE] = {"every_months", "which", "day", "at",
	"repeat_every_s", "repeat_start", "repeat_end", NULL},
    [SCHED_START] = {NULL},
    [SCHED_ON_IDLE] = {"idle_load", "idle_for_s", NULL},
    [SCHED_CRON] = {"cron", NULL},
};

static const char *
field(char *buf, const char *path, const char *key)
{
	snprintf(buf, SCHED_FIELD_MAX, "%s%s%s", path, *path ? "." : "", key);
	return buf;
}

static int
in_list(const char *const *list, const char *s)
{
	for (int i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return i;
	return -1;
}

/* Reads a date member; 1 when absent. */
static int
get_date(const json_t *obj, const char *key, const char *path, int64_t *day,
    struct cerr *err)
{
	char f[SCHED_FIELD_MAX];
	const char *s;
	int rc = json_get_string(obj, key, path, 32, 0, &s, err);

	if (rc != 0)
		return rc;
	if (tz_parse_date(s, day) == -1)
		return cerr_set(err, CERR_INVALID,
		    "%s: '%s' is not a date YYYY-MM-DD (1970..9999)",
		    field(f, path, key), s);
	return 0;
}

/* Reads a time-of-day member; 1 when absent. */
static int
get_time(const json_t *obj, const char *key, const char *path, int *sec,
    struct cerr *err)
{
	char f[SCHED_FIELD_MAX];
	const char *s;
	int rc = json_get_string(obj, key, path, 32, 0, &s, err);

	if (rc != 0)
		return rc;
	if (tz_parse_time(s, sec) == -1)
		return cerr_set(err, CERR_INVALID,
		    "%s: '%s' is not a time HH:MM or HH:MM:SS",
		    field(f, path, key), s);
	return 0;
}

/* Reads a member naming one of names; 1 when absent. */
static int
get_choice(const json_t *obj, const char *key, const char *path,
    const char *const *names, int *out, struct cerr *err)
{
	char f[SCHED_FIELD_MAX], list[256] = "";
	const char *s;
	int rc = json_get_string(obj, key, path, 32, 0, &s, err);

	if (rc != 0)
		return rc;
	*out = in_list(names, s);
	if (*out >= 0)
		return 0;
	for (int i = 0; names[i] != NULL; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
		    "%s%s", i ? ", " : "", names[i]);
	return cerr_set(err, CERR_INVALID, "%s: '%s' is not one of %s",
	    field(f, path, key), s, list);
}

static int
required(int rc, const char *path, const char *key, struct cerr *err)
{
	char f[SCHED_FIELD_MAX];

	if (rc == 1)
		return cerr_set(
		    err, CERR_INVALID, "%s: required", field(f, path, key));
	return rc;
}

/* "kind", or "cron" alone; then refuses members the kind does not use. */
static int
sched_kind(
    const json_t *obj, const char *path, struct schedule *s, struct cerr *err)
{
	char f[SCHED_FIELD_MAX];
	int kind, rc;

	rc = get_choice(obj, "kind", path, kind_names, &kind, err);
	if (rc == -1)
		return -1;
	if (rc == 1 && json_object_get(obj, "cron") == NULL)
		return cerr_set(err, CERR_INVALID,
		    "%s: required (once, daily, weekly, monthly, monthly_relative, start, idle or cron)",
		    field(f, path, "kind"));
	s->kind = rc == 1 ? SCHED_CRON : (enum schedule_kind)kind;
	for (void *it = json_object_iter((json_t *)obj); it != NULL;
	     it = json_object_iter_next((json_t *)obj, it)) {
		const char *key = json_object_iter_key(it);

		if (in_list(common_keys, key) < 0 &&
		    in_list(kind_keys[s->kind], key) < 0)
			return cerr_set(err, CERR_INVALID,
			    "%s: not used by kind %s", field(f, path, key),
			    kind_names[s->kind]);
	}
	return 0;
}

static int
sched_common(
    const json_t *obj, const char *path, struct schedule *s, struct cerr *err)
{
	char f[SCHED_FIELD_MAX];
	const char *name = NULL, *zone = NULL;

	if (required(
		json_get_string(obj, "name", path, JOB_NAME_MAX, 0, &name, err),
		path, "name", err) == -1 ||
	    jobdoc_check_name(
		name, JOB_NAME_MAX, field(f, path, "name"), err) == -1)
		return -1;
	s->name = strdup(name);
	if (s->name == NULL)
		return cerr_set(err, CERR_INTERNAL, "%s: out of memory", path);
	if (sched_kind(obj, path, s, err) == -1 ||
	    json_get_bool(obj, "enabled", path, &s->enabled, err) == -1 ||
	    json_get_string(
		obj, "time_zone", path, TZ_NAME_MAX, 0, &zone, err) == -1 ||
	    get_date(obj, "start_date", path, &s->start_day, err) == -1 ||
	    get_date(obj, "end_date", path, &s->end_day, err) == -1)
		return -1;
	if (zone != NULL &&
	    tz_check_name(zone, field(f, path, "time_zone"), err) == -1)
		return -1;
	s->time_zone = zone != NULL ? strdup(zone) : NULL;
	if (zone != NULL && s->time_zone == NULL)
		return cerr_set(err, CERR_INTERNAL, "%s: out of memory", path);
	if (s->end_day != SCHED_NO_DATE && s->start_day != SCHED_NO_DATE &&
	    s->end_day < s->start_day)
		return cerr_set(err, CERR_INVALID, "%s: before start_date",
		    field(f, path, "end_date"));
	return 0;
}

/* "at", or repeat_every_s with its window. */
static int
sched_times(
    const json_t *obj, const char *path, struct schedule *s, struct cerr *err)
{
	char f[SCHED_FIELD_MAX];
	int64_t every = 0;
	int rc_at, rc_start, rc_end;

	rc_at = get_time(obj, "at", path, &s->at_s, err);
	if (rc_at == -1 ||
	    json_get_int(obj, "repeat_every_s", path, 1, 86400, &every, err) ==
		-1)
		return -1;
	rc_start = get_time(obj, "repeat_start", path, &s->repeat_start_s, err);
	if (rc_start == -1)
		return -1;
	rc_end = get_time(obj, "repeat_end", path, &s->repeat_end_s, err);
	if (rc_end == -1)
		return -1;
	s->repeat_every_s = (int)every;
	if (every > 0 && rc_at == 0)
		return cerr_set(err, CERR_INVALID,
		    "%s: not allowed with repeat_every_s",
		    field(f, path, "at"));
	if (every == 0 && (rc_start == 0 || rc_end == 0))
		return cerr_set(err, CERR_INVALID, "%s: needs repeat_every_s",
		    field(f, path,
			rc_start == 0 ? "repeat_start" : "repeat_end"));
	if (s->repeat_end_s < s->repeat_start_s)
		return cerr_set(err, CERR_INVALID, "%s: before repeat_start",
		    field(f, path, "repeat_end"));
	return 0;
}

static int
sched_weekdays(
    const json_t *obj, const char *path, struct schedule *s, struct cerr *err)
{
	char f[SCHED_FIELD_MAX];
	json_t *list = json_object_get(obj, "weekdays");

	if (list == NULL || json_is_null(list))
		return required(1, path, "weekdays", err);
	if (!json_is_array(list) || json_array_size(list) == 0 ||
	    json_array_size(list) > 7)
		return cerr_set(err, CERR_INVALID,
		    "%s: must be an array of 1 to 7 of mon, tue, wed, thu, fri, sat, sun",
		    field(f, path, "weekdays"));
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *v = json_array_get(list, i);
		int d = json_is_string(v)
		    ? in_list(weekday_names, json_string_value(v))
		    : -1;

		if (d < 0)
			return cerr_set(err, CERR_INVALID,
			    "%s[%zu]: must be one of mon, tue, wed, thu, fri, sat, sun",
			    field(f, path, "weekdays"), i + 1);
		s->weekdays |= 1u << d;
	}
	return 0;
}

/* A monthly day that no visited month has (day 31 every 12 months from
 * April) would never run: refused. The calendar repeats after 4800
 * months, so checking one cycle decides it. */
static int
sched_day_occurs(const struct schedule *s)
{
	int64_t first = 1970 * 12;

	if (s->start_day != SCHED_NO_DATE) {
		int64_t y;
		int m, d;

		tz_civil_from_days(s->start_day, &y, &m, &d);
		first = y * 12 + m - 1;
	}
	for (int64_t m = first; m < first + 4800; m += s->every)
		if (tz_month_days(m / 12, (int)(m % 12) + 1) >= s->day)
			return 1;
	return 0;
}

static int
sched_month_day(
    const json_t *obj, const char *path, struct schedule *s, struct cerr *err)
{
	char f[SCHED_FIELD_MAX];
	int64_t day = 0;
	int which = 0, relday = 0;

	if (s->kind == SCHED_MONTHLY) {
		if (required(json_get_int(obj, "day", path, 1, 31, &day, err),
			path, "day", err) == -1)
			return -1;
		s->day = (int)day;
		if (!sched_day_occurs(s))
			return cerr_set(err, CERR_INVALID,
			    "%s: day %d never occurs in the months this schedule runs",
			    field(f, path, "day"), s->day);
		return 0;
	}
	if (required(get_choice(obj, "which", path, which_names, &which, err),
		path, "which", err) == -1 ||
	    required(get_choice(obj, "day", path, relday_names, &relday, err),
		path, "day", err) == -1)
		return -1;
	s->which = (enum schedule_which)which;
	s->relday = (enum schedule_relday)relday;
	return 0;
}

static int
sched_days(
    const json_t *obj, const char *path, struct schedule *s, struct cerr *err)
{
	static const char *const every_key[] = {
	    [SCHED_DAILY] = "every_days",
	    [SCHED_WEEKLY] = "every_weeks",
	    [SCHED_MONTHLY] = "every_months",
	    [SCHED_MONTHLY_RELATIVE] = "every_months",
	};
	static const int every_max[] = {
	    [SCHED_DAILY] = SCHED_MAX_EVERY_DAYS,
	    [SCHED_WEEKLY] = SCHED_MAX_EVERY_WEEKS,
	    [SCHED_MONTHLY] = SCHED_MAX_EVERY_MONTHS,
	    [SCHED_MONTHLY_RELATIVE] = SCHED_MAX_EVERY_MONTHS,
	};
	int64_t every = 1;

	if (json_get_int(obj, every_key[s->kind], path, 1, every_max[s->kind],
		&every, err) == -1)
		return -1;
	s->every = (int)every;
	if (s->kind == SCHED_WEEKLY && sched_weekdays(obj, path, s, err) == -1)
		return -1;
	if ((s->kind == SCHED_MONTHLY || s->kind == SCHED_MONTHLY_RELATIVE) &&
	    sched_month_day(obj, path, s, err) == -1)
		return -1;
	return sched_times(obj, path, s, err);
}

static int
sched_once(
    const json_t *obj, const char *path, struct schedule *s, struct cerr *err)
{
	char f[SCHED_FIELD_MAX];
	const char *at;

	if (required(json_get_string(obj, "at", path, 32, 0, &at, err), path,
		"at", err) == -1)
		return -1;
	if (tz_parse_local(at, &s->once_local) == -1)
		return cerr_set(err, CERR_INVALID,
		    "%s: '%s' is not a local time YYYY-MM-DDTHH:MM[:SS]",
		    field(f, path, "at"), at);
	return 0;
}

static int
sched_idle(
    const json_t *obj, const char *path, struct schedule *s, struct cerr *err)
{
	char f[SCHED_FIELD_MAX];
	json_t *load = json_object_get(obj, "idle_load");

	if (load == NULL || json_is_null(load))
		return required(1, path, "idle_load", err);
	if (!json_is_number(load) || !(json_number_value(load) > 0) ||
	    json_number_value(load) > 10000)
		return cerr_set(err, CERR_INVALID,
		    "%s: must be a number above 0 and at most 10000",
		    field(f, path, "idle_load"));
	s->idle_load = json_number_value(load);
	return required(json_get_int(obj, "idle_for_s", path, 1, 86400,
			    &s->idle_for_s, err),
	    path, "idle_for_s", err);
}

static int
sched_cron(
    const json_t *obj, const char *path, struct schedule *s, struct cerr *err)
{
	char f[SCHED_FIELD_MAX];
	const char *text;

	if (required(json_get_string(
			 obj, "cron", path, CRON_EXPR_MAX, 0, &text, err),
		path, "cron", err) == -1)
		return -1;
	if (cron_parse(text, &s->cron, err) == -1) {
		char msg[CERR_MSG_MAX];

		/* "cron: hour: ..." becomes "schedules[1].cron: hour: ..." */
		snprintf(msg, sizeof(msg), "%s", err != NULL ? err->msg : "");
		return cerr_set(
		    err, CERR_INVALID, "%s%s%s", path, *path ? "." : "", msg);
	}
	s->cron_text = strdup(text);
	if (s->cron_text == NULL)
		return cerr_set(err, CERR_INTERNAL, "%s: out of memory",
		    field(f, path, "cron"));
	return 0;
}

int
schedule_from_json(const json_t *obj, const char *path, struct schedule **out,
    struct cerr *err)
{
	struct schedule *s = NULL;
	int rc = -1;

	if (json_check_keys(obj, all_keys, path, err) == -1)
		return -1;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return cerr_set(err, CERR_INTERNAL, "%s: out of memory", path);
	s->enabled = 1;
	s->start_day = SCHED_NO_DATE;
	s->end_day = SCHED_NO_DATE;
	s->every = 1;
	s->repeat_end_s = 86399;
	if (sched_common(obj, path, s, err) == -1)
		goto out;
	switch (s->kind) {
	case SCHED_ONCE:
		rc = sched_once(obj, path, s, err);
		break;
	case SCHED_ON_IDLE:
		rc = sched_idle(obj, path, s, err);
		break;
	case SCHED_CRON:
		rc = sched_cron(obj, path, s, err);
		break;
	case SCHED_START:
		rc = 0;
		break;
	default:
		rc = sched_days(obj, path, s, err);
		break;
	}
	if (rc == 0) {
		*out = s;
		s = NULL;
	}
out:
	schedule_free(s);
	return rc;
}

void
schedule_free(struct schedule *s)
{
	if (s == NULL)
		return;
	free(s->name);
	free(s->time_zone);
	free(s->cron_text);
	free(s);
}

/* ---- canonical form ---- */

static json_t *
date_json(int64_t day)
{
	char buf[16];
	int64_t y;
	int m, d;

	if (day == SCHED_NO_DATE)
		return json_null();
	tz_civil_from_days(day, &y, &m, &d);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d", (int)y, m, d);
	return json_string(buf);
}

static json_t *
time_json(int sec)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%02d:%02d:%02d", sec / 3600, sec / 60 % 60,
	    sec % 60);
	return json_string(buf);
}

static int
days_to_json(const struct schedule *s, json_t *o)
{
	static const char *const every_key[] = {
	    "every_days", "every_weeks", "every_months", "every_months"};
	json_t *days = NULL;
	int rc = json_object_set_new(
	    o, every_key[s->kind - SCHED_DAILY], json_integer(s->every));

	if (s->kind == SCHED_WEEKLY) {
		days = json_array();
		for (int d = 0; d < 7 && days != NULL; d++)
			if (s->weekdays & (1u << d))
				rc |= json_array_append_new(
				    days, json_string(weekday_names[d]));
		rc |= json_object_set_new(o, "weekdays", days);
	} else if (s->kind == SCHED_MONTHLY) {
		rc |= json_object_set_new(o, "day", json_integer(s->day));
	} else if (s->kind == SCHED_MONTHLY_RELATIVE) {
		rc |= json_object_set_new(
		    o, "which", json_string(which_names[s->which]));
		rc |= json_object_set_new(
		    o, "day", json_string(relday_names[s->relday]));
	}
	if (s->repeat_every_s == 0)
		return rc | json_object_set_new(o, "at", time_json(s->at_s));
	rc |= json_object_set_new(
	    o, "repeat_every_s", json_integer(s->repeat_every_s));
	rc |= json_object_set_new(
	    o, "repeat_start", time_json(s->repeat_start_s));
	return rc |
	    json_object_set_new(o, "repeat_end", time_json(s->repeat_end_s));
}

static int
kind_to_json(const struct schedule *s, json_t *o)
{
	char buf[32];

	switch (s->kind) {
	case SCHED_ONCE:
		return json_object_set_new(o, "at",
		    json_string(
			tz_format_local(s->once_local, buf, sizeof(buf))));
	case SCHED_START:
		return 0;
	case SCHED_ON_IDLE:
		return json_object_set_new(
			   o, "idle_load", json_real(s->idle_load)) |
		    json_object_set_new(
			o, "idle_for_s", json_integer(s->idle_for_s));
	case SCHED_CRON:
		return json_object_set_new(
		    o, "cron", json_string(s->cron_text));
	default:
		return days_to_json(s, o);
	}
}

json_t *
schedule_to_json(const struct schedule *s)
{
	json_t *o = json_object();
	int rc;

	if (o == NULL)
		return NULL;
	rc = json_object_set_new(o, "name", json_string(s->name));
	rc |= json_object_set_new(o, "kind", json_string(kind_names[s->kind]));
	rc |= json_object_set_new(o, "enabled", json_boolean(s->enabled));
	rc |= json_object_set_new(o, "time_zone",
	    s->time_zone ? json_string(s->time_zone) : json_null());
	rc |= json_object_set_new(o, "start_date", date_json(s->start_day));
	rc |= json_object_set_new(o, "end_date", date_json(s->end_day));
	rc |= kind_to_json(s, o);
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- accessors ---- */

const char *
schedule_zone(const struct schedule *s, const char *default_tz)
{
	if (s->time_zone != NULL)
		return s->time_zone;
	return default_tz != NULL ? default_tz : "UTC";
}

const char *
schedule_name(const struct schedule *s)
{
	return s->name;
}

enum schedule_kind
schedule_kind(const struct schedule *s)
{
	return s->kind;
}

int
schedule_enabled(const struct schedule *s)
{
	return s->enabled;
}

const char *
schedule_kind_name(enum schedule_kind kind)
{
	if ((int)kind < 0 || kind >= SCHED_KIND_COUNT)
		return "unknown";
	return kind_names[kind];
}

/* ---- the next due time ---- */

static int
relday_matches(enum schedule_relday r, int weekday)
{
	switch (r) {
	case SCHED_RELDAY_DAY:
		return 1;
	case SCHED_RELDAY_WEEKDAY:
		return weekday < 5;
	case SCHED_RELDAY_WEEKEND_DAY:
		return weekday >= 5;
	default:
		return weekday == (int)(r - SCHED_RELDAY_MONDAY);
	}
}

/* The day of the month (1..31) a monthly_relative schedule picks. */
static int
relday_of_month(const struct schedule *s, int64_t year, int month)
{
	int64_t first = tz_days_from_civil(year, month, 1);
	int n = tz_month_days(year, month), count = 0;

	if (s->which == SCHED_LAST) {
		for (int d = n; d >= 1; d--)
			if (relday_matches(
				s->relday, tz_weekday(first + d - 1)))
				return d;
		return -1;
	}
	for (int d = 1; d <= n; d++)
		if (relday_matches(s->relday, tz_weekday(first + d - 1)) &&
		    count++ == (int)s->which)
			return d;
	return -1;
}

static int64_t
weekly_day(const struct schedule *s, int64_t from)
{
	int64_t base = s->start_day != SCHED_NO_DATE ? s->start_day : 0;
	int64_t monday = base - tz_weekday(base);

	for (int64_t d = from; d < from + 7 * (int64_t)s->every + 7; d++) {
		int64_t week = tz_floor_div(d - monday, 7);

		if (week - tz_floor_div(week, s->every) * s->every == 0 &&
		    (s->weekdays & (1u << tz_weekday(d))))
			return d;
	}
	return SCHED_NO_DATE;
}

static int64_t
monthly_day(const struct schedule *s, int64_t from)
{
	int64_t y, first = 1970 * 12, m;
	int mo, d;

	if (s->start_day != SCHED_NO_DATE) {
		tz_civil_from_days(s->start_day, &y, &mo, &d);
		first = y * 12 + mo - 1;
	}
	tz_civil_from_days(from, &y, &mo, &d);
	m = y * 12 + mo - 1;
	/* the first month of the period at or after from's month */
	m = first - tz_floor_div(first - m, s->every) * s->every;
	for (int64_t end = m + 4800 + s->every; m < end; m += s->every) {
		int64_t year = tz_floor_div(m, 12);
		int month = (int)(m - year * 12) + 1;
		int64_t day;

		if (s->kind == SCHED_MONTHLY)
			d = s->day <= tz_month_days(year, month) ? s->day : -1;
		else
			d = relday_of_month(s, year, month);
		day = d > 0 ? tz_days_from_civil(year, month, d) : from - 1;
		if (day >= from)
			return day;
	}
	return SCHED_NO_DATE;
}

/* The first day >= from on which a day kind runs, or SCHED_NO_DATE. */
static int64_t
due_day(const struct schedule *s, int64_t from)
{
	int64_t anchor = s->start_day != SCHED_NO_DATE ? s->start_day : 0;

	switch (s->kind) {
	case SCHED_DAILY:
		return anchor -
		    tz_floor_div(anchor - from, s->every) * s->every;
	case SCHED_WEEKLY:
		return weekly_day(s, from);
	default:
		return monthly_day(s, from);
	}
}

/* The first run time of a due day at or after from (seconds after
 * midnight), or -1. */
static int
day_first_time(const struct schedule *s, int from)
{
	int k;

	if (s->repeat_every_s == 0)
		return s->at_s >= from ? s->at_s : -1;
	if (from <= s->repeat_start_s)
		return s->repeat_start_s;
	k = (from - s->repeat_start_s + s->repeat_every_s - 1) /
	    s->repeat_every_s;
	from = s->repeat_start_s + k * s->repeat_every_s;
	return from <= s->repeat_end_s ? from : -1;
}

/* The first wall time >= floor at which s runs: 0, or 1 when none. */
static int
next_local(const struct schedule *s, int64_t floor, int64_t *out)
{
	int64_t day = tz_floor_div(floor, 86400), d = day;
	int t;

	switch (s->kind) {
	case SCHED_ONCE:
		*out = s->once_local;
		return s->once_local >= floor ? 0 : 1;
	case SCHED_CRON:
		return cron_next_local(&s->cron, floor, out, NULL) == 0 ? 0 : 1;
	case SCHED_START:
	case SCHED_ON_IDLE:
		return 1;
	default:
		break;
	}
	for (;;) {
		d = due_day(s, d);
		if (d == SCHED_NO_DATE || d > SCHED_LAST_DAY ||
		    (s->end_day != SCHED_NO_DATE && d > s->end_day))
			return 1;
		t = day_first_time(
		    s, d == day ? (int)(floor - day * 86400) : 0);
		if (t >= 0) {
			*out = d * 86400 + t;
			return 0;
		}
		d++;
	}
}

void
schedule_next_due(const struct schedule *s, const struct tz *tz, int64_t after,
    struct schedule_due *due)
{
	int64_t floor, w;

	memset(due, 0, sizeof(*due));
	if (s->kind == SCHED_START || s->kind == SCHED_ON_IDLE ||
	    after < TZ_UTC_MIN || after > TZ_UTC_MAX)
		return;
	floor = tz_local_floor_after(tz, after);
	if (s->start_day != SCHED_NO_DATE && floor < s->start_day * 86400)
		floor = s->start_day * 86400;
	if (next_local(s, floor, &w) != 0 ||
	    (s->end_day != SCHED_NO_DATE && w >= (s->end_day + 1) * 86400))
		return;
	due->local_s = w;
	due->utc = tz_from_local(tz, w, &due->dst);
	due->offset_s = tz_offset_at(tz, due->utc);
}

int
schedule_next(const struct schedule *s, const char *default_tz, int64_t after,
    int64_t *next_out, struct cerr *err)
{
	struct schedule_due due;
	struct tz *tz = NULL;

	*next_out = 0;
	if (s->kind == SCHED_START || s->kind == SCHED_ON_IDLE)
		return 0;
	if (tz_load(schedule_zone(s, default_tz), &tz, err) == -1)
		return cerr_wrap(err, "schedule %s", s->name);
	schedule_next_due(s, tz, after, &due);
	tz_free(tz);
	*next_out = due.utc;
	return 0;
}
