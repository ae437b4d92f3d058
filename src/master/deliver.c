/*
 * deliver: the notification sender (see deliver.h). One timer drives it:
 * it fires when the earliest pending notification is due (or at once
 * after deliver_kick), starts attempts for the due ones up to the limit
 * in flight, and sets itself for the next. Every attempt ends in
 * attempt_end(), which records the result and frees the attempt, from
 * the HTTP client's or the runner's callback or at once (log operators,
 * and attempts that could not start).
 */
#include "master/deliver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/buf.h"
#include "common/hclient.h"
#include "common/log.h"
#include "common/runner.h"
#include "common/runrec.h"
#include "common/timefmt.h"

#define CLAIM_MARGIN_S 60 /* a claim outlives the attempt's own limit */
#define WEBHOOK_MAX_RESPONSE (64 * 1024)
#define CHILD_OUTPUT_MAX 2048
#define CHILD_KILL_GRACE_MS 2000
#define MAIL_MAX (256 * 1024)
#define URL_MAX 2048
#define EMAIL_MAX 254
#define LOG_PAYLOAD_MAX 1400 /* a log line holds 2048 bytes */
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

/* The message travels in the environment; printf '%s' keeps any '%' or
 * '\' in it as it is. */
static const char mail_script[] =
    "printf '%s' \"$COHORT_NOTIFY_MAIL\" | \"$COHORT_SENDMAIL\" -t";

struct attempt {
	struct deliver *d;
	int64_t id;
	int made; /* attempts made before this one */
	char operator_name[STORE_NAME_MAX + 1];
	struct hcall *call; /* a webhook's request in flight */
	uint64_t child; /* an e-mail's or command's process */
	int has_child;
	struct attempt *next;
};

struct deliver {
	struct event_base *base;
	struct store *store;
	const struct conf *conf;
	struct hclient *http;
	struct runner *runner;
	struct event *timer;
	deliver_gate_fn gate;
	const void *gate_arg;
	struct attempt *inflight;
	int ninflight;
};

/* A due notification, copied out of the listing: starting an attempt
 * writes to the store. */
struct due {
	int64_t id;
	int attempts;
	char operator_name[STORE_NAME_MAX + 1];
	char subject[STORE_TEXT_MAX];
	char *payload;
	char *last_error;
};

struct due_list {
	struct due v[DELIVER_MAX_IN_FLIGHT];
	int n;
	int max;
};

/* An operator, copied out of its lookup. */
struct op_copy {
	enum operator_kind kind;
	char *address;
};

int64_t
deliver_backoff_s(int attempts, int64_t base_s, int64_t max_s)
{
	int64_t wait = base_s;

	for (int i = 1; i < attempts && wait < max_s; i++)
		wait *= 2;
	return wait < max_s ? wait : max_s;
}

/* ---- addresses ------------------------------------------------------- */

static int
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int
check_email(const char *a, struct cerr *err)
{
	const char *at = strchr(a, '@');

	if (strlen(a) > EMAIL_MAX || at == NULL || at == a || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL || strpbrk(a, " <>()[],;:\"\\") != NULL)
		return cerr_set(err, CERR_INVALID,
		    "--email: '%.80s' is not "
		    "one plain address (user@host)",
		    a);
	return 0;
}

int
deliver_check_address(
    enum operator_kind kind, const char *address, struct cerr *err)
{
	const char *a = address != NULL ? address : "";

