/*
 * scheduler: this target's schedules on the event loop (see scheduler.h;
 * the decisions are schedplan.c's).
 *
 * In memory: every job's parsed document and one entry per enabled
 * schedule, with its zone loaded once. In the store: per (job, schedule)
 * the cursor (every due instant at or before it is handled), whether the
 * job was disabled, and overlap refusals not yet recorded. An entry is
 * evaluated when its next instant is due, when jobs change, and after a
 * wall-clock jump; each evaluation is one store transaction.
 */
#include "target/scheduler.h"
#include "target/sched_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "common/tzlocal.h"
#include "target/runlog.h"
#include "target/schedplan.h"
#include "target/tstore.h"

#define SCHED_TICK_MS 1000
#define SCHED_JUMP_MS 5000 /* a clock step, not NTP slewing */
#define JUMP_EVENTS_PER_WINDOW 3
#define JUMP_WINDOW_MS (10 * 60 * 1000)
#define SCHED_MAX_WAIT_MS 60000 /* look again at least this often */
/* Due instants are handled this much ahead: the run is recorded running
 * (one fsync), its first step forked and its process group recorded, and
 * the step then waits for the instant itself (runner_spec.not_before_ms)
 * and execs on it, rather than 10-20 ms after it. Enough for that work
 * on a slow disk; a lead too short only makes the step late, as before. */
#define SCHED_LEAD_MS 50
/* An entry whose evaluation failed (the store) is tried again after this. */
#define SCHED_RETRY_S 2
#define LOADAVG_PATH "/proc/loadavg"

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
clock_kind(const struct schedule *s)
{
	return s->kind != SCHED_START && s->kind != SCHED_ON_IDLE;
}

static void
entries_free(
    struct sched_entry *e, size_t n, struct sched_job *jobs, size_t njobs)
{
	for (size_t i = 0; i < n; i++)
		tz_free(e[i].tz);
	free(e);
	for (size_t i = 0; i < njobs; i++)
		job_free(jobs[i].job);
	free(jobs);
}

static struct sched_entry *
find_entry(struct sched_entry *e, size_t n, const char *job, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].job->name, job) == 0 &&
		    strcmp(e[i].s->name, s) == 0)
			return &e[i];
	return NULL;
}

/* ---- evaluation -------------------------------------------------------- */

/* The run is claimed before the records are written: they say what
 * became of it ("one catch-up run follows", "the schedule ran once at"),
 * and an overlap refusal has a record of its own that they must not
 * contradict. */
static int
apply_plan(struct scheduler *sc, struct sched_entry *e,
    const struct schedplan_out *out, struct tstore_sched *row, struct cerr *err)
{
	int claimed = 0;

	if (out->run_due != 0) {
		claimed = sched_add_due_run(sc, e, out->run_due, row, err);
		if (claimed < 0)
			return -1;
	}
	for (int i = 0; i < out->nmiss; i++) {
		struct schedplan_miss m = out->miss[i];
		int gap = m.reason == SCHEDPLAN_DST_GAP;

		m.refused = gap && !claimed;
		if (sched_write_miss(
			sc, e, &m, claimed && out->catch_up && !gap, err) < 0)
			return -1;
	}
	return 0;
}

/* The instants up to this one (s) are handled now: SCHED_LEAD_MS ahead. */
static int64_t
handled_until(void)
{
	return (timefmt_now_ms() + SCHED_LEAD_MS) / 1000;
}

/* Brings e's state (row, as read) up to `ahead` (handled_until()) without
 * writing: *out gets the plan when one was made (*planned). Returns
 * whether the state changed and must be written. */
static int
eval_state(struct scheduler *sc, struct sched_entry *e,
    struct tstore_sched *row, int found, int64_t now, int64_t ahead,
    struct schedplan_out *out, int *planned)
{
	/* A job disabled now runs nothing, whenever it was disabled. */
	struct schedplan_in in = {e->s, e->tz, sc->utc, row->cursor, ahead,
	    sc->t->started_at, sc->t->conf->misfire_grace_s, e->job->misfire,
	    row->paused || !e->job->enabled, sc->t->booted_at};
	int changed;

