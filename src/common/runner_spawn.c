/*
 * runner_spawn: runner_start(), the only fork in cohort (see runner.h).
 * The parent looks up the user's groups and makes the pipes, forks, lets
 * the child go once spec->on_spawn has recorded it, and puts it in the
 * table (runner.c) with its read and timer events (runner_reap.c). The
 * child, between fork and exec, makes only async-signal-safe calls; its
 * failures there (setuid, chdir, exec itself) travel back on a
 * close-on-exec status pipe: after a successful exec the parent reads EOF
 * there, after a failure a {stage, errno} record (read in runner_reap.c).
 */
#include "common/runner.h"

#include <sys/queue.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/buf.h"
#include "common/runner_int.h"

#define RUNNER_GRACE_DEFAULT_MS 5000
#define RUNNER_GROUPS_MAX 65536

extern char **environ;

static void
child_report_exit(int fd, enum child_stage stage, int errnum)
{
	struct child_report rep = {stage, errnum};
	ssize_t n;

	do
		n = write(fd, &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	_exit(127);
}

/* Back to a clean slate: the daemon's ignored signals (SIGPIPE) and its
 * blocked ones would otherwise be inherited across exec. */
static void
child_reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL); /* fails harmlessly for some */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Puts the status pipe on fd 3 and closes every fd above it. */
static int
child_fds(int out_w, int st_w)
{
	int null_fd = open("/dev/null", O_RDONLY);

	if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_w, 1) < 0 ||
	    dup2(out_w, 2) < 0)
		child_report_exit(st_w, STAGE_SETUP, errno);
	if (st_w != 3 && dup3(st_w, 3, O_CLOEXEC) < 0)
		child_report_exit(st_w, STAGE_SETUP, errno);
	if (close_range(4, ~0U, 0) < 0) {
		for (int fd = 4; fd < 65536; fd++)
			close(fd);
	}
	return 3;
}

/* Waits for the parent's go byte (spec->on_spawn); EOF means the parent
 * refused or died before it could record this child: exit unrun. */
