/*
 * jobdoc: validating a job document into struct job and writing it back in
 * canonical form (see jobdoc.h). Validation is complete before anything is
 * kept: every member is type- and range-checked, unknown members are
 * refused, and every message names the field by its path with 1-based
 * indexes ("steps[2].timeout_s: ...", "targets[3]: ..."). Secret
 * environment values never appear in a message.
 */
#include "common/jobdoc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/schedule.h"

#define JOB_PATH_MAX 256
#define JOB_DOC_DEPTH 16
#define JOB_FILE_PATH_MAX 4096
#define JOB_ENV_NAME_MAX 128
#define JOB_TIMEOUT_MAX 2592000 /* 30 days */
#define JOB_RETRY_MAX 100
#define JOB_RETRY_INTERVAL_MAX 86400
#define JOB_OUTPUT_MAX 67108864 /* 64 MiB */
#define JOB_HISTORY_ROWS_MAX 1000000000
#define JOB_HISTORY_AGE_MAX 3153600000 /* 100 years */

static const char *const top_keys[] = {"name", "description", "category",
    "owner", "enabled", "start_step", "steps", "schedules", "targets", "groups",
    "notify", "overlap", "misfire", "history_max_rows", "history_max_age_s",
    NULL};
static const char *const step_keys[] = {"name", "subsystem", "command", "cwd",
    "env", "proxy", "timeout_s", "retry_attempts", "retry_interval_s",
    "on_success", "on_failure", "max_output_bytes", "output_file", NULL};
static const char *const notify_keys[] = {"operator", "on", NULL};
static const char *const env_keys[] = {"value", "secret", NULL};

static const char *const subsystem_names[] = {"shell", "exec", NULL};
static const char *const notify_names[] = {
    "never", "failure", "success", "completion", NULL};
static const char *const overlap_names[] = {"refuse", "queue", NULL};
static const char *const misfire_names[] = {"run_once", "skip", NULL};

static const char *
field(char *buf, const char *path, const char *key)
{
	snprintf(buf, JOB_PATH_MAX, "%s%s%s", path, *path ? "." : "", key);
	return buf;
}

static int
nomem(struct cerr *err, const char *path)
{
	return cerr_set(
	    err, CERR_INTERNAL, "%s: out of memory", *path ? path : "job");
}

static int
dup_into(char **dst, const char *src, const char *path, struct cerr *err)
{
	if (src == NULL)
		return 0;
	*dst = strdup(src);
	if (*dst == NULL)
		return nomem(err, path);
	return 0;
}

int
jobdoc_check_name(
    const char *name, size_t max, const char *what, struct cerr *err)
{
	size_t len = strlen(name);

	if (len == 0)
		return cerr_set(
		    err, CERR_INVALID, "%s: must not be empty", what);
	if (len > max)
		return cerr_set(
		    err, CERR_INVALID, "%s: longer than %zu bytes", what, max);
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '.' || c == '_' ||
			c == '-'))
			return cerr_set(err, CERR_INVALID,
			    "%s: byte %zu is not a letter, digit, '.', '_' or '-'",
			    what, i + 1);
	}
	if (name[0] == '.' || name[0] == '-')
		return cerr_set(err, CERR_INVALID,
		    "%s: must not start with '.' or '-'", what);
	return 0;
}

/* Reads a member naming one of names; 1 when absent. */
static int
get_choice(const json_t *obj, const char *key, const char *path,
    const char *const *names, int *out, struct cerr *err)
{
	char f[JOB_PATH_MAX], list[128] = "";
	const char *s;
	int rc = json_get_string(obj, key, path, 32, 0, &s, err);

	if (rc != 0)
		return rc;
	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(names[i], s) == 0) {
			*out = i;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
		    "%s%s", i ? ", " : "", names[i]);
	}
	return cerr_set(err, CERR_INVALID, "%s: '%s' is not one of %s",
	    field(f, path, key), s, list);
}

/* Reads an optional name member into *out (copied); NULL when absent. */
static int
get_name(const json_t *obj, const char *key, const char *path, char **out,
    struct cerr *err)
{
	char f[JOB_PATH_MAX];
	const char *s = NULL;

