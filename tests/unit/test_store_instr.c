/*
 * Unit tests for the store's download list: posting, fetching in order
 * with after_id and limit, acknowledging (own instructions only, twice
 * harmless), blocking after a failure until cleared, listing, dropping
 * for a resync, trimming, and a START's count of the runs reported for
 * it.
 */
#include "test_store.h"

struct seen {
	int64_t id[16];
	enum instr_status status[16];
	int64_t downloaded_at[16];
	char error[16][32];
	int n;
	int stop_after;
};

static int
collect_instr(void *arg, const struct store_instr *in)
{
	struct seen *sn = arg;

	sn->id[sn->n] = in->id;
	sn->status[sn->n] = in->status;
	sn->downloaded_at[sn->n] = in->downloaded_at;
	snprintf(sn->error[sn->n], sizeof(sn->error[0]), "%s", in->error);
	sn->n++;
	return sn->stop_after != 0 && sn->n >= sn->stop_after;
}

static int
keep_runs(void *arg, const struct store_instr *in)
{
	*(int64_t *)arg = in->runs;
	return 0;
}

static int
keep_epoch(void *arg, const struct store_instr *in)
{
	*(int64_t *)arg = in->epoch;
	return 0;
}

static void
fetch(struct store *s, const char *target, int64_t after, int limit,
    int64_t now, struct seen *sn)
{
	struct cerr err;

	memset(sn, 0, sizeof(*sn));
	if (store_instr_fetch(
		s, target, after, limit, now, collect_instr, sn, &err) < 0)
		fail_msg("fetch: %s", err.msg);
}

/* Three instructions for web-1 (id[0..2]) with one for web-2 (id[3])
 * posted between them. */
static void
post_four(struct store *s, int64_t id[4])
{
	add_target(s, "web-1");
	add_target(s, "web-2");
	post(s, "web-1", INSTR_INSERT, &id[0]);
	post(s, "web-2", INSTR_INSERT, &id[3]);
	post(s, "web-1", INSTR_START, &id[1]);
	post(s, "web-1", INSTR_STOP, &id[2]);
	assert_true(id[0] < id[3] && id[3] < id[1] && id[1] < id[2]);
}

static void
test_instr_fetch_ack(void **state)
{
	struct fx *fx = *state;
	enum instr_op op;
	struct seen sn;
	struct cerr err;
	int64_t id[4];

	post_four(fx->s, id);
	expect_err(store_instr_post(
		       fx->s, "ghost", INSTR_INSERT, "", "", 1, NULL, &err),
	    &err, CERR_NOT_FOUND, "no target 'ghost'");

	/* In id order; downloaded_at is set the first time only. */
	fetch(fx->s, "web-1", 0, 10, 100, &sn);
	assert_int_equal(sn.n, 3);
	assert_int_equal(sn.id[0], id[0]);
	assert_int_equal(sn.id[2], id[2]);
	assert_int_equal(sn.status[1], INSTR_DOWNLOADED);
	assert_int_equal(sn.downloaded_at[1], 100);
	fetch(fx->s, "web-1", 0, 2, 200, &sn);
	assert_int_equal(sn.n, 2);
	assert_int_equal(sn.downloaded_at[0], 100);
	fetch(fx->s, "web-1", id[0], 10, 200, &sn);
	assert_int_equal(sn.n, 2);
	assert_int_equal(sn.id[0], id[1]);

	/* Acks: own instructions only; twice is harmless, and only the
	 * first names the operation it recorded. */
	assert_int_equal(
	    store_instr_ack(fx->s, "web-1", id[0], 1, "", 300, &op, &err), 0);
	assert_int_equal(op, INSTR_INSERT);
	assert_int_equal(
	    store_instr_ack(fx->s, "web-1", id[0], 1, "", 301, &op, &err), 0);
	assert_int_equal(op, INSTR_OP_COUNT);
	assert_int_equal(
	    store_instr_ack(fx->s, "web-1", id[2], 0, "x", 302, &op, &err), 0);
	assert_int_equal(op, INSTR_STOP);
	assert_int_equal(store_instr_clear(fx->s, id[2], &err), 0);
	post(fx->s, "web-2", INSTR_DEFECT, &id[3]);
	assert_int_equal(
	    store_instr_ack(fx->s, "web-2", id[3], 1, "", 303, &op, &err), 0);
	assert_int_equal(op, INSTR_DEFECT);
	expect_err(
	    store_instr_ack(fx->s, "web-1", id[3], 1, "", 300, NULL, &err),
	    &err, CERR_NOT_FOUND, "for target 'web-1'");
	expect_err(
	    store_instr_ack(fx->s, "web-1", 9999, 1, "", 300, NULL, &err), &err,
	    CERR_NOT_FOUND, "no instruction 9999");
	fetch(fx->s, "web-1", 0, 10, 300, &sn);
	assert_int_equal(sn.n, 1); /* id[2] failed and was cleared */
	assert_int_equal(sn.id[0], id[1]);
}

