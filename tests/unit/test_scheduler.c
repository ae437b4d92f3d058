/*
 * Unit tests for the scheduler wired to a real local store, without a
 * running daemon: what a start-up after three days down leaves in the
 * run ledger, the local history and the outbox, for each misfire policy,
 * a local job, a disabled job, an overlapping run and a "start" schedule;
 * and that starting again changes nothing (every due instant is handled
 * once). Then two schedules due at one instant, records that must agree
 * with an overlap refusal, and the dates of "start" and "idle" schedules.
 * The run queue (runs.c) is tested on the same fixture, with a runner and
 * the event loop dispatched where runs must really go: runs waiting
 * behind a busy job hide no other job's, and a report too big for the
 * store is recorded shrunk instead of waiting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "common/log.h"
#include "common/runner.h"
#include "common/timefmt.h"
#include "target/schedplan.h"
#include "target/scheduler.h"
#include "target/target.h"
#include "target/tstore.h"
#include "target/tstore_db.h"

#define NCASES(t) (sizeof(t) / sizeof((t)[0]))
#define DAY 86400

struct fixture {
	char dir[64];
	struct conf conf;
	struct target t;
};

static struct fixture *
fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[128];
	struct cerr err;

	assert_non_null(f);
	strcpy(f->dir, "/tmp/cohort-sched-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	conf_defaults(&f->conf);
	strcpy(f->conf.name, "web-1");
	strcpy(f->conf.state_dir, f->dir);
	f->conf.misfire_grace_s = 0;
	f->t.conf = &f->conf;
	f->t.started_at = timefmt_now_s();
	f->t.base = event_base_new();
	snprintf(path, sizeof(path), "%s/target.db", f->dir);
	assert_non_null(f->t.base);
	f->t.runner = runner_new(f->t.base, &err);
	if (f->t.runner == NULL || tstore_open(path, &f->t.store, &err) < 0 ||
	    runs_recover(&f->t, &err) < 0)
		fail_msg("fixture: %s", err.msg);
	return f;
}

static void
fixture_free(struct fixture *f)
{
	char cmd[128];

	scheduler_stop(&f->t);
	runs_shutdown(&f->t);
	runner_free(f->t.runner);
	tstore_close(f->t.store);
	event_base_free(f->t.base);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
}

/* A daily schedule due 12 hours from now's time of day, so three days
 * back from now hold exactly three due instants, the last 12 h ago. */
static void
job_doc(char *buf, size_t size, const char *sched, const char *extra)
{
	int64_t tod = (timefmt_now_s() + DAY / 2) % DAY;
	char daily[256];

	snprintf(daily, sizeof(daily),
	    "{\"name\":\"d\",\"kind\":\"daily\","
	    "\"every_days\":1,\"at\":\"%02d:%02d:%02d\",\"time_zone\":"
	    "\"UTC\"}",
	    (int)(tod / 3600), (int)(tod / 60 % 60), (int)(tod % 60));
	snprintf(buf, size,
	    "{\"name\":\"j\",\"steps\":[{\"command\":"
	    "\"true\"}],\"schedules\":[%s]%s}",
	    sched ? sched : daily, extra);
}

/* Puts the job and, when cursor_ago_s > 0, its schedule state as left by
 * a daemon that stopped that long ago. */
static void
put_job(struct fixture *f, const char *doc, int local, int64_t cursor_ago_s)
{
	struct tstore_sched row = {0, 0, 0, 0, 0, 0};
	struct job *job = NULL;
	struct cerr err;

	if (jobdoc_parse(doc, strlen(doc), &job, &err) < 0 ||
	    tstore_job_put(f->t.store, "j",
		local ? ORIGIN_LOCAL : ORIGIN_MASTER, doc, 1, &err) < 0)
		fail_msg("put job: %s", err.msg);
	row.def_hash =
	    job->nschedules > 0 ? schedplan_def_hash(job->schedules[0]) : 0;
	row.cursor = timefmt_now_s() - cursor_ago_s;
	if (cursor_ago_s > 0 &&
	    tstore_sched_put(f->t.store, "j", "d", &row, &err) < 0)
		fail_msg("put sched: %s", err.msg);
	job_free(job);
}

struct seen {
	int queued;
	int64_t due_at;
	int missed;
	char message[4][512];
};

static int
queued_cb(void *arg, const struct tstore_run *row)
{
	((struct seen *)arg)->queued++;
	((struct seen *)arg)->due_at = row->due_at;
	return 0;
}

