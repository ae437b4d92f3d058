/*
 * Unit tests for the target store: named values, jobs and their origins,
 * the idempotent run ledger, the bounded outbox, transactions, reopening,
 * schema versions, and a full disk coming back as an error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <sqlite3.h>

#include "target/tstore.h"
#include "target/tstore_db.h"

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
	strcpy(f->dir, "/tmp/cohort-tstore-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/target.db", f->dir);
	if (tstore_open(f->path, &f->s, &err) < 0) {
		print_error("%s\n", err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	char p[128];

	tstore_close(f->s);
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, suffixes[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
reopen(struct fixture *f)
{
	struct cerr err;

	tstore_close(f->s);
	f->s = NULL;
	if (tstore_open(f->path, &f->s, &err) < 0)
		fail_msg("reopen: %s", err.msg);
}

static void
test_tstore_meta(void **state)
{
	struct fixture *f = *state;
	struct cerr err;
	int64_t v = 0;

	assert_int_equal(
	    tstore_meta_get_int(f->s, "last_instr", 7, &v, &err), 0);
	assert_int_equal(v, 7);
	assert_int_equal(tstore_meta_set_int(f->s, "last_instr", 42, &err), 0);
	assert_int_equal(
	    tstore_meta_set_int(f->s, "big", INT64_MAX - 1, &err), 0);
	assert_int_equal(
	    tstore_meta_get_int(f->s, "last_instr", 7, &v, &err), 0);
	assert_int_equal(v, 42);
	assert_int_equal(tstore_meta_get_int(f->s, "big", 0, &v, &err), 0);
	assert_true(v == INT64_MAX - 1);
	assert_int_equal(tstore_meta_set_int(f->s, "", 1, &err), -1);
	assert_int_equal(err.code, CERR_INVALID);
	assert_int_equal(tstore_meta_get_int(f->s, NULL, 0, &v, &err), -1);
}

struct job_seen {
	int n;
	char names[8][32];
	enum job_origin origins[8];
};

static int
job_collect(
    void *arg, const char *name, enum job_origin origin, const char *doc)
{
	struct job_seen *seen = arg;

	if (seen->n < 8) {
		snprintf(seen->names[seen->n], 32, "%s", name);
		seen->origins[seen->n] = origin;
	}
	seen->n++;
	return 0;
}

static void
test_tstore_jobs(void **state)
{
	struct fixture *f = *state;
	struct job_seen seen = {0};
	enum job_origin origin = ORIGIN_LOCAL;
	struct cerr err;
	char *doc = NULL;
	int deleted = -1;

	assert_int_equal(tstore_job_put(f->s, "backup", ORIGIN_MASTER,
			     "{\"v\":1}", 100, &err),
	    0);
	assert_int_equal(tstore_job_put(f->s, "backup", ORIGIN_MASTER,
			     "{\"v\":2}", 101, &err),
	    0); /* replaces */
	assert_int_equal(
	    tstore_job_put(f->s, "alpha", ORIGIN_LOCAL, "{}", 102, &err), 0);
	assert_int_equal(
	    tstore_job_get(f->s, "backup", &doc, &origin, &err), 0);
	assert_string_equal(doc, "{\"v\":2}");
	assert_int_equal(origin, ORIGIN_MASTER);
	free(doc);

	/* origin conflicts, both ways, change nothing */
	assert_int_equal(tstore_job_put(f->s, "backup", ORIGIN_LOCAL,
			     "{\"x\":1}", 103, &err),
	    -1);
	assert_int_equal(err.code, CERR_CONFLICT);
	assert_non_null(strstr(err.msg, "backup exists already as a master"));
	assert_int_equal(
	    tstore_job_put(f->s, "alpha", ORIGIN_MASTER, "{}", 103, &err), -1);
	assert_int_equal(err.code, CERR_CONFLICT);
	assert_int_equal(tstore_job_get(f->s, "backup", &doc, NULL, &err), 0);
	assert_string_equal(doc, "{\"v\":2}");
	free(doc);

	assert_int_equal(tstore_job_get(f->s, "nope", &doc, &origin, &err), -1);
	assert_int_equal(err.code, CERR_NOT_FOUND);
	assert_null(doc);

	assert_int_equal(tstore_job_list(f->s, job_collect, &seen, &err), 0);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.names[0], "alpha");
	assert_int_equal(seen.origins[0], ORIGIN_LOCAL);
	assert_string_equal(seen.names[1], "backup");

	/* delete: wrong origin keeps it; twice is harmless */
	assert_int_equal(
	    tstore_job_delete(f->s, "backup", ORIGIN_LOCAL, &deleted, &err), 0);
	assert_int_equal(deleted, 0);
	assert_int_equal(
	    tstore_job_delete(f->s, "backup", ORIGIN_MASTER, &deleted, &err),
	    0);
	assert_int_equal(deleted, 1);
	assert_int_equal(
	    tstore_job_delete(f->s, "backup", ORIGIN_MASTER, &deleted, &err),
	    0);
	assert_int_equal(deleted, 0);
	assert_int_equal(
	    tstore_job_delete(f->s, "backup", ORIGIN_MASTER, NULL, &err), 0);

	/* delete by origin keeps the local jobs */
	assert_int_equal(
	    tstore_job_put(f->s, "m1", ORIGIN_MASTER, "{}", 1, &err), 0);
	assert_int_equal(
	    tstore_job_put(f->s, "m2", ORIGIN_MASTER, "{}", 1, &err), 0);
	assert_int_equal(
	    tstore_job_delete_origin(f->s, ORIGIN_MASTER, &err), 0);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(tstore_job_list(f->s, job_collect, &seen, &err), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.names[0], "alpha");

	assert_int_equal(
	    tstore_job_put(f->s, "", ORIGIN_LOCAL, "{}", 1, &err), -1);
	assert_int_equal(err.code, CERR_INVALID);
	assert_int_equal(
	    tstore_job_put(f->s, "x", ORIGIN_LOCAL, NULL, 1, &err), -1);
	assert_int_equal(
	    tstore_job_put(f->s, "x", (enum job_origin)7, "{}", 1, &err), -1);
	assert_int_equal(err.code, CERR_INVALID);
}

