/*
 * upload: sends the outbox to the master, oldest first, a batch at a time,
 * and deletes records only once the master has acknowledged them (stored
 * or refused). One upload is in flight at a time; a failure waits 1, 2, 4
 * ... seconds up to the poll interval. Records keep arriving while the
 * master is away and the outbox holds them (bounded; overflow counted).
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/hclient.h"
#include "common/json.h"
#include "common/log.h"
#include "target/target.h"
#include "target/tstore.h"
#include "target/upload_fit.h"

#define UPLOAD_BATCH 100
/* Bytes per upload: below the master's default max_body_bytes (1 MiB),
 * halved on each 413 down to UPLOAD_MIN_BYTES for a master set lower. */
#define UPLOAD_MAX_BYTES (768 * 1024)
#define UPLOAD_MIN_BYTES (16 * 1024)
/* {"seq":,"kind":"","body":} and a seq of up to 20 digits */
#define UPLOAD_ITEM_WRAPPER 46
#define UPLOAD_MAX_RESPONSE (1024 * 1024)
#define UPLOAD_TIMEOUT_MS 60000L

struct batch {
	json_t *items;
	size_t used, budget;
};

/* Records up to the batch's byte budget; the first always goes, a run
 * record over the budget with its outputs cut (upload_fit.h). */
static int
collect_cb(void *arg, int64_t seq, const char *kind, const char *body)
{
	struct batch *b = arg;
	json_t *parsed = json_loads(body, 0, NULL);
	json_t *item = json_pack("{s:I,s:s,s:o}", "seq", (json_int_t)seq,
	    "kind", kind, "body", parsed ? parsed : json_string(body));
	/* The stored body is compact JSON already: its length and the
	 * wrapper's ({"seq":N,"kind":"K","body":...}) are the item's size,
	 * without dumping it twice. */
	size_t size = strlen(body) + strlen(kind) + UPLOAD_ITEM_WRAPPER;

	if (item == NULL ||
	    (json_array_size(b->items) > 0 && b->used + size > b->budget)) {
		json_decref(item);
		return 1;
	}
	if (size > b->budget && parsed != NULL && strcmp(kind, "run") == 0)
		size =
		    upload_fit_run(parsed, b->budget - (size - strlen(body))) +
		    (size - strlen(body));
	b->used += size;
	return json_array_append_new(b->items, item) < 0;
}

static void
upload_later(struct target *t)
{
	int64_t delay = t->upload_backoff_s ? t->upload_backoff_s : 1;
	struct timeval tv;

	if (delay > t->poll_interval_s)
		delay = t->poll_interval_s;
	t->upload_backoff_s = (int)(delay * 2);
	tv.tv_sec = delay;
	tv.tv_usec = 0;
	evtimer_add(t->upload_retry, &tv);
}

static int
delete_listed(
    struct target *t, const json_t *list, const char *field, struct cerr *err)
{
	size_t n = json_array_size(list), i;
	int64_t *seqs = calloc(n + 1, sizeof(*seqs));
	json_t *v;
	int rc;

	if (seqs == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	json_array_foreach(list, i, v)
	{
		json_t *seq = field ? json_object_get(v, field) : v;

		seqs[i] = json_integer_value(seq);
	}
	rc = tstore_outbox_delete(t->store, seqs, n, err);
	free(seqs);
	return rc;
}

static void
upload_done(void *arg, const struct hresp *resp)
{
	struct target *t = arg;
	json_t *body = NULL;
	struct cerr err;

	t->upload_call = NULL;
	/* Over the master's max_body_bytes: smaller batches, cut records. */
	if (resp->status == 413 && t->upload_budget > UPLOAD_MIN_BYTES) {
		t->upload_budget /= 2;
		log_warn("upload_too_large", "budget=%zu", t->upload_budget);
		upload_kick_soon(t);
		return;
	}
	if (resp->status != 200) {
		/* A standby names the active master; the poller moves on
		 * to the next master otherwise. */
		if (target_follow(t, resp, 0) == 0)
			log_limited(&t->upload_log, LOG_LVL_WARN,
			    "upload_failing", "status=%ld msg=%s", resp->status,
			    LOG_TEXT(resp->status ? "master refused the upload"
						  : resp->error));
		upload_later(t);
		return;
	}
	log_limit_ok(&t->upload_log, "upload_recovered");
	body = json_loadb(resp->body, resp->len, 0, NULL);
	if (body == NULL ||
	    delete_listed(t, json_object_get(body, "acked"), NULL, &err) < 0 ||
	    delete_listed(t, json_object_get(body, "rejected"), "seq", &err) <
		0) {
		if (body != NULL)
			target_store_failed(t, &err);
		else
			log_error("upload", "msg=\"unreadable answer\"");
		json_decref(body);
		upload_later(t);
		return;
	}
	json_decref(body);
	t->upload_backoff_s = 0;
	upload_kick(t);
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	upload_kick(arg);
}

/* Whether an upload may start now: a client exists (a target context
 * built by a unit test has none; the records stay in the outbox), no
 * upload is in flight and no retry waits out its backoff. */
static int
upload_idle(struct target *t)
{
	if (t->http == NULL)
		return 0;
	if (t->upload_retry == NULL) {
		t->upload_retry = evtimer_new(t->base, retry_cb, t);
		if (t->upload_retry == NULL)
			return 0;
	}
	return t->upload_call == NULL &&
	    !evtimer_pending(t->upload_retry, NULL);
}

void
upload_master_answered(struct target *t)
{
	if (t->upload_backoff_s > 0 && t->upload_call == NULL &&
	    t->upload_retry != NULL) {
		evtimer_del(t->upload_retry);
		t->upload_backoff_s = 0;
	}
	upload_kick(t);
}

void
upload_kick_soon(struct target *t)
{
	struct timeval now = {0, 0};

	if (upload_idle(t))
		evtimer_add(t->upload_retry, &now);
}

void
upload_kick(struct target *t)
{
	char url[CONF_STR_MAX + 32];
	struct batch b = {json_array(), 0, t->upload_budget};
	json_t *req;
	char *text = NULL;
	struct cerr err;

	if (!upload_idle(t)) {
		json_decref(b.items);
		return;
	}
	if (b.budget == 0)
		b.budget = t->upload_budget = UPLOAD_MAX_BYTES;
	if (b.items == NULL ||
	    tstore_outbox_peek(t->store, UPLOAD_BATCH, collect_cb, &b, &err) <
		0) {
		if (b.items != NULL)
			target_store_failed(t, &err);
		else
			log_error("upload", "msg=\"out of memory\"");
		json_decref(b.items);
		upload_later(t);
		return;
	}
	if (json_array_size(b.items) == 0) {
		json_decref(b.items);
		return;
	}
	req = json_pack("{s:o}", "items", b.items);
	text = req ? json_dump_compact(req) : NULL;
	json_decref(req);
	if (text == NULL) {
		upload_later(t);
		return;
	}
	target_url(t, "/v1/outbox", url, sizeof(url));
	t->upload_call = hclient_request(t->http, "POST", url, text,
	    UPLOAD_TIMEOUT_MS, UPLOAD_MAX_RESPONSE, upload_done, t, &err);
	free(text);
	if (t->upload_call == NULL) {
		log_error("upload", "msg=%s", LOG_TEXT(err.msg));
		upload_later(t);
	}
}

void
upload_stop(struct target *t)
{
	if (t->upload_call != NULL)
		hclient_cancel(t->http, t->upload_call);
	t->upload_call = NULL;
	if (t->upload_retry != NULL)
		event_free(t->upload_retry);
	t->upload_retry = NULL;
}
