/*
 * cmd_job: job apply / list / show / delete / start / stop / next.
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
	    printf("  %s %s to %s (instruction %lld)%s\n", what,
		json_string_value(json_object_get(p, "op")),
		json_string_value(json_object_get(p, "target")),
		(long long)json_integer_value(json_object_get(p, "id")),
		json_is_true(json_object_get(p, "again"))
		    ? ": again, its latest definition failed there"
		    : "");
}

/* Reads and checks the document locally first, so a bad file is refused
 * with the field named before anything is sent. */
static int
read_document(
    const char *path, json_t **doc_out, const char **name_out, struct cerr *err)
{
	struct job *job = NULL;
	json_t *doc = ctl_json_file(path, err);

	if (doc == NULL)
		return -1;
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
	    json_is_true(json_object_get(out, "created"))       ? "created"
		: json_is_true(json_object_get(out, "changed")) ? "updated"
								: "unchanged");
	print_posted(out, "posted");
	json_decref(out);
	return 0;
}

int
cmd_job_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct output_col cols[] = {
	    {"NAME", "name", 0},
	    {"ENABLED", "enabled", 0},
	    {"STEPS", "steps", 0},
	    {"SCHEDULES", "schedules", 0},
	    {"TARGETS", "targets", 40},
	    {"CATEGORY", "category", 20},
	    {"UPDATED", "updated_at", 0},
	};
	int json = 0, npos;
	const struct ctl_opt opts[] = {CTL_FLAG("--json", &json), CTL_END};
	struct cerr err;

	if (ctl_parse(argc, argv, opts, NULL, 0, 0, &npos, &err) < 0)
		return ctl_fail(&err);
	return ctl_get_and_print(
	    ctl, "/v1/jobs", json, cols, sizeof(cols) / sizeof(cols[0]));
}

/* The zone column: a schedule without its own zone runs in each target's
 * zone, which the master does not know; its times are shown in UTC. */
static json_t *
zone_cell(const json_t *sched)
{
	if (json_is_true(json_object_get(sched, "target_zone")))
		return json_string("target's zone (shown in UTC)");
	return json_incref(json_object_get(sched, "zone"));
}

/* One row per schedule: its next run, or why there is none. */
static json_t *
schedule_rows(const json_t *next_runs)
{
	json_t *rows = json_array(), *s, *first;
	size_t i;

	json_array_foreach(next_runs, i, s)
	{
		first = json_array_get(json_object_get(s, "runs"), 0);
		json_array_append_new(rows,
		    json_pack("{s:O,s:O,s:o,s:O?,s:O?}", "schedule",
			json_object_get(s, "schedule"), "kind",
			json_object_get(s, "kind"), "zone", zone_cell(s),
			"next",
			first != NULL ? json_object_get(first, "at") : NULL,
			"note",
			first != NULL ? json_object_get(first, "note")
				      : json_object_get(s, "note")));
	}
	return rows;
}

/* "targets     web-1, web-2" */
static void
print_list(const char *name, const json_t *list)
{
	json_t *wrap;
	char buf[512];
	size_t i;
	json_t *item;

	printf("%-12s", name);
	json_array_foreach(list, i, item)
	{
		wrap = json_pack("{s:O}", "v", item);
		printf("%s%s", i > 0 ? ", " : " ",
		    output_field(wrap, "v", buf, sizeof(buf)));
		json_decref(wrap);
	}
	printf("%s\n", json_array_size(list) == 0 ? " -" : "");
}

/* A last outcome on a target the job is no longer aimed at says so:
 * the history keeps it, the job no longer goes there. */
static void
mark_unaimed(json_t *outcomes, const json_t *targets)
{
	size_t i, k;
	json_t *r, *t;

	json_array_foreach(outcomes, i, r)
	{
		const char *name =
		    json_string_value(json_object_get(r, "target"));
		int aimed = 0;
		char shown[300];

		json_array_foreach(targets, k, t)
		{
			if (name != NULL && json_is_string(t) &&
			    strcmp(name, json_string_value(t)) == 0)
				aimed = 1;
		}
		if (aimed || name == NULL)
			continue;
		snprintf(shown, sizeof(shown), "%s (not aimed now)", name);
		json_object_set_new(r, "target", json_string(shown));
	}
}

