/*
 * api_exec: scale-out executions and workers (scaleout.h). Admins and
 * operators submit executions; everyone who reads sees the queue and the
 * workers; admins enable and disable workers.
 */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/jobdoc.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "master/api.h"
#include "master/longpoll.h"
#include "master/master.h"
#include "master/scaleout.h"
#include "master/status.h"
#include "store/store.h"

#define MAX_PINNED 1000
#define DEFAULT_LIMIT 100
#define MAX_LIMIT 10000

static json_t *
exec_view(const struct store_exec *e)
{
	json_t *pins = e->pin_workers[0] ? json_loads(e->pin_workers, 0, NULL)
					 : json_null();

	return json_pack("{s:I,s:s,s:s,s:o,s:I,s:I,s:o,s:o,s:s,s:s,s:o,s:o,s:o,"
			 "s:o,s:I}",
	    "id", (json_int_t)e->id, "job", e->job, "status",
	    exec_status_name(e->status), "worker",
	    e->worker[0] ? json_string(e->worker) : json_null(), "attempt",
	    (json_int_t)e->attempt, "retries", (json_int_t)e->retries, "group",
	    e->pin_group[0] ? json_string(e->pin_group) : json_null(),
	    "workers", pins ? pins : json_null(), "reason", e->reason,
	    "submitted_by", e->submitted_by, "submitted_at",
	    json_utc_or_null(e->submitted_at), "assigned_at",
	    json_utc_or_null(e->assigned_at), "started_at",
	    json_utc_or_null(e->started_at), "finished_at",
	    json_utc_or_null(e->finished_at), "instr_id",
	    (json_int_t)e->instr_id);
}

static int
exec_cb(void *arg, const struct store_exec *e)
{
	return json_array_append_new(arg, exec_view(e));
}

/* Body: {"job": NAME, "group": G | "workers": [NAMES], "retries": N}. */
static int
read_submit(const json_t *body, const char **job, const char **group,
    const json_t **workers, int64_t *retries, struct cerr *err)
{
	static const char *const keys[] = {
	    "job", "group", "workers", "retries", NULL};
	size_t i;
	json_t *v;

	*job = *group = NULL;
	*workers = NULL;
	*retries = 0;
	if (body == NULL)
		return cerr_set(err, CERR_INVALID, "request body is missing");
	if (json_check_keys(body, keys, "", err) < 0 ||
	    json_get_string(body, "job", "", STORE_NAME_MAX, 0, job, err) < 0 ||
	    json_get_string(body, "group", "", STORE_NAME_MAX, 0, group, err) <
		0 ||
	    json_get_int(body, "retries", "", 0, 100, retries, err) < 0)
		return -1;
	if (*job == NULL)
		return cerr_set(err, CERR_INVALID, "job: required");
	if (jobdoc_check_name(*job, STORE_NAME_MAX, "job", err) < 0 ||
	    (*group != NULL &&
		jobdoc_check_name(*group, STORE_NAME_MAX, "group", err) < 0))
		return -1;
	*workers = json_object_get(body, "workers");
	if (json_is_null(*workers))
		*workers = NULL;
	if (*workers == NULL)
		return 0;
	if (*group != NULL)
		return cerr_set(err, CERR_INVALID,
		    "group and workers: name one or the other");
	if (!json_is_array(*workers) || json_array_size(*workers) == 0 ||
	    json_array_size(*workers) > MAX_PINNED)
		return cerr_set(err, CERR_INVALID,
		    "workers: must be an array of 1 to %d names", MAX_PINNED);
	json_array_foreach(*workers, i, v)
	{
		if (!json_is_string(v))
			return cerr_set(err, CERR_INVALID,
			    "workers[%zu]: not a name", i + 1);
		if (jobdoc_check_name(json_string_value(v), STORE_NAME_MAX,
			"workers[]", err) < 0)
			return -1;
		/* a name given twice is a typo for another (MAX_PINNED
		 * names: the pairs are few) */
		for (size_t k = 0; k < i; k++)
			if (strcmp(
				json_string_value(json_array_get(*workers, k)),
				json_string_value(v)) == 0)
				return cerr_set(err, CERR_INVALID,
				    "workers: '%s' given twice",
				    json_string_value(v));
	}
	return 0;
}

void
api_exec_submit(struct http_req *r)
{
	const char *job, *group;
	const json_t *workers;
	int64_t retries, id = 0;
	struct cerr err;

	if (read_submit(r->body, &job, &group, &workers, &retries, &err) < 0 ||
	    scaleout_submit(r->m, job, group, workers, retries,
		r->caller.id.name, &id, &err) < 0) {
		http_reply_error(r, &err);
		return;
	}
	http_reply_json(r, 200,
	    json_pack("{s:I,s:s,s:s}", "id", (json_int_t)id, "job", job,
		"status", "queued"));
}

