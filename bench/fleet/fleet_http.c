/*
 * fleet_http: kept-alive HTTPS client connections, the same client for the
 * master and for the peer it is measured against. A connection carries one
 * request at a time and queues the rest, like a target's poll connection.
 *
 * The client is written for the simulator's one core, which bounds the
 * fan-out figures (every virtual target shares it, where real targets
 * have a machine each): a nonblocking socket with OpenSSL directly on it,
 * one edge-triggered read event registered once (no epoll_ctl per request
 * or reply), a write event added only while a write or the TCP connect
 * waits, each request built in one buffer and sent as one TLS record.
 * libevent's evhttp over OpenSSL bufferevents, used before, spent most of
 * that core in allocation, bufferevent bookkeeping and epoll_ctl.
 *
 * A failed connection answers every queued request with status 0 and is
 * opened again by the next request. Replies carry a Content-Length (the
 * master and nginx both send one) or end with the connection.
 */
#include "fleet/fleet.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <openssl/err.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/tls_suites.h"

#define FCONN_REPLY_MAX                                                        \
	(64u << 20) /* an admin reply of 10,000 targets is < 1 MiB */
#define FCONN_KEEP_BUF 8192 /* reply buffers above this are freed when done */

struct freq {
	struct freq *next;
	struct buf text; /* the whole request, headers and body */
	fconn_cb cb;
	void *arg;
};

struct fconn {
	struct fleet *f;
	X509 *cert; /* borrowed, NULL for an anonymous connection */
	EVP_PKEY *key;
	int fd; /* -1 while closed */
	SSL *ssl;
	struct event *rd; /* persistent, edge-triggered */
	struct event *wr; /* one-shot, armed while a write waits */
	int connecting; /* the TCP connect is in progress */
	struct freq *head, *tail; /* head is the one on the wire */
	size_t sent; /* bytes of head's text SSL_write has taken */
	struct buf in; /* the reply read so far */
	int depth; /* > 0 while a callback of ours runs */
	int freed; /* fconn_free came during a callback */
};

