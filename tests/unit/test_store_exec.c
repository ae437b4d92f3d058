/*
 * Unit tests for scale-out in the store: workers (recorded from polls,
 * enabled, listed with their load), executions (queued, updated, listed,
 * found by their start instruction, trimmed), a worker row going with its
 * target while executions stay, refusals of bad arguments, and on
 * PostgreSQL the fence on every write.
 */
#include "test_store.h"

#include "store/store_lease.h"

#define MAX_ROWS 16

struct workers {
	struct store_worker v[MAX_ROWS];
	int n;
};

struct execs {
	struct store_exec v[MAX_ROWS];
	char pin_workers[MAX_ROWS][64];
	char reason[MAX_ROWS][64];
	int n;
	int stop_after; /* 0: never */
};

static int
collect_worker(void *arg, const struct store_worker *w)
{
	struct workers *ws = arg;

	if (ws->n >= MAX_ROWS)
		fail_msg("more than %d workers", MAX_ROWS);
	ws->v[ws->n++] = *w;
	return 0;
}

/* Copies the row, its borrowed text included. */
static int
collect_exec(void *arg, const struct store_exec *e)
{
	struct execs *es = arg;
	int i = es->n;

	if (i >= MAX_ROWS)
		fail_msg("more than %d executions", MAX_ROWS);
	es->v[i] = *e;
	snprintf(es->pin_workers[i], sizeof(es->pin_workers[i]), "%s",
	    e->pin_workers);
	snprintf(es->reason[i], sizeof(es->reason[i]), "%s", e->reason);
	es->v[i].pin_workers = es->pin_workers[i];
	es->v[i].reason = es->reason[i];
	es->n++;
	return es->stop_after != 0 && es->n >= es->stop_after;
}

static void
list_workers(struct store *s, struct workers *ws)
{
	struct cerr err;

	memset(ws, 0, sizeof(*ws));
	if (store_worker_list(s, collect_worker, ws, &err) < 0)
		fail_msg("list workers: %s", err.msg);
}

static void
seen(struct store *s, const char *name, int64_t max_tasks, int64_t now,
    int want_created)
{
	struct cerr err;
	int created = -1;

	if (store_worker_seen(s, name, max_tasks, now, &created, &err) < 0)
		fail_msg("worker seen %s: %s", name, err.msg);
	assert_int_equal(created, want_created);
}

static int64_t
submit(struct store *s, const char *job)
{
	struct store_exec e;
	struct cerr err;
	int64_t id = 0;

	memset(&e, 0, sizeof(e));
	snprintf(e.job, sizeof(e.job), "%s", job);
	snprintf(e.submitted_by, sizeof(e.submitted_by), "admin");
	e.submitted_at = 500;
	if (store_exec_add(s, &e, &id, &err) < 0)
		fail_msg("add execution of %s: %s", job, err.msg);
	assert_true(id > 0);
	return id;
}

static void
get_exec(struct store *s, int64_t id, struct execs *es)
{
	struct cerr err;

	memset(es, 0, sizeof(*es));
	if (store_exec_get(s, id, collect_exec, es, &err) < 0)
		fail_msg("get execution %lld: %s", (long long)id, err.msg);
	assert_int_equal(es->n, 1);
}

/* Moves execution id to status on worker with start instruction instr. */
static void
set_status(struct store *s, int64_t id, enum exec_status status,
    const char *worker, int64_t instr)
{
	struct store_exec e;
	struct cerr err;

	memset(&e, 0, sizeof(e));
	e.id = id;
	e.attempt = worker[0] != '\0' ? 1 : 0;
	e.status = status;
	snprintf(e.worker, sizeof(e.worker), "%s", worker);
	e.instr_id = instr;
	e.reason = "";
	e.assigned_at = worker[0] != '\0' ? 600 : 0;
	if (store_exec_update(s, &e, &err) < 0)
		fail_msg("update execution %lld: %s", (long long)id, err.msg);
}

static void
list_execs(struct store *s, int which, int64_t limit, struct execs *es)
{
	struct cerr err;
	int stop_after = es->stop_after;

	memset(es, 0, sizeof(*es));
	es->stop_after = stop_after;
	if (store_exec_list(s, which, limit, collect_exec, es, &err) < 0)
		fail_msg("list executions: %s", err.msg);
}

