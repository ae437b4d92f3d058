/*
 * api_why: GET /v1/jobs/{name}/why[?target=T], the facts behind `cohortctl
 * job why` gathered per target (why.h explains them): the target's status,
 * the download list, the job's flags and next run, and the last record
 * the target uploaded for the job. Without a target: every target the job
 * is aimed at, up to WHY_MAX_TARGETS (each costs a few store reads on the
 * master's loop, the download list read newest first and at most
 * WHY_SCAN_MAX rows of it).
 */
#include <stdlib.h>
#include <string.h>

#include "common/jobdoc.h"
#include "common/json.h"
#include "common/nextrun.h"
#include "common/schedule.h"
#include "common/timefmt.h"
#include "master/api.h"
#include "master/master.h"
#include "master/status.h"
#include "master/why.h"
#include "store/store.h"

#define WHY_MAX_TARGETS 100
/* A definition further back than this in a target's download list is
 * treated as applied long ago (retention keeps 100 applied per target). */
#define WHY_SCAN_MAX 500

struct why_ctx {
	struct master *m;
	const struct job *job;
	json_t *aimed; /* array of target names */
	json_t *next; /* nextrun_json() of the job, NULL if it failed */
	char preview_error[CERR_MSG_MAX]; /* why next is NULL */
	struct cerr *err;
};

/* ---- the facts --------------------------------------------------------- */

static void
instr_copy(struct why_instr *to, const struct store_instr *in)
{
	to->found = 1;
	to->id = in->id;
	to->op = in->op;
	to->status = in->status;
	to->cleared = in->cleared;
	snprintf(to->object, sizeof(to->object), "%s", in->object);
	to->posted_at = in->posted_at;
	to->applied_at = in->applied_at;
	snprintf(to->error, sizeof(to->error), "%s", in->error);
}

/* Newest first: the first row of the job is its latest instruction, the
 * first insert or update its latest definition, where the scan stops. */
static int
job_instr_cb(void *arg, const struct store_instr *in)
{
	struct why_facts *f = arg;

	if (strcmp(in->object, f->job) != 0 || in->op == INSTR_RESYNC ||
	    in->op == INSTR_SET_POLL_INTERVAL || in->op == INSTR_DEFECT)
		return 0;
	if (!f->latest.found)
		instr_copy(&f->latest, in);
	if (in->op != INSTR_INSERT && in->op != INSTR_UPDATE)
		return 0;
	instr_copy(&f->definition, in);
	return 1;
}

/* Failed rows, newest first: the last uncleared one is the oldest, the
 * one the target stopped at. */
static int
failed_cb(void *arg, const struct store_instr *in)
{
	struct why_facts *f = arg;

	if (!in->cleared)
		instr_copy(&f->blocker, in);
	return 0;
}

static json_t *
run_view(const struct store_run *h)
{
	char started[TIMEFMT_MAX], run_id[STORE_NAME_MAX + 24];

	snprintf(run_id, sizeof(run_id), "%s:%lld", h->target,
	    (long long)h->target_run_id);
	return json_pack("{s:s,s:s,s:s,s:I,s:s}", "run_id", run_id, "outcome",
	    run_outcome_name(h->outcome), "started_at",
	    timefmt_utc_ms(h->started_at_ms, started), "duration_ms",
	    (json_int_t)h->duration_ms, "message",
	    h->message ? h->message : "");
}

static int
last_run_cb(void *arg, const struct store_run *h)
{
	json_t **out = arg;

	*out = run_view(h);
	return 1;
}

static json_t *
instr_view(const struct why_instr *in)
{
	char posted[TIMEFMT_MAX], applied[TIMEFMT_MAX];

	if (!in->found)
		return json_null();
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:s}", "id",
	    (json_int_t)in->id, "operation", instr_op_name(in->op), "object",
	    in->object, "status", instr_status_name(in->status), "posted_at",
	    timefmt_utc(in->posted_at, posted), "applied_at",
	    in->applied_at > 0
		? json_string(timefmt_utc(in->applied_at, applied))
		: json_null(),
	    "error", in->error);
}