static int
hist_cb(void *arg, const struct tstore_hist_row *r)
{
	struct seen *s = arg;
	json_t *v = json_loads(r->report, 0, NULL);

	assert_non_null(v);
	assert_string_equal(r->outcome, "missed");
	snprintf(s->message[s->missed++ % 4], sizeof(s->message[0]), "%s",
	    json_string_value(json_object_get(v, "message")));
	json_decref(v);
	return 0;
}

static void
look(struct fixture *f, struct seen *s, int64_t *outbox)
{
	int64_t dropped;
	struct cerr err;

	memset(s, 0, sizeof(*s));
	if (tstore_run_list_state(f->t.store, TRUN_QUEUED, queued_cb, s, &err) <
		0 ||
	    tstore_hist_list(f->t.store, NULL, 100, hist_cb, s, &err) < 0 ||
	    tstore_outbox_stats(f->t.store, outbox, &dropped, &err) < 0)
		fail_msg("look: %s", err.msg);
}

struct case_ {
	const char *what;
	const char *sched; /* NULL: the daily schedule */
	const char *extra; /* more job members */
	int local;
	int64_t cursor_ago_s; /* 0: a new job */
	int busy; /* a run of the job is queued already */
	int want_queued, want_missed, want_outbox;
	const char *want_message; /* in the newest record */
	int restart_missed; /* more records after a restart */
};

#define START "{\"name\":\"d\",\"kind\":\"start\"}"
#define START_DATES(dates) "{\"name\":\"d\",\"kind\":\"start\"," dates "}"

static const struct case_ cases[] = {
    {"run_once", NULL, "", 0, 3 * DAY, 0, 1, 1, 1,
	"missed 2 due instants from ", 0},
    {"run_once message", NULL, "", 0, 3 * DAY, 0, 1, 1, 1,
	"the target daemon was not running; one catch-up run follows "
	"(misfire run_once) [schedule d, reason: daemon down]",
	0},
    {"skip", NULL, ",\"misfire\":\"skip\"", 0, 3 * DAY, 0, 0, 1, 1,
	"missed 3 due instants", 0},
    {"local job: not uploaded", NULL, "", 1, 3 * DAY, 0, 1, 1, 0,
	"missed 2 due instants", 0},
    {"disabled", NULL, ",\"enabled\":false", 0, 3 * DAY, 0, 0, 1, 1,
	"the job was disabled", 0},
    {"new job: nothing was due", NULL, "", 0, 0, 0, 0, 0, 0, NULL, 0},
    {"nothing due in between", NULL, "", 0, 3600, 0, 0, 0, 0, NULL, 0},
    /* the catch-up is held back as an overlap refusal (see below) */
    {"overlap refuse", NULL, "", 0, 3 * DAY, 1, 1, 1, 1, "daemon down", 0},
    /* a run already waits: the queue holds one */
    {"overlap queue", NULL, ",\"overlap\":\"queue\"", 0, 3 * DAY, 1, 1, 1, 1,
	"daemon down", 0},
    /* the second start finds the first still queued: refused, recorded */
    {"start schedule", START, "", 0, 0, 0, 1, 0, 0, NULL, 1},
    {"start schedule, disabled job", START, ",\"enabled\":false", 0, 0, 0, 0, 0,
	0, NULL, 0},
    /* the start-up instant must lie within start_date..end_date */
    {"start schedule past its end_date",
	START_DATES("\"end_date\":\"2024-01-01\""), "", 0, 0, 0, 0, 0, 0, NULL,
	0},
    {"start schedule before its start_date",
	START_DATES("\"start_date\":\"9999-12-31\""), "", 0, 0, 0, 0, 0, 0,
	NULL, 0},
    {"start schedule within its dates",
	START_DATES("\"start_date\":\"2024-01-01\",\"end_date\":\"9999-12-"
		    "31\""),
	"", 0, 0, 0, 1, 0, 0, NULL, 1},
};

