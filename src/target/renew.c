/*
 * renew: the target renews its certificate before it expires, without
 * enlisting again. Every RENEW_CHECK_S (and at start) it looks at how
 * long its certificate has left; below cert_renew_before_s it makes a new
 * key here, sends only a certificate request (POST /v1/renew) over its
 * current mutual-TLS identity, and swaps key and certificate.
 *
 * The swap survives a crash at any point. The new key and certificate are
 * first written whole as key.pem.new and cert.pem.new (key first), then
 * renamed over the old ones (key first). At start renew_recover()
 * finishes a swap that was cut short: a cert.pem.new means both new files
 * were complete, so the renames are completed; a lone key.pem.new is a
 * renewal that never got its certificate and is removed. Until the swap
 * the master accepts the old certificate too; it revokes it when the new
 * one is first used (api_certs.c).
 *
 * After the swap the HTTPS client is made again, so no connection opened
 * with the old certificate is reused: the poll and the uploader start
 * over on the new identity.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/json.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/pki.h"
#include "common/timefmt.h"
#include "common/hclient.h"
#include "target/events.h"
#include "target/target.h"

#define RENEW_CHECK_S 3600
#define RENEW_TIMEOUT_MS 60000L
#define RENEW_MAX_RESPONSE (64 * 1024)
#define NEW_SUFFIX ".new"

static int
tls_path(const struct conf *c, const char *rel, const char *suffix, char *out,
    size_t size, struct cerr *err)
{
	char base[CONF_STR_MAX + 32];

	if (conf_state_path(c, rel, base, sizeof(base), err) < 0)
		return -1;
	if ((size_t)snprintf(out, size, "%s%s", base, suffix) >= size)
		return cerr_set(err, CERR_INVALID, "path too long: %s", base);
	return 0;
}

static int
rename_new(const struct conf *c, const char *rel, struct cerr *err)
{
	char from[CONF_STR_MAX + 40], to[CONF_STR_MAX + 40];

	if (tls_path(c, rel, NEW_SUFFIX, from, sizeof(from), err) < 0 ||
	    tls_path(c, rel, "", to, sizeof(to), err) < 0)
		return -1;
	if (rename(from, to) != 0 && errno != ENOENT)
		return cerr_set(
		    err, CERR_IO, "rename %s: %s", from, strerror(errno));
	return 0;
}

int
renew_recover(const struct conf *c, struct cerr *err)
{
	char cert_new[CONF_STR_MAX + 40], key_new[CONF_STR_MAX + 40];

	if (tls_path(c, PATH_TLS_CERT, NEW_SUFFIX, cert_new, sizeof(cert_new),
		err) < 0 ||
	    tls_path(
		c, PATH_TLS_KEY, NEW_SUFFIX, key_new, sizeof(key_new), err) < 0)
		return -1;
	if (access(cert_new, F_OK) != 0) {
		unlink(key_new);
		return 0;
	}
	log_info("cert_swap_resumed",
	    "msg=\"finishing a certificate "
	    "renewal cut short\"");
	if (rename_new(c, PATH_TLS_KEY, err) < 0 ||
	    rename_new(c, PATH_TLS_CERT, err) < 0)
		return -1;
	return 0;
}

/* Seconds the current certificate has left. */
static int
cert_left(const struct target *t, int64_t *left, struct cerr *err)
{
	char path[CONF_STR_MAX + 40];
	struct pki_identity id;
	X509 *cert = NULL;
	int rc;

	if (tls_path(t->conf, PATH_TLS_CERT, "", path, sizeof(path), err) < 0 ||
	    pki_cert_read(path, &cert, err) < 0)
		return -1;
	rc = pki_cert_identity(cert, &id, err);
	X509_free(cert);
	*left = id.not_after - timefmt_now_s();
	return rc;
}

/* The master's certificate must be for this target and for the key made
 * for it; then both are written as the .new pair. */
static int
renew_write(struct target *t, const char *pem, struct cerr *err)
{
	char path[CONF_STR_MAX + 40];
	struct pki_identity id;
	X509 *cert = NULL;
	int rc = -1;

	if (pki_cert_from_pem(pem, strlen(pem), &cert, err) < 0 ||
	    pki_cert_identity(cert, &id, err) < 0)
		goto out;
	if (strcmp(id.name, t->conf->name) != 0 ||
	    X509_check_private_key(cert, t->renew_key) != 1) {
		cerr_set(err, CERR_TLS,
		    "the master's certificate is not for "
		    "this target's new key");
		goto out;
	}
	if (tls_path(t->conf, PATH_TLS_KEY, NEW_SUFFIX, path, sizeof(path),
		err) < 0 ||
	    pki_key_write(path, t->renew_key, err) < 0 ||
	    tls_path(t->conf, PATH_TLS_CERT, NEW_SUFFIX, path, sizeof(path),
		err) < 0 ||
	    pki_cert_write(path, cert, err) < 0)
		goto out;
	log_info("cert_renewed", "serial=%s not_after=%lld", id.serial_hex,
	    id.not_after);
	rc = 0;
out:
	X509_free(cert);
	return rc;
}