	*planned = 0;
	if (!found || row->def_hash != e->def_hash) {
		/* New or redefined: nothing before now was due (an instant
		 * within the lead is not "before"). Overlap refusals held
		 * under the old definition stay held: they are instants
		 * that did not run, recorded when the blocking run ends. */
		struct tstore_sched held = *row;

		memset(row, 0, sizeof(*row));
		if (found) {
			row->miss_first = held.miss_first;
			row->miss_last = held.miss_last;
			row->miss_count = held.miss_count;
		}
		row->def_hash = e->def_hash;
		row->cursor = now;
		row->paused = !e->job->enabled;
		return 1;
	}
	if (row->paused && !e->job->enabled)
		return 0;
	schedplan_step(&in, out);
	*planned = 1;
	/* Nothing due: the cursor may stay behind, (cursor, now] holds no
	 * instant, so a write (and its fsync) is saved. */
	changed = out->run_due != 0 || out->nmiss > 0 ||
	    row->paused != !e->job->enabled;
	row->cursor = out->cursor;
	row->paused = !e->job->enabled;
	return changed;
}

/* Writes what eval_state decided, in one transaction. Unless it may
 * hold a record for the master (a missed or refused run), the commit does
 * not wait for the disk: a power cut may lose the cursor and a queued
 * run, and nothing else, so the next start evaluates the same instants
 * again and nothing has run twice. A queued run is made durable by the
 * commit that marks it running before it execs (runs.c), so one fsync
 * lies between a due instant and its process. */
static int
write_state(struct scheduler *sc, struct sched_entry *e,
    struct tstore_sched *row, const struct schedplan_out *out, struct cerr *err)
{
	int records = out != NULL && (out->nmiss > 0 || row->miss_count > 0);

	if ((records ? tstore_begin(sc->t->store, err)
		     : tstore_begin_unsynced(sc->t->store, err)) < 0)
		return -1;
	if ((out != NULL && apply_plan(sc, e, out, row, err) < 0) ||
	    tstore_sched_put(sc->t->store, e->job->name, e->s->name, row, err) <
		0 ||
	    tstore_commit(sc->t->store, err) < 0) {
		tstore_rollback(sc->t->store);
		return -1;
	}
	return 0;
}

static int
eval_entry(struct scheduler *sc, struct sched_entry *e, int64_t now,
    int64_t ahead, struct cerr *err)
{
	struct tstore_sched row;
	struct schedplan_out out;
	struct schedule_due due;
	int found, planned;

	if (tstore_sched_get(
		sc->t->store, e->job->name, e->s->name, &row, &found, err) < 0)
		return -1;
	if (eval_state(sc, e, &row, found, now, ahead, &out, &planned) &&
	    write_state(sc, e, &row, planned ? &out : NULL, err) < 0)
		return -1;
	schedule_next_due(
	    e->s, e->tz, row.cursor > now ? row.cursor : now, &due);
	e->next = e->job->enabled ? due.utc : 0;
	return 0;
}

/* Runs what the flags collected during evaluation ask for. */
static void
after_eval(struct scheduler *sc)
{
	if (sc->kick)
		runs_kick(sc->t);
	if (sc->upload)
		upload_kick(sc->t);
	sc->kick = sc->upload = 0;
}

static void
eval_due(struct scheduler *sc, int all)
{
	int64_t now = timefmt_now_s();
	int64_t ahead = handled_until();
	struct cerr err;

	for (size_t i = 0; i < sc->n; i++) {
		struct sched_entry *e = &sc->e[i];

		if (!clock_kind(e->s) ||
		    (!all && (e->next == 0 || e->next > ahead)))
			continue;
		if (eval_entry(sc, e, now, ahead, &err) < 0) {
			/* The store failed (a full disk, a lock): asked again
			 * a little later, not at once and not in a loop, and
			 * logged once per interval. Nothing is lost: the
			 * entry's cursor is in the store, so the instants
			 * passed meanwhile are caught up as after a stop. */
			if (err.code == CERR_STORE)
				target_store_failed(sc->t, &err);
			else
				log_error("schedule",
				    "job=%s schedule=%s msg=%s", e->job->name,
				    e->s->name, LOG_TEXT(err.msg));
			e->next = now + SCHED_RETRY_S;
		}
	}
	after_eval(sc);
}

