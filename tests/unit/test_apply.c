/*
 * Unit tests for applying the master's instructions on a target: every
 * operation, idempotence (a batch applied twice changes nothing the second
 * time and a START never makes two runs), the first failure stopping the
 * batch, and the acks kept in the local store with their errors.
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
#include "target/defect.h"
#include "target/target.h"
#include "target/tstore.h"

struct fixture {
	char dir[64];
	struct conf conf;
	struct target t;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[128];
	struct cerr err;

	if (f == NULL)
		return -1;
	log_setup("test", LOG_LVL_ERROR, 0);
	strcpy(f->dir, "/tmp/cohort-apply-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	conf_defaults(&f->conf);
	strcpy(f->conf.name, "web-1");
	strcpy(f->conf.state_dir, f->dir);
	f->t.conf = &f->conf;
	f->t.poll_interval_s = 60;
	f->t.base = event_base_new();
	snprintf(path, sizeof(path), "%s/target.db", f->dir);
	if (f->t.base == NULL || tstore_open(path, &f->t.store, &err) < 0 ||
	    runs_recover(&f->t, &err) < 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	runs_shutdown(&f->t);
	tstore_close(f->t.store);
	event_base_free(f->t.base);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static json_t *
batch(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	assert_non_null(v);
	return v;
}

#define JOB(name) "{\"name\":\"" name "\",\"steps\":[{\"command\":\"true\"}]}"

static void
apply_text(struct fixture *f, const char *text)
{
	json_t *b = batch(text);

	apply_batch(&f->t, b);
	json_decref(b);
}

static int64_t
meta(struct fixture *f, const char *key)
{
	int64_t v = -1;
	struct cerr err;

	assert_int_equal(tstore_meta_get_int(f->t.store, key, 0, &v, &err), 0);
	return v;
}

static int
count_cb(void *arg, const struct tstore_run *row)
{
	(*(int *)arg)++;
	return 0;
}

static int
queued_runs(struct fixture *f)
{
	struct cerr err;
	int n = 0;

	assert_int_equal(
	    tstore_run_list_state(f->t.store, TRUN_QUEUED, count_cb, &n, &err),
	    0);
	return n;
}

struct acks {
	int n;
	int64_t ids[16];
	int oks[16];
	char errors[16][256];
};

static int
ack_cb(void *arg, int64_t id, int ok, const char *error)
{
	struct acks *a = arg;

	a->ids[a->n] = id;
	a->oks[a->n] = ok;
	snprintf(a->errors[a->n], sizeof(a->errors[0]), "%s", error);
	return ++a->n == 16;
}

static void
read_acks(struct fixture *f, struct acks *a)
{
	struct cerr err;

	memset(a, 0, sizeof(*a));
	assert_int_equal(tstore_ack_list(f->t.store, 16, ack_cb, a, &err), 0);
}

static int
has_job(struct fixture *f, const char *name)
{
	enum job_origin origin;
	struct cerr err;
	char *doc = NULL;
	int rc = tstore_job_get(f->t.store, name, &doc, &origin, &err);

	free(doc);
	return rc == 0;
}

static void
test_insert_start_idempotent(void **state)
{
	struct fixture *f = *state;
	const char *text =
	    "[{\"id\":1,\"op\":\"insert\",\"object\":\"a\","
	    "\"payload\":" JOB(
		"a") "},"
		     "{\"id\":2,\"op\":\"start\",\"object\":\"a\","
		     "\"payload\":{\"job\":\"a\"}}]";
	struct acks a;

	apply_text(f, text);
	assert_true(has_job(f, "a"));
	assert_int_equal(queued_runs(f), 1);
	assert_int_equal(meta(f, "last_instr"), 2);
	/* delivered again (a lost reply): nothing changes, no second run */
	apply_text(f, text);
	assert_int_equal(queued_runs(f), 1);
	read_acks(f, &a);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.ids[0], 1);
	assert_int_equal(a.oks[0], 1);
	assert_int_equal(a.ids[1], 2);
	/* update, then delete, then delete again (already gone: fine) */
	apply_text(f,
	    "[{\"id\":3,\"op\":\"update\",\"object\":\"a\","
	    "\"payload\":" JOB(
		"a") "},"
		     "{\"id\":4,\"op\":\"delete\",\"object\":\"a\"},"
		     "{\"id\":5,\"op\":\"delete\",\"object\":\"a\"}]");
	assert_false(has_job(f, "a"));
	assert_int_equal(meta(f, "last_instr"), 5);
	/* an old insert replayed after the delete must not bring it back */
	apply_text(f, text);
	assert_false(has_job(f, "a"));
	assert_int_equal(queued_runs(f), 1);
}

