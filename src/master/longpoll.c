/*
 * longpoll: held polls, their wake-ups and the per-turn batch (see
 * longpoll.h).
 *
 * A waiter is NEW (a poll queued for the batch), HELD (in m->waiters, its
 * timer running) or WOKEN (held, and queued because an instruction was
 * posted or its time ran out). A waiter owns its deferred evhttp request
 * until it answers it; the connection's close callback frees the waiter
 * when the client goes away first. The batch runs from one event made
 * active when the first waiter is queued, so it runs after every other
 * callback of the same turn of the loop. The replies of a batch's woken
 * polls go out LONGPOLL_SLICE at a time, one slice per loop turn (see
 * answer_slice); new polls are answered in the turn they came in.
 */
#include "master/longpoll.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "common/buf.h"
#include "common/log.h"
#include "master/defect.h"
#include "master/guard.h"
#include "master/http.h"
#include "master/lease.h"
#include "master/master.h"

/* The most a reply may hold (LONGPOLL_BATCH documents of 4 MiB at most,
 * in practice far less). */
#define REPLY_MAX_BYTES ((size_t)512 * 1024 * 1024)
/* Replies to woken polls handed to evhttp per loop turn. Each slice is
 * written before the next is built (guard_write_now()), so in a fan-out
 * the targets read while the master builds: a batch answered whole
 * (10,000 replies, ~100 ms) put its first byte on the wire only after
 * its last reply was made. */
#define LONGPOLL_SLICE 128

enum waiter_state { W_NEW, W_HELD, W_WOKEN };

TAILQ_HEAD(waiter_list, poll_waiter);

struct poll_waiter {
	struct master *m;
	struct evhttp_request *req;
	struct evhttp_connection *conn;
	struct event *timer; /* while held */
	struct waiter_list *in; /* the list it is queued on, or NULL */
	TAILQ_ENTRY(poll_waiter) q;
	enum waiter_state state;
	int expired; /* its hold time ended */
	int worker; /* the poll said max_tasks: a scale-out worker's */
	int gone; /* its target row is gone */
	/* it acknowledged a defect: the target is defected once the batch
	 * commits, and this poll is answered so */
	struct serial_list *defected;
	int wait_s;
	int64_t after;
	int64_t local_time;
	int32_t tz_offset_s;
	int32_t poll_interval_s;
	int64_t outbox_dropped;
	struct longpoll_ack *acks;
	size_t nacks;
	char *reply; /* during a batch: the answer */
	size_t reply_len;
	int count; /* instructions in reply */
	uint64_t applied, failed; /* acks recorded, for the metrics */
	char version[32];
	char target[STORE_NAME_MAX + 1];
};

struct longpoll {
	struct event *flush;
	struct waiter_list queue;
	int scheduled;
	struct event *more; /* zero timer: the next slice of replies */
	struct waiter_list replying; /* committed, reply ready, not sent */
};

void
longpoll_acks_free(struct longpoll_ack *acks, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(acks[i].error);
	free(acks);
}

static void
unqueue(struct poll_waiter *w)
{
	if (w->in != NULL)
		TAILQ_REMOVE(w->in, w, q);
	w->in = NULL;
}

/* Frees w and every trace of it; the request stays (answered or freed
 * by libevent). */
static void
waiter_free(struct poll_waiter *w)
{
	unqueue(w);
	if (strmap_get(&w->m->waiters, w->target) == w)
		strmap_del(&w->m->waiters, w->target);
	if (w->timer != NULL)
		event_free(w->timer);
	longpoll_acks_free(w->acks, w->nacks);
	if (w->defected != NULL)
		serial_list_clear(w->defected);
	free(w->defected);
	free(w->reply);
	free(w);
}

static void
waiter_answer(struct poll_waiter *w, int status, json_t *body)
{
	evhttp_connection_set_closecb(w->conn, NULL, NULL);
	http_send_json(w->req, status, body);
	metrics_http(&w->m->metrics, status, -1);
	waiter_free(w);
}

static void
waiter_answer_error(struct poll_waiter *w, const struct cerr *err)
{
	waiter_answer(w, cerr_http_status(err->code),
	    json_pack("{s:{s:s,s:s}}", "error", "code",
		cerr_code_name(err->code), "message", err->msg));
}

static void
waiter_answer_reply(struct poll_waiter *w)
{
	evhttp_connection_set_closecb(w->conn, NULL, NULL);
	http_send_text(w->req, 200, w->reply, w->reply_len);
	metrics_http(&w->m->metrics, 200, -1);
	waiter_free(w);
}

