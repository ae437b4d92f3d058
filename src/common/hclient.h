/*
 * hclient: an asynchronous HTTP(S) client: libcurl's multi interface
 * driven by a daemon's libevent loop (curl tells which sockets and
 * timeouts to watch; libevent tells curl when they fire). Requests share
 * connections and never block the loop, so a target's long-poll and
 * uploads, or a master's webhook deliveries, coexist in one thread.
 *
 * A target's client presents its certificate and checks the master's
 * (chain and name) unless the channel is encrypt-only. The master's
 * webhook client presents none, checks servers against the system's CAs
 * and may also speak plain http (a webhook on a local network).
 */
#ifndef COHORT_HCLIENT_H
#define COHORT_HCLIENT_H

#include <stddef.h>

#include "common/cerr.h"

struct event_base;
struct hclient;
struct hcall;

/* Paths; hclient_new() copies them. */
struct hclient_tls {
	const char *cert; /* NULL: present no client certificate */
	const char *key; /* NULL with cert */
	const char *ca; /* NULL: the system's CAs */
	int verify; /* 0: encrypt-only */
	int allow_http; /* 1: http:// URLs too, not only https:// */
	/* 1: the server is a cohort master: offer only the suites it accepts
	 * (tls_suites.h). A master keeps a client's offer for the life of a
	 * connection; curl's default offer is about 30 suites. */
	int to_master;
};

struct hresp {
	long status; /* HTTP status; 0 when the exchange failed */
	const char *body; /* borrowed for the callback; NUL-terminated */
	size_t len;
	const char *error; /* transport error text when status is 0 */
};

/* Called once per request unless it was canceled. */
typedef void (*hclient_cb)(void *arg, const struct hresp *resp);

struct hclient *hclient_new(
    struct event_base *base, const struct hclient_tls *tls, struct cerr *err);
/* Cancels every request in flight (their callbacks are not called). */
void hclient_free(struct hclient *c);

/* Starts method on url with an optional JSON body (copied). The response
 * body is limited to max_response bytes (more fails the request). */
struct hcall *hclient_request(struct hclient *c, const char *method,
    const char *url, const char *body, long timeout_ms, size_t max_response,
    hclient_cb cb, void *arg, struct cerr *err);
void hclient_cancel(struct hclient *c, struct hcall *call);

#endif