	if (json_get_string(obj, key, path, JOB_NAME_MAX, 0, &s, err) == -1)
		return -1;
	if (s != NULL &&
	    jobdoc_check_name(s, JOB_NAME_MAX, field(f, path, key), err) == -1)
		return -1;
	return dup_into(out, s, path, err);
}

/* Reads an optional text member into *out (copied), "" when absent. */
static int
get_text(const json_t *obj, const char *key, size_t max, char **out,
    struct cerr *err)
{
	const char *s = "";

	if (json_get_string(obj, key, "", max, 0, &s, err) == -1)
		return -1;
	return dup_into(out, s, key, err);
}

/* An absolute path: no control characters, no empty, "." or ".."
 * component, so what is checked is what gets opened. "/" is allowed only
 * where allow_root. */
static int
check_path(const char *p, const char *what, int allow_root, struct cerr *err)
{
	const char *c;

	if (p[0] != '/')
		return cerr_set(
		    err, CERR_INVALID, "%s: must be an absolute path", what);
	if (p[1] == '\0')
		return allow_root
		    ? 0
		    : cerr_set(err, CERR_INVALID, "%s: must name a file", what);
	for (c = p; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return cerr_set(err, CERR_INVALID,
			    "%s: contains a control character", what);
	for (c = p; c != NULL; c = strchr(c + 1, '/')) {
		size_t len = strcspn(c + 1, "/");

		if (len == 0 || (len == 1 && c[1] == '.') ||
		    (len == 2 && c[1] == '.' && c[2] == '.'))
			return cerr_set(err, CERR_INVALID,
			    "%s: empty, '.' or '..' path component", what);
	}
	return 0;
}

static int
get_path(const json_t *obj, const char *key, const char *path, int allow_root,
    char **out, struct cerr *err)
{
	char f[JOB_PATH_MAX];
	const char *s = NULL;

	if (json_get_string(obj, key, path, JOB_FILE_PATH_MAX, 0, &s, err) ==
	    -1)
		return -1;
	if (s != NULL &&
	    check_path(s, field(f, path, key), allow_root, err) == -1)
		return -1;
	return dup_into(out, s, path, err);
}

/* "next", "quit_success", "quit_failure" or "step:N" with N in 1..nsteps;
 * 1 when absent (a keeps its default). */
static int
get_action(const json_t *obj, const char *key, const char *path, size_t nsteps,
    struct step_action *a, struct cerr *err)
{
	static const char *const names[] = {
	    "next", "quit_success", "quit_failure", NULL};
	char f[JOB_PATH_MAX], *end = NULL;
	const char *s;
	long n = 0;
	int rc = json_get_string(obj, key, path, 32, 0, &s, err);

	if (rc != 0)
		return rc;
	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(s, names[i]) == 0) {
			*a = (struct step_action){(enum step_action_kind)i, 0};
			return 0;
		}
	}
	if (strncmp(s, "step:", 5) == 0 && s[5] >= '0' && s[5] <= '9')
		n = strtol(s + 5, &end, 10);
	if (end == NULL || *end != '\0')
		return cerr_set(err, CERR_INVALID,
		    "%s: '%s' is not next, quit_success, quit_failure or step:N",
		    field(f, path, key), s);
	if (n < 1 || (size_t)n > nsteps)
		return cerr_set(err, CERR_INVALID,
		    "%s: %s names no step (the job has %zu)",
		    field(f, path, key), s, nsteps);
	*a = (struct step_action){ACTION_GOTO, (int)n};
	return 0;
}

/* A string read as a value: any character but NUL, at most max bytes. */
static int
check_str(const json_t *v, size_t max, const char *what, struct cerr *err)
{
	if (!json_is_string(v))
		return cerr_set(
		    err, CERR_INVALID, "%s: must be a string", what);
	if (json_string_length(v) > max)
		return cerr_set(
		    err, CERR_INVALID, "%s: longer than %zu bytes", what, max);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return cerr_set(
		    err, CERR_INVALID, "%s: contains a NUL byte", what);
	return 0;
}

