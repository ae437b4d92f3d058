/*
 * Unit tests for job runs: real steps under a real event loop, checked
 * through the run report they produce. The table covers outcomes, flow
 * jumps, retries, proxies, secrets and output limits; separate tests cover
 * the environment, cancel (during a step and during a retry wait), the
 * output file, and the refusal of proxies on an unprivileged target.
 * Jobs are built by hand here (job_make/job_drop) so these tests do not
 * depend on the job document parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "common/conf.h"
#include "target/jobrun.h"
#include "common/runner.h"

#define SAFETY_S 20

#define NX                                                                     \
	{                                                                      \
		ACTION_NEXT, 0                                                 \
	}
#define QS                                                                     \
	{                                                                      \
		ACTION_QUIT_SUCCESS, 0                                         \
	}
#define QF                                                                     \
	{                                                                      \
		ACTION_QUIT_FAILURE, 0                                         \
	}
#define GO(n)                                                                  \
	{                                                                      \
		ACTION_GOTO, n                                                 \
	}

struct step_init {
	const char *name;
	const char *command; /* shell, unless argv[0] or exec is set */
	const char *argv[4];
	int exec; /* exec subsystem even with argv[0] NULL */
	struct step_action ok, fail;
	int retries, interval_s, timeout_s;
	int max_output; /* 0: the target's default */
	const char *cwd, *proxy, *output_file;
	const char *env[4]; /* "NAME=value"; "!NAME=value" is secret */
};

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	assert_non_null(p);
	return p;
}

static void
step_make(struct job_step *s, const struct step_init *in)
{
	s->name = xstrdup(in->name);
	if (in->argv[0] != NULL || in->exec) {
		s->subsystem = STEP_EXEC;
		s->argv = calloc(5, sizeof(*s->argv));
		for (; in->argv[s->argc] != NULL; s->argc++)
			s->argv[s->argc] = xstrdup(in->argv[s->argc]);
	} else {
		s->subsystem = STEP_SHELL;
		s->command = xstrdup(in->command);
	}
	s->on_success = in->ok;
	s->on_failure = in->fail;
	s->retry_attempts = in->retries;
	s->retry_interval_s = in->interval_s;
	s->timeout_s = in->timeout_s;
	s->max_output_bytes = in->max_output ? in->max_output : -1;
	s->cwd = in->cwd ? xstrdup(in->cwd) : NULL;
	s->proxy = in->proxy ? xstrdup(in->proxy) : NULL;
	s->output_file = in->output_file ? xstrdup(in->output_file) : NULL;
	s->env = calloc(4, sizeof(*s->env));
	for (; s->nenv < 4 && in->env[s->nenv] != NULL; s->nenv++) {
		const char *e = in->env[s->nenv];
		struct job_env *je = &s->env[s->nenv];

		je->secret = e[0] == '!';
		e += je->secret;
		je->name = strndup(e, strcspn(e, "="));
		je->value = xstrdup(strchr(e, '=') + 1);
	}
}

static struct job *
job_make(const char *name, const struct step_init *steps)
{
	struct job *job = calloc(1, sizeof(*job));

	assert_non_null(job);
	job->name = xstrdup(name);
	job->start_step = 1;
	job->steps = calloc(4, sizeof(*job->steps));
	while (job->nsteps < 3 && steps[job->nsteps].name != NULL) {
		step_make(&job->steps[job->nsteps], &steps[job->nsteps]);
		job->nsteps++;
	}
	return job;
}

/* The test's job_free: what jobrun calls through params.job_free. */
static void
job_drop(struct job *job)
{
	for (size_t i = 0; job != NULL && i < job->nsteps; i++) {
		struct job_step *s = &job->steps[i];

		for (size_t j = 0; j < s->argc; j++)
			free(s->argv[j]);
		for (size_t j = 0; j < s->nenv; j++) {
			free(s->env[j].name);
			free(s->env[j].value);
		}
		free(s->argv);
		free(s->env);
		free(s->name);
		free(s->command);
		free(s->cwd);
		free(s->proxy);
		free(s->output_file);
	}
	if (job != NULL) {
		free(job->steps);
		free(job->name);
	}
	free(job);
}