/* A job for people: what it is, whom it notifies, where it goes, its
 * schedules with their next runs, and its last outcome on each target
 * (SQL Server Agent's job-server table). */
static void
print_job(json_t *job)
{
	static const struct output_col sched_cols[] = {
	    {"SCHEDULE", "schedule", 24},
	    {"KIND", "kind", 0},
	    {"ZONE", "zone", 0},
	    {"NEXT RUN", "next", 0},
	    {"NOTE", "note", 60},
	};
	static const struct output_col last_cols[] = {
	    {"TARGET", "target", 0},
	    {"LAST OUTCOME", "outcome", 0},
	    {"STARTED", "started_at", 0},
	    {"MS", "duration_ms", 0},
	    {"RUN", "run_id", 0},
	    {"MESSAGE", "message", 50},
	};
	const json_t *notify =
	    json_object_get(json_object_get(job, "document"), "notify");
	json_t *rows = schedule_rows(json_object_get(job, "next_runs"));
	char a[256], b[256], c[64];

	printf("job %s (%s)\n", output_field(job, "name", a, sizeof(a)),
	    json_is_true(json_object_get(job, "enabled")) ? "enabled"
							  : "disabled");
	output_field(job, "description", a, sizeof(a));
	if (a[0] != '\0' && strcmp(a, "-") != 0)
		printf("  description: %s\n", a);
	printf("  steps: %s, schedules: %s, updated: %s\n",
	    output_field(job, "steps", a, sizeof(a)),
	    output_field(job, "schedules", b, sizeof(b)),
	    output_field(job, "updated_at", c, sizeof(c)));
	printf("  notify: on %s, operator %s\n",
	    output_field(notify, "on", a, sizeof(a)),
	    json_is_string(json_object_get(notify, "operator"))
		? output_field(notify, "operator", b, sizeof(b))
		: "(the default)");
	print_list("  targets:", json_object_get(job, "targets"));
	if (json_array_size(json_object_get(
		json_object_get(job, "document"), "groups")) > 0)
		print_list("  groups:",
		    json_object_get(
			json_object_get(job, "document"), "groups"));
	if (json_array_size(rows) > 0) {
		printf("\n");
		output_table(stdout, sched_cols,
		    sizeof(sched_cols) / sizeof(sched_cols[0]), rows);
	}
	json_decref(rows);
	printf("\n");
	mark_unaimed(json_object_get(job, "last_outcomes"),
	    json_object_get(job, "targets"));
	output_table(stdout, last_cols,
	    sizeof(last_cols) / sizeof(last_cols[0]),
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

	if (ctl_parse(argc, argv, opts, pos, 1, 1, &npos, &err) < 0 ||
	    ctl_client(ctl, &c, &err) < 0)
		return ctl_fail(&err);
	job_path(pos[0], "", path, sizeof(path));
	if (client_call(c, "GET", path, NULL, &out, &err) < 0)
		return ctl_fail(&err);
	if (json)
		output_json(stdout, out);
	else
		print_job(out);
	json_decref(out);
	return 0;
}

/* One row per previewed run; a schedule without runs gets one row that
 * says why. */
static json_t *
next_rows(const json_t *schedules)
{
	json_t *rows = json_array(), *s, *run;
	size_t i, k;

	json_array_foreach(schedules, i, s)
	{
		const json_t *runs = json_object_get(s, "runs");

		if (json_array_size(runs) == 0)
			json_array_append_new(rows,
			    json_pack("{s:O,s:o,s:O?}", "schedule",
				json_object_get(s, "schedule"), "zone",
				zone_cell(s), "note",
				json_object_get(s, "note")));
		json_array_foreach(runs, k, run) json_array_append_new(rows,
		    json_pack("{s:O,s:o,s:O,s:O,s:O?}", "schedule",
			json_object_get(s, "schedule"), "zone", zone_cell(s),
			"at", json_object_get(run, "at"), "utc",
			json_object_get(run, "utc"), "note",
			json_object_get(run, "note")));
	}
	return rows;
}

int
cmd_job_next(struct ctl *ctl, int argc, char **argv)
{
	static const struct output_col cols[] = {
	    {"SCHEDULE", "schedule", 24},
	    {"ZONE", "zone", 0},
	    {"AT", "at", 0},
	    {"UTC", "utc", 0},
	    {"NOTE", "note", 70},
	};
	const char *count = NULL, *pos[1];
	int json = 0, npos;
	const struct ctl_opt opts[] = {
	    CTL_VALUE("--count", &count), CTL_FLAG("--json", &json), CTL_END};
	char path[JOB_NAME_MAX * 3 + 64];
	struct client *c;
	json_t *out = NULL, *rows;
	long long n = 5;
	struct cerr err;

	if (ctl_parse(argc, argv, opts, pos, 1, 1, &npos, &err) < 0 ||
	    (count != NULL &&
		ctl_int(count, "--count", 1, 1000, &n, &err) < 0) ||
	    ctl_client(ctl, &c, &err) < 0)
		return ctl_fail(&err);
	job_path(pos[0], "/next", path, sizeof(path));
	snprintf(
	    path + strlen(path), sizeof(path) - strlen(path), "?count=%lld", n);
	if (client_call(c, "GET", path, NULL, &out, &err) < 0)
		return ctl_fail(&err);
	if (json) {
		output_json(stdout, out);
	} else if (json_array_size(json_object_get(out, "schedules")) == 0) {
		/* an empty table would say nothing at all */
		printf("job %s has no schedules: it runs only when started "
		       "(cohortctl job start %s)\n",
		    pos[0], pos[0]);
	} else {
		rows = next_rows(json_object_get(out, "schedules"));
		output_table(
		    stdout, cols, sizeof(cols) / sizeof(cols[0]), rows);
		json_decref(rows);
	}
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

/* One target a start was not posted to, and why, on stderr. */
static void
print_refusal(const char *job, const json_t *r)
{
	const char *target = json_string_value(json_object_get(r, "target"));
	long long id =
	    (long long)json_integer_value(json_object_get(r, "instruction"));

	if (json_object_get(r, "since") != NULL)
		fprintf(stderr,
		    "cohortctl: not started on %s: job '%s' is running there "
		    "(since %s) and its overlap policy refuses a second run\n",
		    target, job,
		    json_string_value(json_object_get(r, "since")));
	else if (json_is_true(json_object_get(r, "cleared")))
		fprintf(stderr,
		    "cohortctl: not started on %s: the latest definition of "
		    "job '%s' failed there (instruction %lld: %s), so it has "
		    "an older definition or none; apply the job again, or "
		    "resync the target\n",
		    target, job, id,
		    json_string_value(json_object_get(r, "error")));
	else
		fprintf(stderr,
		    "cohortctl: not started on %s: the latest definition of "
		    "job '%s' failed there (instruction %lld: %s) and blocks "
		    "it; clear it (cohortctl downloadlist clear %lld) or "
		    "resync the target\n",
		    target, job, id,
		    json_string_value(json_object_get(r, "error")), id);
}

/* Targets a start was not posted to (the job runs there and its policy
 * refuses a second run, or its latest definition failed there): named
 * on stderr, exit status 1 (the start did not do all it was asked). */
static int
print_refused(const char *job, const json_t *out)
{
	const json_t *refused = json_object_get(out, "refused");
	size_t i;
	json_t *r;

	json_array_foreach(refused, i, r) print_refusal(job, r);
	return json_array_size(refused) > 0 ? 1 : 0;
}

static int
run_op(struct ctl *ctl, int argc, char **argv, const char *op)
{
	const char *target = NULL, *pos[1];
	const struct ctl_opt opts[] = {CTL_VALUE("--target", &target), CTL_END};
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
	rc = print_refused(pos[0], out);
	json_decref(out);
	return rc;
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