static void
run_case(const struct case_ *c)
{
	struct fixture *f = fixture_new();
	int64_t outbox, run_id;
	char doc[1024];
	struct seen s, again;
	struct cerr err;
	int existed;

	job_doc(doc, sizeof(doc), c->sched, c->extra);
	put_job(f, doc, c->local, c->cursor_ago_s);
	if (c->busy &&
	    tstore_run_add(
		f->t.store, "j", 0, 99, 0, 1, &run_id, &existed, &err) < 0)
		fail_msg("%s: %s", c->what, err.msg);
	if (scheduler_start(&f->t, &err) < 0)
		fail_msg("%s: %s", c->what, err.msg);
	look(f, &s, &outbox);
	if (s.queued != c->want_queued || s.missed != c->want_missed ||
	    outbox != c->want_outbox)
		fail_msg("%s: queued %d missed %d outbox %lld, want %d %d %d",
		    c->what, s.queued, s.missed, (long long)outbox,
		    c->want_queued, c->want_missed, c->want_outbox);
	if (c->want_message != NULL &&
	    strstr(s.message[0], c->want_message) == NULL)
		fail_msg("%s: message '%s' lacks '%s'", c->what, s.message[0],
		    c->want_message);
	/* A restart handles nothing twice. */
	scheduler_stop(&f->t);
	f->t.started_at++;
	if (scheduler_start(&f->t, &err) < 0)
		fail_msg("%s: %s", c->what, err.msg);
	look(f, &again, &outbox);
	if (again.queued != s.queued ||
	    again.missed != s.missed + c->restart_missed)
		fail_msg("%s: after a restart queued %d missed %d", c->what,
		    again.queued, again.missed);
	fixture_free(f);
}

static void
test_startup_cases(void **state)
{
	log_setup("test", LOG_LVL_ERROR, 0);
	for (size_t i = 0; i < NCASES(cases); i++)
		run_case(&cases[i]);
}

/* Overlap refusals are held while the run goes on and become one record
 * when it ends. */
static void
test_overlap_held_until_run_ends(void **state)
{
	struct fixture *f = fixture_new();
	int64_t outbox, run_id;
	char doc[1024];
	struct seen s;
	struct cerr err;
	int existed;

	log_setup("test", LOG_LVL_ERROR, 0);
	job_doc(doc, sizeof(doc), NULL, "");
	put_job(f, doc, 0, 3 * DAY);
	assert_int_equal(tstore_run_add(f->t.store, "j", 0, 99, 0, 1, &run_id,
			     &existed, &err),
	    0);
	assert_int_equal(scheduler_start(&f->t, &err), 0);
	scheduler_run_ended(&f->t, "j");
	look(f, &s, &outbox);
	assert_int_equal(s.missed, 2);
	assert_non_null(strstr(s.message[0], "overlap policy refuses"));
	assert_non_null(strstr(s.message[0], "missed the due instant"));
	/* nothing more held */
	scheduler_run_ended(&f->t, "j");
	look(f, &s, &outbox);
	assert_int_equal(s.missed, 2);
	fixture_free(f);
}

struct kept {
	int run_records; /* outbox records of kind "run" */
	int hist_rows;
	int hist_local;
	char outcome[32];
};

static int
outbox_run_cb(void *arg, int64_t seq, const char *kind, const char *body)
{
	((struct kept *)arg)->run_records += strcmp(kind, "run") == 0;
	return 0;
}

static int
hist_local_cb(void *arg, const struct tstore_hist_row *r)
{
	struct kept *k = arg;

	k->hist_rows++;
	k->hist_local += r->local;
	snprintf(k->outcome, sizeof(k->outcome), "%s", r->outcome);
	return 0;
}

/* A queued run keeps its origin: when its local job is deleted before it
 * can start, it ends failed in the local history only, and is never put
 * in the outbox for the master as if it were a multiserver job's. */
static void
test_run_of_deleted_local_job_stays_local(void **state)
{
	struct fixture *f = fixture_new();
	struct kept k = {0, 0, 0, ""};
	char doc[1024];
	struct cerr err;
	int64_t run_id;
	int existed;

	log_setup("test", LOG_LVL_ERROR, 0);
	job_doc(doc, sizeof(doc), NULL, "");
	put_job(f, doc, 1, 0);
	assert_int_equal(tstore_run_add(f->t.store, "j", 1, 0, 0,
			     timefmt_now_s(), &run_id, &existed, &err),
	    0);
	assert_int_equal(
	    tstore_job_delete(f->t.store, "j", ORIGIN_LOCAL, NULL, &err), 0);
	runs_kick(&f->t);
	assert_true(event_base_loop(f->t.base, EVLOOP_NONBLOCK) >= 0);
	assert_int_equal(
	    tstore_outbox_peek(f->t.store, 100, outbox_run_cb, &k, &err), 0);
	assert_int_equal(
	    tstore_hist_list(f->t.store, NULL, 100, hist_local_cb, &k, &err),
	    0);
	assert_int_equal(k.run_records, 0);
	assert_int_equal(k.hist_rows, 1);
	assert_int_equal(k.hist_local, 1);
	assert_string_equal(k.outcome, "failed");
	fixture_free(f);
}

struct outcomes {
	int rows;
	int canceled;
	int interrupted_lost;
};