struct harness {
	struct event_base *base;
	struct runner *runner;
	struct event *safety, *poll;
	int expired;
	struct run_report *report;
	int done;
	struct conf conf;
	struct jobrun *jr;
	const char *marker; /* cancel once the step made it and ended */
};

static void
safety_cb(evutil_socket_t fd, short what, void *arg)
{
	struct harness *h = arg;

	h->expired = 1;
	event_base_loopbreak(h->base);
}

static void
done_cb(void *arg, struct jobrun *jr, struct run_report *report)
{
	struct harness *h = arg;

	assert_false(h->done);
	assert_ptr_equal(jr, h->jr);
	h->done = 1;
	h->report = report;
	event_base_loopbreak(h->base);
}

static int
harness_setup(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct cerr err;

	if (h == NULL)
		return -1;
	h->base = event_base_new();
	h->runner = runner_new(h->base, &err);
	h->safety = evtimer_new(h->base, safety_cb, h);
	conf_defaults(&h->conf);
	if (conf_set(&h->conf, "proxy ghost", "nosuchuser", &err) < 0 ||
	    conf_set(&h->conf, "proxy nogroup", "nobody:nosuchgroup", &err) <
		0 ||
	    conf_set(&h->conf, "proxy nob", "nobody", &err) < 0)
		return -1;
	*state = h;
	return h->runner != NULL ? 0 : -1;
}

static int
harness_teardown(void **state)
{
	struct harness *h = *state;

	jobrun_free(h->jr);
	run_report_free(h->report);
	runner_free(h->runner);
	event_free(h->safety);
	if (h->poll != NULL)
		event_free(h->poll);
	event_base_free(h->base);
	free(h);
	return 0;
}

static const struct jobrun_params base_params = {
    .target_run_id = 0, /* set per run */
    .instr_id = 5,
    .target_name = "web-1",
    .default_max_output_bytes = 4096,
    .default_cwd = "/",
    .conf = NULL, /* set per run */
    .job_free = job_drop,
};

/* Runs job to its end; the report stays in h->report. */
static void
harness_run(struct harness *h, struct job *job, int64_t run_id)
{
	struct jobrun_params params = base_params;
	struct timeval tv = {SAFETY_S, 0};
	struct cerr err;

	run_report_free(h->report);
	h->report = NULL;
	h->done = 0;
	params.target_run_id = run_id;
	params.conf = &h->conf;
	h->jr =
	    jobrun_start(h->base, h->runner, job, &params, done_cb, h, &err);
	if (h->jr == NULL)
		fail_msg("jobrun_start: %s", err.msg);
	evtimer_add(h->safety, &tv);
	while (!h->done && !h->expired)
		event_base_loop(h->base, EVLOOP_ONCE);
	evtimer_del(h->safety);
	if (h->expired)
		fail_msg("run did not end within %d s", SAFETY_S);
	assert_int_equal(jobrun_id(h->jr), run_id);
	jobrun_free(h->jr);
	h->jr = NULL;
}

/* "1.1:failed:3 1.2:succeeded:0" and "msg|msg" of the step rows. */
static void
rows_summary(const struct run_report *r, char *rows, size_t rsize, char *msgs,
    size_t msize)
{
	rows[0] = msgs[0] = '\0';
	for (size_t i = 0; i < r->nsteps; i++) {
		const struct run_step_rec *s = &r->steps[i];

		snprintf(rows + strlen(rows), rsize - strlen(rows),
		    "%s%d.%d:%s:%d", i ? " " : "", s->step, s->attempt,
		    run_outcome_name(s->outcome), s->exit_code);
		snprintf(msgs + strlen(msgs), msize - strlen(msgs), "%s%s",
		    i ? "|" : "", s->message);
	}
}

