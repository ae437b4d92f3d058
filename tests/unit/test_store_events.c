/*
 * Unit tests for the store's events, operators and notifications, and the
 * job view's last outcome per target: adding twice keeps one row, the
 * listing filters, retention, the one default operator, and the claim /
 * retry / finish cycle of a notification.
 */
#include "test_store.h"

static void
make_event(struct store_event *e, const char *target, const char *id,
    enum event_severity sev, const char *message)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->target, sizeof(e->target), "%s", target);
	snprintf(e->event_id, sizeof(e->event_id), "%s", id);
	e->time_ms = 1700000000000;
	e->severity = sev;
	e->kind = EVENT_USER;
	e->message = message;
	e->received_at = 1700000001;
}

static void
add_event(struct store *s, const char *target, const char *id,
    enum event_severity sev, const char *message, int want_added)
{
	struct store_event e;
	struct cerr err;
	int added = -1;

	make_event(&e, target, id, sev, message);
	if (store_event_add(s, &e, &added, &err) < 0)
		fail_msg("add event: %s", err.msg);
	assert_int_equal(added, want_added);
}

static int
collect_event(void *arg, const struct store_event *e)
{
	struct names *nm = arg;

	snprintf(nm->v[nm->n++], sizeof(nm->v[0]), "%s/%s/%s", e->target,
	    eventrec_severity_name(e->severity), e->message);
	return nm->stop_after != 0 && nm->n >= nm->stop_after;
}

#define ID(c) c "0000000000000000000000000000000"

static const struct {
	const char *target;
	int min_severity;
	int64_t limit;
	int n;
	const char *first;
} event_filters[] = {
    {NULL, -1, 0, 4, "web-2/critical/disk gone"},
    {"web-1", -1, 0, 3, "web-1/error/job broke"},
    {NULL, EVENT_WARNING, 0, 3, "web-2/critical/disk gone"},
    {"web-1", EVENT_ERROR, 0, 1, "web-1/error/job broke"},
    {NULL, EVENT_CRITICAL, 0, 1, "web-2/critical/disk gone"},
    {NULL, -1, 2, 2, "web-2/critical/disk gone"},
    {"nobody", -1, 0, 0, NULL},
};

static void
test_events(void **state)
{
	struct fx *fx = *state;
	struct store_event_filter f;
	struct store_event e;
	struct names n;
	struct cerr err;

	add_event(fx->s, "web-1", ID("1"), EVENT_INFO, "hello", 1);
	add_event(fx->s, "web-1", ID("2"), EVENT_WARNING, "disk 90%", 1);
	/* an outbox may upload one twice: one row, the first kept */
	add_event(fx->s, "web-1", ID("2"), EVENT_ERROR, "again", 0);
	add_event(fx->s, "web-1", ID("3"), EVENT_ERROR, "job broke", 1);
	/* the same id from another target is another event */
	add_event(fx->s, "web-2", ID("1"), EVENT_CRITICAL, "disk gone", 1);
	for (size_t i = 0; i < sizeof(event_filters) / sizeof(event_filters[0]);
	     i++) {
		f.target = event_filters[i].target;
		f.min_severity = event_filters[i].min_severity;
		f.limit = event_filters[i].limit;
		memset(&n, 0, sizeof(n));
		if (store_event_list(fx->s, &f, collect_event, &n, &err) < 0)
			fail_msg("case %zu: %s", i, err.msg);
		if (n.n != event_filters[i].n)
			fail_msg("case %zu: %d events, want %d", i, n.n,
			    event_filters[i].n);
		if (n.n > 0)
			assert_string_equal(n.v[0], event_filters[i].first);
	}
	/* refusals change nothing */
	make_event(&e, "web-1", "short", EVENT_INFO, "x");
	expect_err(store_event_add(fx->s, &e, NULL, &err), &err, CERR_INVALID,
	    "bad id");
	make_event(&e, "web\n1", ID("9"), EVENT_INFO, "x");
	expect_err(store_event_add(fx->s, &e, NULL, &err), &err, CERR_INVALID,
	    "control character");
	f.target = NULL;
	f.min_severity = EVENT_SEVERITY_COUNT;
	expect_err(store_event_list(fx->s, &f, collect_event, &n, &err), &err,
	    CERR_INVALID, "unknown severity");
	/* retention keeps the newest */
	assert_int_equal(store_event_trim(fx->s, 2, &err), 0);
	f.min_severity = -1;
	f.limit = 0;
	memset(&n, 0, sizeof(n));
	assert_int_equal(
	    store_event_list(fx->s, &f, collect_event, &n, &err), 0);
	assert_int_equal(n.n, 2);
	assert_string_equal(n.v[1], "web-1/error/job broke");
}