SSL_CTX *
fleet_ssl_ctx(const char *ca_path, struct cerr *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		cerr_set(err, CERR_TLS, "SSL_CTX_new failed");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* 10,000 idle connections: no buffers held between requests. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	/* A server that hangs up without close_notify ends a reply that has
	 * no length; it is not an error here. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* Offer what a target's client offers (hclient's to_master): the
	 * master keeps the offer for the connection's life. */
	if (SSL_CTX_set_cipher_list(ctx, TLS_SUITES_TLS12) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, TLS_SUITES_TLS13) != 1) {
		cerr_set(err, CERR_TLS, "cannot set the cipher suites");
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (ca_path != NULL &&
	    SSL_CTX_load_verify_locations(ctx, ca_path, NULL) != 1) {
		cerr_set(err, CERR_TLS, "%s: cannot load the CA", ca_path);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

struct fconn *
fconn_new(struct fleet *f, X509 *cert, EVP_PKEY *key, struct cerr *err)
{
	struct fconn *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		cerr_set(err, CERR_INTERNAL, "out of memory");
		return NULL;
	}
	c->f = f;
	c->cert = cert;
	c->key = key;
	c->fd = -1;
	buf_init(&c->in, FCONN_REPLY_MAX);
	return c;
}

static void
freq_free(struct freq *r)
{
	buf_cleanup(&r->text);
	free(r);
}

/* Closes the socket; the queue stays. */
static void
conn_close(struct fconn *c)
{
	if (c->rd != NULL)
		event_free(c->rd);
	if (c->wr != NULL)
		event_free(c->wr);
	c->rd = c->wr = NULL;
	SSL_free(c->ssl); /* no close_notify: the fleet only hangs up */
	c->ssl = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->connecting = 0;
	c->sent = 0;
	buf_cleanup(&c->in);
	buf_init(&c->in, FCONN_REPLY_MAX);
}

static void
conn_destroy(struct fconn *c)
{
	conn_close(c);
	while (c->head != NULL) {
		struct freq *r = c->head;

		c->head = r->next;
		freq_free(r);
	}
	free(c);
}

void
fconn_free(struct fconn *c)
{
	if (c == NULL)
		return;
	if (c->depth > 0)
		c->freed = 1; /* the callback's caller frees it */
	else
		conn_destroy(c);
}

/* Calls r's callback and frees r. Returns -1 when the connection was freed
 * meanwhile (it is then gone). */
static int
conn_answer(
    struct fconn *c, struct freq *r, int status, const char *body, size_t len)
{
	c->depth++;
	r->cb(r->arg, status, body, len);
	freq_free(r);
	if (--c->depth == 0 && c->freed) {
		conn_destroy(c);
		return -1;
	}
	return 0;
}

/* The connection failed: closed, and every queued request answered with
 * status 0 (their callbacks may queue new ones, which reconnect). */
static void
conn_fail(struct fconn *c, const char *why)
{
	struct freq *q = c->head;

	ERR_clear_error();
	conn_close(c);
	c->head = c->tail = NULL;
	if (q != NULL && why != NULL)
		fleet_error(c->f, "%s:%d: %s", c->f->host, c->f->port, why);
	while (q != NULL) {
		struct freq *r = q;

		q = r->next;
		if (conn_answer(c, r, 0, "", 0) < 0) {
			while (q != NULL) {
				r = q;
				q = r->next;
				freq_free(r);
			}
			return;
		}
	}
}

static void conn_event(evutil_socket_t fd, short what, void *arg);

static int
wait_writable(struct fconn *c)
{
	return event_add(c->wr, NULL);
}

/* A socket connecting to f->host:f->port, with TLS on it. */
static int
conn_open(struct fconn *c)
{
	struct addrinfo hints, *ai = NULL;
	char port[16];
	int one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", c->f->port);
	if (getaddrinfo(c->f->host, port, &hints, &ai) != 0 || ai == NULL)
		return -1;
	c->fd = socket(
	    ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail;
	/* Small writes leave at once: Nagle would hold one back while an
	 * earlier segment is unacknowledged (the handshake's last flight). */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS)
			goto fail;
		c->connecting = 1;
	}
	freeaddrinfo(ai);
	ai = NULL;
	c->ssl = SSL_new(c->f->ssl);
	if (c->ssl == NULL ||
	    (c->cert != NULL &&
		(SSL_use_certificate(c->ssl, c->cert) != 1 ||
		    SSL_use_PrivateKey(c->ssl, c->key) != 1)) ||
	    SSL_set_fd(c->ssl, c->fd) != 1)
		goto fail;
	SSL_set_connect_state(c->ssl);
	c->rd = event_new(
	    c->f->base, c->fd, EV_READ | EV_PERSIST | EV_ET, conn_event, c);
	/* libevent refuses to mix edge- and level-triggered events on one
	 * descriptor; epoll reports a writable socket at once when the
	 * write event is added, so edge-triggered is right here too. */
	c->wr = event_new(c->f->base, c->fd, EV_WRITE | EV_ET, conn_event, c);
	if (c->rd == NULL || c->wr == NULL || event_add(c->rd, NULL) < 0 ||
	    (c->connecting && wait_writable(c) < 0))
		goto fail;
	return 0;
fail:
	if (ai != NULL)
		freeaddrinfo(ai);
	conn_close(c);
	return -1;
}

/* What an SSL call's failure means: 0 wait (for the event armed here),
 * -1 the connection is broken. */
static int
ssl_wait(struct fconn *c, int ret)
{
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return 0; /* the edge-triggered read event comes back */
	case SSL_ERROR_WANT_WRITE:
		return wait_writable(c) < 0 ? -1 : 0;
	default:
		return -1;
	}
}

/* Parses the reply in c->in. Returns 1 with *status, *body_off and
 * *body_len when complete, 0 when more is needed, -1 when it cannot be
 * read. eof: the peer has closed (the end of a reply without a length). */
