/*
 * Unit tests for the store's job history: the upsert on (target,
 * target_run_id, step, attempt), listing filters and order, retention
 * (per job and in all), and a printed (not asserted) ingest rate.
 */
#include <time.h>

#include "test_store.h"

static void
make_run(struct store_run *r, const char *target, int64_t trid, const char *job,
    int step, enum run_outcome o, int64_t started_at_ms)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->target, sizeof(r->target), "%s", target);
	snprintf(r->job, sizeof(r->job), "%s", job);
	r->target_run_id = trid;
	r->step = step;
	r->attempt = step == 0 ? 0 : 1;
	if (step > 0)
		snprintf(r->step_name, sizeof(r->step_name), "step %d", step);
	r->outcome = o;
	r->exit_code = o == OUTCOME_SUCCEEDED ? 0 : 1;
	r->started_at_ms = started_at_ms;
	r->tz_offset_s = 3600;
	r->duration_ms = 250;
	r->message = "done";
	r->output = "hello\n";
}

static void
put(struct store *s, const struct store_run *r)
{
	struct cerr err;

	if (store_run_put(s, r, &err) < 0)
		fail_msg("put run: %s", err.msg);
}

struct runs_seen {
	int64_t run_id[64];
	int64_t started_at_ms[64];
	int64_t target_run_id[64];
	int step[64];
	char job[64][16];
	enum run_outcome outcome[64];
	char message[64][16];
	char output[64][16];
	int n;
};

static int
collect_run(void *arg, const struct store_run *r)
{
	struct runs_seen *rs = arg;

	if (rs->n >= 64)
		return 1;
	rs->run_id[rs->n] = r->run_id;
	rs->started_at_ms[rs->n] = r->started_at_ms;
	rs->target_run_id[rs->n] = r->target_run_id;
	rs->step[rs->n] = r->step;
	rs->outcome[rs->n] = r->outcome;
	snprintf(rs->job[rs->n], sizeof(rs->job[0]), "%s", r->job);
	snprintf(rs->message[rs->n], sizeof(rs->message[0]), "%s", r->message);
	snprintf(rs->output[rs->n], sizeof(rs->output[0]), "%s", r->output);
	rs->n++;
	return 0;
}

static void
list(struct store *s, const struct store_run_filter *f, struct runs_seen *rs)
{
	struct cerr err;

	memset(rs, 0, sizeof(*rs));
	if (store_run_list(s, f, collect_run, rs, &err) < 0)
		fail_msg("list runs: %s", err.msg);
}

static void
test_run_upsert(void **state)
{
	struct fx *fx = *state;
	struct store_run_filter all = {.outcome = -1};
	struct store_run r;
	struct runs_seen rs;
	struct cerr err;
	int64_t first_id;

	make_run(&r, "web-1", 7, "backup", 0, OUTCOME_RUNNING, 1000);
	put(fx->s, &r);
	list(fx->s, &all, &rs);
	assert_int_equal(rs.n, 1);
	first_id = rs.run_id[0];
	assert_true(first_id > 0);

	/* The same outcome twice, then the end: one row, same run id. */
	put(fx->s, &r);
	r.outcome = OUTCOME_SUCCEEDED;
	r.message = "finished";
	put(fx->s, &r);
	put(fx->s, &r);
	list(fx->s, &all, &rs);
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.run_id[0], first_id);
	assert_int_equal(rs.outcome[0], OUTCOME_SUCCEEDED);
	assert_string_equal(rs.message[0], "finished");

	/* A late "running" does not undo the end. */
	r.outcome = OUTCOME_RUNNING;
	r.message = "late";
	put(fx->s, &r);
	list(fx->s, &all, &rs);
	assert_int_equal(rs.outcome[0], OUTCOME_SUCCEEDED);

	/* The end sent again after the target cut or dropped its output
	 * (its acknowledgement was lost) keeps the longer output stored. */
	r.outcome = OUTCOME_SUCCEEDED;
	r.message = "finished";
	r.output = "a long and whole output of the step\n";
	put(fx->s, &r);
	r.output = "[cohort: output dropped]\n";
	put(fx->s, &r);
	list(fx->s, &all, &rs);
	assert_string_equal(rs.output[0], "a long and whol");
	/* ...but a marker longer than what is stored, or any other output,
	 * replaces it */
	r.output = "short\n";
	put(fx->s, &r);
	r.output = "[cohort: output cut to its last 5 of 9000 bytes]\nshort\n";
	put(fx->s, &r);
	list(fx->s, &all, &rs);
	assert_string_equal(rs.output[0], "[cohort: output");

	/* Another attempt of a step is another row. */
	make_run(&r, "web-1", 7, "backup", 1, OUTCOME_RETRYING, 1001);
	put(fx->s, &r);
	r.attempt = 2;
	r.outcome = OUTCOME_SUCCEEDED;
	put(fx->s, &r);
	list(fx->s, &all, &rs);
	assert_int_equal(rs.n, 3);

	/* Bad rows are refused and store nothing. */
	r.step = -1;
	assert_int_equal(store_run_put(fx->s, &r, &err), -1);
	assert_int_equal(err.code, CERR_INVALID);
	make_run(&r, "web-1", 8, "", 0, OUTCOME_FAILED, 1);
	assert_int_equal(store_run_put(fx->s, &r, &err), -1);
	assert_non_null(strstr(err.msg, "job: empty name"));
	make_run(&r, "web-1", 8, "backup", 0, OUTCOME_COUNT, 1);
	assert_int_equal(store_run_put(fx->s, &r, &err), -1);
	assert_non_null(strstr(err.msg, "unknown outcome"));
	list(fx->s, &all, &rs);
	assert_int_equal(rs.n, 3);
}

