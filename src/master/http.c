/*
 * http: the master's HTTPS front (see http.h). One callback receives every
 * request; it identifies the caller from the TLS session, finds the route,
 * checks the caller's role against it, parses the body within limits and
 * hands a struct http_req to the route's handler.
 */
#include "master/http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>

#include "common/jobdoc.h"
#include "common/json.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/tls.h"
#include "common/utf8.h"
#include "common/version.h"
#include "master/api.h"
#include "master/caller.h"
#include "master/lease.h"
#include "master/master.h"

#define HTTP_MAX_HEADERS_BYTES 16384
#define HTTP_MAX_HEADER_LINES 100 /* the request line and 99 headers */

/* Every connection: TLS, with the guard in front of evhttp (guard.h). */
static struct bufferevent *
tls_bev_cb(struct event_base *base, void *arg)
{
	struct master *m = arg;
	struct bufferevent *bev;
	SSL *ssl = SSL_new(m->ssl_ctx);

	if (ssl == NULL)
		return NULL;
	bev = bufferevent_openssl_socket_new(
	    base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	/* Targets and curl may close without close_notify; that is no
	 * reason to report an error on a finished exchange. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return guard_wrap(base, bev, &m->guard);
}

/* Frees a connection's struct http_conn with its SSL object. */
static void
conn_free_cb(
    void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	free(ptr);
}

/* A {name} segment, %-decoded; NULL when it decodes to a NUL byte, which
 * would cut the name short ("app.js%00.html" is not "app.js"), or to
 * bytes that are not UTF-8 (no name is, and PostgreSQL would answer such
 * a lookup with an error where SQLite finds nothing). */
static void
decode_segment(const char *seg, size_t len, char **out)
{
	char *copy = strndup(seg, len);
	size_t decoded_len = 0;

	*out = copy ? evhttp_uridecode(copy, 0, &decoded_len) : NULL;
	free(copy);
	if (*out != NULL &&
	    (strlen(*out) != decoded_len || !utf8_valid(*out, decoded_len))) {
		free(*out);
		*out = NULL;
	}
}

int
http_match(const char *pattern, const char *path, char **args, int *nargs)
{
	const char *p = pattern, *q = path;

	*nargs = 0;
	while (*p != '\0' && *q != '\0') {
		const char *pe, *qe;
		size_t plen, qlen;

		if (*p != '/' || *q != '/')
			goto nomatch;
		p++;
		q++;
		pe = strchr(p, '/');
		qe = strchr(q, '/');
		plen = pe ? (size_t)(pe - p) : strlen(p);
		qlen = qe ? (size_t)(qe - q) : strlen(q);
		if (plen > 2 && p[0] == '{' && p[plen - 1] == '}') {
			if (qlen == 0 || *nargs >= HTTP_MAX_ARGS)
				goto nomatch;
			decode_segment(q, qlen, &args[*nargs]);
			if (args[*nargs] == NULL)
				goto nomatch;
			(*nargs)++;
		} else if (plen != qlen || strncmp(p, q, plen) != 0) {
			goto nomatch;
		}
		p += plen;
		q += qlen;
	}
	if (*p == '\0' && *q == '\0')
		return 1;
nomatch:
	for (int i = 0; i < *nargs; i++)
		free(args[i]);
	*nargs = 0;
	return 0;
}

const struct http_route *
http_find_route(const char *path, enum evhttp_cmd_type method, char **args,
    int *nargs, int *path_known)
{
	*path_known = 0;
	for (const struct http_route *rt = http_routes; rt->pattern; rt++) {
		if (!http_match(rt->pattern, path, args, nargs))
			continue;
		if (rt->method == method)
			return rt;
		*path_known = 1;
		for (int i = 0; i < *nargs; i++)
			free(args[i]);
		*nargs = 0;
	}
	return NULL;
}

static int
read_body(struct http_req *r, struct cerr *err)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	const char *text;

	if (len == 0)
		return 0;
	text = (const char *)evbuffer_pullup(in, -1);
	r->body =
	    json_parse_limited(text, len, (size_t)r->m->conf->max_body_bytes,
		(int)r->m->conf->max_json_depth, err);
	/* A held poll keeps its request for up to a minute: drop the text,
	 * the parsed body is all that is used. */
	evbuffer_drain(in, len);
	if (r->body == NULL)
		return cerr_wrap(err, "request body");
	return 0;
}

/* Checks the route's roles; fills err when the caller may not call it. */
/* The roles a route takes, as a refusal names them. */
static const char *
roles_text(unsigned roles)
{
	roles &= ~(unsigned)HTTP_ANON;
	if (roles == HTTP_ADMIN)
		return "an admin";
	if (roles == (HTTP_ADMIN | HTTP_OPERATOR))
		return "an admin or an operator";
	if (roles == HTTP_READERS)
		return "an admin, an operator or a viewer";
	return roles == HTTP_TARGET ? "a target's certificate" : "another role";
}

static int
check_access(
    const struct http_route *rt, const struct http_caller *c, struct cerr *err)
{
	if (rt->roles & HTTP_ANON)
		return 0;
	if (!c->authenticated) {
		*err = rt->roles == HTTP_TARGET && c->gone.code == CERR_GONE
		    ? c->gone
		    : c->why;
		return -1;
	}
	if ((rt->roles & c->role) == 0)
		return cerr_set(err, CERR_FORBIDDEN,
		    "%s '%s' may not call this: it takes %s", c->id.role,
		    c->id.name, roles_text(rt->roles));
	return 0;
}

int
http_cross_site(int dashboard_get, const char *fetch_site,
    const char *fetch_mode, const char *origin, const char *host,
    struct cerr *err)
{
	char own[300];

	/* A link from elsewhere to the dashboard opens it: a GET that
	 * navigates changes nothing and shows the other site nothing. */
	if (dashboard_get && fetch_mode != NULL &&
	    strcmp(fetch_mode, "navigate") == 0)
		return 0;
	if (fetch_site != NULL && strcmp(fetch_site, "same-origin") != 0 &&
	    strcmp(fetch_site, "none") != 0)
		return cerr_set(err, CERR_FORBIDDEN,
		    "cross-site request refused (Sec-Fetch-Site: %.40s): "
		    "the API answers its own dashboard, not other sites' "
		    "pages",
		    fetch_site);
	if (origin == NULL)
		return 0;
	snprintf(own, sizeof(own), "https://%s", host ? host : "");
	if (host == NULL || strcmp(origin, own) != 0)
		return cerr_set(err, CERR_FORBIDDEN,
		    "cross-site request refused (Origin: %.100s): "
		    "the API answers its own dashboard, not other sites' "
		    "pages",
		    origin);
	return 0;
}

/* The client's address, the rate limit's key for an anonymous call. */
static void
peer_key(struct evhttp_request *req, char *out, size_t size)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	char *addr = NULL;
	ev_uint16_t port = 0;

	if (conn != NULL)
		evhttp_connection_get_peer(conn, &addr, &port);
	snprintf(out, size, "addr:%s", addr ? addr : "?");
}

