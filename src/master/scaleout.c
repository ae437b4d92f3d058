/*
 * scaleout: the queue of executions and its dispatch passes (see
 * scaleout.h). A pass reads the workers and the open executions, then
 * decides in memory and writes in one transaction: first the leases of
 * the assigned and running executions (scaleout_lease.c), then a worker
 * for each queued one (scaleout_dispatch.c, the choice in
 * scaleout_pick.c); no store call runs inside a store listing. Here are
 * the pass's events, its reading of the workers and executions, the
 * posting and the reasons both halves write with, and the trimming of
 * ended executions.
 */
#include "master/scaleout.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/json.h"
#include "common/log.h"
#include "common/strmap.h"
#include "master/deliver.h"
#include "master/lease.h"
#include "master/longpoll.h"
#include "master/master.h"
#include "master/notify.h"
#include "master/scaleout_int.h"
#include "master/scaleout_pick.h"
#include "store/store.h"

/* Open executions read per pass: all of them in practice (a queue this
 * deep is a fleet without workers, and still costs one read a second). */
#define PASS_MAX 100000
/* Ended executions kept (the newest). */
#define KEEP_ENDED 10000
#define TRIM_EVERY_S 60

/* ---- reading ------------------------------------------------------------ */

static int
worker_cb(void *arg, const struct store_worker *w)
{
	struct pass *p = arg;
	struct store_worker *grown =
	    realloc(p->workers, (p->nworkers + 1) * sizeof(*grown));

	if (grown == NULL)
		return cerr_set(p->err, CERR_INTERNAL, "out of memory");
	p->workers = grown;
	p->workers[p->nworkers++] = *w;
	return 0;
}

static int
exec_cb(void *arg, const struct store_exec *e)
{
	struct pass *p = arg;
	struct open_exec *grown =
	    realloc(p->execs, (p->nexecs + 1) * sizeof(*grown));
	struct open_exec *x;

	if (grown == NULL)
		return cerr_set(p->err, CERR_INTERNAL, "out of memory");
	p->execs = grown;
	x = &p->execs[p->nexecs];
	x->e = *e;
	x->pins = strdup(e->pin_workers ? e->pin_workers : "");
	x->reason = strdup(e->reason ? e->reason : "");
	if (x->pins == NULL || x->reason == NULL) {
		free(x->pins);
		free(x->reason);
		return cerr_set(p->err, CERR_INTERNAL, "out of memory");
	}
	x->e.pin_workers = x->pins;
	x->e.reason = x->reason;
	p->nexecs++;
	return 0;
}

/* A registered worker whose poll no longer says max_tasks (restarted
 * with worker = no): disabled, as an administrator would, so it finishes
 * what it runs and takes nothing new. Enabling it again is theirs. */
static int
no_longer_a_worker(struct pass *p, struct scaleout_candidate *c)
{
	if (store_worker_set_enabled(p->m->store, c->name, 0, p->err) < 0)
		return -1;
	c->enabled = 0;
	log_warn("worker_disabled",
	    "worker=%s msg=\"its polls no longer say worker = yes: disabled, "
	    "it finishes what it runs and takes no new execution\"",
	    c->name);
	return 0;
}

/* Each worker's liveness and state, from its target row and the held
 * polls. */
static int
read_workers(struct pass *p)
{
	if (store_worker_list(p->m->store, worker_cb, p, p->err) < 0)
		return -1;
	p->state = calloc(p->nworkers + 1, sizeof(*p->state));
	p->grace = calloc(p->nworkers + 1, sizeof(*p->grace));
	if (p->state == NULL || p->grace == NULL)
		return cerr_set(p->err, CERR_INTERNAL, "out of memory");
	for (size_t i = 0; i < p->nworkers; i++) {
		struct scaleout_candidate *c = &p->state[i];
		struct store_target t;

		c->name = p->workers[i].name;
		c->enabled = p->workers[i].enabled;
		c->max_tasks = p->workers[i].max_tasks;
		c->active = p->workers[i].active;
		if (store_target_get(p->m->store, c->name, &t, p->err) < 0)
			return -1;
		c->last_poll = t.last_poll;
		c->blocked = t.failed > 0;
		c->alive = scaleout_worker_alive(p->m, &t, p->now);
		p->grace[i] = scaleout_in_grace(p->m, &t, p->now);
		c->holding = longpoll_is_waiting(p->m, c->name);
		if (c->holding && c->enabled &&
		    !longpoll_waiting_worker(p->m, c->name) &&
		    no_longer_a_worker(p, c) < 0)
			return -1;
	}
	return 0;
}

struct scaleout_candidate *
scaleout_worker_state(struct pass *p, const char *name)
{
	for (size_t i = 0; i < p->nworkers; i++)
		if (strcmp(p->state[i].name, name) == 0)
			return &p->state[i];
	return NULL;
}

static void
pass_free(struct pass *p)
{
	for (size_t i = 0; i < p->nexecs; i++) {
		free(p->execs[i].pins);
		free(p->execs[i].reason);
	}
	free(p->execs);
	free(p->workers);
	free(p->state);
	free(p->grace);
	json_decref(p->wake);
}

/* ---- writing ------------------------------------------------------------ */

/* Posts op of job to worker; a stop names the start it undoes (instr_id),
 * so the worker stops that run alone, queued or running. */