static void
arm(struct scheduler *sc)
{
	int64_t next = 0, now_ms = timefmt_now_ms(), wait_ms;
	struct timeval tv;

	for (size_t i = 0; i < sc->n; i++)
		if (sc->e[i].next != 0 && (next == 0 || sc->e[i].next < next))
			next = sc->e[i].next;
	wait_ms = next != 0 ? next * 1000 - SCHED_LEAD_MS - now_ms
			    : SCHED_MAX_WAIT_MS;
	if (wait_ms > SCHED_MAX_WAIT_MS)
		wait_ms = SCHED_MAX_WAIT_MS;
	if (wait_ms < 0)
		wait_ms = 0;
	tv.tv_sec = (time_t)(wait_ms / 1000);
	tv.tv_usec = (suseconds_t)(wait_ms % 1000) * 1000;
	evtimer_add(sc->timer, &tv);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct scheduler *sc = arg;

	eval_due(sc, 0);
	arm(sc);
}

/* ---- start, idle and the clock ---------------------------------------- */

/* Adds a run of a "start" or "idle" schedule, due now, unless `due`
 * lies outside the schedule's dates. */
static void
run_now(struct scheduler *sc, struct sched_entry *e, int64_t due)
{
	struct cerr err;

	if (!schedplan_in_dates(e->s, e->tz, due)) {
		log_info("run_outside_dates", "job=%s schedule=%s due=%lld",
		    e->job->name, e->s->name, (long long)due);
		return;
	}
	if (tstore_begin(sc->t->store, &err) < 0 ||
	    sched_add_due_run(sc, e, due, NULL, &err) < 0 ||
	    tstore_commit(sc->t->store, &err) < 0) {
		tstore_rollback(sc->t->store);
		log_error("schedule", "job=%s schedule=%s msg=%s", e->job->name,
		    e->s->name, LOG_TEXT(err.msg));
	}
}

/* The one-minute load average; -1 when it cannot be read. */
static double
load_average(void)
{
	FILE *f = fopen(LOADAVG_PATH, "re");
	double load = -1;

	if (f == NULL)
		return -1;
	if (fscanf(f, "%lf", &load) != 1)
		load = -1;
	fclose(f);
	return load;
}

static void
sample_idle(struct scheduler *sc, int64_t now_ms)
{
	double load = -2;

	for (size_t i = 0; i < sc->n; i++) {
		struct sched_entry *e = &sc->e[i];

		if (e->s->kind != SCHED_ON_IDLE || !e->job->enabled)
			continue;
		if (load == -2)
			load = load_average();
		if (load >= 0 &&
		    schedplan_idle_step(&e->idle, load, e->s->idle_load,
			e->s->idle_for_s, now_ms)) {
			log_info("idle", "job=%s schedule=%s load=%.2f",
			    e->job->name, e->s->name, load);
			/* now_ms is the monotonic clock (the idle span's
			 * measure); the run is due now on the wall clock */
			run_now(sc, e, timefmt_now_s());
		}
	}
	after_eval(sc);
}

/* An operator hears of a jump on the master, not only in this machine's
 * log: due times moved under the schedules. A clock that keeps stepping
 * (a broken time sync) raises at most JUMP_EVENTS_PER_WINDOW events per
 * window; the next one counts those held back. */