static int
get_argv(
    const json_t *list, const char *what, struct job_step *st, struct cerr *err)
{
	size_t n = json_array_size(list);
	char f[JOB_PATH_MAX];

	if (!json_is_array(list) || n == 0 || n > JOB_MAX_ARGS)
		return cerr_set(err, CERR_INVALID,
		    "%s: an exec step needs an array of 1 to %d strings", what,
		    JOB_MAX_ARGS);
	st->argv = calloc(n + 1, sizeof(*st->argv));
	if (st->argv == NULL)
		return nomem(err, what);
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(list, i);

		snprintf(f, sizeof(f), "%s[%zu]", what, i + 1);
		if (check_str(v, JOB_COMMAND_MAX, f, err) == -1)
			return -1;
		if (i == 0 && json_string_length(v) == 0)
			return cerr_set(err, CERR_INVALID,
			    "%s: the program must not be empty", f);
		st->argv[i] = strdup(json_string_value(v));
		if (st->argv[i] == NULL)
			return nomem(err, what);
		st->argc = i + 1;
	}
	return 0;
}

static int
get_command(
    const json_t *obj, const char *path, struct job_step *st, struct cerr *err)
{
	char f[JOB_PATH_MAX];
	json_t *v = json_object_get(obj, "command");
	const char *s = NULL;

	field(f, path, "command");
	if (v == NULL || json_is_null(v))
		return cerr_set(err, CERR_INVALID, "%s: required", f);
	if (st->subsystem == STEP_EXEC)
		return get_argv(v, f, st, err);
	if (!json_is_string(v))
		return cerr_set(
		    err, CERR_INVALID, "%s: a shell step needs a string", f);
	/* multi-line scripts are fine: control characters are allowed */
	if (json_get_string(
		obj, "command", path, JOB_COMMAND_MAX, 1, &s, err) == -1)
		return -1;
	if (*s == '\0')
		return cerr_set(err, CERR_INVALID, "%s: must not be empty", f);
	return dup_into(&st->command, s, path, err);
}

static int
env_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > JOB_ENV_NAME_MAX ||
	    (name[0] >= '0' && name[0] <= '9'))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
			(name[i] >= 'A' && name[i] <= 'Z') ||
			(name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return 0;
	return 1;
}

/* One entry NAME: "value" or NAME: {"value": "...", "secret": bool}.
 * Values may hold any character but NUL; they are never quoted in a
 * message, since they may be secret. */
static int
get_env_entry(const char *name, const json_t *v, const char *what,
    struct job_env *e, struct cerr *err)
{
	char f[JOB_PATH_MAX];
	const json_t *value = v;

	snprintf(f, sizeof(f), "%s.%s", what, name);
	if (json_is_object(v)) {
		if (json_check_keys(v, env_keys, f, err) == -1 ||
		    json_get_bool(v, "secret", f, &e->secret, err) == -1)
			return -1;
		value = json_object_get(v, "value");
		snprintf(f + strlen(f), sizeof(f) - strlen(f), ".value");
	}
	if (value == NULL || json_is_null(value))
		return cerr_set(err, CERR_INVALID, "%s: required", f);
	if (value == v && !json_is_string(value))
		return cerr_set(err, CERR_INVALID,
		    "%s: must be a string or {\"value\": ..., \"secret\": ...}",
		    f);
	if (check_str(value, JOB_COMMAND_MAX, f, err) == -1)
		return -1;
	return dup_into(&e->value, json_string_value(value), f, err);
}

/* s quoted in a message only when it is short and plainly printable. */
static const char *
shown(const char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return "(unprintable)";
	return len <= 64 ? s : "(too long)";
}

