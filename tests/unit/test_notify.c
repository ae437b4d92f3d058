/*
 * Unit tests for deciding notifications (master/notify.c) against a real
 * store: notify.on against each outcome, whom (the job's operator, else
 * the default), once per run or event, what the payload says, and the
 * checks that keep job documents and operators consistent.
 */
#include "master/notify.h"
#include "test_store.h"

static const struct {
	enum notify_on on;
	enum run_outcome outcome;
	int wanted;
} wanted_cases[] = {
    {NOTIFY_FAILURE, OUTCOME_FAILED, 1},
    {NOTIFY_FAILURE, OUTCOME_INTERRUPTED, 1},
    {NOTIFY_FAILURE, OUTCOME_SUCCEEDED, 0},
    {NOTIFY_FAILURE, OUTCOME_CANCELED, 0},
    {NOTIFY_FAILURE, OUTCOME_RETRYING, 0},
    {NOTIFY_SUCCESS, OUTCOME_SUCCEEDED, 1},
    {NOTIFY_SUCCESS, OUTCOME_FAILED, 0},
    {NOTIFY_COMPLETION, OUTCOME_SUCCEEDED, 1},
    {NOTIFY_COMPLETION, OUTCOME_FAILED, 1},
    {NOTIFY_COMPLETION, OUTCOME_CANCELED, 1},
    {NOTIFY_COMPLETION, OUTCOME_INTERRUPTED, 1},
    {NOTIFY_COMPLETION, OUTCOME_RUNNING, 0},
    {NOTIFY_NEVER, OUTCOME_FAILED, 0},
    {NOTIFY_NEVER, OUTCOME_SUCCEEDED, 0},
};

static void
test_wanted(void **state)
{
	for (size_t i = 0; i < sizeof(wanted_cases) / sizeof(wanted_cases[0]);
	     i++)
		if (notify_wanted(wanted_cases[i].on,
			wanted_cases[i].outcome) != wanted_cases[i].wanted)
			fail_msg("case %zu", i);
}

static void
put_job(struct store *s, const char *name, const char *notify)
{
	char doc[512];
	struct cerr err;

	snprintf(doc, sizeof(doc),
	    "{\"name\":\"%s\",\"steps\":[{\"command\":"
	    "\"true\"}],\"notify\":%s}",
	    name, notify);
	if (store_job_put(s, name, doc, 1, NULL, &err) < 0)
		fail_msg("put job %s: %s", name, err.msg);
}

static void
put_operator(struct store *s, const char *name, int is_default)
{
	struct store_operator op = {.kind = OPERATOR_LOG,
	    .address = "",
	    .is_default = is_default,
	    .created_at = 1};
	struct cerr err;

	snprintf(op.name, sizeof(op.name), "%s", name);
	if (store_operator_add(s, &op, &err) < 0)
		fail_msg("add operator %s: %s", name, err.msg);
}

static void
setup_world(struct store *s)
{
	put_operator(s, "default", 1);
	put_operator(s, "ops", 0);
	put_job(s, "j-fail", "{\"operator\":\"ops\",\"on\":\"failure\"}");
	put_job(s, "j-success", "{\"on\":\"success\"}");
	put_job(s, "j-never", "{\"operator\":\"ops\",\"on\":\"never\"}");
	put_job(s, "j-ghost", "{\"operator\":\"gone\",\"on\":\"completion\"}");
}

struct note {
	char key[STORE_KEY_MAX + 1];
	char op[STORE_NAME_MAX + 1];
	char subject[STORE_TEXT_MAX];
	char payload[2048];
	int n;
};

static int
last_note(void *arg, const struct store_notification *n)
{
	struct note *nt = arg;

	if (nt->n++ > 0)
		return 0; /* newest first: keep the first */
	snprintf(nt->key, sizeof(nt->key), "%s", n->key);
	snprintf(nt->op, sizeof(nt->op), "%s", n->operator_name);
	snprintf(nt->subject, sizeof(nt->subject), "%s", n->subject);
	snprintf(nt->payload, sizeof(nt->payload), "%s", n->payload);
	return 0;
}

static void
newest(struct store *s, struct note *nt)
{
	struct store_notification_filter f = {NULL, -1, 0};
	struct cerr err;

	memset(nt, 0, sizeof(*nt));
	if (store_notification_list(s, &f, last_note, nt, &err) < 0)
		fail_msg("list: %s", err.msg);
}

static const struct {
	const char *job;
	enum run_outcome outcome;
	const char *op; /* NULL: nothing queued */
} run_cases[] = {
    {"j-fail", OUTCOME_FAILED, "ops"},
    {"j-fail", OUTCOME_INTERRUPTED, "ops"},
    {"j-fail", OUTCOME_SUCCEEDED, NULL},
    {"j-fail", OUTCOME_RUNNING, NULL},
    {"j-success", OUTCOME_SUCCEEDED, "default"},
    {"j-success", OUTCOME_FAILED, NULL},
    {"j-never", OUTCOME_FAILED, NULL},
    {"j-ghost", OUTCOME_CANCELED, "default"}, /* its operator is gone */
    {"no-such-job", OUTCOME_FAILED, "default"},
    {"no-such-job", OUTCOME_SUCCEEDED, NULL},
};