/* The listing data: (target, target_run_id, job, step, outcome, ms). */
static const struct {
	const char *target;
	int64_t trid;
	const char *job;
	int step;
	enum run_outcome outcome;
	int64_t ms;
} list_rows[] = {
    {"web-1", 1, "backup", 0, OUTCOME_SUCCEEDED, 1000},
    {"web-1", 1, "backup", 1, OUTCOME_SUCCEEDED, 1001},
    {"web-2", 1, "backup", 0, OUTCOME_FAILED, 2000},
    {"web-2", 1, "backup", 1, OUTCOME_FAILED, 2001},
    {"web-1", 2, "audit", 0, OUTCOME_SUCCEEDED, 3000},
    {"web-1", 3, "backup", 0, OUTCOME_CANCELED, 4000},
    {"web-2", 2, "audit", 0, OUTCOME_SUCCEEDED, 4000}, /* same ms */
};

static const struct {
	struct store_run_filter f;
	int want;
	int64_t first_ms; /* newest row's start */
} list_cases[] = {
    {{.outcome = -1}, 7, 4000},
    {{.job = "backup", .outcome = -1}, 5, 4000},
    {{.job = "backup", .outcome = -1, .job_rows_only = 1}, 3, 4000},
    {{.target = "web-2", .outcome = -1}, 3, 4000},
    {{.outcome = OUTCOME_FAILED}, 2, 2001},
    {{.outcome = -1, .since_ms = 2000}, 5, 4000},
    {{.outcome = -1, .until_ms = 2001}, 3, 2000},
    {{.outcome = -1, .since_ms = 2000, .until_ms = 4000}, 3, 3000},
    {{.outcome = -1, .limit = 2}, 2, 4000},
    {{.job = "audit", .target = "web-1", .outcome = OUTCOME_SUCCEEDED}, 1,
	3000},
    {{.job = "none", .outcome = -1}, 0, 0},
    {{.target = "web-1", .target_run_id = 1, .outcome = -1}, 2, 1001},
    {{.target = "web-2", .target_run_id = 1, .outcome = -1}, 2, 2001},
    {{.target = "web-1", .target_run_id = 9, .outcome = -1}, 0, 0},
    /* whole runs: filters and limit choose job rows, every row of each
     * chosen run comes with it */
    {{.outcome = OUTCOME_FAILED, .whole_runs = 1}, 2, 2001},
    {{.job = "backup", .outcome = -1, .whole_runs = 1, .limit = 2}, 3, 4000},
    {{.outcome = -1, .whole_runs = 1, .limit = 3, .until_ms = 4000}, 5, 3000},
    {{.outcome = -1, .whole_runs = 1, .since_ms = 1001}, 5, 4000},
};

