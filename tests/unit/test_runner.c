/*
 * Unit tests for the step runner with real processes and a real event
 * loop: exit codes, signals, output capture and its limit, exec and cwd
 * failures, a clean environment and fd table, timeouts that kill the whole
 * process group, cancel, both orders of exit and EOF, and runner_free()
 * leaving nothing alive. Every loop has a 20 s safety timer that fails the
 * test instead of hanging it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "common/runner.h"

#define SAFETY_S 20

struct got {
	int done;
	struct runner_result res;
	char *output; /* copy of res.output */
};

struct loop {
	struct event_base *base;
	struct runner *runner;
	struct event *safety;
	int expired;
	int want, have; /* callbacks expected / seen */
};

static void
safety_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loop *l = arg;

	l->expired = 1;
	event_base_loopbreak(l->base);
}

/* Each test gets its loop from setup and loses it in teardown, which
 * runs even when the test fails. */
static int
loop_setup(void **state)
{
	struct loop *l = calloc(1, sizeof(*l));
	struct cerr err;

	if (l == NULL)
		return -1;
	l->base = event_base_new();
	l->runner = runner_new(l->base, &err);
	l->safety = evtimer_new(l->base, safety_cb, l);
	*state = l;
	return l->runner != NULL && l->safety != NULL ? 0 : -1;
}

static int
loop_teardown(void **state)
{
	struct loop *l = *state;

	runner_free(l->runner);
	event_free(l->safety);
	event_base_free(l->base);
	free(l);
	return 0;
}

/* Runs the loop until want callbacks have come, failing after SAFETY_S. */
static void
loop_run(struct loop *l, int want)
{
	struct timeval tv = {SAFETY_S, 0};

	l->want = want;
	evtimer_add(l->safety, &tv);
	while (l->have < l->want && !l->expired)
		event_base_loop(l->base, EVLOOP_ONCE);
	evtimer_del(l->safety);
	if (l->expired)
		fail_msg("event loop did not finish within %d s", SAFETY_S);
}

struct waiter {
	struct loop *l;
	struct got *got;
};