void
api_exec_list(struct http_req *r)
{
	const char *status = http_query(r, "status");
	int which = STORE_EXECS_ALL;
	json_t *list = json_array();
	int64_t limit = DEFAULT_LIMIT;
	enum exec_status st;
	struct cerr err;

	if (status != NULL && strcmp(status, "open") == 0) {
		which = STORE_EXECS_OPEN;
	} else if (status != NULL) {
		if (exec_status_parse(status, &st) < 0) {
			cerr_set(&err, CERR_INVALID,
			    "query parameter status: '%.40s' is not open, "
			    "queued, assigned, running, succeeded or failed",
			    status);
			goto fail;
		}
		which = (int)st;
	}
	if (http_query_int(r, "limit", 1, MAX_LIMIT, &limit, &err) < 0 ||
	    store_exec_list(r->m->store, which, limit, exec_cb, list, &err) < 0)
		goto fail;
	http_reply_json(r, 200, list);
	return;
fail:
	json_decref(list);
	http_reply_error(r, &err);
}

void
api_exec_get(struct http_req *r)
{
	json_t *list = json_array();
	struct cerr err;
	int64_t id;

	if (http_path_id(r->args[0], "execution id", &id, &err) < 0 ||
	    store_exec_get(r->m->store, id, exec_cb, list, &err) < 0)
		goto fail;
	http_reply_json(r, 200, json_incref(json_array_get(list, 0)));
	json_decref(list);
	return;
fail:
	json_decref(list);
	http_reply_error(r, &err);
}

struct workers_ctx {
	struct master *m;
	json_t *list;
	struct store_worker *v;
	size_t n;
	struct cerr *err;
};

static int
worker_cb(void *arg, const struct store_worker *w)
{
	struct workers_ctx *wc = arg;
	struct store_worker *grown =
	    realloc(wc->v, (wc->n + 1) * sizeof(*grown));

	if (grown == NULL)
		return cerr_set(wc->err, CERR_INTERNAL, "out of memory");
	wc->v = grown;
	wc->v[wc->n++] = *w;
	return 0;
}

void
api_workers_list(struct http_req *r)
{
	struct workers_ctx wc = {r->m, json_array(), NULL, 0, NULL};
	int64_t now = master_now();
	char at[TIMEFMT_MAX];
	struct cerr err;

	wc.err = &err;
	if (store_worker_list(r->m->store, worker_cb, &wc, &err) < 0)
		goto fail;
	for (size_t i = 0; i < wc.n; i++) {
		const struct store_worker *w = &wc.v[i];
		struct store_target t;

		if (store_target_get(r->m->store, w->name, &t, &err) < 0)
			goto fail;
		json_array_append_new(wc.list,
		    json_pack("{s:s,s:b,s:I,s:I,s:b,s:s,s:o,s:s}", "name",
			w->name, "enabled", w->enabled, "max_tasks",
			(json_int_t)w->max_tasks, "active",
			(json_int_t)w->active, "online",
			scaleout_worker_alive(r->m, &t, now), "status",
			status_of_target(r->m, &t, now), "last_poll",
			json_utc_or_null(t.last_poll), "registered_at",
			timefmt_utc(w->registered_at, at)));
	}
	free(wc.v);
	http_reply_json(r, 200, wc.list);
	return;
fail:
	free(wc.v);
	json_decref(wc.list);
	http_reply_error(r, &err);
}

static void
set_enabled(struct http_req *r, int enabled)
{
	struct cerr err;

	/* A target whose held poll says it is no worker (worker = no) would
	 * be disabled again by the next pass: say so rather than "enabled".
	 * One not polling now is enabled; its next poll decides. */
	if (enabled && longpoll_is_waiting(r->m, r->args[0]) &&
	    !longpoll_waiting_worker(r->m, r->args[0])) {
		cerr_set(&err, CERR_CONFLICT,
		    "%s's polls do not say worker = yes: set worker = yes in "
		    "its cohortd.conf and restart it, then enable it",
		    r->args[0]);
		http_reply_error(r, &err);
		return;
	}
	if (store_worker_set_enabled(r->m->store, r->args[0], enabled, &err) <
	    0) {
		http_reply_error(r, &err);
		return;
	}
	log_info(enabled ? "worker_enabled" : "worker_disabled",
	    "worker=%s by=%s", r->args[0], r->caller.id.name);
	if (enabled)
		scaleout_kick(r->m);
	http_reply_json(r, 200,
	    json_pack("{s:s,s:b}", "name", r->args[0], "enabled", enabled));
}

void
api_worker_enable(struct http_req *r)
{
	set_enabled(r, 1);
}

void
api_worker_disable(struct http_req *r)
{
	set_enabled(r, 0);
}
