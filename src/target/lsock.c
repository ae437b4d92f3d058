/*
 * lsock: the local control socket (see lsock.h): binding it safely,
 * checking who calls, routing to the handlers in lapi.c, and replying.
 *
 * Binding: a socket file left by a daemon that died is removed; one that
 * still answers belongs to a running daemon and is refused; anything that
 * is not a socket is never removed. The file is created with umask 0177
 * (so it is 0600 from its first instant) and its mode is set again after
 * bind in case the file system ignores the umask.
 */
#include "target/lsock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "common/json.h"
#include "common/log.h"
#include "common/sockpath.h"

#define LSOCK_BACKLOG 16
#define LSOCK_TIMEOUT_S 30
#define LSOCK_JSON_DEPTH 32

struct lsock {
	struct evhttp *http;
	struct evconnlistener *listener;
	int bound; /* the socket file is ours to remove */
	char path[CONF_STR_MAX + 32];
};

struct lroute {
	enum evhttp_cmd_type method;
	const char *pattern; /* at most one {name} */
	void (*handler)(struct lreq *r);
};

static const struct lroute routes[] = {
    {EVHTTP_REQ_GET, "/v1/local/jobs", lapi_jobs_list},
    {EVHTTP_REQ_GET, "/v1/local/jobs/{name}", lapi_job_get},
    {EVHTTP_REQ_PUT, "/v1/local/jobs/{name}", lapi_job_put},
    {EVHTTP_REQ_DELETE, "/v1/local/jobs/{name}", lapi_job_delete},
    {EVHTTP_REQ_POST, "/v1/local/jobs/{name}/start", lapi_job_start},
    {EVHTTP_REQ_POST, "/v1/local/jobs/{name}/stop", lapi_job_stop},
    {EVHTTP_REQ_GET, "/v1/local/history", lapi_history},
    {EVHTTP_REQ_POST, "/v1/local/upload", lapi_upload},
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

void
lsock_reply_json(struct lreq *r, int status, json_t *body)
{
	char *text = body != NULL ? json_dump_compact(body) : NULL;
	struct evbuffer *out = evbuffer_new();

	json_decref(body);
	if (text == NULL || out == NULL) {
		status = 500;
		free(text);
		text = strdup("{\"error\":{\"code\":\"internal\",\"message\":"
			      "\"out of memory\"}}");
	}
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Content-Type", "application/json");
	if (out != NULL && text != NULL)
		evbuffer_add(out, text, strlen(text));
	evhttp_send_reply(r->req, status, status < 300 ? "OK" : "Error", out);
	if (out != NULL)
		evbuffer_free(out);
	free(text);
	r->req = NULL;
}

void
lsock_reply_error(struct lreq *r, const struct cerr *err)
{
	lsock_reply_json(r, cerr_http_status(err->code),
	    json_pack("{s:{s:s,s:s}}", "error", "code",
		cerr_code_name(err->code), "message", err->msg));
}

const char *
lsock_query(const struct lreq *r, const char *name)
{
	return evhttp_find_header(&r->query, name);
}

/* Matches path against pattern; the {name} segment (still %-encoded)
 * goes to name. */
static int
match(const char *pattern, const char *path, char *name, size_t size)
{
	const char *hole = strstr(pattern, "{name}");
	size_t pre, len;
	const char *end;

	name[0] = '\0';
	if (hole == NULL)
		return strcmp(pattern, path) == 0;
	pre = (size_t)(hole - pattern);
	if (strncmp(pattern, path, pre) != 0)
		return 0;
	end = strchr(path + pre, '/');
	len = end != NULL ? (size_t)(end - (path + pre)) : strlen(path + pre);
	if (len == 0 || len >= size ||
	    strcmp(hole + 6, end != NULL ? end : "") != 0)
		return 0;
	memcpy(name, path + pre, len);
	name[len] = '\0';
	return 1;
}

/* Only root and the daemon's own user. */
static int
peer_check(struct evhttp_request *req, struct cerr *err)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	struct bufferevent *bev =
	    c != NULL ? evhttp_connection_get_bufferevent(c) : NULL;
	evutil_socket_t fd = bev != NULL ? bufferevent_getfd(bev) : -1;
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return cerr_set(err, CERR_FORBIDDEN,
		    "cannot read the caller's credentials");
	if (cr.uid != 0 && cr.uid != geteuid())
		return cerr_set(err, CERR_FORBIDDEN,
		    "uid %d may not use this socket (only root and uid %d)",
		    (int)cr.uid, (int)geteuid());
	return 0;
}

static int
read_body(struct lreq *r, struct cerr *err)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);

	if (len == 0)
		return 0;
	r->body = json_parse_limited((const char *)evbuffer_pullup(in, -1), len,
	    LSOCK_MAX_BODY, LSOCK_JSON_DEPTH, err);
	return r->body != NULL ? 0 : cerr_wrap(err, "request body");
}

/* The route for the request's path and method; NULL with err set. */
static const struct lroute *
route(
    struct lreq *r, const char *path, char *name, size_t size, struct cerr *err)
{
	int path_known = 0;

	for (size_t i = 0; i < NROUTES; i++) {
		if (!match(routes[i].pattern, path, name, size))
			continue;
		path_known = 1;
		if (routes[i].method == evhttp_request_get_command(r->req))
			return &routes[i];
	}
	if (path_known)
		cerr_set(err, CERR_INVALID, "%s: method not allowed", path);
	else
		cerr_set(err, CERR_NOT_FOUND, "%s: no such resource", path);
	return NULL;
}

