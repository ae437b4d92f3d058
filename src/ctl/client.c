/*
 * client: cohortctl's HTTPS client (see client.h).
 */
#include "ctl/client.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "common/buf.h"
#include "common/ini.h"
#include "common/paths.h"
#include "common/version.h"

#define CLIENT_MAX_RESPONSE (256 * 1024 * 1024)
#define CLIENT_TIMEOUT_MS 120000L
/* Connecting, TLS handshake included: a master that is paused (SIGSTOP,
 * a frozen VM) accepts the TCP connection in its kernel and answers
 * nothing; past this, the profile's next master is tried. */
#define CLIENT_CONNECT_TIMEOUT_MS 5000L
/* Asked again while every master of a pair answers "standby": 20 rounds
 * 500 ms apart, 10 s (a takeover takes a lease, 3 s by default). */
#define CLIENT_TAKEOVER_ROUNDS 20
#define CLIENT_TAKEOVER_WAIT_NS 500000000L

struct profile_ctx {
	struct client *c;
	char dir[CONF_STR_MAX];
};

static int
set_path(char *out, const char *dir, const char *value, struct cerr *err)
{
	int n = value[0] == '/'
	    ? snprintf(out, CONF_STR_MAX, "%s", value)
	    : snprintf(out, CONF_STR_MAX, "%s/%s", dir, value);

	if (n < 0 || n >= CONF_STR_MAX)
		return cerr_set(err, CERR_INVALID, "path too long");
	return 0;
}

static int
profile_key(void *arg, const char *key, const char *value, struct cerr *err)
{
	struct profile_ctx *pc = arg;

	if (strcmp(key, "master") == 0) {
		if (client_check_urls(value, "master", err) < 0)
			return -1;
		snprintf(pc->c->url, sizeof(pc->c->url), "%s", value);
		return 0;
	}
	if (strcmp(key, "ca") == 0)
		return set_path(pc->c->ca, pc->dir, value, err);
	if (strcmp(key, "cert") == 0)
		return set_path(pc->c->cert, pc->dir, value, err);
	if (strcmp(key, "key") == 0)
		return set_path(pc->c->key, pc->dir, value, err);
	return cerr_set(err, CERR_INVALID,
	    "%s: unknown key (profiles have "
	    "master, ca, cert, key)",
	    key);
}

/* Splits a URL list (copy, modified) into urls; returns how many URLs
 * it holds, of which the first CLIENT_MAX_URLS are stored. */
static int
split_urls(char *copy, char **urls)
{
	char *save = NULL;
	int n = 0;

	for (char *u = strtok_r(copy, " ,", &save); u != NULL;
	     u = strtok_r(NULL, " ,", &save), n++)
		if (n < CLIENT_MAX_URLS)
			urls[n] = u;
	return n;
}

int
client_check_urls(const char *list, const char *what, struct cerr *err)
{
	char copy[CONF_STR_MAX];
	char *urls[CLIENT_MAX_URLS];
	int n;

	snprintf(copy, sizeof(copy), "%s", list);
	n = split_urls(copy, urls);
	if (n == 0)
		return cerr_set(err, CERR_INVALID, "%s: no URL", what);
	if (n > CLIENT_MAX_URLS)
		return cerr_set(err, CERR_INVALID, "%s: more than %d URLs",
		    what, CLIENT_MAX_URLS);
	for (int i = 0; i < n; i++)
		if (strncmp(urls[i], "https://", 8) != 0)
			return cerr_set(err, CERR_INVALID,
			    "%s: '%s' is not an "
			    "https:// URL",
			    what, urls[i]);
	return 0;
}

/* "https://host:0" -> "https://host:<port from the port file>" (a lone
 * URL: the port file is one master's). */
static int
resolve_port_zero(struct client *c, const char *dir, struct cerr *err)
{
	size_t n = strlen(c->url);
	char path[CONF_STR_MAX + 16];
	int port = 0;
	FILE *f;

	if (strchr(c->url, ' ') != NULL || strchr(c->url, ',') != NULL)
		return 0;
	while (n > 0 && c->url[n - 1] == '/')
		c->url[--n] = '\0';
	if (n < 2 || strcmp(c->url + n - 2, ":0") != 0)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, PATH_PORT);
	f = fopen(path, "r");
	if (f == NULL || fscanf(f, "%d", &port) != 1 || port <= 0 ||
	    port > 65535) {
		if (f != NULL)
			fclose(f);
		return cerr_set(err, CERR_UNAVAILABLE,
		    "profile names port 0 "
		    "and %s has no port: is the master running?",
		    path);
	}
	fclose(f);
	snprintf(c->url + n - 1, sizeof(c->url) - (n - 1), "%d", port);
	return 0;
}

