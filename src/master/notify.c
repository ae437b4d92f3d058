/*
 * notify: deciding and queueing notifications (see notify.h). The queued
 * payload is the JSON an operator receives (a webhook's body, a command's
 * $COHORT_NOTIFY_JSON, an e-mail's lines), complete at queueing time, so
 * a later change to the job or the operator cannot change what a pending
 * notification says, only where it goes.
 */
#include "master/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "store/store.h"

#define SUBJECT_MESSAGE_MAX 120 /* of the message quoted in a subject */

/* A job's notification settings; defaults when the job is gone. */
struct job_notify {
	enum notify_on on;
	char operator_name[STORE_NAME_MAX + 1]; /* "" for the default */
};

int
notify_wanted(enum notify_on on, enum run_outcome outcome)
{
	int failed =
	    outcome == OUTCOME_FAILED || outcome == OUTCOME_INTERRUPTED;
	int ended = failed || outcome == OUTCOME_SUCCEEDED ||
	    outcome == OUTCOME_CANCELED;

	switch (on) {
	case NOTIFY_FAILURE:
		return failed;
	case NOTIFY_SUCCESS:
		return outcome == OUTCOME_SUCCEEDED;
	case NOTIFY_COMPLETION:
		return ended;
	default:
		return 0;
	}
}

static int
settings_cb(void *arg, const struct store_job *j)
{
	struct job_notify *jn = arg;
	struct job *job = NULL;
	struct cerr err;

	/* A stored document always parses; if one did not, the defaults
	 * still get the word out. */
	if (jobdoc_parse(j->doc, strlen(j->doc), &job, &err) < 0) {
		log_error("notify", "job=%s part=document msg=%s", j->name,
		    LOG_TEXT(err.msg));
		return 0;
	}
	jn->on = job->notify_on;
	snprintf(jn->operator_name, sizeof(jn->operator_name), "%s",
	    job->notify_operator ? job->notify_operator : "");
	job_free(job);
	return 0;
}

static int
job_settings(
    struct store *s, const char *job, struct job_notify *out, struct cerr *err)
{
	memset(out, 0, sizeof(*out));
	out->on = NOTIFY_FAILURE;
	if (job[0] == '\0')
		return 0;
	if (store_job_get(s, job, settings_cb, out, err) < 0 &&
	    err->code != CERR_NOT_FOUND)
		return -1;
	return 0;
}

static int
name_cb(void *arg, const struct store_operator *op)
{
	snprintf(arg, STORE_NAME_MAX + 1, "%s", op->name);
	return 0;
}

/* The operator to notify: wanted if it exists, else the default; ""
 * when there is neither. */
static int
resolve_operator(
    struct store *s, const char *wanted, char *out, struct cerr *err)
{
	out[0] = '\0';
	if (wanted[0] != '\0') {
		if (store_operator_get(s, wanted, name_cb, out, err) == 0)
			return 0;
		if (err->code != CERR_NOT_FOUND)
			return -1;
		log_warn("notify",
		    "operator=%s msg=\"no such operator; the "
		    "default operator is notified instead\"",
		    wanted);
	}
	if (store_operator_get_default(s, name_cb, out, err) < 0 &&
	    err->code != CERR_NOT_FOUND)
		return -1;
	return 0;
}

/* Adds the operator and subject to payload and queues it under key.
 * Takes ownership of payload. */
static int
queue(struct store *s, const char *key, const char *wanted, const char *subject,
    json_t *payload, int64_t now, int *queued_out, struct cerr *err)
{
	struct store_notification n = {.next_at = now, .created_at = now};
	char *text = NULL;
	int rc = -1, added = 0;

	if (payload == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	if (resolve_operator(s, wanted, n.operator_name, err) < 0)
		goto out;
	if (n.operator_name[0] == '\0') {
		log_warn("notify",
		    "key=%s msg=\"no operator to notify (no "
		    "default operator)\"",
		    key);
		rc = 0;
		goto out;
	}
	snprintf(n.key, sizeof(n.key), "%s", key);
	snprintf(n.subject, sizeof(n.subject), "%s", subject);
	json_object_set_new(payload, "operator", json_string(n.operator_name));
	json_object_set_new(payload, "subject", json_string(n.subject));
	text = json_dump_compact(payload);
	if (text == NULL) {
		cerr_set(err, CERR_INTERNAL, "out of memory");
		goto out;
	}
	n.payload = text;
	if (store_notification_add(s, &n, &added, err) < 0)
		goto out;
	if (queued_out != NULL)
		*queued_out = added;
	rc = 0;
out:
	json_decref(payload);
	free(text);
	return rc;
}

int
notify_run(struct store *s, const char *target, const struct run_report *rep,
    int64_t now, int *queued_out, struct cerr *err)
{
	char key[STORE_KEY_MAX + 1], subject[STORE_TEXT_MAX];
	char run_id[STORE_NAME_MAX + 24], started[TIMEFMT_MAX];
	char at[TIMEFMT_MAX];
	struct job_notify jn;

	if (queued_out != NULL)
		*queued_out = 0;
	if (rep->outcome == OUTCOME_RUNNING || rep->outcome == OUTCOME_RETRYING)
		return 0;
	if (job_settings(s, rep->job, &jn, err) < 0)
		return -1;
	if (!notify_wanted(jn.on, rep->outcome))
		return 0;
	snprintf(run_id, sizeof(run_id), "%s:%lld", target,
	    (long long)rep->target_run_id);
	snprintf(key, sizeof(key), "run:%s", run_id);
	snprintf(subject, sizeof(subject), "cohort: job %s %s on %s", rep->job,
	    run_outcome_name(rep->outcome), target);
	return queue(s, key, jn.operator_name, subject,
	    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:i,s:s,s:s}", "kind",
		"job_outcome", "job", rep->job, "target", target, "outcome",
		run_outcome_name(rep->outcome), "run_id", run_id, "started_at",
		timefmt_utc_ms(rep->started_ms, started), "duration_ms",
		(json_int_t)rep->duration_ms, "exit_code", rep->exit_code,
		"message", rep->message ? rep->message : "", "time",
		timefmt_utc(now, at)),
	    now, queued_out, err);
}

