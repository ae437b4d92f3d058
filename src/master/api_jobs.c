/*
 * api_jobs: job documents (apply, read, delete), on-demand runs (start,
 * stop) and previews of the next scheduled runs. Listings show documents
 * with secret values redacted; one job's view also shows its last outcome
 * on each target (SQL Server Agent's job-server table).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jobdoc.h"
#include "common/json.h"
#include "common/nextrun.h"
#include "common/timefmt.h"
#include "master/api.h"
#include "master/jobs.h"
#include "master/master.h"
#include "store/store.h"

struct jobs_ctx {
	struct master *m;
	json_t *out; /* array (list) or object (get) */
	int full; /* include the document */
	struct cerr *err;
	int64_t with_last; /* list: include last_outcomes (the dashboard) */
};

static json_t *
json_nullify(json_t *v)
{
	return v != NULL ? v : json_null();
}

static int
collect_targets(void *arg, const char *name)
{
	return json_array_append_new(arg, json_string(name));
}

static int
last_cb(void *arg, const struct store_run *h)
{
	char started[TIMEFMT_MAX], run_id[STORE_NAME_MAX + 24];

	snprintf(run_id, sizeof(run_id), "%s:%lld", h->target,
	    (long long)h->target_run_id);
	return json_object_set_new(arg, h->target,
	    json_pack("{s:s,s:s,s:s,s:I,s:s,s:s}", "target", h->target,
		"outcome", run_outcome_name(h->outcome), "started_at",
		timefmt_utc_ms(h->started_at_ms, started), "duration_ms",
		(json_int_t)h->duration_ms, "run_id", run_id, "message",
		h->message ? h->message : ""));
}

static int
by_target(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;

	return strcmp(json_string_value(json_object_get(x, "target")),
	    json_string_value(json_object_get(y, "target")));
}

/* The job-server view: per target (aimed at now, or with a finished run
 * in history), its last finished run, in target order; an aimed target
 * that never finished one has outcome null. */
static json_t *
last_outcomes(struct jobs_ctx *jc, const char *job, const json_t *targets)
{
	json_t *by = json_object(), *list = json_array(), **rows = NULL, *v;
	const char *key;
	size_t i = 0, n;

	if (by == NULL || list == NULL) {
		cerr_set(jc->err, CERR_INTERNAL, "out of memory");
		goto fail;
	}
	if (store_run_last_per_target(jc->m->store, job, last_cb, by, jc->err) <
	    0)
		goto fail;
	json_array_foreach(targets, i,
	    v) if (json_object_get(by, json_string_value(v)) == NULL)
	    json_object_set_new(by, json_string_value(v),
		json_pack("{s:O,s:n,s:n,s:n,s:n,s:n}", "target", v, "outcome",
		    "started_at", "duration_ms", "run_id", "message"));
	n = json_object_size(by);
	rows = calloc(n + 1, sizeof(*rows));
	if (rows == NULL) {
		cerr_set(jc->err, CERR_INTERNAL, "out of memory");
		goto fail;
	}
	i = 0;
	json_object_foreach(by, key, v) rows[i++] = v;
	qsort(rows, n, sizeof(*rows), by_target);
	for (i = 0; i < n; i++)
		json_array_append(list, rows[i]);
	free(rows);
	json_decref(by);
	return list;
fail:
	json_decref(by);
	json_decref(list);
	return NULL;
}

/* The API view of a stored job; NULL (err set) if the stored document no
 * longer parses, which would be a bug. */
static json_t *
job_view(struct jobs_ctx *jc, const struct store_job *j)
{
	char created[TIMEFMT_MAX], updated[TIMEFMT_MAX];
	struct job *job = NULL;
	json_t *view, *targets = json_array();

	if (jobdoc_parse(j->doc, strlen(j->doc), &job, jc->err) < 0 ||
	    store_job_targets_list(
		jc->m->store, j->name, collect_targets, targets, jc->err) < 0) {
		json_decref(targets);
		job_free(job);
		return NULL;
	}
	view = json_pack("{s:s,s:b,s:s,s:s,s:s,s:i,s:i,s:o,s:s,s:s}", "name",
	    job->name, "enabled", job->enabled, "description", job->description,
	    "category", job->category, "owner", job->owner, "steps",
	    (int)job->nsteps, "schedules", (int)job->nschedules, "targets",
	    targets, "created_at", timefmt_utc(j->created_at, created),
	    "updated_at", timefmt_utc(j->updated_at, updated));
	if (view != NULL && (jc->full || jc->with_last)) {
		json_t *last = last_outcomes(
		    jc, job->name, json_object_get(view, "targets"));

		if (last == NULL) {
			json_decref(view);
			job_free(job);
			return NULL;
		}
		json_object_set_new(view, "last_outcomes", last);
	}
	if (view != NULL && jc->full) {
		json_object_set_new(view, "document", jobdoc_to_json(job, 1));
		/* null when a zone file vanished since the job was applied */
		json_object_set_new(view, "next_runs",
		    json_nullify(
			nextrun_json(job, NULL, master_now(), 1, jc->err)));
		cerr_clear(jc->err);
	}
	job_free(job);
	return view;
}

