/*
 * jobdoc_json: the canonical form of a job (jobdoc_to_json) and its
 * release (job_free); validation lives in jobdoc.c. The canonical form
 * writes every member, defaults filled in, so a target never needs to know
 * defaults that may change between versions; jobdoc.c reads it back to
 * the same struct job (tests/unit/test_jobdoc.c checks the round trip).
 */
#include "common/jobdoc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/schedule.h"

/* Indexed by the enums of jobdoc.h. */
static const char *const subsystem_names[] = {"shell", "exec"};
static const char *const notify_names[] = {
    "never", "failure", "success", "completion"};
static const char *const overlap_names[] = {"refuse", "queue"};
static const char *const misfire_names[] = {"run_once", "skip"};

const char *
step_action_name(const struct step_action *a, char *buf, size_t size)
{
	switch (a->kind) {
	case ACTION_NEXT:
		return "next";
	case ACTION_QUIT_SUCCESS:
		return "quit_success";
	case ACTION_QUIT_FAILURE:
		return "quit_failure";
	default:
		snprintf(buf, size, "step:%d", a->step);
		return buf;
	}
}

static json_t *
string_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
names_json(char **names, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n && a != NULL; i++) {
		if (json_array_append_new(a, json_string(names[i])) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* json_object_set_new() releases v also when it fails, so a chain of
 * these leaks nothing; rc collects any failure. */
static void
put(json_t *o, const char *key, json_t *v, int *rc)
{
	if (json_object_set_new(o, key, v) == -1)
		*rc = -1;
}

static json_t *
env_json(const struct job_step *st, int redact_secrets)
{
	json_t *env = json_object();
	int rc = env != NULL ? 0 : -1;

	for (size_t i = 0; i < st->nenv && rc == 0; i++) {
		const struct job_env *e = &st->env[i];
		json_t *entry = json_object();

		put(env, e->name, entry, &rc);
		if (rc == -1)
			break;
		put(entry, "value",
		    json_string(e->secret && redact_secrets ? JOB_SECRET_MASK
							    : e->value),
		    &rc);
		put(entry, "secret", json_boolean(e->secret), &rc);
	}
	if (rc != 0) {
		json_decref(env);
		return NULL;
	}
	return env;
}

static json_t *
step_json(const struct job_step *st, int redact_secrets)
{
	char buf[32];
	json_t *o = json_object();
	int rc = o != NULL ? 0 : -1;

	if (rc == -1)
		return NULL;
	put(o, "name", json_string(st->name), &rc);
	put(o, "subsystem", json_string(subsystem_names[st->subsystem]), &rc);
	put(o, "command",
	    st->subsystem == STEP_SHELL ? json_string(st->command)
					: names_json(st->argv, st->argc),
	    &rc);
	put(o, "cwd", string_or_null(st->cwd), &rc);
	put(o, "env", env_json(st, redact_secrets), &rc);
	put(o, "proxy", string_or_null(st->proxy), &rc);
	put(o, "timeout_s", json_integer(st->timeout_s), &rc);
	put(o, "retry_attempts", json_integer(st->retry_attempts), &rc);
	put(o, "retry_interval_s", json_integer(st->retry_interval_s), &rc);
	put(o, "on_success",
	    json_string(step_action_name(&st->on_success, buf, sizeof(buf))),
	    &rc);
	put(o, "on_failure",
	    json_string(step_action_name(&st->on_failure, buf, sizeof(buf))),
	    &rc);
	put(o, "max_output_bytes", json_integer(st->max_output_bytes), &rc);
	put(o, "output_file", string_or_null(st->output_file), &rc);
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
lists_json(const struct job *job, int redact_secrets, int steps)
{
	json_t *a = json_array();
	size_t n = steps ? job->nsteps : job->nschedules;

	for (size_t i = 0; i < n && a != NULL; i++) {
		json_t *v = steps ? step_json(&job->steps[i], redact_secrets)
				  : schedule_to_json(job->schedules[i]);

		if (json_array_append_new(a, v) == -1) {
			json_decref(a);
			a = NULL;
		}
	}
	return a;
}

json_t *
jobdoc_to_json(const struct job *job, int redact_secrets)
{
	json_t *o = json_object(), *notify = json_object();
	int rc = o != NULL ? 0 : -1;

	if (rc == -1) {
		json_decref(notify);
		return NULL;
	}
	put(o, "name", json_string(job->name), &rc);
	put(o, "description", json_string(job->description), &rc);
	put(o, "category", json_string(job->category), &rc);
	put(o, "owner", json_string(job->owner), &rc);
	put(o, "enabled", json_boolean(job->enabled), &rc);
	put(o, "start_step", json_integer(job->start_step), &rc);
	put(o, "steps", lists_json(job, redact_secrets, 1), &rc);
	put(o, "schedules", lists_json(job, redact_secrets, 0), &rc);
	put(o, "targets", names_json(job->targets, job->ntargets), &rc);
	put(o, "groups", names_json(job->groups, job->ngroups), &rc);
	put(o, "notify", notify, &rc);
	if (rc == 0) {
		put(notify, "operator", string_or_null(job->notify_operator),
		    &rc);
		put(notify, "on", json_string(notify_names[job->notify_on]),
		    &rc);
	}
	put(o, "overlap", json_string(overlap_names[job->overlap]), &rc);
	put(o, "misfire", json_string(misfire_names[job->misfire]), &rc);
	put(o, "history_max_rows", json_integer(job->history_max_rows), &rc);
	put(o, "history_max_age_s", json_integer(job->history_max_age_s), &rc);
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void
step_cleanup(struct job_step *st)
{
	free(st->name);
	free(st->command);
	for (size_t i = 0; st->argv != NULL && st->argv[i] != NULL; i++)
		free(st->argv[i]);
	free(st->argv);
	free(st->cwd);
	for (size_t i = 0; i < st->nenv; i++) {
		free(st->env[i].name);
		if (st->env[i].value != NULL)
			explicit_bzero(
			    st->env[i].value, strlen(st->env[i].value));
		free(st->env[i].value);
	}
	free(st->env);
	free(st->proxy);
	free(st->output_file);
}

void
job_free(struct job *job)
{
	if (job == NULL)
		return;
	free(job->name);
	free(job->description);
	free(job->category);
	free(job->owner);
	for (size_t i = 0; i < job->nsteps; i++)
		step_cleanup(&job->steps[i]);
	free(job->steps);
	for (size_t i = 0; job->schedules != NULL && i < job->nschedules; i++)
		schedule_free(job->schedules[i]);
	free(job->schedules);
	for (size_t i = 0; i < job->ntargets; i++)
		free(job->targets[i]);
	free(job->targets);
	for (size_t i = 0; i < job->ngroups; i++)
		free(job->groups[i]);
	free(job->groups);
	free(job->notify_operator);
	free(job);
}
