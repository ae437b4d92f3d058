/*
 * guard: request heads checked before evhttp parses them (see guard.h).
 *
 * Per connection: a phase (reading a head, passing a body, refused), the
 * scan position within the head so far (so a head dribbled in one byte at
 * a time is scanned once, not once per byte), the body bytes still to
 * pass, one timer for the current deadline and one zero timer for work
 * put off to the next loop turn. The state hangs off the SSL's app data,
 * so a request finds it through its connection. It is kept small: 10,000
 * idle connections each hold one.
 */
#include "master/guard.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>

#include "common/log.h"

#define GUARD_STAND_IN "GET /.refused HTTP/1.1\r\n\r\n"
#define GUARD_BLANK_LINES_MAX 4 /* leading empty lines tolerated */
/* Every refusal message fits (the longest, an over-size body with two
 * 18-digit numbers, is 104 bytes); a whole struct cerr in each
 * guard would cost 512 bytes per idle connection. */
#define GUARD_REFUSAL_MAX 128

enum guard_phase { GUARD_HEAD, GUARD_BODY, GUARD_REFUSED };

struct guard {
	struct guard_limits lim;
	struct bufferevent *bev; /* the filter; evhttp's bufferevent */
	struct event *deadline;
	struct event *kick; /* made active: flush, or close (want_close) */
	enum guard_phase phase;
	size_t scanned; /* head bytes checked to be whole lines */
	int lines; /* lines in the head so far */
	int started; /* a head is under way (deadline armed) */
	int expired; /* the header deadline passed */
	int busy; /* a request was passed and not yet answered */
	int close_after; /* the client asked to close after this request */
	int closing; /* answered: close once the answer is on the wire */
	int want_close; /* kick: end the connection (else: flush) */
	int64_t body_left;
	enum cerr_code refusal_code;
	char refusal_msg[GUARD_REFUSAL_MAX];
};

/* ---- checking a head --------------------------------------------------- */

