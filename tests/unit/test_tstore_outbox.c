/*
 * The outbox's byte bound (outbox_max_bytes): the oldest records lose
 * their outputs first, records go whole only when outputs are not
 * enough, the newest is kept whole, and a store from before the bound
 * learns its records' sizes when it is migrated.
 *
 * The cases use a stand-in strip so that every size is exact: a body is
 * a head of HEAD_BYTES (its job row) and, when it has output, ';' and the
 * output; stripped, only the head is left. A run record through the
 * target's own strip (outbox_bound.c) is checked on its own.
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

#include <sqlite3.h>

#include "common/json.h"
#include "common/runrec.h"
#include "target/outbox_bound.h"
#include "target/tstore.h"
#include "target/tstore_db.h"
#include "target/upload_fit.h"

#define HEAD_BYTES 100
#define MAX_RECORDS 8
#define BODY_MAX 4096

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
	strcpy(f->dir, "/tmp/cohort-tstore-outbox-XXXXXX");
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

/* The stand-in strip: a "run" body loses ';' and what follows. */
static int
strip_head(const char *kind, const char *body, char **out, struct cerr *err)
{
	const char *cut = strchr(body, ';');

	(void)err;
	*out = NULL;
	if (strcmp(kind, "run") != 0 || cut == NULL)
		return 0;
	*out = strndup(body, (size_t)(cut - body));
	return *out != NULL ? 0 : cerr_set(err, CERR_INTERNAL, "out of memory");
}

/* Record id's body: its head (id, then 'o' up to HEAD_BYTES) and, when
 * output > 0, ';' and output bytes of 'x'. Caller frees. */
static char *
body_of(int id, int output)
{
	char *b = malloc(HEAD_BYTES + 1 + (size_t)output + 1);

	assert_non_null(b);
	memset(b, 'o', HEAD_BYTES);
	b[snprintf(b, HEAD_BYTES, "r%d", id)] = 'o';
	b[HEAD_BYTES] = '\0';
	if (output > 0) {
		b[HEAD_BYTES] = ';';
		memset(b + HEAD_BYTES + 1, 'x', (size_t)output);
		b[HEAD_BYTES + 1 + output] = '\0';
	}
	return b;
}

struct record_in {
	const char *kind;
	int output; /* bytes */
};

/* What one record should be after every add: its id, whether it is
 * still whole or down to its head. */
struct record_out {
	int id;
	int whole;
};

struct bound_case {
	const char *name;
	int64_t max_bytes;
	int strip; /* 0: no strip callback */
	struct record_in in[MAX_RECORDS];
	int nin;
	struct record_out out[MAX_RECORDS];
	int nout;
	int64_t dropped;
};

/* 1101 bytes whole, HEAD_BYTES stripped */
#define RUN1K                                                                  \
	{                                                                      \
		"run", 1000                                                    \
	}

static const struct bound_case cases[] = {
    /* the third add needs 803 bytes: the first run's output is enough;
     * the fourth needs 903: the second's */
    {"outputs of the oldest go first", 2500, 1, {RUN1K, RUN1K, RUN1K, RUN1K}, 4,
	{{1, 0}, {2, 0}, {3, 1}, {4, 1}}, 4, 0},
    /* an event has no output to lose: it is passed, not dropped */
    {"an event is passed over", 2500, 1, {{"event", 1000}, RUN1K, RUN1K}, 3,
	{{1, 1}, {2, 0}, {3, 1}}, 3, 0},
    /* 350 bytes hold three heads: every add strips the one before it,
     * and with four heads even the newest's outputs could not make room,
     * so the oldest goes whole */
    {"records go whole only when outputs are not enough", 350, 1,
	{RUN1K, RUN1K, RUN1K, RUN1K}, 4, {{2, 0}, {3, 0}, {4, 1}}, 3, 1},
    /* one record over the bound on its own is kept whole, and pushes out
     * no outcome: the older record only loses its output */
    {"the newest is kept whole", 500, 1, {RUN1K, {"run", 3000}}, 2,
	{{1, 0}, {2, 1}}, 2, 0},
    {"without a strip the oldest go whole", 2500, 0, {RUN1K, RUN1K, RUN1K}, 3,
	{{2, 1}, {3, 1}}, 2, 1},
};

struct seen {
	int n;
	char kinds[MAX_RECORDS][16];
	char *bodies[MAX_RECORDS];
	int64_t bytes;
};

static int
seen_cb(void *arg, int64_t seq, const char *kind, const char *body)
{
	struct seen *s = arg;

	(void)seq;
	if (s->n < MAX_RECORDS) {
		snprintf(s->kinds[s->n], sizeof(s->kinds[0]), "%s", kind);
		s->bodies[s->n] = strdup(body);
	}
	s->n++;
	s->bytes += (int64_t)strlen(body);
	return 0;
}

static void
seen_free(struct seen *s)
{
	for (int i = 0; i < s->n && i < MAX_RECORDS; i++)
		free(s->bodies[i]);
}