static int
reply_parse(const struct buf *in, int eof, int *status, size_t *body_off,
    size_t *body_len)
{
	const char *p = in->data, *end, *line, *eol;
	long long clen = -1;

	if (in->len == 0)
		return eof ? -1 : 0;
	end = memmem(p, in->len, "\r\n\r\n", 4);
	if (end == NULL)
		return eof ? -1 : 0;
	if (sscanf(p, "HTTP/1.%*d %d", status) != 1)
		return -1;
	for (line = strstr(p, "\r\n") + 2; line < end; line = eol + 2) {
		eol = strstr(line, "\r\n");
		if (eol == NULL || eol > end)
			return -1; /* a NUL among the headers */
		if (strncasecmp(line, "Content-Length:", 15) == 0)
			clen = strtoll(line + 15, NULL, 10);
		else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0)
			return -1; /* chunked: neither server sends it */
	}
	*body_off = (size_t)(end + 4 - p);
	if (clen < 0) {
		*body_len = in->len - *body_off;
		return eof ? 1 : 0;
	}
	if (in->len - *body_off < (size_t)clen)
		return eof ? -1 : 0;
	*body_len = (size_t)clen;
	return 1;
}

/* A whole reply is in: answers the head request. -1 when the connection
 * was freed by the callback. */
static int
reply_done(struct fconn *c, int status, size_t off, size_t len)
{
	struct freq *r = c->head;
	struct buf reply = c->in; /* the callback may send the next request */

	c->head = r->next;
	if (c->head == NULL)
		c->tail = NULL;
	c->sent = 0;
	buf_init(&c->in, FCONN_REPLY_MAX);
	if (conn_answer(c, r, status, reply.data + off, len) < 0) {
		buf_cleanup(&reply);
		return -1;
	}
	if (c->in.data == NULL && reply.cap <= FCONN_KEEP_BUF) {
		c->in = reply; /* a small buffer is kept for the next one */
		buf_reset(&c->in);
	} else
		buf_cleanup(&reply);
	return 0;
}

/* Reads until the socket is drained, answering the head request when its
 * reply is complete. 1: a reply was answered (write the next request),
 * 0: waiting, -1: the connection failed or was freed (*gone then). */
static int
conn_read(struct fconn *c, int *gone)
{
	char chunk[16384];
	struct cerr err;
	size_t off, len;
	int n, status, eof = 0, got;

	for (;;) {
		n = SSL_read(c->ssl, chunk, (int)sizeof(chunk));
		if (n > 0) {
			if (buf_append(&c->in, chunk, (size_t)n, &err) < 0) {
				conn_fail(c, "reply too large");
				return -1;
			}
			continue;
		}
		if (SSL_get_error(c->ssl, n) == SSL_ERROR_ZERO_RETURN)
			eof = 1;
		else if (ssl_wait(c, n) < 0) {
			conn_fail(c, "TLS read failed");
			return -1;
		}
		break;
	}
	if (c->head == NULL || c->sent < c->head->text.len) {
		if (eof || c->in.len > 0) {
			/* hung up while idle, or spoke unasked */
			conn_fail(c, eof ? NULL : "data without a request");
			return -1;
		}
		return 0;
	}
	got = reply_parse(&c->in, eof, &status, &off, &len);
	if (got < 0) {
		conn_fail(c, "unreadable reply");
		return -1;
	}
	if (got == 0)
		return 0;
	if (reply_done(c, status, off, len) < 0) {
		*gone = 1;
		return -1;
	}
	if (eof) {
		conn_fail(c, NULL);
		return -1;
	}
	return 1;
}

/* Moves the connection on as far as it goes without blocking: connect,
 * handshake and request (inside SSL_write), reply, next request. After a
 * request is written nothing is read until the read event comes: the
 * socket was drained before, so its reply makes a new edge. */
static void
conn_pump(struct fconn *c)
{
	int n, gone = 0;

	while (c->fd >= 0 && !c->connecting) {
		if (c->head != NULL && c->sent < c->head->text.len) {
			n = SSL_write(c->ssl, c->head->text.data + c->sent,
			    (int)(c->head->text.len - c->sent));
			if (n <= 0) {
				if (ssl_wait(c, n) < 0)
					conn_fail(c, "TLS write failed");
				return;
			}
			c->sent += (size_t)n;
			return;
		}
		if (conn_read(c, &gone) <= 0 || gone || c->head == NULL)
			return;
	}
}

