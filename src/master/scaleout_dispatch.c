/*
 * scaleout_dispatch: a queued execution to one worker, in a pass
 * (scaleout.c), after the leases (scaleout_lease.c). Its candidates are
 * the job's targets that are workers, narrowed to its group or named
 * workers, each marked when it runs the job now; scaleout_pick.c chooses
 * among them. The execution is given to the worker chosen by posting it
 * a start of the job, or, when none can take it, waits and says why; one
 * whose job or group is gone fails.
 */
#include "master/scaleout.h"

#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "common/strmap.h"
#include "master/master.h"
#include "master/scaleout_int.h"
#include "master/scaleout_pick.h"
#include "store/store.h"

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
	scaleout_note_time(&m->scaleout->refused_at, key, master_now());
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
		log_warn("scaleout", "msg=%s", LOG_TEXT(err.msg));
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

/* Whether any of the named workers is still one (its row goes when its
 * target defects or is deleted; one enlisted again registers anew). */
static int
pins_registered(const struct pass *p, const json_t *pins)
{
	for (size_t i = 0; i < p->nworkers; i++)
		if (scaleout_has_name(pins, p->state[i].name))
			return 1;
	return 0;
}

static void
pins_gone_reason(const json_t *pins, char *reason, size_t size)
{
	size_t i, used;
	json_t *v;

	snprintf(reason, size, "its workers are gone (defected or deleted):");
	json_array_foreach(pins, i, v)
	{
		used = strlen(reason);
		snprintf(reason + used, size - used, "%s %s", i > 0 ? "," : "",
		    json_string_value(v) != NULL ? json_string_value(v) : "?");
	}
}

/* The candidates for x: workers among the job's targets, within its
 * group or named workers. 1 when the execution cannot run at all (its job
 * or group is gone, or every worker it names): reason set. */
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
	if (pins != NULL && !pins_registered(p, pins)) {
		pins_gone_reason(pins, reason, size);
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
	if (scaleout_set_reason(x, reason, p->err) < 0)
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
		return scaleout_set_reason(x, "", err);
	if (waiting == NULL)
		return 0;
	snprintf(kept, sizeof(kept), "%.*s", (int)(waiting - x->e.reason),
	    x->e.reason);
	return scaleout_set_reason(x, kept, err);
}

/* A queued execution: to a worker, or it waits and says why. */
int
scaleout_dispatch(
    struct pass *p, struct open_exec *x, struct scaleout_candidate *c)
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
		return scaleout_set_reason(x, why, p->err) < 0 ||
			store_exec_update(p->m->store, &x->e, p->err) < 0
		    ? -1
		    : scaleout_notify_failed(p, x);
	}
	i = scaleout_pick(c, n, why, sizeof(why));
	if (i < 0)
		return wait_reason(p, x, why);
	w = scaleout_worker_state(p, c[i].name);
	/* A retry keeps the reason the last attempt ended with. */
	if (scaleout_post_op(
		p, w->name, INSTR_START, x->e.job, 0, &x->e.instr_id) < 0 ||
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
