/*
 * lapi: the handlers of the local control socket (routes in lsock.c):
 * local jobs (apply, list, show, delete, start, stop) and the local run
 * history. A local job belongs to this target alone: the master neither
 * sees it nor its runs (they are kept in the local history, never
 * uploaded), and defecting leaves it in place. Names are shared with the
 * master's jobs: a local job cannot take the name of a master job or back.
 * "upload" tells the daemon that a record was written into its outbox
 * from outside (cohortctl event raise) and should go now, not with the
 * daemon's next record or poll answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "common/nextrun.h"
#include "common/runrec.h"
#include "common/schedule.h"
#include "common/timefmt.h"
#include "target/lsock.h"
#include "target/scheduler.h"
#include "target/tstore.h"

#define LAPI_HISTORY_DEFAULT 100
#define LAPI_HISTORY_MAX 10000

static const char *const origin_names[] = {"master", "local"};

/* The earliest next run of a job's schedules, from the scheduler. */
static json_t *
next_run(const struct target *t, const struct job *job)
{
	char buf[TIMEFMT_MAX];
	int64_t best = 0, n;

	for (size_t i = 0; i < job->nschedules; i++) {
		n = scheduler_next(t, job->name, job->schedules[i]->name);
		if (n != 0 && (best == 0 || n < best))
			best = n;
	}
	return best != 0 ? json_string(timefmt_utc(best, buf)) : json_null();
}

static json_t *
job_row(const struct target *t, const struct job *job, enum job_origin origin)
{
	return json_pack("{s:s,s:s,s:b,s:s,s:s,s:i,s:i,s:o}", "name", job->name,
	    "origin", origin_names[origin], "enabled", job->enabled,
	    "description", job->description, "category", job->category, "steps",
	    (int)job->nsteps, "schedules", (int)job->nschedules, "next_run",
	    next_run(t, job));
}

struct list_ctx {
	struct target *t;
	json_t *rows;
};

static int
list_cb(void *arg, const char *name, enum job_origin origin, const char *doc)
{
	struct list_ctx *lc = arg;
	struct job *job = NULL;
	struct cerr err;

	if (origin != ORIGIN_LOCAL)
		return 0;
	if (jobdoc_parse(doc, strlen(doc), &job, &err) < 0) {
		log_error("local", "job=%s msg=%s", name, LOG_TEXT(err.msg));
		return 0;
	}
	json_array_append_new(lc->rows, job_row(lc->t, job, origin));
	job_free(job);
	return 0;
}

void
lapi_jobs_list(struct lreq *r)
{
	struct list_ctx lc = {r->t, json_array()};
	struct cerr err;

	if (tstore_job_list(r->t->store, list_cb, &lc, &err) < 0) {
		json_decref(lc.rows);
		lsock_reply_error(r, &err);
		return;
	}
	lsock_reply_json(r, 200, lc.rows);
}

/* The job named by the route, parsed; NULL with err set. */
static struct job *
get_job(struct lreq *r, enum job_origin *origin, struct cerr *err)
{
	struct job *job = NULL;
	char *doc = NULL;

	if (tstore_job_get(r->t->store, r->arg, &doc, origin, err) < 0) {
		if (err->code == CERR_NOT_FOUND)
			cerr_set(err, CERR_NOT_FOUND,
			    "no job '%s' on target %s", r->arg,
			    r->t->conf->name);
		return NULL;
	}
	jobdoc_parse(doc, strlen(doc), &job, err);
	free(doc);
	return job;
}