static const struct run_case {
	const char *name;
	struct step_init steps[4];
	enum run_outcome outcome;
	const char *message; /* the job row's */
	const char *rows;
	const char *row_messages;
	const char *output; /* of the last row; NULL: not checked */
} run_cases[] = {
    {"success", {{"a", "true", .ok = NX, .fail = QF}}, OUTCOME_SUCCEEDED,
	"step 1 (a) succeeded", "1.1:succeeded:0", "", ""},
    {"exit code", {{"a", "echo out; exit 3", .ok = NX, .fail = QF}},
	OUTCOME_FAILED, "step 1 (a) failed: exit code 3", "1.1:failed:3",
	"exit code 3", "out\n"},
    {"signal", {{"a", "kill -9 $$", .ok = NX, .fail = QF}}, OUTCOME_FAILED,
	"step 1 (a) failed: killed by signal 9", "1.1:failed:-1",
	"killed by signal 9", ""},
    {"exec subsystem",
	{{"a", NULL, {"/bin/echo", "hi", "there"}, .ok = NX, .fail = QF}},
	OUTCOME_SUCCEEDED, "step 1 (a) succeeded", "1.1:succeeded:0", "",
	"hi there\n"},
    {"exec failure", {{"a", NULL, {"/no/such"}, .ok = NX, .fail = QF}},
	OUTCOME_FAILED,
	"step 1 (a) failed: exec /no/such: No such file or directory",
	"1.1:failed:-1", "exec /no/such: No such file or directory", ""},
    {"empty argv", {{"a", NULL, {NULL}, .exec = 1, .ok = NX, .fail = QF}},
	OUTCOME_FAILED, "step 1 (a) failed: runner: empty command",
	"1.1:failed:-1", "runner: empty command", ""},
    {"bad cwd", {{"a", "true", .ok = NX, .fail = QF, .cwd = "/no/such"}},
	OUTCOME_FAILED,
	"step 1 (a) failed: cwd /no/such: No such file or directory",
	"1.1:failed:-1", "cwd /no/such: No such file or directory", ""},
    {"cwd", {{"a", "pwd", .ok = NX, .fail = QF, .cwd = "/tmp"}},
	OUTCOME_SUCCEEDED, "step 1 (a) succeeded", "1.1:succeeded:0", "",
	"/tmp\n"},
    {"timeout",
	{{"a", "sleep 100 & sleep 100", .ok = NX, .fail = QF, .timeout_s = 1}},
	OUTCOME_FAILED,
	"step 1 (a) failed: timed out after 1 s; process group killed",
	"1.1:failed:-1", "timed out after 1 s; process group killed", ""},
    {"retries exhausted", {{"a", "exit 1", .ok = NX, .fail = QF, .retries = 2}},
	OUTCOME_FAILED, "step 1 (a) failed: exit code 1",
	"1.1:retrying:1 1.2:retrying:1 1.3:failed:1",
	"exit code 1|exit code 1|exit code 1", ""},
    {"retry after 1 s succeeds",
	{{"a",
	    "f=/tmp/cohort-jobrun-$COHORT_RUN_ID; if [ -e $f ]; then rm $f; "
	    "echo second; else touch $f; exit 1; fi",
	    .ok = NX, .fail = QF, .retries = 3, .interval_s = 1}},
	OUTCOME_SUCCEEDED, "step 1 (a) succeeded",
	"1.1:retrying:1 1.2:succeeded:0", "exit code 1|", "second\n"},
    {"failure jumps forward",
	{{"a", "exit 1", .ok = NX, .fail = GO(3)},
	    {"b", "exit 0", .ok = NX, .fail = QF},
	    {"c", "echo c", .ok = NX, .fail = QF}},
	OUTCOME_SUCCEEDED, "step 3 (c) succeeded",
	"1.1:failed:1 3.1:succeeded:0", "exit code 1|", "c\n"},
    /* check fails, sleep, check fails, sleep, check succeeds: five
     * executions, five rows, each (step, attempt) its own */
    {"revisited step",
	{{"check",
	     "f=/tmp/cohort-jobrun-$COHORT_RUN_ID; n=$(cat $f 2>/dev/null); "
	     "n=$((n + 1)); echo $n >$f; echo check $COHORT_ATTEMPT; "
	     "[ $n -lt 3 ] || { rm $f; exit 0; }; exit 1",
	     .ok = QS, .fail = GO(2)},
	    {"sleep", "true", .ok = GO(1), .fail = QF}},
	OUTCOME_SUCCEEDED, "step 1 (check) succeeded",
	"1.1:failed:1 2.1:succeeded:0 1.2:failed:1 2.2:succeeded:0 "
	"1.3:succeeded:0",
	"exit code 1||exit code 1||", "check 3\n"},
    {"next on last step keeps its failure",
	{{"a", "exit 2", .ok = NX, .fail = NX},
	    {"b", "exit 4", .ok = NX, .fail = NX}},
	OUTCOME_FAILED, "step 2 (b) failed: exit code 4",
	"1.1:failed:2 2.1:failed:4", "exit code 2|exit code 4", ""},
    {"quit_success on failure",
	{{"a", "exit 1", .ok = NX, .fail = QS},
	    {"b", "true", .ok = NX, .fail = QF}},
	OUTCOME_SUCCEEDED,
	"step 1 (a) failed; on_failure is quit_success: exit code 1",
	"1.1:failed:1", "exit code 1", ""},
    {"goto forward, quit_failure on success",
	{{"a", "echo $COHORT_STEP", .ok = NX, .fail = QF},
	    {"b", "exit 1", .ok = QS, .fail = GO(3)},
	    {"c", "true", .ok = QF, .fail = QF}},
	OUTCOME_FAILED, "step 3 (c) succeeded; on_success is quit_failure",
	"1.1:succeeded:0 2.1:failed:1 3.1:succeeded:0", "|exit code 1|", ""},
    {"proxy not defined",
	{{"a", "true", .ok = NX, .fail = QF, .proxy = "backup"}},
	OUTCOME_FAILED,
	"step 1 (a) failed: proxy 'backup' is not defined on target web-1",
	"1.1:failed:-1", "proxy 'backup' is not defined on target web-1", ""},
    {"proxy user unknown",
	{{"a", "true", .ok = NX, .fail = QF, .proxy = "ghost"}}, OUTCOME_FAILED,
	"step 1 (a) failed: proxy 'ghost': user 'nosuchuser' does not exist "
	"on target web-1",
	"1.1:failed:-1",
	"proxy 'ghost': user 'nosuchuser' does not exist on target web-1", ""},
    {"proxy group unknown",
	{{"a", "true", .ok = NX, .fail = QF, .proxy = "nogroup"}},
	OUTCOME_FAILED,
	"step 1 (a) failed: proxy 'nogroup': group 'nosuchgroup' does not "
	"exist on target web-1",
	"1.1:failed:-1",
	"proxy 'nogroup': group 'nosuchgroup' does not exist on target web-1",
	""},
    {"secret scrubbed",
	{{"a", "echo \"token is $TOKEN\"; echo $TOKEN$TOKEN", .ok = NX,
	    .fail = QF, .env = {"!TOKEN=s3cr3t-v4lue", "PLAIN=x"}}},
	OUTCOME_SUCCEEDED, "step 1 (a) succeeded", "1.1:succeeded:0", "",
	"token is ********\n****************\n"},
    {"secret of another step, longest first",
	{{"a", "true", .ok = NX, .fail = QF,
	     .env = {"!SHORT=abc", "!LONG=abcdef"}},
	    {"b", "echo abcdef abc abcabc", .ok = NX, .fail = QF}},
	OUTCOME_SUCCEEDED, "step 2 (b) succeeded",
	"1.1:succeeded:0 2.1:succeeded:0", "|",
	"******** ******** ****************\n"},
    {"output truncated",
	{{"a", "printf 0123456789", .ok = NX, .fail = QF, .max_output = 4}},
	OUTCOME_SUCCEEDED, "step 1 (a) succeeded", "1.1:succeeded:0",
	"output truncated: 6 bytes dropped", "0123"},
    {"truncated secret tail",
	{{"a", "printf 0123$PW", .ok = NX, .fail = QF, .max_output = 7,
	    .env = {"!PW=secretvalue"}}},
	OUTCOME_SUCCEEDED, "step 1 (a) succeeded", "1.1:succeeded:0",
	"output truncated: 8 bytes dropped", "0123"},
    {"failure message and truncation",
	{{"a", "printf 0123456789; exit 5", .ok = NX, .fail = QF,
	    .max_output = 2}},
	OUTCOME_FAILED,
	"step 1 (a) failed: exit code 5; output truncated: 8 bytes dropped",
	"1.1:failed:5", "exit code 5; output truncated: 8 bytes dropped", "01"},
};