int
client_from_profile(const char *path, struct client *out, struct cerr *err)
{
	struct profile_ctx pc;
	char copy[CONF_STR_MAX];
	char report[2048];

	memset(out, 0, sizeof(*out));
	out->verify = 1;
	pc.c = out;
	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(pc.dir, sizeof(pc.dir), "%s", dirname(copy));
	if (ini_parse_file(
		path, profile_key, &pc, report, sizeof(report), err) < 0)
		return -1;
	if (out->url[0] == '\0' || out->ca[0] == '\0' || out->cert[0] == '\0' ||
	    out->key[0] == '\0')
		return cerr_set(err, CERR_INVALID,
		    "%s: a profile needs master, "
		    "ca, cert and key",
		    path);
	return resolve_port_zero(out, pc.dir, err);
}

void
client_escape(const char *s, char *out, size_t out_size)
{
	char *e = curl_easy_escape(NULL, s, 0);

	snprintf(out, out_size, "%s", e ? e : "");
	curl_free(e);
}

static size_t
write_cb(char *data, size_t size, size_t n, void *arg)
{
	return buf_append(arg, data, size * n, NULL) < 0 ? 0 : size * n;
}

/* Fills err from an error reply; a standby's names the active master,
 * copied to active (size CONF_STR_MAX; "" when none). */
static int
error_from_reply(
    long status, const struct buf *b, char *active, struct cerr *err)
{
	json_t *v = json_loadb(buf_str(b), b->len, 0, NULL);
	json_t *e = v ? json_object_get(v, "error") : NULL;
	const char *code =
	    e ? json_string_value(json_object_get(e, "code")) : NULL;
	const char *msg =
	    e ? json_string_value(json_object_get(e, "message")) : NULL;
	const char *url =
	    e ? json_string_value(json_object_get(e, "active_url")) : NULL;

	if (code != NULL && msg != NULL)
		cerr_set(err, cerr_code_from_name(code), "%s", msg);
	else
		cerr_set(
		    err, CERR_INTERNAL, "master answered HTTP %ld", status);
	snprintf(active, CONF_STR_MAX, "%s", url != NULL ? url : "");
	json_decref(v);
	return -1;
}

static void
setup_tls(CURL *e, const struct client *c)
{
	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->verify ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->verify ? 2L : 0L);
	if (c->ca[0] != '\0')
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca);
	if (c->cert[0] != '\0') {
		curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert);
		curl_easy_setopt(e, CURLOPT_SSLKEY, c->key);
	}
}

/* One call to the master at base (no trailing slash); active as for
 * error_from_reply(). *resend says whether, after a failure, the call
 * may go to another master: always for a read, and for a change only
 * when nothing was sent (a master that died after its commit would have
 * the change made twice). */
static int
call_one(const struct client *c, const char *base, const char *method,
    const char *path, const json_t *body, json_t **out, char *active,
    int *resend, long *status_out, struct cerr *err)
{
	char url[CONF_STR_MAX * 2], errbuf[CURL_ERROR_SIZE] = "";
	char version[64];
	struct curl_slist *h = NULL;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	CURL *e = curl_easy_init();
	struct buf b;
	long status = 0;
	CURLcode rc;
	int ret = -1;

	buf_init(&b, CLIENT_MAX_RESPONSE);
	if (out != NULL)
		*out = NULL;
	if (e == NULL || (body != NULL && text == NULL)) {
		cerr_set(err, CERR_INTERNAL, "out of memory");
		goto out;
	}
	active[0] = '\0';
	snprintf(url, sizeof(url), "%s%s", base, path);
	snprintf(
	    version, sizeof(version), "Cohort-Version: %s", version_string());
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, version);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR,
	    c->unix_socket[0] != '\0' ? "http" : "https");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
	    c->timeout_ms > 0 ? c->timeout_ms : CLIENT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	if (text != NULL)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, text);
	if (c->unix_socket[0] != '\0') {
		curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, c->unix_socket);
	} else {
		curl_easy_setopt(
		    e, CURLOPT_CONNECTTIMEOUT_MS, CLIENT_CONNECT_TIMEOUT_MS);
		setup_tls(e, c);
	}
	rc = curl_easy_perform(e);
	*resend = strcmp(method, "GET") == 0;
	if (rc != CURLE_OK) {
		long sent = 0;

		curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &sent);
		*resend = *resend || sent == 0;
		/* curl's own text would name the URL's host and port, which a
		 * socket path makes meaningless ("localhost port 80"). */
		if (c->unix_socket[0] != '\0')
			cerr_set(err, CERR_UNAVAILABLE,
			    "cannot reach cohortd "
			    "at %s (is it running?): %s",
			    c->unix_socket, curl_easy_strerror(rc));
		else
			cerr_set(err, CERR_UNAVAILABLE,
			    "cannot reach master "
			    "at %s: %s",
			    base, errbuf[0] ? errbuf : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (status_out != NULL)
		*status_out = status;
	if (status_out == NULL && (status < 200 || status > 299)) {
		error_from_reply(status, &b, active, err);
		goto out;
	}
	if (out != NULL && b.len > 0) {
		*out = json_loadb(buf_str(&b), b.len, 0, NULL);
		if (*out == NULL) {
			cerr_set(err, CERR_INTERNAL,
			    "master sent unreadable "
			    "JSON");
			goto out;
		}
	}
	ret = 0;
out:
	curl_slist_free_all(h);
	if (e != NULL)
		curl_easy_cleanup(e);
	free(text);
	buf_cleanup(&b);
	return ret;
}