static int
outcome_cb(void *arg, const struct tstore_hist_row *r)
{
	struct outcomes *o = arg;

	o->rows++;
	o->canceled += strcmp(r->outcome, "canceled") == 0;
	o->interrupted_lost += strcmp(r->outcome, "interrupted") == 0 &&
	    strstr(r->report, "outcome was lost") != NULL;
	return 0;
}

static int
queued_runs_of(struct fixture *f)
{
	struct seen s = {0};
	struct cerr err;

	if (tstore_run_list_state(
		f->t.store, TRUN_QUEUED, queued_cb, &s, &err) < 0)
		fail_msg("queued: %s", err.msg);
	return s.queued;
}

static void
store_refuses(struct fixture *f, int on)
{
	assert_int_equal(
	    sqlite3_exec(f->t.store->db,
		on ? "PRAGMA query_only = 1" : "PRAGMA query_only = 0", NULL,
		NULL, NULL),
	    SQLITE_OK);
}

/* Runs that end while the store refuses writes wait in memory, more than
 * TARGET_UNRECORDED_MAX of them too (without their outputs), and all go
 * in once it takes writes again; meanwhile no queued run is started or
 * ended (each would be ended again on every kick). A run whose report
 * had to be dropped is recorded interrupted, not left "running" for its
 * schedule to trip over. */
static void
test_outcomes_wait_for_the_store(void **state)
{
	struct fixture *f = fixture_new();
	struct outcomes o = {0, 0, 0};
	int n = TARGET_UNRECORDED_MAX + 6, existed;
	int64_t run_id, lost;
	struct cerr err;

	log_setup("test", LOG_LVL_ERROR, 0);
	for (int i = 1; i <= n; i++)
		assert_int_equal(tstore_run_add(f->t.store, "gone", 0, i, 0,
				     timefmt_now_s(), &run_id, &existed, &err),
		    0);
	store_refuses(f, 1);
	for (int i = 1; i <= n; i++)
		runs_stop_instr(&f->t, i, "stopped by the test");
	assert_int_equal(f->t.nunrecorded, n);
	runs_kick(&f->t);
	assert_true(event_base_loop(f->t.base, EVLOOP_NONBLOCK) >= 0);
	assert_int_equal(f->t.nunrecorded, n);
	store_refuses(f, 0);
	event_active(f->t.record_retry, EV_TIMEOUT, 1);
	assert_true(event_base_loop(f->t.base, EVLOOP_NONBLOCK) >= 0);
	assert_int_equal(f->t.nunrecorded, 0);
	assert_int_equal(queued_runs_of(f), 0);
	assert_int_equal(
	    tstore_hist_list(f->t.store, NULL, 1000, outcome_cb, &o, &err), 0);
	assert_int_equal(o.canceled, n);

	/* a dropped report: its run is "running" with nothing running it */
	assert_int_equal(tstore_run_add(f->t.store, "gone", 0, 1000, 0,
			     timefmt_now_s(), &lost, &existed, &err),
	    0);
	assert_int_equal(tstore_run_set_state(f->t.store, lost, TRUN_RUNNING,
			     "", timefmt_now_s(), &err),
	    0);
	f->t.unrecorded_dropped = 1;
	event_active(f->t.record_retry, EV_TIMEOUT, 1);
	assert_true(event_base_loop(f->t.base, EVLOOP_NONBLOCK) >= 0);
	assert_int_equal(f->t.unrecorded_dropped, 0);
	memset(&o, 0, sizeof(o));
	assert_int_equal(
	    tstore_hist_list(f->t.store, NULL, 1000, outcome_cb, &o, &err), 0);
	assert_int_equal(o.interrupted_lost, 1);
	fixture_free(f);
}

/* Dispatches the loop until no run is running or queued (or the test
 * gives up), waking every 50 ms to look. */
static void
loop_until_idle(struct fixture *f)
{
	int64_t deadline = timefmt_now_ms() + 20000;
	struct timeval tick = {0, 50000};

	while (f->t.runs != NULL || queued_runs_of(f) > 0 ||
	    evtimer_pending(f->t.runs_kick, NULL)) {
		if (timefmt_now_ms() > deadline)
			fail_msg("runs still going after 20 s");
		event_base_loopexit(f->t.base, &tick);
		event_base_loop(f->t.base, 0);
	}
}

struct last_run {
	int rows;
	char message[1100];
	size_t steps;
};

static int
last_run_cb(void *arg, const struct tstore_hist_row *r)
{
	struct last_run *l = arg;
	json_t *v = json_loads(r->report, 0, NULL);

	assert_non_null(v);
	if (l->rows++ == 0) {
		snprintf(l->message, sizeof(l->message), "%s",
		    json_string_value(json_object_get(v, "message")));
		l->steps = json_array_size(json_object_get(v, "steps"));
	}
	json_decref(v);
	return 0;
}

