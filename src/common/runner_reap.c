/*
 * runner_reap: how a child of the runner ends (see runner.h). A SIGCHLD
 * signal event drains waitpid(-1, WNOHANG) and looks each PID up in the
 * table (runner.c), and a read event per child drains its output pipe
 * into a bounded buffer. The two halves meet in child_maybe_finish(): the
 * callback runs once both the exit status and the pipe's EOF are in, so
 * output written by a grandchild after the leader exited is not lost. The
 * status pipe (runner_spawn.c) is read only once the child is reaped,
 * when it can no longer block. A timeout or a cancel escalates here
 * (SIGTERM, SIGKILL, then stop waiting), and the step's output file is
 * opened here, as its user, for the result.
 */
#include "common/runner.h"

#include <sys/fsuid.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/buf.h"
#include "common/runner_int.h"

#define RUNNER_READ_CHUNK 65536
#define RUNNER_READS_PER_EVENT 16 /* then let other events run */

static int64_t
clock_ms(clockid_t clk)
{
	return runner_clock_ns(clk) / 1000000;
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
	runner_child_free(c);
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
void
runner_child_read_cb(evutil_socket_t fd, short what, void *arg)
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
void
runner_child_escalate(struct runner_child *c)
{
	struct timeval tv = runner_ms_to_tv(c->grace_ms);

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

void
runner_child_kill_cb(evutil_socket_t fd, short what, void *arg)
{
	runner_child_escalate(arg);
}

void
runner_child_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct runner_child *c = arg;

	c->timed_out = 1;
	runner_child_escalate(c);
}

void
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