static int
is_aimed(const json_t *aimed, const char *target)
{
	size_t i;
	json_t *v;

	json_array_foreach(aimed, i, v)
	{
		if (strcmp(json_string_value(v), target) == 0)
			return 1;
	}
	return 0;
}

/* The earliest first run of the job's enabled schedules, as text, into
 * buf; NULL when none. A schedule without a zone runs in the target's
 * own: its preview is that wall time read as UTC, so its instant is
 * about that minus the target's offset at its last poll. */
static const char *
next_run(const struct why_ctx *wc, const struct store_target *t, char *buf,
    size_t size, const char **schedule_out)
{
	int64_t best = INT64_MAX, at_ms;
	char approx[TIMEFMT_MAX];
	const char *found = NULL;
	size_t i;
	json_t *s;

	json_array_foreach(wc->next, i, s)
	{
		/* A schedule with no run ahead (start, idle, a once that has
		 * passed, an end date) has no first run. */
		json_t *first = json_array_get(json_object_get(s, "runs"), 0);
		const char *utc =
		    json_string_value(json_object_get(first, "utc"));
		int own_zone = json_is_true(json_object_get(s, "target_zone"));

		if (!json_is_true(json_object_get(s, "enabled")) ||
		    utc == NULL || timefmt_parse(utc, &at_ms) < 0)
			continue;
		if (own_zone)
			at_ms -= (int64_t)t->tz_offset_s * 1000;
		if (at_ms >= best)
			continue;
		best = at_ms;
		found = buf;
		*schedule_out =
		    json_string_value(json_object_get(s, "schedule"));
		if (!own_zone)
			snprintf(buf, size, "%s",
			    json_string_value(json_object_get(first, "at")));
		else if (t->last_poll > 0)
			snprintf(buf, size, "%s in %s's own zone (about %s)",
			    json_string_value(json_object_get(first, "local")),
			    t->name, timefmt_utc_ms(at_ms, approx));
		else
			snprintf(buf, size, "%s in %s's own zone",
			    json_string_value(json_object_get(first, "local")),
			    t->name);
	}
	return found;
}

static void
count_schedules(const struct job *job, struct why_facts *f)
{
	for (size_t i = 0; i < job->nschedules; i++) {
		const struct schedule *s = job->schedules[i];

		if (!schedule_enabled(s))
			continue;
		if (schedule_kind(s) == SCHED_START)
			f->start_schedules++;
		else if (schedule_kind(s) == SCHED_ON_IDLE)
			f->idle_schedules++;
		else
			f->timed_schedules++;
	}
}

/* The store's facts about the job on the target into f. */
static int
read_facts(
    struct why_ctx *wc, const char *target, struct why_facts *f, json_t **last)
{
	struct store_instr_filter all = {target, -1, WHY_SCAN_MAX};
	struct store_instr_filter failed = {target, INSTR_FAILED, 0};
	struct store_run_filter rf;

	memset(&rf, 0, sizeof(rf));
	rf.job = wc->job->name;
	rf.target = target;
	rf.outcome = -1;
	rf.job_rows_only = 1;
	rf.limit = 1;
	if (store_instr_list(wc->m->store, &all, job_instr_cb, f, wc->err) <
		0 ||
	    store_instr_list(wc->m->store, &failed, failed_cb, f, wc->err) <
		0 ||
	    store_run_list(wc->m->store, &rf, last_run_cb, last, wc->err) < 0)
		return -1;
	return 0;
}

