/*
 * scaleout_calls: the scale-out calls from outside the passes (see
 * scaleout.h): a worker's registration, a submitted execution, and a run
 * report that moves an execution on, inside the upload's transaction.
 */
#include "master/scaleout.h"

#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "master/master.h"
#include "master/scaleout_int.h"
#include "master/scaleout_pick.h"
#include "store/store.h"

int
scaleout_worker_seen(
    struct master *m, const char *worker, int64_t max_tasks, struct cerr *err)
{
	int created = 0;

	if (store_worker_seen(
		m->store, worker, max_tasks, master_now(), &created, err) < 0)
		return -1;
	if (created)
		log_info("worker_registered",
		    "worker=%s max_tasks=%lld enabled=0 msg=\"an administrator "
		    "enables it: cohortctl worker enable %s\"",
		    worker, (long long)max_tasks, worker);
	scaleout_kick(m);
	return 0;
}

struct found {
	int found;
	struct store_exec e;
	char reason[SCALEOUT_WHY_MAX];
	char pins[STORE_PIN_MAX + 1];
};

static int
found_cb(void *arg, const struct store_exec *e)
{
	struct found *f = arg;

	f->found = 1;
	f->e = *e;
	snprintf(f->pins, sizeof(f->pins), "%s", e->pin_workers);
	snprintf(f->reason, sizeof(f->reason), "%s", e->reason);
	f->e.pin_workers = f->pins;
	f->e.reason = f->reason;
	return 0;
}

int
scaleout_run_reported(struct master *m, const char *worker,
    const struct run_report *rep, int *kick, struct cerr *err)
{
	struct found *f;
	struct open_exec x;
	char what[SCALEOUT_WHY_MAX];
	int rc = -1;

	if (rep->instr_id <= 0 || rep->outcome == OUTCOME_RETRYING)
		return 0;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	if (store_exec_by_instr(
		m->store, worker, rep->instr_id, found_cb, f, err) < 0)
		goto out;
	rc = 0;
	if (!f->found)
		goto out;
	memset(&x, 0, sizeof(x));
	x.e = f->e;
	if (rep->outcome == OUTCOME_RUNNING) {
		if (x.e.status == EXEC_RUNNING)
			goto out;
		x.e.status = EXEC_RUNNING;
		x.e.started_at = master_now();
		rc = store_exec_update(m->store, &x.e, err);
		goto out;
	}
	*kick = 1;
	if (x.e.started_at == 0)
		x.e.started_at = master_now();
	if (rep->outcome == OUTCOME_SUCCEEDED) {
		x.e.status = EXEC_SUCCEEDED;
		x.e.finished_at = master_now();
		x.e.reason = "";
		log_info("execution_succeeded", "id=%lld job=%s worker=%s",
		    (long long)x.e.id, x.e.job, worker);
		rc = store_exec_update(m->store, &x.e, err);
		goto out;
	}
	/* Canceled before any step started: the worker refused the start
	 * (it was running the job), or a defect ended it while queued. It
	 * certainly did not run: not counted against the retries. */
	if (rep->outcome == OUTCOME_CANCELED && rep->nsteps == 0) {
		snprintf(what, sizeof(what),
		    "was not run: worker %s canceled it before it started: "
		    "%.300s",
		    worker, rep->message ? rep->message : "");
		scaleout_refused(m, worker, x.e.job);
		rc = scaleout_end_attempt(m, &x, what, 1, master_now(), err);
		free(x.reason);
		goto out;
	}
	snprintf(what, sizeof(what), "%s on worker %s (exit code %d): %.300s",
	    run_outcome_name(rep->outcome), worker, rep->exit_code,
	    rep->message ? rep->message : "");
	rc = scaleout_end_attempt(m, &x, what, 0, master_now(), err);
	free(x.reason);
out:
	free(f);
	return rc;
}

struct stopped {
	const char *worker, *job;
	struct store_exec *found;
	size_t n;
	int oom;
};

static int
stopped_cb(void *arg, const struct store_exec *e)
{
	struct stopped *s = arg;
	struct store_exec *grown;

	if ((e->status != EXEC_ASSIGNED && e->status != EXEC_RUNNING) ||
	    strcmp(e->worker, s->worker) != 0 || strcmp(e->job, s->job) != 0)
		return 0;
	grown = realloc(s->found, (s->n + 1) * sizeof(*grown));
	if (grown == NULL) {
		s->oom = 1;
		return 1;
	}
	s->found = grown;
	s->found[s->n] = *e;
	s->found[s->n].pin_workers = ""; /* borrowed; update leaves it */
	s->n++;
	return 0;
}

