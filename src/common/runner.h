/*
 * runner: starts step processes and reports how each ended. It owns the
 * table of live children: one SIGCHLD libevent signal event, a
 * waitpid(-1, WNOHANG) loop dispatching by PID, one pipe per child for
 * stdout+stderr. A step is finished only when both its exit status and the
 * EOF of its output pipe have arrived, in either order. Each child leads
 * its own process group, so a timeout or a cancel kills the whole tree
 * (SIGTERM to the group, SIGKILL after a grace period).
 *
 * This is the seam for privilege separation: nothing here touches the
 * network or the stores, and a spec is plain data. A target started as
 * root with "user = NAME" forks a small privileged runner process at start
 * (src/target/runner_ipc.h) and drops to NAME; its runner is then made
 * with runner_new_remote() and forwards every call below to that process.
 */
#ifndef COHORT_RUNNER_H
#define COHORT_RUNNER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/cerr.h"

struct event_base;
struct runner;

struct runner_spec {
	const char *const *argv; /* argv[0]: absolute path or PATH name */
	const char *const *envp; /* the whole environment */
	const char *cwd; /* NULL: "/" */
	int64_t timeout_ms; /* 0: none */
	int64_t kill_grace_ms; /* SIGTERM -> SIGKILL; 0: 5000 */
	size_t max_output_bytes; /* captured; the rest is read and dropped */
	/* Run as another user (a proxy; needs root). With set_user the child
	 * calls setgid(gid), takes user's supplementary groups (as
	 * initgroups(user, gid) would) and setuid(uid), in that order, before
	 * chdir and exec; any failure is reported like a failed exec. */
	uid_t uid;
	gid_t gid;
	const char *user;
	int set_user;
	/* Called in the parent right after fork, before the child may go on
	 * to exec: the child waits on a pipe until this returns, so the
	 * caller can first record the new process group durably (the child
	 * leads it: pid == pgid). If the daemon dies meanwhile, the child
	 * reads EOF and exits without running anything. A failure kills the
	 * child and fails runner_start() with its error. NULL: no wait. */
	int (*on_spawn)(void *arg, pid_t pid, struct cerr *err);
	void *on_spawn_arg;
	/* A file opened for appending as the step's user when it ends
	 * (O_NOFOLLOW, regular files only), or NULL: the result carries the
	 * descriptor, so only the runner ever acts as another user. */
	const char *output_file;
	/* A wall-clock instant (UTC ms) the step must not exec before, or
	 * 0. The child waits for it after it is let go, so a scheduled run
	 * can be made ready (recorded, forked, its process group recorded)
	 * just ahead of its due instant and exec on it. At most
	 * RUNNER_NOT_BEFORE_MAX_MS ahead is honoured. */
	int64_t not_before_ms;
};

#define RUNNER_NOT_BEFORE_MAX_MS 1000

/* How long a step started at now_ms waits for not_before_ms (both UTC
 * ms): 0 when that has passed or is 0, at most RUNNER_NOT_BEFORE_MAX_MS.
 * The runner and its callers all take the wait from here. */
int64_t runner_wait_ms(int64_t not_before_ms, int64_t now_ms);

struct runner_result {
	pid_t pid;
	int spawned; /* 0: fork/exec failed, see error */
	int exited; /* exited normally: exit_code is valid */
	int exit_code;
	int term_signal; /* killed by this signal, 0 if none */
	int timed_out;
	int canceled;
	const char *output; /* borrowed for the callback; NUL-terminated */
	size_t output_len;
	size_t output_dropped; /* bytes beyond max_output_bytes */
	int64_t started_ms; /* wall clock, UTC ms */
	int64_t duration_ms;
	char error[256]; /* why it could not run, or "" */
	int output_fd; /* spec->output_file opened for appending,
				 * owned by the callback (close it), or -1 */
	char output_error[128]; /* why it could not be opened, or "" */
};

/* Called exactly once per successful runner_start(), from the event loop. */
typedef void (*runner_done_cb)(void *arg, const struct runner_result *res);

/* Installs the SIGCHLD event on base. One runner per process. */
struct runner *runner_new(struct event_base *base, struct cerr *err);
/* Kills every live process group (SIGKILL), reaps them, frees. The done
 * callbacks of those children are not called. */
void runner_free(struct runner *r);

/* A runner whose calls are forwarded elsewhere (the privileged runner
 * process, src/target/runner_ipc.c): the calls below go to ops with ctx.
 * Takes ownership of ctx (ops->free releases it), also on failure. */
struct runner_remote {
	int (*start)(void *ctx, const struct runner_spec *spec,
	    runner_done_cb cb, void *arg, uint64_t *id_out, struct cerr *err);
	void (*cancel)(void *ctx, uint64_t id, int abandon);
	size_t (*active)(const void *ctx);
	void (*free)(void *ctx);
	/* 0 while it can start children, else -1 with the reason */
	int (*check)(const void *ctx, struct cerr *err);
};
struct runner *runner_new_remote(
    const struct runner_remote *ops, void *ctx, struct cerr *err);
/* 1 when this runner can run steps as other users: it is root, or it
 * forwards to the privileged runner process. */
int runner_privileged(const struct runner *r);
/* 0 while r can start children; -1 with the reason once a forwarding
 * runner has lost the process it forwards to. */
int runner_check(const struct runner *r, struct cerr *err);

/* Starts a child. A failed exec (no such file, not executable, bad cwd)
 * still counts as started: the callback reports spawned = 0 and the
 * reason, so callers have one path for every outcome. Fails only when no
 * process could be made at all (fork/pipe). *id_out identifies the child
 * for runner_cancel(). */
int runner_start(struct runner *r, const struct runner_spec *spec,
    runner_done_cb cb, void *arg, uint64_t *id_out, struct cerr *err);
/* SIGTERM to the child's group, SIGKILL after the grace period; the
 * result says canceled. Unknown or finished ids are ignored. */
void runner_cancel(struct runner *r, uint64_t id);
size_t runner_active(const struct runner *r);
/* Like runner_cancel(), but the child's callback will not be called: for
 * an owner that goes away before its child ends (the child is still
 * killed and reaped). Call it before runner_free(). */
void runner_abandon(struct runner *r, uint64_t id);

#endif
