/*
 * schedplan: the scheduler's decisions (see schedplan.h). Everything here
 * is arithmetic on schedule_next_due(): no clock, no store, no events.
 *
 * schedule_next_due(after) is non-decreasing in `after` (the wall-time to
 * UTC mapping never goes backwards, see tz.h), which lets the last due
 * instant before a time be found by bisection instead of by walking every
 * instant of a long downtime.
 */
#include "target/schedplan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

/* The first due instant after `after`; 0 when there are no more. */
static int64_t
next_after(const struct schedule *s, const struct tz *tz, int64_t after,
    struct schedule_due *due)
{
	struct schedule_due d;

	schedule_next_due(s, tz, after, due != NULL ? due : &d);
	return due != NULL ? due->utc : d.utc;
}

int64_t
schedplan_last_in(
    const struct schedule *s, const struct tz *tz, int64_t lo, int64_t hi)
{
	int64_t a = lo, b = hi, n;

	if (hi <= lo)
		return 0;
	n = next_after(s, tz, lo, NULL);
	if (n == 0 || n > hi)
		return 0;
	/* next(a) <= hi < next(b) (or none): narrow to adjacent a, b. */
	while (b - a > 1) {
		int64_t mid = a + (b - a) / 2;

		n = next_after(s, tz, mid, NULL);
		if (n != 0 && n <= hi)
			a = mid;
		else
			b = mid;
	}
	return next_after(s, tz, a, NULL);
}

/* Instants in (lo, hi], counted up to SCHEDPLAN_SCAN_MAX (*more set when
 * the count stopped there). */
static int64_t
count_in(const struct schedule *s, const struct tz *tz, int64_t lo, int64_t hi,
    int *more)
{
	int64_t n = 0, at = lo, next;

	*more = 0;
	while ((next = next_after(s, tz, at, NULL)) != 0 && next <= hi) {
		if (n == SCHEDPLAN_SCAN_MAX) {
			*more = 1;
			break;
		}
		n++;
		at = next;
	}
	return n;
}

static void
add_miss(const struct schedplan_in *in, struct schedplan_out *out,
    enum schedplan_reason reason, int64_t first, int64_t last, int64_t count,
    int more)
{
	struct schedplan_miss *m;

	if (count <= 0 || out->nmiss == SCHEDPLAN_MISS_MAX)
		return;
	m = &out->miss[out->nmiss++];
	m->reason = reason;
	m->first = first;
	m->last = last;
	m->first_local = tz_to_local(in->tz, first);
	m->last_local = tz_to_local(in->tz, last);
	m->count = count;
	m->more = more;
}

/* A run at a wall time inside a DST gap: the other wall times of the
 * schedule in that gap collapsed into the same run; they are counted on
 * the wall clock (in->utc makes wall times instants). */
static void
gap_miss(const struct schedplan_in *in, struct schedplan_out *out)
{
	int64_t gap_end = tz_to_local(in->tz, out->due.utc);
	int64_t w = out->due.local_s, first = 0, n = 0, next;

	while (n < SCHEDPLAN_SCAN_MAX &&
	    (next = next_after(in->s, in->utc, w, NULL)) != 0 &&
	    next < gap_end) {
		if (n++ == 0)
			first = next;
		w = next;
	}
	if (n == 0 || out->nmiss == SCHEDPLAN_MISS_MAX)
		return;
	out->miss[out->nmiss++] =
	    (struct schedplan_miss){SCHEDPLAN_DST_GAP, out->due.utc,
		out->due.utc, first, w, n, n == SCHEDPLAN_SCAN_MAX, 0};
}

void
schedplan_step(const struct schedplan_in *in, struct schedplan_out *out)
{
	int64_t first, last, prev, count;
	enum schedplan_reason reason;
	int more, late;

	memset(out, 0, sizeof(*out));
	out->cursor = in->cursor > in->now ? in->cursor : in->now;
	out->next = next_after(in->s, in->tz, out->cursor, NULL);
	first = next_after(in->s, in->tz, in->cursor, NULL);
	if (in->cursor >= in->now || first == 0 || first > in->now)
		return;
	last = schedplan_last_in(in->s, in->tz, in->cursor, in->now);
	count = count_in(in->s, in->tz, in->cursor, in->now, &more);
	reason = first < in->booted ? SCHEDPLAN_TARGET_OFFLINE
	    : first < in->started   ? SCHEDPLAN_DAEMON_DOWN
				    : SCHEDPLAN_LATE;
	if (in->paused) {
		add_miss(
		    in, out, SCHEDPLAN_JOB_DISABLED, first, last, count, more);
		return;
	}
	late = in->now - last > in->grace_s;
	if (late && in->misfire == MISFIRE_SKIP) {
		add_miss(in, out, reason, first, last, count, more);
		return;
	}
	prev = last == first
	    ? 0
	    : schedplan_last_in(in->s, in->tz, in->cursor, last - 1);
	if (prev != 0)
		add_miss(in, out, reason, first, prev, more ? count : count - 1,
		    more);
	out->run_due = next_after(in->s, in->tz, last - 1, &out->due);
	out->catch_up = late;
	if (out->due.dst == TZ_LOCAL_GAP)
		gap_miss(in, out);
}