/* A browser sends the client certificate with any page's request to the
 * master, so a request another site's page made is refused before it
 * reaches a route (cross-site request forgery). cohortctl and targets
 * send neither header. */
static int
refuse_cross_site(
    struct evhttp_request *req, const char *path, struct cerr *err)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);

	return http_cross_site(
	    evhttp_request_get_command(req) == EVHTTP_REQ_GET &&
		strncmp(path, "/ui", 3) == 0,
	    evhttp_find_header(in, "Sec-Fetch-Site"),
	    evhttp_find_header(in, "Sec-Fetch-Mode"),
	    evhttp_find_header(in, "Origin"), evhttp_find_header(in, "Host"),
	    err);
}

/* Before anything else: the guard's stand-in for a refused request, and
 * the caller's request budget. Fills err when the request is refused. */
static int
admit(struct http_req *r, const char *path, struct cerr *err)
{
	char key[96];
	int64_t retry_s = 0;

	/* A forged request is refused before it costs the person's
	 * certificate any of its request budget. */
	if (guard_refusal(r->req, err) ||
	    refuse_cross_site(r->req, path, err) < 0)
		return -1;
	caller_identify(r->m, guard_ssl(r->req), &r->caller, &r->conn);
	if (r->caller.authenticated)
		snprintf(key, sizeof(key), "cert:%s", r->caller.id.serial_hex);
	else
		peer_key(r->req, key, sizeof(key));
	if (ratelimit_take(
		&r->m->ratelimit, key, ratelimit_now_ms(), &retry_s) < 0) {
		char retry[24];

		snprintf(retry, sizeof(retry), "%lld", (long long)retry_s);
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Retry-After", retry);
		return cerr_set(err, CERR_RATE_LIMITED,
		    "too many requests "
		    "from %s: at most %lld per second (retry in %lld s)",
		    r->caller.authenticated ? r->caller.id.name
					    : "this address",
		    (long long)r->m->conf->rate_limit_per_s,
		    (long long)retry_s);
	}
	return 0;
}

/* A refusal is logged (never with a secret: only codes, names and the
 * reason), so an operator sees who knocked. */