static void
check_report(const struct run_case *c, const struct run_report *r)
{
	char rows[512], msgs[1024];

	rows_summary(r, rows, sizeof(rows), msgs, sizeof(msgs));
	if (r->outcome != c->outcome)
		fail_msg("%s: outcome %s (%s)", c->name,
		    run_outcome_name(r->outcome), r->message);
	if (strcmp(r->message, c->message) != 0)
		fail_msg("%s: message '%s'", c->name, r->message);
	if (strcmp(rows, c->rows) != 0)
		fail_msg("%s: rows '%s'", c->name, rows);
	if (strcmp(msgs, c->row_messages) != 0)
		fail_msg("%s: row messages '%s'", c->name, msgs);
	if (c->output != NULL &&
	    strcmp(r->steps[r->nsteps - 1].output, c->output) != 0)
		fail_msg(
		    "%s: output '%s'", c->name, r->steps[r->nsteps - 1].output);
	if (r->exit_code != r->steps[r->nsteps - 1].exit_code ||
	    r->duration_ms < 0 || r->started_ms <= 0 || r->instr_id != 5 ||
	    strcmp(r->job, "job-x") != 0)
		fail_msg("%s: job row exit %d duration %lld", c->name,
		    r->exit_code, (long long)r->duration_ms);
	for (size_t i = 0; i < r->nsteps; i++) {
		if (strcmp(r->steps[i].step_name,
			c->steps[r->steps[i].step - 1].name) != 0)
			fail_msg("%s: row %zu step_name", c->name, i);
		/* the master keys its rows on (step, attempt) */
		for (size_t j = 0; j < i; j++)
			if (r->steps[j].step == r->steps[i].step &&
			    r->steps[j].attempt == r->steps[i].attempt)
				fail_msg("%s: rows %zu and %zu are both step "
					 "%d attempt %d",
				    c->name, j, i, r->steps[i].step,
				    r->steps[i].attempt);
	}
}