static const struct {
	const char *name;
	const char *batch;
	const char *error; /* in the failure ack */
	int64_t last_instr; /* after the batch */
} failure_cases[] = {
    {"start of a job the target lacks",
	"[{\"id\":10,\"op\":\"start\",\"object\":\"ghost\","
	"\"payload\":{\"job\":\"ghost\"}},"
	"{\"id\":11,\"op\":\"insert\",\"object\":\"b\",\"payload\":" JOB(
	    "b") "}]",
	"job 'ghost' is not on target web-1", 10},
    {"insert of an invalid document",
	"[{\"id\":12,\"op\":\"insert\",\"object\":\"c\",\"payload\":"
	"{\"name\":\"c\",\"steps\":[]}}]",
	"job document: steps", 12},
    {"insert whose document names another job",
	"[{\"id\":13,\"op\":\"insert\",\"object\":\"d\",\"payload\":" JOB(
	    "e") "}]",
	"names 'e'", 13},
    {"poll interval out of range",
	"[{\"id\":14,\"op\":\"set_poll_interval\",\"object\":\"\","
	"\"payload\":{\"poll_interval_s\":0}}]",
	"poll_interval_s", 14},
    {"operation of a newer master",
	"[{\"id\":15,\"op\":\"teleport\",\"object\":\"b\"},"
	"{\"id\":16,\"op\":\"insert\",\"object\":\"b\",\"payload\":" JOB(
	    "b") "}]",
	"unknown operation 'teleport'", 15},
    {"malformed instruction", "[{\"id\":17,\"op\":7,\"object\":\"b\"}]",
	"malformed instruction: instruction.op", 17},
    {"instruction without an operation", "[{\"id\":18,\"object\":\"b\"}]",
	"malformed instruction: instruction.op: missing", 18},
};

static void
test_failures_stop_the_batch(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(failure_cases) / sizeof(failure_cases[0]);
	     i++) {
		struct acks a;
		int found = 0;

		apply_text(f, failure_cases[i].batch);
		assert_int_equal(
		    meta(f, "last_instr"), failure_cases[i].last_instr);
		read_acks(f, &a);
		for (int j = 0; j < a.n; j++) {
			if (a.ids[j] != failure_cases[i].last_instr)
				continue;
			found = 1;
			if (a.oks[j] ||
			    strstr(a.errors[j], failure_cases[i].error) == NULL)
				fail_msg("%s: ack ok=%d '%s'",
				    failure_cases[i].name, a.oks[j],
				    a.errors[j]);
		}
		if (!found)
			fail_msg("%s: no ack", failure_cases[i].name);
	}
	/* nothing after a failure in its batch was applied */
	assert_false(has_job(f, "b"));
	assert_false(has_job(f, "c"));
	assert_false(f->t.apply_stalled);
	/* without a readable id nothing can be recorded: the target waits
	 * before polling again, and applies nothing after it */
	apply_text(f,
	    "[{\"id\":\"x\",\"op\":\"delete\",\"object\":\"b\"},"
	    "{\"id\":19,\"op\":\"insert\",\"object\":\"b\","
	    "\"payload\":" JOB("b") "}]");
	assert_true(f->t.apply_stalled);
	assert_int_equal(meta(f, "last_instr"), 18);
	assert_false(has_job(f, "b"));
}

static void
test_local_job_is_not_replaced(void **state)
{
	struct fixture *f = *state;
	struct cerr err;
	struct acks a;

	assert_int_equal(
	    tstore_job_put(f->t.store, "mine", ORIGIN_LOCAL, "{}", 1, &err), 0);
	apply_text(f,
	    "[{\"id\":1,\"op\":\"insert\",\"object\":\"mine\","
	    "\"payload\":" JOB("mine") "}]");
	read_acks(f, &a);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.oks[0], 0);
	assert_non_null(strstr(a.errors[0], "a local job named 'mine'"));
	/* resync removes master jobs only */
	apply_text(f, "[{\"id\":2,\"op\":\"resync\",\"object\":\"\"}]");
	assert_true(has_job(f, "mine"));
}

static void
test_poll_interval_and_resync(void **state)
{
	struct fixture *f = *state;

	apply_text(f,
	    "[{\"id\":1,\"op\":\"insert\",\"object\":\"a\","
	    "\"payload\":" JOB(
		"a") "},"
		     "{\"id\":2,\"op\":\"set_poll_interval\",\"object\":\"\","
		     "\"payload\":{\"poll_interval_s\":7}},"
		     "{\"id\":3,\"op\":\"resync\",\"object\":\"\"}]");
	assert_int_equal(f->t.poll_interval_s, 7);
	assert_int_equal(meta(f, "poll_interval_s"), 7);
	assert_false(has_job(f, "a"));
	assert_int_equal(meta(f, "last_instr"), 3);
}