/* The connection closed while the poll was held or queued: libevent
 * frees the request itself, so only our side is released. */
static void
closed_cb(struct evhttp_connection *conn, void *arg)
{
	waiter_free(arg);
}

static void
schedule(struct master *m, struct poll_waiter *w)
{
	struct longpoll *lp = m->lp;

	TAILQ_INSERT_TAIL(&lp->queue, w, q);
	w->in = &lp->queue;
	if (!lp->scheduled) {
		event_active(lp->flush, EV_TIMEOUT, 1);
		lp->scheduled = 1;
	}
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct poll_waiter *w = arg;

	w->expired = 1;
	if (w->state == W_HELD) {
		w->state = W_WOKEN;
		schedule(w->m, w);
	}
}

/* Appends s as a JSON string. Names are plain already; this is the
 * guard for anything else. */
static int
put_string(struct buf *b, const char *s, struct cerr *err)
{
	if (buf_puts(b, "\"", err) < 0)
		return -1;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		int rc = c < 0x20           ? buf_printf(b, err, "\\u%04x", c)
		    : c == '"' || c == '\\' ? buf_printf(b, err, "\\%c", c)
					    : buf_append(b, s, 1, err);

		if (rc < 0)
			return -1;
	}
	return buf_puts(b, "\"", err);
}

struct reply {
	struct buf b;
	int count;
};

/* One instruction of a reply. The payload is the master's own canonical
 * JSON text (written by json_dump), so it is copied, not re-parsed. When
 * the buffer cannot take it, the reply ends before it (a valid prefix;
 * the rest goes with the next poll). */
static int
reply_cb(void *arg, const struct store_instr *in)
{
	struct reply *r = arg;
	struct cerr err;
	int object = in->payload[0] == '{' || in->payload[0] == '[';
	size_t len = r->b.len;

	if (buf_printf(&r->b, &err,
		"%s{\"id\":%lld,\"op\":\"%s\","
		"\"object\":",
		r->count ? "," : "", (long long)in->id,
		instr_op_name(in->op)) < 0 ||
	    put_string(&r->b, in->object, &err) < 0 ||
	    buf_puts(&r->b, ",\"payload\":", &err) < 0 ||
	    buf_puts(&r->b, object ? in->payload : "null", &err) < 0 ||
	    buf_puts(&r->b, "}", &err) < 0) {
		r->b.len = len;
		if (r->b.data != NULL)
			r->b.data[len] = '\0';
		return -1;
	}
	r->count++;
	return 0;
}

/* Fetches w's instructions into w->reply (inside the batch's
 * transaction). */
static int
fetch_reply(
    struct master *m, struct poll_waiter *w, int64_t now, struct cerr *err)
{
	struct reply r = {{NULL, 0, 0, 0}, 0};
	int rc = -1;

	buf_init(&r.b, REPLY_MAX_BYTES);
	if (buf_puts(&r.b, "{\"instructions\":[", err) < 0 ||
	    store_instr_fetch(m->store, w->target, w->after, LONGPOLL_BATCH,
		now, reply_cb, &r, err) < 0 ||
	    buf_puts(&r.b, "]}\n", err) < 0)
		goto out;
	free(w->reply);
	w->count = r.count;
	w->reply_len = r.b.len;
	w->reply = buf_take(&r.b);
	rc = w->reply ? 0 : cerr_set(err, CERR_INTERNAL, "out of memory");
out:
	buf_cleanup(&r.b);
	return rc;
}

/* A target that dropped outbox records says so in every poll: never
 * silent, the count is in its status too. Read only when it is not 0. */
static int
note_overflow(struct master *m, const struct poll_waiter *w, struct cerr *err)
{
	struct store_target t;

	if (w->outbox_dropped == 0)
		return 0;
	if (store_target_get(m->store, w->target, &t, err) < 0)
		return err->code == CERR_NOT_FOUND ? 0 : -1;
	if (w->outbox_dropped > t.outbox_dropped)
		log_warn("outbox_overflow", "target=%s dropped=%lld total=%lld",
		    w->target,
		    (long long)(w->outbox_dropped - t.outbox_dropped),
		    (long long)w->outbox_dropped);
	return 0;
}

/* The target applied its defect: it has no multiserver jobs left and its
 * outbox is uploaded (target/defect.c). Nothing it acknowledges after the
 * defect counts: the defect dropped it. */