static void
refuse(struct http_req *r, const char *path, const struct cerr *err)
{
	log_warn("refused", "path=%.200s caller=%s code=%s msg=%s", path,
	    r->caller.authenticated ? r->caller.id.name : "-",
	    cerr_code_name(err->code), LOG_TEXT(err->msg));
	http_reply_error(r, err);
}

/* An API route takes the query parameters it names and no other: a
 * misspelt filter is refused, not ignored. The dashboard's files and
 * the metrics are not checked (a browser or a scraper may add its own).
 */
static int
query_names_check(
    const struct http_route *rt, const struct evkeyvalq *q, struct cerr *err)
{
	const struct evkeyval *kv;

	if (strncmp(rt->pattern, "/v1/", 4) != 0)
		return 0;
	TAILQ_FOREACH(kv, q, next)
	{
		const char *at = rt->query;
		size_t len = strlen(kv->key);
		int known = 0;

		while (at != NULL && *at != '\0' && !known) {
			size_t n = strcspn(at, " ");

			known = n == len && strncmp(at, kv->key, n) == 0;
			at += n;
			at += strspn(at, " ");
		}
		if (known)
			continue;
		if (rt->query == NULL)
			return cerr_set(err, CERR_INVALID,
			    "query parameter '%.40s': %s takes none", kv->key,
			    rt->pattern);
		return cerr_set(err, CERR_INVALID,
		    "query parameter '%.40s': %s takes %s", kv->key,
		    rt->pattern, rt->query);
	}
	return 0;
}

/* A standby serves nothing but its health and its metrics: every other
 * call, of any caller, is sent on to the active master (lease.h), a
 * person's browser by a redirect. 1 when it answered so. */
static int
standby_replied(
    struct http_req *r, const struct http_route *rt, const char *path)
{
	if (lease_is_active(r->m) || rt->handler == api_health ||
	    rt->handler == api_metrics)
		return 0;
	if (rt->handler == api_ui_index || rt->handler == api_ui_file ||
	    rt->handler == api_ui_redirect)
		api_ui_standby(r, path);
	else
		lease_reply_not_active(r);
	return 1;
}

/* Serves one request; returns the status it was answered with, 0 when
 * the handler kept it (a held poll). */
static int
serve(struct master *m, struct evhttp_request *req)
{
	struct http_req r;
	const struct http_route *rt = NULL;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	struct cerr err;
	int path_known = 0;

	memset(&r, 0, sizeof(r));
	r.m = m;
	r.req = req;
	TAILQ_INIT(&r.query);
	path = path ? path : "";
	r.peer_version = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Cohort-Version");
	if (admit(&r, path, &err) < 0) {
		refuse(&r, path, &err);
		goto out;
	}
	rt = http_find_route(path, evhttp_request_get_command(req), r.args,
	    &r.nargs, &path_known);
	if (rt == NULL) {
		cerr_set(&err, path_known ? CERR_INVALID : CERR_NOT_FOUND,
		    path_known ? "method not allowed on %.200s"
			       : "no such API path: %.200s",
		    path);
		refuse(&r, path, &err);
		goto out;
	}
	if (standby_replied(&r, rt, path))
		goto out;
	if (check_access(rt, &r.caller, &err) < 0 ||
	    (query != NULL &&
		(strcasestr(query, "%00") != NULL ||
		    evhttp_parse_query_str(query, &r.query) < 0) &&
		cerr_set(&err, CERR_INVALID,
		    "malformed query string (or a NUL byte in it)") < 0) ||
	    query_names_check(rt, &r.query, &err) < 0 ||
	    read_body(&r, &err) < 0 ||
	    (rt->no_body && r.body != NULL &&
		!(json_is_object(r.body) && json_object_size(r.body) == 0) &&
		cerr_set(&err, CERR_INVALID,
		    "request body: %s takes none (or {})", rt->pattern) < 0)) {
		refuse(&r, path, &err);
		goto out;
	}
	rt->handler(&r);
	if (r.req != NULL) {
		cerr_set(&err, CERR_INTERNAL, "handler sent no reply");
		http_reply_error(&r, &err);
	}
	api_audit_record(&r, rt, path);
	lease_check_fenced(r.m);
out:
	for (int i = 0; i < r.nargs; i++)
		free(r.args[i]);
	evhttp_clear_headers(&r.query);
	json_decref(r.body);
	return r.status;
}

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Every request, timed from its arrival in evhttp to its reply (which
 * includes identifying the caller and reading the body). A held poll is
 * counted when it is answered (longpoll.c), never timed. */
static void
request_cb(struct evhttp_request *req, void *arg)
{
	struct master *m = arg;
	int64_t start_us = mono_us();
	int status = serve(m, req);

	if (status != 0)
		metrics_http(&m->metrics, status, mono_us() - start_us);
}