static void
check_case(struct tstore *st, const struct bound_case *c)
{
	struct tstore_outbox_bounds b = {
	    100, c->max_bytes, c->strip ? strip_head : NULL};
	struct seen seen = {0};
	int64_t count, dropped, bytes;
	struct cerr err;

	for (int i = 0; i < c->nin; i++) {
		char *body = body_of(i + 1, c->in[i].output);

		if (tstore_outbox_add(st, c->in[i].kind, body, &b, 1, &err) < 0)
			fail_msg("%s: add %d: %s", c->name, i + 1, err.msg);
		free(body);
	}
	assert_int_equal(tstore_outbox_peek(st, 100, seen_cb, &seen, &err), 0);
	assert_int_equal(tstore_outbox_stats(st, &count, &dropped, &err), 0);
	assert_int_equal(tstore_outbox_bytes(st, &bytes, &err), 0);
	if (seen.n != c->nout || dropped != c->dropped)
		fail_msg("%s: %d records, %lld dropped; want %d, %lld", c->name,
		    seen.n, (long long)dropped, c->nout, (long long)c->dropped);
	assert_int_equal(count, c->nout);
	assert_int_equal(bytes, seen.bytes); /* the sizes are the bodies' */
	for (int i = 0; i < c->nout; i++) {
		const struct record_out *want = &c->out[i];
		char *body = body_of(
		    want->id, want->whole ? c->in[want->id - 1].output : 0);

		if (strcmp(seen.bodies[i], body) != 0)
			fail_msg("%s: record %d: want r%d %s, got %.12s... "
				 "(%zu bytes)",
			    c->name, i, want->id,
			    want->whole ? "whole" : "stripped", seen.bodies[i],
			    strlen(seen.bodies[i]));
		free(body);
	}
	seen_free(&seen);
}

static void
test_outbox_byte_bound(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture *f;

		assert_int_equal(setup(state), 0);
		f = *state;
		check_case(f->s, &cases[i]);
		teardown(state);
	}
}

/* A record is read by the bound once, and a strip that fails undoes the
 * whole add: the record it failed on is the next one stripped. */
static int strip_calls, strip_fails;

static int
strip_counting(const char *kind, const char *body, char **out, struct cerr *err)
{
	strip_calls++;
	*out = NULL;
	if (strip_fails)
		return cerr_set(err, CERR_INTERNAL, "strip: out of memory");
	return strip_head(kind, body, out, err);
}

static void
add_run(
    struct tstore *s, const struct tstore_outbox_bounds *b, int id, int want_rc)
{
	char *body = body_of(id, 1000);
	struct cerr err;

	if (tstore_outbox_add(s, "run", body, b, 1, &err) != want_rc)
		fail_msg("add r%d: want %d (%s)", id, want_rc, err.msg);
	free(body);
}

static void
test_outbox_strip_reads_once(void **state)
{
	struct fixture *f = *state;
	struct tstore_outbox_bounds b = {100, 2500, strip_counting};
	struct seen seen = {0};
	int64_t count, dropped;
	struct cerr err;

	for (int i = 1; i <= 4; i++)
		add_run(f->s, &b, i, 0);
	/* adds 3 and 4 each stripped one record, reading nothing twice */
	assert_int_equal(strip_calls, 2);
	/* 2402 bytes held: a small record fits, nothing is read */
	assert_int_equal(tstore_outbox_add(f->s, "event", "e", &b, 1, &err), 0);
	assert_int_equal(strip_calls, 2);
	strip_fails = 1;
	add_run(f->s, &b, 5, -1);
	strip_fails = 0;
	assert_int_equal(strip_calls, 3);
	assert_int_equal(tstore_outbox_stats(f->s, &count, &dropped, &err), 0);
	assert_true(count == 5 && dropped == 0);
	/* r3 was not passed: it loses its output now, and r4 too (1004
	 * bytes are needed, r3 frees 1001) */
	add_run(f->s, &b, 5, 0);
	assert_int_equal(strip_calls, 5);
	assert_int_equal(
	    tstore_outbox_peek(f->s, 100, seen_cb, &seen, &err), 0);
	assert_int_equal(seen.n, 6);
	assert_int_equal(strlen(seen.bodies[2]), HEAD_BYTES);
	assert_int_equal(strlen(seen.bodies[3]), HEAD_BYTES);
	assert_int_equal(strlen(seen.bodies[5]), HEAD_BYTES + 1001);
	seen_free(&seen);
}

static json_t *
step_json(int step, const char *output)
{
	return json_pack("{s:i,s:i,s:s,s:s,s:i,s:I,s:I,s:s,s:s}", "step", step,
	    "attempt", 1, "step_name", "s", "outcome", "failed", "exit_code", 3,
	    "started_ms", (json_int_t)1700000000000, "duration_ms",
	    (json_int_t)5, "message", "exit 3", "output", output);
}

/* A run report as a target stores it, with one big and one short
 * output. Caller frees. */
static char *
run_body(const char *big)
{
	json_t *v = json_pack("{s:I,s:s,s:I,s:s,s:i,s:I,s:I,s:i,s:s,s:[o,o]}",
	    "target_run_id", (json_int_t)42, "job", "chatty", "instr_id",
	    (json_int_t)0, "outcome", "failed", "exit_code", 3, "started_ms",
	    (json_int_t)1700000000000, "duration_ms", (json_int_t)9,
	    "tz_offset_s", 0, "message", "step 2 failed", "steps",
	    step_json(1, big), step_json(2, "tail\n"));
	char *text = json_dump_compact(v);

	json_decref(v);
	assert_non_null(text);
	return text;
}

