/*
 * runner_int: what runner.c (the table), runner_spawn.c (the fork) and
 * runner_reap.c (how a child ends) share. Not for other files.
 */
#ifndef COHORT_RUNNER_INT_H
#define COHORT_RUNNER_INT_H

#include <sys/queue.h>
#include <sys/time.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <event2/event.h>

#include "common/buf.h"
#include "common/runner.h"

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

/* runner.c: clk's reading in nanoseconds; ms as a struct timeval; a
 * child's events, descriptors and memory freed (NULL: nothing). */
int64_t runner_clock_ns(clockid_t clk);
struct timeval runner_ms_to_tv(int64_t ms);
void runner_child_free(struct runner_child *c);

/* runner_reap.c: the events of a child in the table (its output pipe,
 * its timeout, the next step of its killing, SIGCHLD for them all), and
 * one step of the escalation a timeout or a cancel starts. */
void runner_child_read_cb(evutil_socket_t fd, short what, void *arg);
void runner_child_escalate(struct runner_child *c);
void runner_child_kill_cb(evutil_socket_t fd, short what, void *arg);
void runner_child_timeout_cb(evutil_socket_t fd, short what, void *arg);
void runner_sigchld_cb(evutil_socket_t sig, short what, void *arg);

#endif