int
scaleout_post_op(struct pass *p, const char *worker, enum instr_op op,
    const char *job, int64_t start_id, int64_t *id_out)
{
	json_t *payload_json = start_id > 0
	    ? json_pack(
		  "{s:s,s:I}", "job", job, "instr_id", (json_int_t)start_id)
	    : json_pack("{s:s}", "job", job);
	char *payload = payload_json ? json_dump_compact(payload_json) : NULL;
	int64_t id = 0;
	int rc = -1;

	if (payload == NULL)
		cerr_set(p->err, CERR_INTERNAL, "out of memory");
	else if (store_instr_post(p->m->store, worker, op, job, payload, p->now,
		     &id, p->err) == 0 &&
	    (rc = json_array_append_new(p->wake, json_string(worker))) < 0)
		cerr_set(p->err, CERR_INTERNAL, "out of memory");
	json_decref(payload_json);
	free(payload);
	if (id_out != NULL)
		*id_out = id;
	return rc;
}

/* Sets e's reason (a copy owned by x). */
int
scaleout_set_reason(struct open_exec *x, const char *reason, struct cerr *err)
{
	char *copy = strdup(reason);

	if (copy == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	free(x->reason);
	x->reason = copy;
	x->e.reason = copy;
	return 0;
}

/* ---- the pass ----------------------------------------------------------- */

int
scaleout_notify_failed(struct pass *p, const struct open_exec *x)
{
	int queued = 0;

	if (notify_execution(p->m->store, &x->e, p->now, &queued, p->err) < 0)
		return -1;
	p->notified |= queued;
	return 0;
}

static int
pass_run(struct pass *p)
{
	struct scaleout_candidate *c;
	int rc = 0;

	if (store_exec_list(p->m->store, STORE_EXECS_OPEN, PASS_MAX, exec_cb, p,
		p->err) < 0)
		return -1;
	if (p->nexecs == 0)
		return 0;
	if (read_workers(p) < 0)
		return -1;
	c = calloc(p->nworkers + 1, sizeof(*c));
	if (c == NULL)
		return cerr_set(p->err, CERR_INTERNAL, "out of memory");
	if (store_begin(p->m->store, p->err) < 0) {
		free(c);
		return -1;
	}
	for (size_t i = 0; i < p->nexecs && rc == 0; i++)
		if (p->execs[i].e.status != EXEC_QUEUED)
			rc = scaleout_check_lease(p, &p->execs[i]);
	for (size_t i = 0; i < p->nexecs && rc == 0; i++)
		if (p->execs[i].e.status == EXEC_QUEUED)
			rc = scaleout_dispatch(p, &p->execs[i], c);
	free(c);
	if (rc < 0 || store_commit(p->m->store, p->err) < 0) {
		store_rollback(p->m->store);
		return -1;
	}
	return 0;
}

static void
trim(struct master *m, struct scaleout *so, int64_t now)
{
	struct cerr err;

	if (now - so->trimmed_at < TRIM_EVERY_S)
		return;
	so->trimmed_at = now;
	if (store_exec_trim(m->store, KEEP_ENDED, NULL, &err) < 0)
		log_warn("housekeeping", "part=executions msg=%s",
		    LOG_TEXT(err.msg));
}

static void
pass_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;
	struct cerr err = {0};
	struct pass p;
	size_t i;
	json_t *v;

	if (!lease_is_active(m)) {
		m->scaleout->was_active = 0;
		return;
	}
	if (!m->scaleout->was_active) {
		m->scaleout->was_active = 1;
		m->scaleout->active_since = master_now();
	}
	memset(&p, 0, sizeof(p));
	p.m = m;
	p.now = master_now();
	p.err = &err;
	p.wake = json_array();
	if (p.wake == NULL)
		return;
	if (pass_run(&p) < 0) {
		if (err.code == CERR_STORE)
			master_store_failed(m, &err);
		else
			log_warn("scaleout", "msg=%s", LOG_TEXT(err.msg));
	} else {
		m->metrics.posted += json_array_size(p.wake);
		json_array_foreach(p.wake, i, v)
		    longpoll_wake(m, json_string_value(v));
		if (p.notified)
			deliver_kick(m->deliver);
	}
	pass_free(&p);
	trim(m, m->scaleout, p.now);
}

void
scaleout_kick(struct master *m)
{
	if (m->scaleout != NULL)
		event_active(m->scaleout->kick, EV_TIMEOUT, 0);
}

int
scaleout_start(struct master *m, struct cerr *err)
{
	struct timeval second = {1, 0};
	struct scaleout *so = calloc(1, sizeof(*so));

	if (so == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	m->scaleout = so;
	strmap_init(&so->held_at);
	strmap_init(&so->resynced_at);
	strmap_init(&so->refused_at);
	so->tick = event_new(m->base, -1, EV_PERSIST, pass_cb, m);
	so->kick = event_new(m->base, -1, 0, pass_cb, m);
	if (so->tick == NULL || so->kick == NULL ||
	    event_add(so->tick, &second) < 0)
		return cerr_set(
		    err, CERR_INTERNAL, "scaleout: cannot add events");
	return 0;
}

static int
free_held(void *arg, const char *key, void *value)
{
	free(value);
	return 0;
}

void
scaleout_stop(struct master *m)
{
	struct scaleout *so = m->scaleout;

	if (so == NULL)
		return;
	if (so->tick != NULL)
		event_free(so->tick);
	if (so->kick != NULL)
		event_free(so->kick);
	strmap_foreach(&so->held_at, free_held, NULL);
	strmap_cleanup(&so->held_at);
	strmap_foreach(&so->resynced_at, free_held, NULL);
	strmap_cleanup(&so->resynced_at);
	strmap_foreach(&so->refused_at, free_held, NULL);
	strmap_cleanup(&so->refused_at);
	free(so);
	m->scaleout = NULL;
}