static int
get_env(
    const json_t *obj, const char *path, struct job_step *st, struct cerr *err)
{
	char f[JOB_PATH_MAX];
	json_t *env = json_object_get(obj, "env");

	field(f, path, "env");
	if (env == NULL || json_is_null(env))
		return 0;
	if (!json_is_object(env))
		return cerr_set(err, CERR_INVALID,
		    "%s: must be an object of NAME: value", f);
	if (json_object_size(env) > JOB_MAX_ENV)
		return cerr_set(err, CERR_INVALID, "%s: more than %d entries",
		    f, JOB_MAX_ENV);
	st->env = calloc(json_object_size(env) + 1, sizeof(*st->env));
	if (st->env == NULL)
		return nomem(err, f);
	for (void *it = json_object_iter(env); it != NULL;
	     it = json_object_iter_next(env, it)) {
		struct job_env *e = &st->env[st->nenv];
		const char *name = json_object_iter_key(it);
		json_t *v = json_object_iter_value(it);

		if (!env_name_ok(name))
			return cerr_set(err, CERR_INVALID,
			    "%s: '%s' is not a variable name ([A-Za-z_][A-Za-z0-9_]*, at most %d bytes)",
			    f, shown(name), JOB_ENV_NAME_MAX);
		e->name = strdup(name);
		if (e->name == NULL)
			return nomem(err, f);
		st->nenv++;
		if (get_env_entry(name, v, f, e, err) == -1)
			return -1;
	}
	return 0;
}

/* The members that shape how a step runs. */
static int
step_body(const json_t *obj, const char *path, size_t index,
    struct job_step *st, struct cerr *err)
{
	int sub = STEP_SHELL;

	if (get_name(obj, "name", path, &st->name, err) == -1)
		return -1;
	if (st->name == NULL) {
		char def[32];

		/* "step N" would not pass the name rules on the way back */
		snprintf(def, sizeof(def), "step-%zu", index);
		if (dup_into(&st->name, def, path, err) == -1)
			return -1;
	}
	if (get_choice(obj, "subsystem", path, subsystem_names, &sub, err) ==
	    -1)
		return -1;
	st->subsystem = (enum step_subsystem)sub;
	if (get_command(obj, path, st, err) == -1 ||
	    get_path(obj, "cwd", path, 1, &st->cwd, err) == -1 ||
	    get_env(obj, path, st, err) == -1 ||
	    get_name(obj, "proxy", path, &st->proxy, err) == -1)
		return -1;
	return 0;
}

static int
parse_step(const json_t *obj, const char *path, size_t index, size_t nsteps,
    struct job_step *st, struct cerr *err)
{
	st->on_success.kind = ACTION_NEXT;
	st->on_failure.kind = ACTION_QUIT_FAILURE;
	st->max_output_bytes = -1;
	if (json_check_keys(obj, step_keys, path, err) == -1 ||
	    step_body(obj, path, index, st, err) == -1 ||
	    json_get_int(obj, "timeout_s", path, 0, JOB_TIMEOUT_MAX,
		&st->timeout_s, err) == -1 ||
	    json_get_int(obj, "retry_attempts", path, 0, JOB_RETRY_MAX,
		&st->retry_attempts, err) == -1 ||
	    json_get_int(obj, "retry_interval_s", path, 0,
		JOB_RETRY_INTERVAL_MAX, &st->retry_interval_s, err) == -1 ||
	    get_action(obj, "on_success", path, nsteps, &st->on_success, err) ==
		-1 ||
	    get_action(obj, "on_failure", path, nsteps, &st->on_failure, err) ==
		-1 ||
	    json_get_int(obj, "max_output_bytes", path, -1, JOB_OUTPUT_MAX,
		&st->max_output_bytes, err) == -1 ||
	    get_path(obj, "output_file", path, 0, &st->output_file, err) == -1)
		return -1;
	return 0;
}