/* The URL to try after a failure at urls[at]: the active master a
 * standby named when it is listed and untried, else the next untried. */
static int
next_url(char **urls, int n, const int *tried, int at, const char *active)
{
	for (int i = 0; active[0] != '\0' && i < n; i++)
		if (!tried[i] && strcmp(urls[i], active) == 0)
			return i;
	for (int k = 1; k <= n; k++)
		if (!tried[(at + k) % n])
			return (at + k) % n;
	return -1;
}

/* A name given on the command line becomes a segment of the path: an
 * empty one, "." or ".." would reach another route ("/v1/jobs/.." is
 * "/v1/"), or none, and come back as "no such API path". */
static int
path_names_check(const char *path, struct cerr *err)
{
	size_t end = strcspn(path, "?");

	for (size_t i = 1; i <= end; i++) {
		size_t start = i, len;

		while (i < end && path[i] != '/')
			i++;
		len = i - start;
		if (len == 0 || (len == 1 && path[start] == '.') ||
		    (len == 2 && strncmp(path + start, "..", 2) == 0))
			return cerr_set(err, CERR_INVALID,
			    "a name may not be empty, '.' or '..'");
	}
	return 0;
}

int
client_call(const struct client *c, const char *method, const char *path,
    const json_t *body, json_t **out, struct cerr *err)
{
	char copy[CONF_STR_MAX], active[CONF_STR_MAX];
	char *urls[CLIENT_MAX_URLS];
	int tried[CLIENT_MAX_URLS] = {0};
	struct cerr standby;
	int n, at = 0, resend = 0;

	if (path_names_check(path, err) < 0)
		return -1;
	snprintf(copy, sizeof(copy), "%s", c->url);
	n = split_urls(copy, urls);
	if (n > CLIENT_MAX_URLS)
		n = CLIENT_MAX_URLS;
	for (int i = 0; i < n; i++) {
		size_t len = strlen(urls[i]);

		while (len > 0 && urls[i][len - 1] == '/')
			urls[i][--len] = '\0';
	}
	if (n == 0)
		return cerr_set(err, CERR_INVALID, "no master URL");
	/* Every master a standby: a takeover is under way (a few seconds
	 * with the default lease), and a standby changed nothing, so the
	 * call is asked again for a while before it fails. */
	for (int round = 0;; round++) {
		memset(tried, 0, sizeof(tried));
		at = 0;
		standby.code = CERR_OK;
		while (at >= 0) {
			tried[at] = 1;
			if (call_one(c, urls[at], method, path, body, out,
				active, &resend, NULL, err) == 0)
				return 0;
			if (err->code == CERR_NOT_ACTIVE &&
			    standby.code == CERR_OK)
				standby = *err;
			else if (err->code != CERR_NOT_ACTIVE &&
			    (err->code != CERR_UNAVAILABLE || !resend))
				return -1;
			at = next_url(urls, n, tried, at, active);
		}
		if (standby.code == CERR_OK || n < 2 ||
		    round >= CLIENT_TAKEOVER_ROUNDS)
			break;
		nanosleep(&(struct timespec){0, CLIENT_TAKEOVER_WAIT_NS}, NULL);
	}
	if (standby.code != CERR_OK)
		*err = standby;
	return -1;
}

int
client_get_status(const struct client *c, const char *path, long *status,
    json_t **out, struct cerr *err)
{
	char active[CONF_STR_MAX];
	int resend;

	return call_one(
	    c, c->url, "GET", path, NULL, out, active, &resend, status, err);
}