/* A report over SQLite's size limit (set low here) could never be
 * stored: it is recorded without its outputs, or if still too big
 * without its step rows, with a note in its message, and nothing waits
 * for the store: the next queued run starts. */
static void
test_report_too_big_for_the_store(void **state)
{
	static const struct {
		const char *doc;
		int limit; /* SQLite's length limit, bytes */
		const char *note;
		size_t want_steps;
	} big[] = {
	    {"{\"name\":\"j\",\"steps\":[{\"command\":"
	     "\"head -c 100000 /dev/zero | tr '\\\\0' a\"}]}",
		64 * 1024,
		"step 1 (step-1) succeeded; outputs not kept: the report was "
		"too big for the target's store",
		1},
	    {"{\"name\":\"j\",\"steps\":[{\"command\":\"true\"},"
	     "{\"command\":\"true\"},{\"command\":\"true\"},"
	     "{\"command\":\"true\"},{\"command\":\"true\"},"
	     "{\"command\":\"true\"},{\"command\":\"true\"},"
	     "{\"command\":\"true\"},{\"command\":\"true\"},"
	     "{\"command\":\"true\"}]}",
		1500,
		"step 10 (step-10) succeeded; outputs not kept: the report "
		"was too big for the target's store; step rows not kept: the "
		"report was too big for the target's store",
		0},
	};
	struct cerr err;
	int64_t run_id;
	int existed;

	log_setup("test", LOG_LVL_ERROR, 0);
	for (size_t i = 0; i < NCASES(big); i++) {
		struct fixture *f = fixture_new();
		struct last_run l = {0, "", 0};

		put_job(f, big[i].doc, 0, 0);
		sqlite3_limit(
		    f->t.store->db, SQLITE_LIMIT_LENGTH, big[i].limit);
		for (int instr = 1; instr <= 2; instr++) {
			assert_int_equal(
			    tstore_run_add(f->t.store, "j", 0, instr, 0,
				timefmt_now_s(), &run_id, &existed, &err),
			    0);
			runs_kick(&f->t);
			loop_until_idle(f);
			if (f->t.nunrecorded != 0)
				fail_msg(
				    "case %zu run %d: its report waits for "
				    "the store",
				    i, instr);
		}
		assert_int_equal(tstore_hist_list(f->t.store, NULL, 10,
				     last_run_cb, &l, &err),
		    0);
		assert_int_equal(l.rows, 2);
		if (strcmp(l.message, big[i].note) != 0 ||
		    l.steps != big[i].want_steps)
			fail_msg("case %zu: message '%s', %zu step rows", i,
			    l.message, l.steps);
		fixture_free(f);
	}
}

static int
hist_count_cb(void *arg, const struct tstore_hist_row *r)
{
	(*(int *)arg)++;
	return 0;
}

/* The local history rows of job. */
static int
hist_rows(struct fixture *f, const char *job)
{
	struct cerr err;
	int n = 0;

	if (tstore_hist_list(f->t.store, job, 100, hist_count_cb, &n, &err) < 0)
		fail_msg("history: %s", err.msg);
	return n;
}

/* Runs of a busy job with overlap "queue" wait, however many, and never
 * hide the runs of other jobs queued behind them: more than one list of
 * them, and more than one pass looks at (RUNS_KICK_SCAN_MAX, 1024). */
static void
test_waiting_runs_hide_no_other_job(void **state)
{
	static const int waiting[] = {70, 1100};
	static const char busy[] = "{\"name\":\"a\",\"overlap\":\"queue\","
				   "\"steps\":[{\"command\":\"sleep 30\"}]}";
	static const char other[] = "{\"name\":\"b\",\"steps\":[{"
				    "\"command\":\"true\"}]}";
	struct cerr err;
	int64_t run_id;
	int existed;

	log_setup("test", LOG_LVL_ERROR, 0);
	for (size_t i = 0; i < NCASES(waiting); i++) {
		struct fixture *f = fixture_new();
		int64_t deadline = timefmt_now_ms() + 20000;
		struct timeval tick = {0, 20000};

		if (tstore_job_put(
			f->t.store, "a", ORIGIN_MASTER, busy, 1, &err) < 0 ||
		    tstore_job_put(
			f->t.store, "b", ORIGIN_MASTER, other, 1, &err) < 0 ||
		    tstore_begin(f->t.store, &err) < 0)
			fail_msg("setup: %s", err.msg);
		/* manual starts of a, then one of b */
		for (int instr = 1; instr <= waiting[i] + 1; instr++)
			if (tstore_run_add(f->t.store,
				instr <= waiting[i] ? "a" : "b", 0, instr, 0,
				timefmt_now_s(), &run_id, &existed, &err) < 0)
				fail_msg("run add: %s", err.msg);
		if (tstore_commit(f->t.store, &err) < 0)
			fail_msg("commit: %s", err.msg);
		runs_kick(&f->t);
		while (hist_rows(f, "b") == 0) {
			if (timefmt_now_ms() > deadline)
				fail_msg("%d waiting: b's run never started",
				    waiting[i]);
			event_base_loopexit(f->t.base, &tick);
			event_base_loop(f->t.base, 0);
		}
		/* a's first run goes on, the others still wait: none ended */
		assert_non_null(f->t.runs);
		assert_null(f->t.runs->next);
		assert_int_equal(queued_runs_of(f), waiting[i] - 1);
		assert_int_equal(hist_rows(f, "a"), 0);
		fixture_free(f);
	}
}

