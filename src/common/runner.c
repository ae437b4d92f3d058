/*
 * runner: the table of live children and the calls on it (see runner.h):
 * making and freeing a runner (or the forwarding one of a
 * privilege-separated target), counting, canceling and abandoning
 * children. A child enters the table in runner_spawn.c (runner_start())
 * and leaves it in runner_reap.c, once both its exit status and its
 * output pipe's EOF are in; the types the three share are in
 * runner_int.h.
 */
#include "common/runner.h"

#include <sys/queue.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/buf.h"
#include "common/runner_int.h"

int64_t
runner_clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct timeval
runner_ms_to_tv(int64_t ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return tv;
}

void
runner_child_free(struct runner_child *c)
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
child_find_id(struct runner *r, uint64_t id)
{
	struct runner_child *c;

	TAILQ_FOREACH(c, &r->children, entry)
	if (c->id == id)
		return c;
	return NULL;
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
		runner_child_free(c);
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
		runner_child_escalate(c);
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
