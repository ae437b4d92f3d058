/*
 * runner_ipc: the network side of privilege separation (see
 * runner_ipc.h): forking the runner process, and forwarding runner.h's
 * calls to it as a runner_remote. Each forwarded step waits in a list by
 * id until its result frame comes back; an output file's descriptor is
 * read from the second socketpair when its result says there is one (it
 * was sent before the result, so the read never waits). If the runner
 * process dies, every waiting step ends with spawned = 0 and the reason,
 * new steps fail, and the daemon's loop is stopped: a target that cannot
 * run steps should be restarted, not limp on.
 */
#include "target/runner_ipc.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/log.h"
#include "target/runner_ipc_codec.h"

#define IDENT_MAX (CONF_PROXY_MAX + 1)

struct pending {
	uint64_t id;
	runner_done_cb cb;
	void *arg;
	int (*on_spawn)(void *arg, pid_t pid, struct cerr *err);
	void *on_spawn_arg;
	char spawn_error[256]; /* why on_spawn refused it, or "" */
	struct pending *next;
};

struct runner_ipc {
	pid_t pid;
	int sock; /* until attached: then the bev's */
	int fdsock;
	struct event_base *base;
	struct bufferevent *bev;
	struct pending *pending;
	size_t npending;
	uint64_t next_id;
	int dead;
	char why[128]; /* why the runner process is gone */
};

/* One identity: a user and, when group is not "", that group. */
static int
ident_resolve(const char *user, const char *group, struct runner_ipc_ident *out)
{
	struct passwd *pw = getpwnam(user);
	struct group *gr;

	if (pw == NULL || pw->pw_uid == 0)
		return -1;
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	snprintf(out->user, sizeof(out->user), "%s", pw->pw_name);
	if (group[0] == '\0')
		return 0;
	gr = getgrnam(group);
	if (gr == NULL)
		return -1;
	out->gid = gr->gr_gid;
	return 0;
}

int
runner_ipc_fork(
    const struct conf *conf, struct runner_ipc **out, struct cerr *err)
{
	struct runner_ipc_ident allowed[IDENT_MAX];
	size_t n = 0;

	if (ident_resolve(conf->user, "", &allowed[n]) < 0)
		return cerr_set(err, CERR_INVALID,
		    "user: '%s' does not exist or is root: name an "
		    "unprivileged user",
		    conf->user);
	n++;
	/* a proxy that does not resolve is left out: a step naming it
	 * fails on the network side with the reason */
	for (int i = 0; i < conf->proxy_count && n < IDENT_MAX; i++)
		if (ident_resolve(conf->proxies[i].user, conf->proxies[i].group,
			&allowed[n]) == 0)
			n++;
	return runner_ipc_spawn(allowed, n, out, err);
}

int
runner_ipc_spawn(const struct runner_ipc_ident *allowed, size_t n,
    struct runner_ipc **out, struct cerr *err)
{
	struct runner_ipc *ipc = calloc(1, sizeof(*ipc));
	int sv[2] = {-1, -1}, fv[2] = {-1, -1}, rc = -1;
	pid_t pid;

	if (ipc == NULL)
		return cerr_set(err, CERR_INTERNAL, "runner: out of memory");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fv) < 0) {
		cerr_set(
		    err, CERR_IO, "runner: socketpair: %s", strerror(errno));
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		cerr_set(err, CERR_IO, "runner: fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		runner_ipc_child_main(sv[1], fv[1], allowed, n);
	ipc->pid = pid;
	ipc->sock = sv[0];
	ipc->fdsock = fv[0];
	ipc->next_id = 1;
	sv[0] = fv[0] = -1;
	*out = ipc;
	ipc = NULL;
	log_info("privsep", "runner_pid=%d identities=%zu", (int)pid, n);
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (sv[i] >= 0)
			close(sv[i]);
		if (fv[i] >= 0)
			close(fv[i]);
	}
	free(ipc);
	return rc;
}

pid_t
runner_ipc_pid(const struct runner_ipc *ipc)
{
	return ipc->pid;
}

static int
ipc_check(const void *ctx, struct cerr *err)
{
	const struct runner_ipc *ipc = ctx;

	if (!ipc->dead)
		return 0;
	return cerr_set(err, CERR_UNAVAILABLE,
	    "the runner process ended (%s); steps it ran are killed at the "
	    "next start",
	    ipc->why);
}

static struct pending *
pending_find(struct runner_ipc *ipc, uint64_t id, int take)
{
	for (struct pending **p = &ipc->pending; *p != NULL; p = &(*p)->next) {
		struct pending *hit = *p;

		if (hit->id != id)
			continue;
		if (take) {
			*p = hit->next;
			ipc->npending--;
		}
		return hit;
	}
	return NULL;
}