/* Refusals held under a schedule that is then removed become their
 * record at the reload, not lost with the schedule's state. */
static void
test_overlap_held_when_the_schedule_goes(void **state)
{
	struct fixture *f = fixture_new();
	int64_t outbox, run_id;
	char doc[1024];
	struct seen s;
	struct cerr err;
	int existed, found;
	struct tstore_sched row;

	log_setup("test", LOG_LVL_ERROR, 0);
	job_doc(doc, sizeof(doc), NULL, "");
	put_job(f, doc, 0, 3 * DAY);
	assert_int_equal(tstore_run_add(f->t.store, "j", 0, 99, 0, 1, &run_id,
			     &existed, &err),
	    0);
	assert_int_equal(scheduler_start(&f->t, &err), 0);
	look(f, &s, &outbox);
	assert_int_equal(s.missed, 1); /* the catch-up's; the rest is held */
	put_job(f, "{\"name\":\"j\",\"steps\":[{\"command\":\"true\"}]}", 0, 0);
	scheduler_reload(&f->t);
	look(f, &s, &outbox);
	assert_int_equal(s.missed, 2);
	/* newest first */
	assert_non_null(strstr(s.message[0], "since removed"));
	assert_null(strstr(s.message[1], "since removed"));
	assert_int_equal(
	    tstore_sched_get(f->t.store, "j", "d", &row, &found, &err), 0);
	assert_int_equal(found, 0);
	fixture_free(f);
}

/* A job that goes away takes its schedule state with it. */
static void
test_reload_drops_state(void **state)
{
	struct fixture *f = fixture_new();
	struct tstore_sched row;
	char doc[1024];
	struct cerr err;
	int found;

	job_doc(doc, sizeof(doc), NULL, "");
	put_job(f, doc, 0, 0);
	assert_int_equal(scheduler_start(&f->t, &err), 0);
	assert_int_equal(
	    tstore_sched_get(f->t.store, "j", "d", &row, &found, &err), 0);
	assert_int_equal(found, 1);
	assert_true(scheduler_next(&f->t, "j", "d") > timefmt_now_s());
	assert_int_equal(
	    tstore_job_delete(f->t.store, "j", ORIGIN_MASTER, NULL, &err), 0);
	scheduler_reload(&f->t);
	assert_int_equal(
	    tstore_sched_get(f->t.store, "j", "d", &row, &found, &err), 0);
	assert_int_equal(found, 0);
	assert_int_equal(scheduler_next(&f->t, "j", "d"), 0);
	fixture_free(f);
}

/* Puts job `name` and, when cursor > 0, every schedule's state as left
 * by a daemon whose cursor stood at `cursor` (Unix seconds). */
static void
put_job_at(struct fixture *f, const char *name, const char *doc, int64_t cursor)
{
	struct tstore_sched row = {0, 0, 0, 0, 0, 0};
	struct job *job = NULL;
	struct cerr err;

	if (jobdoc_parse(doc, strlen(doc), &job, &err) < 0 ||
	    tstore_job_put(f->t.store, name, ORIGIN_MASTER, doc, 1, &err) < 0)
		fail_msg("put job %s: %s", name, err.msg);
	row.cursor = cursor;
	for (size_t i = 0; cursor > 0 && i < job->nschedules; i++) {
		row.def_hash = schedplan_def_hash(job->schedules[i]);
		if (tstore_sched_put(f->t.store, name, job->schedules[i]->name,
			&row, &err) < 0)
			fail_msg("put sched: %s", err.msg);
	}
	job_free(job);
}