struct op_seen {
	char name[STORE_NAME_MAX + 1];
	char address[256];
	enum operator_kind kind;
	int is_default;
	int n;
};

static int
collect_op(void *arg, const struct store_operator *op)
{
	struct op_seen *o = arg;

	snprintf(o->name, sizeof(o->name), "%s", op->name);
	snprintf(o->address, sizeof(o->address), "%s", op->address);
	o->kind = op->kind;
	o->is_default = op->is_default;
	o->n++;
	return 0;
}

static void
add_op(struct store *s, const char *name, enum operator_kind kind,
    const char *address, int is_default)
{
	struct store_operator op = {.kind = kind,
	    .address = address,
	    .is_default = is_default,
	    .created_at = 5};
	struct cerr err;

	snprintf(op.name, sizeof(op.name), "%s", name);
	if (store_operator_add(s, &op, &err) < 0)
		fail_msg("add operator %s: %s", name, err.msg);
}

static void
expect_default(struct store *s, const char *name)
{
	struct op_seen o;
	struct cerr err;

	memset(&o, 0, sizeof(o));
	assert_int_equal(
	    store_operator_get_default(s, collect_op, &o, &err), 0);
	assert_int_equal(o.n, 1);
	assert_string_equal(o.name, name);
	assert_int_equal(o.is_default, 1);
}

static void
test_operators(void **state)
{
	struct fx *fx = *state;
	struct store_operator op = {.kind = OPERATOR_LOG};
	struct op_seen o;
	struct cerr err;

	expect_err(store_operator_get_default(fx->s, collect_op, &o, &err),
	    &err, CERR_NOT_FOUND, "no default operator");
	add_op(fx->s, "default", OPERATOR_LOG, NULL, 1);
	add_op(fx->s, "ops", OPERATOR_WEBHOOK, "https://hooks.example/x", 0);
	add_op(fx->s, "mail", OPERATOR_EMAIL, "ops@example.org", 0);
	expect_default(fx->s, "default");
	snprintf(op.name, sizeof(op.name), "ops");
	expect_err(store_operator_add(fx->s, &op, &err), &err, CERR_CONFLICT,
	    "exists");
	memset(&o, 0, sizeof(o));
	assert_int_equal(
	    store_operator_get(fx->s, "ops", collect_op, &o, &err), 0);
	assert_int_equal(o.kind, OPERATOR_WEBHOOK);
	assert_string_equal(o.address, "https://hooks.example/x");
	assert_int_equal(o.is_default, 0);
	/* a new default takes over; there is only ever one */
	add_op(fx->s, "pager", OPERATOR_COMMAND, "page-me", 1);
	expect_default(fx->s, "pager");
	assert_int_equal(store_operator_set_default(fx->s, "mail", &err), 0);
	expect_default(fx->s, "mail");
	expect_err(store_operator_set_default(fx->s, "ghost", &err), &err,
	    CERR_NOT_FOUND, "no operator 'ghost'");
	expect_default(fx->s, "mail");
	/* the default cannot go; others can, once */
	expect_err(store_operator_delete(fx->s, "mail", &err), &err,
	    CERR_CONFLICT, "is the default");
	assert_int_equal(store_operator_delete(fx->s, "pager", &err), 0);
	expect_err(store_operator_delete(fx->s, "pager", &err), &err,
	    CERR_NOT_FOUND, "no operator");
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_operator_list(fx->s, collect_op, &o, &err), 0);
	assert_int_equal(o.n, 3);
	assert_string_equal(o.name, "ops"); /* name order: the last one */
	snprintf(op.name, sizeof(op.name), "bad");
	op.kind = OPERATOR_KIND_COUNT;
	expect_err(store_operator_add(fx->s, &op, &err), &err, CERR_INVALID,
	    "unknown kind");
}

