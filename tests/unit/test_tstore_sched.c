/*
 * Unit tests for the target store's scheduler state (one row per job and
 * schedule) and its local history: upsert, listing, deletes, bad
 * arguments, listing order and filters, and retention by count (per job
 * and in all) and by age.
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

#include "target/tstore.h"

#define NCASES(t) (sizeof(t) / sizeof((t)[0]))

struct fixture {
	char dir[64];
	char path[96];
	struct tstore *s;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct cerr err;

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/cohort-tsched-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/target.db", f->dir);
	if (tstore_open(f->path, &f->s, &err) < 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	char p[128];

	tstore_close(f->s);
	for (size_t i = 0; i < NCASES(suffixes); i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, suffixes[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static int
count_sched(void *arg, const char *job, const char *schedule,
    const struct tstore_sched *row)
{
	(*(int *)arg)++;
	return 0;
}

static void
test_sched_rows(void **state)
{
	struct fixture *f = *state;
	struct tstore_sched a = {42, 1000, 1, 900, 950, 3}, got;
	struct cerr err;
	int found = -1, n = 0;

	assert_int_equal(
	    tstore_sched_get(f->s, "j", "s", &got, &found, &err), 0);
	assert_int_equal(found, 0);
	assert_int_equal(tstore_sched_put(f->s, "j", "s", &a, &err), 0);
	assert_int_equal(tstore_sched_put(f->s, "j", "t", &a, &err), 0);
	a.cursor = 2000;
	a.miss_count = 0;
	assert_int_equal(tstore_sched_put(f->s, "j", "s", &a, &err), 0);
	assert_int_equal(
	    tstore_sched_get(f->s, "j", "s", &got, &found, &err), 0);
	assert_int_equal(found, 1);
	assert_int_equal(got.def_hash, 42);
	assert_int_equal(got.cursor, 2000);
	assert_int_equal(got.paused, 1);
	assert_int_equal(got.miss_first, 900);
	assert_int_equal(got.miss_last, 950);
	assert_int_equal(got.miss_count, 0);
	assert_int_equal(tstore_sched_list(f->s, count_sched, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(tstore_sched_delete(f->s, "j", "t", &err), 0);
	assert_int_equal(tstore_sched_delete(f->s, "j", "t", &err), 0);
	n = 0;
	assert_int_equal(tstore_sched_list(f->s, count_sched, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(tstore_sched_put(f->s, "", "s", &a, &err), -1);
	assert_int_equal(err.code, CERR_INVALID);
	assert_int_equal(
	    tstore_sched_get(f->s, "j", NULL, &got, &found, &err), -1);
}

struct hist_seen {
	int64_t ids[32];
	int n;
};

static int
hist_cb(void *arg, const struct tstore_hist_row *r)
{
	struct hist_seen *h = arg;

	h->ids[h->n++] = r->run_id;
	return h->n == 32;
}

static void
add(struct fixture *f, int64_t run_id, const char *job, int64_t started_ms)
{
	struct tstore_hist_row r = {
	    run_id, job, 0, "succeeded", started_ms, 5, "{}"};
	struct cerr err;

	if (tstore_hist_add(f->s, &r, &err) < 0)
		fail_msg("add %lld: %s", (long long)run_id, err.msg);
}

/* "ids" newest first as the listing returns them. */
static void
expect(struct fixture *f, const char *job, int64_t limit, const int64_t *ids,
    int n)
{
	struct hist_seen h = {{0}, 0};
	struct cerr err;

	assert_int_equal(
	    tstore_hist_list(f->s, job, limit, hist_cb, &h, &err), 0);
	if (h.n != n)
		fail_msg("%s: %d rows, want %d", job ? job : "all", h.n, n);
	for (int i = 0; i < n; i++)
		assert_int_equal(h.ids[i], ids[i]);
}

static void
fill(struct fixture *f)
{
	/* a: runs 1..6 started 1000..6000 ms; b: 7, 8 */
	for (int i = 1; i <= 6; i++)
		add(f, i, "a", i * 1000);
	add(f, 7, "b", 500);
	add(f, 8, "b", 9000);
}

struct trim_case {
	const char *what;
	int64_t keep, before_ms, all; /* all: tstore_hist_trim, 0 none */
	int64_t want_a[8];
	int na;
	int64_t want_all[8];
	int nall;
};

static const struct trim_case trim_cases[] = {
    {"no limits", 0, 0, 0, {6, 5, 4, 3, 2, 1}, 6, {8, 7, 6, 5, 4, 3, 2, 1}, 8},
    {"keep 3", 3, 0, 0, {6, 5, 4}, 3, {8, 7, 6, 5, 4}, 5},
    {"older than 4 s", 0, 4000, 0, {6, 5, 4}, 3, {8, 7, 6, 5, 4}, 5},
    {"both", 4, 5000, 0, {6, 5}, 2, {8, 7, 6, 5}, 4},
    {"in all", 0, 0, 3, {6}, 1, {8, 7, 6}, 3},
    {"keep more than there are", 100, 0, 100, {6, 5, 4, 3, 2, 1}, 6,
	{8, 7, 6, 5, 4, 3, 2, 1}, 8},
};

static void
test_hist_trim(void **state)
{
	struct fixture *f = *state;
	struct cerr err;

	for (size_t i = 0; i < NCASES(trim_cases); i++) {
		const struct trim_case *c = &trim_cases[i];

		fill(f);
		assert_int_equal(tstore_hist_trim_job(
				     f->s, "a", c->keep, c->before_ms, &err),
		    0);
		if (c->all > 0)
			assert_int_equal(
			    tstore_hist_trim(f->s, c->all, &err), 0);
		expect(f, "a", 100, c->want_a, c->na);
		expect(f, NULL, 100, c->want_all, c->nall);
		assert_int_equal(tstore_hist_trim(f->s, 0, &err), 0);
		expect(f, NULL, 100, NULL, 0);
	}
}

static void
test_hist_list_and_refusals(void **state)
{
	struct fixture *f = *state;
	static const int64_t two[] = {8, 7};
	struct tstore_hist_row bad = {0, "a", 0, "failed", 1, 1, "{}"};
	struct hist_seen h = {{0}, 0};
	struct cerr err;

	fill(f);
	add(f, 8, "b", 9000); /* the same run again: one row */
	expect(f, "b", 10, two, 2);
	expect(f, NULL, 2, two, 2);
	assert_int_equal(
	    tstore_hist_list(f->s, NULL, 0, hist_cb, &h, &err), -1);
	assert_int_equal(tstore_hist_add(f->s, &bad, &err), -1);
	bad.run_id = 9;
	bad.report = NULL;
	assert_int_equal(tstore_hist_add(f->s, &bad, &err), -1);
	assert_int_equal(tstore_hist_trim_job(f->s, "a", -1, 0, &err), -1);
	assert_int_equal(tstore_hist_trim(f->s, -1, &err), -1);
	expect(f, "b", 10, two, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sched_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hist_trim, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_hist_list_and_refusals, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