static void
conn_event(evutil_socket_t fd, short what, void *arg)
{
	struct fconn *c = arg;
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (c->connecting) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 ||
		    soerr != 0) {
			conn_fail(
			    c, soerr ? strerror(soerr) : "connect failed");
			return;
		}
		if (!(what & EV_WRITE))
			return;
		c->connecting = 0;
	}
	conn_pump(c);
}

int
fconn_request(struct fconn *c, const char *method, const char *path,
    const char *body, size_t len, fconn_cb cb, void *arg, struct cerr *err)
{
	struct freq *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	r->cb = cb;
	r->arg = arg;
	buf_init(&r->text, FCONN_REPLY_MAX);
	if (buf_printf(&r->text, err, "%s %s HTTP/1.1\r\nHost: %s\r\n", method,
		path, c->f->host) < 0 ||
	    ((body != NULL || strcmp(method, "POST") == 0 ||
		 strcmp(method, "PUT") == 0) &&
		buf_printf(&r->text, err,
		    "Content-Type: application/json\r\n"
		    "Content-Length: %zu\r\n",
		    body ? len : 0) < 0) ||
	    buf_puts(&r->text, "\r\n", err) < 0 ||
	    (body != NULL && buf_append(&r->text, body, len, err) < 0)) {
		freq_free(r);
		return -1;
	}
	if (c->fd < 0 && conn_open(c) < 0) {
		freq_free(r);
		ERR_clear_error();
		return cerr_set(err, CERR_IO, "cannot connect to %s:%d",
		    c->f->host, c->f->port);
	}
	if (c->tail != NULL)
		c->tail->next = r;
	else
		c->head = r;
	c->tail = r;
	if (c->head == r)
		conn_pump(c);
	return 0;
}

struct sync_call {
	int done;
	int status;
	json_t *reply;
};

static void
sync_cb(void *arg, int status, const char *body, size_t len)
{
	struct sync_call *s = arg;

	s->done = 1;
	s->status = status;
	if (len > 0)
		s->reply = json_loadb(body, len, 0, NULL);
}

static int
sync_done(void *arg)
{
	return ((struct sync_call *)arg)->done;
}

int
fleet_admin(struct fleet *f, const char *method, const char *path, json_t *body,
    json_t **out, struct cerr *err)
{
	struct sync_call s = {0, 0, NULL};
	char *text = body ? json_dump_compact(body) : NULL;
	int rc = -1;

	json_decref(body);
	if (fconn_request(f->admin, method, path, text, text ? strlen(text) : 0,
		sync_cb, &s, err) < 0)
		goto out;
	/* A timeout ends the run: the connection is freed before the loop
	 * runs again, so sync_cb never sees a dead frame. */
	if (fleet_wait(f, sync_done, &s, 300000, path, err) < 0)
		goto out;
	if (s.status == 0) {
		cerr_set(
		    err, CERR_UNAVAILABLE, "%s %s: no answer", method, path);
		goto out;
	}
	rc = s.status;
	if (out != NULL) {
		*out = s.reply;
		s.reply = NULL;
	}
out:
	json_decref(s.reply);
	free(text);
	return rc;
}

int
fleet_admin_ok(struct fleet *f, const char *method, const char *path,
    json_t *body, json_t **out, struct cerr *err)
{
	json_t *reply = NULL;
	int status = fleet_admin(f, method, path, body, &reply, err);

	if (status < 0)
		return -1;
	if (status != 200) {
		const char *msg = json_string_value(json_object_get(
		    json_object_get(reply, "error"), "message"));

		cerr_set(err, CERR_INVALID, "%s %s: status %d: %s", method,
		    path, status, msg ? msg : "(no message)");
		json_decref(reply);
		return -1;
	}
	if (out != NULL)
		*out = reply;
	else
		json_decref(reply);
	return 0;
}