/* A failure blocks the target until it is cleared. */
static void
test_instr_blocked(void **state)
{
	struct fx *fx = *state;
	struct store_target t;
	struct seen sn;
	struct cerr err;
	int64_t id[4];

	post_four(fx->s, id);
	fetch(fx->s, "web-1", 0, 10, 100, &sn);
	assert_int_equal(
	    store_instr_ack(fx->s, "web-1", id[0], 1, "", 300, NULL, &err), 0);
	assert_int_equal(store_instr_ack(fx->s, "web-1", id[1], 0, "no disk",
			     400, NULL, &err),
	    0);
	assert_int_equal(
	    store_instr_ack(fx->s, "web-1", id[1], 1, "", 401, NULL, &err),
	    0); /* the first outcome stands */
	fetch(fx->s, "web-1", 0, 10, 400, &sn);
	assert_int_equal(sn.n, 0);
	fetch(fx->s, "web-2", 0, 10, 400, &sn); /* others are not blocked */
	assert_int_equal(sn.n, 1);
	assert_int_equal(store_target_get(fx->s, "web-1", &t, &err), 0);
	assert_int_equal(t.failed, 1);
	assert_int_equal(t.unread, 1);
	expect_err(store_instr_clear(fx->s, id[2], &err), &err, CERR_CONFLICT,
	    "is downloaded, not failed");
	expect_err(
	    store_instr_clear(fx->s, 9999, &err), &err, CERR_NOT_FOUND, NULL);
	assert_int_equal(store_instr_clear(fx->s, id[1], &err), 0);
	assert_int_equal(store_instr_clear(fx->s, id[1], &err), 0);
	fetch(fx->s, "web-1", 0, 10, 500, &sn);
	assert_int_equal(sn.n, 1);
	assert_int_equal(sn.id[0], id[2]);
	assert_int_equal(store_target_get(fx->s, "web-1", &t, &err), 0);
	assert_int_equal(t.failed, 0);
}

static void
test_instr_fetch_stops_early(void **state)
{
	struct fx *fx = *state;
	struct store_instr_filter f = {.target = "web-1", .status = -1};
	struct seen sn = {0};
	struct cerr err;
	int64_t id[3];

	add_target(fx->s, "web-1");
	for (int i = 0; i < 3; i++)
		post(fx->s, "web-1", INSTR_INSERT, &id[i]);
	/* A callback that stops after one: only that one is downloaded. */
	sn.stop_after = 1;
	assert_int_equal(store_instr_fetch(fx->s, "web-1", 0, 10, 50,
			     collect_instr, &sn, &err),
	    0);
	assert_int_equal(sn.n, 1);
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(
	    store_instr_list(fx->s, &f, collect_instr, &sn, &err), 0);
	assert_int_equal(sn.n, 3);
	assert_int_equal(sn.id[2], id[0]); /* newest first */
	assert_int_equal(sn.status[2], INSTR_DOWNLOADED);
	assert_int_equal(sn.status[1], INSTR_PENDING);
	assert_int_equal(sn.status[0], INSTR_PENDING);
	expect_err(store_instr_fetch(
		       fx->s, "web-1", 0, 0, 50, collect_instr, &sn, &err),
	    &err, CERR_INVALID, "limit");
}