static const struct {
	const char *job;
	int64_t instr_id;
	int64_t due_at;
	int expect_existed;
	int same_as; /* index of the earlier case it must equal, or -1 */
} run_cases[] = {
    {"backup", 10, 0, 0, -1}, /* 0: a START */
    {"backup", 10, 0, 1, 0}, /* 1: the same START replayed */
    {"backup", 0, 5000, 0, -1}, /* 2: a scheduled instant */
    {"backup", 0, 5000, 1, 2}, /* 3: the same instant again */
    {"backup", 0, 5060, 0, -1}, /* 4: the next instant */
    {"report", 0, 5000, 0, -1}, /* 5: same instant, other job */
    {"report", 10, 0, 1, 0}, /* 6: instr ids are global */
    {"backup", 11, 0, 0, -1}, /* 7: a second START */
    {"backup", 0, 0, 0, -1}, /* 8: a manual run: no key */
    {"backup", 0, 0, 0, -1}, /* 9: and another */
    {"backup", 12, 5060, 1, 4}, /* 10: either key matches */
};

static void
test_tstore_run_add(void **state)
{
	struct fixture *f = *state;
	int64_t ids[sizeof(run_cases) / sizeof(run_cases[0])];
	struct cerr err;
	int64_t id;
	int existed;

	for (size_t i = 0; i < sizeof(run_cases) / sizeof(run_cases[0]); i++) {
		if (tstore_run_add(f->s, run_cases[i].job, 0,
			run_cases[i].instr_id, run_cases[i].due_at, 1000 + i,
			&ids[i], &existed, &err) < 0)
			fail_msg("case %zu: %s", i, err.msg);
		if (existed != run_cases[i].expect_existed)
			fail_msg("case %zu: existed %d", i, existed);
		if (run_cases[i].same_as >= 0 &&
		    ids[i] != ids[run_cases[i].same_as])
			fail_msg("case %zu: run %lld, want %lld", i,
			    (long long)ids[i],
			    (long long)ids[run_cases[i].same_as]);
		for (size_t j = 0; run_cases[i].same_as < 0 && j < i; j++)
			if (ids[j] == ids[i])
				fail_msg("case %zu: reused run %lld", i,
				    (long long)ids[i]);
	}
	assert_int_equal(
	    tstore_run_add(f->s, "", 0, 1, 0, 1, &id, &existed, &err), -1);
	assert_int_equal(err.code, CERR_INVALID);
	assert_int_equal(
	    tstore_run_add(f->s, "x", 0, -1, 0, 1, &id, &existed, &err), -1);
	assert_int_equal(err.code, CERR_INVALID);
}