static int
defect_acked(struct master *m, struct poll_waiter *w, struct cerr *err)
{
	w->applied++;
	w->defected = calloc(1, sizeof(*w->defected));
	if (w->defected == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	return defect_in_tx(m, w->target, NULL, w->defected, err);
}

/* Records a new poll's status and acknowledgements. */
static int
record_poll(
    struct master *m, struct poll_waiter *w, int64_t now, struct cerr *err)
{
	struct store_poll sp = {now, w->local_time, w->tz_offset_s,
	    w->poll_interval_s, w->version, w->outbox_dropped};

	if (note_overflow(m, w, err) < 0)
		return -1;
	if (store_target_polled(m->store, w->target, &sp, err) < 0) {
		if (err->code != CERR_NOT_FOUND)
			return -1;
		w->gone = 1;
		return 0;
	}
	for (size_t i = 0; i < w->nacks; i++) {
		const struct longpoll_ack *a = &w->acks[i];
		enum instr_op op;

		/* An id the master no longer has (trimmed, or the target
		 * was reset) is nothing to record. */
		if (store_instr_ack(m->store, w->target, a->id, a->ok,
			a->error ? a->error : "", now, &op, err) < 0) {
			if (err->code != CERR_NOT_FOUND)
				return -1;
			continue;
		}
		if (a->ok && op == INSTR_DEFECT)
			return defect_acked(m, w, err);
		if (a->ok) {
			w->applied++;
			continue;
		}
		w->failed++;
		log_warn("instruction_failed", "target=%s id=%lld", w->target,
		    (long long)a->id);
	}
	return 0;
}

static int
batch_store(struct master *m, struct waiter_list *batch, struct cerr *err)
{
	int64_t now = master_now();
	struct poll_waiter *w;

	if (store_begin(m->store, err) < 0)
		return -1;
	TAILQ_FOREACH(w, batch, q)
	{
		if ((w->state == W_NEW && record_poll(m, w, now, err) < 0) ||
		    (!w->gone && w->defected == NULL &&
			fetch_reply(m, w, now, err) < 0))
			goto fail;
	}
	if (store_commit(m->store, err) < 0)
		goto fail;
	return 0;
fail:
	store_rollback(m->store);
	return -1;
}

/* A new poll with nothing to deliver: it waits, replacing an older poll
 * of the same target (which is answered empty). */
static void
hold(struct master *m, struct poll_waiter *w)
{
	struct poll_waiter *old = strmap_get(&m->waiters, w->target);
	struct timeval tv = {w->wait_s, 0};
	struct cerr err;

	if (old != NULL)
		waiter_answer(old, 200, json_pack("{s:[]}", "instructions"));
	free(w->reply);
	w->reply = NULL;
	w->state = W_HELD;
	w->timer = evtimer_new(m->base, timer_cb, w);
	if (w->timer == NULL || evtimer_add(w->timer, &tv) < 0 ||
	    strmap_put(&m->waiters, w->target, w, NULL, &err) < 0) {
		cerr_set(&err, CERR_INTERNAL, "cannot hold poll");
		waiter_answer_error(w, &err);
	}
}

/* Whether batch_answer sends w its prepared reply (after the commit). */
static int
will_reply(const struct poll_waiter *w)
{
	return !w->gone && w->defected == NULL &&
	    (w->count > 0 || w->expired ||
		(w->state == W_NEW && w->wait_s == 0));
}

static void
batch_answer(struct master *m, struct poll_waiter *w)
{
	struct cerr err;

	/* The acks are counted once committed. */
	m->metrics.applied += w->applied;
	m->metrics.failed += w->failed;
	w->applied = w->failed = 0;

	if (w->gone) {
		cerr_set(&err, CERR_GONE,
		    "target '%s' is not enlisted with "
		    "this master (deleted?)",
		    w->target);
		waiter_answer_error(w, &err);
	} else if (w->defected != NULL) {
		defect_committed(m, w->target, w->defected, "the master");
		cerr_set(&err, CERR_GONE,
		    "target '%s' has defected, on the master's instruction",
		    w->target);
		waiter_answer_error(w, &err);
	} else if (will_reply(w)) {
		waiter_answer_reply(w);
	} else if (w->state == W_NEW) {
		hold(m, w);
	} else {
		w->state = W_HELD; /* woken for nothing new */
		free(w->reply);
		w->reply = NULL;
	}
}

/* Sends up to LONGPOLL_SLICE prepared replies; the rest wait for the
 * next loop turn, by which time this slice has been written (the guard
 * writes each reply in the turn it is made). A waiter on the list cannot be
 * woken (it is not W_HELD) and a closed connection takes it off, so
 * nothing is lost while it waits. */
static void
answer_slice(struct master *m)
{
	struct longpoll *lp = m->lp;
	struct timeval now = {0, 0};
	struct poll_waiter *w;

	for (int i = 0; i < LONGPOLL_SLICE; i++) {
		w = TAILQ_FIRST(&lp->replying);
		if (w == NULL)
			break;
		unqueue(w);
		batch_answer(m, w);
	}
	if (!TAILQ_EMPTY(&lp->replying) && evtimer_add(lp->more, &now) < 0)
		while ((w = TAILQ_FIRST(&lp->replying)) != NULL) {
			unqueue(w);
			batch_answer(m, w);
		}
	if (TAILQ_EMPTY(&lp->replying) && lp->scheduled)
		event_active(lp->flush, EV_TIMEOUT, 1);
}

static void
more_cb(evutil_socket_t fd, short what, void *arg)
{
	answer_slice(arg);
}

/* The store failed: new polls and expired ones get the error; woken
 * ones keep waiting (their instructions stay pending for the next poll). */
static void
batch_failed(struct poll_waiter *w, const struct cerr *err)
{
	if (w->state == W_NEW || w->expired) {
		waiter_answer_error(w, err);
		return;
	}
	w->state = W_HELD;
	free(w->reply);
	w->reply = NULL;
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;
	struct waiter_list batch = TAILQ_HEAD_INITIALIZER(batch);
	struct poll_waiter *w;
	struct cerr err;
	int rc;

	/* Polls that came in while a batch's replies are still going out
	 * wait for the last of them (answer_slice runs this again): their
	 * acknowledgements cost the store more than a reply costs to send,
	 * and recording them first delayed the rest of a fan-out. */
	if (!TAILQ_EMPTY(&m->lp->replying))
		return;
	m->lp->scheduled = 0;
	while ((w = TAILQ_FIRST(&m->lp->queue)) != NULL) {
		unqueue(w);
		TAILQ_INSERT_TAIL(&batch, w, q);
		w->in = &batch;
	}
	rc = batch_store(m, &batch, &err);
	if (rc == 0)
		master_store_ok(m);
	else if (err.code == CERR_STORE)
		master_store_failed(m, &err); /* once per interval */
	else
		log_warn("poll_batch", "msg=%s", LOG_TEXT(err.msg));
	while ((w = TAILQ_FIRST(&batch)) != NULL) {
		unqueue(w);
		/* A new poll answered at once (a renewal, or one that finds
		 * instructions waiting) is answered in this turn: evhttp
		 * stopped reading its connection in this turn, when the
		 * request was complete, and restarts it when the reply has
		 * gone, which epoll's change list then cancels out (two
		 * epoll_ctl calls per renewal when they fall in two turns).
		 * Only woken polls, a fan-out's, go out in slices. */
		if (rc < 0) {
			batch_failed(w, &err);
		} else if (will_reply(w) && w->state == W_WOKEN) {
			TAILQ_INSERT_TAIL(&m->lp->replying, w, q);
			w->in = &m->lp->replying;
		} else {
			batch_answer(m, w);
		}
	}
	answer_slice(m);
	/* A fenced write means another master took over: step down, which
	 * sends the polls still held on to it. */
	lease_check_fenced(m);
}

int
longpoll_init(struct master *m, struct cerr *err)
{
	m->lp = calloc(1, sizeof(*m->lp));
	if (m->lp == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	TAILQ_INIT(&m->lp->queue);
	TAILQ_INIT(&m->lp->replying);
	m->lp->flush = event_new(m->base, -1, 0, flush_cb, m);
	m->lp->more = evtimer_new(m->base, more_cb, m);
	if (m->lp->flush == NULL || m->lp->more == NULL)
		return cerr_set(err, CERR_INTERNAL, "cannot add events");
	return 0;
}

int
longpoll_queue(struct master *m, struct evhttp_request *req,
    struct longpoll_req *p, struct cerr *err)
{
	struct poll_waiter *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	w->m = m;
	w->req = req;
	w->conn = evhttp_request_get_connection(req);
	w->state = W_NEW;
	w->wait_s = p->wait_s;
	w->after = p->after;
	w->local_time = p->local_time;
	w->tz_offset_s = p->tz_offset_s;
	w->poll_interval_s = p->poll_interval_s;
	w->outbox_dropped = p->outbox_dropped;
	w->worker = p->worker;
	snprintf(w->version, sizeof(w->version), "%s", p->version);
	snprintf(w->target, sizeof(w->target), "%s", p->target);
	w->acks = p->acks;
	w->nacks = p->nacks;
	p->acks = NULL;
	p->nacks = 0;
	evhttp_connection_set_closecb(w->conn, closed_cb, w);
	schedule(m, w);
	m->metrics.polls++;
	return 0;
}

void
longpoll_wake(struct master *m, const char *target)
{
	struct poll_waiter *w = strmap_get(&m->waiters, target);

	if (w != NULL && w->state == W_HELD) {
		w->state = W_WOKEN;
		schedule(m, w);
	}
}

void
longpoll_refuse(struct master *m, const char *target, const struct cerr *why)
{
	struct poll_waiter *w = strmap_get(&m->waiters, target);

	if (w != NULL)
		waiter_answer_error(w, why);
}

void
longpoll_revoked(struct master *m, const char *target)
{
	struct poll_waiter *w = strmap_get(&m->waiters, target);
	SSL *ssl = w != NULL ? guard_ssl(w->req) : NULL;
	struct http_conn *hc =
	    ssl != NULL ? SSL_get_ex_data(ssl, m->conn_idx) : NULL;
	struct cerr why;

	/* No identity kept with the connection (out of memory when it was
	 * first seen): its next request is checked in full anyway. */
	if (w == NULL || hc == NULL ||
	    !strmap_has(&m->revoked, hc->id.serial_hex))
		return;
	cerr_set(&why, CERR_UNAUTHENTICATED,
	    "certificate of %s has been revoked", target);
	waiter_answer_error(w, &why);
}

int
longpoll_is_waiting(struct master *m, const char *target)
{
	return strmap_has(&m->waiters, target);
}

int
longpoll_waiting_worker(struct master *m, const char *target)
{
	const struct poll_waiter *w = strmap_get(&m->waiters, target);

	return w != NULL && w->worker;
}

static int
collect_waiter(void *arg, const char *key, void *value)
{
	struct poll_waiter ***cursor = arg;

	*(*cursor)++ = value;
	return 0;
}

/* The new polls on list are answered; the others are only taken off
 * (they are held, so longpoll_refuse_all answers them from m->waiters). */
static void
refuse_queued(struct waiter_list *list, int status, const json_t *body)
{
	struct poll_waiter *w;

	while ((w = TAILQ_FIRST(list)) != NULL) {
		if (w->state == W_NEW)
			waiter_answer(w, status, json_deep_copy(body));
		else
			unqueue(w);
	}
}

void
longpoll_refuse_all(struct master *m, int status, const json_t *body)
{
	size_t n = m->waiters.count;
	struct poll_waiter **all = calloc(n + 1, sizeof(*all));
	struct poll_waiter **cursor = all;

	/* Queued new polls first; woken ones are held too, answered below. */
	if (m->lp != NULL) {
		refuse_queued(&m->lp->queue, status, body);
		refuse_queued(&m->lp->replying, status, body);
	}
	if (all == NULL)
		return;
	strmap_foreach(&m->waiters, collect_waiter, &cursor);
	for (size_t i = 0; i < n; i++)
		waiter_answer(all[i], status, json_deep_copy(body));
	free(all);
}

void
longpoll_release_all(struct master *m)
{
	json_t *empty = json_pack("{s:[]}", "instructions");
	json_t *stopping = json_pack("{s:{s:s,s:s}}", "error", "code",
	    cerr_code_name(CERR_UNAVAILABLE), "message",
	    "the master is stopping; poll again");

	/* A new poll's acknowledgements are not recorded yet (its batch has
	 * not run): a 200 would tell its target they were, and it would
	 * forget them. Held polls were recorded; they get the empty list. */
	if (m->lp != NULL) {
		refuse_queued(&m->lp->queue, 503, stopping);
		refuse_queued(&m->lp->replying, 503, stopping);
	}
	longpoll_refuse_all(m, 200, empty);
	json_decref(stopping);
	json_decref(empty);
	if (m->lp != NULL) {
		if (m->lp->flush != NULL)
			event_free(m->lp->flush);
		if (m->lp->more != NULL)
			event_free(m->lp->more);
		free(m->lp);
		m->lp = NULL;
	}
}