static const struct {
	const char *target;
	int status;
	int64_t limit;
	int want;
} list_cases[] = {
    {NULL, -1, 0, 6},
    {"web-1", -1, 0, 4},
    {"web-2", -1, 0, 2},
    {NULL, INSTR_APPLIED, 0, 3},
    {"web-1", INSTR_FAILED, 0, 1},
    {NULL, INSTR_FAILED, 0, 1},
    {"web-2", INSTR_FAILED, 0, 0},
    {NULL, INSTR_FAILED, 1, 1},
    {"web-1", INSTR_PENDING, 0, 0},
    {"web-1", INSTR_DOWNLOADED, 0, 1},
    {"web-2", INSTR_PENDING, 0, 1},
    {NULL, -1, 3, 3},
    {"ghost", -1, 0, 0},
};

static void
test_instr_list(void **state)
{
	struct fx *fx = *state;
	struct store_instr_filter f;
	struct seen sn;
	struct cerr err;
	int64_t id[6];

	add_target(fx->s, "web-1");
	add_target(fx->s, "web-2");
	for (int i = 0; i < 6; i++)
		post(fx->s, i < 4 ? "web-1" : "web-2", INSTR_UPDATE, &id[i]);
	assert_int_equal(
	    store_instr_ack(fx->s, "web-1", id[0], 1, "", 1, NULL, &err), 0);
	assert_int_equal(
	    store_instr_ack(fx->s, "web-1", id[1], 0, "bad doc", 1, NULL, &err),
	    0);
	fetch(fx->s, "web-1", 0, 10, 5, &sn); /* blocked: nothing */
	assert_int_equal(
	    store_instr_ack(fx->s, "web-2", id[4], 1, "", 1, NULL, &err), 0);
	fetch(fx->s, "web-1", 0, 10, 5, &sn);
	assert_int_equal(
	    store_instr_ack(fx->s, "web-1", id[2], 1, "", 1, NULL, &err), 0);
	assert_int_equal(store_instr_clear(fx->s, id[1], &err), 0);
	fetch(fx->s, "web-1", 0, 10, 5, &sn); /* id[3] now downloaded */
	assert_int_equal(
	    store_instr_ack(fx->s, "web-1", id[2], 0, "late", 1, NULL, &err),
	    0);

	for (size_t i = 0; i < sizeof(list_cases) / sizeof(list_cases[0]);
	     i++) {
		f.target = list_cases[i].target;
		f.status = list_cases[i].status;
		f.limit = list_cases[i].limit;
		memset(&sn, 0, sizeof(sn));
		assert_int_equal(
		    store_instr_list(fx->s, &f, collect_instr, &sn, &err), 0);
		if (sn.n != list_cases[i].want)
			fail_msg("case %zu: %d rows, want %d", i, sn.n,
			    list_cases[i].want);
		for (int k = 1; k < sn.n; k++)
			assert_true(sn.id[k - 1] > sn.id[k]);
	}
	f.target = "web-1";
	f.status = INSTR_FAILED;
	f.limit = 0;
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(
	    store_instr_list(fx->s, &f, collect_instr, &sn, &err), 0);
	assert_string_equal(sn.error[0], "bad doc");
	f.status = 9;
	expect_err(store_instr_list(fx->s, &f, collect_instr, &sn, &err), &err,
	    CERR_INVALID, "unknown status 9");
}

static void
test_instr_drop_pending(void **state)
{
	struct fx *fx = *state;
	struct store_target t;
	struct seen sn;
	struct cerr err;
	int64_t id[4];

	add_target(fx->s, "web-1");
	for (int i = 0; i < 4; i++)
		post(fx->s, "web-1", INSTR_INSERT, &id[i]);
	assert_int_equal(
	    store_instr_ack(fx->s, "web-1", id[0], 1, "", 1, NULL, &err), 0);
	assert_int_equal(
	    store_instr_ack(fx->s, "web-1", id[1], 0, "x", 1, NULL, &err), 0);
	assert_int_equal(store_instr_drop_pending(fx->s, "web-1", &err), 0);
	assert_int_equal(store_target_get(fx->s, "web-1", &t, &err), 0);
	assert_int_equal(t.unread, 0);
	assert_int_equal(t.failed, 0);
	assert_int_equal(
	    raw_int(fx->path, "SELECT count(*) FROM instructions"), 2);
	post(fx->s, "web-1", INSTR_RESYNC, &id[2]);
	fetch(fx->s, "web-1", 0, 10, 5, &sn);
	assert_int_equal(sn.n, 1);
	assert_int_equal(sn.id[0], id[2]);
	expect_err(store_instr_drop_pending(fx->s, "ghost", &err), &err,
	    CERR_NOT_FOUND, NULL);
}

