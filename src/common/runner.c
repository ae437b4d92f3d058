/*
 * runner: child processes for job steps (see runner.h). Every child is in
 * one table; a SIGCHLD signal event drains waitpid(-1, WNOHANG) and looks
 * each PID up there, and a read event per child drains its output pipe
 * into a bounded buffer. The two halves meet in child_maybe_finish(): the
 * callback runs once both the exit status and the pipe's EOF are in, so
 * output written by a grandchild after the leader exited is not lost.
 *
 * Failures between fork and exec (setuid, chdir, exec itself) travel back
 * on a close-on-exec status pipe: after a successful exec the parent reads
 * EOF there, after a failure a {stage, errno} record. The parent reads it
 * only once the child is reaped, when it can no longer block.
 */
#include "common/runner.h"

#include <sys/fsuid.h>
#include <sys/queue.h>
#include <sys/stat.h>
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

#define RUNNER_GRACE_DEFAULT_MS 5000
#define RUNNER_READ_CHUNK 65536
#define RUNNER_READS_PER_EVENT 16 /* then let other events run */
#define RUNNER_GROUPS_MAX 65536

extern char **environ;

/* What the child reports on the status pipe when it cannot exec. */
enum child_stage {
	STAGE_SETUP,
	STAGE_SETGID,
	STAGE_GROUPS,
	STAGE_SETUID,
	STAGE_CHDIR,
	STAGE_EXEC,
	STAGE_HOLD /* the daemon did not release the child */
};

struct child_report {
	int stage;
	int errnum;
};

struct runner_child {
	TAILQ_ENTRY(runner_child) entry;
	struct runner *r;
	uint64_t id;
	pid_t pid; /* also the process group id */
	int out_fd; /* read end of stdout+stderr, -1 after EOF */
	int status_fd; /* read end of the status pipe */
	struct event *read_ev;
	struct event *timeout_ev;
	struct event *kill_ev; /* SIGTERM -> SIGKILL -> stop waiting */
	struct buf out;
	size_t dropped;
	int have_status, wait_status, have_eof;
	int term_sent, kill_sent, timed_out, canceled;
	int64_t grace_ms;
	int64_t started_ms, started_mono_ms;
	runner_done_cb cb; /* NULL once abandoned */
	void *arg;
	/* the output file and who opens it */
	char *output_file;
	int set_user;
	uid_t uid;
	gid_t gid;
	/* copies for error messages, cut short if long */
	char argv0[128];
	char cwd[96];
	char user[32];
};

TAILQ_HEAD(runner_children, runner_child);

struct runner {
	const struct runner_remote *remote; /* forwarding: ops and their ctx */
	void *remote_ctx;
	struct event_base *base;
	struct event *sigchld_ev;
	struct runner_children children;
	uint64_t next_id;
	size_t nchildren;
};

static int64_t
clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t
clock_ms(clockid_t clk)
{
	return clock_ns(clk) / 1000000;
}

static struct timeval
ms_to_tv(int64_t ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return tv;
}

static void
child_free(struct runner_child *c)
{
	if (c == NULL)
		return;
	if (c->read_ev != NULL)
		event_free(c->read_ev);
	if (c->timeout_ev != NULL)
		event_free(c->timeout_ev);
	if (c->kill_ev != NULL)
		event_free(c->kill_ev);
	if (c->out_fd >= 0)
		close(c->out_fd);
	if (c->status_fd >= 0)
		close(c->status_fd);
	buf_cleanup(&c->out);
	free(c->output_file);
	free(c);
}

static struct runner_child *
child_find_pid(struct runner *r, pid_t pid)
{
	struct runner_child *c;

	TAILQ_FOREACH(c, &r->children, entry)
	if (c->pid == pid && !c->have_status)
		return c;
	return NULL;
}

static struct runner_child *
child_find_id(struct runner *r, uint64_t id)
{
	struct runner_child *c;

	TAILQ_FOREACH(c, &r->children, entry)
	if (c->id == id)
		return c;
	return NULL;
}

/* Reads what the dead child left on the status pipe: nothing after a
 * successful exec, else the stage that failed and its errno. */
