/*
 * jobs_run: starting and stopping a job on its targets (job start, job
 * stop; see jobs.h): the refusals a start gets before it is posted (a
 * run going on under overlap "refuse", a failed definition), then one
 * instruction per target in one transaction.
 */
#include "master/jobs.h"
#include "master/jobs_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jobdoc.h"
#include "common/json.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "master/failed_defs.h"
#include "master/master.h"
#include "master/outbox_seen.h"
#include "master/scaleout.h"
#include "store/store.h"

/* The stored job's overlap policy, into *(enum overlap_policy *)arg. */
static int
job_overlap_cb(void *arg, const struct store_job *j)
{
	struct job *job = NULL;
	struct cerr err;

	if (jobdoc_parse(j->doc, strlen(j->doc), &job, &err) < 0) {
		log_error(
		    "job_start", "job=%s msg=%s", j->name, LOG_TEXT(err.msg));
		return -1;
	}
	*(enum overlap_policy *)arg = job->overlap;
	job_free(job);
	return 0;
}

/* A run of the job going on its target, as the history has it: the
 * target -> RFC 3339 start of its run. */
static int
running_cb(void *arg, const struct store_run *r)
{
	char at[TIMEFMT_MAX];

	return json_object_set_new(arg, r->target,
		   json_string(timefmt_utc_ms(r->started_at_ms, at))) < 0
	    ? -1
	    : 0;
}

struct trust {
	const struct master *m;
	json_t *since; /* target -> start of its run */
};

/* Drops the runs whose end the master may not have heard of yet, or
 * never will: a run on a target whose outbox may still hold records on
 * their way (outbox_seen.h: say, its end, sent to a master that died
 * before storing it), one that started before its target's current
 * enlistment (an earlier life of the name, deleted or with its state
 * lost), or one on a target whose outbox has dropped records (the end
 * may be among them). The target decides those starts itself. */
static int
trust_cb(void *arg, const struct store_target *t)
{
	struct trust *tr = arg;
	const char *at = json_string_value(json_object_get(tr->since, t->name));
	int64_t ms;

	if (at == NULL)
		return 0;
	if (!outbox_seen_complete(tr->m, t->name) || t->outbox_dropped > 0 ||
	    timefmt_parse(at, &ms) < 0 || ms < t->enlisted_at * 1000)
		json_object_del(tr->since, t->name);
	return 0;
}

/* One instance of a job at a time per target (PRODUCT.md section 11): a
 * start of a job whose policy is "refuse" is not posted to a target the
 * history shows it running on, and says so in refused[]. The target
 * still decides (a run may have begun and not been reported yet); this
 * answers the common case at once, with the run's start. */
static int
running_targets(
    struct master *m, const char *name, json_t **since, struct cerr *err)
{
	struct store_run_filter f = {.job = name,
	    .outcome = OUTCOME_RUNNING,
	    .job_rows_only = 1,
	    .without_output = 1};
	json_t *map = json_object();
	struct trust tr = {m, map};