static int
list_cb(void *arg, const struct store_job *j)
{
	struct jobs_ctx *jc = arg;
	json_t *v = job_view(jc, j);

	if (v == NULL)
		return -1;
	if (json_is_array(jc->out)) {
		json_array_append_new(jc->out, v);
	} else {
		json_object_update(jc->out, v);
		json_decref(v);
	}
	return 0;
}

void
api_jobs_list(struct http_req *r)
{
	struct cerr err;
	struct jobs_ctx jc = {r->m, json_array(), 0, &err, 0};

	cerr_clear(&err);
	if (http_query_int(r, "last_outcomes", 0, 1, &jc.with_last, &err) < 0 ||
	    store_job_list(r->m->store, list_cb, &jc, &err) < 0 ||
	    err.code != CERR_OK) {
		json_decref(jc.out);
		http_reply_error(r, &err);
		return;
	}
	http_reply_json(r, 200, jc.out);
}

void
api_job_get(struct http_req *r)
{
	struct cerr err;
	struct jobs_ctx jc = {r->m, json_object(), 1, &err, 0};

	cerr_clear(&err);
	if (store_job_get(r->m->store, r->args[0], list_cb, &jc, &err) < 0 ||
	    err.code != CERR_OK) {
		json_decref(jc.out);
		http_reply_error(r, &err);
		return;
	}
	http_reply_json(r, 200, jc.out);
}

static void
reply_result(struct http_req *r, int rc, json_t *result, const struct cerr *err)
{
	if (rc < 0)
		http_reply_error(r, err);
	else
		http_reply_json(r, 200, result);
}

void
api_job_put(struct http_req *r)
{
	json_t *result = NULL;
	struct cerr err;
	int rc = jobs_apply(r->m, r->body, r->args[0], &result, &err);

	reply_result(r, rc, result, &err);
}

void
api_job_delete(struct http_req *r)
{
	json_t *result = NULL;
	struct cerr err;
	int rc = jobs_delete(r->m, r->args[0], &result, &err);

	reply_result(r, rc, result, &err);
}

static void
run_op(struct http_req *r, int stop)
{
	static const char *const keys[] = {"target", NULL};
	const char *target = NULL;
	json_t *result = NULL;
	struct cerr err;
	int rc = 0;

	if (r->body != NULL &&
	    (json_check_keys(r->body, keys, "", &err) < 0 ||
		json_get_string(r->body, "target", "", STORE_NAME_MAX, 0,
		    &target, &err) < 0))
		rc = -1;
	if (rc == 0)
		rc = jobs_post_run_op(
		    r->m, r->args[0], target, stop, &result, &err);
	reply_result(r, rc, result, &err);
}

void
api_job_start(struct http_req *r)
{
	run_op(r, 0);
}

void
api_job_stop(struct http_req *r)
{
	run_op(r, 1);
}

#define NEXT_DEFAULT 5

struct next_ctx {
	int64_t count;
	json_t *out;
	struct cerr *err;
};

static int
next_cb(void *arg, const struct store_job *j)
{
	struct next_ctx *nc = arg;
	struct job *job = NULL;
	json_t *list;

	if (jobdoc_parse(j->doc, strlen(j->doc), &job, nc->err) < 0)
		return -1;
	list = nextrun_json(job, NULL, master_now(), (int)nc->count, nc->err);
	if (list != NULL)
		nc->out =
		    json_pack("{s:s,s:o}", "job", job->name, "schedules", list);
	job_free(job);
	return nc->out != NULL ? 0 : -1;
}

/* GET /v1/jobs/{name}/next?count=N: each schedule's next N runs. A
 * schedule without a zone runs in each target's own zone, unknown here:
 * it is previewed in UTC and marked target_zone. */
void
api_job_next(struct http_req *r)
{
	struct cerr err;
	struct next_ctx nc = {NEXT_DEFAULT, NULL, &err};

	cerr_clear(&err);
	if (http_query_int(r, "count", 1, NEXTRUN_MAX_COUNT, &nc.count, &err) <
		0 ||
	    store_job_get(r->m->store, r->args[0], next_cb, &nc, &err) < 0 ||
	    nc.out == NULL) {
		if (err.code == CERR_OK)
			cerr_set(&err, CERR_INTERNAL, "out of memory");
		json_decref(nc.out);
		http_reply_error(r, &err);
		return;
	}
	http_reply_json(r, 200, nc.out);
}