static void
expect_ids(const struct execs *es, const int64_t *want, int n)
{
	if (es->n != n)
		fail_msg("%d executions, want %d", es->n, n);
	for (int i = 0; i < n; i++)
		if (es->v[i].id != want[i])
			fail_msg("row %d: id %lld, want %lld", i,
			    (long long)es->v[i].id, (long long)want[i]);
}

/* ---- workers ------------------------------------------------------------ */

static void
test_worker_seen(void **state)
{
	struct fx *fx = *state;
	struct workers ws;
	struct cerr err;

	add_target(fx->s, "w1");
	seen(fx->s, "w1", 4, 100, 1);
	list_workers(fx->s, &ws);
	assert_int_equal(ws.n, 1);
	assert_string_equal(ws.v[0].name, "w1");
	assert_int_equal(ws.v[0].enabled, 0); /* new workers start disabled */
	assert_int_equal(ws.v[0].max_tasks, 4);
	assert_int_equal(ws.v[0].registered_at, 100);
	assert_int_equal(ws.v[0].active, 0);
	/* later polls update max_tasks only */
	seen(fx->s, "w1", 8, 200, 0);
	assert_int_equal(store_worker_seen(fx->s, "w1", 8, 300, NULL, &err), 0);
	list_workers(fx->s, &ws);
	assert_int_equal(ws.n, 1);
	assert_int_equal(ws.v[0].max_tasks, 8);
	assert_int_equal(ws.v[0].registered_at, 100);
	assert_int_equal(ws.v[0].enabled, 0);
	expect_err(store_worker_seen(fx->s, "ghost", 1, 100, NULL, &err), &err,
	    CERR_NOT_FOUND, "no target 'ghost'");
	list_workers(fx->s, &ws);
	assert_int_equal(ws.n, 1);
}

static void
test_worker_enable(void **state)
{
	struct fx *fx = *state;
	struct workers ws;
	struct cerr err;

	add_target(fx->s, "w1");
	add_target(fx->s, "plain"); /* a target, not a worker */
	seen(fx->s, "w1", 2, 100, 1);
	assert_int_equal(store_worker_set_enabled(fx->s, "w1", 1, &err), 0);
	list_workers(fx->s, &ws);
	assert_int_equal(ws.v[0].enabled, 1);
	/* a poll keeps it enabled */
	seen(fx->s, "w1", 3, 200, 0);
	list_workers(fx->s, &ws);
	assert_int_equal(ws.v[0].enabled, 1);
	assert_int_equal(ws.v[0].max_tasks, 3);
	/* any non-zero enables; twice is harmless */
	assert_int_equal(store_worker_set_enabled(fx->s, "w1", 7, &err), 0);
	list_workers(fx->s, &ws);
	assert_int_equal(ws.v[0].enabled, 1);
	assert_int_equal(store_worker_set_enabled(fx->s, "w1", 0, &err), 0);
	assert_int_equal(store_worker_set_enabled(fx->s, "w1", 0, &err), 0);
	list_workers(fx->s, &ws);
	assert_int_equal(ws.v[0].enabled, 0);
	expect_err(store_worker_set_enabled(fx->s, "ghost", 1, &err), &err,
	    CERR_NOT_FOUND, "no worker 'ghost'");
	expect_err(store_worker_set_enabled(fx->s, "plain", 1, &err), &err,
	    CERR_NOT_FOUND, "no worker 'plain'");
}