	if (map == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	if (store_run_list(m->store, &f, running_cb, map, err) < 0 ||
	    (json_object_size(map) > 0 &&
		store_target_list(m->store, trust_cb, &tr, err) < 0)) {
		json_decref(map);
		return -1;
	}
	*since = map;
	return 0;
}

static int
refuse_running(json_t *res, const char *target, const json_t *since)
{
	const char *at = json_string_value(json_object_get(since, target));

	if (at == NULL)
		return 0;
	json_array_append_new(json_object_get(res, "refused"),
	    json_pack("{s:s,s:s,s:s}", "target", target, "reason", "running",
		"since", at));
	return 1;
}

/* A start is not posted to a target whose latest definition of the job
 * failed (failed_defs.h): the target has an older definition or none,
 * and a start of a job it lacks fails there and blocks the target. */
static int
refuse_failed_definition(json_t *res, const char *target, const json_t *failed)
{
	const json_t *f = json_object_get(failed, target);

	if (f == NULL)
		return 0;
	json_array_append_new(json_object_get(res, "refused"),
	    json_pack("{s:s,s:s,s:O,s:O,s:O}", "target", target, "reason",
		"definition_failed", "instruction", json_object_get(f, "id"),
		"cleared", json_object_get(f, "cleared"), "error",
		json_object_get(f, "error")));
	return 1;
}

/* Every target refused: the start is an error, naming the first. */
static int
refused_error(const json_t *refused, const char *name, struct cerr *err)
{
	const json_t *first = json_array_get(refused, 0);
	const char *target =
	    json_string_value(json_object_get(first, "target"));
	char more[64] = "";

	if (json_array_size(refused) > 1)
		snprintf(more, sizeof(more), " and on %zu more target%s",
		    json_array_size(refused) - 1,
		    json_array_size(refused) == 2 ? "" : "s");
	if (json_object_get(first, "since") != NULL)
		return cerr_set(err, CERR_CONFLICT,
		    "job '%s' is running on %s (since %s)%s, and its overlap "
		    "policy refuses a second run: not started",
		    name, target,
		    json_string_value(json_object_get(first, "since")), more);
	/* the target's error is left out: it may be long, and job why and
	 * the download list show it whole */
	if (json_is_true(json_object_get(first, "cleared")))
		return cerr_set(err, CERR_CONFLICT,
		    "job '%s': its latest definition failed on %s (instruction "
		    "%lld)%s, which has an older definition or none: not "
		    "started; apply the job again, or resync the target",
		    name, target,
		    (long long)json_integer_value(
			json_object_get(first, "instruction")),
		    more);
	return cerr_set(err, CERR_CONFLICT,
	    "job '%s': its latest definition failed on %s (instruction %lld)%s, "
	    "which is blocked at it: not started; clear it (cohortctl "
	    "downloadlist clear %lld) or resync the target",
	    name, target,
	    (long long)json_integer_value(
		json_object_get(first, "instruction")),
	    more,
	    (long long)json_integer_value(
		json_object_get(first, "instruction")));
}

int
jobs_post_run_op(struct master *m, const char *name, const char *target,
    int stop, json_t **result, struct cerr *err)
{
	enum instr_op op = stop ? INSTR_STOP : INSTR_START;
	enum overlap_policy overlap = OVERLAP_REFUSE;
	struct aim aim = {0};
	json_t *res =
	    json_pack("{s:s,s:[],s:[]}", "name", name, "posted", "refused");
	json_t *payload_json = json_pack("{s:s}", "job", name);
	json_t *since = NULL, *failed = NULL;
	char *payload = payload_json ? json_dump_compact(payload_json) : NULL;
	int rc = -1;

	if (res == NULL || payload == NULL) {
		cerr_set(err, CERR_INTERNAL, "out of memory");
		goto out;
	}
	if (store_job_get(m->store, name, job_overlap_cb, &overlap, err) < 0 ||
	    store_job_targets_list(m->store, name, jobs_aim_add, &aim, err) < 0)
		goto out;
	if (target != NULL && !jobs_aim_has(&aim, target)) {
		cerr_set(err, CERR_INVALID,
		    "target: job '%s' is not aimed "
		    "at target '%s'",
		    name, target);
		goto out;
	}
	if (aim.n == 0) {
		cerr_set(err, CERR_CONFLICT, "job '%s' has no targets", name);
		goto out;
	}
	if (!stop &&
	    (failed_defs_find(m->store, name, &failed, err) < 0 ||
		(overlap == OVERLAP_REFUSE &&
		    running_targets(m, name, &since, err) < 0)))
		goto out;
	if (store_begin(m->store, err) < 0)
		goto out;
	for (size_t i = 0; i < aim.n; i++) {
		if ((target != NULL && strcmp(target, aim.names[i]) != 0) ||
		    (failed != NULL &&
			refuse_failed_definition(res, aim.names[i], failed)) ||
		    (since != NULL && refuse_running(res, aim.names[i], since)))
			continue;
		if (jobs_post(m, json_object_get(res, "posted"), aim.names[i],
			op, name, payload, err) < 0 ||
		    (stop &&
			scaleout_stopped(m, aim.names[i], name, err) < 0)) {
			store_rollback(m->store);
			goto out;
		}
	}
	if (store_commit(m->store, err) < 0) {
		store_rollback(m->store);
		goto out;
	}
	if (json_array_size(json_object_get(res, "posted")) == 0 &&
	    json_array_size(json_object_get(res, "refused")) > 0) {
		refused_error(json_object_get(res, "refused"), name, err);
		goto out;
	}
	log_info(stop ? "job_stop" : "job_start",
	    "job=%s posted=%zu refused=%zu", name,
	    json_array_size(json_object_get(res, "posted")),
	    json_array_size(json_object_get(res, "refused")));
	jobs_wake_posted(m, json_object_get(res, "posted"));
	*result = res;
	res = NULL;
	rc = 0;
out:
	json_decref(res);
	json_decref(since);
	json_decref(failed);
	json_decref(payload_json);
	free(payload);
	jobs_aim_cleanup(&aim);
	return rc;
}