/* The runner process is gone or spoke nonsense: every waiting step ends
 * now, with the reason, and the daemon stops. */
static void
ipc_dead(struct runner_ipc *ipc, const char *why)
{
	struct runner_result res;
	struct pending *p;

	if (ipc->dead)
		return;
	log_error("runner_lost", "runner_pid=%d msg=%s", (int)ipc->pid,
	    LOG_TEXT(why));
	ipc->dead = 1;
	snprintf(ipc->why, sizeof(ipc->why), "%s", why);
	bufferevent_disable(ipc->bev, EV_READ | EV_WRITE);
	while ((p = ipc->pending) != NULL) {
		ipc->pending = p->next;
		ipc->npending--;
		memset(&res, 0, sizeof(res));
		res.exit_code = -1;
		res.output = "";
		res.output_fd = -1;
		snprintf(res.error, sizeof(res.error),
		    "the runner process ended (%s)", why);
		p->cb(p->arg, &res);
		free(p);
	}
	event_base_loopbreak(ipc->base);
}

static int
send_frame(struct runner_ipc *ipc, const struct buf *b, struct cerr *err)
{
	if (ipc->dead)
		return cerr_set(err, CERR_UNAVAILABLE,
		    "the runner process ended (%s)", ipc->why);
	if (bufferevent_write(ipc->bev, b->data, b->len) < 0)
		return cerr_set(err, CERR_INTERNAL, "runner: out of memory");
	return 0;
}

static int
send_id(struct runner_ipc *ipc, enum runner_ipc_type type, uint64_t id,
    struct cerr *err)
{
	struct buf b;
	int rc;

	buf_init(&b, 64);
	rc = runner_ipc_put_id(&b, type, id, err);
	if (rc == 0)
		rc = send_frame(ipc, &b, err);
	buf_cleanup(&b);
	return rc;
}