static int64_t
held_refusals(struct fixture *f, const char *schedule)
{
	struct tstore_sched row;
	struct cerr err;
	int found;

	if (tstore_sched_get(f->t.store, "j", schedule, &row, &found, &err) < 0)
		fail_msg("sched get: %s", err.msg);
	return found ? row.miss_count : -1;
}

/* 2024-07-01 is a Monday and the first of the month: both schedules are
 * due at 06:00 UTC, found after a stop (a catch-up under run_once). */
#define TWO_AT_ONCE                                                            \
	"{\"name\":\"j\",\"overlap\":\"%s\",\"steps\":[{\"command\":"          \
	"\"true\"}],\"schedules\":[{\"name\":\"mon\",\"kind\":\"weekly\","     \
	"\"every_weeks\":1,\"weekdays\":[\"mon\"],\"at\":\"06:00\","           \
	"\"end_date\":\"2024-07-01\",\"time_zone\":\"UTC\"},{\"name\":"        \
	"\"first\",\"kind\":\"monthly\",\"every_months\":1,\"day\":1,"         \
	"\"at\":\"06:00\",\"end_date\":\"2024-07-01\",\"time_zone\":"          \
	"\"UTC\"}]}"
#define JUL1_0600 1719813600 /* 2024-07-01T06:00:00Z */

/* Two schedules of one job due at the same instant are one run by the
 * (job, due instant) key: the second must find that run, not count it as
 * an overlapping one and record a refusal of an instant that runs. */
static void
test_two_schedules_one_instant(void **state)
{
	static const char *const overlap[] = {"refuse", "queue"};

	log_setup("test", LOG_LVL_ERROR, 0);
	for (size_t i = 0; i < NCASES(overlap); i++) {
		struct fixture *f = fixture_new();
		char doc[1024];
		struct seen s;
		struct cerr err;
		int64_t outbox;

		snprintf(doc, sizeof(doc), TWO_AT_ONCE, overlap[i]);
		put_job_at(f, "j", doc, JUL1_0600 - DAY);
		if (scheduler_start(&f->t, &err) < 0)
			fail_msg("%s: %s", overlap[i], err.msg);
		scheduler_run_ended(&f->t, "j");
		look(f, &s, &outbox);
		if (s.queued != 1 || s.due_at != JUL1_0600 || s.missed != 0 ||
		    held_refusals(f, "mon") != 0 ||
		    held_refusals(f, "first") != 0)
			fail_msg("%s: queued %d due %lld missed %d (%s), held "
				 "%lld %lld; want one run at %d, no record",
			    overlap[i], s.queued, (long long)s.due_at, s.missed,
			    s.missed > 0 ? s.message[0] : "",
			    (long long)held_refusals(f, "mon"),
			    (long long)held_refusals(f, "first"), JUL1_0600);
		fixture_free(f);
	}
}

/* Every 10 min from 02:00 to 02:50 on 2024-03-31 in Berlin: all inside
 * the spring-forward gap, one run at 03:00+02:00 and a DST gap note for
 * the five others. */
#define GAP_NIGHT                                                              \
	"{\"name\":\"d\",\"kind\":\"daily\",\"every_days\":1,"                 \
	"\"repeat_every_s\":600,\"repeat_start\":\"02:00\","                   \
	"\"repeat_end\":\"02:50\",\"start_date\":\"2024-03-31\","              \
	"\"end_date\":\"2024-03-31\",\"time_zone\":\"Europe/Berlin\"}"
#define MAR31 1711843200 /* 2024-03-31T00:00:00Z */

struct agree_case {
	const char *what;
	int gap; /* the night above, else the daily job three days down */
	int busy; /* a run of the job is queued already */
	int want_queued, want_missed; /* once the blocking run ended */
	const char *want, *unwanted; /* in some record; in none */
};

static const struct agree_case agree_cases[] = {
    {"gap, run", 1, 0, 1, 1, "the schedule ran once at 2024-03-31T03:00:00",
	NULL},
    {"gap, run refused", 1, 1, 1, 2,
	"the one run standing for them, due at 2024-03-31T03:00:00+02:00, did "
	"not run either",
	"ran once at"},
    {"gap, run refused: its own record", 1, 1, 1, 2,
	"missed the due instant 2024-03-31T03:00:00+02:00: the job was still "
	"running",
	NULL},
    {"catch-up refused", 0, 1, 1, 2, "the target daemon was not running",
	"catch-up run follows"},
};

static int
records_have(const struct seen *s, const char *text)
{
	for (int i = 0; i < s->missed && i < 4; i++)
		if (strstr(s->message[i], text) != NULL)
			return 1;
	return 0;
}

