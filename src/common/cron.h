/*
 * cron: cron expressions with Vixie cron's meaning. Five fields "minute
 * hour day-of-month month day-of-week", or six with seconds first. Each
 * field is "*" or a comma list of N, N-M, "*" with "/STEP", or N-M/STEP;
 * months take jan..dec and weekdays sun..sat (any case); 0 and 7 are both
 * Sunday. When both day fields are restricted a day matching either one
 * runs; when either starts with "*", a day must match both (so "*" in one
 * lets the other decide). "@yearly", "@annually", "@monthly", "@weekly",
 * "@daily", "@midnight" and "@hourly" are accepted; "@reboot" is not (that
 * is the schedule kind "start").
 *
 * The fields are matched against the wall clock of a time zone with the
 * DST rules of tz.h: a time in a gap runs once at the end of the gap, a
 * repeated time runs once, at its first occurrence.
 */
#ifndef COHORT_CRON_H
#define COHORT_CRON_H

#include <stdint.h>

#include "common/cerr.h"

#define CRON_EXPR_MAX 256

struct cron {
	uint64_t seconds; /* bit n: second n matches (0..59) */
	uint64_t minutes; /* 0..59 */
	uint32_t hours; /* 0..23 */
	uint32_t days; /* 1..31 */
	uint16_t months; /* 1..12 */
	uint8_t weekdays; /* 0..6, 0 = Sunday */
	int days_star; /* day-of-month field starts with '*' */
	int weekdays_star; /* day-of-week field starts with '*' */
};

/* Parses expr into *out. Errors name the field: "cron: hour: 24 is out of
 * range 0..23". An expression that can never match on any date (e.g.
 * "0 0 30 2 *") is refused here. */
int cron_parse(const char *expr, struct cron *out, struct cerr *err);

/* Does the civil date (month 1..12) match the day fields? */
int cron_day_matches(const struct cron *c, int64_t year, int month, int day);

/* The first wall time (local seconds, see tz.h) at or after local_s that
 * matches. 0 with *out set, or -1 when nothing matches within 400 years
 * (one whole Gregorian cycle, so it never will). */
int cron_next_local(
    const struct cron *c, int64_t local_s, int64_t *out, struct cerr *err);

/* The first instant strictly after `after` (Unix seconds) at which c runs
 * in zone tz (an IANA name; NULL means UTC). */
int cron_next(const struct cron *c, const char *tz, int64_t after,
    int64_t *next_out, struct cerr *err);

#endif