static void
test_jobrun_cases(void **state)
{
	struct harness *h = *state;

	for (size_t i = 0; i < sizeof(run_cases) / sizeof(run_cases[0]); i++) {
		harness_run(h, job_make("job-x", run_cases[i].steps),
		    (int64_t)getpid() * 100 + (int64_t)i);
		check_report(&run_cases[i], h->report);
	}
}

/* Two attempts of 40 MB of output each go over the report's 64 MiB:
 * the first attempt's output is dropped for a marker, the last is kept
 * whole, and the job row's message says so. */
static void
test_jobrun_outputs_over_budget(void **state)
{
	static const struct step_init steps[] = {
	    {"big", "head -c 40000000 /dev/zero | tr '\\0' a; exit 1", .ok = NX,
		.fail = QF, .retries = 1, .max_output = 40000000},
	    {NULL}};
	struct harness *h = *state;
	char rows[512], msgs[1024];
	struct run_report *r;

	harness_run(h, job_make("job-x", steps), (int64_t)getpid() * 100 + 99);
	r = h->report;
	rows_summary(r, rows, sizeof(rows), msgs, sizeof(msgs));
	assert_string_equal(rows, "1.1:retrying:1 1.2:failed:1");
	/* not assert_string_equal: a failure would print 40 MB */
	assert_true(strcmp(r->steps[0].output, RUNREC_OVER_BUDGET) == 0);
	assert_int_equal(strlen(r->steps[1].output), 40000000);
	assert_string_equal(r->message,
	    "step 1 (big) failed: exit code 1; the outputs of 1 step row not "
	    "kept (over 64 MiB in all; the newest kept)");
}