/* "HOST:PORT" or "[V6]:PORT" into host and port. */
static int
split_listen(
    const char *listen, char *host, size_t hsize, int *port, struct cerr *err)
{
	const char *colon = strrchr(listen, ':');
	const char *h = listen;
	size_t hlen;
	char *end;
	long p;

	if (colon == NULL)
		return cerr_set(
		    err, CERR_INVALID, "listen: expected HOST:PORT");
	hlen = (size_t)(colon - listen);
	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	p = strtol(colon + 1, &end, 10);
	if (hlen == 0 || hlen >= hsize || *end != '\0' || colon[1] == '\0' ||
	    p < 0 || p > 65535)
		return cerr_set(
		    err, CERR_INVALID, "listen: '%s' is not HOST:PORT", listen);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (int)p;
	return 0;
}

static int
write_port_file(struct master *m, struct cerr *err)
{
	char path[CONF_STR_MAX + 16], tmp[CONF_STR_MAX + 24];
	FILE *f;

	if (conf_state_path(m->conf, PATH_PORT, path, sizeof(path), err) < 0)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return cerr_set(err, CERR_IO, "%s: %s", tmp, strerror(errno));
	fprintf(f, "%d\n", m->port);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		return cerr_set(err, CERR_IO, "%s: %s", path, strerror(errno));
	return 0;
}

/* A reply leaves as two TLS records (headers, body); with Nagle's
 * algorithm the second waits for the peer's delayed ACK of the first, up
 * to 40 ms per reply. Accepted sockets inherit the option on Linux. */
static void
set_nodelay(struct evhttp_bound_socket *bound)
{
	int one = 1;

	if (setsockopt(evhttp_bound_socket_get_fd(bound), IPPROTO_TCP,
		TCP_NODELAY, &one, sizeof(one)) != 0)
		log_warn("listen", "msg=\"TCP_NODELAY: %s\"", strerror(errno));
}

static int
bound_port(struct evhttp_bound_socket *bound)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = evhttp_bound_socket_get_fd(bound);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void
http_apply_limits(struct master *m)
{
	/* A held poll must outlive the connection timeout. */
	int timeout_s =
	    (int)(m->conf->request_timeout_s > m->conf->longpoll_max_s + 15
		    ? m->conf->request_timeout_s
		    : m->conf->longpoll_max_s + 15);

	/* The guard refuses first, as JSON; these are libevent's own
	 * limits behind it. */
	evhttp_set_max_headers_size(m->http, HTTP_MAX_HEADERS_BYTES);
	evhttp_set_max_body_size(m->http, m->conf->max_body_bytes);
	m->guard.max_head_bytes = HTTP_MAX_HEADERS_BYTES;
	m->guard.max_head_lines = HTTP_MAX_HEADER_LINES;
	m->guard.max_body_bytes = m->conf->max_body_bytes;
	m->guard.header_timeout_ms = m->conf->header_timeout_s * 1000;
	m->guard.body_timeout_ms = m->conf->request_timeout_s * 1000;
	evhttp_set_timeout(m->http, timeout_s);
}

int
http_start(struct master *m, struct cerr *err)
{
	struct evhttp_bound_socket *bound;
	char host[256];
	int port = 0;

	if (split_listen(m->conf->listen, host, sizeof(host), &port, err) < 0)
		return -1;
	m->conn_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_free_cb);
	if (m->conn_idx < 0)
		return cerr_set(
		    err, CERR_INTERNAL, "SSL_get_ex_new_index failed");
	m->http = evhttp_new(m->base);
	if (m->http == NULL)
		return cerr_set(err, CERR_INTERNAL, "evhttp_new failed");
	evhttp_set_bevcb(m->http, tls_bev_cb, m);
	evhttp_set_gencb(m->http, request_cb, m);
	evhttp_set_allowed_methods(m->http,
	    EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
		EVHTTP_REQ_DELETE);
	http_apply_limits(m);
	bound = evhttp_bind_socket_with_handle(m->http, host, (uint16_t)port);
	if (bound == NULL)
		return cerr_set(err, CERR_IO, "listen on %s: %s",
		    m->conf->listen, strerror(errno));
	set_nodelay(bound);
	m->port = bound_port(bound);
	if (m->port < 0)
		return cerr_set(
		    err, CERR_IO, "getsockname: %s", strerror(errno));
	if (write_port_file(m, err) < 0)
		return -1;
	log_info("listening", "addr=%s port=%d", host, m->port);
	return 0;
}

void
http_stop(struct master *m)
{
	if (m->http != NULL)
		evhttp_free(m->http);
	m->http = NULL;
}
