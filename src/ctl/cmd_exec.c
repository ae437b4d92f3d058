/*
 * cmd_exec: scale-out executions (exec submit, list, show) and workers
 * (worker list, enable, disable).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/wire.h"
#include "ctl/ctl.h"
#include "ctl/output.h"

#define PIN_MAX 1000

/* --workers w1,w2 as a JSON array; the master checks each name. */
static json_t *
split_workers(const char *text, struct cerr *err)
{
	json_t *list = json_array();
	const char *p = text;

	while (list != NULL) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len == 0 || json_array_size(list) == PIN_MAX) {
			json_decref(list);
			cerr_set(err, CERR_INVALID,
			    "--workers: a comma-separated list of 1 to %d "
			    "names, none empty",
			    PIN_MAX);
			return NULL;
		}
		json_array_append_new(list, json_stringn(p, len));
		if (comma == NULL)
			return list;
		p = comma + 1;
	}
	cerr_set(err, CERR_INTERNAL, "out of memory");
	return NULL;
}

int
cmd_exec_submit(struct ctl *ctl, int argc, char **argv)
{
	const char *group = NULL, *workers = NULL, *retries = NULL, *pos[1];
	const struct ctl_opt opts[] = {CTL_VALUE("--group", &group),
	    CTL_VALUE("--workers", &workers), CTL_VALUE("--retries", &retries),
	    CTL_END};
	json_t *body = NULL, *out = NULL, *pins = NULL;
	long long n = 0;
	struct client *c;
	struct cerr err;
	int npos, rc = 1;

	if (ctl_parse(argc, argv, opts, pos, 1, 1, &npos, &err) < 0 ||
	    (retries != NULL &&
		ctl_int(retries, "--retries", 0, 100, &n, &err) < 0))
		return ctl_fail(&err);
	if (group != NULL && workers != NULL) {
		cerr_set(&err, CERR_INVALID,
		    "--group and --workers: name one or the other");
		return ctl_fail(&err);
	}
	if (workers != NULL && (pins = split_workers(workers, &err)) == NULL)
		return ctl_fail(&err);
	body = json_pack("{s:s,s:I}", "job", pos[0], "retries", (json_int_t)n);
	if (group != NULL)
		json_object_set_new(body, "group", json_string(group));
	if (pins != NULL)
		json_object_set(body, "workers", pins);
	if (ctl_client(ctl, &c, &err) < 0 ||
	    client_call(c, "POST", "/v1/executions", body, &out, &err) < 0) {
		rc = ctl_fail(&err);
		goto out;
	}
	printf("execution %lld of %s queued\n",
	    (long long)json_integer_value(json_object_get(out, "id")), pos[0]);
	rc = 0;
out:
	json_decref(pins);
	json_decref(body);
	json_decref(out);
	return rc;
}

static const struct output_col exec_cols[] = {
    {"ID", "id", 0},
    {"JOB", "job", 0},
    {"STATUS", "status", 0},
    {"WORKER", "worker", 0},
    {"ATTEMPT", "attempt", 0},
    {"SUBMITTED", "submitted_at", 0},
    {"FINISHED", "finished_at", 0},
    {"REASON", "reason", 60},
};

/* Checked here, so a mistake is named by its option (the master would
 * name its query parameter). */
static int
status_check(const char *status, struct cerr *err)
{
	enum exec_status st;

	if (status == NULL || strcmp(status, "open") == 0 ||
	    exec_status_parse(status, &st) == 0)
		return 0;
	return cerr_set(err, CERR_INVALID,
	    "--status: '%.40s' is not one of open, queued, assigned, running, "
	    "succeeded, failed",
	    status);
}