static int
is_tchar(int c)
{
	return isalnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* The request line; *has_body says whether the method may carry a body
 * (evhttp and the guard must agree on where a request ends). */
static int
check_request_line(const char *l, size_t n, int *has_body, struct cerr *err)
{
	static const struct {
		const char *word;
		int has_body;
	} methods[] = {{"GET ", 0}, {"POST ", 1}, {"PUT ", 1}, {"DELETE ", 0}};
	const char *sp;
	size_t mlen = 0;

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		size_t wl = strlen(methods[i].word);

		if (n > wl && memcmp(l, methods[i].word, wl) == 0) {
			mlen = wl;
			*has_body = methods[i].has_body;
		}
	}
	if (mlen == 0)
		return cerr_set(err, CERR_INVALID,
		    "request line: the method "
		    "must be GET, POST, PUT or DELETE");
	sp = memchr(l + mlen, ' ', n - mlen);
	if (sp == NULL || l[mlen] != '/' || (size_t)(l + n - sp - 1) != 8 ||
	    (memcmp(sp + 1, "HTTP/1.1", 8) != 0 &&
		memcmp(sp + 1, "HTTP/1.0", 8) != 0))
		return cerr_set(err, CERR_INVALID,
		    "request line: expected "
		    "'METHOD /path HTTP/1.1'");
	for (const char *p = l + mlen; p < sp; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return cerr_set(err, CERR_INVALID,
			    "request line: the "
			    "path holds a space or control character");
	return 0;
}

/* The value of a header line after "name:", without surrounding blanks. */
static void
header_value(const char *colon, const char *end, const char **v, size_t *vn)
{
	const char *s = colon + 1;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*v = s;
	*vn = (size_t)(end - s);
}

static int
content_length(const char *v, size_t vn, const struct guard_limits *lim,
    int64_t *out, struct cerr *err)
{
	int64_t n = 0;

	if (vn == 0 || vn > 18)
		return cerr_set(err, CERR_INVALID,
		    "Content-Length: not a "
		    "number of at most 18 digits");
	for (size_t i = 0; i < vn; i++) {
		if (!isdigit((unsigned char)v[i]))
			return cerr_set(err, CERR_INVALID,
			    "Content-Length: "
			    "not a number");
		n = n * 10 + (v[i] - '0');
	}
	if (n > lim->max_body_bytes)
		return cerr_set(err, CERR_TOO_LARGE,
		    "request body of %lld bytes "
		    "is over the limit of %lld bytes (max_body_bytes)",
		    (long long)n, (long long)lim->max_body_bytes);
	*out = n;
	return 0;
}

/* One header line; *body_len is -1 until a Content-Length was seen. */
static int
check_header_line(const char *l, size_t n, const struct guard_limits *lim,
    int64_t *body_len, struct cerr *err)
{
	const char *colon = memchr(l, ':', n), *v;
	size_t name_len, vn;

	if (l[0] == ' ' || l[0] == '\t')
		return cerr_set(err, CERR_INVALID,
		    "request headers: folded "
		    "header lines are not accepted");
	if (colon == NULL || colon == l)
		return cerr_set(err, CERR_INVALID,
		    "request headers: a line "
		    "is not 'Name: value'");
	name_len = (size_t)(colon - l);
	for (size_t i = 0; i < name_len; i++)
		if (!is_tchar((unsigned char)l[i]))
			return cerr_set(err, CERR_INVALID,
			    "request headers: "
			    "a header name holds a character not allowed");
	for (const char *p = colon + 1; p < l + n; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return cerr_set(err, CERR_INVALID,
			    "request headers: "
			    "a value holds a control character");
	header_value(colon, l + n, &v, &vn);
	if (name_len == 17 && strncasecmp(l, "transfer-encoding", 17) == 0)
		return cerr_set(err, CERR_INVALID,
		    "Transfer-Encoding is not "
		    "accepted: send the body with a Content-Length");
	if (name_len == 14 && strncasecmp(l, "content-length", 14) == 0) {
		if (*body_len >= 0)
			return cerr_set(err, CERR_INVALID,
			    "Content-Length: "
			    "given twice");
		return content_length(v, vn, lim, body_len, err);
	}
	return 0;
}

int
guard_check_head(const char *head, size_t len, const struct guard_limits *lim,
    int64_t *body_len, struct cerr *err)
{
	const char *p = head, *end = head + len;
	int64_t cl = -1;
	int line = 0, has_body = 0;

	if (len > lim->max_head_bytes)
		return cerr_set(err, CERR_TOO_LARGE,
		    "request headers: more "
		    "than %zu bytes",
		    lim->max_head_bytes);
	for (;;) {
		const char *l = p, *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n;

		if (nl == NULL)
			return cerr_set(err, CERR_INVALID,
			    "request headers: "
			    "not ended by an empty line");
		n = (size_t)(nl - l) - (nl > l && nl[-1] == '\r');
		p = nl + 1;
		if (n == 0)
			break;
		if (++line > lim->max_head_lines)
			return cerr_set(err, CERR_TOO_LARGE,
			    "request headers: "
			    "more than %d lines",
			    lim->max_head_lines - 1);
		if ((line == 1 ? check_request_line(l, n, &has_body, err)
			       : check_header_line(l, n, lim, &cl, err)) < 0)
			return -1;
	}
	if (line == 0 || p != end)
		return cerr_set(err, CERR_INVALID,
		    "request headers: not one "
		    "request head");
	if (cl > 0 && !has_body)
		return cerr_set(err, CERR_INVALID,
		    "a GET or DELETE request "
		    "carries no body");
	*body_len = cl < 0 ? 0 : cl;
	return 0;
}

/* ---- the filter -------------------------------------------------------- */

static void
guard_arm(struct guard *g, int64_t ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(g->deadline, &tv);
}

/* Drops what is left of the refused request and hands evhttp the
 * stand-in, which the request callback answers with why. */
static void
guard_refuse(struct guard *g, const struct cerr *why, struct evbuffer *src,
    struct evbuffer *dst)
{
	g->refusal_code = why->code;
	snprintf(g->refusal_msg, sizeof(g->refusal_msg), "%s", why->msg);
	g->phase = GUARD_REFUSED;
	g->close_after = 1;
	evtimer_del(g->deadline);
	evbuffer_drain(src, evbuffer_get_length(src));
	evbuffer_add(dst, GUARD_STAND_IN, strlen(GUARD_STAND_IN));
	log_warn("request_refused", "code=%s msg=%s", cerr_code_name(why->code),
	    LOG_TEXT(why->msg));
}

/* Looks for the empty line ending the head, scanning only what is new;
 * returns the head's length, or 0 when it is not complete yet. */
static size_t
head_end(struct guard *g, struct evbuffer *src)
{
	struct evbuffer_ptr pos;
	size_t eol_len;

	if (evbuffer_ptr_set(src, &pos, g->scanned, EVBUFFER_PTR_SET) < 0)
		return 0;
	for (;;) {
		struct evbuffer_ptr nl =
		    evbuffer_search_eol(src, &pos, &eol_len, EVBUFFER_EOL_CRLF);

		if (nl.pos < 0)
			return 0;
		g->lines++;
		g->scanned = (size_t)nl.pos + eol_len;
		if ((size_t)nl.pos == (size_t)pos.pos)
			return g->scanned; /* the empty line */
		if (g->lines > g->lim.max_head_lines)
			return g->scanned; /* guard_check_head says why */
		if (evbuffer_ptr_set(src, &pos, g->scanned, EVBUFFER_PTR_SET) <
		    0)
			return 0;
	}
}

/* Drops empty lines before a request line (a client may send a CRLF
 * after a body); returns 1 when more input is needed to decide. */
static int
skip_blank(struct evbuffer *src)
{
	for (int i = 0; i < GUARD_BLANK_LINES_MAX; i++) {
		size_t n = evbuffer_get_length(src);
		const unsigned char *c;

		if (n == 0)
			return 0;
		c = evbuffer_pullup(src, n >= 2 ? 2 : 1);
		if (c[0] == '\n')
			evbuffer_drain(src, 1);
		else if (c[0] == '\r' && n == 1)
			return 1;
		else if (c[0] == '\r' && c[1] == '\n')
			evbuffer_drain(src, 2);
		else
			return 0;
	}
	return 0;
}

/* Passes a checked head on as HTTP/1.1 without its Connection header,
 * noting whether the client wants the connection closed after it: the
 * guard closes it itself once the answer is on the wire (evhttp would
 * close as soon as the answer reached the filter, before TLS sent it). */
static void
guard_pass_head(
    struct guard *g, const char *head, size_t len, struct evbuffer *dst)
{
	const char *p = head, *end = head + len;
	int http10 = 0, keep = 0, close = 0, first = 1;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)(nl - p) - (nl > p && nl[-1] == '\r');

		if (first && n > 8 && memcmp(p + n - 8, "HTTP/1.0", 8) == 0) {
			http10 = 1;
			evbuffer_add(dst, p, n - 8);
			evbuffer_add(dst, "HTTP/1.1\r\n", 10);
		} else if (!first && n >= 11 &&
		    strncasecmp(p, "connection:", 11) == 0) {
			keep |= memmem(p, n, "eep-alive", 9) != NULL;
			close |= memmem(p, n, "lose", 4) != NULL;
		} else {
			evbuffer_add(dst, p, n);
			evbuffer_add(dst, "\r\n", 2);
		}
		first = 0;
		p = nl + 1;
	}
	g->close_after = close || (http10 && !keep);
}