struct run_seen {
	int n;
	int64_t ids[16];
	int64_t instr[16];
	int64_t due[16];
	int local[16];
	char jobs[16][16];
	int stop_after; /* 0: never */
};

static int
run_collect(void *arg, const struct tstore_run *row)
{
	struct run_seen *seen = arg;

	if (seen->n < 16) {
		seen->ids[seen->n] = row->run_id;
		seen->instr[seen->n] = row->instr_id;
		seen->due[seen->n] = row->due_at;
		seen->local[seen->n] = row->local;
		snprintf(seen->jobs[seen->n], 16, "%s", row->job);
	}
	seen->n++;
	return seen->stop_after != 0 && seen->n >= seen->stop_after;
}

static void
test_tstore_run_states(void **state)
{
	struct fixture *f = *state;
	struct run_seen seen = {0};
	int64_t a, b, c, active;
	struct cerr err;
	int existed;

	/* created_at runs backwards (clock set back): order is creation */
	assert_int_equal(
	    tstore_run_add(f->s, "j", 0, 1, 0, 300, &a, &existed, &err), 0);
	assert_int_equal(
	    tstore_run_add(f->s, "j", 0, 0, 60, 200, &b, &existed, &err), 0);
	assert_int_equal(
	    tstore_run_add(f->s, "k", 1, 2, 0, 100, &c, &existed, &err), 0);
	assert_int_equal(
	    tstore_run_list_state(f->s, TRUN_QUEUED, run_collect, &seen, &err),
	    0);
	assert_int_equal(seen.n, 3);
	assert_true(seen.ids[0] == a && seen.ids[1] == b && seen.ids[2] == c);
	assert_string_equal(seen.jobs[2], "k");
	assert_true(seen.instr[0] == 1 && seen.instr[1] == 0);
	assert_true(seen.due[0] == 0 && seen.due[1] == 60 && seen.due[2] == 0);
	assert_true(seen.local[0] == 0 && seen.local[1] == 0 && seen.local[2]);

	/* a callback returning non-zero stops the listing early */
	memset(&seen, 0, sizeof(seen));
	seen.stop_after = 1;
	assert_int_equal(
	    tstore_run_list_state(f->s, TRUN_QUEUED, run_collect, &seen, &err),
	    0);
	assert_int_equal(seen.n, 1);

	assert_int_equal(tstore_run_active(f->s, "j", &active, &err), 0);
	assert_true(active == a);
	assert_int_equal(
	    tstore_run_set_state(f->s, a, TRUN_RUNNING, "", 400, &err), 0);
	assert_int_equal(tstore_run_active(f->s, "j", &active, &err), 0);
	assert_true(active == a);
	assert_int_equal(tstore_run_set_state(
			     f->s, a, TRUN_FINISHED, "succeeded", 500, &err),
	    0);
	assert_int_equal(tstore_run_active(f->s, "j", &active, &err), 0);
	assert_true(active == b);
	assert_int_equal(
	    tstore_run_set_state(f->s, b, TRUN_FINISHED, "failed", 500, &err),
	    0);
	assert_int_equal(tstore_run_active(f->s, "j", &active, &err), 0);
	assert_true(active == 0);
	assert_int_equal(tstore_run_active(f->s, "none", &active, &err), 0);
	assert_true(active == 0);

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(tstore_run_list_state(
			     f->s, TRUN_FINISHED, run_collect, &seen, &err),
	    0);
	assert_int_equal(seen.n, 2);
	assert_true(seen.ids[0] == a && seen.ids[1] == b);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(
	    tstore_run_list_state(f->s, TRUN_RUNNING, run_collect, &seen, &err),
	    0);
	assert_int_equal(seen.n, 0);

	assert_int_equal(
	    tstore_run_set_state(f->s, 9999, TRUN_RUNNING, "", 1, &err), -1);
	assert_int_equal(err.code, CERR_NOT_FOUND);
	assert_int_equal(
	    tstore_run_set_state(f->s, a, (enum trun_state)9, "", 1, &err), -1);
	assert_int_equal(err.code, CERR_INVALID);
	assert_int_equal(tstore_run_list_state(f->s, (enum trun_state) - 1,
			     run_collect, &seen, &err),
	    -1);
}