static void
report_jump(struct scheduler *sc, int64_t skew_ms, int64_t mono)
{
	char held[64] = "";

	if (sc->jump_events == 0 ||
	    mono - sc->jump_window_ms >= JUMP_WINDOW_MS) {
		sc->jump_window_ms = mono;
		sc->jump_events = 0;
	}
	if (sc->jump_events == JUMP_EVENTS_PER_WINDOW) {
		sc->jumps_held++;
		return;
	}
	sc->jump_events++;
	if (sc->jumps_held > 0)
		snprintf(held, sizeof(held),
		    " (and %d jump%s not reported before)", sc->jumps_held,
		    sc->jumps_held == 1 ? "" : "s");
	sc->jumps_held = 0;
	events_raise(sc->t, EVENT_WARNING, EVENT_CLOCK_JUMP, NULL, 0,
	    "the wall clock moved %lld ms %s the monotonic clock (set by hand, "
	    "or a time sync stepped it); schedules were computed again%s",
	    (long long)(skew_ms < 0 ? -skew_ms : skew_ms),
	    skew_ms < 0 ? "behind" : "ahead of", held);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct scheduler *sc = arg;
	int64_t wall = timefmt_now_ms(), mono = mono_ms();
	int64_t skew =
	    schedplan_clock_skew_ms(sc->wall_ms, sc->mono_ms, wall, mono);

	sc->wall_ms = wall;
	sc->mono_ms = mono;
	if (skew > SCHED_JUMP_MS || skew < -SCHED_JUMP_MS) {
		log_warn("clock_jump",
		    "skew_ms=%lld msg=\"the wall clock "
		    "moved %lld ms %s the monotonic clock; schedules are "
		    "computed again\"",
		    (long long)skew, (long long)(skew < 0 ? -skew : skew),
		    skew < 0 ? "behind" : "ahead of");
		report_jump(sc, skew, mono);
		eval_due(sc, 1);
		arm(sc);
	}
	sample_idle(sc, mono);
}

/* ---- loading ------------------------------------------------------------ */

static int
add_entry(struct scheduler *sc, struct sched_entry **e, size_t *n,
    const struct sched_job *sj, const struct schedule *s, struct cerr *err)
{
	struct sched_entry *grown = realloc(*e, (*n + 1) * sizeof(**e));
	struct sched_entry *x;

	if (grown == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	*e = grown;
	x = &grown[*n];
	memset(x, 0, sizeof(*x));
	x->job = sj->job;
	x->s = s;
	x->local = sj->local;
	/* Every kind needs its zone: "start" and "idle" ones for their
	 * dates and the times in their records. A schedule without a zone
	 * gets a copy of the machine's, not a load by its name: a zone read
	 * from /etc/localtime may have none that loads. */
	if ((s->time_zone != NULL ? tz_load(s->time_zone, &x->tz, err)
				  : tz_copy(sc->local, &x->tz, err)) < 0)
		return cerr_wrap(
		    err, "job %s schedule %s", sj->job->name, s->name);
	if (clock_kind(s))
		x->def_hash = schedplan_def_hash(s);
	(*n)++;
	return 0;
}

struct load_ctx {
	struct scheduler *sc;
	struct sched_job *jobs;
	size_t njobs;
	struct sched_entry *e;
	size_t n;
};

static int
load_cb(void *arg, const char *name, enum job_origin origin, const char *doc)
{
	struct load_ctx *lc = arg;
	struct sched_job *grown, *sj;
	struct cerr err;

	grown = realloc(lc->jobs, (lc->njobs + 1) * sizeof(*lc->jobs));
	if (grown == NULL) {
		log_error("schedule", "msg=\"out of memory\"");
		return 1;
	}
	lc->jobs = grown;
	sj = &grown[lc->njobs];
	sj->local = origin == ORIGIN_LOCAL;
	if (jobdoc_parse(doc, strlen(doc), &sj->job, &err) < 0) {
		log_error("schedule", "job=%s msg=%s", name, LOG_TEXT(err.msg));
		return 0;
	}
	lc->njobs++;
	for (size_t i = 0; i < sj->job->nschedules; i++) {
		const struct schedule *s = sj->job->schedules[i];

		if (s->enabled &&
		    add_entry(lc->sc, &lc->e, &lc->n, sj, s, &err) < 0)
			log_error("schedule", "msg=%s", LOG_TEXT(err.msg));
	}
	return 0;
}

struct stale {
	char job[JOB_NAME_MAX + 1];
	char schedule[JOB_NAME_MAX + 1];
	struct tstore_sched row;
};

struct stale_list {
	struct scheduler *sc;
	struct stale items[64];
	int n;
};

static int
stale_cb(void *arg, const char *job, const char *schedule,
    const struct tstore_sched *row)
{
	struct stale_list *sl = arg;
	struct sched_entry *e = find_entry(sl->sc->e, sl->sc->n, job, schedule);

	if (e != NULL && clock_kind(e->s))
		return 0;
	snprintf(sl->items[sl->n].job, sizeof(sl->items[0].job), "%s", job);
	snprintf(sl->items[sl->n].schedule, sizeof(sl->items[0].schedule), "%s",
	    schedule);
	sl->items[sl->n].row = *row;
	return ++sl->n == (int)(sizeof(sl->items) / sizeof(sl->items[0]));
}

/* Overlap refusals held under a schedule that is gone (deleted, renamed
 * or disabled) become their record now, under the job that is still
 * there: the schedule's end would otherwise lose them. A deleted job
 * takes them with it, as it takes its schedules. */
static int
flush_stale(struct scheduler *sc, const struct stale *st, struct cerr *err)
{
	struct schedplan_miss m = {SCHEDPLAN_OVERLAP, st->row.miss_first,
	    st->row.miss_last, 0, 0, st->row.miss_count, 0, 0};
	const struct sched_job *sj = NULL;
	char msg[RUNREC_MESSAGE_MAX];

	for (size_t i = 0; i < sc->njobs && st->row.miss_count > 0; i++)
		if (strcmp(sc->jobs[i].job->name, st->job) == 0)
			sj = &sc->jobs[i];
	if (sj == NULL)
		return 0;
	schedplan_miss_text(&m, sc->utc, sj->job->misfire, 0, msg, sizeof(msg));
	snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
	    " [schedule %s, since removed or disabled, reason: %s]",
	    st->schedule, schedplan_reason_name(m.reason));
	sc->upload = 1;
	return runlog_missed(
	    sc->t, sj->job->name, sj->local, sj->job, m.first * 1000, msg, err);
}

