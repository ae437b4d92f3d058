/*
 * Unit tests for the notification sender (master/deliver.c): the backoff
 * rule, operator address checks, and real deliveries on an event loop
 * against a store: a log operator, commands that succeed, fail and are
 * retried, an e-mail through a stand-in sendmail, and an operator that
 * was deleted.
 */
#include <sys/stat.h>

#include <event2/event.h>

#include "common/timefmt.h"
#include "master/deliver.h"
#include "test_store.h"

/* The master in these tests is always the active one. */
static int
always_open(const void *arg)
{
	(void)arg;
	return 1;
}

static const struct {
	int attempts;
	int64_t base, max, want;
} backoff_cases[] = {
    {1, 5, 3600, 5},
    {2, 5, 3600, 10},
    {3, 5, 3600, 20},
    {10, 5, 3600, 2560},
    {11, 5, 3600, 3600},
    {1000, 5, 3600, 3600},
    {1, 10, 4, 4},
    {5, 1, 86400, 16},
};

static void
test_backoff(void **state)
{
	for (size_t i = 0; i < sizeof(backoff_cases) / sizeof(backoff_cases[0]);
	     i++) {
		int64_t got = deliver_backoff_s(backoff_cases[i].attempts,
		    backoff_cases[i].base, backoff_cases[i].max);

		if (got != backoff_cases[i].want)
			fail_msg("case %zu: %lld, want %lld", i, (long long)got,
			    (long long)backoff_cases[i].want);
	}
}

static const struct {
	enum operator_kind kind;
	const char *address;
	const char *error; /* NULL: accepted */
} address_cases[] = {
    {OPERATOR_LOG, "", NULL},
    {OPERATOR_LOG, NULL, NULL},
    {OPERATOR_LOG, "x", "a log operator has none"},
    {OPERATOR_WEBHOOK, "https://hooks.example/a?b=c", NULL},
    {OPERATOR_WEBHOOK, "http://10.0.0.1:8080/", NULL},
    {OPERATOR_WEBHOOK, "ftp://x", "is not an http:// or https:// URL"},
    {OPERATOR_WEBHOOK, "http://a b", "is not an http"},
    {OPERATOR_WEBHOOK, "", "address: empty"},
    {OPERATOR_WEBHOOK, "http://a\r\nX: y", "control character"},
    {OPERATOR_EMAIL, "ops@example.org", NULL},
    {OPERATOR_EMAIL, "ops", "not one plain address"},
    {OPERATOR_EMAIL, "@example.org", "not one plain address"},
    {OPERATOR_EMAIL, "a@", "not one plain address"},
    {OPERATOR_EMAIL, "a@b@c", "not one plain address"},
    {OPERATOR_EMAIL, "a@b, c@d", "not one plain address"},
    {OPERATOR_EMAIL, "Ops <ops@x>", "not one plain address"},
    {OPERATOR_COMMAND, "logger -t cohort \"$COHORT_NOTIFY_SUBJECT\"", NULL},
    {OPERATOR_COMMAND, "", "address: empty"},
    {OPERATOR_COMMAND, "a\nb", "control character"},
    {OPERATOR_KIND_COUNT, "x", "unknown operator kind"},
};

static void
test_addresses(void **state)
{
	for (size_t i = 0; i < sizeof(address_cases) / sizeof(address_cases[0]);
	     i++) {
		struct cerr err;
		int rc = deliver_check_address(
		    address_cases[i].kind, address_cases[i].address, &err);

		if (address_cases[i].error == NULL) {
			if (rc != 0)
				fail_msg("case %zu: refused: %s", i, err.msg);
			continue;
		}
		if (rc == 0)
			fail_msg("case %zu: accepted", i);
		if (strstr(err.msg, address_cases[i].error) == NULL)
			fail_msg("case %zu: '%s' not in '%s'", i,
			    address_cases[i].error, err.msg);
	}
}

/* ---- deliveries on a loop ---------------------------------------------- */

static struct conf conf;

struct loop {
	struct store *s;
	struct event_base *base;
	int64_t deadline_ms;
	int timed_out;
};

static int
pending_cb(void *arg, const struct store_notification *n)
{
	*(int *)arg += n->status == DELIVERY_PENDING;
	return 0;
}

/* Ends the loop once nothing is pending, or at the deadline. */
static void
check_cb(evutil_socket_t fd, short what, void *arg)
{
	struct store_notification_filter f = {NULL, -1, 0};
	struct loop *l = arg;
	struct cerr err;
	int pending = 0;

	if (store_notification_list(l->s, &f, pending_cb, &pending, &err) < 0)
		fail_msg("list: %s", err.msg);
	if (timefmt_now_ms() > l->deadline_ms)
		l->timed_out = 1;
	if (pending == 0 || l->timed_out)
		event_base_loopbreak(l->base);
}

static void
run_until_settled(struct store *s)
{
	struct loop l = {s, event_base_new(), timefmt_now_ms() + 20000, 0};
	struct timeval every = {0, 20000};
	struct deliver *d;
	struct event *check;
	struct cerr err;

	assert_non_null(l.base);
	d = deliver_new(l.base, s, &conf, always_open, NULL, &err);
	if (d == NULL)
		fail_msg("deliver_new: %s", err.msg);
	check = event_new(l.base, -1, EV_PERSIST, check_cb, &l);
	event_add(check, &every);
	event_base_dispatch(l.base);
	event_free(check);
	deliver_free(d);
	event_base_free(l.base);
	if (l.timed_out)
		fail_msg("notifications still pending after 20 s");
}