static int
get_steps(const json_t *doc, struct job *job, struct cerr *err)
{
	json_t *list = json_object_get(doc, "steps"), *v;
	char path[JOB_PATH_MAX];
	size_t n = json_array_size(list), i;

	if (list == NULL || json_is_null(list))
		return cerr_set(err, CERR_INVALID, "steps: required");
	if (!json_is_array(list) || n == 0 || n > JOB_MAX_STEPS)
		return cerr_set(err, CERR_INVALID,
		    "steps: must be an array of 1 to %d steps", JOB_MAX_STEPS);
	job->steps = calloc(n, sizeof(*job->steps));
	if (job->steps == NULL)
		return nomem(err, "steps");
	for (i = 0; i < n; i++) {
		v = json_array_get(list, i);
		snprintf(path, sizeof(path), "steps[%zu]", i + 1);
		job->nsteps = i + 1; /* job_free releases what is filled */
		if (parse_step(v, path, i + 1, n, &job->steps[i], err) == -1)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(job->steps[j].name, job->steps[i].name) == 0)
				return cerr_set(err, CERR_INVALID,
				    "%s.name: '%s' is also the name of steps[%zu]",
				    path, job->steps[i].name, j + 1);
	}
	return 0;
}

static int
get_schedules(const json_t *doc, struct job *job, struct cerr *err)
{
	json_t *list = json_object_get(doc, "schedules"), *v;
	char path[JOB_PATH_MAX];
	size_t n = json_array_size(list), i;

	if (list == NULL || json_is_null(list))
		return 0;
	if (!json_is_array(list) || n > JOB_MAX_SCHEDULES)
		return cerr_set(err, CERR_INVALID,
		    "schedules: must be an array of at most %d schedules",
		    JOB_MAX_SCHEDULES);
	job->schedules = calloc(n + 1, sizeof(*job->schedules));
	if (job->schedules == NULL)
		return nomem(err, "schedules");
	for (i = 0; i < n; i++) {
		v = json_array_get(list, i);
		snprintf(path, sizeof(path), "schedules[%zu]", i + 1);
		if (schedule_from_json(v, path, &job->schedules[i], err) == -1)
			return -1;
		job->nschedules = i + 1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(schedule_name(job->schedules[j]),
				schedule_name(job->schedules[i])) == 0)
				return cerr_set(err, CERR_INVALID,
				    "%s.name: '%s' is also the name of schedules[%zu]",
				    path, schedule_name(job->schedules[i]),
				    j + 1);
	}
	return 0;
}

struct aim_ref {
	const char *name;
	size_t index;
};

