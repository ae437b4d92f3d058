/*
 * runner_ipc_child: the privileged runner process (see runner_ipc.h). It
 * keeps only the socketpairs and stdio, runs its own event loop with a
 * local runner (runner.c), starts the specs it is sent (after checking
 * who they would run as), and sends each result back, with the output
 * file's descriptor when the step named one. Nothing else happens here.
 *
 * Its socket stays blocking: it writes whole frames (the network side
 * always reads, from its event loop), and while a new step waits to be
 * released (SPAWNED sent, RELEASE or REFUSE awaited) it reads on until
 * that answer comes, setting aside any other frame to handle afterwards
 * in order.
 */
#include "target/runner_ipc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "common/log.h"
#include "target/runner_ipc_codec.h"

#define SOCK_FD 3
#define FDSOCK_FD 4
#define READ_CHUNK 65536

/* A step in progress: the network side's id and the local runner's. */
struct step {
	struct server *srv;
	uint64_t id;
	uint64_t local_id;
	struct step *next;
};

struct server {
	struct event_base *base;
	struct runner *runner;
	struct event *read_ev;
	struct evbuffer *in;
	const struct runner_ipc_ident *allowed;
	size_t nallowed;
	struct step *steps;
};

static void
step_forget(struct server *srv, struct step *s)
{
	for (struct step **p = &srv->steps; *p != NULL; p = &(*p)->next) {
		if (*p == s) {
			*p = s->next;
			break;
		}
	}
	free(s);
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A frame that cannot be sent means the network side is gone. */
static void
send_buf(struct server *srv, const struct buf *b)
{
	if (write_all(SOCK_FD, b->data, b->len) < 0)
		event_base_loopbreak(srv->base);
}

static int
send_fd(int fd)
{
	char byte = 0, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {&byte, 1};
	struct msghdr msg;
	struct cmsghdr *c;

	memset(&msg, 0, sizeof(msg));
	memset(cbuf, 0, sizeof(cbuf));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(FDSOCK_FD, &msg, 0) == 1 ? 0 : -1;
}

static void
send_result(struct server *srv, uint64_t id, const struct runner_result *r)
{
	struct runner_result res = *r;
	struct cerr err;
	struct buf b;
	int has_fd = 0;

	if (res.output_fd >= 0) {
		has_fd = send_fd(res.output_fd) == 0;
		if (!has_fd)
			snprintf(res.output_error, sizeof(res.output_error),
			    "cannot pass it on: %s", strerror(errno));
		close(res.output_fd);
	}
	buf_init(&b, RUNNER_IPC_FRAME_MAX + 16);
	if (runner_ipc_put_result(&b, id, &res, has_fd, &err) < 0)
		log_error("runner", "id=%llu msg=%s", (unsigned long long)id,
		    LOG_TEXT(err.msg));
	else
		send_buf(srv, &b);
	buf_cleanup(&b);
}

/* A result without a process: the spec was refused or could not run. */
static void
send_failure(struct server *srv, uint64_t id, const char *why)
{
	struct runner_result res;

	memset(&res, 0, sizeof(res));
	res.exit_code = -1;
	res.output = "";
	res.output_fd = -1;
	snprintf(res.error, sizeof(res.error), "%s", why);
	send_result(srv, id, &res);
}

static void
done_cb(void *arg, const struct runner_result *res)
{
	struct step *s = arg;

	send_result(s->srv, s->id, res);
	step_forget(s->srv, s);
}

/* Who a spec would run as must be one of the configured users: the
 * network side is trusted no further than the configuration. A spec for
 * this process's own (non-root) user needs no switch. */
static int
check_ident(
    const struct server *srv, struct runner_spec *spec, struct cerr *err)
{
	if (!spec->set_user || spec->uid == 0)
		return cerr_set(err, CERR_FORBIDDEN,
		    "the runner process runs nothing as root");
	if (spec->uid == geteuid() && spec->gid == getegid()) {
		spec->set_user = 0;
		return 0;
	}
	for (size_t i = 0; i < srv->nallowed; i++) {
		if (srv->allowed[i].uid == spec->uid &&
		    srv->allowed[i].gid == spec->gid) {
			spec->user = srv->allowed[i].user;
			return 0;
		}
	}
	return cerr_set(err, CERR_FORBIDDEN,
	    "user %u group %u is neither a proxy nor the daemon's user",
	    (unsigned)spec->uid, (unsigned)spec->gid);
}

/* Puts a frame back together, to handle it later. */
static int
set_aside(struct evbuffer *out, uint8_t type, const unsigned char *payload,
    size_t len)
{
	uint32_t n = (uint32_t)len + 1;

	if (evbuffer_add(out, &n, sizeof(n)) < 0 ||
	    evbuffer_add(out, &type, 1) < 0 ||
	    evbuffer_add(out, payload, len) < 0)
		return -1;
	return 0;
}

/* Reads frames until the answer about step id; 1 released, 0 refused,
 * -1 when the network side is gone or spoke nonsense. */
static int
await_answer(struct server *srv, uint64_t id, struct evbuffer *later)
{
	unsigned char *payload = NULL;
	struct cerr err;
	uint64_t got;
	uint8_t type;
	size_t len;
	int rc;

	for (;;) {
		rc = runner_ipc_frame(srv->in, &type, &payload, &len, &err);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			rc = evbuffer_read(srv->in, SOCK_FD, READ_CHUNK);
			if (rc == 0 || (rc < 0 && errno != EINTR))
				return -1;
			continue;
		}
		if ((type == RUNNER_IPC_RELEASE || type == RUNNER_IPC_REFUSE) &&
		    runner_ipc_get_id(payload, len, &got, &err) == 0 &&
		    got == id) {
			free(payload);
			return type == RUNNER_IPC_RELEASE;
		}
		rc = set_aside(later, type, payload, len);
		free(payload);
		if (rc < 0)
			return -1;
	}
}