static void
test_worker_list_active(void **state)
{
	struct fx *fx = *state;
	struct workers ws;
	int64_t id[6];

	/* registered out of name order */
	add_target(fx->s, "c");
	add_target(fx->s, "a");
	add_target(fx->s, "b");
	seen(fx->s, "c", 1, 100, 1);
	seen(fx->s, "a", 5, 101, 1);
	seen(fx->s, "b", 2, 102, 1);
	for (int i = 0; i < 6; i++)
		id[i] = submit(fx->s, "job");
	set_status(fx->s, id[0], EXEC_ASSIGNED, "a", 10);
	set_status(fx->s, id[1], EXEC_RUNNING, "a", 11);
	set_status(fx->s, id[2], EXEC_SUCCEEDED, "a", 12);
	set_status(fx->s, id[3], EXEC_FAILED, "b", 13);
	set_status(fx->s, id[4], EXEC_RUNNING, "b", 14);
	/* id[5] stays queued */
	list_workers(fx->s, &ws);
	assert_int_equal(ws.n, 3);
	assert_string_equal(ws.v[0].name, "a");
	assert_int_equal(ws.v[0].active, 2);
	assert_int_equal(ws.v[0].max_tasks, 5);
	assert_string_equal(ws.v[1].name, "b");
	assert_int_equal(ws.v[1].active, 1);
	assert_string_equal(ws.v[2].name, "c");
	assert_int_equal(ws.v[2].active, 0);
	assert_int_equal(ws.v[2].registered_at, 100);
}

/* A worker row goes with its target (deleted, or enlisted again after a
 * defect); its executions stay. */
static void
test_worker_gone_with_target(void **state)
{
	struct fx *fx = *state;
	struct workers ws;
	struct execs es;
	struct cerr err;
	int64_t id;

	add_target(fx->s, "w1");
	add_target(fx->s, "w2");
	seen(fx->s, "w1", 1, 100, 1);
	seen(fx->s, "w2", 1, 100, 1);
	id = submit(fx->s, "job");
	set_status(fx->s, id, EXEC_RUNNING, "w1", 42);
	assert_int_equal(store_target_delete(fx->s, "w1", &err), 0);
	list_workers(fx->s, &ws);
	assert_int_equal(ws.n, 1);
	assert_string_equal(ws.v[0].name, "w2");
	get_exec(fx->s, id, &es);
	assert_string_equal(es.v[0].worker, "w1");
	assert_int_equal(es.v[0].status, EXEC_RUNNING);
	expect_err(store_worker_set_enabled(fx->s, "w1", 1, &err), &err,
	    CERR_NOT_FOUND, "no worker");
	/* enlisting again after a defect starts from a clean row */
	assert_int_equal(store_worker_set_enabled(fx->s, "w2", 1, &err), 0);
	assert_int_equal(store_target_set_defected(fx->s, "w2", 300, &err), 0);
	add_target(fx->s, "w2");
	list_workers(fx->s, &ws);
	assert_int_equal(ws.n, 0);
	seen(fx->s, "w2", 1, 400, 1);
	list_workers(fx->s, &ws);
	assert_int_equal(ws.v[0].enabled, 0);
	assert_int_equal(ws.v[0].registered_at, 400);
}

/* ---- executions ----------------------------------------------------------- */

