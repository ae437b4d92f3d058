/*
 * cmd_job: job apply / list / show / delete / start / stop.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/jobdoc.h"
#include "common/json.h"
#include "ctl/ctl.h"
#include "ctl/output.h"

static void
job_path(const char *name, const char *suffix, char *out, size_t size)
{
	char esc[JOB_NAME_MAX * 3 + 1];

	client_escape(name, esc, sizeof(esc));
	snprintf(out, size, "/v1/jobs/%s%s", esc, suffix);
}

static void
print_posted(const json_t *out, const char *what)
{
	const json_t *posted = json_object_get(out, "posted");
	size_t i;
	json_t *p;

	json_array_foreach(posted, i, p)
		printf("  %s %s to %s (instruction %lld)\n", what,
		    json_string_value(json_object_get(p, "op")),
		    json_string_value(json_object_get(p, "target")),
		    (long long)json_integer_value(json_object_get(p, "id")));
}

/* Reads and checks the document locally first, so a bad file is refused
 * with the field named before anything is sent. */
static int
read_document(const char *path, json_t **doc_out, const char **name_out,
    struct cerr *err)
{
	struct job *job = NULL;
	json_error_t jerr;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);

	if (doc == NULL)
		return cerr_set(err, CERR_INVALID, "%s: line %d: %s", path,
		    jerr.line, jerr.text);
	if (jobdoc_from_json(doc, &job, err) < 0) {
		json_decref(doc);
		return cerr_wrap(err, "%s", path);
	}
	job_free(job);
	*doc_out = doc;
	*name_out = json_string_value(json_object_get(doc, "name"));
	return 0;
}

int
cmd_job_apply(struct ctl *ctl, int argc, char **argv)
{
	const struct ctl_opt opts[] = {CTL_END};
	const char *pos[1], *name = NULL;
	char path[JOB_NAME_MAX * 3 + 32];
	json_t *doc = NULL, *out = NULL;
	struct client *c;
	struct cerr err;
	int npos, rc;

	if (ctl_parse(argc, argv, opts, pos, 1, 1, &npos, &err) < 0 ||
	    read_document(pos[0], &doc, &name, &err) < 0)
		return ctl_fail(&err);
	job_path(name, "", path, sizeof(path));
	rc = ctl_client(ctl, &c, &err);
	if (rc == 0)
		rc = client_call(c, "PUT", path, doc, &out, &err);
	json_decref(doc);
	if (rc < 0)
		return ctl_fail(&err);
	printf("job %s %s\n", json_string_value(json_object_get(out, "name")),
	    json_is_true(json_object_get(out, "created")) ? "created" :
	    json_is_true(json_object_get(out, "changed")) ? "updated" :
	    "unchanged");
	print_posted(out, "posted");
	json_decref(out);
	return 0;
}

static int
get_and_print(struct ctl *ctl, const char *path, int json,
    const struct output_col *cols, size_t ncols)
{
	struct client *c;
	json_t *out = NULL;
	struct cerr err;

	if (ctl_client(ctl, &c, &err) < 0 ||
	    client_call(c, "GET", path, NULL, &out, &err) < 0)
		return ctl_fail(&err);
	if (json || cols == NULL)
		output_json(stdout, out);
	else
		output_table(stdout, cols, ncols, out);
	json_decref(out);
	return 0;
}

int
cmd_job_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct output_col cols[] = {
		{"NAME", "name", 0}, {"ENABLED", "enabled", 0},
		{"STEPS", "steps", 0}, {"SCHEDULES", "schedules", 0},
		{"TARGETS", "targets", 40}, {"CATEGORY", "category", 20},
		{"UPDATED", "updated_at", 0},
	};
	int json = 0, npos;
	const struct ctl_opt opts[] = {CTL_FLAG("--json", &json), CTL_END};
	struct cerr err;

	if (ctl_parse(argc, argv, opts, NULL, 0, 0, &npos, &err) < 0)
		return ctl_fail(&err);
	return get_and_print(ctl, "/v1/jobs", json, cols,
	    sizeof(cols) / sizeof(cols[0]));
}

/* A job for people: what it is, whom it notifies, and its last outcome
 * on each target. */
