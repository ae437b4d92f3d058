/*
 * nextrun: previews of a job's next due instants, for people ("job show",
 * "job next") and programs (the same as JSON). The master computes them
 * for schedules that name a zone exactly as a target will; a schedule
 * without a zone runs in each target's own zone, which the master does
 * not know, so there it is shown in UTC and marked "target_zone". On a
 * target the machine's zone is known and used.
 *
 * Each instant says how DST treated it: "gap" (the wall time does not
 * exist; it runs at the gap's end), "repeated" (the wall time happens
 * twice; it runs at the first), and a changed UTC offset from the instant
 * before is named.
 */
#ifndef COHORT_NEXTRUN_H
#define COHORT_NEXTRUN_H

#include <stdint.h>

#include <jansson.h>

#include "common/cerr.h"
#include "common/jobdoc.h"
#include "common/tz.h"

#define NEXTRUN_MAX_COUNT 1000

/* One object per schedule, in the job's order:
 * {"schedule", "kind", "enabled", "zone", "target_zone", "runs": [{"at"
 * (RFC 3339 with the zone's offset), "utc", "local" (the scheduled wall
 * time), "dst": null | "gap" | "repeated", "note"}], "note"}. zone: the
 * zone for schedules without their own, borrowed (a target passes the
 * zone its scheduler uses, scheduler_zone(); NULL: unknown, shown in UTC
 * and marked target_zone); "zone" is its tz_name(). The first count
 * instants after `after` (Unix s). New reference; NULL with err set (a
 * schedule's zone that cannot be loaded). */
json_t *nextrun_json(const struct job *job, const struct tz *zone,
    int64_t after, int count, struct cerr *err);

#endif