static void
test_run_cases(void **state)
{
	struct fx *fx = *state;
	struct run_report *rep;
	struct note nt;
	struct cerr err;
	char key[64];

	setup_world(fx->s);
	for (size_t i = 0; i < sizeof(run_cases) / sizeof(run_cases[0]); i++) {
		int queued = -1, before;

		newest(fx->s, &nt);
		before = nt.n;
		rep = run_report_new(
		    (int64_t)i + 1, run_cases[i].job, 0, 1700000000000, 0);
		rep->outcome = run_cases[i].outcome;
		if (notify_run(fx->s, "web-1", rep, 100, &queued, &err) < 0)
			fail_msg("case %zu: %s", i, err.msg);
		run_report_free(rep);
		newest(fx->s, &nt);
		if (queued != (run_cases[i].op != NULL) ||
		    nt.n != before + queued)
			fail_msg("case %zu: queued %d", i, queued);
		if (!queued)
			continue;
		snprintf(key, sizeof(key), "run:web-1:%zu", i + 1);
		assert_string_equal(nt.key, key);
		assert_string_equal(nt.op, run_cases[i].op);
	}
}

static void
test_run_once_and_payload(void **state)
{
	struct fx *fx = *state;
	struct run_report *rep =
	    run_report_new(42, "j-fail", 0, 1700000000000, 0);
	struct note nt;
	struct cerr err;
	json_t *p;
	int queued = -1;

	setup_world(fx->s);
	rep->outcome = OUTCOME_FAILED;
	rep->exit_code = 3;
	assert_int_equal(run_report_set_message(rep, "exit code 3", &err), 0);
	assert_int_equal(
	    notify_run(fx->s, "web-1", rep, 100, &queued, &err), 0);
	assert_int_equal(queued, 1);
	/* the same outcome uploaded again queues nothing */
	assert_int_equal(
	    notify_run(fx->s, "web-1", rep, 101, &queued, &err), 0);
	assert_int_equal(queued, 0);
	run_report_free(rep);
	newest(fx->s, &nt);
	assert_int_equal(nt.n, 1);
	assert_string_equal(nt.subject, "cohort: job j-fail failed on web-1");
	p = json_loads(nt.payload, 0, NULL);
	assert_non_null(p);
	assert_string_equal(
	    json_string_value(json_object_get(p, "run_id")), "web-1:42");
	assert_string_equal(
	    json_string_value(json_object_get(p, "outcome")), "failed");
	assert_string_equal(
	    json_string_value(json_object_get(p, "operator")), "ops");
	assert_string_equal(
	    json_string_value(json_object_get(p, "message")), "exit code 3");
	assert_int_equal(
	    json_integer_value(json_object_get(p, "exit_code")), 3);
	json_decref(p);
}

static const struct {
	enum event_kind kind;
	const char *job;
	const char *op; /* NULL: nothing queued */
} event_cases[] = {
    {EVENT_USER, NULL, "default"},
    {EVENT_DAEMON_ERROR, NULL, "default"},
    {EVENT_JOB_FAILED, "j-fail", NULL}, /* the run's outcome tells */
    {EVENT_STEP_TIMEOUT, "j-fail", "ops"},
    {EVENT_STEP_TIMEOUT, "j-never", NULL},
    {EVENT_STEP_TIMEOUT, "j-success", "default"},
};

static void
test_event_cases(void **state)
{
	struct fx *fx = *state;
	struct eventrec ev;
	struct note nt;
	struct cerr err;
	int queued;

	setup_world(fx->s);
	for (size_t i = 0; i < sizeof(event_cases) / sizeof(event_cases[0]);
	     i++) {
		assert_int_equal(
		    eventrec_init(&ev, EVENT_WARNING, event_cases[i].kind,
			event_cases[i].job, 0, "disk \xc3\xa9 full", &err),
		    0);
		queued = -1;
		if (notify_event(fx->s, "web-2", &ev, 100, &queued, &err) < 0)
			fail_msg("case %zu: %s", i, err.msg);
		if (queued != (event_cases[i].op != NULL))
			fail_msg("case %zu: queued %d", i, queued);
		if (!queued)
			continue;
		newest(fx->s, &nt);
		assert_string_equal(nt.op, event_cases[i].op);
		assert_non_null(strstr(nt.key, ev.id));
		assert_non_null(
		    strstr(nt.subject, "on web-2: disk \xc3\xa9 full"));
		/* the same event again queues nothing */
		assert_int_equal(
		    notify_event(fx->s, "web-2", &ev, 100, &queued, &err), 0);
		assert_int_equal(queued, 0);
	}
}

static void
test_no_operator_at_all(void **state)
{
	struct fx *fx = *state;
	struct run_report *rep = run_report_new(1, "j", 0, 1, 0);
	struct note nt;
	struct cerr err;
	int queued = -1;

	rep->outcome = OUTCOME_FAILED;
	assert_int_equal(
	    notify_run(fx->s, "web-1", rep, 100, &queued, &err), 0);
	run_report_free(rep);
	assert_int_equal(queued, 0);
	newest(fx->s, &nt);
	assert_int_equal(nt.n, 0);
}

static void
test_operator_checks(void **state)
{
	struct fx *fx = *state;
	char first[STORE_NAME_MAX + 1];
	struct cerr err;

	setup_world(fx->s);
	assert_int_equal(notify_check_operator(fx->s, NULL, &err), 0);
	assert_int_equal(notify_check_operator(fx->s, "ops", &err), 0);
	expect_err(notify_check_operator(fx->s, "gone", &err), &err,
	    CERR_INVALID, "notify.operator: 'gone' is not an operator");
	assert_int_equal(
	    notify_jobs_naming(fx->s, "ops", first, sizeof(first), &err), 1);
	assert_string_equal(first, "j-fail");
	assert_int_equal(
	    notify_jobs_naming(fx->s, "default", first, sizeof(first), &err),
	    0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wanted),
	    T(test_run_cases),
	    T(test_run_once_and_payload),
	    T(test_event_cases),
	    T(test_no_operator_at_all),
	    T(test_operator_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