/* Forgets the state of schedules that are gone or disabled: one coming
 * back starts afresh. */
static int
drop_stale(struct scheduler *sc, struct cerr *err)
{
	struct stale_list sl;

	do {
		sl.sc = sc;
		sl.n = 0;
		if (tstore_sched_list(sc->t->store, stale_cb, &sl, err) < 0)
			return -1;
		for (int i = 0; i < sl.n; i++) {
			if (tstore_begin(sc->t->store, err) < 0)
				return -1;
			if (flush_stale(sc, &sl.items[i], err) < 0 ||
			    tstore_sched_delete(sc->t->store, sl.items[i].job,
				sl.items[i].schedule, err) < 0 ||
			    tstore_commit(sc->t->store, err) < 0) {
				tstore_rollback(sc->t->store);
				return -1;
			}
		}
	} while (sl.n == (int)(sizeof(sl.items) / sizeof(sl.items[0])));
	return 0;
}

/* Idle periods survive a reload: a job edit does not restart them. */
static void
keep_idle(struct scheduler *sc, struct sched_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct sched_entry *old =
		    find_entry(sc->e, sc->n, e[i].job->name, e[i].s->name);

		if (old != NULL)
			e[i].idle = old->idle;
	}
}

void
scheduler_reload(struct target *t)
{
	struct scheduler *sc = t->sched;
	struct load_ctx lc = {sc, NULL, 0, NULL, 0};
	struct cerr err;

	if (sc == NULL)
		return;
	if (tstore_job_list(t->store, load_cb, &lc, &err) < 0) {
		log_error("schedule", "msg=%s", LOG_TEXT(err.msg));
		entries_free(lc.e, lc.n, lc.jobs, lc.njobs);
		return;
	}
	keep_idle(sc, lc.e, lc.n);
	entries_free(sc->e, sc->n, sc->jobs, sc->njobs);
	sc->e = lc.e;
	sc->n = lc.n;
	sc->jobs = lc.jobs;
	sc->njobs = lc.njobs;
	if (drop_stale(sc, &err) < 0)
		log_error("schedule", "msg=%s", LOG_TEXT(err.msg));
	eval_due(sc, 1);
	arm(sc);
}