static void
add_notification(struct store *s, const char *key, const char *op,
    int64_t next_at, int want_added)
{
	struct store_notification n = {
	    .payload = "{\"a\":1}", .next_at = next_at, .created_at = 100};
	struct cerr err;
	int added = -1;

	snprintf(n.key, sizeof(n.key), "%s", key);
	snprintf(n.operator_name, sizeof(n.operator_name), "%s", op);
	snprintf(n.subject, sizeof(n.subject), "about %s", key);
	if (store_notification_add(s, &n, &added, &err) < 0)
		fail_msg("add notification: %s", err.msg);
	assert_int_equal(added, want_added);
}

struct notes {
	int64_t id[16];
	char key[16][64];
	enum delivery_status status[16];
	int attempts[16];
	char error[16][64];
	int n;
};

static int
collect_note(void *arg, const struct store_notification *n)
{
	struct notes *ns = arg;

	ns->id[ns->n] = n->id;
	snprintf(ns->key[ns->n], sizeof(ns->key[0]), "%s", n->key);
	ns->status[ns->n] = n->status;
	ns->attempts[ns->n] = n->attempts;
	snprintf(ns->error[ns->n], sizeof(ns->error[0]), "%s", n->last_error);
	ns->n++;
	return 0;
}

static void
due(struct store *s, int64_t now, struct notes *ns)
{
	struct cerr err;

	memset(ns, 0, sizeof(*ns));
	if (store_notification_due(s, now, 10, collect_note, ns, &err) < 0)
		fail_msg("due: %s", err.msg);
}

static void
test_notification_cycle(void **state)
{
	struct fx *fx = *state;
	struct notes ns;
	struct cerr err;
	int64_t next;
	int found = -1;

	assert_int_equal(
	    store_notification_next_due(fx->s, &next, &found, &err), 0);
	assert_int_equal(found, 0);
	add_notification(fx->s, "run:web-1:7", "ops", 100, 1);
	add_notification(fx->s, "run:web-1:7", "ops", 100, 0); /* once */
	add_notification(fx->s, "event:web-1:x", "default", 90, 1);
	assert_int_equal(
	    store_notification_next_due(fx->s, &next, &found, &err), 0);
	assert_int_equal(found, 1);
	assert_int_equal(next, 90);
	due(fx->s, 89, &ns);
	assert_int_equal(ns.n, 0);
	due(fx->s, 100, &ns);
	assert_int_equal(ns.n, 2);
	assert_string_equal(ns.key[0], "event:web-1:x"); /* earliest first */
	/* a claim moves next_at on: no longer due */
	assert_int_equal(store_notification_update(fx->s, ns.id[1],
			     DELIVERY_PENDING, 0, 200, NULL, 100, &err),
	    0);
	/* a failed attempt with a retry later, then the last one */
	assert_int_equal(store_notification_update(fx->s, ns.id[0],
			     DELIVERY_PENDING, 1, 150, "HTTP 500", 100, &err),
	    0);
	due(fx->s, 149, &ns);
	assert_int_equal(ns.n, 0);
	due(fx->s, 150, &ns);
	assert_int_equal(ns.n, 1);
	assert_int_equal(ns.attempts[0], 1);
	assert_string_equal(ns.error[0], "HTTP 500");
	assert_int_equal(
	    store_notification_update(fx->s, ns.id[0], DELIVERY_FAILED, 2, 0,
		"connection refused", 150, &err),
	    0);
	due(fx->s, 200, &ns);
	assert_int_equal(ns.n, 1);
	assert_string_equal(ns.key[0], "run:web-1:7");
	assert_int_equal(store_notification_update(fx->s, ns.id[0],
			     DELIVERY_DELIVERED, 1, 0, "", 200, &err),
	    0);
	assert_int_equal(
	    store_notification_next_due(fx->s, &next, &found, &err), 0);
	assert_int_equal(found, 0);
	expect_err(store_notification_update(
		       fx->s, 999999, DELIVERY_FAILED, 1, 0, "", 1, &err),
	    &err, CERR_NOT_FOUND, "999999");
}

static const struct {
	const char *op;
	int status;
	int n;
	const char *first;
} note_filters[] = {
    {NULL, -1, 4, "k4"},
    {"ops", -1, 2, "k3"},
    {NULL, DELIVERY_PENDING, 2, "k4"},
    {NULL, DELIVERY_FAILED, 1, "k2"},
    {"ops", DELIVERY_DELIVERED, 1, "k1"},
    {"nobody", -1, 0, NULL},
};