static void
done_cb(void *arg, const struct runner_result *res)
{
	struct waiter *w = arg;

	assert_false(w->got->done); /* exactly once */
	w->got->done = 1;
	w->got->res = *res;
	w->got->output = malloc(res->output_len + 1);
	memcpy(w->got->output, res->output, res->output_len + 1);
	w->got->res.output = NULL;
	w->l->have++;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Alive means present and not a zombie (PID 1 here may not reap). */
static int
proc_alive(pid_t pid)
{
	char path[64], text[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	p = strrchr(text, ')');
	return p != NULL && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* Polls until pid is gone, up to 5 s. */
static int
proc_gone_soon(pid_t pid)
{
	int64_t deadline = now_ms() + 5000;
	struct timespec pause = {0, 10 * 1000 * 1000};

	while (proc_alive(pid)) {
		if (now_ms() > deadline)
			return 0;
		nanosleep(&pause, NULL);
	}
	return 1;
}

static const char *const base_env[] = {"PATH=/usr/bin:/bin", "FOO=bar", NULL};

#define SH(text)                                                               \
	{                                                                      \
		"/bin/sh", "-c", text, NULL                                    \
	}

static const struct runner_case {
	const char *name;
	const char *argv[6];
	const char *cwd;
	int64_t timeout_ms, grace_ms;
	size_t max_output; /* 0: 4096 */
	int spawned, exited, exit_code, term_signal, timed_out;
	const char *output; /* exact, or NULL to skip */
	size_t output_len; /* checked when output is NULL and this > 0 */
	size_t dropped;
	const char *error; /* exact, when !spawned */
	int64_t min_ms; /* the least duration */
} runner_cases[] = {
    {"true", {"/bin/true"}, NULL, 0, 0, 0, 1, 1, 0, 0, 0, "", 0, 0, NULL, 0},
    {"false", {"/bin/false"}, NULL, 0, 0, 0, 1, 1, 1, 0, 0, "", 0, 0, NULL, 0},
    {"exit 3", SH("exit 3"), NULL, 0, 0, 0, 1, 1, 3, 0, 0, "", 0, 0, NULL, 0},
    {"signal", SH("kill -9 $$"), NULL, 0, 0, 0, 1, 0, -1, 9, 0, "", 0, 0, NULL,
	0},
    {"stdout and stderr", SH("printf out; printf err >&2"), NULL, 0, 0, 0, 1, 1,
	0, 0, 0, "outerr", 0, 0, NULL, 0},
    {"truncated", SH("printf 0123456789abcdef"), NULL, 0, 0, 10, 1, 1, 0, 0, 0,
	"0123456789", 0, 6, NULL, 0},
    {"large output dropped", SH("head -c 300000 /dev/zero"), NULL, 0, 0, 1000,
	1, 1, 0, 0, 0, NULL, 1000, 299000, NULL, 0},
    {"no such file", {"/no/such"}, NULL, 0, 0, 0, 0, 0, -1, 0, 0, "", 0, 0,
	"exec /no/such: No such file or directory", 0},
    {"not executable", {"/etc/passwd"}, NULL, 0, 0, 0, 0, 0, -1, 0, 0, "", 0, 0,
	"exec /etc/passwd: Permission denied", 0},
    {"bad cwd", {"/bin/true"}, "/no/such/dir", 0, 0, 0, 0, 0, -1, 0, 0, "", 0,
	0, "cwd /no/such/dir: No such file or directory", 0},
    {"PATH of the step", {"printf", "%s", "x"}, NULL, 0, 0, 0, 1, 1, 0, 0, 0,
	"x", 0, 0, NULL, 0},
    {"environment is the spec's", SH("printf %s-%s \"$FOO\" \"${HOME-unset}\""),
	NULL, 0, 0, 0, 1, 1, 0, 0, 0, "bar-unset", 0, 0, NULL, 0},
    {"cwd", SH("pwd"), "/tmp", 0, 0, 0, 1, 1, 0, 0, 0, "/tmp\n", 0, 0, NULL, 0},
    {"default cwd", SH("pwd"), NULL, 0, 0, 0, 1, 1, 0, 0, 0, "/\n", 0, 0, NULL,
	0},
    {"stdin is /dev/null", SH("cat; echo done"), NULL, 0, 0, 0, 1, 1, 0, 0, 0,
	"done\n", 0, 0, NULL, 0},
    /* Signals 32 and 33 are glibc's own and may arrive ignored from
     * whatever started the test; no process can reset them, so only the
     * standard signals 1..31 are checked. */
    {"signals reset",
	SH("grep SigBlk /proc/self/status; "
	   "v=$(awk '/SigIgn/ {print $2}' /proc/self/status); "
	   "echo \"SigIgn 1-31: $((0x$v & 0x7fffffff))\""),
	NULL, 0, 0, 0, 1, 1, 0, 0, 0,
	"SigBlk:\t0000000000000000\nSigIgn 1-31: 0\n", 0, 0, NULL, 0},
    {"timeout", SH("sleep 100"), NULL, 200, 0, 0, 1, 0, -1, SIGTERM, 1, "", 0,
	0, NULL, 150},
    {"timeout, TERM ignored", SH("trap '' TERM; echo up; sleep 100"), NULL, 200,
	300, 0, 1, 0, -1, SIGKILL, 1, "up\n", 0, 0, NULL, 450},
    {"exit before EOF", SH("(sleep 0.3; echo late) & echo early"), NULL, 0, 0,
	0, 1, 1, 0, 0, 0, "early\nlate\n", 0, 0, NULL, 250},
    {"EOF before exit", SH("echo bye; exec >&- 2>&-; sleep 0.3; exit 4"), NULL,
	0, 0, 0, 1, 1, 4, 0, 0, "bye\n", 0, 0, NULL, 250},
};

static void
check_case(const struct runner_case *c, const struct got *g)
{
	const struct runner_result *r = &g->res;

	if (!g->done)
		fail_msg("%s: no result", c->name);
	if (r->spawned != c->spawned || r->exited != c->exited ||
	    r->exit_code != c->exit_code || r->term_signal != c->term_signal ||
	    r->timed_out != c->timed_out || r->canceled)
		fail_msg("%s: spawned %d exited %d code %d signal %d timed out "
			 "%d canceled %d (%s)",
		    c->name, r->spawned, r->exited, r->exit_code,
		    r->term_signal, r->timed_out, r->canceled, r->error);
	if (c->output != NULL && strcmp(g->output, c->output) != 0)
		fail_msg("%s: output '%s'", c->name, g->output);
	if (c->output == NULL && r->output_len != c->output_len)
		fail_msg("%s: output_len %zu", c->name, r->output_len);
	if (r->output_dropped != c->dropped)
		fail_msg("%s: dropped %zu", c->name, r->output_dropped);
	if (c->error != NULL && strcmp(r->error, c->error) != 0)
		fail_msg("%s: error '%s'", c->name, r->error);
	if (c->error == NULL && r->error[0] != '\0')
		fail_msg("%s: unexpected error '%s'", c->name, r->error);
	if (r->duration_ms < c->min_ms || r->pid <= 0 || r->started_ms <= 0)
		fail_msg("%s: duration %lld pid %d", c->name,
		    (long long)r->duration_ms, (int)r->pid);
}

static void
spec_for(const struct runner_case *c, struct runner_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->argv = c->argv;
	s->envp = base_env;
	s->cwd = c->cwd;
	s->timeout_ms = c->timeout_ms;
	s->kill_grace_ms = c->grace_ms;
	s->max_output_bytes = c->max_output ? c->max_output : 4096;
}

/* All cases run at once, which also shows that children do not mix. */
static void
test_runner_cases(void **state)
{
	enum { N = sizeof(runner_cases) / sizeof(runner_cases[0]) };
	struct got got[N];
	struct waiter w[N];
	struct runner_spec spec;
	struct loop *l = *state;
	struct cerr err;
	uint64_t id;
	sigset_t set, old;
	int leak_fd;

	/* Things a child must not inherit: a blocked and an ignored
	 * signal, an fd without close-on-exec. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);
	leak_fd = open("/dev/null", O_RDONLY);
	assert_true(leak_fd > 2);

	memset(got, 0, sizeof(got));
	for (size_t i = 0; i < N; i++) {
		w[i].l = l;
		w[i].got = &got[i];
		spec_for(&runner_cases[i], &spec);
		if (runner_start(l->runner, &spec, done_cb, &w[i], &id, &err) <
		    0)
			fail_msg("%s: %s", runner_cases[i].name, err.msg);
	}
	assert_int_equal(runner_active(l->runner), N);
	loop_run(l, N);
	assert_int_equal(runner_active(l->runner), 0);
	for (size_t i = 0; i < N; i++) {
		check_case(&runner_cases[i], &got[i]);
		free(got[i].output);
	}
	close(leak_fd);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void
test_runner_fds_closed(void **state)
{
	const char *argv[] = {"/bin/sh", "-c", NULL, NULL};
	char cmd[128];
	struct runner_spec spec;
	struct got got = {0};
	struct loop *l = *state;
	struct waiter w = {l, &got};
	struct cerr err;
	uint64_t id;
	int fd = open("/dev/null", O_RDONLY);

	assert_true(fd > 3);
	snprintf(cmd, sizeof(cmd),
	    "for f in 0 1 2 3 %d; do test -e /proc/$$/fd/$f && printf $f; "
	    "done",
	    fd);
	argv[2] = cmd;
	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	spec.envp = base_env;
	spec.max_output_bytes = 100;
	assert_int_equal(
	    runner_start(l->runner, &spec, done_cb, &w, &id, &err), 0);
	loop_run(l, 1);
	assert_string_equal(got.output, "012");
	free(got.output);
	close(fd);
}

static void
test_runner_empty_argv(void **state)
{
	const char *argv[] = {NULL};
	struct runner_spec spec;
	struct loop *l = *state;
	struct cerr err;
	uint64_t id;

	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	assert_int_equal(
	    runner_start(l->runner, &spec, done_cb, NULL, &id, &err), -1);
	assert_string_equal(err.msg, "runner: empty command");
	assert_int_equal(runner_active(l->runner), 0);
}

/* The timeout reaches the grandchild too, through the process group. */
static void
test_runner_timeout_kills_tree(void **state)
{
	const char *argv[] = SH("sleep 100 & echo $!; sleep 100");
	struct runner_spec spec;
	struct got got = {0};
	struct loop *l = *state;
	struct waiter w = {l, &got};
	struct cerr err;
	uint64_t id;
	pid_t grandchild;

	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	spec.envp = base_env;
	spec.timeout_ms = 300;
	spec.max_output_bytes = 100;
	assert_int_equal(
	    runner_start(l->runner, &spec, done_cb, &w, &id, &err), 0);
	loop_run(l, 1);
	assert_true(got.res.timed_out);
	assert_int_equal(got.res.term_signal, SIGTERM);
	grandchild = (pid_t)atoi(got.output);
	assert_true(grandchild > 1);
	assert_true(proc_gone_soon(grandchild));
	assert_true(proc_gone_soon(got.res.pid));
	free(got.output);
}

struct cancel_ctx {
	struct runner *runner;
	uint64_t id;
};

static void
cancel_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cancel_ctx *cc = arg;

	runner_cancel(cc->runner, cc->id);
	runner_cancel(cc->runner, cc->id); /* twice: harmless */
	runner_cancel(cc->runner, 999999); /* unknown: ignored */
}

/* Canceled, not timed out, even with a timeout armed; and a foreign child
 * reaped by the runner's waitpid(-1) is ignored. */
static void
test_runner_cancel(void **state)
{
	const char *argv[] = SH("sleep 100");
	struct runner_spec spec;
	struct got got = {0};
	struct loop *l = *state;
	struct waiter w = {l, &got};
	struct cancel_ctx cc;
	struct timeval zero = {0, 0};
	struct event *ev;
	struct cerr err;
	pid_t foreign;

	foreign = fork();
	assert_true(foreign >= 0);
	if (foreign == 0)
		_exit(0);
	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	spec.envp = base_env;
	spec.timeout_ms = 10000;
	spec.max_output_bytes = 100;
	assert_int_equal(
	    runner_start(l->runner, &spec, done_cb, &w, &cc.id, &err), 0);
	cc.runner = l->runner;
	ev = evtimer_new(l->base, cancel_cb, &cc);
	evtimer_add(ev, &zero);
	loop_run(l, 1);
	assert_true(got.res.canceled);
	assert_false(got.res.timed_out);
	assert_int_equal(got.res.term_signal, SIGTERM);
	assert_true(got.res.duration_ms < 5000);
	runner_cancel(l->runner, cc.id); /* finished: ignored */
	free(got.output);
	event_free(ev);
	waitpid(foreign, NULL, WNOHANG);
}

/* Reads "pid pid" from path once the child has written it, to 5 s. */
static int
read_pids(const char *path, pid_t *a, pid_t *b)
{
	int64_t deadline = now_ms() + 5000;
	struct timespec pause = {0, 10 * 1000 * 1000};
	int x = 0, y = 0;
	FILE *f;

	while ((f = fopen(path, "r")) == NULL) {
		if (now_ms() > deadline)
			return -1;
		nanosleep(&pause, NULL);
	}
	if (fscanf(f, "%d %d", &x, &y) != 2)
		x = y = 0;
	fclose(f);
	*a = x;
	*b = y;
	return x > 1 && y > 1 ? 0 : -1;
}

/* runner_free() kills every group and calls no callback; so does
 * runner_abandon(). */
static void
test_runner_free_kills_all(void **state)
{
	char cmd[256], path[] = "/tmp/cohort-runner-XXXXXX";
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	struct runner_spec spec;
	struct got got = {0};
	struct loop *l = *state;
	struct waiter w = {l, &got};
	struct cerr err;
	uint64_t id;
	pid_t sh = 0, sl = 0;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	snprintf(cmd, sizeof(cmd),
	    "trap '' TERM; sleep 100 & echo $$ $! > %s.t; mv %s.t %s; wait",
	    path, path, path);
	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	spec.envp = base_env;
	spec.max_output_bytes = 100;
	assert_int_equal(
	    runner_start(l->runner, &spec, done_cb, &w, &id, &err), 0);
	assert_int_equal(read_pids(path, &sh, &sl), 0);
	runner_abandon(l->runner, id);
	runner_free(l->runner);
	l->runner = NULL;
	assert_false(got.done);
	assert_true(proc_gone_soon(sh));
	assert_true(proc_gone_soon(sl));
	unlink(path);
}

/* A callback may start the next child (jobrun does). */
struct chain {
	struct loop *l;
	int runs;
	struct got last;
};

static void chain_cb(void *arg, const struct runner_result *res);

static void
chain_start(struct chain *ch)
{
	static const char *const argv[] = {"/bin/true", NULL};
	struct runner_spec spec;
	struct cerr err;
	uint64_t id;

	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	spec.envp = base_env;
	assert_int_equal(
	    runner_start(ch->l->runner, &spec, chain_cb, ch, &id, &err), 0);
}

static void
chain_cb(void *arg, const struct runner_result *res)
{
	struct chain *ch = arg;

	assert_int_equal(res->exit_code, 0);
	ch->l->have++;
	if (++ch->runs < 5)
		chain_start(ch);
}

static void
test_runner_chain(void **state)
{
	struct loop *l = *state;
	struct chain ch = {l, 0, {0}};

	chain_start(&ch);
	loop_run(l, 5);
	assert_int_equal(ch.runs, 5);
	assert_int_equal(runner_active(l->runner), 0);
}

/* As root: a step run as nobody really is nobody. */
static void
test_runner_set_user(void **state)
{
	const char *argv[] = SH("id -u; id -g; id -G");
	struct runner_spec spec;
	struct got got = {0};
	struct loop *l = *state;
	struct waiter w = {l, &got};
	struct cerr err;
	uint64_t id;

	if (geteuid() != 0)
		skip();
	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	spec.envp = base_env;
	spec.max_output_bytes = 100;
	spec.set_user = 1;
	spec.uid = 65534;
	spec.gid = 65534;
	spec.user = "nobody";
	spec.cwd = "/tmp";
	assert_int_equal(
	    runner_start(l->runner, &spec, done_cb, &w, &id, &err), 0);
	loop_run(l, 1);
	assert_int_equal(got.res.exit_code, 0);
	assert_string_equal(got.output, "65534\n65534\n65534\n");
	free(got.output);
}

/* on_spawn: the child waits until the callback returned; the callback
 * sees the child's pid as its own process group. */
struct spawn_seen {
	pid_t pid;
	pid_t pgrp;
	int calls;
	int fail;
};

static int
spawn_cb(void *arg, pid_t pid, struct cerr *err)
{
	struct spawn_seen *s = arg;

	s->calls++;
	s->pid = pid;
	s->pgrp = getpgid(pid);
	if (s->fail)
		return cerr_set(err, CERR_STORE, "store is full");
	return 0;
}

static void
test_runner_on_spawn(void **state)
{
	const char *argv[] = {"/bin/sh", "-c", "echo ran", NULL};
	struct spawn_seen seen = {0, 0, 0, 0};
	struct loop *l = *state;
	struct runner_spec spec;
	struct got got = {0};
	struct waiter w = {l, &got};
	struct cerr err;
	uint64_t id;

	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	spec.max_output_bytes = 1024;
	spec.on_spawn = spawn_cb;
	spec.on_spawn_arg = &seen;
	assert_int_equal(
	    runner_start(l->runner, &spec, done_cb, &w, &id, &err), 0);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.pgrp, seen.pid);
	loop_run(l, 1);
	assert_int_equal(got.res.pid, seen.pid);
	assert_int_equal(got.res.exit_code, 0);
	assert_string_equal(got.output, "ran\n");
	free(got.output);

	/* A refusal fails the start; the child never runs its command. */
	seen.fail = 1;
	argv[2] = "echo ran > /dev/null; exit 7";
	assert_int_equal(
	    runner_start(l->runner, &spec, done_cb, &w, &id, &err), -1);
	assert_string_equal(err.msg, "store is full");
	assert_int_equal(seen.calls, 2);
	assert_int_equal(runner_active(l->runner), 0);
	assert_false(proc_alive(seen.pid));
}

/* The daemon dies between fork and recording the child (here a helper
 * process that exits inside on_spawn): the child sees the go pipe close
 * and exits without running its command. */
static int
die_cb(void *arg, pid_t pid, struct cerr *err)
{
	int fd = *(int *)arg;

	if (write(fd, &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
		_exit(2);
	_exit(0);
}

static void
test_runner_on_spawn_parent_dies(void **state)
{
	char marker[] = "/tmp/cohort-runner-hold-XXXXXX";
	char cmd[128];
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	int pfd[2], status, mfd;
	pid_t helper, child = 0;
	int64_t deadline;

	mfd = mkstemp(marker);
	assert_true(mfd >= 0);
	close(mfd);
	unlink(marker);
	snprintf(cmd, sizeof(cmd), "touch %s", marker);
	assert_int_equal(pipe(pfd), 0);
	helper = fork();
	assert_true(helper >= 0);
	if (helper == 0) {
		struct loop *l = *state;
		struct runner_spec spec;
		struct cerr err;
		uint64_t id;

		close(pfd[0]);
		memset(&spec, 0, sizeof(spec));
		spec.argv = argv;
		spec.on_spawn = die_cb;
		spec.on_spawn_arg = &pfd[1];
		runner_start(l->runner, &spec, NULL, NULL, &id, &err);
		_exit(3);
	}
	close(pfd[1]);
	assert_int_equal(
	    read(pfd[0], &child, sizeof(child)), (ssize_t)sizeof(child));
	close(pfd[0]);
	assert_int_equal(waitpid(helper, &status, 0), helper);
	assert_int_equal(WEXITSTATUS(status), 0);
	deadline = now_ms() + SAFETY_S * 1000;
	while (proc_alive(child) && now_ms() < deadline)
		usleep(10000);
	assert_false(proc_alive(child));
	assert_int_equal(access(marker, F_OK), -1);
}

/* The wait before a step may exec: none once the instant has passed,
 * never more than RUNNER_NOT_BEFORE_MAX_MS (a clock set back cannot hold
 * a step). */
static void
test_runner_wait_ms(void **state)
{
	(void)state;
	assert_int_equal(runner_wait_ms(0, 5000), 0);
	assert_int_equal(runner_wait_ms(4000, 5000), 0);
	assert_int_equal(runner_wait_ms(5000, 5000), 0);
	assert_int_equal(runner_wait_ms(5040, 5000), 40);
	assert_int_equal(runner_wait_ms(5000 + RUNNER_NOT_BEFORE_MAX_MS, 5000),
	    RUNNER_NOT_BEFORE_MAX_MS);
	assert_int_equal(
	    runner_wait_ms(INT64_MAX, 5000), RUNNER_NOT_BEFORE_MAX_MS);
	assert_int_equal(runner_wait_ms(5000, -1), RUNNER_NOT_BEFORE_MAX_MS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_runner_wait_ms),
	    cmocka_unit_test_setup_teardown(
		test_runner_cases, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(
		test_runner_fds_closed, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(
		test_runner_empty_argv, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(
		test_runner_timeout_kills_tree, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(
		test_runner_cancel, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(
		test_runner_free_kills_all, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(
		test_runner_chain, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(
		test_runner_set_user, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(
		test_runner_on_spawn, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(
		test_runner_on_spawn_parent_dies, loop_setup, loop_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
