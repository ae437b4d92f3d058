/*
 * api_ui: the web dashboard under /ui/. The page is static (the files of
 * ui/, compiled in: ui.h); everything it shows it fetches from /v1/ with
 * the browser's client certificate, so the dashboard can show and do no
 * more than the same person can with cohortctl. The pages are served with
 * a policy that lets them load only the master's own scripts and styles
 * and never be framed, so a job's output or a target's name can never run
 * as script.
 */
#include <stdio.h>
#include <string.h>

#include "master/api.h"
#include "master/lease.h"
#include "master/ui.h"

/* script-src 'self' and no 'unsafe-inline': the page's only code is
 * app.js, and text from the store is set with textContent, never as
 * markup. */
#define UI_POLICY                                                              \
	"default-src 'none'; script-src 'self'; style-src 'self'; "            \
	"connect-src 'self'; img-src 'self'; base-uri 'none'; "                \
	"form-action 'none'; frame-ancestors 'none'"

const struct ui_asset *
ui_asset_find(const char *name)
{
	for (const struct ui_asset *a = ui_assets; a->name != NULL; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

static void
serve_asset(struct http_req *r, const char *name)
{
	const struct ui_asset *a = ui_asset_find(name);
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	struct cerr err;

	if (a == NULL) {
		cerr_set(&err, CERR_NOT_FOUND, "no such dashboard file: %.100s",
		    name);
		http_reply_error(r, &err);
		return;
	}
	evhttp_add_header(h, "Content-Security-Policy", UI_POLICY);
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	http_reply_text(r, 200, a->content_type, (const char *)a->data, a->len);
}

void
api_ui_index(struct http_req *r)
{
	serve_asset(r, "index.html");
}

void
api_ui_file(struct http_req *r)
{
	serve_asset(r, r->args[0]);
}

/* "/ui" is where a person types; the page's relative links need the
 * slash. */
void
api_ui_redirect(struct http_req *r)
{
	static const char text[] = "the dashboard is at /ui/\n";

	evhttp_add_header(
	    evhttp_request_get_output_headers(r->req), "Location", "/ui/");
	http_reply_text(
	    r, 301, "text/plain; charset=utf-8", text, sizeof(text) - 1);
}

/* A standby serves no dashboard. A browser would show the API's
 * not_active answer as raw JSON, so a person is sent to the same page on
 * the active master, or told in words that none is active yet. */
void
api_ui_standby(struct http_req *r, const char *path)
{
	json_t *why = lease_not_active_json(r->m);
	json_t *error = json_object_get(why, "error");
	const char *url =
	    json_string_value(json_object_get(error, "active_url"));
	const char *msg = json_string_value(json_object_get(error, "message"));
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	char text[CERR_MSG_MAX + 2], location[4096];
	int n = snprintf(text, sizeof(text), "%s\n", msg != NULL ? msg : "");

	if (n < 0 || (size_t)n >= sizeof(text))
		n = (int)strlen(text);
	if (url != NULL &&
	    (size_t)snprintf(location, sizeof(location), "%s%s", url, path) <
		sizeof(location)) {
		evhttp_add_header(h, "Location", location);
		http_reply_text(
		    r, 307, "text/plain; charset=utf-8", text, (size_t)n);
	} else {
		evhttp_add_header(h, "Retry-After", "5");
		http_reply_text(
		    r, 503, "text/plain; charset=utf-8", text, (size_t)n);
	}
	json_decref(why);
}