static void
test_run_list(void **state)
{
	struct fx *fx = *state;
	struct store_run_filter f = {.outcome = -1};
	struct store_run r;
	struct runs_seen rs;
	struct cerr err;

	for (size_t i = 0; i < sizeof(list_rows) / sizeof(list_rows[0]); i++) {
		make_run(&r, list_rows[i].target, list_rows[i].trid,
		    list_rows[i].job, list_rows[i].step, list_rows[i].outcome,
		    list_rows[i].ms);
		put(fx->s, &r);
	}
	for (size_t i = 0; i < sizeof(list_cases) / sizeof(list_cases[0]);
	     i++) {
		list(fx->s, &list_cases[i].f, &rs);
		if (rs.n != list_cases[i].want)
			fail_msg("case %zu: %d rows, want %d", i, rs.n,
			    list_cases[i].want);
		if (rs.n > 0 && rs.started_at_ms[0] != list_cases[i].first_ms)
			fail_msg("case %zu: newest at %lld, want %lld", i,
			    (long long)rs.started_at_ms[0],
			    (long long)list_cases[i].first_ms);
		for (int k = 1; k < rs.n; k++)
			assert_true(
			    rs.started_at_ms[k - 1] > rs.started_at_ms[k] ||
			    (rs.started_at_ms[k - 1] == rs.started_at_ms[k] &&
				rs.run_id[k - 1] > rs.run_id[k]));
	}
	/* Equal start times: the later row (higher run id) first. */
	list(fx->s, &f, &rs);
	assert_string_equal(rs.job[0], "audit");
	assert_string_equal(rs.output[0], "hello\n");
	/* Without outputs: the same rows, each output "". */
	f.without_output = 1;
	list(fx->s, &f, &rs);
	assert_int_equal(rs.n, 7);
	for (int k = 0; k < rs.n; k++)
		assert_string_equal(rs.output[k], "");
	assert_string_equal(rs.message[0], "done");
	f.without_output = 0;
	/* A run id needs its target. */
	f.target_run_id = 1;
	assert_int_equal(store_run_list(fx->s, &f, collect_run, &rs, &err), -1);
	assert_int_equal(err.code, CERR_INVALID);
	f.target_run_id = 0;
	f.outcome = OUTCOME_COUNT;
	assert_int_equal(store_run_list(fx->s, &f, collect_run, &rs, &err), -1);
	assert_int_equal(err.code, CERR_INVALID);
}

/* Job `job` on web-1: `runs` job runs, each a step-0 row and 2 steps. */
static void
put_job_runs(struct store *s, const char *job, int64_t first_trid, int runs,
    int64_t first_ms)
{
	struct store_run r;

	for (int i = 0; i < runs; i++) {
		for (int step = 0; step <= 2; step++) {
			make_run(&r, "web-1", first_trid + i, job, step,
			    OUTCOME_SUCCEEDED, first_ms + i * 100 + step);
			put(s, &r);
		}
	}
}

static void
test_history_trim(void **state)
{
	struct fx *fx = *state;
	struct store_run_filter f = {.outcome = -1};
	struct runs_seen rs;
	struct cerr err;

	put_job_runs(fx->s, "backup", 1, 5, 1000);
	put_job_runs(fx->s, "audit", 100, 2, 1050);
	assert_int_equal(store_history_trim(fx->s, 1000, 3, &err), 0);
	f.job = "backup";
	list(fx->s, &f, &rs);
	assert_int_equal(rs.n, 9); /* the newest 3 job runs with steps */
	for (int k = 0; k < rs.n; k++)
		assert_true(rs.target_run_id[k] >= 3);
	f.job = "audit";
	list(fx->s, &f, &rs);
	assert_int_equal(rs.n, 6);

	/* Trimming again changes nothing. */
	assert_int_equal(store_history_trim(fx->s, 1000, 3, &err), 0);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM runs"), 15);

	/* In all: the oldest rows go first. */
	assert_int_equal(store_history_trim(fx->s, 4, 3, &err), 0);
	f.job = NULL;
	list(fx->s, &f, &rs);
	assert_int_equal(rs.n, 4);
	assert_int_equal(rs.started_at_ms[0], 1402);
	assert_int_equal(rs.started_at_ms[3], 1302);
	assert_int_equal(store_history_trim(fx->s, 0, 0, &err), 0);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM runs"), 0);
	assert_int_equal(store_history_trim(fx->s, -1, 3, &err), -1);
	assert_int_equal(err.code, CERR_INVALID);
}

/* Purge (by job and age) and a job's own row limit. The history: backup
 * runs 1..5 started at 1000, 1100, .. 1400 ms, audit runs 100, 101 at
 * 1050, 1150; three rows each (job row and two steps). */
struct cut_case {
	const char *what;
	const char *job;
	int64_t before_ms;
	int64_t keep; /* >= 0: trim_job with keep; -1: purge */
	int64_t want_deleted; /* purge only */
	int want_backup_first; /* oldest backup run left (6: none) */
	int want_audit_rows;
};