int
schedplan_in_dates(const struct schedule *s, const struct tz *tz, int64_t at)
{
	int64_t day = tz_floor_div(tz_to_local(tz, at), 86400);

	return (s->start_day == SCHED_NO_DATE || day >= s->start_day) &&
	    (s->end_day == SCHED_NO_DATE || day <= s->end_day);
}

int64_t
schedplan_def_hash(const struct schedule *s)
{
	json_t *v = schedule_to_json(s);
	char *text = v != NULL ? json_dump_compact(v) : NULL;
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (const char *p = text != NULL ? text : ""; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	json_decref(v);
	free(text);
	return (int64_t)(h >> 1);
}

const char *
schedplan_reason_name(enum schedplan_reason r)
{
	switch (r) {
	case SCHEDPLAN_DAEMON_DOWN:
		return "daemon down";
	case SCHEDPLAN_LATE:
		return "late";
	case SCHEDPLAN_JOB_DISABLED:
		return "job disabled";
	case SCHEDPLAN_OVERLAP:
		return "overlap forbidden";
	case SCHEDPLAN_DST_GAP:
		return "DST gap";
	case SCHEDPLAN_TARGET_OFFLINE:
		return "target offline";
	}
	return "unknown";
}

static const char *
reason_text(enum schedplan_reason r)
{
	switch (r) {
	case SCHEDPLAN_DAEMON_DOWN:
		return "the target daemon was not running";
	case SCHEDPLAN_LATE:
		return "found late (the wall clock jumped forward or the "
		       "daemon stalled)";
	case SCHEDPLAN_JOB_DISABLED:
		return "the job was disabled";
	case SCHEDPLAN_OVERLAP:
		return "the job was still running and its overlap policy "
		       "refuses a second run";
	case SCHEDPLAN_DST_GAP:
		return "";
	case SCHEDPLAN_TARGET_OFFLINE:
		return "the target machine was down (it booted after)";
	}
	return "";
}

static const char *
policy_text(
    const struct schedplan_miss *m, enum misfire_policy misfire, int catch_up)
{
	if (m->reason != SCHEDPLAN_DAEMON_DOWN && m->reason != SCHEDPLAN_LATE &&
	    m->reason != SCHEDPLAN_TARGET_OFFLINE)
		return "";
	if (catch_up)
		return "; one catch-up run follows (misfire run_once)";
	return misfire == MISFIRE_SKIP ? "; no catch-up (misfire skip)" : "";
}

const char *
schedplan_miss_text(const struct schedplan_miss *m, const struct tz *tz,
    enum misfire_policy misfire, int catch_up, char *buf, size_t size)
{
	char a[40], b[40], c[40];

	if (m->reason == SCHEDPLAN_DST_GAP) {
		/* The run they collapsed into may have been refused: its own
		 * overlap record then says so, and this one must agree. */
		snprintf(buf, size,
		    "missed %lld wall time%s from %s to %s "
		    "(%s): inside a DST gap they do not exist; %s %s%s",
		    (long long)m->count, m->count == 1 ? "" : "s",
		    tz_format_local(m->first_local, a, sizeof(a)),
		    tz_format_local(m->last_local, b, sizeof(b)), tz_name(tz),
		    m->refused ? "the one run standing for them, due at"
			       : "the schedule ran once at",
		    tz_format_rfc3339(tz, m->first, c, sizeof(c)),
		    m->refused ? ", did not run either: the job was still "
				 "running and its overlap policy refuses a "
				 "second run"
			       : "");
		return buf;
	}
	tz_format_rfc3339(tz, m->first, a, sizeof(a));
	tz_format_rfc3339(tz, m->last, b, sizeof(b));
	if (m->count == 1 && !m->more)
		snprintf(buf, size, "missed the due instant %s: %s%s", a,
		    reason_text(m->reason), policy_text(m, misfire, catch_up));
	else
		snprintf(buf, size,
		    "missed %s%lld due instants from %s to "
		    "%s: %s%s",
		    m->more ? "more than " : "", (long long)m->count, a, b,
		    reason_text(m->reason), policy_text(m, misfire, catch_up));
	return buf;
}

int
schedplan_idle_step(struct schedplan_idle *st, double load, double threshold,
    int64_t idle_for_s, int64_t now_ms)
{
	if (load >= threshold) {
		st->below = 0;
		st->fired = 0;
		return 0;
	}
	if (!st->below) {
		st->below = 1;
		st->below_since_ms = now_ms;
	}
	if (st->fired || now_ms - st->below_since_ms < idle_for_s * 1000)
		return 0;
	st->fired = 1;
	return 1;
}

int64_t
schedplan_clock_skew_ms(
    int64_t wall0_ms, int64_t mono0_ms, int64_t wall1_ms, int64_t mono1_ms)
{
	return (wall1_ms - wall0_ms) - (mono1_ms - mono0_ms);
}