static void
print_job(const json_t *job)
{
	static const struct output_col cols[] = {
		{"TARGET", "target", 0}, {"LAST OUTCOME", "outcome", 0},
		{"STARTED", "started_at", 0}, {"MS", "duration_ms", 0},
		{"RUN", "run_id", 0}, {"MESSAGE", "message", 50},
	};
	const json_t *notify = json_object_get(json_object_get(job,
	    "document"), "notify");
	char a[256], b[256], c[64];

	printf("job %s (%s)\n", output_field(job, "name", a, sizeof(a)),
	    json_is_true(json_object_get(job, "enabled")) ? "enabled" :
	    "disabled");
	output_field(job, "description", a, sizeof(a));
	if (a[0] != '\0' && strcmp(a, "-") != 0)
		printf("  description: %s\n", a);
	printf("  steps: %s, schedules: %s, updated: %s\n",
	    output_field(job, "steps", a, sizeof(a)),
	    output_field(job, "schedules", b, sizeof(b)),
	    output_field(job, "updated_at", c, sizeof(c)));
	printf("  notify: on %s, operator %s\n",
	    output_field(notify, "on", a, sizeof(a)),
	    json_is_string(json_object_get(notify, "operator")) ?
	    output_field(notify, "operator", b, sizeof(b)) : "(the default)");
	printf("\n");
	output_table(stdout, cols, sizeof(cols) / sizeof(cols[0]),
	    json_object_get(job, "last_outcomes"));
}

int
cmd_job_show(struct ctl *ctl, int argc, char **argv)
{
	int json = 0, npos;
	const struct ctl_opt opts[] = {CTL_FLAG("--json", &json), CTL_END};
	const char *pos[1];
	char path[JOB_NAME_MAX * 3 + 32];
	struct client *c;
	json_t *out = NULL;
	struct cerr err;

	if (ctl_parse(argc, argv, opts, pos, 1, 1, &npos, &err) < 0)
		return ctl_fail(&err);
	job_path(pos[0], "", path, sizeof(path));
	if (ctl_client(ctl, &c, &err) < 0 ||
	    client_call(c, "GET", path, NULL, &out, &err) < 0)
		return ctl_fail(&err);
	if (json)
		output_json(stdout, out);
	else
		print_job(out);
	json_decref(out);
	return 0;
}

int
cmd_job_delete(struct ctl *ctl, int argc, char **argv)
{
	const struct ctl_opt opts[] = {CTL_END};
	const char *pos[1];
	char path[JOB_NAME_MAX * 3 + 32];
	struct client *c;
	json_t *out = NULL;
	struct cerr err;
	int npos;

	if (ctl_parse(argc, argv, opts, pos, 1, 1, &npos, &err) < 0 ||
	    ctl_client(ctl, &c, &err) < 0)
		return ctl_fail(&err);
	job_path(pos[0], "", path, sizeof(path));
	if (client_call(c, "DELETE", path, NULL, &out, &err) < 0)
		return ctl_fail(&err);
	printf("job %s deleted\n", pos[0]);
	print_posted(out, "posted");
	json_decref(out);
	return 0;
}

static int
run_op(struct ctl *ctl, int argc, char **argv, const char *op)
{
	const char *target = NULL, *pos[1];
	const struct ctl_opt opts[] = {CTL_VALUE("--target", &target),
	    CTL_END};
	char path[JOB_NAME_MAX * 3 + 32];
	json_t *body = NULL, *out = NULL;
	struct client *c;
	struct cerr err;
	int npos, rc;

	if (ctl_parse(argc, argv, opts, pos, 1, 1, &npos, &err) < 0 ||
	    ctl_client(ctl, &c, &err) < 0)
		return ctl_fail(&err);
	job_path(pos[0], strcmp(op, "start") == 0 ? "/start" : "/stop", path,
	    sizeof(path));
	if (target != NULL)
		body = json_pack("{s:s}", "target", target);
	rc = client_call(c, "POST", path, body, &out, &err);
	json_decref(body);
	if (rc < 0)
		return ctl_fail(&err);
	printf("job %s: %s posted\n", pos[0], op);
	print_posted(out, "posted");
	json_decref(out);
	return 0;
}

int
cmd_job_start(struct ctl *ctl, int argc, char **argv)
{
	return run_op(ctl, argc, argv, "start");
}

int
cmd_job_stop(struct ctl *ctl, int argc, char **argv)
{
	return run_op(ctl, argc, argv, "stop");
}
