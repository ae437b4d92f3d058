/*
 * api_history: the central run history and the download list, newest
 * first, with the filters the command line offers; and purging history
 * (by job, by age) on an administrator's request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jobdoc.h"
#include "common/json.h"
#include "common/log.h"
#include "common/runrec.h"
#include "common/timefmt.h"
#include "master/api.h"
#include "master/master.h"
#include "store/store.h"

#define DEFAULT_LIMIT 100
#define MAX_LIMIT 100000

struct history_list {
	json_t *rows;
	int without_output;
	int64_t step, attempt; /* within one run; -1: any */
};

static int
history_cb(void *arg, const struct store_run *h)
{
	const struct history_list *hl = arg;
	char started[TIMEFMT_MAX], run_id[STORE_NAME_MAX + 24];
	json_t *row;

	if ((hl->step >= 0 && h->step != hl->step) ||
	    (hl->attempt >= 0 && h->attempt != hl->attempt))
		return 0;
	/* A run is named by the target that ran it and the target's own run
	 * number: stable across uploads, unique across the fleet. */
	snprintf(run_id, sizeof(run_id), "%s:%lld", h->target,
	    (long long)h->target_run_id);
	row = json_pack("{s:s,s:s,s:s,s:i,s:s,s:i,s:s,s:i,s:s,s:i,s:I,s:s,s:I}",
	    "run_id", run_id, "job", h->job, "target", h->target, "step",
	    h->step, "step_name", h->step_name, "attempt", h->attempt,
	    "outcome", run_outcome_name(h->outcome), "exit_code", h->exit_code,
	    "started_at", timefmt_utc_ms(h->started_at_ms, started),
	    "tz_offset_s", (int)h->tz_offset_s, "duration_ms",
	    (json_int_t)h->duration_ms, "message", h->message ? h->message : "",
	    "instr_id", (json_int_t)h->instr_id);
	/* Left out on request, not sent empty: "" would claim no output. */
	if (row != NULL && !hl->without_output)
		json_object_set_new(
		    row, "output", json_string(h->output ? h->output : ""));
	return json_array_append_new(hl->rows, row);
}

/* run_id=TARGET:N, as the listing names a job run: its rows only. The
 * filter's target then points into target (the caller's). */
static int
run_param(struct http_req *r, struct store_run_filter *f,
    char target[STORE_NAME_MAX + 1], struct cerr *err)
{
	const char *v = http_query(r, "run_id");
	int64_t n;

	if (v == NULL)
		return 0;
	if (run_id_parse(v, target, STORE_NAME_MAX + 1, &n) < 0)
		return cerr_set(err, CERR_INVALID,
		    "query parameter run_id: '%.80s' is not TARGET:N", v);
	if (f->target != NULL && strcmp(f->target, target) != 0)
		return cerr_set(err, CERR_INVALID,
		    "query parameters: run_id names target '%s', target "
		    "names '%.80s'",
		    target, f->target);
	f->target = target;
	f->target_run_id = n;
	return 0;
}

static int
time_param(
    struct http_req *r, const char *name, int64_t *out_ms, struct cerr *err)
{
	const char *v = http_query(r, name);

	if (v == NULL)
		return 0;
	if (timefmt_parse(v, out_ms) < 0)
		return cerr_set(err, CERR_INVALID,
		    "query parameter %s: '%.40s' "
		    "is not an RFC 3339 time",
		    name, v);
	return 0;
}

void
api_history(struct http_req *r)
{
	struct store_run_filter f;
	const char *outcome = http_query(r, "outcome");
	struct history_list hl = {json_array(), 0, -1, -1};
	char run_target[STORE_NAME_MAX + 1];
	struct cerr err;
	enum run_outcome o;
	int64_t jobs_only = 0, whole_runs = 0, output = 1;

	memset(&f, 0, sizeof(f));
	f.job = http_query(r, "job");
	f.target = http_query(r, "target");
	f.outcome = -1;
	f.limit = DEFAULT_LIMIT;
	if (outcome != NULL) {
		if (run_outcome_parse(outcome, &o) < 0) {
			cerr_set(&err, CERR_INVALID,
			    "query parameter outcome: "
			    "'%.40s' is not an outcome",
			    outcome);
			goto fail;
		}
		f.outcome = (int)o;
	}
	if (http_query_int(r, "limit", 1, MAX_LIMIT, &f.limit, &err) < 0 ||
	    http_query_int(r, "jobs_only", 0, 1, &jobs_only, &err) < 0 ||
	    http_query_int(r, "whole_runs", 0, 1, &whole_runs, &err) < 0 ||
	    http_query_int(r, "output", 0, 1, &output, &err) < 0 ||
	    time_param(r, "since", &f.since_ms, &err) < 0 ||
	    time_param(r, "until", &f.until_ms, &err) < 0 ||
	    run_param(r, &f, run_target, &err) < 0 ||
	    http_query_int(r, "step", 0, INT32_MAX, &hl.step, &err) < 0 ||
	    http_query_int(r, "attempt", 0, INT32_MAX, &hl.attempt, &err) < 0)
		goto fail;
	/* Only a run's rows are few enough to pick from after the limit. */
	if ((hl.step >= 0 || hl.attempt >= 0) && f.target_run_id == 0) {
		cerr_set(&err, CERR_INVALID,
		    "query parameters step and attempt: only with run_id");
		goto fail;
	}
	if (jobs_only && whole_runs) {
		cerr_set(&err, CERR_INVALID,
		    "query parameters jobs_only and whole_runs: one or the "
		    "other");
		goto fail;
	}
	f.job_rows_only = (int)jobs_only;
	f.whole_runs = (int)whole_runs;
	f.without_output = hl.without_output = !output;
	if (store_run_list(r->m->store, &f, history_cb, &hl, &err) < 0)
		goto fail;
	http_reply_json(r, 200, hl.rows);
	return;
fail:
	json_decref(hl.rows);
	http_reply_error(r, &err);
}