	if (kind != OPERATOR_LOG && a[0] == '\0')
		return cerr_set(err, CERR_INVALID, "address: empty");
	if (has_control(a))
		return cerr_set(
		    err, CERR_INVALID, "address: holds a control character");
	switch (kind) {
	case OPERATOR_LOG:
		if (a[0] != '\0')
			return cerr_set(err, CERR_INVALID,
			    "address: a log operator has none");
		return 0;
	case OPERATOR_WEBHOOK:
		if ((strncmp(a, "http://", 7) != 0 &&
			strncmp(a, "https://", 8) != 0) ||
		    strlen(a) > URL_MAX || strchr(a, ' ') != NULL)
			return cerr_set(err, CERR_INVALID,
			    "--webhook: '%.80s' "
			    "is not an http:// or https:// URL of at most %d "
			    "bytes",
			    a, URL_MAX);
		return 0;
	case OPERATOR_EMAIL:
		return check_email(a, err);
	case OPERATOR_COMMAND:
		if (strlen(a) > STORE_ADDRESS_MAX)
			return cerr_set(err, CERR_INVALID,
			    "--command: longer "
			    "than %d bytes",
			    STORE_ADDRESS_MAX);
		return 0;
	default:
		return cerr_set(err, CERR_INVALID, "unknown operator kind");
	}
}

/* ---- the end of an attempt ------------------------------------------- */

