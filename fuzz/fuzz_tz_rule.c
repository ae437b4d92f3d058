/*
 * fuzz_tz_rule: a POSIX TZ rule as $TZ may hold it (tz_load_rule), and
 * what the schedules ask of the zone it makes, over a few years: an
 * offset within 26 hours, and a wall time that exists mapping
 * back to an instant no later than the one it came from (its first
 * occurrence) when the offsets are less than a day apart.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define START_S 1700000000 /* 2023-11-14 */
#define STEP_S (86400 * 5 + 3599)
/* POSIX offsets reach 24:59:59, and a summer time given no offset of its
 * own is an hour ahead of standard time */
#define MAX_OFF_S (26 * 3600)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char rule[TZ_NAME_MAX + 2];
	struct tz *tz = NULL;
	struct cerr err;

	if (size >= sizeof(rule))
		return 0;
	memcpy(rule, data, size);
	rule[size] = '\0';
	if (tz_load_rule(rule, &tz, &err) < 0)
		return 0;
	for (int64_t t = START_S; t < START_S + 3LL * 366 * 86400;
	     t += STEP_S) {
		int32_t off = tz_offset_at(tz, t);
		int64_t wall = tz_to_local(tz, t);
		char buf[40];

		if (off > MAX_OFF_S || off < -MAX_OFF_S)
			abort();
		/* tz_from_local looks a day and a half around: offsets
		 * further apart than a day (no real zone's) are out of it */
		if (labs((long)(tz_offset_at(tz, wall) - off)) <= 86400 &&
		    tz_from_local(tz, wall, NULL) > t)
			abort(); /* not the first occurrence of a wall time */
		tz_format_rfc3339(tz, t, buf, sizeof(buf));
		tz_local_floor_after(tz, t);
	}
	tz_free(tz);
	return 0;
}