/* One step on a head: 1 when something was passed on, 0 when more input
 * is needed. */
static int
guard_head(struct guard *g, struct evbuffer *src, struct evbuffer *dst)
{
	size_t len;
	int64_t body = 0;
	struct cerr why;

	if (g->expired) {
		cerr_set(&why, CERR_TIMEOUT,
		    "request headers not "
		    "received within %lld ms",
		    (long long)g->lim.header_timeout_ms);
		guard_refuse(g, &why, src, dst);
		return 1;
	}
	if (g->scanned == 0 && skip_blank(src))
		return 0;
	if (evbuffer_get_length(src) == 0)
		return 0;
	if (!g->started) {
		g->started = 1;
		guard_arm(g, g->lim.header_timeout_ms);
	}
	len = head_end(g, src);
	if (len == 0 && evbuffer_get_length(src) <= g->lim.max_head_bytes)
		return 0;
	if (len == 0 || len > g->lim.max_head_bytes) {
		cerr_set(&why, CERR_TOO_LARGE,
		    "request headers: more "
		    "than %zu bytes",
		    g->lim.max_head_bytes);
		guard_refuse(g, &why, src, dst);
		return 1;
	}
	if (guard_check_head(
		(const char *)evbuffer_pullup(src, (ev_ssize_t)len), len,
		&g->lim, &body, &why) < 0) {
		guard_refuse(g, &why, src, dst);
		return 1;
	}
	guard_pass_head(
	    g, (const char *)evbuffer_pullup(src, (ev_ssize_t)len), len, dst);
	evbuffer_drain(src, len);
	g->scanned = 0;
	g->lines = 0;
	g->started = 0;
	g->busy = 1;
	g->body_left = body;
	evtimer_del(g->deadline);
	if (body > 0) {
		g->phase = GUARD_BODY;
		guard_arm(g, g->lim.body_timeout_ms);
	}
	return 1;
}

static int
guard_body(struct guard *g, struct evbuffer *src, struct evbuffer *dst)
{
	size_t n = evbuffer_get_length(src);

	if (n == 0)
		return 0;
	if ((int64_t)n > g->body_left)
		n = (size_t)g->body_left;
	evbuffer_remove_buffer(src, dst, n);
	g->body_left -= (int64_t)n;
	if (g->body_left == 0) {
		g->phase = GUARD_HEAD;
		evtimer_del(g->deadline);
	}
	return 1;
}

