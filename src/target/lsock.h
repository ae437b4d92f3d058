/*
 * lsock: the target's local control socket. Plain HTTP with JSON bodies
 * over an AF_UNIX socket (config key socket, default STATE_DIR/
 * cohortd.sock), served by libevent's evhttp on the target's loop. Only
 * root and the daemon's own user may use it: the socket file is mode 0600
 * and the peer's credentials (SO_PEERCRED) are checked on every request.
 * Routes live under /v1/local/ (lapi.c): local jobs, the local history,
 * and a nudge to upload the outbox now (for records written beside the
 * daemon: cohortctl event raise).
 */
#ifndef COHORT_LSOCK_H
#define COHORT_LSOCK_H

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "common/cerr.h"
#include "common/jobdoc.h"
#include "target/target.h"

/* Largest request body: a job document. */
#define LSOCK_MAX_BODY (JOB_DOC_MAX_BYTES + 1024)

/* One request, as the handlers see it. */
struct lreq {
	struct target *t;
	struct evhttp_request *req;
	const char *arg; /* the {name} of the route, or NULL */
	json_t *body; /* parsed, or NULL */
	struct evkeyvalq query;
};

int lsock_start(struct target *t, struct cerr *err);
void lsock_stop(struct target *t);

/* Replies; each takes ownership of body. */
void lsock_reply_json(struct lreq *r, int status, json_t *body);
void lsock_reply_error(struct lreq *r, const struct cerr *err);
const char *lsock_query(const struct lreq *r, const char *name);

/* lapi.c: the handlers */
void lapi_jobs_list(struct lreq *r);
void lapi_job_get(struct lreq *r);
void lapi_job_put(struct lreq *r);
void lapi_job_delete(struct lreq *r);
void lapi_job_start(struct lreq *r);
void lapi_job_stop(struct lreq *r);
void lapi_history(struct lreq *r);
void lapi_upload(struct lreq *r);

#endif