static void
child_read_status(struct runner_child *c, struct runner_result *res)
{
	struct child_report rep;
	ssize_t n;

	do
		n = read(c->status_fd, &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(rep))
		return;
	res->spawned = 0;
	res->exited = 0;
	res->exit_code = -1;
	res->term_signal = 0;
	switch (rep.stage) {
	case STAGE_SETGID:
		snprintf(res->error, sizeof(res->error), "setgid: %s",
		    strerror(rep.errnum));
		break;
	case STAGE_GROUPS:
		snprintf(res->error, sizeof(res->error), "initgroups %s: %s",
		    c->user, strerror(rep.errnum));
		break;
	case STAGE_SETUID:
		snprintf(res->error, sizeof(res->error), "setuid: %s",
		    strerror(rep.errnum));
		break;
	case STAGE_CHDIR:
		snprintf(res->error, sizeof(res->error), "cwd %s: %s", c->cwd,
		    strerror(rep.errnum));
		break;
	case STAGE_EXEC:
		snprintf(res->error, sizeof(res->error), "exec %s: %s",
		    c->argv0, strerror(rep.errnum));
		break;
	case STAGE_HOLD:
		snprintf(res->error, sizeof(res->error),
		    "not released by "
		    "the daemon");
		break;
	default:
		snprintf(res->error, sizeof(res->error), "child setup: %s",
		    strerror(rep.errnum));
		break;
	}
}

/* Opens the step's output file for appending, as the step's user when it
 * ran as another one, so a step cannot write where its user could not.
 * Refuses symbolic links and anything but a regular file. */
static int
child_output_open(const struct runner_child *c, char *why, size_t size)
{
	struct stat st;
	int fd, saved;

	if (c->set_user) {
		setfsgid(c->gid);
		setfsuid(c->uid);
	}
	fd = open(c->output_file,
	    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
		O_NONBLOCK | O_NOCTTY,
	    0640);
	saved = errno;
	if (c->set_user) {
		setfsuid(geteuid());
		setfsgid(getegid());
	}
	if (fd < 0) {
		snprintf(why, size, "%s",
		    saved == ELOOP ? "is a symbolic link" : strerror(saved));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, size, "not a regular file");
		close(fd);
		return -1;
	}
	return fd;
}

/* Delivers the result once both the exit status and EOF are in. The child
 * leaves the table before the callback, which may start other children. */
static void
child_maybe_finish(struct runner_child *c)
{
	struct runner *r = c->r;
	struct runner_result res;

	if (!c->have_status || !c->have_eof)
		return;
	memset(&res, 0, sizeof(res));
	res.pid = c->pid;
	res.spawned = 1;
	res.exit_code = -1;
	if (WIFEXITED(c->wait_status)) {
		res.exited = 1;
		res.exit_code = WEXITSTATUS(c->wait_status);
	} else if (WIFSIGNALED(c->wait_status)) {
		res.term_signal = WTERMSIG(c->wait_status);
	}
	child_read_status(c, &res);
	res.timed_out = c->timed_out;
	res.canceled = c->canceled;
	res.output = buf_str(&c->out);
	res.output_len = c->out.len;
	res.output_dropped = c->dropped;
	res.started_ms = c->started_ms;
	res.duration_ms = clock_ms(CLOCK_MONOTONIC) - c->started_mono_ms;
	if (res.duration_ms < 0) /* ended before its instant: canceled */
		res.duration_ms = 0;
	res.output_fd = -1;
	if (c->output_file != NULL && c->cb != NULL)
		res.output_fd = child_output_open(
		    c, res.output_error, sizeof(res.output_error));
	TAILQ_REMOVE(&r->children, c, entry);
	r->nchildren--;
	if (c->cb != NULL)
		c->cb(c->arg, &res);
	child_free(c);
}

static void
child_close_output(struct runner_child *c)
{
	event_del(c->read_ev);
	close(c->out_fd);
	c->out_fd = -1;
	c->have_eof = 1;
}

/* Keeps what fits under the maximum and counts the rest as dropped. */
static void
child_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct runner_child *c = arg;
	char chunk[RUNNER_READ_CHUNK];

	for (int i = 0; i < RUNNER_READS_PER_EVENT; i++) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		size_t keep;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			/* EOF, or an error that ends the stream all the same */
			child_close_output(c);
			child_maybe_finish(c);
			return;
		}
		keep = c->out.max - c->out.len;
		if (keep > (size_t)n)
			keep = (size_t)n;
		if (keep > 0 && buf_append(&c->out, chunk, keep, NULL) < 0)
			keep = 0; /* out of memory: drop, keep reading */
		c->dropped += (size_t)n - keep;
	}
}

/* Escalation, one step per call: SIGTERM, then SIGKILL after the grace
 * period, then after one more grace period stop waiting for output that a
 * process outside the group (one that called setsid) may hold open. */
static void
child_escalate(struct runner_child *c)
{
	struct timeval tv = ms_to_tv(c->grace_ms);

	if (!c->term_sent) {
		c->term_sent = 1;
		kill(-c->pid, SIGTERM);
		evtimer_add(c->kill_ev, &tv);
	} else if (!c->kill_sent) {
		c->kill_sent = 1;
		kill(-c->pid, SIGKILL);
		evtimer_add(c->kill_ev, &tv);
	} else if (c->have_status && !c->have_eof) {
		child_close_output(c);
		child_maybe_finish(c);
	}
}