/* The records written for a plan say what became of its run ("ran once
 * at", "one catch-up run follows"): when the overlap policy refused that
 * run, they must not claim it ran or follows. */
static void
test_records_agree_with_refusal(void **state)
{
	log_setup("test", LOG_LVL_ERROR, 0);
	for (size_t i = 0; i < NCASES(agree_cases); i++) {
		const struct agree_case *c = &agree_cases[i];
		struct fixture *f = fixture_new();
		int64_t outbox, run_id;
		char doc[1024];
		struct seen s;
		struct cerr err;
		int existed;

		job_doc(doc, sizeof(doc), c->gap ? GAP_NIGHT : NULL, "");
		if (c->gap)
			put_job_at(f, "j", doc, MAR31);
		else
			put_job(f, doc, 0, 3 * DAY);
		if ((c->busy &&
			tstore_run_add(f->t.store, "j", 0, 99, 0, 1, &run_id,
			    &existed, &err) < 0) ||
		    scheduler_start(&f->t, &err) < 0)
			fail_msg("%s: %s", c->what, err.msg);
		scheduler_run_ended(&f->t, "j");
		look(f, &s, &outbox);
		if (s.queued != c->want_queued || s.missed != c->want_missed)
			fail_msg("%s: queued %d missed %d, want %d %d", c->what,
			    s.queued, s.missed, c->want_queued, c->want_missed);
		if (!records_have(&s, c->want) ||
		    (c->unwanted != NULL && records_have(&s, c->unwanted)))
			fail_msg("%s: records '%s' | '%s': want '%s', not '%s'",
			    c->what, s.message[0], s.message[1], c->want,
			    c->unwanted != NULL ? c->unwanted : "");
		fixture_free(f);
	}
}

/* An idle job "in" within its dates and one "out" past its end_date,
 * each with a run already running: a due idle run shows as an overlap
 * record, and nothing is started. */
static void
put_idle_job(
    struct fixture *f, const char *name, int64_t instr_id, const char *dates)
{
	int64_t run_id;
	char doc[512];
	struct cerr err;
	int existed;

	snprintf(doc, sizeof(doc),
	    "{\"name\":\"%s\",\"steps\":[{\"command\":\"true\"}],"
	    "\"schedules\":[{\"name\":\"quiet\",\"kind\":\"idle\","
	    "\"idle_load\":10000,\"idle_for_s\":1%s}]}",
	    name, dates);
	put_job_at(f, name, doc, 0);
	if (tstore_run_add(f->t.store, name, 0, instr_id, 0, 1, &run_id,
		&existed, &err) < 0 ||
	    tstore_run_set_state(
		f->t.store, run_id, TRUN_RUNNING, "", 1, &err) < 0)
		fail_msg("busy %s: %s", name, err.msg);
}

/* An idle period comes due only within the schedule's dates. The tick
 * samples the real load average, always below idle_load 10000, so both
 * jobs' idle periods qualify at the same tick, a second or two in. */
static void
test_idle_within_dates(void **state)
{
	struct fixture *f = fixture_new();
	struct timeval slice = {0, 200 * 1000};
	int64_t deadline_ms = timefmt_now_ms() + 10000;
	struct cerr err;

	log_setup("test", LOG_LVL_ERROR, 0);
	put_idle_job(f, "in", 1, ",\"start_date\":\"2024-01-01\"");
	put_idle_job(f, "out", 2, ",\"end_date\":\"2024-01-01\"");
	assert_int_equal(scheduler_start(&f->t, &err), 0);
	while (hist_rows(f, "in") == 0 && timefmt_now_ms() < deadline_ms) {
		event_base_loopexit(f->t.base, &slice);
		assert_true(event_base_dispatch(f->t.base) >= 0);
	}
	assert_int_equal(hist_rows(f, "in"), 1);
	assert_int_equal(hist_rows(f, "out"), 0);
	fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_startup_cases),
	    cmocka_unit_test(test_overlap_held_until_run_ends),
	    cmocka_unit_test(test_reload_drops_state),
	    cmocka_unit_test(test_run_of_deleted_local_job_stays_local),
	    cmocka_unit_test(test_outcomes_wait_for_the_store),
	    cmocka_unit_test(test_overlap_held_when_the_schedule_goes),
	    cmocka_unit_test(test_two_schedules_one_instant),
	    cmocka_unit_test(test_records_agree_with_refusal),
	    cmocka_unit_test(test_idle_within_dates),
	    cmocka_unit_test(test_report_too_big_for_the_store),
	    cmocka_unit_test(test_waiting_runs_hide_no_other_job),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