static void
test_exec_add_get_update(void **state)
{
	struct fx *fx = *state;
	struct store_exec e;
	struct execs es;
	struct cerr err;
	int64_t id = 0, id2 = 0;

	memset(&e, 0, sizeof(e));
	snprintf(e.job, sizeof(e.job), "backup");
	snprintf(e.pin_group, sizeof(e.pin_group), "db");
	e.pin_workers = "[\"w1\",\"w2\"]";
	e.retries = 2;
	e.reason = "waiting for a worker";
	snprintf(e.submitted_by, sizeof(e.submitted_by), "alice");
	e.submitted_at = 1000;
	/* ignored on add: a new execution is queued */
	e.id = 99;
	e.attempt = 3;
	e.status = EXEC_RUNNING;
	snprintf(e.worker, sizeof(e.worker), "w1");
	e.instr_id = 7;
	e.assigned_at = e.started_at = e.finished_at = 1001;
	assert_int_equal(store_exec_add(fx->s, &e, &id, &err), 0);
	get_exec(fx->s, id, &es);
	assert_int_equal(es.v[0].id, id);
	assert_string_equal(es.v[0].job, "backup");
	assert_string_equal(es.v[0].pin_group, "db");
	assert_string_equal(es.v[0].pin_workers, "[\"w1\",\"w2\"]");
	assert_int_equal(es.v[0].retries, 2);
	assert_int_equal(es.v[0].attempt, 0);
	assert_int_equal(es.v[0].status, EXEC_QUEUED);
	assert_string_equal(es.v[0].worker, "");
	assert_int_equal(es.v[0].instr_id, 0);
	assert_string_equal(es.v[0].reason, "waiting for a worker");
	assert_string_equal(es.v[0].submitted_by, "alice");
	assert_int_equal(es.v[0].submitted_at, 1000);
	assert_int_equal(es.v[0].assigned_at, 0);
	assert_int_equal(es.v[0].started_at, 0);
	assert_int_equal(es.v[0].finished_at, 0);
	/* NULL text is stored as ""; ids only grow */
	e.pin_workers = NULL;
	e.reason = NULL;
	e.pin_group[0] = '\0';
	assert_int_equal(store_exec_add(fx->s, &e, NULL, &err), 0);
	assert_int_equal(store_exec_add(fx->s, &e, &id2, &err), 0);
	assert_true(id2 > id + 1);
	get_exec(fx->s, id2, &es);
	assert_string_equal(es.v[0].pin_workers, "");
	assert_string_equal(es.v[0].reason, "");
	assert_string_equal(es.v[0].pin_group, "");
	/* update writes the attempt's fields, never the rest */
	memset(&e, 0, sizeof(e));
	e.id = id;
	snprintf(e.job, sizeof(e.job), "other");
	e.retries = 9;
	e.submitted_at = 1;
	e.attempt = 2;
	e.status = EXEC_FAILED;
	snprintf(e.worker, sizeof(e.worker), "w2");
	e.instr_id = 55;
	e.reason = "exit 3";
	e.assigned_at = 1100;
	e.started_at = 1101;
	e.finished_at = 1102;
	assert_int_equal(store_exec_update(fx->s, &e, &err), 0);
	get_exec(fx->s, id, &es);
	assert_string_equal(es.v[0].job, "backup");
	assert_int_equal(es.v[0].retries, 2);
	assert_int_equal(es.v[0].submitted_at, 1000);
	assert_int_equal(es.v[0].attempt, 2);
	assert_int_equal(es.v[0].status, EXEC_FAILED);
	assert_string_equal(es.v[0].worker, "w2");
	assert_int_equal(es.v[0].instr_id, 55);
	assert_string_equal(es.v[0].reason, "exit 3");
	assert_int_equal(es.v[0].assigned_at, 1100);
	assert_int_equal(es.v[0].started_at, 1101);
	assert_int_equal(es.v[0].finished_at, 1102);
	/* NULL reason on update is "" */
	e.reason = NULL;
	assert_int_equal(store_exec_update(fx->s, &e, &err), 0);
	get_exec(fx->s, id, &es);
	assert_string_equal(es.v[0].reason, "");
	/* unknown ids */
	e.id = id2 + 100;
	expect_err(store_exec_update(fx->s, &e, &err), &err, CERR_NOT_FOUND,
	    "no execution");
	memset(&es, 0, sizeof(es));
	expect_err(store_exec_get(fx->s, id2 + 100, collect_exec, &es, &err),
	    &err, CERR_NOT_FOUND, "no execution");
	assert_int_equal(es.n, 0);
	/* the longest reason fits */
	{
		static char reason[4096 + 1];

		memset(reason, 'r', sizeof(reason) - 1);
		e.id = id;
		e.reason = reason;
		assert_int_equal(store_exec_update(fx->s, &e, &err), 0);
		assert_int_equal(raw_int(fx->path,
				     "SELECT length(reason) FROM executions"
				     " ORDER BY length(reason) DESC LIMIT 1"),
		    4096);
	}
}

