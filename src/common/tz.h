/*
 * tz: civil dates and IANA time zones, for schedules and cron. A zone is
 * read from its TZif file under /usr/share/zoneinfo (RFC 8536, version 1
 * to 4, with the POSIX TZ rule in the footer for instants past the last
 * transition), or made from a bare POSIX TZ rule, into a small immutable
 * struct tz, so conversions touch no process state: no TZ variable, no
 * tzset(), safe beside libcurl's resolver threads.
 *
 * Local times are "local seconds": seconds since 1970-01-01T00:00:00 on the
 * zone's wall clock, as if that wall clock were UTC. Converting local to UTC
 * follows the schedule contract: a wall time inside a gap (spring forward)
 * becomes the first instant after the gap; a wall time that occurs twice
 * (fall back) becomes its first occurrence. With these rules the mapping
 * never goes backwards, which the schedule code relies on.
 */
#ifndef COHORT_TZ_H
#define COHORT_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "common/cerr.h"

#define TZ_DIR "/usr/share/zoneinfo"
#define TZ_NAME_MAX 64
#define TZ_FILE_MAX (256 * 1024)
/* The instants the schedule code works with: 1900-01-01 .. 9999-12-31 UTC,
 * far from where int64 arithmetic on seconds could overflow. */
#define TZ_UTC_MIN (-2208988800LL)
#define TZ_UTC_MAX 253402300799LL

/* Days since 1970-01-01 of a proleptic Gregorian date; month 1..12. */
int64_t tz_days_from_civil(int64_t year, int month, int day);
void tz_civil_from_days(int64_t days, int64_t *year, int *month, int *day);
/* 0 = Monday .. 6 = Sunday. */
int tz_weekday(int64_t days);
int tz_is_leap(int64_t year);
int tz_month_days(int64_t year, int month);
/* floor(a / b) for b > 0, which C's '/' is not for negative a. */
int64_t tz_floor_div(int64_t a, int64_t b);

/* "YYYY-MM-DD" (a real date, years 1970..9999) into days since
 * 1970-01-01; -1 when s is anything else. */
int tz_parse_date(const char *s, int64_t *day);
/* "HH:MM" or "HH:MM:SS" into seconds after midnight; -1 otherwise. */
int tz_parse_time(const char *s, int *sec);
/* "YYYY-MM-DDTHH:MM[:SS]" into local seconds; -1 otherwise. */
int tz_parse_local(const char *s, int64_t *local_s);
/* Local seconds as "YYYY-MM-DDTHH:MM:SS" into buf (at least 20 bytes). */
const char *tz_format_local(int64_t local_s, char *buf, size_t size);

struct tz;

/* Checks a zone name: 1..TZ_NAME_MAX bytes of letters, digits and "/_+-.",
 * no leading '/', no "..", naming a regular TZif file under TZ_DIR. "UTC"
 * is always accepted, with or without a file. what names the field. */
int tz_check_name(const char *name, const char *what, struct cerr *err);

/* Loads a zone (name checked as above); caller frees *out with tz_free.
 * NULL name means "UTC". */
int tz_load(const char *name, struct tz **out, struct cerr *err);
/* Loads the TZif file at path (symlinks followed) as a zone named name.
 * The name is a label only (at most TZ_NAME_MAX bytes, not checked as a
 * zone name): tzlocal.c gives a zone read from /etc/localtime a name
 * tz_load() can load only when that loads the same zone. Caller frees. */
int tz_load_file(
    const char *path, const char *name, struct tz **out, struct cerr *err);
/* A zone that follows the POSIX TZ rule at every instant, as glibc does
 * for such a $TZ: "CET-1CEST,M3.5.0,M10.5.0/3", "<+0330>-3:30", "JST-9"
 * (syntax in tz_rule.h). It has no transitions and is named by the rule
 * itself, which tz_load() does not load: only tzlocal.c makes one, for
 * the machine's zone; job documents name IANA zones. Caller frees. -1
 * (CERR_INVALID) when rule is not one or longer than TZ_NAME_MAX. */
int tz_load_rule(const char *rule, struct tz **out, struct cerr *err);
/* A copy of tz into *out (caller frees); -1 only when out of memory. */
int tz_copy(const struct tz *tz, struct tz **out, struct cerr *err);
void tz_free(struct tz *tz);
const char *tz_name(const struct tz *tz);
/* 1 when a and b give the same UTC offset at every instant as their data
 * shows it: the same transitions, offsets and footer rule, or one fixed
 * offset each (the built-in UTC is the same as Etc/UTC's file). Names
 * and abbreviations are not compared. Else 0. */
int tz_same(const struct tz *a, const struct tz *b);

/* UTC offset (seconds east) in force at the UTC instant utc. */
int32_t tz_offset_at(const struct tz *tz, int64_t utc);

/* What tz_from_local found for a wall time. */
enum tz_local_kind {
	TZ_LOCAL_UNIQUE, /* exists exactly once */
	TZ_LOCAL_GAP, /* does not exist: moved to the gap's end */
	TZ_LOCAL_REPEATED /* exists twice: the first occurrence taken */
};

/* UTC instant of a wall time under the rules above; kind may be NULL. */
int64_t tz_from_local(
    const struct tz *tz, int64_t local_s, enum tz_local_kind *kind);

/* Wall time of a UTC instant. */
int64_t tz_to_local(const struct tz *tz, int64_t utc);

/* utc as local time with its offset, "2024-03-31T03:00:00+02:00" (RFC
 * 3339 style; "+00:00" for UTC; a historical offset that is not whole
 * minutes gets seconds, "+00:53:28"), into buf (at least 29 bytes). */
const char *tz_format_rfc3339(
    const struct tz *tz, int64_t utc, char *buf, size_t size);

/* The smallest wall time w with tz_from_local(w) > utc. Because the
 * mapping never goes backwards, a schedule's next run after utc is its
 * first wall time >= this value. */
int64_t tz_local_floor_after(const struct tz *tz, int64_t utc);

#endif
