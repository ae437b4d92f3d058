/*
 * runner_ipc: privilege separation of a target (STYLE.md; after OpenBSD's
 * relayd proc.c). A target started as root with "user = NAME" forks, first
 * thing at start, a small runner process that stays root and does only
 * what needs root: starting steps as their users (setgid, setgroups,
 * setuid) and opening their output files as those users. The network side
 * then drops to NAME (privdrop.c) and talks to the runner process over a
 * socketpair: length-prefixed frames of plain data (runner_ipc_codec.h),
 * every length checked against a maximum before use. An output file's
 * descriptor comes back over a second socketpair (SCM_RIGHTS), sent
 * before the result that announces it.
 *
 * A step's process group comes back in a SPAWNED frame before the step
 * may exec; the runner process waits for the network side to record it
 * (runner_spec.on_spawn) and release the step, or to refuse it.
 *
 * The runner process holds no network connection, no store, no key; it
 * ignores SIGINT, SIGTERM and SIGHUP and ends when the network side goes
 * away (EOF on the socketpair), killing every step first. It trusts the
 * network side no further than the configuration does: a step runs only
 * as one of the users and groups resolved at fork time from the "proxy"
 * lines and "user" (never as root), whatever a spec asks for.
 */
#ifndef COHORT_RUNNER_IPC_H
#define COHORT_RUNNER_IPC_H

#include <stddef.h>
#include <sys/types.h>

#include "common/cerr.h"
#include "common/conf.h"
#include "common/runner.h"

struct event_base;
struct runner_ipc;

/* A user and group the runner process may run steps as; the user's name
 * picks the supplementary groups, so it is the configured one, never the
 * one a spec names. */
struct runner_ipc_ident {
	uid_t uid;
	gid_t gid;
	char user[NAME_MAX_LEN + 1];
};

/* Resolves conf's proxies and "user" (which must exist and not be root)
 * and forks the runner process with them. Only the caller (the network
 * side) returns: with *out, its end of the socketpairs. */
int runner_ipc_fork(
    const struct conf *conf, struct runner_ipc **out, struct cerr *err);

/* Forks a runner process that may run steps as the n identities of
 * allowed (and as itself when it is not root: for tests). */
int runner_ipc_spawn(const struct runner_ipc_ident *allowed, size_t n,
    struct runner_ipc **out, struct cerr *err);

/* The runner (runner.h) that forwards to ipc, watched on base; it takes
 * ipc over, also on failure. runner_free() then closes the socketpair
 * and waits for the runner process, which kills every step and ends. */
struct runner *runner_ipc_runner(
    struct runner_ipc *ipc, struct event_base *base, struct cerr *err);

/* The runner process's pid. */
pid_t runner_ipc_pid(const struct runner_ipc *ipc);

/* Closes the socketpairs and waits for the runner process. NULL is a
 * no-op. No callback is called. */
void runner_ipc_free(struct runner_ipc *ipc);

/* Internal to runner_ipc*.c: the runner process's life
 * (runner_ipc_child.c). Never returns. */
void runner_ipc_child_main(int sock, int fdsock,
    const struct runner_ipc_ident *allowed, size_t n) __attribute__((noreturn));

#endif