void
scheduler_run_ended(struct target *t, const char *job)
{
	struct scheduler *sc = t->sched;
	struct tstore_sched row;
	struct cerr err;
	int found;

	for (size_t i = 0; sc != NULL && i < sc->n; i++) {
		struct sched_entry *e = &sc->e[i];

		if (!clock_kind(e->s) || strcmp(e->job->name, job) != 0)
			continue;
		if (tstore_sched_get(
			t->store, job, e->s->name, &row, &found, &err) < 0) {
			log_error("schedule", "job=%s msg=%s", job,
			    LOG_TEXT(err.msg));
			continue;
		}
		if (!found || row.miss_count == 0)
			continue;
		if (tstore_begin(t->store, &err) < 0 ||
		    sched_flush_overlap(sc, e, &row, &err) < 0 ||
		    tstore_sched_put(t->store, job, e->s->name, &row, &err) <
			0 ||
		    tstore_commit(t->store, &err) < 0) {
			tstore_rollback(t->store);
			log_error("schedule", "job=%s msg=%s", job,
			    LOG_TEXT(err.msg));
		}
	}
	if (sc != NULL)
		after_eval(sc);
}

int64_t
scheduler_next(const struct target *t, const char *job, const char *schedule)
{
	const struct scheduler *sc = t->sched;
	struct sched_entry *e;

	if (sc == NULL)
		return 0;
	e = find_entry(sc->e, sc->n, job, schedule);
	return e != NULL ? e->next : 0;
}

const struct tz *
scheduler_zone(const struct target *t)
{
	return t->sched != NULL ? t->sched->local : NULL;
}

/* The machine's zone as localtime() has it. When /etc/localtime is there
 * but unusable, glibc runs on UTC, and so do the schedules, said aloud. */
static int
load_zone(struct scheduler *sc, struct cerr *err)
{
	struct cerr why;

	if (tzlocal_load(NULL, &sc->local, &why) == 0)
		return 0;
	log_warn("scheduler",
	    "msg=\"%s; schedules without a time zone run in UTC, as "
	    "localtime() does\"",
	    why.msg);
	return tz_load("UTC", &sc->local, err);
}

static void
run_start_schedules(struct scheduler *sc)
{
	for (size_t i = 0; i < sc->n; i++)
		if (sc->e[i].s->kind == SCHED_START && sc->e[i].job->enabled)
			run_now(sc, &sc->e[i], sc->t->started_at);
	after_eval(sc);
}

int
scheduler_start(struct target *t, struct cerr *err)
{
	struct scheduler *sc = calloc(1, sizeof(*sc));
	struct timeval tick = {
	    SCHED_TICK_MS / 1000, (SCHED_TICK_MS % 1000) * 1000};

	if (sc == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	t->sched = sc;
	sc->t = t;
	sc->wall_ms = timefmt_now_ms();
	sc->mono_ms = mono_ms();
	sc->timer = evtimer_new(t->base, timer_cb, sc);
	sc->tick = event_new(t->base, -1, EV_PERSIST, tick_cb, sc);
	if (sc->timer == NULL || sc->tick == NULL ||
	    event_add(sc->tick, &tick) < 0)
		return cerr_set(err, CERR_INTERNAL,
		    "scheduler: cannot add "
		    "timers");
	if (tz_load("UTC", &sc->utc, err) < 0 || load_zone(sc, err) < 0)
		return -1;
	log_info("scheduler", "zone=%s grace_s=%lld", tz_name(sc->local),
	    (long long)t->conf->misfire_grace_s);
	scheduler_reload(t);
	run_start_schedules(sc);
	return 0;
}

void
scheduler_stop(struct target *t)
{
	struct scheduler *sc = t->sched;

	if (sc == NULL)
		return;
	if (sc->timer != NULL)
		event_free(sc->timer);
	if (sc->tick != NULL)
		event_free(sc->tick);
	entries_free(sc->e, sc->n, sc->jobs, sc->njobs);
	tz_free(sc->utc);
	tz_free(sc->local);
	free(sc);
	t->sched = NULL;
}
