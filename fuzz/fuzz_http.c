/*
 * fuzz_http: the master's request path up to the store: route matching
 * (http_find_route, with {name} segments decoded), the query string, the
 * body parsed within the default limits, and the readers of the bodies
 * that outsiders send: a target's poll and its acks, its outbox upload
 * items, an enlistment request, a job document.
 *
 * Input: "METHOD PATH[?QUERY]\n" then the body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/conf.h"
#include "common/jobdoc.h"
#include "common/json.h"
#include "master/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_BODY 1048576
#define MAX_DEPTH 32

static const struct {
	const char *name;
	enum evhttp_cmd_type cmd;
} methods[] = {{"GET", EVHTTP_REQ_GET}, {"POST", EVHTTP_REQ_POST},
    {"PUT", EVHTTP_REQ_PUT}, {"DELETE", EVHTTP_REQ_DELETE}};

static void
read_poll(const json_t *body)
{
	struct api_poll_body p;
	struct cerr err;
	const char *error;
	size_t i;
	json_t *a;
	int64_t id;
	int ok;

	if (api_poll_read(body, &p, &err) < 0 || p.acks == NULL)
		return;
	json_array_foreach(p.acks, i,
	    a) if (api_poll_read_ack(a, i, &id, &ok, &error, &err) == 0 &&
	    (id < 1 || error == NULL)) abort();
}

static void
read_outbox(const json_t *body)
{
	const json_t *items = json_object_get(body, "items");
	struct api_outbox_item it;
	struct cerr err;
	size_t i;
	json_t *item;

	if (!json_is_array(items))
		return;
	json_array_foreach(items, i, item)
	{
		if (api_outbox_read_item(item, &it, &err) == 0)
			run_report_free(it.rep);
		else if (err.msg[0] == '\0')
			abort(); /* refused without a reason */
	}
}

static void
read_body(const struct http_route *rt, const json_t *body)
{
	struct api_enlist_body e;
	struct job *job = NULL;
	struct cerr err;

	if (rt->handler == api_poll)
		read_poll(body);
	else if (rt->handler == api_outbox)
		read_outbox(body);
	else if (rt->handler == api_enlist)
		api_enlist_read(body, &e, &err);
	else if (rt->handler == api_job_put && body != NULL &&
	    jobdoc_from_json(body, &job, &err) == 0)
		job_free(job);
}

static void
request(enum evhttp_cmd_type cmd, char *target, const uint8_t *body, size_t len)
{
	const struct http_route *rt;
	struct evkeyvalq query;
	char *args[HTTP_MAX_ARGS], *q = strchr(target, '?');
	int nargs = 0, known = 0;
	struct cerr err;
	json_t *json = NULL;

	TAILQ_INIT(&query);
	if (q != NULL)
		*q++ = '\0';
	rt = http_find_route(target, cmd, args, &nargs, &known);
	if (q != NULL)
		evhttp_parse_query_str(q, &query);
	if (len > 0)
		json = json_parse_limited(
		    (const char *)body, len, MAX_BODY, MAX_DEPTH, &err);
	if (rt != NULL && (len == 0 || json != NULL))
		read_body(rt, json);
	for (int i = 0; i < nargs; i++)
		free(args[i]);
	evhttp_clear_headers(&query);
	json_decref(json);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	const uint8_t *sp;
	size_t line;
	char *target;

	if (nl == NULL || size > MAX_BODY + 4096)
		return 0;
	line = (size_t)(nl - data);
	sp = memchr(data, ' ', line);
	if (sp == NULL || memchr(data, '\0', line) != NULL)
		return 0;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		size_t mlen = strlen(methods[i].name);

		if ((size_t)(sp - data) != mlen ||
		    memcmp(data, methods[i].name, mlen) != 0)
			continue;
		target = strndup((const char *)sp + 1, line - mlen - 1);
		if (target == NULL)
			return 0;
		request(methods[i].cmd, target, nl + 1, size - line - 1);
		free(target);
	}
	return 0;
}
