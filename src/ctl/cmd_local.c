/*
 * cmd_local: the target's local control socket: local jobs (apply, list,
 * show, delete, start, stop) and the local run history. The socket is
 * found from the target's configuration, STATE_DIR/cohortd.conf (key
 * socket); the daemon must be running. Only root and the daemon's user
 * may use it.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "common/jobdoc.h"
#include "common/paths.h"
#include "common/sockpath.h"
#include "ctl/ctl.h"
#include "ctl/output.h"
#include "ctl/statedir.h"

/* A socket path too deep for sun_path is reached through its folder's
 * descriptor, which stays open for the rest of this short-lived
 * command. */
int
local_client_conf(const struct conf *conf, struct client *c, struct cerr *err)
{
	char sock[CONF_STR_MAX + 32];
	struct sockpath sp;

	memset(c, 0, sizeof(*c));
	if (conf_state_path(conf, conf->socket, sock, sizeof(sock), err) < 0 ||
	    sockpath_open(sock, &sp, err) < 0)
		return -1;
	snprintf(c->url, sizeof(c->url), "http://localhost");
	snprintf(c->unix_socket, sizeof(c->unix_socket), "%s", sp.path);
	return 0;
}

/* A client for the control socket of the target in dir. */
static int
local_client(const char *dir, struct client *c, struct cerr *err)
{
	static struct conf conf;
	char path[PATH_MAX], report[4096];

	if (dir == NULL || dir[0] == '\0')
		return cerr_set(err, CERR_INVALID,
		    "--state-dir is required (the target's state directory)");
	if (statedir_path(dir, PATH_CONF, path, sizeof(path), err) < 0 ||
	    conf_load(&conf, path, NULL, 0, report, sizeof(report), err) < 0)
		return -1;
	if (conf.role != ROLE_TARGET)
		return cerr_set(err, CERR_INVALID,
		    "%s is not a target's "
		    "configuration",
		    path);
	return local_client_conf(&conf, c, err);
}

static void
job_path(const char *name, const char *suffix, char *out, size_t size)
{
	char esc[JOB_NAME_MAX * 3 + 1];

	client_escape(name, esc, sizeof(esc));
	snprintf(out, size, "/v1/local/jobs/%s%s", esc, suffix);
}

/* Parses "NAME --state-dir T" and calls method on the job's path +
 * suffix; *out gets the reply. */
static int
job_call(int argc, char **argv, const char *method, const char *suffix,
    const char **name, json_t **out, struct cerr *err)
{
	const char *dir = NULL, *pos[1];
	int json = 0; /* "show" prints JSON anyway: taken like elsewhere */
	const struct ctl_opt opts[] = {
	    CTL_VALUE("--state-dir", &dir), CTL_FLAG("--json", &json), CTL_END};
	char path[JOB_NAME_MAX * 3 + 64];
	struct client c;
	int npos;

	if (ctl_parse(argc, argv, opts, pos, 1, 1, &npos, err) < 0 ||
	    local_client(dir, &c, err) < 0)
		return -1;
	*name = pos[0];
	job_path(pos[0], suffix, path, sizeof(path));
	return client_call(&c, method, path, NULL, out, err);
}

int
cmd_local_job_apply(struct ctl *ctl, int argc, char **argv)
{
	const char *dir = NULL, *pos[1], *name;
	const struct ctl_opt opts[] = {CTL_VALUE("--state-dir", &dir), CTL_END};
	char path[JOB_NAME_MAX * 3 + 64];
	json_t *doc = NULL, *out = NULL;
	struct job *job = NULL;
	struct client c;
	struct cerr err;
	int npos, rc = -1;

	if (ctl_parse(argc, argv, opts, pos, 1, 1, &npos, &err) < 0 ||
	    local_client(dir, &c, &err) < 0)
		return ctl_fail(&err);
	doc = ctl_json_file(pos[0], &err);
	if (doc == NULL)
		return ctl_fail(&err);
	if (jobdoc_from_json(doc, &job, &err) < 0) {
		cerr_wrap(&err, "%s", pos[0]);
		goto out;
	}
	name = job->name;
	job_path(name, "", path, sizeof(path));
	if (client_call(&c, "PUT", path, doc, &out, &err) < 0)
		goto out;
	printf("local job %s %s\n", name,
	    json_is_true(json_object_get(out, "created")) ? "created"
							  : "updated");
	rc = 0;
out:
	job_free(job);
	json_decref(doc);
	json_decref(out);
	return rc == 0 ? 0 : ctl_fail(&err);
}