struct reenter {
	struct tstore *s;
	int inner_rc;
	struct cerr inner_err;
	int marked;
};

/* Marks each queued run running from inside the listing (allowed), and
 * tries to start the same listing again (refused). */
static int
run_reenter(void *arg, const struct tstore_run *row)
{
	struct reenter *r = arg;
	struct run_seen seen = {0};
	struct cerr err;

	if (tstore_run_set_state(
		r->s, row->run_id, TRUN_RUNNING, "", 1, &err) == 0)
		r->marked++;
	r->inner_rc = tstore_run_list_state(
	    r->s, TRUN_QUEUED, run_collect, &seen, &r->inner_err);
	return 0;
}

static void
test_tstore_list_reentry(void **state)
{
	struct fixture *f = *state;
	struct reenter r = {f->s, 0, {0}, 0};
	struct cerr err;
	int64_t id;
	int existed;

	for (int i = 1; i <= 3; i++)
		assert_int_equal(
		    tstore_run_add(f->s, "j", 0, i, 0, 1, &id, &existed, &err),
		    0);
	assert_int_equal(
	    tstore_run_list_state(f->s, TRUN_QUEUED, run_reenter, &r, &err), 0);
	assert_int_equal(r.marked, 3);
	assert_int_equal(r.inner_rc, -1);
	assert_non_null(strstr(r.inner_err.msg, "re-entered"));
}

struct outbox_seen {
	int n;
	int64_t seqs[32];
	char bodies[32][16];
	char kinds[32][16];
};

static int
outbox_collect(void *arg, int64_t seq, const char *kind, const char *body)
{
	struct outbox_seen *seen = arg;

	if (seen->n < 32) {
		seen->seqs[seen->n] = seq;
		snprintf(seen->kinds[seen->n], 16, "%s", kind);
		snprintf(seen->bodies[seen->n], 16, "%s", body);
	}
	seen->n++;
	return 0;
}

static void
outbox_add_n(struct tstore *s, int from, int to, int64_t max_items)
{
	struct tstore_outbox_bounds b = {max_items, INT64_MAX, NULL};
	struct cerr err;
	char body[16];

	for (int i = from; i < to; i++) {
		snprintf(body, sizeof(body), "r%d", i);
		if (tstore_outbox_add(s, i % 2 ? "event" : "outcome", body, &b,
			1000 + i, &err) < 0)
			fail_msg("add %d: %s", i, err.msg);
	}
}

