/*
 * poll: the target's long-poll to its master. One poll is in flight at a
 * time. It carries the acknowledgements held in the local store (written
 * with each instruction's effect, deleted once the master has answered a
 * poll that carried them, so none is lost in a crash), the id of the last instruction this target applied
 * (`after`, kept in the local store, so a restart resumes exactly there)
 * and the target's status. The master answers with new instructions at
 * once or holds the poll until there are some; either way the next poll
 * follows immediately. When the master cannot be reached the target waits
 * 1, 2, 4 ... seconds, never longer than its poll interval, moving to the
 * next master URL each time. A standby master's not_active answer names
 * the active one: the target goes there (docs/ha.md). A failing master is
 * logged once per interval (poll_failing), and the first answer after it
 * says so (poll_recovered).
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/hclient.h"
#include "common/json.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "common/version.h"
#include "target/defect.h"
#include "target/target.h"
#include "target/tstore.h"

#define POLL_MAX_WAIT_S 300
#define POLL_MAX_RESPONSE (16 * 1024 * 1024)
#define POLL_MAX_ACKS 1000 /* the master's limit per poll */
#define POLL_MARGIN_MS 10000L

static void poll_send(struct target *t);

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	poll_send(arg);
}

static void
poll_retry_later(struct target *t, int64_t delay_s)
{
	struct timeval tv = {delay_s, 0};

	evtimer_add(t->poll_retry, &tv);
}

/* Backoff for an unreachable or failing master. */
static void
poll_backoff(struct target *t)
{
	int64_t delay = t->poll_backoff_s ? t->poll_backoff_s : 1;

	if (delay > t->poll_interval_s)
		delay = t->poll_interval_s;
	t->poll_backoff_s = (int)(delay * 2);
	poll_retry_later(t, delay);
}

static void
handle_instructions(struct target *t, const struct hresp *resp)
{
	struct cerr err;
	json_t *body = json_parse_limited(
	    resp->body, resp->len, POLL_MAX_RESPONSE, 64, &err);
	json_t *list = body ? json_object_get(body, "instructions") : NULL;

	if (!json_is_array(list)) {
		log_warn("poll",
		    "msg=\"master sent an unreadable answer\" detail=%s",
		    LOG_TEXT(body ? "no instructions" : err.msg));
		json_decref(body);
		poll_backoff(t);
		return;
	}
	/* Defecting, nothing is applied (apply.c): ask again in a second,
	 * not at once, or the same instructions would come straight back. */
	if (t->defecting && json_array_size(list) > 0) {
		json_decref(body);
		poll_retry_later(t, 1);
		return;
	}
	if (json_array_size(list) > 0)
		apply_batch(t, list);
	json_decref(body);
	/* The store refused (a full disk): the master would send the same
	 * instructions straight back, so wait before asking again. */
	if (t->apply_stalled)
		poll_backoff(t);
	else
		poll_send(t);
}

static const char *
error_message(const struct hresp *resp, char *buf, size_t size)
{
	json_t *body = json_loadb(resp->body, resp->len, 0, NULL);
	const char *msg = body ? json_string_value(json_object_get(
				     json_object_get(body, "error"), "message"))
			       : NULL;

	snprintf(buf, size, "%s", msg ? msg : "(no message)");
	json_decref(body);
	return buf;
}

static void
poll_done(void *arg, const struct hresp *resp)
{
	struct target *t = arg;
	struct cerr err;
	char msg[512];
	int follow;

	t->poll_call = NULL;
	if (resp->status == 200) {
		log_limit_ok(&t->poll_log, "poll_recovered");
		/* The master has the acks: they were in the poll it answered. */
		if (t->acks_sent_upto > 0 &&
		    tstore_ack_delete_upto(t->store, t->acks_sent_upto, &err) <
			0)
			target_store_failed(t, &err);
		if (!t->apply_stalled)
			t->poll_backoff_s = 0;
		handle_instructions(t, resp);
		/* Records this daemon did not add itself (cohortctl event
		 * raise writes into the same outbox) go up now too, and so do
		 * records held back by failed uploads. */
		upload_master_answered(t);
		return;
	}
	if (resp->status == 0) {
		log_limited(&t->poll_log, LOG_LVL_WARN, "poll_failing",
		    "master=%s msg=%s", t->masters[t->master_index],
		    LOG_TEXT(resp->error));
		target_next_master(t);
		poll_backoff(t);
		return;
	}
	/* A standby: on to the active master, at once when it was named
	 * (a second standby answer in a row waits like any failure). */
	follow = target_follow(t, resp, 1);
	if (follow == 2 && t->poll_backoff_s == 0) {
		t->poll_backoff_s = 1;
		poll_retry_later(t, 0);
		return;
	}
	if (follow) {
		poll_backoff(t);
		return;
	}
	error_message(resp, msg, sizeof(msg));
	/* Gone: the master has the defect (a defected or deleted target is
	 * answered so, its certificate revoked or not). */
	if (t->defecting && resp->status == 410) {
		log_info("poll_stopped", "status=%ld msg=%s", resp->status,
		    LOG_TEXT(msg));
		defect_finish(t);
		return;
	}
	if (resp->status == 410 || resp->status == 409) {
		log_error("poll_stopped", "status=%ld msg=%s", resp->status,
		    LOG_TEXT(msg));
		t->stopped_polling = 1;
		return;
	}
	log_limited(&t->poll_log, LOG_LVL_WARN, "poll_failing",
	    "status=%ld msg=%s", resp->status, LOG_TEXT(msg));
	if (resp->status == 401 || resp->status == 403 || resp->status == 426)
		poll_retry_later(t, t->poll_interval_s);
	else
		poll_backoff(t);
}