static void
child_kill_cb(evutil_socket_t fd, short what, void *arg)
{
	child_escalate(arg);
}

static void
child_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct runner_child *c = arg;

	c->timed_out = 1;
	child_escalate(c);
}

static void
runner_sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	struct runner *r = arg;
	struct runner_child *c;
	pid_t pid;
	int status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		c = child_find_pid(r, pid);
		if (c == NULL)
			continue; /* not ours (a grandchild we adopted) */
		c->have_status = 1;
		c->wait_status = status;
		child_maybe_finish(c);
	}
}

struct runner *
runner_new(struct event_base *base, struct cerr *err)
{
	struct runner *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		cerr_set(err, CERR_INTERNAL, "runner: out of memory");
		return NULL;
	}
	r->base = base;
	r->next_id = 1;
	TAILQ_INIT(&r->children);
	r->sigchld_ev = evsignal_new(base, SIGCHLD, runner_sigchld_cb, r);
	if (r->sigchld_ev == NULL || evsignal_add(r->sigchld_ev, NULL) < 0) {
		cerr_set(err, CERR_INTERNAL, "runner: cannot watch SIGCHLD");
		runner_free(r);
		return NULL;
	}
	return r;
}

struct runner *
runner_new_remote(const struct runner_remote *ops, void *ctx, struct cerr *err)
{
	struct runner *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		ops->free(ctx);
		cerr_set(err, CERR_INTERNAL, "runner: out of memory");
		return NULL;
	}
	r->remote = ops;
	r->remote_ctx = ctx;
	TAILQ_INIT(&r->children);
	return r;
}

int
runner_privileged(const struct runner *r)
{
	return r->remote != NULL || geteuid() == 0;
}

int
runner_check(const struct runner *r, struct cerr *err)
{
	if (r->remote == NULL)
		return 0;
	return r->remote->check(r->remote_ctx, err);
}

void
runner_free(struct runner *r)
{
	struct runner_child *c;

	if (r == NULL)
		return;
	if (r->remote != NULL)
		r->remote->free(r->remote_ctx);
	while ((c = TAILQ_FIRST(&r->children)) != NULL) {
		TAILQ_REMOVE(&r->children, c, entry);
		if (!c->have_eof || !c->have_status)
			kill(-c->pid, SIGKILL);
		while (!c->have_status && waitpid(c->pid, NULL, 0) < 0 &&
		    errno == EINTR)
			;
		child_free(c);
	}
	if (r->sigchld_ev != NULL)
		event_free(r->sigchld_ev);
	free(r);
}

size_t
runner_active(const struct runner *r)
{
	if (r->remote != NULL)
		return r->remote->active(r->remote_ctx);
	return r->nchildren;
}

void
runner_cancel(struct runner *r, uint64_t id)
{
	struct runner_child *c;

	if (r->remote != NULL) {
		r->remote->cancel(r->remote_ctx, id, 0);
		return;
	}
	c = child_find_id(r, id);
	if (c == NULL || c->canceled)
		return;
	c->canceled = 1;
	evtimer_del(c->timeout_ev);
	if (!c->term_sent)
		child_escalate(c);
}

void
runner_abandon(struct runner *r, uint64_t id)
{
	struct runner_child *c;

	if (r->remote != NULL) {
		r->remote->cancel(r->remote_ctx, id, 1);
		return;
	}
	c = child_find_id(r, id);
	if (c == NULL)
		return;
	c->cb = NULL;
	runner_cancel(r, id);
}

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
			child_free(c);
			return NULL;
		}
	}
	c->timeout_ev = evtimer_new(r->base, child_timeout_cb, c);
	c->kill_ev = evtimer_new(r->base, child_kill_cb, c);
	if (c->timeout_ev == NULL || c->kill_ev == NULL) {
		cerr_set(err, CERR_INTERNAL, "runner: cannot make timers");
		child_free(c);
		return NULL;
	}
	return c;
}

/* Arms the events of a forked child and puts it in the table. */
static int
child_watch(struct runner *r, struct runner_child *c,
    const struct runner_spec *spec, struct cerr *err)
{
	struct timeval tv = ms_to_tv(spec->timeout_ms);

	c->read_ev = event_new(
	    r->base, c->out_fd, EV_READ | EV_PERSIST, child_read_cb, c);
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
	int64_t real = clock_ns(CLOCK_REALTIME);
	int64_t mono = clock_ns(CLOCK_MONOTONIC);
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
	int64_t mono = clock_ns(CLOCK_MONOTONIC);
	int64_t left = go_mono_ns > mono ? go_mono_ns - mono : 0;

	c->started_ms = (clock_ns(CLOCK_REALTIME) + left) / 1000000;
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
	child_free(c);
	free(groups);
	return rc;
}