static void
test_exec_list(void **state)
{
	struct fx *fx = *state;
	struct execs es;
	int64_t id[5];

	memset(&es, 0, sizeof(es));
	list_execs(fx->s, STORE_EXECS_OPEN, 10, &es);
	assert_int_equal(es.n, 0);
	for (int i = 0; i < 5; i++)
		id[i] = submit(fx->s, "job");
	set_status(fx->s, id[0], EXEC_SUCCEEDED, "w", 1);
	/* id[1] stays queued */
	set_status(fx->s, id[2], EXEC_RUNNING, "w", 3);
	set_status(fx->s, id[3], EXEC_FAILED, "w", 4);
	set_status(fx->s, id[4], EXEC_ASSIGNED, "w", 5);
	{
		/* open ones, oldest first */
		const int64_t want[] = {id[1], id[2], id[4]};

		list_execs(fx->s, STORE_EXECS_OPEN, 100000, &es);
		expect_ids(&es, want, 3);
		list_execs(fx->s, STORE_EXECS_OPEN, 2, &es);
		expect_ids(&es, want, 2);
	}
	{
		/* one status: open ones oldest first, ended ones newest */
		const int64_t queued[] = {id[1]}, running[] = {id[2]};
		const int64_t failed[] = {id[3]}, succeeded[] = {id[0]};

		list_execs(fx->s, EXEC_QUEUED, 10, &es);
		expect_ids(&es, queued, 1);
		list_execs(fx->s, EXEC_RUNNING, 10, &es);
		expect_ids(&es, running, 1);
		list_execs(fx->s, EXEC_FAILED, 10, &es);
		expect_ids(&es, failed, 1);
		list_execs(fx->s, EXEC_SUCCEEDED, 10, &es);
		expect_ids(&es, succeeded, 1);
		set_status(fx->s, id[1], EXEC_FAILED, "w", 6);
		{
			const int64_t both[] = {id[3], id[1]};

			list_execs(fx->s, EXEC_FAILED, 10, &es);
			expect_ids(&es, both, 2);
		}
		set_status(fx->s, id[1], EXEC_QUEUED, "", 0);
	}
	{
		/* all, newest first */
		const int64_t want[] = {id[4], id[3], id[2], id[1], id[0]};

		list_execs(fx->s, STORE_EXECS_ALL, 10, &es);
		expect_ids(&es, want, 5);
		list_execs(fx->s, STORE_EXECS_ALL, 2, &es);
		expect_ids(&es, want, 2);
		/* a callback stops the listing early */
		es.stop_after = 3;
		list_execs(fx->s, STORE_EXECS_ALL, 10, &es);
		expect_ids(&es, want, 3);
	}
}

static void
test_exec_by_instr(void **state)
{
	static const struct {
		const char *worker;
		int64_t instr;
		int found;
	} cases[] = {
	    {"w1", 42, 1},
	    {"w2", 42, 1},
	    {"w1", 43, 0},
	    {"w3", 42, 0},
	    {"w1", 0, 0},
	};
	struct fx *fx = *state;
	struct execs es;
	struct cerr err;
	int64_t id, other;

	id = submit(fx->s, "job");
	other = submit(fx->s, "job");
	set_status(fx->s, id, EXEC_ASSIGNED, "w1", 42);
	set_status(fx->s, other, EXEC_RUNNING, "w2", 42);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&es, 0, sizeof(es));
		assert_int_equal(store_exec_by_instr(fx->s, cases[i].worker,
				     cases[i].instr, collect_exec, &es, &err),
		    0);
		if (es.n != cases[i].found)
			fail_msg("case %zu (%s, %lld): %d found", i,
			    cases[i].worker, (long long)cases[i].instr, es.n);
	}
	memset(&es, 0, sizeof(es));
	assert_int_equal(
	    store_exec_by_instr(fx->s, "w1", 42, collect_exec, &es, &err), 0);
	assert_int_equal(es.v[0].id, id);
	/* running is found too; ended is not */
	set_status(fx->s, id, EXEC_RUNNING, "w1", 42);
	memset(&es, 0, sizeof(es));
	assert_int_equal(
	    store_exec_by_instr(fx->s, "w1", 42, collect_exec, &es, &err), 0);
	assert_int_equal(es.n, 1);
	set_status(fx->s, id, EXEC_SUCCEEDED, "w1", 42);
	set_status(fx->s, other, EXEC_FAILED, "w2", 42);
	memset(&es, 0, sizeof(es));
	assert_int_equal(
	    store_exec_by_instr(fx->s, "w1", 42, collect_exec, &es, &err), 0);
	assert_int_equal(
	    store_exec_by_instr(fx->s, "w2", 42, collect_exec, &es, &err), 0);
	assert_int_equal(es.n, 0);
	/* back in the queue (a retry) it is not the worker's either */
	set_status(fx->s, id, EXEC_QUEUED, "", 0);
	assert_int_equal(
	    store_exec_by_instr(fx->s, "w1", 42, collect_exec, &es, &err), 0);
	assert_int_equal(es.n, 0);
}