/* 70 queued runs of the master's job "a" (starts 2..71), behind 70 of
 * the local job "mine": more than one listing's worth of each. */
static void
queue_many(struct fixture *f)
{
	char text[8192];
	struct cerr err;
	int64_t run_id;
	int existed, n;

	assert_int_equal(
	    tstore_job_put(f->t.store, "mine", ORIGIN_LOCAL, "{}", 1, &err), 0);
	for (int i = 1; i <= 70; i++)
		assert_int_equal(tstore_run_add(f->t.store, "mine", 1, 0, i, 1,
				     &run_id, &existed, &err),
		    0);
	n = snprintf(text, sizeof(text),
	    "[{\"id\":1,\"op\":\"insert\",\"object\":\"a\","
	    "\"payload\":%s}",
	    JOB("a"));
	for (int id = 2; id <= 71; id++)
		n += snprintf(text + n, sizeof(text) - (size_t)n,
		    ",{\"id\":%d,\"op\":\"start\",\"object\":\"a\"}", id);
	snprintf(text + n, sizeof(text) - (size_t)n, "]");
	apply_text(f, text);
	assert_int_equal(queued_runs(f), 140);
}

/* A defect removes the multiserver jobs in the transaction of its ack,
 * then cancels their queued runs (all of them, local ones behind or
 * not), applies nothing after it, not even in a later batch, and holds
 * its ack back while the canceled runs' outcomes wait in the outbox.
 * The master state is then forgotten; local jobs and runs stay. */
static void
test_defect(void **state)
{
	struct fixture *f = *state;
	int64_t left = -1, run_id;
	struct cerr err;
	struct acks a;
	int existed;

	queue_many(f);
	apply_text(f,
	    "[{\"id\":72,\"op\":\"defect\",\"object\":\"\"},"
	    "{\"id\":73,\"op\":\"insert\",\"object\":\"b\","
	    "\"payload\":" JOB("b") "}]");
	assert_true(f->t.defecting);
	assert_int_equal(meta(f, "defecting"), 1);
	assert_int_equal(meta(f, "last_instr"), 72);
	assert_false(has_job(f, "a"));
	assert_false(has_job(f, "b"));
	assert_true(has_job(f, "mine"));
	assert_int_equal(queued_runs(f), 70); /* the local job's */
	read_acks(f, &a);
	assert_int_equal(a.n, 16); /* the list's bound: 72 acks are held */
	/* the canceled runs' outcomes are not uploaded yet */
	assert_false(defect_ready(&f->t));
	/* a later batch is not applied either */
	apply_text(f,
	    "[{\"id\":74,\"op\":\"insert\",\"object\":\"c\","
	    "\"payload\":" JOB("c") "}]");
	assert_false(has_job(f, "c"));
	assert_int_equal(meta(f, "last_instr"), 72);

	/* runs keep their origin: a local run whose job is gone stays, a
	 * multiserver run under a name a local job has now goes */
	assert_int_equal(tstore_run_add(f->t.store, "gone-local", 1, 0, 0, 1,
			     &run_id, &existed, &err),
	    0);
	assert_int_equal(tstore_run_add(f->t.store, "mine", 0, 900, 0, 1,
			     &run_id, &existed, &err),
	    0);
	assert_int_equal(tstore_forget_master(f->t.store, &left, &err), 0);
	assert_true(left >= 70);
	assert_true(defect_ready(&f->t));
	assert_int_equal(meta(f, "last_instr"), 0);
	assert_int_equal(meta(f, "defecting"), 0);
	read_acks(f, &a);
	assert_int_equal(a.n, 0);
	assert_true(has_job(f, "mine"));
	assert_int_equal(queued_runs(f), 71);
	/* enlisted with another master, whose ids start at 1 again: its
	 * start 5 is a run of its own, not taken for the old master's 5 */
	f->t.defecting = 0;
	apply_text(f,
	    "[{\"id\":1,\"op\":\"insert\",\"object\":\"n\","
	    "\"payload\":" JOB("n") "},"
				    "{\"id\":5,\"op\":\"start\",\"object\":"
				    "\"n\"}]");
	assert_int_equal(meta(f, "last_instr"), 5);
	assert_int_equal(queued_runs(f), 72);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_insert_start_idempotent, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_failures_stop_the_batch, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_local_job_is_not_replaced, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_poll_interval_and_resync, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_defect, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
