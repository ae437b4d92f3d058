/*
 * schedule: one schedule of a job (PRODUCT.md section 2), parsed from the
 * job document and asked for its next due instant.
 *
 * Kinds: "once" at a local date and time; "daily" every N days; "weekly"
 * every N weeks on given weekdays; "monthly" on day D every N months (a
 * month without day D is skipped, as SQL Server Agent does);
 * "monthly_relative" on the first..fourth or last day, weekday, weekend day
 * or named weekday every N months; "start" (when the daemon starts); "idle"
 * (when the machine is idle); "cron". The four day kinds run at "at" or
 * repeat every repeat_every_s between repeat_start and repeat_end.
 *
 * Everything is wall-clock time in the schedule's zone (its time_zone, else
 * the caller's default, else UTC). The period of every_days/weeks/months
 * counts from start_date when given (for weeks, from the Monday of
 * start_date's week; for months, from start_date's month), else from
 * 1970-01-01 (for weeks, Monday 1969-12-29; for months, January 1970).
 * DST: a wall time inside a gap runs once at the first instant after the
 * gap; a wall time that occurs twice runs once, at the first occurrence;
 * the same UTC instant is never returned twice.
 */
#ifndef COHORT_SCHEDULE_H
#define COHORT_SCHEDULE_H

#include <stdint.h>

#include <jansson.h>

#include "common/cerr.h"
#include "common/cron.h"
#include "common/tz.h"

#define SCHED_NO_DATE INT64_MIN
#define SCHED_MAX_EVERY_DAYS 3650
#define SCHED_MAX_EVERY_WEEKS 520
#define SCHED_MAX_EVERY_MONTHS 120

enum schedule_kind {
	SCHED_ONCE,
	SCHED_DAILY,
	SCHED_WEEKLY,
	SCHED_MONTHLY,
	SCHED_MONTHLY_RELATIVE,
	SCHED_START,
	/* Not SCHED_IDLE: <sched.h> defines that (a CPU scheduling policy,
	 * 5) and, included after this header, silently turned the master's
	 * check for an idle schedule into one for a start schedule. */
	SCHED_ON_IDLE,
	SCHED_CRON,
	SCHED_KIND_COUNT
};

enum schedule_which {
	SCHED_FIRST,
	SCHED_SECOND,
	SCHED_THIRD,
	SCHED_FOURTH,
	SCHED_LAST
};

/* What monthly_relative counts: any day, Monday..Friday, Saturday and
 * Sunday, or one named weekday. */
enum schedule_relday {
	SCHED_RELDAY_DAY,
	SCHED_RELDAY_WEEKDAY,
	SCHED_RELDAY_WEEKEND_DAY,
	SCHED_RELDAY_MONDAY,
	SCHED_RELDAY_TUESDAY,
	SCHED_RELDAY_WEDNESDAY,
	SCHED_RELDAY_THURSDAY,
	SCHED_RELDAY_FRIDAY,
	SCHED_RELDAY_SATURDAY,
	SCHED_RELDAY_SUNDAY
};

/* Read-only for users; owned strings are released by schedule_free. */
struct schedule {
	char *name;
	enum schedule_kind kind;
	int enabled;
	char *time_zone; /* NULL: the caller's default zone */
	int64_t start_day; /* local date as days since 1970-01-01, */
	int64_t end_day; /* inclusive; SCHED_NO_DATE when absent */
	int64_t once_local; /* SCHED_ONCE: local seconds (see tz.h) */
	int every; /* every_days, every_weeks or every_months */
	int at_s; /* seconds after local midnight */
	unsigned weekdays; /* SCHED_WEEKLY: bit 0 Monday .. bit 6 Sunday */
	int day; /* SCHED_MONTHLY: 1..31 */
	enum schedule_which which; /* SCHED_MONTHLY_RELATIVE */
	enum schedule_relday relday; /* SCHED_MONTHLY_RELATIVE */
	int repeat_every_s; /* 0: once a day at at_s */
	int repeat_start_s; /* seconds after midnight, inclusive */
	int repeat_end_s;
	double idle_load; /* SCHED_ON_IDLE: load average below this */
	int64_t idle_for_s; /* ... for this long */
	char *cron_text; /* SCHED_CRON: the expression as given */
	struct cron cron;
};

/* Parses one schedule object; path names it in errors ("schedules[2]").
 * On success *out is new (caller frees with schedule_free); on failure
 * nothing is allocated and err (CERR_INVALID) names the field. */
int schedule_from_json(const json_t *obj, const char *path,
    struct schedule **out, struct cerr *err);

/* The canonical object: every field of the kind explicit, null for an
 * absent time_zone/start_date/end_date; "at" or the three repeat_* fields.
 * New reference, NULL on out-of-memory. */
json_t *schedule_to_json(const struct schedule *s);

void schedule_free(struct schedule *s);

/* The first due instant strictly after `after` (Unix seconds), or 0 in
 * *next_out when there are no more runs (past end_date, "once" passed).
 * Kinds "start" and "idle" have no next time: 0, and the caller handles
 * them. default_tz is the target's zone (NULL: UTC); -1 only when a zone
 * cannot be loaded. */
int schedule_next(const struct schedule *s, const char *default_tz,
    int64_t after, int64_t *next_out, struct cerr *err);

/* The same with detail, for previews ("job next") and missed-run records:
 * the wall time that was due and how DST treated it. */
struct schedule_due {
	int64_t utc; /* 0: no more runs */
	int64_t local_s; /* the scheduled wall time (local seconds) */
	enum tz_local_kind dst; /* TZ_LOCAL_GAP: ran at the gap's end */
	int32_t offset_s; /* UTC offset at utc */
};
/* tz is the schedule's zone, loaded by the caller (see schedule_zone). */
void schedule_next_due(const struct schedule *s, const struct tz *tz,
    int64_t after, struct schedule_due *due);

/* The zone a schedule runs in: its own, else default_tz, else "UTC". */
const char *schedule_zone(const struct schedule *s, const char *default_tz);

const char *schedule_name(const struct schedule *s);
enum schedule_kind schedule_kind(const struct schedule *s);
int schedule_enabled(const struct schedule *s);
/* "once", "daily", ..., "cron". */
const char *schedule_kind_name(enum schedule_kind kind);

#endif