static const struct cut_case cut_cases[] = {
    {"purge one job by age", "backup", 1200, -1, 2, 3, 6},
    {"purge every job by age", NULL, 1100, -1, 2, 2, 3},
    {"purge one job", "backup", 0, -1, 5, 6, 6},
    {"purge everything", NULL, 0, -1, 7, 6, 0},
    {"purge an unknown job", "nope", 0, -1, 0, 1, 6},
    {"purge: nothing that old", NULL, 500, -1, 0, 1, 6},
    {"keep 2", "backup", 0, 2, 0, 4, 6},
    {"keep 0", "backup", 0, 0, 0, 6, 6},
    {"keep more than there are", "audit", 0, 10, 0, 1, 6},
};

static void
test_history_purge_and_trim_job(void **state)
{
	struct fx *fx = *state;
	struct store_run_filter f = {.outcome = -1, .job = "backup"};
	struct runs_seen rs;
	struct cerr err;
	int64_t deleted;

	for (size_t i = 0; i < sizeof(cut_cases) / sizeof(cut_cases[0]); i++) {
		const struct cut_case *c = &cut_cases[i];

		assert_int_equal(
		    store_history_purge(fx->s, NULL, 0, NULL, &err), 0);
		put_job_runs(fx->s, "backup", 1, 5, 1000);
		put_job_runs(fx->s, "audit", 100, 2, 1050);
		deleted = -1;
		if (c->keep < 0)
			assert_int_equal(store_history_purge(fx->s, c->job,
					     c->before_ms, &deleted, &err),
			    0);
		else
			assert_int_equal(store_history_trim_job(
					     fx->s, c->job, c->keep, &err),
			    0);
		if (c->keep < 0 && deleted != c->want_deleted)
			fail_msg("%s: deleted %lld, want %lld", c->what,
			    (long long)deleted, (long long)c->want_deleted);
		list(fx->s, &f, &rs);
		if (rs.n != (6 - c->want_backup_first) * 3)
			fail_msg("%s: %d backup rows", c->what, rs.n);
		for (int k = 0; k < rs.n; k++)
			if (rs.target_run_id[k] < c->want_backup_first)
				fail_msg("%s: run %lld kept", c->what,
				    (long long)rs.target_run_id[k]);
		if (raw_int(fx->path,
			"SELECT count(*) FROM runs WHERE "
			"job = 'audit'") != c->want_audit_rows)
			fail_msg("%s: audit rows", c->what);
	}
	assert_int_equal(
	    store_history_purge(fx->s, "bad\001", 0, NULL, &err), -1);
	assert_int_equal(err.code, CERR_INVALID);
	assert_int_equal(store_history_purge(fx->s, NULL, -1, NULL, &err), -1);
	assert_int_equal(store_history_trim_job(fx->s, NULL, 1, &err), -1);
	assert_int_equal(store_history_trim_job(fx->s, "backup", -1, &err), -1);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Printed, not asserted: machines differ. The master needs >= 10,000
 * outcomes a second. */
static void
test_run_throughput(void **state)
{
	struct fx *fx = *state;
	struct store_run r;
	struct cerr err;
	double t0, t1, t2;
	const int n = 10000;

	make_run(&r, "web-1", 0, "backup", 0, OUTCOME_SUCCEEDED, 0);
	t0 = now_s();
	assert_int_equal(store_begin(fx->s, &err), 0);
	for (int i = 0; i < n; i++) {
		r.target_run_id = i;
		r.started_at_ms = 1000000 + i;
		put(fx->s, &r);
	}
	assert_int_equal(store_commit(fx->s, &err), 0);
	t1 = now_s();
	assert_int_equal(store_history_trim(fx->s, 5000, n, &err), 0);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM runs"), 5000);
	assert_int_equal(store_history_trim(fx->s, 5000, 100, &err), 0);
	t2 = now_s();
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM runs"), 100);
	printf("store: %d run puts in one transaction: %.3f s (%.0f/s); "
	       "two trims: %.3f s\n",
	    n, t1 - t0, n / (t1 - t0), t2 - t1);

	/* Without a transaction every put is its own commit. */
	t0 = now_s();
	for (int i = 0; i < n / 10; i++) {
		r.target_run_id = n + i;
		put(fx->s, &r);
	}
	t1 = now_s();
	printf("store: %d run puts, one commit each: %.3f s (%.0f/s)\n", n / 10,
	    t1 - t0, n / 10 / (t1 - t0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_run_upsert),
	    T(test_run_list),
	    T(test_history_trim),
	    T(test_history_purge_and_trim_job),
	    T(test_run_throughput),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