void
lapi_job_get(struct lreq *r)
{
	enum job_origin origin;
	struct cerr err;
	struct job *job = get_job(r, &origin, &err);
	json_t *view = NULL, *next = NULL;

	if (job == NULL)
		goto fail;
	next =
	    nextrun_json(job, scheduler_zone(r->t), timefmt_now_s(), 3, &err);
	if (next == NULL)
		goto fail;
	view = job_row(r->t, job, origin);
	if (view == NULL) {
		cerr_set(&err, CERR_INTERNAL, "out of memory");
		goto fail;
	}
	json_object_set_new(view, "document", jobdoc_to_json(job, 1));
	json_object_set_new(view, "next_runs", next);
	lsock_reply_json(r, 200, view);
	job_free(job);
	return;
fail:
	json_decref(next);
	job_free(job);
	lsock_reply_error(r, &err);
}

/* A local job document: valid, named as the route, aimed nowhere. */
static struct job *
read_local_doc(struct lreq *r, struct cerr *err)
{
	struct job *job = NULL;

	if (r->body == NULL) {
		cerr_set(err, CERR_INVALID, "a job document is required");
		return NULL;
	}
	if (jobdoc_from_json(r->body, &job, err) < 0)
		return NULL;
	if (strcmp(job->name, r->arg) != 0)
		cerr_set(err, CERR_INVALID,
		    "name: the document names '%s', "
		    "the request '%s'",
		    job->name, r->arg);
	else if (job->ntargets > 0 || job->ngroups > 0)
		cerr_set(err, CERR_INVALID,
		    "%s: a local job runs only on "
		    "this target",
		    job->ntargets > 0 ? "targets" : "groups");
	else
		return job;
	job_free(job);
	return NULL;
}

/* A secret sent back as `local job show` lists it keeps the stored value,
 * as on the master (jobdoc_secrets.c). */
static int
keep_local_secrets(struct target *t, struct job *job, struct cerr *err)
{
	enum job_origin origin;
	struct job *old = NULL;
	char *doc = NULL;
	int rc = -1;

	if (!job_has_masked_secret(job))
		return 0;
	if (tstore_job_get(t->store, job->name, &doc, &origin, err) < 0 &&
	    err->code != CERR_NOT_FOUND)
		return -1;
	if (doc != NULL && origin == ORIGIN_LOCAL &&
	    jobdoc_parse(doc, strlen(doc), &old, err) < 0)
		goto out;
	rc = job_keep_secrets(job, old, err);
out:
	job_free(old);
	free(doc);
	return rc;
}

static int
store_local_job(
    struct target *t, const struct job *job, int *created, struct cerr *err)
{
	json_t *canon = jobdoc_to_json(job, 0);
	char *text = canon != NULL ? json_dump_compact(canon) : NULL;
	enum job_origin origin;
	char *old = NULL;
	int rc = -1;

