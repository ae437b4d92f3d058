/*
 * scaleout: the queue of executions and its dispatch passes (see
 * scaleout.h). A pass reads the workers and the open executions, then
 * decides in memory (scaleout_pick.c) and writes in one transaction; no
 * store call runs inside a store listing.
 */
#include "master/scaleout.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/json.h"
#include "common/log.h"
#include "common/strmap.h"
#include "common/timefmt.h"
#include "master/lease.h"
#include "master/longpoll.h"
#include "master/master.h"
#include "master/scaleout_int.h"
#include "master/scaleout_pick.h"
#include "store/store.h"

/* Open executions read per pass: all of them in practice (a queue this
 * deep is a fleet without workers, and still costs one read a second). */
#define PASS_MAX 100000
/* An execution assigned this long without a run has its start looked up. */
#define START_GRACE_S 3
/* Ended executions kept (the newest). */
#define KEEP_ENDED 10000
#define TRIM_EVERY_S 60

struct scaleout {
	struct event *tick; /* every second */
	struct event *kick; /* a pass at the end of this loop turn */
	int64_t trimmed_at;
	/* When this master last became active. A worker that polled before
	 * counts as alive until it has had its poll interval (the longest
	 * it waits to reconnect) and a lease to come back: a restart or a
	 * failover judges no execution lost by its own outage. */
	int64_t active_since;
	int was_active;
	/* worker name -> int64_t: when a pass last saw it hold a poll (its
	 * last_poll is when that poll began). */
	struct strmap held_at;
	/* worker name -> int64_t: when an admin last resynced it (which
	 * drops its pending starts). */
	struct strmap resynced_at;
	/* "worker\njob" -> int64_t: when the worker last canceled a start
	 * of the job before it ran (scaleout_refused); kept while the
	 * history shows a run of the job going on there. */
	struct strmap refused_at;
};

struct pass {
	struct master *m;
	int64_t now;
	struct store_worker *workers; /* in name order */
	struct scaleout_candidate *state; /* per worker */
	int *grace; /* per worker: in_grace() */
	size_t nworkers;
	struct open_exec *execs;
	size_t nexecs;
	json_t *wake; /* names of workers posted to */
	struct cerr *err;
};

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

static void
note_time(struct strmap *map, const char *name, int64_t now)
{
	int64_t *at = strmap_get(map, name);
	struct cerr err;

	if (at == NULL) {
		at = malloc(sizeof(*at));
		if (at == NULL || strmap_put(map, name, at, NULL, &err) < 0) {
			free(at);
			return;
		}
	}
	*at = now;
}

void
scaleout_resynced(struct master *m, const char *worker)
{
	if (m->scaleout != NULL) {
		note_time(&m->scaleout->resynced_at, worker, master_now());
		scaleout_kick(m);
	}
}

int
scaleout_worker_alive(
    struct master *m, const struct store_target *t, int64_t now)
{
	struct scaleout *so = m->scaleout;
	int64_t seen = t->last_poll, *held;

	if (t->defected)
		return 0;
	if (longpoll_is_waiting(m, t->name)) {
		if (so != NULL)
			note_time(&so->held_at, t->name, now);
		return 1;
	}
	held = so != NULL ? strmap_get(&so->held_at, t->name) : NULL;
	if (held != NULL && *held > seen)
		seen = *held;
	return seen > 0 && now - seen <= m->conf->worker_lease_s;
}

/* Whether this master became active so recently that worker t, which
 * may have run an execution all along, has not yet had its poll interval
 * (the longest it waits to reconnect) and a lease to come back: its
 * executions are not judged lost yet. It is not picked meanwhile unless
 * alive. */
static int
in_grace(struct master *m, const struct store_target *t, int64_t now)
{
	const struct scaleout *so = m->scaleout;

	return so != NULL && so->active_since > 0 &&
	    now - so->active_since <=
	    m->conf->worker_lease_s + t->poll_interval_s;
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
		p->grace[i] = in_grace(p->m, &t, p->now);
		c->holding = longpoll_is_waiting(p->m, c->name);
		if (c->holding && c->enabled &&
		    !longpoll_waiting_worker(p->m, c->name) &&
		    no_longer_a_worker(p, c) < 0)
			return -1;
	}
	return 0;
}