static void
test_tstore_outbox(void **state)
{
	static const struct tstore_outbox_bounds no_items = {0, 100, NULL},
						 no_bytes = {5, 0, NULL},
						 five = {5, 100, NULL};
	struct fixture *f = *state;
	struct outbox_seen seen = {0};
	int64_t count, dropped, del[3];
	struct cerr err;

	outbox_add_n(f->s, 0, 5, 100);
	assert_int_equal(
	    tstore_outbox_peek(f->s, 3, outbox_collect, &seen, &err), 0);
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.bodies[0], "r0");
	assert_string_equal(seen.kinds[0], "outcome");
	assert_string_equal(seen.kinds[1], "event");
	assert_string_equal(seen.bodies[2], "r2");
	assert_true(seen.seqs[0] < seen.seqs[1] && seen.seqs[1] < seen.seqs[2]);

	/* acknowledged: r0 and r2, plus an unknown seq */
	del[0] = seen.seqs[0];
	del[1] = seen.seqs[2];
	del[2] = 999999;
	assert_int_equal(tstore_outbox_delete(f->s, del, 3, &err), 0);
	assert_int_equal(tstore_outbox_delete(f->s, del, 0, &err), 0);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(
	    tstore_outbox_peek(f->s, 100, outbox_collect, &seen, &err), 0);
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.bodies[0], "r1");
	assert_string_equal(seen.bodies[1], "r3");
	assert_string_equal(seen.bodies[2], "r4");
	assert_int_equal(tstore_outbox_stats(f->s, &count, &dropped, &err), 0);
	assert_true(count == 3 && dropped == 0);

	/* full at 5: three more adds drop r1, r3, r4 oldest first */
	outbox_add_n(f->s, 5, 10, 5);
	assert_int_equal(tstore_outbox_stats(f->s, &count, &dropped, &err), 0);
	assert_true(count == 5 && dropped == 3);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(
	    tstore_outbox_peek(f->s, 100, outbox_collect, &seen, &err), 0);
	assert_string_equal(seen.bodies[0], "r5");
	assert_string_equal(seen.bodies[4], "r9");

	/* the limit lowered to 2: the add trims to 1 then adds */
	outbox_add_n(f->s, 10, 11, 2);
	assert_int_equal(tstore_outbox_stats(f->s, &count, &dropped, &err), 0);
	assert_true(count == 2 && dropped == 7);

	/* seqs are never reused, even after the outbox empties */
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(
	    tstore_outbox_peek(f->s, 100, outbox_collect, &seen, &err), 0);
	assert_int_equal(tstore_outbox_delete(f->s, seen.seqs, 2, &err), 0);
	outbox_add_n(f->s, 11, 12, 5);
	del[0] = seen.seqs[1];
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(
	    tstore_outbox_peek(f->s, 100, outbox_collect, &seen, &err), 0);
	assert_int_equal(seen.n, 1);
	assert_true(seen.seqs[0] > del[0]);

	assert_int_equal(
	    tstore_outbox_peek(f->s, 0, outbox_collect, &seen, &err), -1);
	assert_int_equal(err.code, CERR_INVALID);
	assert_int_equal(
	    tstore_outbox_add(f->s, "k", "b", &no_items, 1, &err), -1);
	assert_int_equal(
	    tstore_outbox_add(f->s, "k", "b", &no_bytes, 1, &err), -1);
	assert_int_equal(tstore_outbox_add(f->s, "k", "b", NULL, 1, &err), -1);
	assert_int_equal(tstore_outbox_add(f->s, "", "b", &five, 1, &err), -1);
	assert_int_equal(
	    tstore_outbox_add(f->s, "k", NULL, &five, 1, &err), -1);
	assert_int_equal(tstore_outbox_delete(f->s, NULL, 1, &err), -1);
}

static void
test_tstore_transactions(void **state)
{
	struct fixture *f = *state;
	int64_t id, count, dropped, v;
	struct cerr err;
	char *doc = NULL;
	int existed;

	/* rolled back: nothing of it stays, the outbox count included */
	assert_int_equal(tstore_begin(f->s, &err), 0);
	assert_int_equal(tstore_begin(f->s, &err), -1); /* no nesting */
	assert_int_equal(err.code, CERR_INTERNAL);
	assert_int_equal(
	    tstore_run_add(f->s, "j", 0, 77, 0, 1, &id, &existed, &err), 0);
	assert_int_equal(tstore_meta_set_int(f->s, "last_instr", 77, &err), 0);
	assert_int_equal(
	    tstore_job_put(f->s, "j", ORIGIN_MASTER, "{}", 1, &err), 0);
	outbox_add_n(f->s, 0, 3, 2); /* drops one, inside the transaction */
	tstore_rollback(f->s);
	tstore_rollback(f->s); /* harmless without a transaction */
	assert_int_equal(
	    tstore_meta_get_int(f->s, "last_instr", -1, &v, &err), 0);
	assert_true(v == -1);
	assert_int_equal(tstore_job_get(f->s, "j", &doc, NULL, &err), -1);
	assert_int_equal(tstore_outbox_stats(f->s, &count, &dropped, &err), 0);
	assert_true(count == 0 && dropped == 0);
	assert_int_equal(
	    tstore_run_add(f->s, "j", 0, 77, 0, 1, &id, &existed, &err), 0);
	assert_int_equal(existed, 0);

	/* committed: the START and its ledger entry go together */
	assert_int_equal(tstore_begin(f->s, &err), 0);
	assert_int_equal(
	    tstore_run_add(f->s, "j", 0, 78, 0, 1, &id, &existed, &err), 0);
	assert_int_equal(tstore_meta_set_int(f->s, "last_instr", 78, &err), 0);
	outbox_add_n(f->s, 0, 3, 2);
	assert_int_equal(tstore_commit(f->s, &err), 0);
	assert_int_equal(tstore_commit(f->s, &err), -1); /* none open */
	assert_int_equal(err.code, CERR_STORE);

	/* data survives closing and reopening */
	reopen(f);
	assert_int_equal(
	    tstore_meta_get_int(f->s, "last_instr", -1, &v, &err), 0);
	assert_true(v == 78);
	assert_int_equal(
	    tstore_run_add(f->s, "j", 0, 78, 0, 1, &v, &existed, &err), 0);
	assert_int_equal(existed, 1);
	assert_true(v == id);
	assert_int_equal(tstore_outbox_stats(f->s, &count, &dropped, &err), 0);
	assert_true(count == 2 && dropped == 1);
}