/* One open instruction taken back: pending or downloaded, never applied
 * or failed ones, and a second try finds nothing. */
static void
test_instr_withdraw(void **state)
{
	struct fx *fx = *state;
	struct seen sn;
	struct cerr err;
	int64_t id[4];

	add_target(fx->s, "web-1");
	for (int i = 0; i < 4; i++)
		post(fx->s, "web-1", INSTR_START, &id[i]);
	fetch(fx->s, "web-1", 0, 2, 5, &sn); /* id[0], id[1] downloaded */
	assert_int_equal(
	    store_instr_ack(fx->s, "web-1", id[0], 1, "", 6, NULL, &err), 0);
	assert_int_equal(store_instr_withdraw(fx->s, id[0], &err), 0);
	assert_int_equal(store_instr_withdraw(fx->s, id[1], &err), 1);
	assert_int_equal(store_instr_withdraw(fx->s, id[2], &err), 1);
	assert_int_equal(store_instr_withdraw(fx->s, id[2], &err), 0);
	assert_int_equal(store_instr_withdraw(fx->s, 99999, &err), 0);
	/* one by its id: the applied one; the withdrawn one is gone */
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(
	    store_instr_get(fx->s, id[0], collect_instr, &sn, &err), 0);
	assert_int_equal(sn.n, 1);
	assert_int_equal(sn.id[0], id[0]);
	assert_int_equal(sn.status[0], INSTR_APPLIED);
	expect_err(store_instr_get(fx->s, id[1], collect_instr, &sn, &err),
	    &err, CERR_NOT_FOUND, NULL);
	fetch(fx->s, "web-1", 0, 10, 7, &sn);
	assert_int_equal(sn.n, 1);
	assert_int_equal(sn.id[0], id[3]);
	assert_int_equal(
	    raw_int(fx->path, "SELECT count(*) FROM instructions"), 2);
}

static void
test_instr_trim(void **state)
{
	struct fx *fx = *state;
	struct store_instr_filter f = {.status = INSTR_APPLIED};
	struct seen sn = {0};
	struct cerr err;
	int64_t id[14];

	add_target(fx->s, "web-1");
	add_target(fx->s, "web-2");
	for (int i = 0; i < 14; i++) {
		post(fx->s, i < 10 ? "web-1" : "web-2", INSTR_INSERT, &id[i]);
		if (i != 9 && i != 13)
			assert_int_equal(
			    store_instr_ack(fx->s, i < 10 ? "web-1" : "web-2",
				id[i], 1, "", 1, NULL, &err),
			    0);
	}
	assert_int_equal(store_instr_trim(fx->s, 5, &err), 0);
	f.target = "web-1";
	assert_int_equal(
	    store_instr_list(fx->s, &f, collect_instr, &sn, &err), 0);
	assert_int_equal(sn.n, 5);
	assert_int_equal(sn.id[0], id[8]); /* newest 5 applied: 4..8 */
	assert_int_equal(sn.id[4], id[4]);
	memset(&sn, 0, sizeof(sn));
	f.target = "web-2";
	assert_int_equal(
	    store_instr_list(fx->s, &f, collect_instr, &sn, &err), 0);
	assert_int_equal(sn.n, 3);
	/* Open instructions are never trimmed. */
	assert_int_equal(raw_int(fx->path,
			     "SELECT count(*) FROM instructions"
			     " WHERE status = 'pending'"),
	    2);
	assert_int_equal(store_instr_trim(fx->s, 0, &err), 0);
	assert_int_equal(
	    raw_int(fx->path, "SELECT count(*) FROM instructions"), 2);
}

/* A failed definition an administrator cleared stays through trimming
 * while it is its job's newest on the target (job start and apply read
 * it: failed_defs.c); a later definition lets it go. */
