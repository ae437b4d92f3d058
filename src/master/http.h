/*
 * http: the master's HTTPS front. Every connection is TLS (libevent's
 * OpenSSL bufferevents); every request is matched against the one route
 * table (routes.c: method, path pattern, roles allowed, handler), the
 * caller is identified from its certificate, the body is read within its
 * limits and parsed as JSON, and handlers answer with http_reply_*().
 * Errors are JSON: {"error": {"code": "...", "message": "..."}}.
 */
#ifndef COHORT_HTTP_H
#define COHORT_HTTP_H

#include <stdint.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "common/cerr.h"
#include "common/pki.h"

struct master;

enum http_role {
	HTTP_ANON = 1 << 0, /* no (valid) certificate needed */
	HTTP_ADMIN = 1 << 1,
	HTTP_OPERATOR = 1 << 2,
	HTTP_VIEWER = 1 << 3,
	HTTP_TARGET = 1 << 4,
};
#define HTTP_READERS (HTTP_ADMIN | HTTP_OPERATOR | HTTP_VIEWER)

#define HTTP_MAX_ARGS 4

/* What the master keeps per TLS connection, freed with it: the client's
 * verified identity, parsed once (a connection never changes client:
 * renegotiation is off), with the role an external certificate was mapped
 * to when the connection began, and whether api_poll has checked that this
 * target is enlisted. Revocation is still checked on every request. */
struct http_conn {
	struct pki_identity id;
	int external;
	int target_checked;
	int worker_tasks; /* max_tasks a worker's poll last recorded */
};

struct http_caller {
	int authenticated;
	enum http_role role;
	struct pki_identity id;
	struct cerr why; /* why not authenticated */
	/* A revoked target certificate whose target was deleted or has
	 * defected: the target's own calls are answered this (410), so it
	 * stops polling rather than retry a 401 for ever. */
	struct cerr gone;
	int external; /* certificate from client_ca, role mapped */
};

struct http_req {
	struct master *m;
	struct evhttp_request *req; /* NULL once replied or handed off */
	struct http_caller caller;
	char *args[HTTP_MAX_ARGS]; /* {name} path segments, decoded */
	int nargs;
	struct evkeyvalq query;
	json_t *body; /* NULL when the request had none */
	const char *peer_version; /* Cohort-Version header or NULL */
	/* The answer, for the audit log (0 / NULL until replied). */
	int status;
	const char *code; /* "ok" or the error code's name */
	int audited; /* the handler wrote its audit row itself */
	struct http_conn *conn; /* NULL without a verified client */
};

typedef void (*http_handler)(struct http_req *r);

struct http_route {
	enum evhttp_cmd_type method;
	const char *pattern; /* "/v1/jobs/{name}/start" */
	unsigned roles; /* enum http_role bits */
	http_handler handler;
	const char *summary; /* one line, for docs/api.md */
	int quiet; /* a change not audited: a target's polls and
				 * uploads, many per minute, are not admin
				 * actions */
	int no_body; /* takes no body: one, unless {}, is refused */
	/* The query parameters an API route reads, space-separated; NULL:
	 * none. Any other is refused, so a filter the caller misspelt is
	 * never silently ignored (a listing would come back unfiltered). */
	const char *query;
};

/* The route table (routes.c), ended by a NULL pattern. */
extern const struct http_route http_routes[];

/* Binds conf->listen, writes the bound port to STATE_DIR/port, and serves
 * on m->base. */
int http_start(struct master *m, struct cerr *err);
void http_stop(struct master *m);
/* Applies the request limits of m->conf (body size, timeout) again, after
 * a reload; open connections keep running. */
void http_apply_limits(struct master *m);

/* Replies and ends the request. Both take ownership of body. */
void http_reply_json(struct http_req *r, int status, json_t *body);
void http_reply_error(struct http_req *r, const struct cerr *err);
void http_reply_ok(struct http_req *r);
/* Replies with a body that is not JSON (len bytes of text, borrowed) in
 * content_type: the metrics. */
void http_reply_text(struct http_req *r, int status, const char *content_type,
    const char *text, size_t len);

/* For deferred replies (long-polls): sends on a bare request. */
void http_send_json(struct evhttp_request *req, int status, json_t *body);
/* The same with a body that is JSON text already (len bytes, borrowed). */
void http_send_text(
    struct evhttp_request *req, int status, const char *text, size_t len);

/* Takes the evhttp request away from r so the handler can answer later;
 * r->req becomes NULL. The request's headers are dropped (read them
 * before). */
struct evhttp_request *http_defer(struct http_req *r);

/* A query parameter, or NULL. */
const char *http_query(const struct http_req *r, const char *name);
/* Integer query parameter within bounds; 1 when absent (out unchanged),
 * -1 with err when malformed. */
int http_query_int(const struct http_req *r, const char *name, int64_t min,
    int64_t max, int64_t *out, struct cerr *err);

/* The path argument arg (an instruction's or an execution's id) as a
 * positive decimal integer; -1 with err naming what when it is not one
 * (signs, spaces and values past INT64_MAX included). */
int http_path_id(
    const char *arg, const char *what, int64_t *out, struct cerr *err);

/* Reads a body that is an object with exactly one member, key, holding a
 * valid name (jobdoc_check_name rules); *out is borrowed from r->body. */
int http_body_name(const struct http_req *r, const char *key, const char **out,
    struct cerr *err);

/* Refuses (-1 with err) a request a browser made from another site's page:
 * Sec-Fetch-Site other than same-origin or none, or an Origin other than
 * https://HOST, unless it is a GET of the dashboard (/ui...) that
 * navigates (Sec-Fetch-Mode). Each header may be NULL (absent). Exposed
 * for the unit test. */
int http_cross_site(int dashboard_get, const char *fetch_site,
    const char *fetch_mode, const char *origin, const char *host,
    struct cerr *err);

/* Matches path against pattern; fills args (caller frees each). Returns 1
 * on a match. Exposed for the route unit test. */
int http_match(const char *pattern, const char *path, char **args, int *nargs);

/* The route for method and path, its {name} segments in args (caller
 * frees each); NULL when none matches, *path_known then says whether
 * another method would. Exposed for the fuzzer (fuzz/fuzz_http.c). */
const struct http_route *http_find_route(const char *path,
    enum evhttp_cmd_type method, char **args, int *nargs, int *path_known);

#endif