int
notify_execution(struct store *s, const struct store_exec *e, int64_t now,
    int *queued_out, struct cerr *err)
{
	char key[STORE_KEY_MAX + 1], subject[STORE_TEXT_MAX], at[TIMEFMT_MAX];
	struct job_notify jn;
	char *quote;
	int rc;

	if (queued_out != NULL)
		*queued_out = 0;
	if (e->status != EXEC_FAILED)
		return 0;
	if (job_settings(s, e->job, &jn, err) < 0)
		return -1;
	if (!notify_wanted(jn.on, OUTCOME_FAILED))
		return 0;
	quote = runrec_clean_text(e->reason != NULL ? e->reason : "",
	    e->reason != NULL ? strlen(e->reason) : 0, SUBJECT_MESSAGE_MAX);
	if (quote == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	snprintf(key, sizeof(key), "exec:%lld", (long long)e->id);
	snprintf(subject, sizeof(subject),
	    "cohort: execution %lld of job %s failed: %s", (long long)e->id,
	    e->job, quote);
	free(quote);
	rc = queue(s, key, jn.operator_name, subject,
	    json_pack("{s:s,s:s,s:I,s:s,s:s,s:I,s:s,s:s}", "kind",
		"execution_outcome", "job", e->job, "execution",
		(json_int_t)e->id, "outcome", "failed", "worker", e->worker,
		"attempt", (json_int_t)e->attempt, "message",
		e->reason != NULL ? e->reason : "", "time",
		timefmt_utc(now, at)),
	    now, queued_out, err);
	return rc;
}

int
notify_event(struct store *s, const char *target, const struct eventrec *ev,
    int64_t now, int *queued_out, struct cerr *err)
{
	char key[STORE_KEY_MAX + 1], subject[STORE_TEXT_MAX];
	char run_id[STORE_NAME_MAX + 24], at[TIMEFMT_MAX];
	struct job_notify jn;
	char *quote;

	if (queued_out != NULL)
		*queued_out = 0;
	if (ev->kind == EVENT_JOB_FAILED)
		return 0;
	if (job_settings(s, ev->job, &jn, err) < 0)
		return -1;
	if (ev->job[0] != '\0' && jn.on == NOTIFY_NEVER)
		return 0;
	/* Cut on a character boundary: the subject must stay UTF-8. */
	quote = runrec_clean_text(
	    ev->message, strlen(ev->message), SUBJECT_MESSAGE_MAX);
	if (quote == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	snprintf(
	    run_id, sizeof(run_id), "%s:%lld", target, (long long)ev->run_id);
	snprintf(key, sizeof(key), "event:%s:%s", target, ev->id);
	snprintf(subject, sizeof(subject), "cohort: [%s] %s on %s: %s",
	    eventrec_severity_name(ev->severity),
	    ev->kind == EVENT_USER ? "event" : eventrec_kind_name(ev->kind),
	    target, quote);
	free(quote);
	return queue(s, key, jn.operator_name, subject,
	    json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:s}", "kind", "event",
		"event", eventrec_kind_name(ev->kind), "severity",
		eventrec_severity_name(ev->severity), "target", target, "job",
		ev->job[0] ? json_string(ev->job) : json_null(), "run_id",
		ev->run_id > 0 ? json_string(run_id) : json_null(), "message",
		ev->message, "time", timefmt_utc_ms(ev->time_ms, at)),
	    now, queued_out, err);
}

static int
exists_cb(void *arg, const struct store_operator *op)
{
	return 0;
}

int
notify_check_operator(struct store *s, const char *name, struct cerr *err)
{
	if (name == NULL)
		return 0;
	if (store_operator_get(s, name, exists_cb, NULL, err) == 0)
		return 0;
	if (err->code != CERR_NOT_FOUND)
		return -1;
	return cerr_set(err, CERR_INVALID,
	    "notify.operator: '%s' is not an "
	    "operator (cohortctl operator list)",
	    name);
}

struct naming {
	const char *operator_name;
	char *first;
	size_t size;
	int found;
};

static int
naming_cb(void *arg, const struct store_job *j)
{
	struct naming *nm = arg;
	struct job *job = NULL;
	struct cerr err;

	if (jobdoc_parse(j->doc, strlen(j->doc), &job, &err) < 0)
		return 0;
	if (job->notify_operator != NULL &&
	    strcmp(job->notify_operator, nm->operator_name) == 0) {
		nm->found = 1;
		snprintf(nm->first, nm->size, "%s", job->name);
	}
	job_free(job);
	return nm->found;
}

int
notify_jobs_naming(struct store *s, const char *operator_name, char *first,
    size_t size, struct cerr *err)
{
	struct naming nm = {operator_name, first, size, 0};

	first[0] = '\0';
	if (store_job_list(s, naming_cb, &nm, err) < 0)
		return -1;
	return nm.found;
}