static void
test_instr_trim_keeps_a_failed_definition(void **state)
{
	struct fx *fx = *state;
	struct cerr err;
	int64_t failed, later, id;
	char name[16];

	add_target(fx->s, "web-1");
	assert_int_equal(store_instr_post(fx->s, "web-1", INSTR_INSERT, "x",
			     "{}", 10, &failed, &err),
	    0);
	assert_int_equal(
	    store_instr_ack(fx->s, "web-1", failed, 0, "clash", 1, NULL, &err),
	    0);
	assert_int_equal(store_instr_clear(fx->s, failed, &err), 0);
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "o%d", i);
		assert_int_equal(store_instr_post(fx->s, "web-1", INSTR_INSERT,
				     name, "{}", 10, &id, &err),
		    0);
		assert_int_equal(
		    store_instr_ack(fx->s, "web-1", id, 1, "", 1, NULL, &err),
		    0);
	}
	assert_int_equal(store_instr_trim(fx->s, 2, &err), 0);
	assert_int_equal(raw_int(fx->path,
			     "SELECT count(*) FROM instructions"
			     " WHERE status = 'failed'"),
	    1);
	assert_int_equal(
	    raw_int(fx->path, "SELECT count(*) FROM instructions"), 3);
	/* a newer definition of x: the failure is history now */
	assert_int_equal(store_instr_post(fx->s, "web-1", INSTR_UPDATE, "x",
			     "{}", 10, &later, &err),
	    0);
	assert_int_equal(
	    store_instr_ack(fx->s, "web-1", later, 1, "", 1, NULL, &err), 0);
	assert_int_equal(store_instr_trim(fx->s, 2, &err), 0);
	assert_int_equal(raw_int(fx->path,
			     "SELECT count(*) FROM instructions"
			     " WHERE status = 'failed'"),
	    0);
}

/* A job row (step 0) or a step row of run trid on web-1 for START id. */
static void
put_run(struct store *s, int64_t trid, int step, enum run_outcome o,
    int64_t instr_id)
{
	struct store_run r = {.target_run_id = trid,
	    .step = step,
	    .attempt = step == 0 ? 0 : 1,
	    .outcome = o,
	    .started_at_ms = 1000 + trid,
	    .instr_id = instr_id,
	    .message = "",
	    .output = ""};
	struct cerr err;

	snprintf(r.target, sizeof(r.target), "web-1");
	snprintf(r.job, sizeof(r.job), "job");
	if (store_run_put(s, &r, &err) < 0)
		fail_msg("put run: %s", err.msg);
}

static int64_t
runs_of(struct store *s, int64_t id)
{
	struct cerr err;
	int64_t runs = -1;

	if (store_instr_get(s, id, keep_runs, &runs, &err) < 0)
		fail_msg("get %lld: %s", (long long)id, err.msg);
	return runs;
}

/* A START counts its job runs when their rows first say they ended: a
 * "running" row counts nothing yet, an end uploaded again nothing more,
 * a step row nothing; a second run for one START counts twice; a purge
 * of the history takes nothing off; and a "running" row that a purge (or
 * retention) removed before the end came counts once when it comes. */
static void
test_instr_counts_runs(void **state)
{
	struct fx *fx = *state;
	struct cerr err;
	int64_t once, twice, never, cut, deleted = 0;

	add_target(fx->s, "web-1");
	post(fx->s, "web-1", INSTR_START, &once);
	post(fx->s, "web-1", INSTR_START, &twice);
	post(fx->s, "web-1", INSTR_START, &never);
	post(fx->s, "web-1", INSTR_START, &cut);
	put_run(fx->s, 1, 0, OUTCOME_RUNNING, once);
	assert_int_equal(runs_of(fx->s, once), 0);
	put_run(fx->s, 1, 1, OUTCOME_SUCCEEDED, once);
	put_run(fx->s, 1, 0, OUTCOME_SUCCEEDED, once);
	put_run(fx->s, 1, 0, OUTCOME_SUCCEEDED, once);
	put_run(fx->s, 1, 0, OUTCOME_RUNNING, once);
	put_run(fx->s, 2, 0, OUTCOME_FAILED, twice);
	put_run(fx->s, 3, 0, OUTCOME_SUCCEEDED, twice);
	put_run(fx->s, 4, 0, OUTCOME_SUCCEEDED, 0);
	assert_int_equal(runs_of(fx->s, once), 1);
	assert_int_equal(runs_of(fx->s, twice), 2);
	assert_int_equal(runs_of(fx->s, never), 0);
	put_run(fx->s, 5, 0, OUTCOME_RUNNING, cut);
	assert_int_equal(
	    store_history_purge(fx->s, "job", 0, &deleted, &err), 0);
	assert_int_equal(deleted, 5);
	assert_int_equal(runs_of(fx->s, once), 1);
	assert_int_equal(runs_of(fx->s, twice), 2);
	put_run(fx->s, 5, 0, OUTCOME_SUCCEEDED, cut);
	assert_int_equal(runs_of(fx->s, cut), 1);
}