/* PRAGMA synchronous of the store's connection: 1 NORMAL, 2 FULL. */
static int
sync_level(struct tstore *s)
{
	sqlite3_stmt *st = NULL;
	int level = -1;

	if (sqlite3_prepare_v2(s->db, "PRAGMA synchronous", -1, &st, NULL) ==
		SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		level = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return level;
}

static void
test_tstore_unsynced(void **state)
{
	struct fixture *f = *state;
	int64_t v;
	struct cerr err;

	assert_int_equal(sync_level(f->s), 2);
	/* skips the fsync of its own commit only */
	assert_int_equal(tstore_begin_unsynced(f->s, &err), 0);
	assert_int_equal(sync_level(f->s), 1);
	assert_int_equal(tstore_meta_set_int(f->s, "cursor", 5, &err), 0);
	assert_int_equal(tstore_commit(f->s, &err), 0);
	assert_int_equal(sync_level(f->s), 2);
	/* a rollback puts it back as well */
	assert_int_equal(tstore_begin_unsynced(f->s, &err), 0);
	assert_int_equal(tstore_meta_set_int(f->s, "cursor", 6, &err), 0);
	tstore_rollback(f->s);
	assert_int_equal(sync_level(f->s), 2);
	/* refused inside an open transaction, which stays synced */
	assert_int_equal(tstore_begin(f->s, &err), 0);
	assert_int_equal(tstore_begin_unsynced(f->s, &err), -1);
	assert_int_equal(err.code, CERR_INTERNAL);
	assert_int_equal(sync_level(f->s), 2);
	assert_int_equal(tstore_commit(f->s, &err), 0);
	/* what was committed survives the daemon closing */
	reopen(f);
	assert_int_equal(tstore_meta_get_int(f->s, "cursor", -1, &v, &err), 0);
	assert_true(v == 5);
	assert_int_equal(sync_level(f->s), 2);
}

static void
test_tstore_file(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;

	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 7);
	sqlite3_finalize(q);
	sqlite3_close(db);
}

struct ack_seen {
	int64_t ids[8];
	int oks[8];
	char errors[8][64];
	int n;
};

static int
ack_cb(void *arg, int64_t id, int ok, const char *error)
{
	struct ack_seen *a = arg;

	a->ids[a->n] = id;
	a->oks[a->n] = ok;
	snprintf(a->errors[a->n], sizeof(a->errors[0]), "%s", error);
	a->n++;
	return a->n == 8;
}

static void
test_tstore_acks(void **state)
{
	struct fixture *f = *state;
	struct ack_seen a;
	struct cerr err;

	assert_int_equal(tstore_ack_add(f->s, 7, 1, "", &err), 0);
	assert_int_equal(tstore_ack_add(f->s, 5, 0, "job x: bad", &err), 0);
	/* the first outcome for an id stands */
	assert_int_equal(tstore_ack_add(f->s, 5, 1, "", &err), 0);
	assert_int_equal(tstore_ack_add(f->s, 0, 1, "", &err), -1);
	memset(&a, 0, sizeof(a));
	assert_int_equal(tstore_ack_list(f->s, 10, ack_cb, &a, &err), 0);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.ids[0], 5);
	assert_int_equal(a.oks[0], 0);
	assert_string_equal(a.errors[0], "job x: bad");
	assert_int_equal(a.ids[1], 7);
	/* a rolled-back transaction leaves no ack behind */
	assert_int_equal(tstore_begin(f->s, &err), 0);
	assert_int_equal(tstore_ack_add(f->s, 9, 1, "", &err), 0);
	tstore_rollback(f->s);
	assert_int_equal(tstore_ack_delete_upto(f->s, 5, &err), 0);
	memset(&a, 0, sizeof(a));
	assert_int_equal(tstore_ack_list(f->s, 10, ack_cb, &a, &err), 0);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.ids[0], 7);
}

static int
count_cb(void *arg, const struct tstore_run *row)
{
	(*(int *)arg)++;
	return 0;
}

