/*
 * nextrun: previews of next due instants (see nextrun.h), one schedule at
 * a time with its zone loaded once.
 */
#include "common/nextrun.h"

#include <stdio.h>
#include <string.h>

#include "common/schedule.h"
#include "common/timefmt.h"
#include "common/tz.h"

static const char *
offset_text(int32_t off, char *buf, size_t size)
{
	int32_t a = off < 0 ? -off : off;

	snprintf(buf, size, "%c%02d:%02d", off < 0 ? '-' : '+', a / 3600,
	    a / 60 % 60);
	return buf;
}

/* What a person should know about this instant. */
static void
note_of(const struct schedule_due *d, int32_t prev_offset, int first, char *buf,
    size_t size)
{
	char wall[32], at[32], o1[16], o2[16];

	buf[0] = '\0';
	tz_format_local(d->local_s, wall, sizeof(wall));
	if (d->dst == TZ_LOCAL_GAP)
		snprintf(buf, size, "%s does not exist (DST gap): runs at %s",
		    wall + 11,
		    tz_format_local(d->utc + d->offset_s, at, sizeof(at)) + 11);
	else if (d->dst == TZ_LOCAL_REPEATED)
		snprintf(buf, size,
		    "%s happens twice (DST ends): runs once, "
		    "at the first",
		    wall + 11);
	else if (!first && d->offset_s != prev_offset)
		snprintf(buf, size, "UTC offset changes from %s to %s",
		    offset_text(prev_offset, o1, sizeof(o1)),
		    offset_text(d->offset_s, o2, sizeof(o2)));
}

static const char *const dst_names[] = {NULL, "gap", "repeated"};

static int
add_run(json_t *runs, const struct tz *tz, const struct schedule_due *d,
    int32_t prev_offset, int first)
{
	char at[40], utc[TIMEFMT_MAX], local[32], note[160];
	const char *dst = dst_names[d->dst];

	note_of(d, prev_offset, first, note, sizeof(note));
	return json_array_append_new(runs,
	    json_pack("{s:s,s:s,s:s,s:s?,s:s?}", "at",
		tz_format_rfc3339(tz, d->utc, at, sizeof(at)), "utc",
		timefmt_utc(d->utc, utc), "local",
		tz_format_local(d->local_s, local, sizeof(local)), "dst", dst,
		"note", note[0] != '\0' ? note : NULL));
}

static const char *
kind_note(const struct schedule *s, size_t nruns)
{
	if (!s->enabled)
		return "disabled";
	if (s->kind == SCHED_START)
		return "runs when the target daemon starts";
	if (s->kind == SCHED_ON_IDLE)
		return "runs when the target is idle";
	return nruns == 0 ? "no more runs" : NULL;
}

static json_t *
schedule_preview(const struct schedule *s, const struct tz *zone, int64_t after,
    int count, struct cerr *err)
{
	json_t *runs = json_array(), *o = NULL;
	struct schedule_due d;
	struct tz *own = NULL;
	const struct tz *tz = zone;
	int32_t prev = 0;

	/* a schedule's own zone, or UTC for one without where zone is
	 * unknown; NULL loads "UTC" */
	if ((s->time_zone != NULL || zone == NULL) &&
	    tz_load(s->time_zone, &own, err) < 0) {
		json_decref(runs);
		return NULL;
	}
	if (own != NULL)
		tz = own;
	for (int i = 0; s->enabled && runs != NULL && i < count; i++) {
		schedule_next_due(s, tz, after, &d);
		if (d.utc == 0)
			break;
		add_run(runs, tz, &d, prev, i == 0);
		prev = d.offset_s;
		after = d.utc;
	}
	if (runs != NULL)
		o = json_pack("{s:s,s:s,s:b,s:s,s:b,s:o,s:s?}", "schedule",
		    s->name, "kind", schedule_kind_name(s->kind), "enabled",
		    s->enabled, "zone", tz_name(tz), "target_zone",
		    s->time_zone == NULL && zone == NULL, "runs", runs, "note",
		    kind_note(s, json_array_size(runs)));
	tz_free(own);
	if (o == NULL)
		cerr_set(err, CERR_INTERNAL, "out of memory");
	return o;
}

json_t *
nextrun_json(const struct job *job, const struct tz *zone, int64_t after,
    int count, struct cerr *err)
{
	json_t *list = json_array(), *one;

	if (count < 0 || count > NEXTRUN_MAX_COUNT) {
		json_decref(list);
		cerr_set(err, CERR_INVALID, "count: must be 0..%d",
		    NEXTRUN_MAX_COUNT);
		return NULL;
	}
	for (size_t i = 0; list != NULL && i < job->nschedules; i++) {
		one = schedule_preview(
		    job->schedules[i], zone, after, count, err);
		if (one == NULL) {
			json_decref(list);
			return NULL;
		}
		json_array_append_new(list, one);
	}
	if (list == NULL)
		cerr_set(err, CERR_INTERNAL, "out of memory");
	return list;
}
