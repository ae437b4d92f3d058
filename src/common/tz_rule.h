/*
 * tz_rule: the POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3"), as a TZif
 * footer carries it for instants past the last transition and as $TZ may
 * hold it in place of a zone name. Parsing and the offset at an instant;
 * tz.c builds zones on it. Internal to tz.c and its tests.
 */
#ifndef COHORT_TZ_RULE_H
#define COHORT_TZ_RULE_H

#include <stddef.h>
#include <stdint.h>

/* A date in a POSIX TZ rule: "Jn" (1..365, no Feb 29), "n" (0..365) or
 * "Mm.w.d" (month, week 1..5 where 5 is the last, weekday 0 = Sunday). */
struct tz_rule_date {
	char form; /* 'J', 'N' or 'M' */
	int n, month, week, wday;
	int32_t time_s; /* local time of the change, may pass 24h */
};

struct tz_rule {
	int32_t std_off, dst_off; /* seconds east */
	int has_dst;
	struct tz_rule_date start, end;
};

/* Parses a whole rule into *r (zeroed first, so two rules compare with
 * memcmp); 0, or -1 when s is not one. The syntax is POSIX's with RFC
 * 8536's extensions (change times from -167 to 167 hours). A rule with
 * summer time but no ",start,end" gets glibc's built-in default,
 * ",M3.2.0,M11.1.0" (the US rules since 2007), as POSIX leaves it to
 * the implementation. */
int tz_rule_parse(const char *s, struct tz_rule *r);

/* UTC offset (seconds east) the rule gives at the UTC instant utc. */
int32_t tz_rule_offset(const struct tz_rule *r, int64_t utc);

/* The instants where the rule's offset may change, for the year of utc
 * and the years either side (so at least every one within a week of
 * utc): each year's two change dates, and its turn in standard time,
 * where a rule whose dates reach over it may jump. Unordered, some
 * perhaps no change; between two of them the offset holds. Writes
 * TZ_RULE_BREAKS_MAX at most to out and returns how many. */
#define TZ_RULE_BREAKS_MAX 9
size_t tz_rule_breaks(const struct tz_rule *r, int64_t utc, int64_t *out);

#endif