static void
child_hold(int go[2], int st_w)
{
	char go_byte;
	ssize_t n;

	if (go[0] < 0)
		return;
	close(go[1]);
	do
		n = read(go[0], &go_byte, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		child_report_exit(st_w, STAGE_HOLD, 0);
	close(go[0]);
}

/* Sleeps until CLOCK_MONOTONIC reads mono_ns (0: returns at once). The
 * monotonic clock, so a wall clock set back meanwhile cannot hold the step
 * past the wait runner_start() allowed. */
static void
child_wait_until(int64_t mono_ns)
{
	struct timespec ts = {
	    (time_t)(mono_ns / 1000000000), (long)(mono_ns % 1000000000)};

	if (mono_ns <= 0)
		return;
	while (
	    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* The child between fork and exec: only async-signal-safe calls, which is
 * why the group list was made by the parent. Never returns. */
static void
child_exec(const struct runner_spec *spec, int64_t go_mono_ns, int out_w,
    int st_w, int go[2], const gid_t *groups, size_t ngroups)
{
	char *const *argv = (char *const *)spec->argv;
	static const char *const empty_env[] = {NULL};
	char *const *envp =
	    (char *const *)(spec->envp ? spec->envp : empty_env);
	int st;

	child_reset_signals();
	setpgid(0, 0);
	child_hold(go, st_w);
	st = child_fds(out_w, st_w);
	if (spec->set_user) {
		if (setgid(spec->gid) < 0)
			child_report_exit(st, STAGE_SETGID, errno);
		if (setgroups(ngroups, groups) < 0)
			child_report_exit(st, STAGE_GROUPS, errno);
		if (setuid(spec->uid) < 0)
			child_report_exit(st, STAGE_SETUID, errno);
	}
	if (chdir(spec->cwd ? spec->cwd : "/") < 0)
		child_report_exit(st, STAGE_CHDIR, errno);
	child_wait_until(go_mono_ns);
	/* execvpe searches the PATH of environ, so the step's PATH must be
	 * there, not the daemon's. */
	environ = (char **)envp;
	execvpe(argv[0], argv, envp);
	child_report_exit(st, STAGE_EXEC, errno);
}

/* The user's supplementary groups, looked up before fork because
 * initgroups() is not async-signal-safe. Caller frees *out. */
static int
runner_groups(const struct runner_spec *spec, gid_t **out, size_t *n_out,
    struct cerr *err)
{
	int n = 16;
	gid_t *g = NULL, *ng;

	for (;;) {
		ng = realloc(g, (size_t)n * sizeof(*g));
		if (ng == NULL) {
			free(g);
			return cerr_set(err, CERR_INTERNAL, "out of memory");
		}
		g = ng;
		if (spec->user == NULL) {
			g[0] = spec->gid;
			n = 1;
			break;
		}
		if (getgrouplist(spec->user, spec->gid, g, &n) >= 0)
			break;
		if (n > RUNNER_GROUPS_MAX) {
			free(g);
			return cerr_set(err, CERR_INTERNAL,
			    "user %s is in too many groups", spec->user);
		}
	}
	*out = g;
	*n_out = (size_t)n;
	return 0;
}

static struct runner_child *
child_new(struct runner *r, const struct runner_spec *spec, struct cerr *err)
{
	struct runner_child *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		cerr_set(err, CERR_INTERNAL, "runner: out of memory");
		return NULL;
	}
	c->r = r;
	c->out_fd = -1;
	c->status_fd = -1;
	buf_init(&c->out, spec->max_output_bytes);
	c->grace_ms = spec->kill_grace_ms > 0 ? spec->kill_grace_ms
					      : RUNNER_GRACE_DEFAULT_MS;
	snprintf(c->argv0, sizeof(c->argv0), "%s", spec->argv[0]);
	snprintf(c->cwd, sizeof(c->cwd), "%s", spec->cwd ? spec->cwd : "/");
	snprintf(c->user, sizeof(c->user), "%s", spec->user ? spec->user : "");
	c->set_user = spec->set_user;
	c->uid = spec->uid;
	c->gid = spec->gid;
	if (spec->output_file != NULL) {
		c->output_file = strdup(spec->output_file);
		if (c->output_file == NULL) {
			cerr_set(err, CERR_INTERNAL, "runner: out of memory");
			runner_child_free(c);
			return NULL;
		}
	}
	c->timeout_ev = evtimer_new(r->base, runner_child_timeout_cb, c);
	c->kill_ev = evtimer_new(r->base, runner_child_kill_cb, c);
	if (c->timeout_ev == NULL || c->kill_ev == NULL) {
		cerr_set(err, CERR_INTERNAL, "runner: cannot make timers");
		runner_child_free(c);
		return NULL;
	}
	return c;
}

/* Arms the events of a forked child and puts it in the table. */
static int
child_watch(struct runner *r, struct runner_child *c,
    const struct runner_spec *spec, struct cerr *err)
{
	struct timeval tv = runner_ms_to_tv(spec->timeout_ms);

	c->read_ev = event_new(
	    r->base, c->out_fd, EV_READ | EV_PERSIST, runner_child_read_cb, c);
	if (c->read_ev == NULL || event_add(c->read_ev, NULL) < 0)
		return cerr_set(
		    err, CERR_INTERNAL, "runner: cannot watch output");
	if (spec->timeout_ms > 0 && evtimer_add(c->timeout_ev, &tv) < 0)
		return cerr_set(
		    err, CERR_INTERNAL, "runner: cannot arm timeout");
	c->id = r->next_id++;
	TAILQ_INSERT_TAIL(&r->children, c, entry);
	r->nchildren++;
	return 0;
}

/* The output pipe and the status pipe (and the go pipe when go is not
 * NULL), close-on-exec, read ends nonblocking. The caller closes what was
 * opened, also on failure. */
static int
runner_pipes(int out[2], int st[2], int *go, struct cerr *err)
{
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(st, O_CLOEXEC) < 0 ||
	    (go != NULL && pipe2(go, O_CLOEXEC) < 0))
		return cerr_set(
		    err, CERR_IO, "runner: pipe: %s", strerror(errno));
	/* the child's dup2 onto 0..2 must not clobber its pipes */
	if (out[1] < 3 || st[1] < 3)
		return cerr_set(
		    err, CERR_INTERNAL, "runner: stdin/out/err are closed");
	if (fcntl(out[0], F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(st[0], F_SETFL, O_NONBLOCK) < 0)
		return cerr_set(
		    err, CERR_IO, "runner: fcntl: %s", strerror(errno));
	return 0;
}

/* Kills and reaps a child that will not be watched. */
static void
child_discard(pid_t pid)
{
	kill(-pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* The parent's half of spec->on_spawn: let the child go once the caller
 * has recorded it. Closes the go pipe. */
static int
child_release(
    const struct runner_spec *spec, pid_t pid, int go[2], struct cerr *err)
{
	int rc = 0;

	close(go[0]);
	go[0] = -1;
	if (spec->on_spawn(spec->on_spawn_arg, pid, err) < 0)
		rc = -1;
	else if (write(go[1], "g", 1) != 1)
		rc = cerr_set(
		    err, CERR_IO, "runner: release child: %s", strerror(errno));
	close(go[1]);
	go[1] = -1;
	return rc;
}

int64_t
runner_wait_ms(int64_t not_before_ms, int64_t now_ms)
{
	int64_t wait = not_before_ms > now_ms ? not_before_ms - now_ms : 0;

	return wait < RUNNER_NOT_BEFORE_MAX_MS ? wait
					       : RUNNER_NOT_BEFORE_MAX_MS;
}

/* The monotonic instant (ns) at which the wall clock reads not_before_ms,
 * or 0 when that has passed; at most RUNNER_NOT_BEFORE_MAX_MS ahead.
 * Counted in nanoseconds: in whole milliseconds, each clock's truncation
 * made the step exec up to a millisecond after its instant. The wall
 * clock is read first, so the instant can come late by the time between
 * the two reads, never early. */
static int64_t
go_mono_ns(int64_t not_before_ms)
{
	int64_t real = runner_clock_ns(CLOCK_REALTIME);
	int64_t mono = runner_clock_ns(CLOCK_MONOTONIC);
	int64_t wait_ms = runner_wait_ms(not_before_ms, real / 1000000);

	if (wait_ms == 0)
		return 0;
	if (wait_ms == RUNNER_NOT_BEFORE_MAX_MS)
		return mono + wait_ms * 1000000;
	return mono + (not_before_ms * 1000000 - real);
}

/* When the step starts: now, or when its wait ends (go_mono_ns), from
 * which its run time is counted. The wall clock is read last, so the
 * start reported is never before the instant waited for. */
static void
runner_child_started(struct runner_child *c, int64_t go_mono_ns)
{
	int64_t mono = runner_clock_ns(CLOCK_MONOTONIC);
	int64_t left = go_mono_ns > mono ? go_mono_ns - mono : 0;

	c->started_ms = (runner_clock_ns(CLOCK_REALTIME) + left) / 1000000;
	c->started_mono_ms = (mono + left) / 1000000;
}

int
runner_start(struct runner *r, const struct runner_spec *spec,
    runner_done_cb cb, void *arg, uint64_t *id_out, struct cerr *err)
{
	struct runner_child *c = NULL;
	int out[2] = {-1, -1}, st[2] = {-1, -1}, go[2] = {-1, -1}, rc = -1;
	gid_t *groups = NULL;
	size_t ngroups = 0;
	int64_t go_mono;
	pid_t pid;

	if (spec->argv == NULL || spec->argv[0] == NULL || !*spec->argv[0])
		return cerr_set(err, CERR_INVALID, "runner: empty command");
	if (r->remote != NULL)
		return r->remote->start(
		    r->remote_ctx, spec, cb, arg, id_out, err);
	if (spec->set_user && runner_groups(spec, &groups, &ngroups, err) < 0)
		return -1;
	go_mono = go_mono_ns(spec->not_before_ms);
	c = child_new(r, spec, err);
	if (c == NULL)
		goto out;
	if (runner_pipes(out, st, spec->on_spawn ? go : NULL, err) < 0)
		goto out;
	pid = fork();
	if (pid < 0) {
		cerr_set(err, CERR_IO, "runner: fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child_exec(spec, go_mono, out[1], st[1], go, groups, ngroups);
	/* also here, so that a kill of the group cannot precede it */
	setpgid(pid, pid);
	if (spec->on_spawn != NULL && child_release(spec, pid, go, err) < 0) {
		child_discard(pid);
		goto out;
	}
	c->pid = pid;
	runner_child_started(c, go_mono);
	c->out_fd = out[0];
	c->status_fd = st[0];
	out[0] = st[0] = -1;
	c->cb = cb;
	c->arg = arg;
	if (child_watch(r, c, spec, err) < 0) {
		child_discard(pid);
		goto out;
	}
	*id_out = c->id;
	c = NULL;
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (st[i] >= 0)
			close(st[i]);
		if (go[i] >= 0)
			close(go[i]);
	}
	runner_child_free(c);
	free(groups);
	return rc;
}