	json_decref(canon);
	if (text == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	/* The scheduler and every other reader parse the stored form under
	 * this bound, and defaults make it longer than what was sent. */
	if (strlen(text) > JOB_DOC_MAX_BYTES) {
		cerr_set(err, CERR_TOO_LARGE,
		    "job '%s': its document is %zu bytes, more than %d",
		    job->name, strlen(text), JOB_DOC_MAX_BYTES);
		free(text);
		return -1;
	}
	*created = tstore_job_get(t->store, job->name, &old, &origin, err) < 0;
	if (tstore_job_put(t->store, job->name, ORIGIN_LOCAL, text,
		timefmt_now_s(), err) < 0) {
		if (err->code == CERR_CONFLICT)
			cerr_set(err, CERR_CONFLICT,
			    "job '%s' on target %s "
			    "comes from the master; a local job needs another "
			    "name",
			    job->name, t->conf->name);
		goto out;
	}
	rc = 0;
out:
	free(old);
	free(text);
	return rc;
}

void
lapi_job_put(struct lreq *r)
{
	struct cerr err;
	struct job *job = read_local_doc(r, &err);
	int created = 0;

	if (job == NULL || keep_local_secrets(r->t, job, &err) < 0 ||
	    store_local_job(r->t, job, &created, &err) < 0) {
		job_free(job);
		lsock_reply_error(r, &err);
		return;
	}
	log_info("local_job", "job=%s %s", job->name,
	    created ? "created" : "updated");
	scheduler_reload(r->t);
	lsock_reply_json(r, 200,
	    json_pack("{s:s,s:b}", "name", job->name, "created", created));
	job_free(job);
}

/* The route's job must be a local one; *overlap (may be NULL) gets its
 * overlap policy. */
static int
local_job(struct lreq *r, enum overlap_policy *overlap, struct cerr *err)
{
	enum job_origin origin;
	struct job *job = NULL;
	char *doc = NULL;

	if (tstore_job_get(r->t->store, r->arg, &doc, &origin, err) < 0) {
		if (err->code == CERR_NOT_FOUND)
			cerr_set(err, CERR_NOT_FOUND,
			    "no local job '%s' on "
			    "target %s",
			    r->arg, r->t->conf->name);
		return -1;
	}
	if (origin != ORIGIN_LOCAL) {
		free(doc);
		return cerr_set(err, CERR_CONFLICT,
		    "job '%s' comes from the "
		    "master; manage it there",
		    r->arg);
	}
	if (overlap != NULL) {
		if (jobdoc_parse(doc, strlen(doc), &job, err) < 0) {
			free(doc);
			return -1;
		}
		*overlap = job->overlap;
		job_free(job);
	}
	free(doc);
	return 0;
}

static int
need_local(struct lreq *r, struct cerr *err)
{
	return local_job(r, NULL, err);
}

void
lapi_job_delete(struct lreq *r)
{
	struct cerr err;

	if (need_local(r, &err) < 0 ||
	    tstore_job_delete(r->t->store, r->arg, ORIGIN_LOCAL, NULL, &err) <
		0) {
		lsock_reply_error(r, &err);
		return;
	}
	log_info("local_job", "job=%s deleted", r->arg);
	scheduler_reload(r->t);
	lsock_reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

/* One instance at a time (PRODUCT.md section 11): refused, naming the
 * run that goes on and its start, as the master does (jobs.c). */
static int
refuse_running(struct lreq *r, struct cerr *err)
{
	int64_t run_id, started_ms;
	char at[TIMEFMT_MAX];

	if (!runs_running_since(r->t, r->arg, &run_id, &started_ms))
		return 0;
	return cerr_set(err, CERR_CONFLICT,
	    "job '%s' is running (run %lld, since %s) and its overlap policy "
	    "refuses a second run: not started",
	    r->arg, (long long)run_id, timefmt_utc_ms(started_ms, at));
}

void
lapi_job_start(struct lreq *r)
{
	enum overlap_policy overlap;
	int64_t run_id = 0;
	struct cerr err;
	int existed;

	if (local_job(r, &overlap, &err) < 0 ||
	    (overlap == OVERLAP_REFUSE && refuse_running(r, &err) < 0) ||
	    tstore_run_add(r->t->store, r->arg, 1, 0, 0, timefmt_now_s(),
		&run_id, &existed, &err) < 0) {
		lsock_reply_error(r, &err);
		return;
	}
	runs_kick(r->t);
	lsock_reply_json(r, 200,
	    json_pack(
		"{s:s,s:I}", "job", r->arg, "run_id", (json_int_t)run_id));
}

/* Any job's run may be stopped here: the operator of this machine may end
 * a runaway process tree whoever scheduled it. */
void
lapi_job_stop(struct lreq *r)
{
	int running = runs_running(r->t, r->arg);
	enum job_origin origin;
	char *doc = NULL;
	struct cerr err;

	/* A job deleted while its run goes on can still be stopped; a name
	 * that is neither running nor a job is a typo, not a no-op. */
	if (!running &&
	    tstore_job_get(r->t->store, r->arg, &doc, &origin, &err) < 0) {
		if (err.code == CERR_NOT_FOUND)
			cerr_set(&err, CERR_NOT_FOUND,
			    "no job '%s' on target %s", r->arg,
			    r->t->conf->name);
		lsock_reply_error(r, &err);
		return;
	}
	free(doc);
	if (running)
		runs_stop_job(r->t, r->arg, "stopped through the local socket");
	lsock_reply_json(
	    r, 200, json_pack("{s:s,s:b}", "job", r->arg, "stopped", running));
}

struct hist_ctx {
	const struct target *t;
	json_t *rows;
	struct cerr *err;
};

static json_t *
hist_row(const struct hist_ctx *hc, const struct run_report *rep,
    const struct run_step_rec *s, int local)
{
	char run_id[NAME_MAX_LEN + 24], started[TIMEFMT_MAX];

	snprintf(run_id, sizeof(run_id), "%s:%lld", hc->t->conf->name,
	    (long long)rep->target_run_id);
	return json_pack("{s:s,s:s,s:s,s:s,s:i,s:s,s:i,s:s,s:i,s:s,s:i,s:I,"
			 "s:s,s:s,s:I}",
	    "run_id", run_id, "job", rep->job, "target", hc->t->conf->name,
	    "origin", origin_names[local != 0], "step", s ? s->step : 0,
	    "step_name", s ? s->step_name : "", "attempt", s ? s->attempt : 0,
	    "outcome", run_outcome_name(s ? s->outcome : rep->outcome),
	    "exit_code", s ? s->exit_code : rep->exit_code, "started_at",
	    timefmt_utc_ms(s ? s->started_ms : rep->started_ms, started),
	    "tz_offset_s", (int)rep->tz_offset_s, "duration_ms",
	    (json_int_t)(s ? s->duration_ms : rep->duration_ms), "message",
	    s ? s->message : rep->message, "output", s ? s->output : "",
	    "instr_id", (json_int_t)rep->instr_id);
}

/* One history row per job run and one per step attempt, as the master's
 * history lists them. */
static int
hist_cb(void *arg, const struct tstore_hist_row *row)
{
	struct hist_ctx *hc = arg;
	json_t *v = json_loads(row->report, 0, NULL);
	struct run_report *rep = NULL;

	if (v == NULL || run_report_from_json(v, &rep, hc->err) < 0) {
		json_decref(v);
		log_error("local",
		    "run=%lld msg=\"unreadable history "
		    "record\"",
		    (long long)row->run_id);
		return 0;
	}
	json_decref(v);
	json_array_append_new(hc->rows, hist_row(hc, rep, NULL, row->local));
	for (size_t i = 0; i < rep->nsteps; i++)
		json_array_append_new(
		    hc->rows, hist_row(hc, rep, &rep->steps[i], row->local));
	run_report_free(rep);
	return 0;
}

void
lapi_history(struct lreq *r)
{
	const char *job = lsock_query(r, "job");
	const char *limit = lsock_query(r, "limit");
	struct cerr err, row_err;
	struct hist_ctx hc = {r->t, json_array(), &row_err};
	char *end = NULL;
	long long n = LAPI_HISTORY_DEFAULT;

	if (limit != NULL)
		n = strtoll(limit, &end, 10);
	if (limit != NULL &&
	    (*limit == '\0' || *end != '\0' || n < 1 || n > LAPI_HISTORY_MAX)) {
		cerr_set(&err, CERR_INVALID,
		    "query parameter limit: expected "
		    "an integer in 1..%d",
		    LAPI_HISTORY_MAX);
		goto fail;
	}
	if (tstore_hist_list(r->t->store, job, n, hist_cb, &hc, &err) < 0)
		goto fail;
	lsock_reply_json(r, 200, hc.rows);
	return;
fail:
	json_decref(hc.rows);
	lsock_reply_error(r, &err);
}

/* Nothing to read or check: an upload already in flight takes the new
 * record with its next batch, and one waiting out a failure's backoff
 * keeps waiting (the master is away; the record keeps in the outbox). */
void
lapi_upload(struct lreq *r)
{
	upload_kick(r->t);
	lsock_reply_json(r, 202, json_pack("{s:b}", "kicked", 1));
}