/* The schema step that adds the count: a START applied before it with
 * its run still in the history counts it; one whose rows are gone is
 * "not counted" (-1) until a run comes; an open one starts at 0. */
static void
test_instr_counts_from_migration(void **state)
{
	struct fx *fx = *state;
	struct cerr err;
	int64_t kept, gone, open;

	add_target(fx->s, "web-1");
	post(fx->s, "web-1", INSTR_START, &kept);
	post(fx->s, "web-1", INSTR_START, &gone);
	post(fx->s, "web-1", INSTR_START, &open);
	assert_int_equal(
	    store_instr_ack(fx->s, "web-1", kept, 1, "", 1, NULL, &err), 0);
	assert_int_equal(
	    store_instr_ack(fx->s, "web-1", gone, 1, "", 1, NULL, &err), 0);
	put_run(fx->s, 1, 0, OUTCOME_SUCCEEDED, kept);
	store_close(fx->s);
	fx->s = NULL;
	if (fx->pg)
		raw_exec(fx->path,
		    "DROP INDEX instructions_failed;"
		    "DROP TRIGGER runs_count_ended ON runs;"
		    "DROP TRIGGER runs_count_ending ON runs;"
		    "DROP FUNCTION cohort_count_run();"
		    "ALTER TABLE instructions DROP COLUMN runs;"
		    "ALTER TABLE instructions DROP COLUMN epoch;"
		    "UPDATE cohort_schema SET version = 6");
	else
		raw_exec(fx->path,
		    "DROP INDEX instructions_failed;"
		    "DROP TRIGGER runs_count_ended;"
		    "DROP TRIGGER runs_count_ending;"
		    "ALTER TABLE instructions DROP COLUMN runs;"
		    "ALTER TABLE instructions DROP COLUMN epoch;"
		    "PRAGMA user_version = 7");
	assert_int_equal(store_open(fx->path, &fx->s, &err), 0);
	assert_int_equal(runs_of(fx->s, kept), 1);
	assert_int_equal(runs_of(fx->s, gone), -1);
	assert_int_equal(runs_of(fx->s, open), 0);
	put_run(fx->s, 2, 0, OUTCOME_SUCCEEDED, gone);
	assert_int_equal(runs_of(fx->s, gone), 1);
}

/* An instruction keeps the lease epoch its master posted it under; a
 * master without the lease (a standby's fence) posts none. */
static void
test_instr_epoch(void **state)
{
	struct fx *fx = *state;
	struct store_lease lease;
	struct cerr err;
	int64_t before, under, epoch = -1;
	int taken = 0;

	add_target(fx->s, "web-1");
	post(fx->s, "web-1", INSTR_INSERT, &before);
	assert_int_equal(store_lease_acquire(fx->s, "m1", "https://m1:1", 60000,
			     &lease, &taken, &err),
	    0);
	assert_true(taken && lease.epoch > 0);
	store_lease_fence(fx->s, lease.epoch);
	post(fx->s, "web-1", INSTR_START, &under);
	store_lease_fence(fx->s, 0);
	assert_int_equal(
	    store_instr_get(fx->s, before, keep_epoch, &epoch, &err), 0);
	assert_int_equal(epoch, 0);
	assert_int_equal(
	    store_instr_get(fx->s, under, keep_epoch, &epoch, &err), 0);
	assert_int_equal(epoch, lease.epoch);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_instr_fetch_ack),
	    T(test_instr_blocked),
	    T(test_instr_fetch_stops_early),
	    T(test_instr_list),
	    T(test_instr_drop_pending),
	    T(test_instr_withdraw),
	    T(test_instr_trim),
	    T(test_instr_trim_keeps_a_failed_definition),
	    T(test_instr_counts_runs),
	    T(test_instr_counts_from_migration),
	    T(test_instr_epoch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