/* A renewal that failed is logged and raised as a daemon error (events
 * forwards it, at most one a minute): a certificate that cannot be
 * renewed ends the target's access when it expires. */
static void
renew_failed(struct target *t, const char *msg)
{
	log_warn("cert_renew_failed", "msg=%s", LOG_TEXT(msg));
	events_daemon_error(t, "certificate renewal", msg);
}

static void
renew_done(void *arg, const struct hresp *resp)
{
	struct target *t = arg;
	struct timeval now = {0, 0};
	json_t *body = NULL;
	const char *pem;
	struct cerr err;

	t->renew_call = NULL;
	if (resp->status != 200) {
		char msg[400];

		snprintf(msg, sizeof(msg), "the master answered %ld: %.300s",
		    resp->status, resp->status ? resp->body : resp->error);
		renew_failed(t, msg);
		goto out;
	}
	body = json_loadb(resp->body, resp->len, 0, NULL);
	pem = body ? json_string_value(json_object_get(body, "cert")) : NULL;
	if (pem == NULL) {
		renew_failed(t, "no certificate in the master's answer");
		goto out;
	}
	if (renew_write(t, pem, &err) < 0) {
		renew_failed(t, err.msg);
		goto out;
	}
	/* Not from inside the client's callback: the swap remakes it. */
	evtimer_add(t->renew_swap, &now);
out:
	json_decref(body);
	EVP_PKEY_free(t->renew_key);
	t->renew_key = NULL;
}

static int
renew_request(struct target *t, struct cerr *err)
{
	char url[CONF_STR_MAX + 32];
	json_t *body = NULL;
	char *csr = NULL, *text = NULL;
	int rc = -1;

	if (pki_target_key_new(&t->renew_key, err) < 0 ||
	    pki_csr_new(t->renew_key, t->conf->name, &csr, err) < 0)
		goto out;
	body = json_pack("{s:s}", "csr", csr);
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (text == NULL) {
		cerr_set(err, CERR_INTERNAL, "out of memory");
		goto out;
	}
	target_url(t, "/v1/renew", url, sizeof(url));
	t->renew_call = hclient_request(t->http, "POST", url, text,
	    RENEW_TIMEOUT_MS, RENEW_MAX_RESPONSE, renew_done, t, err);
	rc = t->renew_call ? 0 : -1;
out:
	if (rc < 0) {
		EVP_PKEY_free(t->renew_key);
		t->renew_key = NULL;
	}
	free(csr);
	free(text);
	json_decref(body);
	return rc;
}

static void
renew_check_cb(evutil_socket_t fd, short what, void *arg)
{
	struct target *t = arg;
	struct timeval later = {RENEW_CHECK_S, 0};
	struct cerr err;
	int64_t left = 0;

	evtimer_add(t->renew_timer, &later);
	if (t->conf->cert_renew_before_s == 0 || t->renew_call != NULL)
		return;
	if (cert_left(t, &left, &err) < 0) {
		renew_failed(t, err.msg);
		return;
	}
	if (left >= t->conf->cert_renew_before_s)
		return;
	log_info("cert_renewing", "left_s=%lld renew_before_s=%lld",
	    (long long)left, (long long)t->conf->cert_renew_before_s);
	if (renew_request(t, &err) < 0)
		renew_failed(t, err.msg);
}

static void
renew_swap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct target *t = arg;
	struct cerr err;

	if (rename_new(t->conf, PATH_TLS_KEY, &err) < 0 ||
	    rename_new(t->conf, PATH_TLS_CERT, &err) < 0 ||
	    target_reconnect(t, &err) < 0) {
		log_error("cert_swap_failed", "msg=%s", LOG_TEXT(err.msg));
		events_daemon_error(t, "certificate swap", err.msg);
	}
}

int
renew_start(struct target *t, struct cerr *err)
{
	struct timeval now = {0, 0};

	t->renew_timer = evtimer_new(t->base, renew_check_cb, t);
	t->renew_swap = evtimer_new(t->base, renew_swap_cb, t);
	if (t->renew_timer == NULL || t->renew_swap == NULL ||
	    evtimer_add(t->renew_timer, &now) < 0)
		return cerr_set(err, CERR_INTERNAL, "cannot start renewal");
	return 0;
}

void
renew_stop(struct target *t)
{
	if (t->renew_call != NULL)
		hclient_cancel(t->http, t->renew_call);
	t->renew_call = NULL;
	if (t->renew_timer != NULL)
		event_free(t->renew_timer);
	if (t->renew_swap != NULL)
		event_free(t->renew_swap);
	t->renew_timer = t->renew_swap = NULL;
	EVP_PKEY_free(t->renew_key);
	t->renew_key = NULL;
}
