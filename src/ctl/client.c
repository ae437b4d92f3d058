/*
 * client: cohortctl's HTTPS client (see client.h).
 */
#include "ctl/client.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common/buf.h"
#include "common/ini.h"
#include "common/paths.h"
#include "common/version.h"

#define CLIENT_MAX_RESPONSE (256 * 1024 * 1024)
#define CLIENT_TIMEOUT_MS 120000L

struct profile_ctx {
	struct client *c;
	char dir[CONF_STR_MAX];
};

static int
set_path(char *out, const char *dir, const char *value, struct cerr *err)
{
	int n = value[0] == '/' ? snprintf(out, CONF_STR_MAX, "%s", value) :
	    snprintf(out, CONF_STR_MAX, "%s/%s", dir, value);

	if (n < 0 || n >= CONF_STR_MAX)
		return cerr_set(err, CERR_INVALID, "path too long");
	return 0;
}

static int
profile_key(void *arg, const char *key, const char *value, struct cerr *err)
{
	struct profile_ctx *pc = arg;

	if (strcmp(key, "master") == 0) {
		if (strncmp(value, "https://", 8) != 0)
			return cerr_set(err, CERR_INVALID, "master: '%s' is "
			    "not an https:// URL", value);
		snprintf(pc->c->url, sizeof(pc->c->url), "%s", value);
		return 0;
	}
	if (strcmp(key, "ca") == 0)
		return set_path(pc->c->ca, pc->dir, value, err);
	if (strcmp(key, "cert") == 0)
		return set_path(pc->c->cert, pc->dir, value, err);
	if (strcmp(key, "key") == 0)
		return set_path(pc->c->key, pc->dir, value, err);
	return cerr_set(err, CERR_INVALID, "%s: unknown key (profiles have "
	    "master, ca, cert, key)", key);
}

/* "https://host:0" -> "https://host:<port from the port file>". */
static int
resolve_port_zero(struct client *c, const char *dir, struct cerr *err)
{
	size_t n = strlen(c->url);
	char path[CONF_STR_MAX + 16];
	int port = 0;
	FILE *f;

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
		return cerr_set(err, CERR_UNAVAILABLE, "profile names port 0 "
		    "and %s has no port: is the master running?", path);
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
	if (ini_parse_file(path, profile_key, &pc, report, sizeof(report),
	    err) < 0)
		return -1;
	if (out->url[0] == '\0' || out->ca[0] == '\0' || out->cert[0] == '\0' ||
	    out->key[0] == '\0')
		return cerr_set(err, CERR_INVALID, "%s: a profile needs master, "
		    "ca, cert and key", path);
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

static int
error_from_reply(long status, const struct buf *b, struct cerr *err)
{
	json_t *v = json_loadb(buf_str(b), b->len, 0, NULL);
	json_t *e = v ? json_object_get(v, "error") : NULL;
	const char *code = e ? json_string_value(json_object_get(e, "code")) :
	    NULL;
	const char *msg = e ? json_string_value(json_object_get(e,
	    "message")) : NULL;

	if (code != NULL && msg != NULL)
		cerr_set(err, cerr_code_from_name(code), "%s", msg);
	else
		cerr_set(err, CERR_INTERNAL, "master answered HTTP %ld", status);
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

int
client_call(const struct client *c, const char *method, const char *path,
    const json_t *body, json_t **out, struct cerr *err)
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
	snprintf(url, sizeof(url), "%s%s", c->url, path);
	snprintf(version, sizeof(version), "Cohort-Version: %s",
	    version_string());
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
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, CLIENT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	if (text != NULL)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, text);
	if (c->unix_socket[0] != '\0')
		curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, c->unix_socket);
	else
		setup_tls(e, c);
	rc = curl_easy_perform(e);
	if (rc != CURLE_OK) {
		if (c->unix_socket[0] != '\0')
			cerr_set(err, CERR_UNAVAILABLE, "cannot reach cohortd "
			    "at %s (is it running?): %s", c->unix_socket,
			    errbuf[0] ? errbuf : curl_easy_strerror(rc));
		else
			cerr_set(err, CERR_UNAVAILABLE, "cannot reach master "
			    "at %s: %s", c->url,
			    errbuf[0] ? errbuf : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		error_from_reply(status, &b, err);
		goto out;
	}
	if (out != NULL && b.len > 0) {
		*out = json_loadb(buf_str(&b), b.len, 0, NULL);
		if (*out == NULL) {
			cerr_set(err, CERR_INTERNAL, "master sent unreadable "
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