static int
aim_cmp(const void *a, const void *b)
{
	const struct aim_ref *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Copies the names of list into *out in their first-seen order, without
 * repeats (sorting finds them, so 10,000 names cost n log n). */
static int
aims_dedup(const json_t *list, const char *key, char ***out, size_t *count,
    struct cerr *err)
{
	size_t n = json_array_size(list), kept = 0;
	struct aim_ref *refs = calloc(n + 1, sizeof(*refs));
	char *dup = calloc(n + 1, 1);
	int rc = -1;

	*out = calloc(n + 1, sizeof(**out));
	if (refs == NULL || dup == NULL || *out == NULL) {
		nomem(err, key);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		refs[i] = (struct aim_ref){
		    json_string_value(json_array_get(list, i)), i};
	qsort(refs, n, sizeof(*refs), aim_cmp);
	for (size_t i = 1; i < n; i++)
		if (strcmp(refs[i].name, refs[i - 1].name) == 0)
			dup[refs[i].index] = 1;
	for (size_t i = 0; i < n; i++) {
		if (dup[i])
			continue;
		(*out)[kept] =
		    strdup(json_string_value(json_array_get(list, i)));
		if ((*out)[kept] == NULL) {
			nomem(err, key);
			goto out;
		}
		*count = ++kept;
	}
	rc = 0;
out:
	free(refs);
	free(dup);
	return rc;
}

/* "targets" or "groups": an array of names, repeats dropped. */
static int
get_aims(const json_t *doc, const char *key, size_t *total, char ***out,
    size_t *count, struct cerr *err)
{
	json_t *list = json_object_get(doc, key);
	char what[JOB_PATH_MAX];

	if (list == NULL || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return cerr_set(
		    err, CERR_INVALID, "%s: must be an array of names", key);
	*total += json_array_size(list);
	if (*total > JOB_MAX_AIMS)
		return cerr_set(err, CERR_INVALID,
		    "%s: more than %d targets and groups in all", key,
		    JOB_MAX_AIMS);
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *v = json_array_get(list, i);

		snprintf(what, sizeof(what), "%s[%zu]", key, i + 1);
		if (check_str(v, JOB_NAME_MAX, what, err) == -1 ||
		    jobdoc_check_name(
			json_string_value(v), JOB_NAME_MAX, what, err) == -1)
			return -1;
	}
	return aims_dedup(list, key, out, count, err);
}

static int
job_head(const json_t *doc, struct job *job, struct cerr *err)
{
	const char *name = NULL;
	int rc = json_get_string(doc, "name", "", JOB_NAME_MAX, 0, &name, err);

	if (rc == 1)
		return cerr_set(err, CERR_INVALID, "name: required");
	if (rc == -1 ||
	    jobdoc_check_name(name, JOB_NAME_MAX, "name", err) == -1 ||
	    dup_into(&job->name, name, "name", err) == -1)
		return -1;
	if (get_text(doc, "description", JOB_TEXT_MAX, &job->description,
		err) == -1 ||
	    get_text(doc, "category", JOB_NAME_MAX, &job->category, err) ==
		-1 ||
	    get_text(doc, "owner", JOB_NAME_MAX, &job->owner, err) == -1 ||
	    json_get_bool(doc, "enabled", "", &job->enabled, err) == -1)
		return -1;
	return 0;
}

static int
job_tail(const json_t *doc, struct job *job, struct cerr *err)
{
	json_t *notify = json_object_get(doc, "notify");
	int64_t start = 1;
	int on = NOTIFY_FAILURE, overlap = 0, misfire = 0;

	if (json_get_int(doc, "start_step", "", 1, (int64_t)job->nsteps, &start,
		err) == -1)
		return -1;
	job->start_step = (int)start;
	if (notify != NULL && !json_is_null(notify) &&
	    (json_check_keys(notify, notify_keys, "notify", err) == -1 ||
		get_name(notify, "operator", "notify", &job->notify_operator,
		    err) == -1 ||
		get_choice(notify, "on", "notify", notify_names, &on, err) ==
		    -1))
		return -1;
	if (get_choice(doc, "overlap", "", overlap_names, &overlap, err) ==
		-1 ||
	    get_choice(doc, "misfire", "", misfire_names, &misfire, err) ==
		-1 ||
	    json_get_int(doc, "history_max_rows", "", 0, JOB_HISTORY_ROWS_MAX,
		&job->history_max_rows, err) == -1 ||
	    json_get_int(doc, "history_max_age_s", "", 0, JOB_HISTORY_AGE_MAX,
		&job->history_max_age_s, err) == -1)
		return -1;
	job->notify_on = (enum notify_on)on;
	job->overlap = (enum overlap_policy)overlap;
	job->misfire = (enum misfire_policy)misfire;
	return 0;
}

int
jobdoc_from_json(const json_t *doc, struct job **out, struct cerr *err)
{
	struct job *job = NULL;
	size_t aims = 0;
	int rc = -1;

	if (json_check_keys(doc, top_keys, "", err) == -1)
		return -1;
	job = calloc(1, sizeof(*job));
	if (job == NULL)
		return nomem(err, "");
	job->enabled = 1;
	job->start_step = 1;
	job->notify_on = NOTIFY_FAILURE;
	if (job_head(doc, job, err) == -1 || get_steps(doc, job, err) == -1 ||
	    get_schedules(doc, job, err) == -1 ||
	    get_aims(doc, "targets", &aims, &job->targets, &job->ntargets,
		err) == -1 ||
	    get_aims(doc, "groups", &aims, &job->groups, &job->ngroups, err) ==
		-1 ||
	    job_tail(doc, job, err) == -1)
		goto out;
	*out = job;
	job = NULL;
	rc = 0;
out:
	job_free(job);
	return rc;
}

int
jobdoc_parse(const char *text, size_t len, struct job **out, struct cerr *err)
{
	json_t *doc = json_parse_limited(
	    text, len, JOB_DOC_MAX_BYTES, JOB_DOC_DEPTH, err);
	int rc;

	if (doc == NULL)
		return -1;
	rc = jobdoc_from_json(doc, out, err);
	json_decref(doc);
	return rc;
}