/* runner_spec.on_spawn in this process: the network side records the
 * process group, then answers. */
static int
step_spawned(void *arg, pid_t pid, struct cerr *err)
{
	struct step *s = arg;
	struct server *srv = s->srv;
	struct evbuffer *later = evbuffer_new();
	struct buf b;
	int rc = -1;

	buf_init(&b, 64);
	if (later == NULL || runner_ipc_put_spawned(&b, s->id, pid, err) < 0)
		goto out;
	if (write_all(SOCK_FD, b.data, b.len) < 0) {
		cerr_set(err, CERR_UNAVAILABLE, "the network side is gone");
		goto out;
	}
	rc = await_answer(srv, s->id, later);
	if (rc < 0)
		cerr_set(err, CERR_UNAVAILABLE, "the network side is gone");
	else if (rc == 0)
		cerr_set(err, CERR_CONFLICT, "refused by the network side");
	rc = rc == 1 ? 0 : -1;
out:
	if (later != NULL) {
		evbuffer_prepend_buffer(srv->in, later);
		evbuffer_free(later);
	}
	buf_cleanup(&b);
	if (later == NULL)
		cerr_set(err, CERR_INTERNAL, "out of memory");
	return rc;
}

static void
handle_start(struct server *srv, unsigned char *payload, size_t len)
{
	struct runner_ipc_spec rs;
	struct step *s;
	struct cerr err;

	if (runner_ipc_get_spec(payload, len, &rs, &err) < 0) {
		/* no id to answer to: the network side sees the end */
		log_error("runner", "msg=%s", LOG_TEXT(err.msg));
		event_base_loopbreak(srv->base);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		send_failure(srv, rs.id, "runner process: out of memory");
		runner_ipc_spec_free(&rs);
		return;
	}
	s->srv = srv;
	s->id = rs.id;
	s->next = srv->steps;
	srv->steps = s;
	if (rs.hold) {
		rs.spec.on_spawn = step_spawned;
		rs.spec.on_spawn_arg = s;
	}
	if (check_ident(srv, &rs.spec, &err) < 0 ||
	    runner_start(
		srv->runner, &rs.spec, done_cb, s, &s->local_id, &err) < 0) {
		step_forget(srv, s);
		send_failure(srv, rs.id, err.msg);
	}
	runner_ipc_spec_free(&rs);
}