static void
test_exec_trim(void **state)
{
	struct fx *fx = *state;
	struct execs es;
	struct cerr err;
	int64_t id[7], deleted = -1;

	for (int i = 0; i < 7; i++)
		id[i] = submit(fx->s, "job");
	set_status(fx->s, id[0], EXEC_SUCCEEDED, "w", 1);
	set_status(fx->s, id[1], EXEC_FAILED, "w", 2);
	set_status(fx->s, id[2], EXEC_RUNNING, "w", 3); /* open, oldest */
	set_status(fx->s, id[3], EXEC_SUCCEEDED, "w", 4);
	set_status(fx->s, id[4], EXEC_FAILED, "w", 5);
	set_status(fx->s, id[5], EXEC_ASSIGNED, "w", 6);
	/* id[6] stays queued */
	/* nothing beyond 10 to trim */
	assert_int_equal(store_exec_trim(fx->s, 10, &deleted, &err), 0);
	assert_int_equal(deleted, 0);
	/* keeps the newest two ended ones and every open one */
	assert_int_equal(store_exec_trim(fx->s, 2, &deleted, &err), 0);
	assert_int_equal(deleted, 2);
	{
		const int64_t want[] = {id[6], id[5], id[4], id[3], id[2]};

		list_execs(fx->s, STORE_EXECS_ALL, 10, &es);
		expect_ids(&es, want, 5);
	}
	assert_int_equal(store_exec_trim(fx->s, 2, NULL, &err), 0);
	assert_int_equal(store_exec_trim(fx->s, 0, &deleted, &err), 0);
	assert_int_equal(deleted, 2);
	{
		const int64_t want[] = {id[2], id[5], id[6]};

		list_execs(fx->s, STORE_EXECS_OPEN, 10, &es);
		expect_ids(&es, want, 3);
		list_execs(fx->s, STORE_EXECS_ALL, 10, &es);
		assert_int_equal(es.n, 3);
	}
}

/* ---- refusals ------------------------------------------------------------- */

static char long_name[STORE_NAME_MAX + 2];
static char long_pins[STORE_PIN_MAX + 2];
static char long_reason[4096 + 2]; /* store_exec.c: at most 4096 bytes */

static void
base_exec(struct store_exec *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->job, sizeof(e->job), "job");
	snprintf(e->submitted_by, sizeof(e->submitted_by), "admin");
	e->id = 1;
	e->submitted_at = 1;
}

static int
add_with(struct store *s, void (*edit)(struct store_exec *), struct cerr *err)
{
	struct store_exec e;

	base_exec(&e);
	edit(&e);
	return store_exec_add(s, &e, NULL, err);
}

static int
update_with(
    struct store *s, void (*edit)(struct store_exec *), struct cerr *err)
{
	struct store_exec e;

	base_exec(&e);
	edit(&e);
	return store_exec_update(s, &e, err);
}

static void
ed_empty_job(struct store_exec *e)
{
	e->job[0] = '\0';
}
static void
ed_ctrl_group(struct store_exec *e)
{
	snprintf(e->pin_group, sizeof(e->pin_group), "db\001");
}
static void
ed_long_pins(struct store_exec *e)
{
	e->pin_workers = long_pins;
}
static void
ed_long_reason(struct store_exec *e)
{
	e->reason = long_reason;
}
static void
ed_retries_high(struct store_exec *e)
{
	e->retries = 101;
}
static void
ed_retries_neg(struct store_exec *e)
{
	e->retries = -1;
}
static void
ed_status_high(struct store_exec *e)
{
	e->status = EXEC_STATUS_COUNT;
}
static void
ed_status_neg(struct store_exec *e)
{
	e->status = (enum exec_status) - 1;
}
static void
ed_ctrl_worker(struct store_exec *e)
{
	snprintf(e->worker, sizeof(e->worker), "w\n1");
}
static void
ed_attempt_neg(struct store_exec *e)
{
	e->attempt = -1;
}