/* The explanation for one target, as JSON; NULL with err set. */
static json_t *
explain(struct why_ctx *wc, const char *target)
{
	struct store_target t;
	struct why_facts f;
	char text[WHY_TEXT_MAX], polled[TIMEFMT_MAX], next[256];
	const char *verdict;
	json_t *last = NULL, *out;

	if (store_target_get(wc->m->store, target, &t, wc->err) < 0)
		return NULL;
	memset(&f, 0, sizeof(f));
	f.job = wc->job->name;
	f.target = target;
	f.aimed = is_aimed(wc->aimed, target);
	f.status = status_of_target(wc->m, &t, master_now());
	f.last_poll = t.last_poll;
	f.enabled = wc->job->enabled;
	count_schedules(wc->job, &f);
	f.next_run = next_run(wc, &t, next, sizeof(next), &f.next_schedule);
	f.preview_error = wc->next == NULL ? wc->preview_error : NULL;
	if (read_facts(wc, target, &f, &last) < 0) {
		json_decref(last);
		return NULL;
	}
	verdict = why_verdict(&f, text, sizeof(text));
	out = json_pack("{s:s,s:b,s:s,s:o,s:s,s:s,s:o,s:o,s:o}", "target",
	    target, "aimed", f.aimed, "status", f.status, "last_poll",
	    t.last_poll > 0 ? json_string(timefmt_utc(t.last_poll, polled))
			    : json_null(),
	    "verdict", verdict, "explanation", text, "definition",
	    instr_view(&f.definition), "blocked_by", instr_view(&f.blocker),
	    "last", last != NULL ? last : json_null());
	if (out == NULL)
		cerr_set(wc->err, CERR_INTERNAL,
		    "job why: the answer for %s cannot be encoded", target);
	return out;
}

/* ---- the handler --------------------------------------------------------- */

static int
aimed_cb(void *arg, const char *name)
{
	return json_array_append_new(arg, json_string(name));
}

static int
explain_all(struct why_ctx *wc, const char *target, json_t *list, int *more)
{
	size_t i;
	json_t *v, *one;

	if (target != NULL) {
		one = explain(wc, target);
		return one != NULL ? json_array_append_new(list, one) : -1;
	}
	json_array_foreach(wc->aimed, i, v)
	{
		if (i == WHY_MAX_TARGETS) {
			*more = (int)(json_array_size(wc->aimed) - i);
			break;
		}
		one = explain(wc, json_string_value(v));
		if (one == NULL || json_array_append_new(list, one) < 0)
			return -1;
	}
	return 0;
}

struct why_req {
	const char *target; /* NULL: every aimed target */
	json_t *out;
	struct master *m;
	struct cerr *err;
};

static int
why_job_cb(void *arg, const struct store_job *j)
{
	struct why_req *wr = arg;
	struct why_ctx wc;
	struct job *job = NULL;
	json_t *list = json_array();
	int more = 0, rc = -1;

	memset(&wc, 0, sizeof(wc));
	wc.m = wr->m;
	wc.err = wr->err;
	wc.aimed = json_array();
	if (list == NULL || wc.aimed == NULL) {
		cerr_set(wr->err, CERR_INTERNAL, "out of memory");
		goto out;
	}
	if (jobdoc_parse(j->doc, strlen(j->doc), &job, wr->err) < 0 ||
	    store_job_targets_list(
		wr->m->store, j->name, aimed_cb, wc.aimed, wr->err) < 0)
		goto out;
	wc.job = job;
	/* a zone file gone since the job was applied: no next run known */
	wc.next = nextrun_json(job, NULL, master_now(), 1, wr->err);
	if (wc.next == NULL)
		snprintf(wc.preview_error, sizeof(wc.preview_error), "%s",
		    wr->err->msg);
	cerr_clear(wr->err);
	if (explain_all(&wc, wr->target, list, &more) < 0)
		goto out;
	wr->out = json_pack("{s:s,s:b,s:O,s:o,s:i}", "job", job->name,
	    "enabled", job->enabled, "aimed_at", wc.aimed, "targets", list,
	    "more_targets", more);
	list = NULL;
	rc = wr->out != NULL ? 0 : -1;
out:
	json_decref(list);
	json_decref(wc.aimed);
	json_decref(wc.next);
	job_free(job);
	return rc;
}

void
api_job_why(struct http_req *r)
{
	struct cerr err;
	struct why_req wr = {http_query(r, "target"), NULL, r->m, &err};

	cerr_clear(&err);
	if ((wr.target != NULL &&
		jobdoc_check_name(wr.target, STORE_NAME_MAX, "target", &err) <
		    0) ||
	    store_job_get(r->m->store, r->args[0], why_job_cb, &wr, &err) < 0 ||
	    wr.out == NULL) {
		if (err.code == CERR_OK)
			cerr_set(&err, CERR_INTERNAL, "out of memory");
		json_decref(wr.out);
		http_reply_error(r, &err);
		return;
	}
	http_reply_json(r, 200, wr.out);
}
