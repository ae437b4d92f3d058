/*
 * longpoll: held polls and their wake-ups (see longpoll.h).
 */
#include "master/longpoll.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "master/http.h"
#include "master/master.h"
#include "store/store.h"

struct poll_waiter {
	struct master *m;
	struct evhttp_request *req;
	struct evhttp_connection *conn;
	struct event *timer;
	int64_t after;
	char target[STORE_NAME_MAX + 1];
};

static int
collect_cb(void *arg, const struct store_instr *in)
{
	json_t *list = arg;
	json_t *payload = NULL;

	if (in->payload[0] != '\0')
		payload = json_loads(in->payload, 0, NULL);
	json_array_append_new(list, json_pack("{s:I,s:s,s:s,s:o}", "id",
	    (json_int_t)in->id, "op", instr_op_name(in->op), "object",
	    in->object, "payload", payload ? payload : json_null()));
	return 0;
}

int
longpoll_collect(struct master *m, const char *target, int64_t after,
    json_t **out, int *count, struct cerr *err)
{
	json_t *list = json_array();

	if (list == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	if (store_instr_fetch(m->store, target, after, LONGPOLL_BATCH,
	    master_now(), collect_cb, list, err) < 0) {
		json_decref(list);
		return -1;
	}
	*count = (int)json_array_size(list);
	*out = json_pack("{s:o}", "instructions", list);
	return 0;
}

static void
waiter_free(struct poll_waiter *w)
{
	if (w->timer != NULL)
		event_free(w->timer);
	free(w);
}

/* Detaches w from its connection and the map; the request stays. */
static void
waiter_detach(struct poll_waiter *w)
{
	if (strmap_get(&w->m->waiters, w->target) == w)
		strmap_del(&w->m->waiters, w->target);
	evhttp_connection_set_closecb(w->conn, NULL, NULL);
}

static void
waiter_answer(struct poll_waiter *w, int status, json_t *body)
{
	waiter_detach(w);
	http_send_json(w->req, status, body);
	waiter_free(w);
}

static void
waiter_answer_collected(struct poll_waiter *w, int only_if_any)
{
	struct cerr err;
	json_t *body = NULL;
	int count = 0;

	if (longpoll_collect(w->m, w->target, w->after, &body, &count,
	    &err) < 0) {
		log_warn("poll_collect", "target=%s msg=\"%s\"", w->target,
		    err.msg);
		waiter_answer(w, cerr_http_status(err.code),
		    json_pack("{s:{s:s,s:s}}", "error", "code",
		    cerr_code_name(err.code), "message", err.msg));
		return;
	}
	if (count == 0 && only_if_any) {
		json_decref(body);
		return;
	}
	waiter_answer(w, 200, body);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	waiter_answer_collected(arg, 0);
}

/* The connection closed while the poll was held: libevent frees the
 * request itself, so only our side is released. */
static void
closed_cb(struct evhttp_connection *conn, void *arg)
{
	struct poll_waiter *w = arg;

	if (strmap_get(&w->m->waiters, w->target) == w)
		strmap_del(&w->m->waiters, w->target);
	waiter_free(w);
}

int
longpoll_hold(struct master *m, struct evhttp_request *req,
    const char *target, int64_t after, int wait_s, struct cerr *err)
{
	struct poll_waiter *w = calloc(1, sizeof(*w));
	struct poll_waiter *old = strmap_get(&m->waiters, target);
	struct timeval tv = {wait_s, 0};

	if (w == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	if (old != NULL)
		waiter_answer(old, 200, json_pack("{s:[]}", "instructions"));
	w->m = m;
	w->req = req;
	w->conn = evhttp_request_get_connection(req);
	w->after = after;
	snprintf(w->target, sizeof(w->target), "%s", target);
	w->timer = evtimer_new(m->base, timer_cb, w);
	if (w->timer == NULL || evtimer_add(w->timer, &tv) < 0 ||
	    strmap_put(&m->waiters, target, w, NULL, err) < 0) {
		waiter_free(w);
		return cerr_set(err, CERR_INTERNAL, "cannot hold poll");
	}
	evhttp_connection_set_closecb(w->conn, closed_cb, w);
	return 0;
}

void
longpoll_wake(struct master *m, const char *target)
{
	struct poll_waiter *w = strmap_get(&m->waiters, target);

	if (w != NULL)
		waiter_answer_collected(w, 1);
}

void
longpoll_refuse(struct master *m, const char *target, const struct cerr *why)
{
	struct poll_waiter *w = strmap_get(&m->waiters, target);

	if (w != NULL)
		waiter_answer(w, cerr_http_status(why->code),
		    json_pack("{s:{s:s,s:s}}", "error", "code",
		    cerr_code_name(why->code), "message", why->msg));
}

int
longpoll_is_waiting(struct master *m, const char *target)
{
	return strmap_has(&m->waiters, target);
}

static int
collect_waiter(void *arg, const char *key, void *value)
{
	struct poll_waiter ***cursor = arg;

	*(*cursor)++ = value;
	return 0;
}

void
longpoll_release_all(struct master *m)
{
	json_t *empty = json_pack("{s:[]}", "instructions");

	longpoll_refuse_all(m, 200, empty);
	json_decref(empty);
}

void
longpoll_refuse_all(struct master *m, int status, const json_t *body)
{
	size_t n = m->waiters.count;
	struct poll_waiter **all = calloc(n + 1, sizeof(*all));
	struct poll_waiter **cursor = all;

	if (all == NULL)
		return;
	strmap_foreach(&m->waiters, collect_waiter, &cursor);
	for (size_t i = 0; i < n; i++)
		waiter_answer(all[i], status, json_deep_copy(body));
	free(all);
}