static void
test_exec_refusals(void **state)
{
	struct fx *fx = *state;
	struct execs es;
	struct workers ws;
	struct cerr err;
	static const struct {
		int update; /* 0: store_exec_add */
		void (*edit)(struct store_exec *);
		const char *msg;
	} execs[] = {
	    {0, ed_empty_job, "empty name"},
	    {0, ed_ctrl_group, "control character"},
	    {0, ed_long_pins, "longer than 8192 bytes"},
	    {0, ed_long_reason, "longer than 4096 bytes"},
	    {0, ed_retries_high, "retries must be 0..100"},
	    {0, ed_retries_neg, "retries must be 0..100"},
	    {1, ed_status_high, "unknown status 5"},
	    {1, ed_status_neg, "unknown status -1"},
	    {1, ed_ctrl_worker, "control character"},
	    {1, ed_attempt_neg, "negative attempt"},
	    {1, ed_long_reason, "longer than 4096 bytes"},
	};

	memset(long_name, 'n', sizeof(long_name) - 1);
	memset(long_pins, 'p', sizeof(long_pins) - 1);
	memset(long_reason, 'r', sizeof(long_reason) - 1);
	add_target(fx->s, "w1");
	for (size_t i = 0; i < sizeof(execs) / sizeof(execs[0]); i++) {
		int rc = execs[i].update
		    ? update_with(fx->s, execs[i].edit, &err)
		    : add_with(fx->s, execs[i].edit, &err);

		if (rc != -1 || err.code != CERR_INVALID ||
		    strstr(err.msg, execs[i].msg) == NULL)
			fail_msg("case %zu: rc %d, %s: %s (want '%s')", i, rc,
			    cerr_code_name(err.code), err.msg, execs[i].msg);
	}
	expect_err(store_worker_seen(fx->s, long_name, 1, 1, NULL, &err), &err,
	    CERR_INVALID, "longer than 128 bytes");
	expect_err(store_worker_seen(fx->s, "", 1, 1, NULL, &err), &err,
	    CERR_INVALID, "empty name");
	expect_err(store_worker_seen(fx->s, "w1", 0, 1, NULL, &err), &err,
	    CERR_INVALID, "max tasks must be 1..10000");
	expect_err(store_worker_seen(fx->s, "w1", 10001, 1, NULL, &err), &err,
	    CERR_INVALID, "max tasks must be 1..10000");
	expect_err(store_worker_set_enabled(fx->s, long_name, 1, &err), &err,
	    CERR_INVALID, "longer than");
	expect_err(
	    store_exec_list(fx->s, STORE_EXECS_ALL, 0, collect_exec, &es, &err),
	    &err, CERR_INVALID, "limit must be 1..100000");
	expect_err(store_exec_list(fx->s, STORE_EXECS_OPEN, 100001,
		       collect_exec, &es, &err),
	    &err, CERR_INVALID, "limit must be 1..100000");
	expect_err(store_exec_list(fx->s, -3, 10, collect_exec, &es, &err),
	    &err, CERR_INVALID, "no such selection -3");
	expect_err(store_exec_list(
		       fx->s, EXEC_STATUS_COUNT, 10, collect_exec, &es, &err),
	    &err, CERR_INVALID, "no such selection");
	expect_err(
	    store_exec_by_instr(fx->s, long_name, 1, collect_exec, &es, &err),
	    &err, CERR_INVALID, "longer than");
	expect_err(
	    store_exec_by_instr(fx->s, "w1", -1, collect_exec, &es, &err), &err,
	    CERR_INVALID, "negative instruction id");
	expect_err(store_exec_trim(fx->s, -1, NULL, &err), &err, CERR_INVALID,
	    "negative count");
	/* nothing was written */
	list_workers(fx->s, &ws);
	assert_int_equal(ws.n, 0);
	memset(&es, 0, sizeof(es));
	list_execs(fx->s, STORE_EXECS_ALL, 10, &es);
	assert_int_equal(es.n, 0);
}

