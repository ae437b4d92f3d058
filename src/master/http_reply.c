/*
 * http_reply: answering a request and reading its parts (see http.h).
 * Every reply goes out through send_typed(), so each carries the same
 * headers and its status line the standard reason; the guard is told a
 * reply went (guard.h), which is how a kept-alive connection's next
 * request is let in. The readers check a query parameter, a path id or
 * a body's name and say which was wrong.
 */
#include "master/http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "common/jobdoc.h"
#include "common/json.h"
#include "common/version.h"
#include "master/guard.h"
#include "master/master.h"

static void
add_common_headers(struct evhttp_request *req, const char *content_type)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", content_type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "Cohort-Version", version_string());
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
}

/* The standard reason phrase of each status cohort answers with. */
static const char *
status_reason(int status)
{
	static const struct {
		int status;
		const char *reason;
	} reasons[] = {{200, "OK"}, {201, "Created"},
	    {301, "Moved Permanently"}, {307, "Temporary Redirect"},
	    {400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"},
	    {404, "Not Found"}, {408, "Request Timeout"}, {409, "Conflict"},
	    {410, "Gone"}, {413, "Content Too Large"},
	    {426, "Upgrade Required"}, {429, "Too Many Requests"},
	    {500, "Internal Server Error"}, {503, "Service Unavailable"}};

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return status < 400 ? "OK" : "Error";
}

static void
send_typed(struct evhttp_request *req, int status, const char *content_type,
    const char *text, size_t len)
{
	struct evbuffer *out = evbuffer_new();

	add_common_headers(req, content_type);
	guard_replied(req);
	if (out != NULL && text != NULL)
		evbuffer_add(out, text, len);
	evhttp_send_reply(req, status, status_reason(status), out);
	if (out != NULL)
		evbuffer_free(out);
}

void
http_send_text(
    struct evhttp_request *req, int status, const char *text, size_t len)
{
	send_typed(req, status, "application/json", text, len);
}

void
http_send_json(struct evhttp_request *req, int status, json_t *body)
{
	char *text = body ? json_dump_compact(body) : NULL;
	size_t len = text ? strlen(text) : 0;

	/* The text ends in a newline, as every reply does. */
	if (text != NULL) {
		char *grown = realloc(text, len + 2);

		if (grown != NULL) {
			text = grown;
			text[len++] = '\n';
			text[len] = '\0';
		}
	}
	http_send_text(req, status, text, len);
	free(text);
	json_decref(body);
}

void
http_reply_json(struct http_req *r, int status, json_t *body)
{
	if (r->req == NULL) {
		json_decref(body);
		return;
	}
	http_send_json(r->req, status, body);
	r->req = NULL;
	r->status = status;
	if (r->code == NULL)
		r->code = "ok";
}

void
http_reply_error(struct http_req *r, const struct cerr *err)
{
	if (err->code == CERR_STORE)
		master_store_failed(r->m, err);
	json_t *body = json_pack("{s:{s:s,s:s}}", "error", "code",
	    cerr_code_name(err->code), "message", err->msg);

	if (r->req != NULL)
		r->code = cerr_code_name(err->code);
	http_reply_json(r, cerr_http_status(err->code), body);
}

void
http_reply_ok(struct http_req *r)
{
	http_reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

void
http_reply_text(struct http_req *r, int status, const char *content_type,
    const char *text, size_t len)
{
	if (r->req == NULL)
		return;
	send_typed(r->req, status, content_type, text, len);
	r->req = NULL;
	r->status = status;
	if (r->code == NULL)
		r->code = "ok";
}

struct evhttp_request *
http_defer(struct http_req *r)
{
	struct evhttp_request *req = r->req;

	/* A held poll keeps its request for up to a minute, 10,000 of them
	 * at once: the headers were read, and evhttp finds no Connection
	 * header in them at reply time anyway (the guard took it out). */
	evhttp_clear_headers(evhttp_request_get_input_headers(req));
	r->peer_version = NULL;
	r->req = NULL;
	return req;
}

const char *
http_query(const struct http_req *r, const char *name)
{
	return evhttp_find_header(&r->query, name);
}

int
http_query_int(const struct http_req *r, const char *name, int64_t min,
    int64_t max, int64_t *out, struct cerr *err)
{
	const char *v = http_query(r, name);
	char *end = NULL;
	long long n;

	if (v == NULL)
		return 1;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < min || n > max)
		return cerr_set(err, CERR_INVALID,
		    "query parameter %s: expected an integer in %lld..%lld",
		    name, (long long)min, (long long)max);
	*out = n;
	return 0;
}

int
http_path_id(const char *arg, const char *what, int64_t *out, struct cerr *err)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || errno == ERANGE ||
	    v <= 0)
		return cerr_set(err, CERR_INVALID,
		    "%s: '%.40s' is not a positive integer", what, arg);
	*out = v;
	return 0;
}

int
http_body_name(const struct http_req *r, const char *key, const char **out,
    struct cerr *err)
{
	const char *const keys[] = {key, NULL};
	int rc;

	if (r->body == NULL)
		return cerr_set(err, CERR_INVALID,
		    "request body: expected "
		    "{\"%s\": NAME}",
		    key);
	if (json_check_keys(r->body, keys, "", err) < 0)
		return -1;
	rc = json_get_string(r->body, key, "", 128, 0, out, err);
	if (rc < 0)
		return -1;
	if (rc > 0)
		return cerr_set(err, CERR_INVALID, "%s: required", key);
	return jobdoc_check_name(*out, 128, key, err);
}