static SSL *
bev_ssl(struct bufferevent *bev)
{
	struct bufferevent *under =
	    bev ? bufferevent_get_underlying(bev) : NULL;

	return under ? bufferevent_openssl_get_ssl(under) : NULL;
}

/* Reading ahead (guard_wrap()), OpenSSL takes what the socket holds in
 * one read(): a whole request in one system call, not a record's header
 * and then its body in two. But libevent 2.1's OpenSSL bufferevent asks
 * OpenSSL only for records already decrypted (SSL_pending()), so a record
 * read ahead and not yet decrypted would wait for the socket to turn
 * readable again, perhaps forever: a client's first request sent with
 * its handshake's last message, a body sent as a record of its own, a
 * request pipelined behind another. Where one can be left behind, this
 * runs the TLS side's read event again: after a handshake (the kick of
 * guard_info_cb()), after input was passed on, and in every kick. evhttp
 * suspends reading while a request is handled and resumes it as it
 * starts the reply (evhttp_start_write_()), before the reply reaches
 * the guard's output, whose kick then reads what waits. */
static void
guard_read_pending(struct guard *g)
{
	SSL *ssl = bev_ssl(g->bev);

	if (ssl != NULL && SSL_has_pending(ssl))
		event_active(
		    &bufferevent_get_underlying(g->bev)->ev_read, EV_READ, 1);
}

static enum bufferevent_filter_result
guard_filter(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
    enum bufferevent_flush_mode mode, void *arg)
{
	struct guard *g = arg;
	int progress = 0, step;

	(void)limit;
	(void)mode;

	do {
		if (g->phase == GUARD_REFUSED) {
			evbuffer_drain(src, evbuffer_get_length(src));
			break;
		}
		step = g->phase == GUARD_BODY ? guard_body(g, src, dst)
					      : guard_head(g, src, dst);
		progress |= step;
	} while (step);
	guard_read_pending(g);
	return progress ? BEV_OK : BEV_NEED_MORE;
}

/* Output goes to the TLS side as one piece. libevent's OpenSSL
 * bufferevent makes one SSL_write, so one TLS record and one write(), per
 * chunk of its output buffer, and evhttp hands over a reply's head and
 * body as two chunks or more: joined, a reply costs one record and one
 * system call instead of two or three. */
static enum bufferevent_filter_result
guard_out_filter(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
    enum bufferevent_flush_mode mode, void *arg)
{
	size_t n = evbuffer_get_length(src);

	(void)limit;
	(void)mode;
	(void)arg;
	if (n == 0)
		return BEV_NEED_MORE;
	if (evbuffer_pullup(src, -1) == NULL ||
	    evbuffer_remove_buffer(src, dst, n) != (int)n)
		return BEV_ERROR;
	return BEV_OK;
}

/* A head that did not arrive in time is answered (408) when the
 * connection is idle and past its handshake; otherwise nothing can be
 * answered on it, and it is cut, as evhttp cuts a read timeout. */
static void
guard_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct guard *g = arg;
	SSL *ssl = bev_ssl(g->bev);

	if (g->phase == GUARD_HEAD && !g->busy && ssl != NULL &&
	    SSL_is_init_finished(ssl)) {
		g->expired = 1;
		bufferevent_flush(g->bev, EV_READ, BEV_FLUSH);
		bufferevent_trigger(
		    g->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS);
		return;
	}
	log_warn("connection_cut", "msg=\"%s not received in time\"",
	    g->phase == GUARD_BODY ? "request body"
				   : "TLS handshake or "
				     "request headers");
	g->phase = GUARD_REFUSED;
	bufferevent_trigger_event(
	    g->bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT, 0);
}

/* Writes what the TLS bufferevent holds in this turn of the loop. Given
 * output, libevent 2.1's OpenSSL bufferevent on a socket adds its write
 * event and writes only when epoll next reports the socket writable: a
 * reply cost two epoll_ctl calls and a loop turn before its write().
 * Running the write event's callback now writes at once; a socket that
 * is full leaves the event added and waits as before. */
static void
guard_write_now(struct guard *g)
{
	struct bufferevent *tls = bufferevent_get_underlying(g->bev);

	if (tls != NULL && evbuffer_get_length(bufferevent_get_output(tls)) > 0)
		event_active(&tls->ev_write, EV_WRITE, 1);
}

/* Once the callback that asked for it has returned: the close, or else
 * the flush (a filter passes output on when it is added while writing is
 * enabled; evhttp adds a reply first and enables writing after, so the
 * reply would wait for the next write). Either may free g: nothing
 * follows them. */