static void
handle_stop(
    struct server *srv, uint8_t type, const unsigned char *payload, size_t len)
{
	struct cerr err;
	uint64_t id;

	if (runner_ipc_get_id(payload, len, &id, &err) < 0) {
		log_error("runner", "msg=%s", LOG_TEXT(err.msg));
		event_base_loopbreak(srv->base);
		return;
	}
	for (struct step *s = srv->steps; s != NULL; s = s->next) {
		if (s->id != id)
			continue;
		if (type == RUNNER_IPC_ABANDON) {
			runner_abandon(srv->runner, s->local_id);
			step_forget(srv, s);
		} else {
			runner_cancel(srv->runner, s->local_id);
		}
		return;
	}
}

/* Handles every whole frame in srv->in. RELEASE and REFUSE outside a
 * wait answer a step that is gone already: ignored. */
static void
handle_frames(struct server *srv)
{
	unsigned char *payload = NULL;
	struct cerr err;
	uint8_t type;
	size_t len;
	int rc;

	while ((rc = runner_ipc_frame(srv->in, &type, &payload, &len, &err)) ==
	    1) {
		if (type == RUNNER_IPC_START) {
			handle_start(srv, payload, len); /* takes payload */
			continue;
		}
		if (type == RUNNER_IPC_CANCEL || type == RUNNER_IPC_ABANDON)
			handle_stop(srv, type, payload, len);
		else if (type != RUNNER_IPC_RELEASE &&
		    type != RUNNER_IPC_REFUSE)
			log_error("runner", "msg=\"unexpected frame type %u\"",
			    (unsigned)type);
		free(payload);
	}
	if (rc < 0) {
		log_error("runner", "msg=%s", LOG_TEXT(err.msg));
		event_base_loopbreak(srv->base);
	}
}

/* The network side wrote, or is gone (EOF): then end, killing every
 * step first (runner_free). */
static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	int n = evbuffer_read(srv->in, fd, READ_CHUNK);

	if (n < 0 && errno == EINTR)
		return;
	if (n <= 0) {
		event_base_loopbreak(srv->base);
		return;
	}
	handle_frames(srv);
}

/* Only the socketpairs (on fixed numbers) and stdio stay open. */
static void
keep_fds(int sock, int fdsock)
{
	int s = fcntl(sock, F_DUPFD_CLOEXEC, 64);
	int f = fcntl(fdsock, F_DUPFD_CLOEXEC, 64);

	if (s < 0 || f < 0 || dup3(s, SOCK_FD, O_CLOEXEC) < 0 ||
	    dup3(f, FDSOCK_FD, O_CLOEXEC) < 0)
		_exit(70);
	if (close_range(FDSOCK_FD + 1, ~0U, 0) < 0)
		for (int fd = FDSOCK_FD + 1; fd < 65536; fd++)
			close(fd);
}

void
runner_ipc_child_main(
    int sock, int fdsock, const struct runner_ipc_ident *allowed, size_t n)
{
	struct server srv;
	struct cerr err;
	int rc = 1;

	memset(&srv, 0, sizeof(srv));
	prctl(PR_SET_NAME, "cohortd-runner");
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	keep_fds(sock, fdsock);
	srv.allowed = allowed;
	srv.nallowed = n;
	srv.base = event_base_new();
	srv.in = evbuffer_new();
	if (srv.base == NULL || srv.in == NULL)
		_exit(70);
	srv.runner = runner_new(srv.base, &err);
	srv.read_ev =
	    event_new(srv.base, SOCK_FD, EV_READ | EV_PERSIST, read_cb, &srv);
	if (srv.runner == NULL || srv.read_ev == NULL ||
	    event_add(srv.read_ev, NULL) < 0) {
		log_error("runner", "msg=\"cannot start the runner process\"");
		goto out;
	}
	event_base_dispatch(srv.base);
	rc = 0;
out:
	runner_free(srv.runner);
	while (srv.steps != NULL)
		step_forget(&srv, srv.steps);
	if (srv.read_ev != NULL)
		event_free(srv.read_ev);
	evbuffer_free(srv.in);
	event_base_free(srv.base);
	_exit(rc);
}