/* ---- the fence (PostgreSQL) ------------------------------------------------ */

static int
fenced_seen(struct store *s, struct cerr *err)
{
	return store_worker_seen(s, "w1", 3, 900, NULL, err);
}
static int
fenced_seen_new(struct store *s, struct cerr *err)
{
	return store_worker_seen(s, "w2", 3, 900, NULL, err);
}
static int
fenced_enable(struct store *s, struct cerr *err)
{
	return store_worker_set_enabled(s, "w1", 1, err);
}
static int
fenced_add(struct store *s, struct cerr *err)
{
	struct store_exec e;

	base_exec(&e);
	return store_exec_add(s, &e, NULL, err);
}
static int
fenced_update(struct store *s, struct cerr *err)
{
	struct store_exec e;
	struct execs es;

	memset(&es, 0, sizeof(es));
	if (store_exec_list(s, STORE_EXECS_ALL, 1, collect_exec, &es, err) < 0)
		return -1;
	base_exec(&e);
	e.id = es.v[0].id;
	e.status = EXEC_FAILED;
	return store_exec_update(s, &e, err);
}
static int
fenced_trim(struct store *s, struct cerr *err)
{
	return store_exec_trim(s, 0, NULL, err);
}

/* Every write checks the lease: once another master has bumped the epoch
 * each one is refused, and a standby writes nothing. */
static void
test_exec_fenced(void **state)
{
	struct fx *fx = *state;
	static int (*const writes[])(struct store *, struct cerr *) = {
	    fenced_seen,
	    fenced_seen_new,
	    fenced_enable,
	    fenced_add,
	    fenced_update,
	    fenced_trim,
	};
	struct store_lease l;
	struct workers ws;
	struct execs es;
	struct cerr err;
	int taken = 0;

	add_target(fx->s, "w1");
	add_target(fx->s, "w2");
	seen(fx->s, "w1", 1, 100, 1);
	submit(fx->s, "job");
	assert_int_equal(
	    store_lease_acquire(fx->s, "a", "", 60000, &l, &taken, &err), 0);
	assert_int_equal(taken, 1);
	store_lease_fence(fx->s, l.epoch);
	/* the holder writes */
	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++)
		if (writes[i](fx->s, &err) < 0)
			fail_msg("write %zu while holding the lease: %s", i,
			    err.msg);
	if (!fx->pg)
		return; /* one master per SQLite file: nothing to fence */
	submit(fx->s, "job");
	raw_exec(fx->path, "UPDATE lease SET epoch = epoch + 1");
	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
		store_lease_fence(fx->s, l.epoch); /* clears "fenced" */
		if (writes[i](fx->s, &err) != -1 ||
		    err.code != CERR_NOT_ACTIVE ||
		    strstr(err.msg, "another master is active") == NULL)
			fail_msg(
			    "write %zu of a deposed master: not refused, or %s: %s",
			    i, cerr_code_name(err.code), err.msg);
		store_lease_fence(fx->s, STORE_LEASE_STANDBY);
		if (writes[i](fx->s, &err) != -1 ||
		    err.code != CERR_NOT_ACTIVE ||
		    strstr(err.msg, "standby") == NULL)
			fail_msg(
			    "write %zu of a standby: not refused, or %s: %s", i,
			    cerr_code_name(err.code), err.msg);
	}
	/* reads still work, and nothing changed: no third worker, no new
	 * execution, the newest one still queued */
	list_workers(fx->s, &ws);
	assert_int_equal(ws.n, 2);
	memset(&es, 0, sizeof(es));
	list_execs(fx->s, STORE_EXECS_ALL, 10, &es);
	assert_int_equal(es.n, 2);
	assert_int_equal(es.v[0].status, EXEC_QUEUED);
	assert_int_equal(es.v[1].status, EXEC_QUEUED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_worker_seen),
	    T(test_worker_enable),
	    T(test_worker_list_active),
	    T(test_worker_gone_with_target),
	    T(test_exec_add_get_update),
	    T(test_exec_list),
	    T(test_exec_by_instr),
	    T(test_exec_trim),
	    T(test_exec_refusals),
	    T(test_exec_fenced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