/* runs: for a START, the job runs reported for it (a refusal counts);
 * null for the other operations, and for a START applied before the
 * store counted (schema step 8) that none has been reported for since. */
static int
instr_cb(void *arg, const struct store_instr *in)
{
	json_array_append_new(arg,
	    json_pack("{s:I,s:s,s:s,s:s,s:s,s:b,s:o,s:o,s:o,s:s,s:o,s:I}", "id",
		(json_int_t)in->id, "target", in->target, "operation",
		instr_op_name(in->op), "object", in->object, "status",
		instr_status_name(in->status), "cleared", in->cleared,
		"posted_at", json_utc_or_null(in->posted_at), "downloaded_at",
		json_utc_or_null(in->downloaded_at), "applied_at",
		json_utc_or_null(in->applied_at), "error",
		in->error ? in->error : "", "runs",
		in->op == INSTR_START && in->runs >= 0
		    ? json_integer((json_int_t)in->runs)
		    : json_null(),
		"epoch", (json_int_t)in->epoch));
	return 0;
}

void
api_downloadlist(struct http_req *r)
{
	struct store_instr_filter f = {
	    http_query(r, "target"), -1, DEFAULT_LIMIT};
	const char *status = http_query(r, "status");
	json_t *list = json_array();
	struct store_target t;
	enum instr_status st;
	struct cerr err;

	/* A target that is not there is named, not listed as empty. */
	if (f.target != NULL &&
	    store_target_get(r->m->store, f.target, &t, &err) < 0) {
		if (err.code == CERR_NOT_FOUND)
			cerr_set(&err, CERR_NOT_FOUND, "no target '%.64s'",
			    f.target);
		goto fail;
	}
	if (status != NULL && strcmp(status, "open") == 0) {
		f.status = STORE_INSTR_OPEN;
	} else if (status != NULL) {
		if (instr_status_parse(status, &st) < 0) {
			cerr_set(&err, CERR_INVALID,
			    "query parameter status: "
			    "'%.40s' is not a status",
			    status);
			goto fail;
		}
		f.status = (int)st;
	}
	if (http_query_int(r, "limit", 1, MAX_LIMIT, &f.limit, &err) < 0 ||
	    store_instr_list(r->m->store, &f, instr_cb, list, &err) < 0)
		goto fail;
	http_reply_json(r, 200, list);
	return;
fail:
	json_decref(list);
	http_reply_error(r, &err);
}

/* Body (optional): {"job": NAME, "older_than_s": N}; without either every
 * job run of every job goes. */
void
api_history_purge(struct http_req *r)
{
	static const char *const keys[] = {"job", "older_than_s", NULL};
	const char *job = NULL;
	int64_t older_than_s = 0, before_ms = 0, deleted = 0;
	struct cerr err;

	if (r->body != NULL &&
	    (json_check_keys(r->body, keys, "", &err) < 0 ||
		json_get_string(
		    r->body, "job", "", STORE_NAME_MAX, 0, &job, &err) < 0 ||
		(job != NULL &&
		    jobdoc_check_name(job, STORE_NAME_MAX, "job", &err) < 0) ||
		json_get_int(r->body, "older_than_s", "", 1,
		    (int64_t)100 * 365 * 86400, &older_than_s, &err) < 0))
		goto fail;
	if (older_than_s > 0)
		before_ms = timefmt_now_ms() - older_than_s * 1000;
	if (store_history_purge(r->m->store, job, before_ms, &deleted, &err) <
	    0)
		goto fail;
	log_info("history_purged", "job=%s older_than_s=%lld runs=%lld",
	    job != NULL ? job : "*", (long long)older_than_s,
	    (long long)deleted);
	http_reply_json(
	    r, 200, json_pack("{s:I}", "deleted", (json_int_t)deleted));
	return;
fail:
	http_reply_error(r, &err);
}