int
cmd_exec_list(struct ctl *ctl, int argc, char **argv)
{
	const char *status = NULL, *limit = NULL;
	int json = 0;
	const struct ctl_opt opts[] = {CTL_VALUE("--status", &status),
	    CTL_VALUE("--limit", &limit), CTL_FLAG("--json", &json), CTL_END};
	char path[256], st[80];
	long long n = 100;
	struct cerr err;
	int npos;

	if (ctl_parse(argc, argv, opts, NULL, 0, 0, &npos, &err) < 0 ||
	    (limit != NULL &&
		ctl_int(limit, "--limit", 1, 10000, &n, &err) < 0) ||
	    status_check(status, &err) < 0)
		return ctl_fail(&err);
	snprintf(path, sizeof(path), "/v1/executions?limit=%lld", n);
	if (status != NULL) {
		client_escape(status, st, sizeof(st));
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
		    "&status=%s", st);
	}
	return ctl_get_and_print(ctl, path, json, exec_cols,
	    sizeof(exec_cols) / sizeof(exec_cols[0]));
}

int
cmd_exec_show(struct ctl *ctl, int argc, char **argv)
{
	int json = 0;
	const struct ctl_opt opts[] = {CTL_FLAG("--json", &json), CTL_END};
	const char *pos[1];
	char path[64];
	long long id;
	struct client *c;
	json_t *out = NULL;
	struct cerr err;
	int npos;

	if (ctl_parse(argc, argv, opts, pos, 1, 1, &npos, &err) < 0 ||
	    ctl_int(pos[0], "ID", 1, INT64_MAX, &id, &err) < 0)
		return ctl_fail(&err);
	snprintf(path, sizeof(path), "/v1/executions/%lld", id);
	if (ctl_client(ctl, &c, &err) < 0 ||
	    client_call(c, "GET", path, NULL, &out, &err) < 0)
		return ctl_fail(&err);
	if (json) {
		output_json(stdout, out);
	} else {
		static const char *const fields[] = {"id", "job", "status",
		    "worker", "attempt", "retries", "group", "workers",
		    "submitted_by", "submitted_at", "assigned_at", "started_at",
		    "finished_at", "reason", NULL};
		char buf[1200];

		for (int i = 0; fields[i] != NULL; i++)
			printf("%-13s %s\n", fields[i],
			    output_field(out, fields[i], buf, sizeof(buf)));
	}
	json_decref(out);
	return 0;
}

int
cmd_worker_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct output_col cols[] = {
	    {"NAME", "name", 0},
	    {"ENABLED", "enabled", 0},
	    {"ONLINE", "online", 0},
	    {"TASKS", "active", 0},
	    {"MAX", "max_tasks", 0},
	    {"STATUS", "status", 0},
	    {"LAST POLL", "last_poll", 0},
	};
	int json = 0;
	const struct ctl_opt opts[] = {CTL_FLAG("--json", &json), CTL_END};
	struct cerr err;
	int npos;

	if (ctl_parse(argc, argv, opts, NULL, 0, 0, &npos, &err) < 0)
		return ctl_fail(&err);
	return ctl_get_and_print(
	    ctl, "/v1/workers", json, cols, sizeof(cols) / sizeof(cols[0]));
}

static int
worker_set(struct ctl *ctl, int argc, char **argv, const char *verb)
{
	const struct ctl_opt opts[] = {CTL_END};
	const char *pos[1];
	char path[600], name[400];
	struct client *c;
	struct cerr err;
	int npos;

	if (ctl_parse(argc, argv, opts, pos, 1, 1, &npos, &err) < 0 ||
	    ctl_client(ctl, &c, &err) < 0)
		return ctl_fail(&err);
	client_escape(pos[0], name, sizeof(name));
	snprintf(path, sizeof(path), "/v1/workers/%s/%s", name, verb);
	if (client_call(c, "POST", path, NULL, NULL, &err) < 0)
		return ctl_fail(&err);
	printf("worker %s %sd\n", pos[0], verb);
	return 0;
}

int
cmd_worker_enable(struct ctl *ctl, int argc, char **argv)
{
	return worker_set(ctl, argc, argv, "enable");
}

int
cmd_worker_disable(struct ctl *ctl, int argc, char **argv)
{
	return worker_set(ctl, argc, argv, "disable");
}