int
cmd_local_job_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct output_col cols[] = {
	    {"NAME", "name", 0},
	    {"ENABLED", "enabled", 0},
	    {"STEPS", "steps", 0},
	    {"SCHEDULES", "schedules", 0},
	    {"NEXT RUN", "next_run", 0},
	    {"CATEGORY", "category", 20},
	};
	const char *dir = NULL;
	int json = 0, npos;
	const struct ctl_opt opts[] = {
	    CTL_VALUE("--state-dir", &dir), CTL_FLAG("--json", &json), CTL_END};
	json_t *out = NULL;
	struct client c;
	struct cerr err;

	if (ctl_parse(argc, argv, opts, NULL, 0, 0, &npos, &err) < 0 ||
	    local_client(dir, &c, &err) < 0 ||
	    client_call(&c, "GET", "/v1/local/jobs", NULL, &out, &err) < 0)
		return ctl_fail(&err);
	if (json)
		output_json(stdout, out);
	else
		output_table(stdout, cols, sizeof(cols) / sizeof(cols[0]), out);
	json_decref(out);
	return 0;
}

int
cmd_local_job_show(struct ctl *ctl, int argc, char **argv)
{
	const char *name;
	json_t *out = NULL;
	struct cerr err;

	if (job_call(argc, argv, "GET", "", &name, &out, &err) < 0)
		return ctl_fail(&err);
	output_json(stdout, out);
	json_decref(out);
	return 0;
}

int
cmd_local_job_delete(struct ctl *ctl, int argc, char **argv)
{
	const char *name;
	json_t *out = NULL;
	struct cerr err;

	if (job_call(argc, argv, "DELETE", "", &name, &out, &err) < 0)
		return ctl_fail(&err);
	printf("local job %s deleted\n", name);
	json_decref(out);
	return 0;
}

int
cmd_local_job_start(struct ctl *ctl, int argc, char **argv)
{
	const char *name;
	json_t *out = NULL;
	struct cerr err;

	if (job_call(argc, argv, "POST", "/start", &name, &out, &err) < 0)
		return ctl_fail(&err);
	printf("local job %s: run %lld queued\n", name,
	    (long long)json_integer_value(json_object_get(out, "run_id")));
	json_decref(out);
	return 0;
}

int
cmd_local_job_stop(struct ctl *ctl, int argc, char **argv)
{
	const char *name;
	json_t *out = NULL;
	struct cerr err;

	if (job_call(argc, argv, "POST", "/stop", &name, &out, &err) < 0)
		return ctl_fail(&err);
	printf("job %s: %s\n", name,
	    json_is_true(json_object_get(out, "stopped")) ? "stopping"
							  : "not running");
	json_decref(out);
	return 0;
}

/* "?job=J&limit=N" from the options that are set. */
static int
history_query(const char *job, const char *limit, char *out, size_t size,
    struct cerr *err)
{
	char esc[JOB_NAME_MAX * 3 + 1];
	long long n;
	size_t len;

	out[0] = '\0';
	if (limit != NULL && ctl_int(limit, "--limit", 1, 10000, &n, err) < 0)
		return -1;
	if (job != NULL) {
		client_escape(job, esc, sizeof(esc));
		snprintf(out, size, "?job=%s", esc);
	}
	len = strlen(out);
	if (limit != NULL)
		snprintf(out + len, size - len, "%climit=%lld",
		    len > 0 ? '&' : '?', n);
	return 0;
}

int
cmd_local_history(struct ctl *ctl, int argc, char **argv)
{
	static const struct output_col cols[] = {
	    {"RUN", "run_id", 0},
	    {"JOB", "job", 24},
	    {"ORIGIN", "origin", 0},
	    {"STEP", "step", 0},
	    {"NAME", "step_name", 16},
	    {"TRY", "attempt", 0},
	    {"OUTCOME", "outcome", 0},
	    {"EXIT", "exit_code", 0},
	    {"STARTED", "started_at", 0},
	    {"MS", "duration_ms", 0},
	    {"MESSAGE", "message", 50},
	};
	const char *dir = NULL, *job = NULL, *limit = NULL;
	int json = 0, npos;
	const struct ctl_opt opts[] = {CTL_VALUE("--state-dir", &dir),
	    CTL_VALUE("--job", &job), CTL_VALUE("--limit", &limit),
	    CTL_FLAG("--json", &json), CTL_END};
	char query[JOB_NAME_MAX * 3 + 64], path[sizeof(query) + 32];
	json_t *out = NULL;
	struct client c;
	struct cerr err;

	if (ctl_parse(argc, argv, opts, NULL, 0, 0, &npos, &err) < 0 ||
	    local_client(dir, &c, &err) < 0 ||
	    history_query(job, limit, query, sizeof(query), &err) < 0)
		return ctl_fail(&err);
	snprintf(path, sizeof(path), "/v1/local/history%s", query);
	if (client_call(&c, "GET", path, NULL, &out, &err) < 0)
		return ctl_fail(&err);
	if (json)
		output_json(stdout, out);
	else
		output_table(stdout, cols, sizeof(cols) / sizeof(cols[0]), out);
	json_decref(out);
	return 0;
}
