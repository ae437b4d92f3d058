/*
 * jobrun: one execution of a job (see jobrun.h). The flow rules decide
 * what comes next (jobflow.c); this file turns each decision into a
 * runner_spec, turns each runner result into a step row, and moves on.
 *
 * Every move goes through one timer: a retry wait, the next step (after
 * zero seconds), the end of the run. So the done callback always runs
 * from jobrun's own event, never from inside jobrun_start(), the runner's
 * callback or jobrun_cancel(), and a cancel only has to stop the child or
 * re-arm the timer.
 *
 * What a step prints may contain the values of its secret environment
 * entries; they are replaced (scrub.h) before the output goes into the
 * report or the output file, and messages never quote the environment.
 */
#include "target/jobrun.h"
#include "target/jobrun_int.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/runner.h"
#include "target/jobflow.h"
#include "target/scrub.h"

static int64_t
clock_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Appends "; text" (or text when msg is empty), cut to fit. */
static void msg_append(char *msg, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
msg_append(char *msg, size_t size, const char *fmt, ...)
{
	size_t len = strlen(msg);
	va_list ap;

	if (len > 0 && len + 2 < size) {
		memcpy(msg + len, "; ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(msg + len, size - len, fmt, ap);
	va_end(ap);
}

static void
jobrun_arm(struct jobrun *jr, int64_t delay_s)
{
	struct timeval tv = {(time_t)(delay_s > 0 ? delay_s : 0), 0};

	evtimer_del(jr->timer);
	evtimer_add(jr->timer, &tv);
}

static void
jobrun_finish(struct jobrun *jr)
{
	struct run_report *r = jr->report;
	char msg[RUNREC_MESSAGE_MAX + 1];

	if (jr->canceling) {
		r->outcome = OUTCOME_CANCELED;
		snprintf(msg, sizeof(msg), "canceled: %s", jr->cancel_why);
	} else {
		r->outcome = jr->next.kind == FLOW_DONE_SUCCESS
		    ? OUTCOME_SUCCEEDED
		    : OUTCOME_FAILED;
		snprintf(msg, sizeof(msg), "%s", jr->next.reason);
		if (jr->last_failed && jr->last_message[0] != '\0')
			snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
			    ": %s", jr->last_message);
	}
	/* out of memory keeps the old message; nothing better to do */
	run_report_set_message(r, msg, NULL);
	if (r->over_budget > 0) {
		snprintf(msg, sizeof(msg),
		    "the outputs of %zu step row%s not kept (over %d MiB in "
		    "all; the newest kept)",
		    r->over_budget, r->over_budget == 1 ? "" : "s",
		    RUNREC_REPORT_OUTPUT_MAX / (1024 * 1024));
		run_report_add_note(r, msg, NULL);
	}
	r->duration_ms = clock_ms(CLOCK_MONOTONIC) - jr->started_mono_ms;
	if (r->duration_ms < 0) /* canceled before its instant */
		r->duration_ms = 0;
	jr->finished = 1;
	jr->report = NULL;
	jr->cb(jr->arg, jr, r);
}

/* "output_file" must name an absolute path without ".." components (the
 * job document is checked for this too; a target does not rely on it). */
static int
output_path_ok(const char *path)
{
	const char *p = path;

	if (path[0] != '/')
		return 0;
	while ((p = strstr(p, "..")) != NULL) {
		if (p[-1] == '/' && (p[2] == '/' || p[2] == '\0'))
			return 0;
		p += 2;
	}
	return 1;
}

static int
write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Appends a header line and the (scrubbed) output of the attempt. A
 * failure is a note in the step's message, never a change of outcome. */
static void
output_append(struct jobrun *jr, const struct job_step *s, const char *data,
    size_t len, const struct runner_result *res, struct attempt_end *a)
{
	char head[512], when[32], why[128] = "";
	time_t t = (time_t)(a->started_ms / 1000);
	struct tm tm;
	int fd = res->output_fd; /* opened by the runner, as the step's user */

	if (!output_path_ok(s->output_file)) {
		snprintf(
		    why, sizeof(why), "must be an absolute path without '..'");
		goto out;
	}
	if (fd < 0) {
		snprintf(why, sizeof(why), "%s",
		    res->output_error[0] ? res->output_error : "not opened");
		goto out;
	}
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(head, sizeof(head),
	    "--- job %s run %lld step %d attempt %d at %s ---\n", jr->job->name,
	    (long long)jr->target_run_id, jr->step, jr->attempt, when);
	if (write_all(fd, head, strlen(head)) < 0 ||
	    write_all(fd, data, len) < 0 ||
	    (len > 0 && data[len - 1] != '\n' && write_all(fd, "\n", 1) < 0))
		snprintf(why, sizeof(why), "%s", strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (why[0] != '\0')
		msg_append(a->message, sizeof(a->message),
		    "output_file %s not appended: %s", s->output_file, why);
}

/* Scrubs the output, appends it to the output file, and keeps it as
 * clean text for the step row. */
static void
attempt_output(struct jobrun *jr, const struct job_step *s,
    const struct runner_result *res, struct attempt_end *a)
{
	size_t len = res->output_len;
	char *data = malloc(len + 1);

	if (data != NULL) {
		memcpy(data, res->output, len);
		data[len] = '\0';
	}
	if (data == NULL ||
	    scrub_secrets(jr->job, &data, &len, res->output_dropped > 0) < 0) {
		/* never keep output whose secrets could not be hidden */
		free(data);
		data = NULL;
		len = 0;
		msg_append(a->message, sizeof(a->message),
		    "output withheld: out of memory");
	}
	if (s->output_file != NULL)
		output_append(jr, s, data ? data : "", len, res, a);
	a->output = runrec_clean_text(data ? data : "", len, RUNREC_OUTPUT_MAX);
	free(data);
}

static void
attempt_record(struct jobrun *jr, struct attempt_end *a)
{
	const struct job_step *s = &jr->job->steps[jr->step - 1];
	struct run_step_rec row;
	struct cerr err;

	if (!jr->canceling)
		jobflow_step_done(&jr->flow, a->succeeded, &jr->next);
	memset(&row, 0, sizeof(row));
	row.step = jr->step;
	row.attempt = jr->attempt;
	row.step_name = s->name;
	if (a->canceled)
		row.outcome = OUTCOME_CANCELED;
	else if (a->succeeded)
		row.outcome = OUTCOME_SUCCEEDED;
	else if (!jr->canceling && jr->next.kind == FLOW_RETRY)
		row.outcome = OUTCOME_RETRYING;
	else
		row.outcome = OUTCOME_FAILED;
	row.exit_code = a->exit_code;
	row.started_ms = a->started_ms;
	row.duration_ms = a->duration_ms;
	row.message = a->message;
	row.output = a->output != NULL ? a->output : "";
	row.timed_out = a->timed_out;
	jr->report->exit_code = a->exit_code;
	jr->last_failed = !a->succeeded;
	snprintf(jr->last_message, sizeof(jr->last_message), "%s", a->message);
	if (jr->on_step_end != NULL)
		jr->on_step_end(jr->arg, jr->target_run_id, &row);
	if (run_report_add_step(jr->report, &row, &err) < 0) {
		memset(&jr->next, 0, sizeof(jr->next));
		jr->next.kind = FLOW_DONE_FAILURE;
		snprintf(
		    jr->next.reason, sizeof(jr->next.reason), "%s", err.msg);
		jr->last_failed = 0;
	}
	free(a->output);
	a->output = NULL;
	jobrun_arm(jr,
	    !jr->canceling && jr->next.kind == FLOW_RETRY ? jr->next.delay_s
							  : 0);
}

/* An attempt that could not start (no such proxy, fork failed). */
static void
attempt_failed(struct jobrun *jr, const char *msg)
{
	struct attempt_end a;

	memset(&a, 0, sizeof(a));
	a.exit_code = -1;
	a.started_ms = jr->attempt_started_ms;
	snprintf(a.message, sizeof(a.message), "%s", msg);
	attempt_record(jr, &a);
}

static void
attempt_message(struct jobrun *jr, const struct job_step *s,
    const struct runner_result *res, char *msg, size_t size)
{
	msg[0] = '\0';
	if (!res->spawned)
		snprintf(msg, size, "%s", res->error);
	else if (res->canceled)
		snprintf(msg, size, "canceled: %s", jr->cancel_why);
	else if (res->timed_out)
		snprintf(msg, size,
		    "timed out after %lld s; process group killed",
		    (long long)s->timeout_s);
	else if (res->exited && res->exit_code != 0)
		snprintf(msg, size, "exit code %d", res->exit_code);
	else if (!res->exited)
		snprintf(msg, size, "killed by signal %d", res->term_signal);
	if (res->output_dropped > 0)
		msg_append(msg, size, "output truncated: %zu bytes dropped",
		    res->output_dropped);
}

static void
attempt_done(void *arg, const struct runner_result *res)
{
	struct jobrun *jr = arg;
	const struct job_step *s = &jr->job->steps[jr->step - 1];
	struct attempt_end a;

	jr->child_live = 0;
	memset(&a, 0, sizeof(a));
	a.started_ms = res->started_ms;
	a.duration_ms = res->duration_ms;
	a.canceled = res->canceled;
	a.timed_out = res->timed_out;
	a.exit_code = res->spawned && res->exited ? res->exit_code : -1;
	a.succeeded = res->spawned && res->exited && res->exit_code == 0 &&
	    !res->timed_out && !res->canceled;
	attempt_message(jr, s, res, a.message, sizeof(a.message));
	attempt_output(jr, s, res, &a);
	attempt_record(jr, &a);
}

static void
attempt_spec(struct jobrun *jr, const struct job_step *s,
    const struct run_as *ra, char **env, struct runner_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->argv = (const char *const *)s->argv;
	spec->envp = (const char *const *)env;
	spec->cwd = s->cwd != NULL ? s->cwd : jr->default_cwd;
	if (s->timeout_s > 0)
		spec->timeout_ms = s->timeout_s < INT64_MAX / 1000
		    ? s->timeout_s * 1000
		    : INT64_MAX;
	spec->max_output_bytes = s->max_output_bytes >= 0
	    ? (size_t)s->max_output_bytes
	    : jr->default_max_output_bytes;
	if (spec->max_output_bytes > RUNREC_OUTPUT_MAX)
		spec->max_output_bytes = RUNREC_OUTPUT_MAX;
	spec->set_user = ra->set_user;
	spec->uid = ra->uid;
	spec->gid = ra->gid;
	spec->user = ra->user;
	if (s->output_file != NULL && output_path_ok(s->output_file))
		spec->output_file = s->output_file;
}

static int
attempt_spawned(void *arg, pid_t pid, struct cerr *err)
{
	struct jobrun *jr = arg;
	struct jobrun_attempt at = {jr->target_run_id, jr->step, jr->attempt,
	    jr->job->steps[jr->step - 1].name, jr->attempt_started_ms};

	return jr->on_step_spawn(jr->arg, &at, pid, err);
}

static void
attempt_start(struct jobrun *jr)
{
	const char *sh_argv[] = {"/bin/sh", "-c", NULL, NULL};
	char msg[RUNREC_MESSAGE_MAX + 1] = "";
	const struct job_step *s;
	struct runner_spec spec;
	struct run_as ra;
	struct cerr err;
	char **env = NULL;

	jr->step = jr->next.step;
	jr->attempt = jr->next.attempt;
	s = &jr->job->steps[jr->step - 1];
	jr->attempt_started_ms = clock_ms(CLOCK_REALTIME);
	if (jr->not_before_ms > jr->attempt_started_ms)
		jr->attempt_started_ms = jr->not_before_ms;
	if (s->proxy == NULL)
		jobrun_run_as_self(jr, &ra);
	else if (jobrun_run_as_proxy(jr, s->proxy, &ra, msg, sizeof(msg)) < 0)
		goto fail;
	env = jobrun_env_build(jr, s, &ra);
	if (env == NULL) {
		snprintf(msg, sizeof(msg), "out of memory");
		goto fail;
	}
	attempt_spec(jr, s, &ra, env, &spec);
	if (s->subsystem == STEP_SHELL) {
		sh_argv[2] = s->command != NULL ? s->command : "";
		spec.argv = sh_argv;
	}
	if (jr->on_step_spawn != NULL) {
		spec.on_spawn = attempt_spawned;
		spec.on_spawn_arg = jr;
	}
	spec.not_before_ms = jr->not_before_ms;
	jr->not_before_ms = 0;
	if (runner_start(
		jr->runner, &spec, attempt_done, jr, &jr->child_id, &err) < 0) {
		snprintf(msg, sizeof(msg), "%s", err.msg);
		goto fail;
	}
	jr->child_live = 1;
	jobrun_env_free(env);
	return;
fail:
	jobrun_env_free(env);
	attempt_failed(jr, msg);
}

static void
jobrun_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct jobrun *jr = arg;

	if (jr->canceling || jr->next.kind == FLOW_DONE_SUCCESS ||
	    jr->next.kind == FLOW_DONE_FAILURE)
		jobrun_finish(jr);
	else
		attempt_start(jr);
}

static int32_t
tz_offset_s(int64_t wall_ms)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return 0;
	return (int32_t)tm.tm_gmtoff;
}

struct jobrun *
jobrun_start(struct event_base *base, struct runner *runner, struct job *job,
    const struct jobrun_params *params, jobrun_done_cb cb, void *arg,
    struct cerr *err)
{
	struct jobrun *jr = calloc(1, sizeof(*jr));
	int64_t now = clock_ms(CLOCK_REALTIME), early;

	if (jr == NULL) {
		if (params->job_free != NULL)
			params->job_free(job);
		cerr_set(err, CERR_INTERNAL, "jobrun: out of memory");
		return NULL;
	}
	jr->runner = runner;
	jr->job = job;
	jr->job_free = params->job_free;
	jr->target_run_id = params->target_run_id;
	jr->default_max_output_bytes = params->default_max_output_bytes;
	jr->conf = params->conf;
	jr->cb = cb;
	jr->arg = arg;
	jr->on_step_spawn = params->on_step_spawn;
	jr->on_step_end = params->on_step_end;
	/* Made ready ahead of its instant: it starts then. */
	early = runner_wait_ms(params->not_before_ms, now);
	jr->not_before_ms = early > 0 ? now + early : 0;
	now += early;
	jr->started_ms = now;
	jr->started_mono_ms = clock_ms(CLOCK_MONOTONIC) + early;
	jr->target_name =
	    strdup(params->target_name ? params->target_name : "");
	jr->default_cwd =
	    strdup(params->default_cwd ? params->default_cwd : "/");
	jr->timer = evtimer_new(base, jobrun_timer_cb, jr);
	jr->report = run_report_new(params->target_run_id, job->name,
	    params->instr_id, now, tz_offset_s(now));
	if (jr->target_name == NULL || jr->default_cwd == NULL ||
	    jr->timer == NULL || jr->report == NULL) {
		cerr_set(err, CERR_INTERNAL, "jobrun: out of memory");
		jobrun_free(jr);
		return NULL;
	}
	jobflow_init(&jr->flow, job, &jr->next);
	jobrun_arm(jr, 0);
	return jr;
}

void
jobrun_cancel(struct jobrun *jr, const char *why)
{
	if (jr->finished || jr->canceling)
		return;
	jr->canceling = 1;
	snprintf(jr->cancel_why, sizeof(jr->cancel_why), "%s",
	    why != NULL && *why != '\0' ? why : "no reason given");
	if (jr->child_live)
		runner_cancel(jr->runner, jr->child_id);
	else
		jobrun_arm(jr, 0); /* ends a retry wait at once */
}

void
jobrun_free(struct jobrun *jr)
{
	if (jr == NULL)
		return;
	if (jr->child_live)
		runner_abandon(jr->runner, jr->child_id);
	if (jr->timer != NULL)
		event_free(jr->timer);
	run_report_free(jr->report);
	if (jr->job_free != NULL)
		jr->job_free(jr->job);
	free(jr->target_name);
	free(jr->default_cwd);
	free(jr);
}

const struct job *
jobrun_job(const struct jobrun *jr)
{
	return jr->job;
}

int64_t
jobrun_started_ms(const struct jobrun *jr)
{
	return jr->started_ms;
}

int64_t
jobrun_id(const struct jobrun *jr)
{
	return jr->target_run_id;
}
