/*
 * api_audit: the audit log. api_audit_record() is called once per request by
 * the HTTP front (http.c), after the handler has answered, for every
 * change a client makes (method other than GET, route not quiet): who
 * (certificate name, role, serial), what (method, path, the object the
 * call names), the outcome (HTTP status, error code) and when. A change
 * refused before its handler (no or bad certificate, role, limits, rate)
 * writes nothing at all: a refused request leaves the store as it was,
 * and its log line says why. api_audit_list() serves the log.
 */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "master/api.h"
#include "master/master.h"
#include "store/store.h"

#define DEFAULT_LIMIT 100
#define MAX_LIMIT 100000

/* The object: the names in the path ("web/web-1"), else the body's
 * "name" (creating a group, enlisting, issuing a certificate). */
static void
audit_object(const struct http_req *r, char *out, size_t size)
{
	const char *name = r->body
	    ? json_string_value(json_object_get(r->body, "name"))
	    : NULL;
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < r->nargs && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, "%s%s",
		    i > 0 ? "/" : "", r->args[i]);
	if (r->nargs == 0 && name != NULL)
		snprintf(out, size, "%s", name);
}

static const char *
method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	default:
		return "OTHER";
	}
}

static void
audit_write(
    const struct http_req *r, enum evhttp_cmd_type method, const char *path)
{
	const struct http_caller *c = &r->caller;
	struct store_audit a;
	struct cerr err;

	memset(&a, 0, sizeof(a));
	a.at_ms = timefmt_now_ms();
	snprintf(
	    a.who, sizeof(a.who), "%s", c->authenticated ? c->id.name : "");
	snprintf(a.role, sizeof(a.role), "%s",
	    c->authenticated ? c->id.role : "anonymous");
	snprintf(a.serial_hex, sizeof(a.serial_hex), "%s",
	    c->authenticated ? c->id.serial_hex : "");
	snprintf(a.method, sizeof(a.method), "%s", method_name(method));
	snprintf(a.path, sizeof(a.path), "%s", path);
	audit_object(r, a.object, sizeof(a.object));
	a.status = r->status;
	snprintf(a.code, sizeof(a.code), "%s", r->code ? r->code : "deferred");
	if (store_audit_add(r->m->store, &a, &err) == 0)
		return;
	/* A failing store (a full disk) is logged once per interval, like
	 * every other store failure; anything else at once. */
	if (err.code == CERR_STORE)
		master_store_failed(r->m, &err);
	else
		log_error("audit_failed", "path=%s by=%s msg=%s", a.path, a.who,
		    LOG_TEXT(err.msg));
}

void
api_audit_record(
    const struct http_req *r, const struct http_route *rt, const char *path)
{
	if (rt->method == EVHTTP_REQ_GET || rt->quiet || r->audited)
		return;
	audit_write(r, rt->method, path);
}

void
api_audit_record_early(struct http_req *r, enum evhttp_cmd_type method,
    const char *path, int status)
{
	r->status = status;
	r->code = "ok";
	audit_write(r, method, path);
	r->audited = 1;
}

static int
audit_cb(void *arg, const struct store_audit *a)
{
	char at[TIMEFMT_MAX];

	json_array_append_new(arg,
	    json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:s}", "id",
		(json_int_t)a->id, "at", timefmt_utc_ms(a->at_ms, at), "who",
		a->who, "role", a->role, "serial", a->serial_hex, "method",
		a->method, "path", a->path, "object", a->object, "status",
		a->status, "code", a->code));
	return 0;
}

void
api_audit_list(struct http_req *r)
{
	struct store_audit_filter f = {0, DEFAULT_LIMIT};
	const char *since = http_query(r, "since");
	json_t *list = json_array();
	struct cerr err;

	if (since != NULL && timefmt_parse(since, &f.since_ms) < 0) {
		cerr_set(&err, CERR_INVALID,
		    "query parameter since: '%.40s' "
		    "is not an RFC 3339 time",
		    since);
		goto fail;
	}
	if (http_query_int(r, "limit", 1, MAX_LIMIT, &f.limit, &err) < 0 ||
	    store_audit_list(r->m->store, &f, audit_cb, list, &err) < 0)
		goto fail;
	http_reply_json(r, 200, list);
	return;
fail:
	json_decref(list);
	http_reply_error(r, &err);
}