static void
test_tstore_run_prune(void **state)
{
	struct fixture *f = *state;
	int64_t old_run, new_run, queued;
	int existed, n = 0;
	struct cerr err;

	assert_int_equal(
	    tstore_run_add(f->s, "j", 0, 1, 0, 100, &old_run, &existed, &err),
	    0);
	assert_int_equal(tstore_run_set_state(f->s, old_run, TRUN_FINISHED,
			     "succeeded", 100, &err),
	    0);
	assert_int_equal(
	    tstore_run_add(f->s, "j", 0, 2, 0, 200, &new_run, &existed, &err),
	    0);
	assert_int_equal(tstore_run_set_state(f->s, new_run, TRUN_FINISHED,
			     "succeeded", 300, &err),
	    0);
	assert_int_equal(
	    tstore_run_add(f->s, "j", 0, 3, 0, 50, &queued, &existed, &err), 0);
	assert_int_equal(tstore_run_prune(f->s, 250, &err), 0);
	assert_int_equal(
	    tstore_run_list_state(f->s, TRUN_FINISHED, count_cb, &n, &err), 0);
	assert_int_equal(n, 1); /* only the newer finished run */
	n = 0;
	assert_int_equal(
	    tstore_run_list_state(f->s, TRUN_QUEUED, count_cb, &n, &err), 0);
	assert_int_equal(n, 1); /* queued runs are never pruned */
}

/* A running step's process group is kept with its run until replaced by
 * the next step's. */
static void
test_tstore_run_pgid(void **state)
{
	struct fixture *f = *state;
	int64_t run, pgid = -1, start = -1;
	int existed;
	struct cerr err;

	assert_int_equal(
	    tstore_run_add(f->s, "j", 0, 1, 0, 100, &run, &existed, &err), 0);
	assert_int_equal(
	    tstore_run_get_pgid(f->s, run, &pgid, &start, &err), 0);
	assert_int_equal(pgid, 0);
	assert_int_equal(start, 0);
	assert_int_equal(
	    tstore_run_set_pgid(f->s, run, 4242, 987654321, &err), 0);
	assert_int_equal(
	    tstore_run_set_pgid(f->s, run, 4343, 987654399, &err), 0);
	assert_int_equal(
	    tstore_run_get_pgid(f->s, run, &pgid, &start, &err), 0);
	assert_int_equal(pgid, 4343);
	assert_int_equal(start, 987654399);
	assert_int_equal(tstore_run_set_pgid(f->s, run + 1, 1, 1, &err), -1);
	assert_int_equal(err.code, CERR_NOT_FOUND);
	assert_int_equal(
	    tstore_run_get_pgid(f->s, run + 1, &pgid, &start, &err), -1);
	assert_int_equal(err.code, CERR_NOT_FOUND);
}

/* A store made by the first release (schema 1) is migrated in place and
 * keeps its data. */
