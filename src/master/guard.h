/*
 * guard: the master's first look at every request, before libevent's HTTP
 * parser sees a byte. A bufferevent filter sits between each connection's
 * TLS bufferevent and evhttp; it holds a request's head back until it is
 * complete, checks it (request line, methods, header count and size,
 * Content-Length against max_body_bytes, no Transfer-Encoding, no folded
 * or malformed lines), then passes head and body on, framed exactly as
 * evhttp will frame them.
 *
 * Why a filter: evhttp answers over-size bodies and headers, bad request
 * lines and slow clients itself, with HTML pages or by closing without a
 * word, and libevent 2.1 has no hook before it does. The guard refuses
 * first: it drops the offending bytes and hands evhttp a one-line
 * stand-in request ("GET /.refused", Connection: close) instead, which the
 * ordinary request callback answers with a JSON error (guard_refusal()
 * says which). So every refusal is JSON with a stable code, libevent never
 * buffers an over-size body, and the connection closes after the answer.
 *
 * Deadlines (slow-loris): a request's head must be complete within
 * header_timeout_ms of the connection's start or of its first byte, else
 * the stand-in carries a 408 "timeout"; a body must arrive within
 * body_timeout_ms of its head, else the connection is cut (evhttp is
 * mid-request and cannot answer). A connection that never finishes the
 * TLS handshake is cut at the header deadline.
 */
#ifndef COHORT_GUARD_H
#define COHORT_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/http.h>
#include <openssl/ssl.h>

#include "common/cerr.h"

struct guard_limits {
	size_t max_head_bytes; /* request line and headers */
	int max_head_lines; /* request line and headers */
	int64_t max_body_bytes;
	int64_t header_timeout_ms;
	int64_t body_timeout_ms;
};

/* Wraps tls_bev, which the result takes over (both are freed together,
 * with the SSL); the SSL's app data becomes the guard. NULL on
 * out-of-memory, with tls_bev freed. */
struct bufferevent *guard_wrap(struct event_base *base,
    struct bufferevent *tls_bev, const struct guard_limits *lim);

/* The TLS session of the connection req came on, or NULL. */
SSL *guard_ssl(struct evhttp_request *req);

/* 1 with *out filled when req is the guard's stand-in for a refused
 * request, else 0. */
int guard_refusal(struct evhttp_request *req, struct cerr *out);

/* The answer to req has been sent: the connection is idle again, so a
 * header deadline may be answered instead of cutting the connection. */
void guard_replied(struct evhttp_request *req);

/* Checks a complete request head of len bytes (ending in an empty line)
 * against lim: 0 with *body_len (the Content-Length, 0 when absent), or
 * -1 with err (CERR_INVALID, or CERR_TOO_LARGE for size limits). Exposed
 * for the unit test. */
int guard_check_head(const char *head, size_t len,
    const struct guard_limits *lim, int64_t *body_len, struct cerr *err);

#endif