static void
add_op(struct store *s, const char *name, enum operator_kind kind,
    const char *address)
{
	struct store_operator op = {
	    .kind = kind, .address = address, .created_at = 1};
	struct cerr err;

	snprintf(op.name, sizeof(op.name), "%s", name);
	if (store_operator_add(s, &op, &err) < 0)
		fail_msg("add operator: %s", err.msg);
}

static void
queue(struct store *s, const char *key, const char *op)
{
	struct store_notification n = {
	    .payload =
		"{\"job\":\"j\","
		"\"outcome\":\"failed\",\"exit_code\":3,\"subject\":\"s\"}",
	    .next_at = 0,
	    .created_at = 1};
	struct cerr err;

	snprintf(n.key, sizeof(n.key), "%s", key);
	snprintf(n.operator_name, sizeof(n.operator_name), "%s", op);
	snprintf(n.subject, sizeof(n.subject), "about %s", key);
	if (store_notification_add(s, &n, NULL, &err) < 0)
		fail_msg("queue: %s", err.msg);
}

struct outcome {
	char key[32];
	enum delivery_status status;
	int attempts;
	char error[128];
};

struct outcomes {
	struct outcome v[16];
	int n;
};

static int
outcome_cb(void *arg, const struct store_notification *n)
{
	struct outcomes *o = arg;
	struct outcome *e = &o->v[o->n++];

	snprintf(e->key, sizeof(e->key), "%s", n->key);
	e->status = n->status;
	e->attempts = n->attempts;
	snprintf(e->error, sizeof(e->error), "%s", n->last_error);
	return 0;
}

static const struct outcome *
find(const struct outcomes *o, const char *key)
{
	for (int i = 0; i < o->n; i++)
		if (strcmp(o->v[i].key, key) == 0)
			return &o->v[i];
	fail_msg("no notification %s", key);
	return NULL;
}

static void
expect(const struct outcomes *o, const char *key, enum delivery_status st,
    int attempts, const char *error)
{
	const struct outcome *e = find(o, key);

	if (e->status != st || e->attempts != attempts ||
	    strstr(e->error, error) == NULL)
		fail_msg("%s: %s after %d attempts ('%s')", key,
		    store_delivery_status_name(e->status), e->attempts,
		    e->error);
}

static void
test_deliveries(void **state)
{
	struct fx *fx = *state;
	struct store_notification_filter f = {NULL, -1, 0};
	char cmd[700], mail[600], sendmail[600], text[1024] = "";
	struct outcomes o;
	struct cerr err;
	FILE *fp;

	conf_defaults(&conf);
	conf.notify_retry_base_s = 1;
	conf.notify_max_attempts = 2;
	conf.notify_timeout_s = 5;
	snprintf(mail, sizeof(mail), "%s/mail.txt", fx->dir);
	snprintf(sendmail, sizeof(sendmail), "%s/sendmail", fx->dir);
	fp = fopen(sendmail, "w");
	assert_non_null(fp);
	fprintf(fp, "#!/bin/sh\n[ \"$1\" = -t ] && cat > %s\n", mail);
	fclose(fp);
	chmod(sendmail, 0700);
	snprintf(conf.sendmail, sizeof(conf.sendmail), "%s", sendmail);
	add_op(fx->s, "log", OPERATOR_LOG, "");
	add_op(fx->s, "ok", OPERATOR_COMMAND,
	    "test \"$COHORT_NOTIFY_OPERATOR\" = ok && "
	    "test \"$COHORT_NOTIFY_SUBJECT\" = 'about c-ok'");
	snprintf(cmd, sizeof(cmd), "echo broken >&2; exit 4");
	add_op(fx->s, "bad", OPERATOR_COMMAND, cmd);
	add_op(fx->s, "mail", OPERATOR_EMAIL, "ops@example.org");
	add_op(fx->s, "later", OPERATOR_LOG, "");
	queue(fx->s, "c-log", "log");
	queue(fx->s, "c-ok", "ok");
	queue(fx->s, "c-bad", "bad");
	queue(fx->s, "c-mail", "mail");
	queue(fx->s, "c-gone", "later");
	assert_int_equal(store_operator_delete(fx->s, "later", &err), 0);
	run_until_settled(fx->s);
	memset(&o, 0, sizeof(o));
	assert_int_equal(
	    store_notification_list(fx->s, &f, outcome_cb, &o, &err), 0);
	expect(&o, "c-log", DELIVERY_DELIVERED, 1, "");
	expect(&o, "c-ok", DELIVERY_DELIVERED, 1, "");
	expect(&o, "c-bad", DELIVERY_FAILED, 2, "exit code 4: broken");
	expect(&o, "c-mail", DELIVERY_DELIVERED, 1, "");
	expect(&o, "c-gone", DELIVERY_FAILED, 1, "no operator 'later'");
	fp = fopen(mail, "r");
	assert_non_null(fp);
	assert_true(fread(text, 1, sizeof(text) - 1, fp) > 0);
	fclose(fp);
	assert_non_null(strstr(text,
	    "To: ops@example.org\nSubject: about "
	    "c-mail\n"));
	assert_non_null(strstr(text,
	    "\n\njob: j\noutcome: failed\n"
	    "exit_code: 3\n"));
	unlink(mail);
	unlink(sendmail);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backoff),
	    cmocka_unit_test(test_addresses),
	    T(test_deliveries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