/* The retry waited its interval: the second attempt began a second or
 * more after the first. */
static void
test_jobrun_retry_interval(void **state)
{
	struct harness *h = *state;
	const struct run_case *c = NULL;

	for (size_t i = 0; i < sizeof(run_cases) / sizeof(run_cases[0]); i++)
		if (strcmp(run_cases[i].name, "retry after 1 s succeeds") == 0)
			c = &run_cases[i];
	assert_non_null(c);
	harness_run(
	    h, job_make("job-x", c->steps), (int64_t)getpid() * 100 + 99);
	assert_int_equal(h->report->nsteps, 2);
	assert_true(
	    h->report->steps[1].started_ms - h->report->steps[0].started_ms >=
	    950);
}

static void
test_jobrun_environment(void **state)
{
	struct harness *h = *state;
	const struct step_init steps[] = {
	    {"env-step",
		"printf '%s|' \"$PATH\" \"$HOME\" \"$LANG\" \"$COHORT_JOB\" "
		"\"$COHORT_RUN_ID\" \"$COHORT_STEP\" \"$COHORT_STEP_NAME\" "
		"\"$COHORT_ATTEMPT\" \"$COHORT_TARGET\" \"$FOO\" "
		"\"${COHORT_LEAK-unset}\" \"$LANG\"",
		.ok = NX, .fail = QF, .env = {"FOO=bar", "LANG=fr_FR.UTF-8"}},
	    {NULL}};

	struct passwd *pw = getpwuid(geteuid());
	char want[512];

	assert_non_null(pw);
	snprintf(want, sizeof(want),
	    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|"
	    "%s|fr_FR.UTF-8|job-env|77|1|env-step|1|web-1|bar|unset|"
	    "fr_FR.UTF-8|",
	    pw->pw_dir);
	setenv("COHORT_LEAK", "daemon", 1);
	harness_run(h, job_make("job-env", steps), 77);
	unsetenv("COHORT_LEAK");
	assert_string_equal(h->report->steps[0].output, want);
}

/* As root: a proxy step runs as its user, with that user's HOME. */
static void
test_jobrun_proxy_as_root(void **state)
{
	struct harness *h = *state;
	const struct step_init steps[] = {
	    {"who", "id -u; echo $HOME $USER", .ok = NX, .fail = QF,
		.proxy = "nob"},
	    {NULL}};

	if (geteuid() != 0)
		skip();
	harness_run(h, job_make("job-p", steps), 78);
	assert_int_equal(h->report->outcome, OUTCOME_SUCCEEDED);
	assert_string_equal(
	    h->report->steps[0].output, "65534\n/nonexistent nobody\n");
}

static void
cancel_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct harness *h = arg;
	size_t active = runner_active(h->runner);

	/* During a step: as soon as it runs. In a retry wait: once the step
	 * made its marker (so it was started) and is no longer active (so its
	 * attempt was recorded, in the same callback that removed it). */
	if (h->jr != NULL &&
	    (h->marker == NULL ? active > 0
			       : active == 0 && access(h->marker, F_OK) == 0)) {
		jobrun_cancel(h->jr, "operator alice asked");
		jobrun_cancel(h->jr, "twice"); /* the first reason stays */
		event_del(h->poll);
	}
}

static void
run_canceled(
    struct harness *h, const struct step_init *steps, const char *marker)
{
	struct timeval tick = {0, 5000};

	h->marker = marker;
	h->poll = event_new(h->base, -1, EV_PERSIST, cancel_poll_cb, h);
	event_add(h->poll, &tick);
	harness_run(h, job_make("job-c", steps), 79);
}