/* The target's strip: outputs become a line that names their size; the
 * job row and every step's outcome stay, and the master still takes the
 * report. */
static void
test_outbox_bound_strip_run(void **state)
{
	char *big = malloc(5001), *body, *bare = NULL;
	struct run_report *rep = NULL;
	json_t *v, *steps;
	struct cerr err;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', 5000);
	big[5000] = '\0';
	body = run_body(big);
	assert_int_equal(outbox_bound_strip("event", body, &bare, &err), 0);
	assert_null(bare);
	assert_int_equal(
	    outbox_bound_strip("run", "{not json", &bare, &err), 0);
	assert_null(bare);
	assert_int_equal(outbox_bound_strip("run", body, &bare, &err), 0);
	assert_non_null(bare);
	assert_true(strlen(bare) < strlen(body) - 4500);
	v = json_loads(bare, 0, NULL);
	assert_non_null(v);
	assert_int_equal(run_report_from_json(v, &rep, &err), 0);
	assert_int_equal(rep->outcome, OUTCOME_FAILED);
	assert_int_equal(rep->exit_code, 3);
	assert_string_equal(rep->message, "step 2 failed");
	assert_int_equal(rep->nsteps, 2);
	assert_int_equal(rep->steps[0].outcome, OUTCOME_FAILED);
	assert_true(strncmp(rep->steps[0].output, UPLOAD_FIT_DROPPED,
			strlen(UPLOAD_FIT_DROPPED)) == 0);
	assert_non_null(strstr(rep->steps[0].output, " 5000 bytes"));
	assert_non_null(strstr(rep->steps[0].output, "history has it whole"));
	/* shorter than its marker: kept */
	assert_string_equal(rep->steps[1].output, "tail\n");
	steps = json_object_get(v, "steps");
	assert_int_equal(json_array_size(steps), 2);
	run_report_free(rep);
	json_decref(v);
	/* stripped once, nothing more to take out */
	free(body);
	body = bare;
	assert_int_equal(outbox_bound_strip("run", body, &bare, &err), 0);
	assert_null(bare);
	free(body);
	free(big);
}

static void
exec_ok(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

/* A store from before schema 6: its records learn their sizes, in bytes
 * (not characters), and the byte bound works on them. */
static void
test_outbox_migrate_sizes(void **state)
{
	struct fixture *f = *state;
	struct tstore_outbox_bounds b = {100, 2500, strip_head};
	struct seen seen = {0};
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int64_t bytes;
	struct cerr err;
	char *body;

	tstore_close(f->s);
	f->s = NULL;
	/* schema 5, as a cohortd before the byte bound left it */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	exec_ok(db,
	    "DROP INDEX outbox_size;"
	    "ALTER TABLE outbox DROP COLUMN size;"
	    "DROP TABLE run_steps;"
	    "ALTER TABLE runs DROP COLUMN started_ms;"
	    "PRAGMA user_version = 5;");
	body = body_of(1, 1000);
	assert_int_equal(sqlite3_prepare_v2(db,
			     "INSERT INTO outbox(kind, body, created_at) "
			     "VALUES ('run', ?1, 1), ('event', "
			     "'\xc3\xa9\xc3\xa9\xc3\xa9', 1)",
			     -1, &q, NULL),
	    SQLITE_OK);
	assert_int_equal(
	    sqlite3_bind_text(q, 1, body, -1, SQLITE_TRANSIENT), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_DONE);
	sqlite3_finalize(q);
	free(body);
	sqlite3_close(db);

	assert_int_equal(tstore_open(f->path, &f->s, &err), 0);
	assert_int_equal(tstore_outbox_bytes(f->s, &bytes, &err), 0);
	assert_int_equal(bytes, HEAD_BYTES + 1 + 1000 + 6);
	/* 1107 + 1101 + 1101 is over 2500: the migrated run loses its
	 * output, so its size was known */
	for (int i = 2; i <= 3; i++) {
		body = body_of(i, 1000);
		assert_int_equal(
		    tstore_outbox_add(f->s, "run", body, &b, 1, &err), 0);
		free(body);
	}
	assert_int_equal(
	    tstore_outbox_peek(f->s, 100, seen_cb, &seen, &err), 0);
	assert_int_equal(seen.n, 4);
	assert_int_equal(strlen(seen.bodies[0]), HEAD_BYTES);
	assert_int_equal(tstore_outbox_bytes(f->s, &bytes, &err), 0);
	assert_int_equal(bytes, seen.bytes);
	seen_free(&seen);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_outbox_byte_bound),
	    cmocka_unit_test_setup_teardown(
		test_outbox_strip_reads_once, setup, teardown),
	    cmocka_unit_test(test_outbox_bound_strip_run),
	    cmocka_unit_test_setup_teardown(
		test_outbox_migrate_sizes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