/* The descriptor sent before the result that announces it. */
static int
recv_fd(struct runner_ipc *ipc)
{
	char byte, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {&byte, 1};
	struct msghdr msg;
	struct cmsghdr *c;
	int fd = -1;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	if (recvmsg(ipc->fdsock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (c != NULL && c->cmsg_level == SOL_SOCKET &&
	    c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* A step's process group, before it may exec: the owner records it
 * (on_spawn) and the step is released, or refused and killed unrun. */
static int
handle_spawned(struct runner_ipc *ipc, const unsigned char *payload, size_t len,
    struct cerr *err)
{
	struct pending *p;
	struct cerr why;
	uint64_t id;
	pid_t pid;
	int ok = 0;

	if (runner_ipc_get_spawned(payload, len, &id, &pid, err) < 0)
		return -1;
	p = pending_find(ipc, id, 0);
	if (p != NULL) {
		ok = p->on_spawn == NULL ||
		    p->on_spawn(p->on_spawn_arg, pid, &why) == 0;
		if (!ok)
			snprintf(p->spawn_error, sizeof(p->spawn_error), "%s",
			    why.msg);
	}
	return send_id(
	    ipc, ok ? RUNNER_IPC_RELEASE : RUNNER_IPC_REFUSE, id, err);
}

static int
handle_done(struct runner_ipc *ipc, const unsigned char *payload, size_t len,
    struct cerr *err)
{
	struct runner_result res;
	struct pending *p;
	uint64_t id;
	int has_fd;

	if (runner_ipc_get_result(payload, len, &id, &res, &has_fd, err) < 0)
		return -1;
	if (has_fd) {
		res.output_fd = recv_fd(ipc);
		if (res.output_fd < 0)
			snprintf(res.output_error, sizeof(res.output_error),
			    "not received from the runner process");
	}
	p = pending_find(ipc, id, 1);
	if (p != NULL && p->spawn_error[0] != '\0' && !res.spawned)
		snprintf(res.error, sizeof(res.error), "%s", p->spawn_error);
	if (p != NULL)
		p->cb(p->arg, &res); /* the callback owns output_fd */
	else if (res.output_fd >= 0)
		close(res.output_fd);
	free(p);
	return 0;
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct runner_ipc *ipc = arg;
	unsigned char *payload = NULL;
	struct cerr err;
	uint8_t type;
	size_t len;
	int rc = 0;

	while (!ipc->dead &&
	    (rc = runner_ipc_frame(bufferevent_get_input(bev), &type, &payload,
		 &len, &err)) == 1) {
		if (type == RUNNER_IPC_DONE)
			rc = handle_done(ipc, payload, len, &err);
		else if (type == RUNNER_IPC_SPAWNED)
			rc = handle_spawned(ipc, payload, len, &err);
		else
			rc = cerr_set(&err, CERR_INVALID,
			    "runner: unexpected frame type %u", (unsigned)type);
		free(payload);
		payload = NULL;
		if (rc < 0)
			break;
	}
	if (rc < 0)
		ipc_dead(ipc, err.msg);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	ipc_dead(arg, (what & BEV_EVENT_EOF) ? "end of file" : "socket error");
}

static int
ipc_start(void *ctx, const struct runner_spec *spec, runner_done_cb cb,
    void *arg, uint64_t *id_out, struct cerr *err)
{
	struct runner_ipc *ipc = ctx;
	struct pending *p = calloc(1, sizeof(*p));
	struct buf b;
	int rc = -1;

	buf_init(&b, RUNNER_IPC_FRAME_MAX + 16);
	if (p == NULL) {
		cerr_set(err, CERR_INTERNAL, "runner: out of memory");
		goto out;
	}
	p->id = ipc->next_id;
	if (runner_ipc_put_spec(&b, p->id, spec, err) < 0 ||
	    send_frame(ipc, &b, err) < 0)
		goto out;
	ipc->next_id++;
	p->cb = cb;
	p->arg = arg;
	p->on_spawn = spec->on_spawn;
	p->on_spawn_arg = spec->on_spawn_arg;
	p->next = ipc->pending;
	ipc->pending = p;
	ipc->npending++;
	*id_out = p->id;
	p = NULL;
	rc = 0;
out:
	free(p);
	buf_cleanup(&b);
	return rc;
}

static void
ipc_cancel(void *ctx, uint64_t id, int abandon)
{
	struct runner_ipc *ipc = ctx;
	struct pending *p = pending_find(ipc, id, 0);
	struct cerr err;

	if (p == NULL)
		return;
	if (send_id(ipc, abandon ? RUNNER_IPC_ABANDON : RUNNER_IPC_CANCEL, id,
		&err) < 0)
		log_warn("runner_cancel", "id=%llu msg=%s",
		    (unsigned long long)id, LOG_TEXT(err.msg));
	/* no result comes back for an abandoned step: forget it now (a late
	 * SPAWNED for it is refused) */
	if (abandon)
		free(pending_find(ipc, id, 1));
}

static size_t
ipc_active(const void *ctx)
{
	const struct runner_ipc *ipc = ctx;

	return ipc->npending;
}

static void
ipc_free(void *ctx)
{
	runner_ipc_free(ctx);
}

static const struct runner_remote ipc_ops = {
    ipc_start, ipc_cancel, ipc_active, ipc_free, ipc_check};

struct runner *
runner_ipc_runner(
    struct runner_ipc *ipc, struct event_base *base, struct cerr *err)
{
	ipc->base = base;
	if (evutil_make_socket_nonblocking(ipc->sock) < 0) {
		runner_ipc_free(ipc);
		cerr_set(err, CERR_IO, "runner: nonblocking socket");
		return NULL;
	}
	ipc->bev =
	    bufferevent_socket_new(base, ipc->sock, BEV_OPT_CLOSE_ON_FREE);
	if (ipc->bev == NULL) {
		runner_ipc_free(ipc);
		cerr_set(err, CERR_INTERNAL, "runner: out of memory");
		return NULL;
	}
	ipc->sock = -1;
	bufferevent_setcb(ipc->bev, read_cb, NULL, event_cb, ipc);
	if (bufferevent_enable(ipc->bev, EV_READ) < 0) {
		runner_ipc_free(ipc);
		cerr_set(err, CERR_INTERNAL, "runner: cannot read its socket");
		return NULL;
	}
	return runner_new_remote(&ipc_ops, ipc, err);
}

void
runner_ipc_free(struct runner_ipc *ipc)
{
	struct pending *p;

	if (ipc == NULL)
		return;
	/* EOF now, even if libevent defers the close of the bev's fd */
	if (ipc->bev != NULL) {
		shutdown(bufferevent_getfd(ipc->bev), SHUT_RDWR);
		bufferevent_free(ipc->bev);
	}
	if (ipc->sock >= 0)
		close(ipc->sock);
	close(ipc->fdsock);
	/* EOF tells the runner process to kill every step and end. */
	while (waitpid(ipc->pid, NULL, 0) < 0 && errno == EINTR)
		;
	while ((p = ipc->pending) != NULL) {
		ipc->pending = p->next;
		free(p);
	}
	free(ipc);
}
