/*
 * hclient: the target's HTTPS client: libcurl's multi interface driven by
 * the target's libevent loop (curl tells which sockets and timeouts to
 * watch; libevent tells curl when they fire). Requests are asynchronous and
 * share connections, so the long-poll and uploads coexist in one thread.
 * Every request presents the target's certificate and checks the master's
 * (chain and name) unless the channel is encrypt-only.
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
	const char *cert;
	const char *key;
	const char *ca;
	int verify;		/* 0: encrypt-only */
};

struct hresp {
	long status;		/* HTTP status; 0 when the exchange failed */
	const char *body;	/* borrowed for the callback; NUL-terminated */
	size_t len;
	const char *error;	/* transport error text when status is 0 */
};

/* Called once per request unless it was canceled. */
typedef void (*hclient_cb)(void *arg, const struct hresp *resp);

struct hclient *hclient_new(struct event_base *base,
    const struct hclient_tls *tls, struct cerr *err);
/* Cancels every request in flight (their callbacks are not called). */
void hclient_free(struct hclient *c);

/* Starts method on url with an optional JSON body (copied). The response
 * body is limited to max_response bytes (more fails the request). */
struct hcall *hclient_request(struct hclient *c, const char *method,
    const char *url, const char *body, long timeout_ms, size_t max_response,
    hclient_cb cb, void *arg, struct cerr *err);
void hclient_cancel(struct hclient *c, struct hcall *call);

#endif
