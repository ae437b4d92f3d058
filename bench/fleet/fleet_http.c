/*
 * fleet_http: kept-alive HTTPS client connections (libevent's evhttp over
 * OpenSSL bufferevents), the same client for the master and for the peer
 * it is measured against. A connection carries one request at a time;
 * evhttp queues the rest. Each request's callback record is kept on its
 * connection, so freeing a connection with requests in flight (evhttp then
 * calls nothing) leaks nothing.
 */
#include "fleet/fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/err.h>

#include "common/json.h"

struct freq {
	struct fconn *c;
	fconn_cb cb;
	void *arg;
	struct freq *prev, *next;
};

struct fconn {
	struct fleet *f;
	struct evhttp_connection *conn;
	struct freq *reqs; /* in flight or queued */
	int nodelay; /* TCP_NODELAY set on the socket */
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
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
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
	struct bufferevent *bev = NULL;
	SSL *ssl = SSL_new(f->ssl);

	if (c == NULL || ssl == NULL)
		goto fail;
	if (cert != NULL &&
	    (SSL_use_certificate(ssl, cert) != 1 ||
		SSL_use_PrivateKey(ssl, key) != 1))
		goto fail;
	/* No BEV_OPT_DEFER_CALLBACKS: deferred, a reply decrypted in one
	 * loop turn was parsed and timestamped only after every other
	 * readable connection of that turn had been read (up to 4,096 at a
	 * time), a delay of the simulator's own that real targets do not
	 * have. Now each reply is timestamped right after its read. */
	bev = bufferevent_openssl_socket_new(f->base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		goto fail;
	ssl = NULL; /* the bufferevent frees it */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	c->conn = evhttp_connection_base_bufferevent_new(
	    f->base, NULL, bev, f->host, (unsigned short)f->port);
	if (c->conn == NULL)
		goto fail;
	evhttp_connection_set_timeout(c->conn, 600);
	c->f = f;
	return c;
fail:
	ERR_clear_error();
	if (c != NULL && c->conn == NULL && bev != NULL)
		bufferevent_free(bev);
	SSL_free(ssl);
	free(c);
	cerr_set(err, CERR_TLS, "cannot make a connection to %s:%d", f->host,
	    f->port);
	return NULL;
}

void
fconn_free(struct fconn *c)
{
	if (c == NULL)
		return;
	if (c->conn != NULL)
		evhttp_connection_free(c->conn);
	while (c->reqs != NULL) {
		struct freq *r = c->reqs;

		c->reqs = r->next;
		free(r);
	}
	free(c);
}

static void
freq_unlink(struct freq *r)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		r->c->reqs = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
}

static void
req_done(struct evhttp_request *req, void *arg)
{
	struct freq *r = arg;
	struct evbuffer *in;
	const char *body = "";
	size_t len = 0;
	int status = 0;

	if (req != NULL) {
		status = evhttp_request_get_response_code(req);
		in = evhttp_request_get_input_buffer(req);
		len = evbuffer_get_length(in);
		if (len > 0)
			body = (const char *)evbuffer_pullup(in, -1);
	}
	freq_unlink(r);
	r->cb(r->arg, status, body, len);
	free(r);
}

/* A request's headers and body leave as two TLS records: without
 * TCP_NODELAY the second waits for the ACK of the first, which the peer
 * delays (40 ms). evhttp makes the socket when the first request is sent,
 * so the option is set just after that. */
static void
set_nodelay(struct fconn *c)
{
	evutil_socket_t fd =
	    bufferevent_getfd(evhttp_connection_get_bufferevent(c->conn));
	int one = 1;

	if (c->nodelay || fd < 0)
		return;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->nodelay = 1;
}

int
fconn_request(struct fconn *c, enum evhttp_cmd_type method, const char *path,
    const char *body, size_t len, fconn_cb cb, void *arg, struct cerr *err)
{
	struct freq *r = calloc(1, sizeof(*r));
	struct evhttp_request *req = NULL;
	struct evkeyvalq *h;
	char clen[32];

	if (r == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	r->c = c;
	r->cb = cb;
	r->arg = arg;
	req = evhttp_request_new(req_done, r);
	if (req == NULL) {
		free(r);
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	}
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", c->f->host);
	if (body != NULL) {
		snprintf(clen, sizeof(clen), "%zu", len);
		evhttp_add_header(h, "Content-Type", "application/json");
		evhttp_add_header(h, "Content-Length", clen);
		evbuffer_add(evhttp_request_get_output_buffer(req), body, len);
	}
	r->next = c->reqs;
	if (c->reqs != NULL)
		c->reqs->prev = r;
	c->reqs = r;
	/* On failure r stays listed (fconn_free releases it) unless evhttp
	 * has already called req_done, which unlinks it. */
	if (evhttp_make_request(c->conn, req, method, path) != 0)
		return cerr_set(err, CERR_IO, "%s: cannot send", path);
	set_nodelay(c);
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

static enum evhttp_cmd_type
method_of(const char *m)
{
	if (strcmp(m, "GET") == 0)
		return EVHTTP_REQ_GET;
	if (strcmp(m, "PUT") == 0)
		return EVHTTP_REQ_PUT;
	if (strcmp(m, "DELETE") == 0)
		return EVHTTP_REQ_DELETE;
	return EVHTTP_REQ_POST;
}

int
fleet_admin(struct fleet *f, const char *method, const char *path, json_t *body,
    json_t **out, struct cerr *err)
{
	struct sync_call s = {0, 0, NULL};
	char *text = body ? json_dump_compact(body) : NULL;
	int rc = -1;

	json_decref(body);
	if (fconn_request(f->admin, method_of(method), path, text,
		text ? strlen(text) : 0, sync_cb, &s, err) < 0)
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