static void
test_jobrun_cancel_running(void **state)
{
	struct harness *h = *state;
	const struct step_init steps[] = {
	    {"long", "sleep 100", .ok = NX, .fail = QF, .timeout_s = 60},
	    {"never", "true", .ok = NX, .fail = QF}, {NULL}};

	run_canceled(h, steps, NULL);
	assert_int_equal(h->report->outcome, OUTCOME_CANCELED);
	assert_string_equal(
	    h->report->message, "canceled: operator alice asked");
	assert_int_equal(h->report->nsteps, 1);
	assert_int_equal(h->report->steps[0].outcome, OUTCOME_CANCELED);
	assert_string_equal(
	    h->report->steps[0].message, "canceled: operator alice asked");
	assert_true(h->report->duration_ms < 10000);
}

static void
test_jobrun_cancel_in_retry_wait(void **state)
{
	struct harness *h = *state;
	char dir[] = "/tmp/cohort-jobrun-XXXXXX", marker[64], cmd[128];
	struct step_init steps[] = {{"flaky", cmd, .ok = NX, .fail = QF,
					.retries = 3, .interval_s = 60},
	    {NULL}};

	assert_non_null(mkdtemp(dir));
	snprintf(marker, sizeof(marker), "%s/m", dir);
	snprintf(cmd, sizeof(cmd), "touch %s; exit 1", marker);
	run_canceled(h, steps, marker);
	unlink(marker);
	rmdir(dir);
	assert_int_equal(h->report->outcome, OUTCOME_CANCELED);
	assert_string_equal(
	    h->report->message, "canceled: operator alice asked");
	assert_int_equal(h->report->nsteps, 1);
	assert_int_equal(h->report->steps[0].outcome, OUTCOME_RETRYING);
	assert_true(h->report->duration_ms < 10000);
}