static void
record(struct deliver *d, const struct attempt *a, int ok, int permanent,
    const char *error)
{
	int64_t now = timefmt_now_s(), next = 0;
	/* Rounded up: the wait is at least the backoff, never a second
	 * less. */
	int64_t now_up = (timefmt_now_ms() + 999) / 1000;
	int attempts = a->made + 1;
	enum delivery_status st = DELIVERY_PENDING;
	char *msg = runrec_clean_text(error, strlen(error), STORE_TEXT_MAX - 1);
	char q[STORE_TEXT_MAX + 8];
	struct cerr err;

	/* One line: a command's output may end in newlines or hold more. */
	for (char *p = msg; p != NULL && *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	for (size_t n = msg ? strlen(msg) : 0; n > 0 && msg[n - 1] == ' '; n--)
		msg[n - 1] = '\0';
	if (ok)
		st = DELIVERY_DELIVERED;
	else if (permanent || attempts >= d->conf->notify_max_attempts)
		st = DELIVERY_FAILED;
	else
		next = now_up +
		    deliver_backoff_s(attempts, d->conf->notify_retry_base_s,
			d->conf->notify_retry_max_s);
	if (store_notification_update(d->store, a->id, st, attempts, next,
		msg != NULL ? msg : "", now, &err) < 0)
		log_error("notify", "id=%lld msg=%s", (long long)a->id,
		    LOG_TEXT(err.msg));
	if (ok)
		log_info("notified", "id=%lld operator=%s attempt=%d",
		    (long long)a->id, a->operator_name, attempts);
	else
		log_warn(
		    st == DELIVERY_FAILED ? "notify_failed" : "notify_retry",
		    "id=%lld operator=%s attempt=%d error=%s", (long long)a->id,
		    a->operator_name, attempts,
		    log_quote(q, sizeof(q), msg != NULL ? msg : ""));
	free(msg);
}

static void
attempt_unlink(struct deliver *d, struct attempt *a)
{
	for (struct attempt **p = &d->inflight; *p != NULL; p = &(*p)->next) {
		if (*p == a) {
			*p = a->next;
			d->ninflight--;
			return;
		}
	}
}

/* Records the result, frees a and looks for more work. */
static void
attempt_end(struct attempt *a, int ok, int permanent, const char *error)
{
	struct deliver *d = a->d;

	record(d, a, ok, permanent, error);
	attempt_unlink(d, a);
	free(a);
	deliver_kick(d);
}

static void
webhook_done(void *arg, const struct hresp *resp)
{
	struct attempt *a = arg;
	char msg[STORE_TEXT_MAX];

	a->call = NULL;
	if (resp->status >= 200 && resp->status < 300) {
		attempt_end(a, 1, 0, "");
		return;
	}
	if (resp->status == 0)
		snprintf(msg, sizeof(msg), "webhook: %s",
		    resp->error ? resp->error : "no answer");
	else
		snprintf(msg, sizeof(msg), "webhook: HTTP %ld", resp->status);
	attempt_end(a, 0, 0, msg);
}

static void
child_done(void *arg, const struct runner_result *res)
{
	struct attempt *a = arg;
	char msg[STORE_TEXT_MAX];

	a->has_child = 0;
	if (res->spawned && res->exited && res->exit_code == 0 &&
	    !res->timed_out) {
		attempt_end(a, 1, 0, "");
		return;
	}
	if (!res->spawned)
		snprintf(msg, sizeof(msg), "%s", res->error);
	else if (res->timed_out)
		snprintf(msg, sizeof(msg), "timed out after %lld s",
		    (long long)a->d->conf->notify_timeout_s);
	else if (res->exited)
		snprintf(msg, sizeof(msg), "exit code %d%s%.*s", res->exit_code,
		    res->output_len > 0 ? ": " : "", (int)res->output_len,
		    res->output);
	else
		snprintf(
		    msg, sizeof(msg), "killed by signal %d", res->term_signal);
	attempt_end(a, 0, 0, msg);
}

/* ---- starting an attempt --------------------------------------------- */

/* Adds "name=value" to env (room for it is the caller's). */
static int
env_add(char **env, int *n, const char *name, const char *value)
{
	size_t len = strlen(name) + strlen(value) + 2;

	env[*n] = malloc(len);
	if (env[*n] == NULL)
		return -1;
	snprintf(env[*n], len, "%s=%s", name, value);
	(*n)++;
	return 0;
}

static void
env_free(char **env)
{
	for (int i = 0; env != NULL && env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/* The environment of a notification's child; mail may be NULL. */
static char **
child_env(const struct deliver *d, const struct due *n, const char *mail)
{
	const char *path = getenv("PATH");
	char **env = calloc(8, sizeof(*env));
	int i = 0;

	if (env == NULL)
		return NULL;
	if (env_add(env, &i, "PATH", path != NULL ? path : DEFAULT_PATH) < 0 ||
	    env_add(env, &i, "COHORT_NOTIFY_OPERATOR", n->operator_name) < 0 ||
	    env_add(env, &i, "COHORT_NOTIFY_SUBJECT", n->subject) < 0 ||
	    env_add(env, &i, "COHORT_NOTIFY_JSON", n->payload) < 0 ||
	    (mail != NULL &&
		(env_add(env, &i, "COHORT_NOTIFY_MAIL", mail) < 0 ||
		    env_add(env, &i, "COHORT_SENDMAIL", d->conf->sendmail) <
			0))) {
		env_free(env);
		return NULL;
	}
	return env;
}

/* "key: value" for a text or number; nothing for null. */
static int
mail_line(struct buf *b, const char *key, const json_t *v, struct cerr *err)
{
	if (json_is_string(v))
		return buf_printf(
		    b, err, "%s: %s\n", key, json_string_value(v));
	if (json_is_integer(v))
		return buf_printf(b, err, "%s: %lld\n", key,
		    (long long)json_integer_value(v));
	return 0;
}

/* The whole e-mail: headers, then the payload's members as lines.
 * Header text has its control characters made spaces (no header can be
 * added through a subject). Caller frees; NULL on out-of-memory. */
static char *
mail_text(const struct due *n, const char *to)
{
	json_t *payload = json_loads(n->payload, 0, NULL), *v;
	char subject[STORE_TEXT_MAX];
	const char *key;
	struct buf b;
	struct cerr err;
	char *text = NULL;

	snprintf(subject, sizeof(subject), "%s", n->subject);
	for (char *p = subject; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	buf_init(&b, MAIL_MAX);
	if (buf_printf(&b, &err,
		"To: %s\nSubject: %s\nAuto-Submitted: "
		"auto-generated\nContent-Type: text/plain; charset=utf-8\n\n",
		to, subject) < 0)
		goto out;
	json_object_foreach(payload, key, v)
	{
		if (strcmp(key, "subject") != 0 &&
		    mail_line(&b, key, v, &err) < 0)
			goto out;
	}
	text = buf_take(&b);
out:
	buf_cleanup(&b);
	json_decref(payload);
	return text;
}

/* Runs script under /bin/sh with the notification in the environment. */
static int
start_child(struct deliver *d, struct attempt *a, const struct due *n,
    const char *script, const char *mail, struct cerr *err)
{
	const char *argv[] = {"/bin/sh", "-c", script, NULL};
	char **env = child_env(d, n, mail);
	struct runner_spec spec;
	int rc;

	if (env == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	spec.envp = (const char *const *)env;
	spec.cwd = "/";
	spec.timeout_ms = d->conf->notify_timeout_s * 1000;
	spec.kill_grace_ms = CHILD_KILL_GRACE_MS;
	spec.max_output_bytes = CHILD_OUTPUT_MAX;
	rc = runner_start(d->runner, &spec, child_done, a, &a->child, err);
	env_free(env);
	if (rc == 0)
		a->has_child = 1;
	return rc;
}

static int
start_kind(struct deliver *d, struct attempt *a, const struct due *n,
    const struct op_copy *op, struct cerr *err)
{
	char q[STORE_TEXT_MAX + 8], qp[LOG_PAYLOAD_MAX];
	char *mail = NULL;
	int rc;

	switch (op->kind) {
	case OPERATOR_LOG:
		log_info("notification", "operator=%s subject=%s payload=%s",
		    n->operator_name, log_quote(q, sizeof(q), n->subject),
		    log_quote(qp, sizeof(qp), n->payload));
		attempt_end(a, 1, 0, "");
		return 0;
	case OPERATOR_WEBHOOK:
		a->call = hclient_request(d->http, "POST", op->address,
		    n->payload, d->conf->notify_timeout_s * 1000L,
		    WEBHOOK_MAX_RESPONSE, webhook_done, a, err);
		return a->call != NULL ? 0 : -1;
	case OPERATOR_EMAIL:
		mail = mail_text(n, op->address);
		if (mail == NULL)
			return cerr_set(err, CERR_INTERNAL, "out of memory");
		rc = start_child(d, a, n, mail_script, mail, err);
		free(mail);
		return rc;
	default:
		return start_child(d, a, n, op->address, NULL, err);
	}
}

static int
op_cb(void *arg, const struct store_operator *op)
{
	struct op_copy *oc = arg;

	oc->kind = op->kind;
	oc->address = strdup(op->address);
	return oc->address == NULL ? -1 : 0;
}

/* Claims n, finds its operator and starts the attempt. An attempt that
 * cannot start ends at once: failed for good when its operator is gone,
 * else to be tried again. */
static void
start(struct deliver *d, const struct due *n)
{
	struct op_copy op = {OPERATOR_LOG, NULL};
	struct attempt *a = calloc(1, sizeof(*a));
	int64_t now = timefmt_now_s();
	struct cerr err;
	int gone;

	if (a == NULL) {
		log_error("notify", "id=%lld msg=\"out of memory\"",
		    (long long)n->id);
		return;
	}
	a->d = d;
	a->id = n->id;
	a->made = n->attempts;
	snprintf(
	    a->operator_name, sizeof(a->operator_name), "%s", n->operator_name);
	a->next = d->inflight;
	d->inflight = a;
	d->ninflight++;
	if (store_notification_update(d->store, n->id, DELIVERY_PENDING,
		n->attempts, now + d->conf->notify_timeout_s + CLAIM_MARGIN_S,
		n->last_error, now, &err) < 0) {
		log_error("notify", "id=%lld msg=%s", (long long)n->id,
		    LOG_TEXT(err.msg));
		attempt_unlink(d, a);
		free(a);
		return;
	}
	gone = store_operator_get(
		   d->store, n->operator_name, op_cb, &op, &err) < 0;
	if (gone)
		attempt_end(a, 0, err.code == CERR_NOT_FOUND, err.msg);
	else if (op.address == NULL)
		attempt_end(a, 0, 0, "out of memory");
	else if (start_kind(d, a, n, &op, &err) < 0)
		attempt_end(a, 0, 0, err.msg);
	free(op.address);
}

static int
due_cb(void *arg, const struct store_notification *n)
{
	struct due_list *dl = arg;
	struct due *e = &dl->v[dl->n];

	e->id = n->id;
	e->attempts = n->attempts;
	snprintf(
	    e->operator_name, sizeof(e->operator_name), "%s", n->operator_name);
	snprintf(e->subject, sizeof(e->subject), "%s", n->subject);
	e->payload = strdup(n->payload);
	e->last_error = strdup(n->last_error);
	dl->n++;
	return dl->n >= dl->max;
}

/* Sets the timer for the earliest pending notification. */
static void
schedule_next(struct deliver *d)
{
	struct timeval tv = {0, 0};
	int64_t next = 0, now_ms = timefmt_now_ms(), wait_ms;
	struct cerr err;
	int found = 0;

	if (store_notification_next_due(d->store, &next, &found, &err) < 0) {
		log_error("notify", "msg=%s", LOG_TEXT(err.msg));
		next = now_ms / 1000 + d->conf->notify_retry_base_s;
		found = 1;
	}
	if (!found)
		return;
	/* To the millisecond: a row due at second S is due from S.000. */
	wait_ms = next * 1000 - now_ms;
	if (wait_ms > 0) {
		tv.tv_sec = wait_ms / 1000;
		tv.tv_usec = (wait_ms % 1000) * 1000;
	}
	evtimer_add(d->timer, &tv);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct deliver *d = arg;
	struct due_list dl;
	struct cerr err;

	/* Full: the attempt that ends next kicks the timer again. A
	 * standby waits for the kick of its takeover. */
	if (d->ninflight >= DELIVER_MAX_IN_FLIGHT || !d->gate(d->gate_arg))
		return;
	memset(&dl, 0, sizeof(dl));
	dl.max = DELIVER_MAX_IN_FLIGHT - d->ninflight;
	if (store_notification_due(
		d->store, timefmt_now_s(), dl.max, due_cb, &dl, &err) < 0)
		log_error("notify", "msg=%s", LOG_TEXT(err.msg));
	for (int i = 0; i < dl.n; i++) {
		if (dl.v[i].payload != NULL && dl.v[i].last_error != NULL)
			start(d, &dl.v[i]);
		free(dl.v[i].payload);
		free(dl.v[i].last_error);
	}
	if (d->ninflight < DELIVER_MAX_IN_FLIGHT)
		schedule_next(d);
}

void
deliver_kick(struct deliver *d)
{
	struct timeval now = {0, 0};

	if (d != NULL)
		evtimer_add(d->timer, &now);
}

struct deliver *
deliver_new(struct event_base *base, struct store *s, const struct conf *conf,
    deliver_gate_fn gate, const void *gate_arg, struct cerr *err)
{
	struct hclient_tls tls = {NULL, NULL, NULL, 1, 1, 0};
	struct deliver *d = calloc(1, sizeof(*d));

	if (d == NULL) {
		cerr_set(err, CERR_INTERNAL, "out of memory");
		return NULL;
	}
	d->base = base;
	d->store = s;
	d->conf = conf;
	d->gate = gate;
	d->gate_arg = gate_arg;
	d->timer = evtimer_new(base, timer_cb, d);
	if (d->timer == NULL) {
		cerr_set(err, CERR_INTERNAL, "cannot make the notify timer");
		goto fail;
	}
	d->http = hclient_new(base, &tls, err);
	if (d->http == NULL)
		goto fail;
	d->runner = runner_new(base, err);
	if (d->runner == NULL)
		goto fail;
	deliver_kick(d);
	return d;
fail:
	deliver_free(d);
	return NULL;
}

void
deliver_free(struct deliver *d)
{
	if (d == NULL)
		return;
	while (d->inflight != NULL) {
		struct attempt *a = d->inflight;

		d->inflight = a->next;
		if (a->call != NULL)
			hclient_cancel(d->http, a->call);
		if (a->has_child)
			runner_abandon(d->runner, a->child);
		free(a);
	}
	runner_free(d->runner);
	hclient_free(d->http);
	if (d->timer != NULL)
		event_free(d->timer);
	free(d);
}