static void
test_tstore_migrate_v1(void **state)
{
	struct fixture *f = *state;
	char path[128];
	sqlite3 *db = NULL;
	struct tstore *s = NULL;
	struct cerr err;
	struct run_seen seen = {0};
	char *doc = NULL;
	enum job_origin origin;
	int64_t run;
	int existed;

	snprintf(path, sizeof(path), "%s/old.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db,
		"CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
		"CREATE TABLE jobs (name TEXT PRIMARY KEY, origin TEXT NOT NULL"
		" CHECK (origin IN ('master', 'local')), doc TEXT NOT NULL,"
		" updated_at INTEGER NOT NULL);"
		"CREATE TABLE runs (run_id INTEGER PRIMARY KEY AUTOINCREMENT,"
		" job TEXT NOT NULL, instr_id INTEGER NOT NULL DEFAULT 0,"
		" due_at INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL CHECK"
		" (state IN ('queued', 'running', 'finished')), outcome TEXT NOT"
		" NULL DEFAULT '', created_at INTEGER NOT NULL, updated_at INTEGER"
		" NOT NULL);"
		"CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
		" kind TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT"
		" NULL);"
		"INSERT INTO jobs VALUES ('kept', 'master', '{}', 1);"
		"INSERT INTO jobs VALUES ('mine', 'local', '{}', 1);"
		"INSERT INTO runs (job, state, created_at, updated_at) VALUES"
		" ('kept', 'queued', 1, 1), ('mine', 'queued', 1, 1);"
		"PRAGMA user_version = 1;",
		NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(tstore_open(path, &s, &err), 0);
	assert_int_equal(tstore_job_get(s, "kept", &doc, &origin, &err), 0);
	assert_string_equal(doc, "{}");
	free(doc);
	/* runs from before schema 5 take their job's origin */
	assert_int_equal(
	    tstore_run_list_state(s, TRUN_QUEUED, run_collect, &seen, &err), 0);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.jobs[1], "mine");
	assert_true(seen.local[0] == 0 && seen.local[1] == 1);
	assert_int_equal(tstore_ack_add(s, 1, 1, "", &err), 0);
	assert_int_equal(
	    tstore_run_add(s, "kept", 0, 1, 0, 1, &run, &existed, &err), 0);
	assert_int_equal(tstore_run_set_pgid(s, run, 77, 88, &err), 0);
	tstore_close(s);
	unlink(path);
	snprintf(path, sizeof(path), "%s/old.db-wal", f->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/old.db-shm", f->dir);
	unlink(path);
}

/* Raw files next to the fixture's store for the refusal cases. */
static void
test_tstore_open_refusals(void **state)
{
	struct fixture *f = *state;
	struct tstore *s = (struct tstore *)1;
	struct cerr err;
	char path[128];
	sqlite3 *db = NULL;
	FILE *fp;

	/* a store from a newer cohortd is refused, and left as it was */
	snprintf(path, sizeof(path), "%s/newer.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
			     "CREATE TABLE x (a); "
			     "PRAGMA user_version = 99",
			     NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(tstore_open(path, &s, &err), -1);
	assert_null(s);
	assert_int_equal(err.code, CERR_STORE);
	assert_non_null(strstr(err.msg, "schema version 99 is newer"));
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "SELECT a FROM x", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	unlink(path);

	/* not a database */
	snprintf(path, sizeof(path), "%s/garbage.db", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	for (int i = 0; i < 200; i++)
		fputs("this is not sqlite ", fp);
	fclose(fp);
	assert_int_equal(tstore_open(path, &s, &err), -1);
	assert_int_equal(err.code, CERR_STORE);
	assert_non_null(strstr(err.msg, "garbage.db"));
	unlink(path);

	/* a directory that does not exist */
	snprintf(path, sizeof(path), "%s/missing/t.db", f->dir);
	assert_int_equal(tstore_open(path, &s, &err), -1);
	assert_int_equal(err.code, CERR_STORE);
	assert_non_null(strstr(err.msg, "No such file"));
}

/* A full disk, imitated with RLIMIT_FSIZE: the write fails with an error
 * (never a crash), nothing half-written stays, and the store works again
 * once there is room. */
static void
test_tstore_disk_full(void **state)
{
	static const struct tstore_outbox_bounds roomy = {
	    1000, INT64_MAX, NULL};
	struct fixture *f = *state;
	struct rlimit old, small;
	int64_t count, dropped;
	struct cerr err;
	char *body = malloc(64 * 1024);
	int failed_at = -1;

	assert_non_null(body);
	memset(body, 'x', 64 * 1024 - 1);
	body[64 * 1024 - 1] = '\0';
	outbox_add_n(f->s, 0, 1, 1000);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 512 * 1024;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	for (int i = 0; i < 64 && failed_at < 0; i++)
		if (tstore_outbox_add(f->s, "big", body, &roomy, 1, &err) < 0)
			failed_at = i;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_true(failed_at > 0);
	assert_int_equal(err.code, CERR_STORE);
	assert_non_null(strstr(err.msg, "tstore: outbox add: "));
	assert_int_equal(tstore_outbox_stats(f->s, &count, &dropped, &err), 0);
	assert_true(count == 1 + failed_at);
	outbox_add_n(f->s, 1, 2, 1000);
	assert_int_equal(tstore_outbox_stats(f->s, &count, &dropped, &err), 0);
	assert_true(count == 2 + failed_at);
	free(body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_tstore_meta, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tstore_jobs, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_tstore_run_add, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_tstore_run_states, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_tstore_list_reentry, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_tstore_outbox, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_tstore_transactions, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_tstore_unsynced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tstore_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tstore_acks, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_tstore_run_prune, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_tstore_run_pgid, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_tstore_migrate_v1, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_tstore_open_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_tstore_disk_full, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