int
scaleout_stopped(
    struct master *m, const char *worker, const char *job, struct cerr *err)
{
	struct stopped s = {worker, job, NULL, 0, 0};
	int rc = 0;

	if (store_exec_list(
		m->store, STORE_EXECS_OPEN, 100000, stopped_cb, &s, err) < 0) {
		free(s.found);
		return -1;
	}
	if (s.oom) {
		free(s.found);
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	}
	for (size_t i = 0; i < s.n && rc == 0; i++) {
		s.found[i].status = EXEC_FAILED;
		s.found[i].finished_at = master_now();
		s.found[i].reason = "stopped from the master (job stop): not "
				    "retried";
		rc = store_exec_update(m->store, &s.found[i], err);
		if (rc == 0)
			log_info("execution_stopped",
			    "id=%lld job=%s worker=%s",
			    (long long)s.found[i].id, job, worker);
	}
	free(s.found);
	return rc;
}

static int
worker_name_cb(void *arg, const struct store_worker *w)
{
	return json_array_append_new(arg, json_string(w->name));
}

int
scaleout_submit(struct master *m, const char *job, const char *group,
    const json_t *workers, int64_t retries, const char *by, int64_t *id_out,
    struct cerr *err)
{
	json_t *aimed = json_array(), *members = json_array();
	json_t *known = json_array();
	struct store_exec e;
	char *pins = NULL;
	size_t i, eligible = 0;
	json_t *v;
	int rc = -1;

	if (aimed == NULL || members == NULL || known == NULL) {
		cerr_set(err, CERR_INTERNAL, "out of memory");
		goto out;
	}
	if (store_job_get(m->store, job, scaleout_job_exists_cb, NULL, err) <
		0 ||
	    store_job_targets_list(
		m->store, job, scaleout_add_name, aimed, err) < 0 ||
	    store_worker_list(m->store, worker_name_cb, known, err) < 0 ||
	    (group != NULL &&
		store_group_members(
		    m->store, group, scaleout_add_name, members, err) < 0))
		goto out;
	json_array_foreach(workers, i, v)
	{
		const char *name = json_string_value(v);

		if (!scaleout_has_name(known, name)) {
			cerr_set(err, CERR_INVALID,
			    "workers: '%s' is not a worker (a target started "
			    "with worker = yes)",
			    name);
			goto out;
		}
		if (!scaleout_has_name(aimed, name)) {
			cerr_set(err, CERR_INVALID,
			    "workers: job '%s' is not aimed at '%s' (a worker "
			    "runs the jobs aimed at it)",
			    job, name);
			goto out;
		}
	}
	json_array_foreach(known, i, v)
	{
		const char *name = json_string_value(v);

		eligible += scaleout_has_name(aimed, name) &&
		    (group == NULL || scaleout_has_name(members, name)) &&
		    (workers == NULL || scaleout_has_name(workers, name));
	}
	if (eligible == 0) {
		cerr_set(err, CERR_CONFLICT,
		    "job '%s' has no worker to run it%s%s: aim it at workers "
		    "(targets started with worker = yes)",
		    job, group ? " in group " : "", group ? group : "");
		goto out;
	}
	if (workers != NULL && (pins = json_dump_compact(workers)) == NULL) {
		cerr_set(err, CERR_INTERNAL, "out of memory");
		goto out;
	}
	memset(&e, 0, sizeof(e));
	snprintf(e.job, sizeof(e.job), "%s", job);
	snprintf(e.pin_group, sizeof(e.pin_group), "%s", group ? group : "");
	e.pin_workers = pins ? pins : "";
	e.retries = retries;
	e.status = EXEC_QUEUED;
	e.reason = "queued";
	snprintf(e.submitted_by, sizeof(e.submitted_by), "%s", by);
	e.submitted_at = master_now();
	if (store_exec_add(m->store, &e, id_out, err) < 0)
		goto out;
	log_info("execution_submitted", "id=%lld job=%s by=%s retries=%lld",
	    (long long)*id_out, job, by, (long long)retries);
	scaleout_kick(m);
	rc = 0;
out:
	json_decref(aimed);
	json_decref(members);
	json_decref(known);
	free(pins);
	return rc;
}