static void
guard_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct guard *g = arg;

	if (g->want_close) {
		/* evhttp frees the connection, and the guard with it */
		bufferevent_trigger_event(
		    g->bev, BEV_EVENT_READING | BEV_EVENT_EOF, 0);
		return;
	}
	guard_read_pending(g);
	bufferevent_flush(g->bev, EV_WRITE, BEV_NORMAL);
	guard_write_now(g);
}

/* Made active rather than a zero timer: it runs in this turn of the
 * loop, after the current callback, so a reply reaches the TLS side in
 * the turn it was made and is written when epoll next reports the
 * socket, not one turn (and a timer-heap insert and pop) later. */
static void
guard_kick(struct guard *g)
{
	event_active(g->kick, EV_TIMEOUT, 1);
}

static void
guard_output_cb(
    struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct guard *g = arg;

	if (info->n_added > 0)
		guard_kick(g);
}

/* The TLS side's output: once an answer that ends the connection has
 * gone out, the connection is closed (after the TLS bufferevent's own
 * call has returned, not from inside it). */
static void
guard_sent_cb(
    struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct guard *g = arg;

	if (g->closing && evbuffer_get_length(buf) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(g->bev)) == 0) {
		g->want_close = 1;
		guard_kick(g);
	}
}

/* A handshake's end: records that came with its last message are read
 * once the kick runs, after libevent has made the connection open. */
static void
guard_info_cb(const SSL *ssl, int where, int ret)
{
	struct guard *g = SSL_get_app_data(ssl);

	(void)ret;
	if ((where & SSL_CB_HANDSHAKE_DONE) && g != NULL &&
	    SSL_has_pending(ssl))
		guard_kick(g);
}

static void
guard_free(void *arg)
{
	struct guard *g = arg;

	if (g->deadline != NULL)
		event_free(g->deadline);
	if (g->kick != NULL)
		event_free(g->kick);
	free(g);
}

struct bufferevent *
guard_wrap(struct event_base *base, struct bufferevent *tls_bev,
    const struct guard_limits *lim)
{
	struct guard *g = calloc(1, sizeof(*g));
	struct bufferevent *bev = NULL;
	SSL *ssl;

	if (g == NULL)
		goto fail;
	g->lim = *lim;
	g->deadline = evtimer_new(base, guard_deadline_cb, g);
	g->kick = evtimer_new(base, guard_kick_cb, g);
	if (g->deadline == NULL || g->kick == NULL)
		goto fail;
	bev = bufferevent_filter_new(tls_bev, guard_filter, guard_out_filter,
	    BEV_OPT_CLOSE_ON_FREE, guard_free, g);
	if (bev == NULL)
		goto fail;
	if (evbuffer_add_cb(bufferevent_get_output(bev), guard_output_cb, g) ==
		NULL ||
	    evbuffer_add_cb(
		bufferevent_get_output(tls_bev), guard_sent_cb, g) == NULL) {
		bufferevent_free(bev);
		return NULL;
	}
	g->bev = bev;
	ssl = bufferevent_openssl_get_ssl(tls_bev);
	SSL_set_app_data(ssl, g);
	SSL_set_read_ahead(ssl, 1);
	SSL_set_info_callback(ssl, guard_info_cb);
	/* The first head's deadline runs from the connection's start: it
	 * covers the handshake too. */
	g->started = 1;
	guard_arm(g, g->lim.header_timeout_ms);
	return bev;
fail:
	if (g != NULL)
		guard_free(g);
	bufferevent_free(tls_bev);
	return NULL;
}

SSL *
guard_ssl(struct evhttp_request *req)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);

	return conn ? bev_ssl(evhttp_connection_get_bufferevent(conn)) : NULL;
}

static struct guard *
guard_of(struct evhttp_request *req)
{
	SSL *ssl = guard_ssl(req);

	return ssl ? SSL_get_app_data(ssl) : NULL;
}

int
guard_refusal(struct evhttp_request *req, struct cerr *out)
{
	struct guard *g = guard_of(req);

	const char *uri = evhttp_request_get_uri(req);

	if (g == NULL || g->phase != GUARD_REFUSED || uri == NULL ||
	    strcmp(uri, "/.refused") != 0)
		return 0;
	cerr_set(out, g->refusal_code, "%s", g->refusal_msg);
	return 1;
}

void
guard_replied(struct evhttp_request *req)
{
	struct guard *g = guard_of(req);

	if (g != NULL) {
		g->busy = 0;
		g->closing = g->close_after;
	}
}