struct ack_list {
	json_t *list;
	int64_t max_id;
};

static int
ack_cb(void *arg, int64_t id, int ok, const char *error)
{
	struct ack_list *a = arg;
	json_t *ack = ok ? json_pack("{s:I,s:b}", "id", (json_int_t)id, "ok", 1)
			 : json_pack("{s:I,s:b,s:s}", "id", (json_int_t)id,
			       "ok", 0, "error", error);

	/* An error text that is not UTF-8 still fails the instruction: an
	 * ack left out would be deleted unsent after the next answer. */
	if (ack == NULL && !ok)
		ack = json_pack("{s:I,s:b,s:s}", "id", (json_int_t)id, "ok", 0,
		    "error", "(the error text was not valid UTF-8)");
	if (ack == NULL || json_array_append_new(a->list, ack) < 0)
		return 1; /* the rest waits; max_id stays before this one */
	a->max_id = id;
	return 0;
}

static char *
poll_body(struct target *t, struct cerr *err)
{
	struct ack_list acks = {json_array(), 0};
	int64_t after = 0, now = timefmt_now_s(), queued = 0, dropped = 0;
	int64_t pending_upto = 0;
	int64_t wait = t->poll_interval_s < POLL_MAX_WAIT_S ? t->poll_interval_s
							    : POLL_MAX_WAIT_S;
	/* A defect's ack waits until nothing is left to upload; meanwhile
	 * the poll comes back each second to look again. */
	int hold_acks = t->defecting && !defect_ready(t);
	json_t *body;
	char *text;

	if (hold_acks)
		wait = 1;
	if (acks.list == NULL ||
	    tstore_meta_get_int(t->store, "last_instr", 0, &after, err) < 0 ||
	    tstore_outbox_stats(t->store, &queued, &dropped, err) < 0 ||
	    tstore_outbox_last_seq(t->store, &pending_upto, err) < 0 ||
	    (!hold_acks &&
		tstore_ack_list(t->store, POLL_MAX_ACKS, ack_cb, &acks, err) <
		    0)) {
		json_decref(acks.list);
		return NULL;
	}
	t->acks_sent_upto = acks.max_id;
	/* outbox_pending_upto: the master trusts its history of this target
	 * once its uploads reach that far (master/outbox_seen.h). */
	body = json_pack("{s:s,s:s,s:I,s:I,s:I,s:i,s:I,s:I,s:I,s:o}", "name",
	    t->conf->name, "version", version_string(), "after",
	    (json_int_t)after, "wait_s", (json_int_t)wait, "local_time",
	    (json_int_t)now, "tz_offset_s", (int)timefmt_local_offset(now),
	    "poll_interval_s", (json_int_t)t->poll_interval_s, "outbox_dropped",
	    (json_int_t)dropped, "outbox_pending_upto",
	    (json_int_t)pending_upto, "acks", acks.list);
	/* A scale-out worker says so in every poll: the master registers
	 * it and counts its tasks (scaleout.h). */
	if (body != NULL && t->conf->worker)
		json_object_set_new(
		    body, "max_tasks", json_integer(t->conf->max_tasks));
	text = body ? json_dump_compact(body) : NULL;
	json_decref(body);
	if (text == NULL)
		cerr_set(err, CERR_INTERNAL, "out of memory");
	return text;
}

static void
poll_send(struct target *t)
{
	char url[CONF_STR_MAX + 32];
	struct cerr err;
	char *body;
	long timeout_ms;

	if (t->poll_call != NULL || t->stopped_polling)
		return;
	body = poll_body(t, &err);
	if (body == NULL) {
		target_store_failed(t, &err);
		poll_backoff(t);
		return;
	}
	target_url(t, "/v1/poll", url, sizeof(url));
	/* The master answers within the wait; the margin is the network's.
	 * A master frozen with the poll held (a paused VM) costs no more
	 * than this before the target tries the next master. */
	timeout_ms = (t->poll_interval_s < POLL_MAX_WAIT_S ? t->poll_interval_s
							   : POLL_MAX_WAIT_S) *
		1000L +
	    POLL_MARGIN_MS;
	t->poll_call = hclient_request(t->http, "POST", url, body, timeout_ms,
	    POLL_MAX_RESPONSE, poll_done, t, &err);
	free(body);
	if (t->poll_call == NULL) {
		log_error("poll", "msg=%s", LOG_TEXT(err.msg));
		poll_backoff(t);
	}
}

int
poll_start(struct target *t, struct cerr *err)
{
	t->poll_retry = evtimer_new(t->base, retry_cb, t);
	if (t->poll_retry == NULL)
		return cerr_set(err, CERR_INTERNAL, "cannot start polling");
	poll_send(t);
	return 0;
}

void
poll_stop(struct target *t)
{
	if (t->poll_call != NULL)
		hclient_cancel(t->http, t->poll_call);
	t->poll_call = NULL;
	if (t->poll_retry != NULL)
		event_free(t->poll_retry);
	t->poll_retry = NULL;
}