/* Everything before the handler: caller, route, query, body. */
static int
prepare(struct lreq *r, const char *path, const char *query, char *name,
    size_t size, const struct lroute **rt, struct cerr *err)
{
	if (peer_check(r->req, err) < 0)
		return -1;
	if (path == NULL)
		return cerr_set(err, CERR_INVALID, "malformed request URI");
	*rt = route(r, path, name, size, err);
	if (*rt == NULL)
		return -1;
	if (query != NULL && evhttp_parse_query_str(query, &r->query) < 0)
		return cerr_set(err, CERR_INVALID, "malformed query string");
	return read_body(r, err);
}

static void
request_cb(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	const char *query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	struct lreq r;
	char name[JOB_NAME_MAX * 3 + 1], *decoded = NULL;
	const struct lroute *rt = NULL;
	struct cerr err;

	memset(&r, 0, sizeof(r));
	r.t = arg;
	r.req = req;
	TAILQ_INIT(&r.query);
	if (prepare(&r, path, query, name, sizeof(name), &rt, &err) < 0) {
		lsock_reply_error(&r, &err);
		goto out;
	}
	if (name[0] != '\0') {
		decoded = evhttp_uridecode(name, 0, NULL);
		r.arg = decoded;
	}
	rt->handler(&r);
	if (r.req != NULL) {
		cerr_set(&err, CERR_INTERNAL, "handler sent no reply");
		lsock_reply_error(&r, &err);
	}
out:
	free(decoded);
	json_decref(r.body);
	evhttp_clear_headers(&r.query);
}

/* Clears the way for bind: removes a stale socket file, refuses a live
 * one or anything else. */
static int
clear_path(const struct sockaddr_un *sa, const char *name, struct cerr *err)
{
	struct stat st;
	int fd, live;

	if (lstat(sa->sun_path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return cerr_set(
		    err, CERR_IO, "socket %s: %s", name, strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return cerr_set(err, CERR_IO,
		    "socket %s: exists and is not a "
		    "socket",
		    name);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cerr_set(err, CERR_IO, "socket: %s", strerror(errno));
	live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	if (live)
		return cerr_set(err, CERR_CONFLICT,
		    "socket %s: another "
		    "cohortd answers on it",
		    name);
	if (unlink(sa->sun_path) < 0)
		return cerr_set(
		    err, CERR_IO, "socket %s: %s", name, strerror(errno));
	return 0;
}

/* A listening AF_UNIX socket at sa, mode 0600; -1 with err set. */
static int
bind_socket(const struct sockaddr_un *sa, const char *name, struct cerr *err)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	mode_t old;
	int rc;

	if (fd < 0)
		return cerr_set(err, CERR_IO, "socket: %s", strerror(errno));
	old = umask(0177);
	rc = bind(fd, (const struct sockaddr *)sa, sizeof(*sa));
	umask(old);
	if (rc < 0 || chmod(sa->sun_path, 0600) < 0 ||
	    listen(fd, LSOCK_BACKLOG) < 0) {
		cerr_set(err, CERR_IO, "socket %s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The socket's path (from the key socket) and, through sp, an address
 * for it that fits sun_path however deep the state dir is. */
static int
socket_addr(const struct target *t, char *path, size_t size,
    struct sockpath *sp, struct sockaddr_un *sa, struct cerr *err)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (conf_state_path(t->conf, t->conf->socket, path, size, err) < 0 ||
	    sockpath_open(path, sp, err) < 0)
		return -1;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", sp->path);
	return 0;
}

int
lsock_start(struct target *t, struct cerr *err)
{
	struct lsock *ls = calloc(1, sizeof(*ls));
	struct sockpath sp = {"", -1};
	struct sockaddr_un sa;
	int fd = -1, rc = -1;

	if (ls == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	t->lsock = ls;
	if (socket_addr(t, ls->path, sizeof(ls->path), &sp, &sa, err) < 0 ||
	    clear_path(&sa, ls->path, err) < 0)
		goto out;
	fd = bind_socket(&sa, ls->path, err);
	if (fd < 0)
		goto out;
	ls->bound = 1;
	ls->http = evhttp_new(t->base);
	ls->listener = evconnlistener_new(t->base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (ls->listener == NULL)
		close(fd);
	if (ls->http == NULL || ls->listener == NULL ||
	    evhttp_bind_listener(ls->http, ls->listener) == NULL) {
		cerr_set(err, CERR_INTERNAL,
		    "socket %s: cannot serve HTTP "
		    "on it",
		    ls->path);
		goto out;
	}
	ls->listener = NULL; /* the evhttp owns it now */
	evhttp_set_max_body_size(ls->http, LSOCK_MAX_BODY);
	evhttp_set_timeout(ls->http, LSOCK_TIMEOUT_S);
	evhttp_set_allowed_methods(ls->http,
	    EVHTTP_REQ_GET | EVHTTP_REQ_PUT | EVHTTP_REQ_POST |
		EVHTTP_REQ_DELETE);
	evhttp_set_gencb(ls->http, request_cb, t);
	log_info("socket", "path=%s", ls->path);
	rc = 0;
out:
	sockpath_close(&sp);
	return rc;
}

void
lsock_stop(struct target *t)
{
	struct lsock *ls = t->lsock;

	if (ls == NULL)
		return;
	if (ls->http != NULL)
		evhttp_free(ls->http);
	if (ls->listener != NULL)
		evconnlistener_free(ls->listener);
	if (ls->bound)
		unlink(ls->path);
	free(ls);
	t->lsock = NULL;
}