static struct scaleout_candidate *
worker_state(struct pass *p, const char *name)
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
static int
post_op(struct pass *p, const char *worker, enum instr_op op, const char *job,
    int64_t start_id, int64_t *id_out)
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
static int
set_reason(struct open_exec *x, const char *reason, struct cerr *err)
{
	char *copy = strdup(reason);

	if (copy == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	free(x->reason);
	x->reason = copy;
	x->e.reason = copy;
	return 0;
}

/* See scaleout_int.h. */
int
scaleout_end_attempt(struct master *m, struct open_exec *x, const char *what,
    int uncounted, int64_t now, struct cerr *err)
{
	char reason[SCALEOUT_WHY_MAX];
	int again = uncounted || x->e.attempt < 1 + x->e.retries;

	snprintf(reason, sizeof(reason), "attempt %lld %s%s",
	    (long long)x->e.attempt, what,
	    uncounted   ? "; it did not run, so it is not counted; queued again"
		: again ? "; queued again"
			: "; no retries left");
	if (uncounted)
		x->e.attempt--;
	log_warn("execution_attempt_ended",
	    "id=%lld job=%s worker=%s msg=\"%s\"", (long long)x->e.id, x->e.job,
	    x->e.worker, reason);
	if (set_reason(x, reason, err) < 0)
		return -1;
	if (again) {
		x->e.status = EXEC_QUEUED;
		x->e.worker[0] = '\0';
		x->e.instr_id = 0;
		x->e.assigned_at = 0;
		x->e.started_at = 0;
	} else {
		x->e.status = EXEC_FAILED;
		x->e.finished_at = now;
	}
	return store_exec_update(m->store, &x->e, err);
}

struct start_find {
	int64_t id;
	int found;
	enum instr_status status;
	int cleared;
};

static int
start_cb(void *arg, const struct store_instr *in)
{
	struct start_find *f = arg;

	f->found = 1;
	f->status = in->status;
	f->cleared = in->cleared;
	return 0;
}

/* Where an assigned execution's start stands: found, with its status, or
 * not found (dropped by a resync, or trimmed once applied). */
static int
find_start(struct pass *p, const struct open_exec *x, struct start_find *f)
{
	memset(f, 0, sizeof(*f));
	f->id = x->e.instr_id;
	if (store_instr_get(p->m->store, f->id, start_cb, f, p->err) == 0)
		return 0;
	return p->err->code == CERR_NOT_FOUND ? 0 : -1;
}

/* An assigned execution whose start will never run: it failed on the
 * worker (counted: the worker refused it, and would again), or a resync
 * of the worker after the assignment dropped it (not counted: it never
 * reached the worker's runs). 1 with what and *uncounted set, else 0. */
static int
start_never_runs(struct pass *p, struct open_exec *x,
    const struct start_find *f, char *what, size_t size, int *uncounted)
{
	const int64_t *resynced =
	    strmap_get(&p->m->scaleout->resynced_at, x->e.worker);

	if (f->found && f->status == INSTR_FAILED) {
		snprintf(what, size,
		    "was not run: its start (instruction %lld) failed on "
		    "worker %s",
		    (long long)x->e.instr_id, x->e.worker);
		return 1;
	}
	if (f->found || resynced == NULL || *resynced < x->e.assigned_at)
		return 0;
	snprintf(what, size,
	    "was not run: a resync or defect of worker %s dropped its "
	    "start (instruction %lld)",
	    x->e.worker, (long long)x->e.instr_id);
	*uncounted = 1;
	return 1;
}

/* An assigned or running execution whose worker can no longer be
 * trusted with it, or whose start will never run. An attempt whose start
 * the worker never downloaded (or that will never run) is not counted
 * against the retries: it certainly did not run. */
static int
check_lease(struct pass *p, struct open_exec *x)
{
	struct scaleout_candidate *w = worker_state(p, x->e.worker);
	char what[SCALEOUT_WHY_MAX], at[TIMEFMT_MAX];
	struct start_find f = {0};
	int uncounted = 0, withdrawn = 0;

	/* A start is normally running within a second; only a slow one is
	 * looked up, or one of a blocked worker. One the worker never
	 * downloaded is not counted if the attempt is lost: it certainly
	 * did not run. */
	if (x->e.status == EXEC_ASSIGNED && w != NULL &&
	    (p->now - x->e.assigned_at >= START_GRACE_S ||
		(!w->alive && !p->grace[w - p->state]) || w->blocked)) {
		if (find_start(p, x, &f) < 0)
			return -1;
		uncounted = f.found && f.status == INSTR_PENDING;
	}
	if (f.id > 0 &&
	    start_never_runs(p, x, &f, what, sizeof(what), &uncounted))
		;
	else if (w != NULL && w->blocked && f.found &&
	    (f.status == INSTR_PENDING || f.status == INSTR_DOWNLOADED)) {
		/* Blocked before its start: the worker applies nothing after
		 * the failure, and records the start's ack before the
		 * failure's when the start came first (so a start that ran
		 * is 'applied' here). Taken back, it never runs, even once
		 * the failure is cleared. A blocked worker whose start was
		 * applied keeps the execution: its run reports as usual. */
		switch (store_instr_withdraw(p->m->store, f.id, p->err)) {
		case -1:
			return -1;
		case 0:
			return 0;
		}
		snprintf(what, sizeof(what),
		    "was not run: worker %s is blocked by a failed instruction "
		    "before its start (instruction %lld, withdrawn)",
		    x->e.worker, (long long)f.id);
		uncounted = withdrawn = 1;
	} else if (w == NULL)
		snprintf(what, sizeof(what), "lost: worker %s was deleted",
		    x->e.worker);
	else if (!w->alive && !p->grace[w - p->state])
		snprintf(what, sizeof(what),
		    "lost: worker %s stopped polling (last poll %s, lease %lld "
		    "s)",
		    x->e.worker,
		    w->last_poll > 0 ? timefmt_utc(w->last_poll, at) : "never",
		    (long long)p->m->conf->worker_lease_s);
	else
		return 0;
	/* If the worker comes back, it stops the run it may still have. */
	if (w != NULL && !withdrawn &&
	    post_op(p, x->e.worker, INSTR_STOP, x->e.job, x->e.instr_id, NULL) <
		0)
		return -1;
	if (w != NULL && w->active > 0)
		w->active--;
	return scaleout_end_attempt(p->m, x, what, uncounted, p->now, p->err);
}

/* ---- choosing ----------------------------------------------------------- */

int
scaleout_add_name(void *arg, const char *name)
{
	return json_array_append_new(arg, json_string(name));
}

int
scaleout_has_name(const json_t *names, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(
	    names, i, v) if (strcmp(json_string_value(v), name) == 0) return 1;
	return 0;
}

static void
refused_key(const char *worker, const char *job, char *key, size_t size)
{
	snprintf(key, size, "%s\n%s", worker, job);
}

void
scaleout_refused(struct master *m, const char *worker, const char *job)
{
	char key[2 * (STORE_NAME_MAX + 1)];

	if (m->scaleout == NULL)
		return;
	refused_key(worker, job, key, sizeof(key));
	note_time(&m->scaleout->refused_at, key, master_now());
}

static int
found_run_cb(void *arg, const struct store_run *r)
{
	*(int *)arg = 1;
	return 1;
}

/* After a refusal only (the history is not read for every candidate of
 * every pass): whether the worker's history shows a run of the job
 * going on, which the refusal was beside. The mark goes with the run. */
static int
runs_job_outside(const struct pass *p, const char *worker, const char *job)
{
	struct store_run_filter f = {.job = job,
	    .target = worker,
	    .outcome = OUTCOME_RUNNING,
	    .job_rows_only = 1,
	    .limit = 1,
	    .without_output = 1};
	struct strmap *refused = &p->m->scaleout->refused_at;
	char key[2 * (STORE_NAME_MAX + 1)];
	struct cerr err;
	int found = 0;

	refused_key(worker, job, key, sizeof(key));
	if (strmap_get(refused, key) == NULL)
		return 0;
	if (store_run_list(p->m->store, &f, found_run_cb, &found, &err) < 0) {
		log_warn("scaleout", "msg=\"%s\"", err.msg);
		return 1; /* asked again at the next pass */
	}
	if (!found)
		free(strmap_del(refused, key));
	return found;
}

/* Whether worker runs job now: an execution of it, or (after it refused
 * a start) a run of its own. */
static int
runs_job(const struct pass *p, const char *worker, const char *job)
{
	if (runs_job_outside(p, worker, job))
		return 1;
	for (size_t i = 0; i < p->nexecs; i++) {
		const struct store_exec *e = &p->execs[i].e;

		if ((e->status == EXEC_ASSIGNED || e->status == EXEC_RUNNING) &&
		    strcmp(e->worker, worker) == 0 && strcmp(e->job, job) == 0)
			return 1;
	}
	return 0;
}

/* The candidates for x: workers among the job's targets, within its
 * group or named workers. 1 when the execution cannot run at all (its job
 * or group is gone): reason set. */
static int
candidates(struct pass *p, struct open_exec *x, struct scaleout_candidate *out,
    size_t *n, char *reason, size_t size)
{
	json_t *aimed = json_array(), *members = NULL, *pins = NULL;
	int rc = -1;

	*n = 0;
	if (aimed == NULL ||
	    store_job_targets_list(
		p->m->store, x->e.job, scaleout_add_name, aimed, p->err) < 0)
		goto out;
	if (x->e.pin_group[0] != '\0') {
		members = json_array();
		if (members == NULL)
			goto out;
		if (store_group_members(p->m->store, x->e.pin_group,
			scaleout_add_name, members, p->err) < 0) {
			if (p->err->code != CERR_NOT_FOUND)
				goto out;
			snprintf(reason, size, "group %s was deleted",
			    x->e.pin_group);
			rc = 1;
			goto out;
		}
	}
	if (x->e.pin_workers[0] != '\0' &&
	    !json_is_array(pins = json_loads(x->e.pin_workers, 0, NULL))) {
		snprintf(reason, size,
		    "its list of workers does not read as "
		    "JSON (a damaged store row)");
		rc = 1;
		goto out;
	}
	for (size_t i = 0; i < p->nworkers; i++) {
		const char *name = p->state[i].name;

		if (!scaleout_has_name(aimed, name) ||
		    (members != NULL && !scaleout_has_name(members, name)) ||
		    (pins != NULL && !scaleout_has_name(pins, name)))
			continue;
		out[*n] = p->state[i];
		out[*n].runs_job = runs_job(p, name, x->e.job);
		(*n)++;
	}
	rc = 0;
out:
	if (rc < 0 && p->err->code == CERR_OK)
		cerr_set(p->err, CERR_INTERNAL, "out of memory");
	json_decref(aimed);
	json_decref(members);
	json_decref(pins);
	return rc;
}

int
scaleout_job_exists_cb(void *arg, const struct store_job *j)
{
	return 0;
}

/* Where ". waiting:" last begins in reason, or NULL: the part an
 * execution's reason gives for waiting, after how its last attempt
 * ended (a target's error text may hold the words too; the last is
 * ours). */
static const char *
last_waiting(const char *reason)
{
	const char *at = NULL, *p = reason;

	while ((p = strstr(p, ". waiting:")) != NULL)
		at = p++;
	return at;
}

/* A queued execution that no worker can take says why; after a lost or
 * failed attempt, after how that attempt ended ("attempt 1 lost: ...;
 * queued again. waiting: ..."). */
static int
wait_reason(struct pass *p, struct open_exec *x, const char *why)
{
	char reason[2 * SCALEOUT_WHY_MAX];
	const char *old = x->e.reason, *waiting = last_waiting(old);
	int keep = strncmp(old, "attempt ", 8) == 0
	    ? (int)(waiting != NULL ? waiting - old : (int)strlen(old))
	    : 0;

	snprintf(
	    reason, sizeof(reason), "%.*s%s", keep, old, keep > 0 ? ". " : "");
	snprintf(reason + strlen(reason), sizeof(reason) - strlen(reason), "%s",
	    why);
	if (strcmp(reason, old) == 0)
		return 0;
	if (set_reason(x, reason, p->err) < 0)
		return -1;
	return store_exec_update(p->m->store, &x->e, p->err);
}

/* Assigned, an execution keeps only how its last attempt ended: the
 * reason it waited is over. */
static int
assigned_reason(struct open_exec *x, struct cerr *err)
{
	char kept[2 * SCALEOUT_WHY_MAX];
	const char *waiting = last_waiting(x->e.reason);

	if (strncmp(x->e.reason, "attempt ", 8) != 0)
		return set_reason(x, "", err);
	if (waiting == NULL)
		return 0;
	snprintf(kept, sizeof(kept), "%.*s", (int)(waiting - x->e.reason),
	    x->e.reason);
	return set_reason(x, kept, err);
}

/* A queued execution: to a worker, or it waits and says why. */
static int
dispatch(struct pass *p, struct open_exec *x, struct scaleout_candidate *c)
{
	char why[SCALEOUT_WHY_MAX];
	struct scaleout_candidate *w;
	size_t n;
	int rc, i;

	if (store_job_get(p->m->store, x->e.job, scaleout_job_exists_cb, NULL,
		p->err) < 0) {
		if (p->err->code != CERR_NOT_FOUND)
			return -1;
		snprintf(why, sizeof(why), "job %s was deleted", x->e.job);
		rc = 1;
	} else {
		rc = candidates(p, x, c, &n, why, sizeof(why));
	}
	if (rc < 0)
		return -1;
	if (rc == 1) {
		x->e.status = EXEC_FAILED;
		x->e.finished_at = p->now;
		return set_reason(x, why, p->err) < 0
		    ? -1
		    : store_exec_update(p->m->store, &x->e, p->err);
	}
	i = scaleout_pick(c, n, why, sizeof(why));
	if (i < 0)
		return wait_reason(p, x, why);
	w = worker_state(p, c[i].name);
	/* A retry keeps the reason the last attempt ended with. */
	if (post_op(p, w->name, INSTR_START, x->e.job, 0, &x->e.instr_id) < 0 ||
	    assigned_reason(x, p->err) < 0)
		return -1;
	x->e.status = EXEC_ASSIGNED;
	x->e.attempt++;
	x->e.assigned_at = p->now;
	snprintf(x->e.worker, sizeof(x->e.worker), "%s", w->name);
	w->active++;
	log_info("execution_assigned", "id=%lld job=%s worker=%s attempt=%lld",
	    (long long)x->e.id, x->e.job, w->name, (long long)x->e.attempt);
	return store_exec_update(p->m->store, &x->e, p->err);
}

/* ---- the pass ----------------------------------------------------------- */

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
			rc = check_lease(p, &p->execs[i]);
	for (size_t i = 0; i < p->nexecs && rc == 0; i++)
		if (p->execs[i].e.status == EXEC_QUEUED)
			rc = dispatch(p, &p->execs[i], c);
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
		log_warn("housekeeping", "msg=\"executions: %s\"", err.msg);
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
			log_warn("scaleout", "msg=\"%s\"", err.msg);
	} else {
		m->metrics.posted += json_array_size(p.wake);
		json_array_foreach(p.wake, i, v)
		    longpoll_wake(m, json_string_value(v));
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