static void
test_notification_list_trim(void **state)
{
	struct fx *fx = *state;
	struct store_notification_filter f;
	struct notes ns;
	struct cerr err;

	add_notification(fx->s, "k1", "ops", 1, 1);
	add_notification(fx->s, "k2", "default", 1, 1);
	add_notification(fx->s, "k3", "ops", 1, 1);
	add_notification(fx->s, "k4", "default", 1, 1);
	due(fx->s, 1, &ns);
	assert_int_equal(store_notification_update(fx->s, ns.id[0],
			     DELIVERY_DELIVERED, 1, 0, "", 2, &err),
	    0);
	assert_int_equal(store_notification_update(fx->s, ns.id[1],
			     DELIVERY_FAILED, 3, 0, "exit code 1", 2, &err),
	    0);
	for (size_t i = 0; i < sizeof(note_filters) / sizeof(note_filters[0]);
	     i++) {
		f.operator_name = note_filters[i].op;
		f.status = note_filters[i].status;
		f.limit = 0;
		memset(&ns, 0, sizeof(ns));
		if (store_notification_list(
			fx->s, &f, collect_note, &ns, &err) < 0)
			fail_msg("case %zu: %s", i, err.msg);
		if (ns.n != note_filters[i].n)
			fail_msg("case %zu: %d rows, want %d", i, ns.n,
			    note_filters[i].n);
		if (ns.n > 0)
			assert_string_equal(ns.key[0], note_filters[i].first);
	}
	/* trimming keeps every pending row and the newest finished ones */
	assert_int_equal(store_notification_trim(fx->s, 1, &err), 0);
	f.operator_name = NULL;
	f.status = -1;
	memset(&ns, 0, sizeof(ns));
	assert_int_equal(
	    store_notification_list(fx->s, &f, collect_note, &ns, &err), 0);
	assert_int_equal(ns.n, 3);
	assert_int_equal(store_notification_trim(fx->s, 0, &err), 0);
	memset(&ns, 0, sizeof(ns));
	assert_int_equal(
	    store_notification_list(fx->s, &f, collect_note, &ns, &err), 0);
	assert_int_equal(ns.n, 2);
	f.status = DELIVERY_STATUS_COUNT;
	expect_err(store_notification_list(fx->s, &f, collect_note, &ns, &err),
	    &err, CERR_INVALID, "unknown status");
}

static void
put_job_row(struct store *s, const char *target, int64_t trid,
    enum run_outcome o, int64_t started_at_ms)
{
	struct store_run r;
	struct cerr err;

	memset(&r, 0, sizeof(r));
	snprintf(r.target, sizeof(r.target), "%s", target);
	snprintf(r.job, sizeof(r.job), "backup");
	r.target_run_id = trid;
	r.outcome = o;
	r.started_at_ms = started_at_ms;
	r.exit_code = -1;
	if (store_run_put(s, &r, &err) < 0)
		fail_msg("put run: %s", err.msg);
}

static int
collect_last(void *arg, const struct store_run *r)
{
	struct names *nm = arg;

	snprintf(nm->v[nm->n++], sizeof(nm->v[0]), "%s:%lld:%s", r->target,
	    (long long)r->target_run_id, run_outcome_name(r->outcome));
	return 0;
}

static void
test_last_per_target(void **state)
{
	struct fx *fx = *state;
	struct names n;
	struct cerr err;

	put_job_row(fx->s, "web-2", 1, OUTCOME_SUCCEEDED, 1000);
	put_job_row(fx->s, "web-2", 2, OUTCOME_FAILED, 2000);
	put_job_row(fx->s, "web-2", 3, OUTCOME_RUNNING, 3000); /* unfinished */
	put_job_row(fx->s, "web-1", 1, OUTCOME_CANCELED, 1500);
	put_job_row(fx->s, "db-1", 4, OUTCOME_RUNNING, 1500);
	memset(&n, 0, sizeof(n));
	assert_int_equal(
	    store_run_last_per_target(fx->s, "backup", collect_last, &n, &err),
	    0);
	assert_int_equal(n.n, 2);
	assert_string_equal(n.v[0], "web-1:1:canceled");
	assert_string_equal(n.v[1], "web-2:2:failed");
	memset(&n, 0, sizeof(n));
	assert_int_equal(
	    store_run_last_per_target(fx->s, "other", collect_last, &n, &err),
	    0);
	assert_int_equal(n.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_events),
	    T(test_operators),
	    T(test_notification_cycle),
	    T(test_notification_list_trim),
	    T(test_last_per_target),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
