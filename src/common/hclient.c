/*
 * hclient: libcurl multi + libevent (see hclient.h). The glue follows
 * curl's documented multi_socket pattern: a socket callback that keeps one
 * libevent event per socket curl wants watched, and a timer callback that
 * keeps one libevent timer for curl's timeouts.
 */
#include "common/hclient.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "common/buf.h"
#include "common/tls_suites.h"
#include "common/version.h"

struct hcall {
	struct hclient *c;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	struct buf response;
	char errbuf[CURL_ERROR_SIZE];
	hclient_cb cb;
	void *arg;
	struct hcall *next; /* the client's list of calls in flight */
};

struct hclient {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	char *cert; /* owned copies of struct hclient_tls; */
	char *key; /* NULL where the caller gave none */
	char *ca;
	int verify;
	int allow_http;
	int to_master;
	char version_header[64];
	struct hcall *calls;
};

static void
call_free(struct hcall *call)
{
	if (call == NULL)
		return;
	curl_slist_free_all(call->headers);
	if (call->easy != NULL)
		curl_easy_cleanup(call->easy);
	free(call->body);
	buf_cleanup(&call->response);
	free(call);
}

static void
call_unlink(struct hclient *c, struct hcall *call)
{
	for (struct hcall **p = &c->calls; *p != NULL; p = &(*p)->next) {
		if (*p == call) {
			*p = call->next;
			return;
		}
	}
}

static void
check_done(struct hclient *c)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
		struct hcall *call = NULL;
		struct hresp resp;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(
		    msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
		memset(&resp, 0, sizeof(resp));
		if (msg->data.result == CURLE_OK) {
			curl_easy_getinfo(
			    call->easy, CURLINFO_RESPONSE_CODE, &resp.status);
		} else {
			resp.error = call->errbuf[0]
			    ? call->errbuf
			    : curl_easy_strerror(msg->data.result);
		}
		resp.body = buf_str(&call->response);
		resp.len = call->response.len;
		curl_multi_remove_handle(c->multi, call->easy);
		call_unlink(c, call);
		call->cb(call->arg, &resp);
		call_free(call);
	}
}

static void
socket_event_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct hclient *c = arg;
	int action = ((kind & EV_READ) ? CURL_CSELECT_IN : 0) |
	    ((kind & EV_WRITE) ? CURL_CSELECT_OUT : 0);
	int running;

	curl_multi_socket_action(c->multi, fd, action, &running);
	check_done(c);
}

static void
timer_event_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct hclient *c = arg;
	int running;

	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(c);
}

static int
socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct hclient *c = userp;
	struct event *ev = socketp;
	short kind;

	if (what == CURL_POLL_REMOVE) {
		if (ev != NULL)
			event_free(ev);
		curl_multi_assign(c->multi, s, NULL);
		return 0;
	}
	kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
	if (ev != NULL)
		event_free(ev);
	ev = event_new(c->base, s, kind, socket_event_cb, c);
	if (ev == NULL || event_add(ev, NULL) < 0)
		return -1;
	curl_multi_assign(c->multi, s, ev);
	return 0;
}

static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct hclient *c = userp;
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};

	if (timeout_ms < 0)
		return evtimer_del(c->timer);
	return evtimer_add(c->timer, &tv);
}

static size_t
write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct hcall *call = arg;

	if (buf_append(&call->response, data, size * n, NULL) < 0)
		return 0; /* over the limit: curl fails the transfer */
	return size * n;
}

/* *out: a copy of path, or NULL when path is NULL. */
static int
copy_path(const char *path, char **out)
{
	*out = NULL;
	if (path == NULL)
		return 0;
	*out = strdup(path);
	return *out != NULL ? 0 : -1;
}

struct hclient *
hclient_new(
    struct event_base *base, const struct hclient_tls *tls, struct cerr *err)
{
	struct hclient *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		cerr_set(err, CERR_INTERNAL, "out of memory");
		return NULL;
	}
	c->base = base;
	c->verify = tls->verify;
	c->allow_http = tls->allow_http;
	c->to_master = tls->to_master;
	snprintf(c->version_header, sizeof(c->version_header),
	    "Cohort-Version: %s", version_string());
	c->multi = curl_multi_init();
	c->timer = evtimer_new(base, timer_event_cb, c);
	if (c->multi == NULL || c->timer == NULL ||
	    copy_path(tls->cert, &c->cert) < 0 ||
	    copy_path(tls->key, &c->key) < 0 ||
	    copy_path(tls->ca, &c->ca) < 0) {
		cerr_set(err, CERR_INTERNAL, "cannot set up the HTTP client");
		hclient_free(c);
		return NULL;
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	return c;
}

void
hclient_free(struct hclient *c)
{
	if (c == NULL)
		return;
	while (c->calls != NULL)
		hclient_cancel(c, c->calls);
	if (c->multi != NULL)
		curl_multi_cleanup(c->multi);
	if (c->timer != NULL)
		event_free(c->timer);
	free(c->cert);
	free(c->key);
	free(c->ca);
	free(c);
}

static int
setup_easy(struct hclient *c, struct hcall *call, const char *method,
    const char *url, long timeout_ms)
{
	CURL *e = call->easy;

	call->headers = curl_slist_append(NULL,
	    "Content-Type: "
	    "application/json");
	call->headers = curl_slist_append(call->headers, c->version_header);
	call->headers = curl_slist_append(call->headers, "Expect:");
	if (call->headers == NULL)
		return -1;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, call->headers);
	curl_easy_setopt(e, CURLOPT_PRIVATE, call);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, call);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, call->errbuf);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(
	    e, CURLOPT_PROTOCOLS_STR, c->allow_http ? "http,https" : "https");
	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (c->to_master) {
		curl_easy_setopt(e, CURLOPT_SSL_CIPHER_LIST, TLS_SUITES_TLS12);
		curl_easy_setopt(e, CURLOPT_TLS13_CIPHERS, TLS_SUITES_TLS13);
	}
	if (c->cert != NULL) {
		curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert);
		curl_easy_setopt(e, CURLOPT_SSLKEY, c->key);
	}
	if (c->ca != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->verify ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->verify ? 2L : 0L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	if (call->body != NULL) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, call->body);
		curl_easy_setopt(
		    e, CURLOPT_POSTFIELDSIZE, (long)strlen(call->body));
	}
	return 0;
}

struct hcall *
hclient_request(struct hclient *c, const char *method, const char *url,
    const char *body, long timeout_ms, size_t max_response, hclient_cb cb,
    void *arg, struct cerr *err)
{
	struct hcall *call = calloc(1, sizeof(*call));

	if (call == NULL)
		goto oom;
	call->c = c;
	call->cb = cb;
	call->arg = arg;
	buf_init(&call->response, max_response);
	call->easy = curl_easy_init();
	if (call->easy == NULL ||
	    (body != NULL && (call->body = strdup(body)) == NULL) ||
	    setup_easy(c, call, method, url, timeout_ms) < 0)
		goto oom;
	if (curl_multi_add_handle(c->multi, call->easy) != CURLM_OK) {
		cerr_set(err, CERR_INTERNAL, "curl_multi_add_handle failed");
		call_free(call);
		return NULL;
	}
	call->next = c->calls;
	c->calls = call;
	return call;
oom:
	cerr_set(err, CERR_INTERNAL, "out of memory starting a request");
	call_free(call);
	return NULL;
}

void
hclient_cancel(struct hclient *c, struct hcall *call)
{
	if (call == NULL)
		return;
	curl_multi_remove_handle(c->multi, call->easy);
	call_unlink(c, call);
	call_free(call);
}