static char *
read_text(const char *path)
{
	static char text[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return text;
}

/* Two attempts appended with their headers, scrubbed, mode 0640. */
static void
test_jobrun_output_file(void **state)
{
	struct harness *h = *state;
	char dir[] = "/tmp/cohort-jobrun-XXXXXX", path[128], want[256];
	struct step_init steps[] = {
	    {"log", "echo \"pw $PW\"; printf tail; exit 1", .ok = NX,
		.fail = QF, .retries = 1, .env = {"!PW=hunter22"}},
	    {NULL}};
	struct stat st;
	const char *text;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out.log", dir);
	steps[0].output_file = path;
	harness_run(h, job_make("job-o", steps), 80);
	assert_string_equal(h->report->steps[1].message, "exit code 1");
	text = read_text(path);
	snprintf(
	    want, sizeof(want), "--- job job-o run 80 step 1 attempt 1 at ");
	assert_memory_equal(text, want, strlen(want));
	assert_non_null(strstr(text,
	    " ---\npw ********\ntail\n--- job job-o "
	    "run 80 step 1 attempt 2 at "));
	assert_null(strstr(text, "hunter22"));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	unlink(path);
	rmdir(dir);
}

/* Every refusal is a note in the message; the step's outcome stands. */
static void
test_jobrun_output_file_refused(void **state)
{
	struct harness *h = *state;
	char dir[] = "/tmp/cohort-jobrun-XXXXXX", link[128], locked[128],
	     inlocked[160], msg[512];
	struct {
		const char *path;
		const char *proxy;
		const char *why;
	} cases[] = {
	    {"relative/out.log", NULL, "must be an absolute path without '..'"},
	    {"/tmp/../etc/x", NULL, "must be an absolute path without '..'"},
	    {"/no/such/dir/x", NULL, "No such file or directory"},
	    {"/tmp", NULL, "Is a directory"},
	    {link, NULL, "is a symbolic link"},
	    {"/dev/null", NULL, "not a regular file"},
	    {inlocked, "nob", "Permission denied"},
	};

	assert_non_null(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/link", dir);
	snprintf(locked, sizeof(locked), "%s/locked", dir);
	snprintf(inlocked, sizeof(inlocked), "%s/out.log", locked);
	assert_int_equal(symlink("/etc/passwd", link), 0);
	assert_int_equal(mkdir(locked, 0700), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct step_init steps[] = {
		    {"s", "echo x", .ok = NX, .fail = QF,
			.output_file = cases[i].path, .proxy = cases[i].proxy},
		    {NULL}};

		if (cases[i].proxy != NULL && geteuid() != 0)
			continue;
		harness_run(h, job_make("job-r", steps), 81);
		snprintf(msg, sizeof(msg), "output_file %s not appended: %s",
		    cases[i].path, cases[i].why);
		assert_int_equal(h->report->outcome, OUTCOME_SUCCEEDED);
		assert_string_equal(h->report->steps[0].message, msg);
		assert_string_equal(h->report->message, "step 1 (s) succeeded");
	}
	assert_int_equal(access(inlocked, F_OK), -1);
	unlink(link);
	rmdir(locked);
	rmdir(dir);
}

/* A target that is not root refuses another user's proxy. The check
 * needs a process that is not root: a child that drops to nobody and
 * reports by its exit status (no cmocka in there). */
static void
unpriv_done(void *arg, struct jobrun *jr, struct run_report *report)
{
	struct run_report **out = arg;

	*out = report;
}

static int
unpriv_child(struct harness *h)
{
	const struct step_init steps[] = {
	    {"s", "true", .ok = NX, .fail = QF, .proxy = "rt"}, {NULL}};
	const char *want = "target web-1 runs unprivileged; proxy 'rt' (user "
			   "root) needs cohortd to run as root";
	struct jobrun_params params = base_params;
	struct run_report *report = NULL;
	struct event_base *base;
	struct runner *runner;
	struct conf conf;
	struct cerr err;

	runner_free(
	    h->runner); /* the parent's copy; this process makes its own */
	h->runner = NULL;
	if (setgid(65534) < 0 || setuid(65534) < 0)
		return 2;
	conf_defaults(&conf);
	if (conf_set(&conf, "proxy rt", "root", &err) < 0)
		return 3;
	base = event_base_new();
	runner = runner_new(base, &err);
	params.target_run_id = 82;
	params.conf = &conf;
	if (base == NULL || runner == NULL ||
	    jobrun_start(base, runner, job_make("job-u", steps), &params,
		unpriv_done, &report, &err) == NULL)
		return 4;
	while (report == NULL)
		event_base_loop(base, EVLOOP_ONCE);
	return report->nsteps == 1 &&
		strcmp(report->steps[0].message, want) == 0
	    ? 0
	    : 5;
}

static void
test_jobrun_unprivileged_proxy(void **state)
{
	struct harness *h = *state;
	pid_t pid;
	int status;

	if (geteuid() != 0)
		skip();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(unpriv_child(h));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Freeing a run mid-step kills the step and calls nothing. */
static void
test_jobrun_free_while_running(void **state)
{
	struct harness *h = *state;
	const struct step_init steps[] = {
	    {"long", "sleep 100", .ok = NX, .fail = QF}, {NULL}};
	struct jobrun_params params = base_params;
	struct timeval tv = {SAFETY_S, 0};
	struct cerr err;

	params.conf = &h->conf;
	h->jr = jobrun_start(h->base, h->runner, job_make("job-f", steps),
	    &params, done_cb, h, &err);
	assert_non_null(h->jr);
	assert_string_equal(jobrun_job(h->jr)->name, "job-f");
	evtimer_add(h->safety, &tv);
	while (runner_active(h->runner) == 0 && !h->expired)
		event_base_loop(h->base, EVLOOP_ONCE);
	assert_false(h->expired);
	jobrun_free(h->jr);
	h->jr = NULL;
	assert_false(h->done);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_jobrun_cases, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(
		test_jobrun_retry_interval, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(
		test_jobrun_environment, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(
		test_jobrun_proxy_as_root, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(
		test_jobrun_cancel_running, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_jobrun_cancel_in_retry_wait,
		harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(
		test_jobrun_output_file, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_jobrun_output_file_refused,
		harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_jobrun_unprivileged_proxy,
		harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_jobrun_outputs_over_budget,
		harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_jobrun_free_while_running,
		harness_setup, harness_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
