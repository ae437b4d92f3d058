/*
 * fleet_enlist: enlisting virtual targets the way `cohortctl enlist`
 * does, several at a time: the admin asks for a token
 * (POST /v1/targets/NAME/token); the target fetches the CA anonymously
 * (GET /v1/ca) and accepts it only if its fingerprint is the token's,
 * makes its key, and sends a CSR with the token (POST /v1/enlist). The
 * keys and certificates can be saved to a file (mode 0600) so that later
 * runs against the same master skip enlisting.
 */
#include "fleet/fleet.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "common/json.h"
#include "common/pki.h"
#include "common/version.h"

#define ENLIST_WORKERS 4

struct enlister;

struct enlist_run {
	struct fleet *f;
	const char *prefix;
	size_t base; /* index in f->vts of the first new target */
	size_t n;
	size_t next; /* next to start */
	size_t done;
	int failed;
	struct cerr err;
};

struct enlister {
	struct enlist_run *run;
	struct fconn *admin;
	struct fconn *anon;
	size_t idx;
	char name[FLEET_NAME_MAX + 1];
	char *token;
	EVP_PKEY *key;
};

static void enlist_next(struct enlister *e);

static void
enlist_fail(struct enlister *e, const char *what, int status, const char *body,
    size_t len)
{
	if (!e->run->failed)
		cerr_set(&e->run->err, CERR_INVALID,
		    "enlist %s: %s: status "
		    "%d: %.*s",
		    e->name, what, status, (int)(len < 300 ? len : 300), body);
	e->run->failed = 1;
}

static void
enlisted_cb(void *arg, int status, const char *body, size_t len)
{
	struct enlister *e = arg;
	struct enlist_run *run = e->run;
	json_t *reply = json_loadb(body, len, 0, NULL);
	const char *pem = json_string_value(json_object_get(reply, "cert"));
	X509 *cert = NULL;
	struct vt *v;

	if (status != 200 || pem == NULL ||
	    pki_cert_from_pem(pem, strlen(pem), &cert, &run->err) < 0) {
		enlist_fail(e, "enlist", status, body, len);
		goto out;
	}
	v = vt_new(run->f, cert, e->key, &run->err);
	if (v == NULL) {
		X509_free(cert);
		run->failed = 1;
		goto out;
	}
	e->key = NULL; /* the virtual target owns it now */
	v->idx = run->base + e->idx;
	run->f->vts[v->idx] = v;
	run->done++;
	enlist_next(e);
out:
	json_decref(reply);
}

/* The CA, checked against the token as a fresh target would. */
static int
ca_matches(const char *token, const char *ca_pem)
{
	char fp[PKI_FINGERPRINT_HEX];
	const char *dot = strrchr(token, '.');
	struct cerr err;
	X509 *ca = NULL;
	int ok;

	if (dot == NULL || ca_pem == NULL ||
	    pki_cert_from_pem(ca_pem, strlen(ca_pem), &ca, &err) < 0)
		return 0;
	ok =
	    pki_cert_fingerprint(ca, fp, &err) == 0 && strcmp(fp, dot + 1) == 0;
	X509_free(ca);
	return ok;
}

static void
ca_cb(void *arg, int status, const char *body, size_t len)
{
	struct enlister *e = arg;
	json_t *reply = json_loadb(body, len, 0, NULL), *req = NULL;
	char *csr = NULL, *text = NULL;
	struct cerr err;

	if (status != 200 ||
	    !ca_matches(
		e->token, json_string_value(json_object_get(reply, "ca")))) {
		enlist_fail(
		    e, "CA does not match the token", status, body, len);
		goto out;
	}
	if (pki_target_key_new(&e->key, &err) < 0 ||
	    pki_csr_new(e->key, e->name, &csr, &err) < 0)
		goto fail;
	req = json_pack("{s:s,s:s,s:s,s:s,s:i}", "name", e->name, "token",
	    e->token, "csr", csr, "version", version_string(),
	    "poll_interval_s", 60);
	text = req ? json_dump_compact(req) : NULL;
	if (text == NULL ||
	    fconn_request(e->anon, "POST", "/v1/enlist", text, strlen(text),
		enlisted_cb, e, &err) < 0)
		goto fail;
	goto out;
fail:
	e->run->failed = 1;
	e->run->err = err;
out:
	json_decref(reply);
	json_decref(req);
	free(csr);
	free(text);
}

static void
token_cb(void *arg, int status, const char *body, size_t len)
{
	struct enlister *e = arg;
	json_t *reply = json_loadb(body, len, 0, NULL);
	const char *token = json_string_value(json_object_get(reply, "token"));

	if (status != 200 || token == NULL) {
		enlist_fail(e, "token", status, body, len);
		goto out;
	}
	free(e->token);
	e->token = strdup(token);
	if (e->token == NULL ||
	    fconn_request(
		e->anon, "GET", "/v1/ca", NULL, 0, ca_cb, e, &e->run->err) < 0)
		e->run->failed = 1;
out:
	json_decref(reply);
}

static void
enlist_next(struct enlister *e)
{
	struct enlist_run *run = e->run;
	char path[FLEET_NAME_MAX + 64];

	if (run->failed || run->next == run->n)
		return;
	e->idx = run->next++;
	snprintf(e->name, sizeof(e->name), "%s-%05zu", run->prefix,
	    run->base + e->idx);
	snprintf(path, sizeof(path), "/v1/targets/%s/token", e->name);
	if (fconn_request(
		e->admin, "POST", path, NULL, 0, token_cb, e, &run->err) < 0)
		run->failed = 1;
}

static int
enlist_finished(void *arg)
{
	struct enlist_run *run = arg;

	return run->failed || run->done == run->n;
}

int
fleet_enlist(struct fleet *f, size_t n, const char *prefix, struct cerr *err)
{
	struct enlist_run run = {f, prefix, f->nvts, n, 0, 0, 0, {0, ""}};
	struct enlister es[ENLIST_WORKERS];
	struct vt **grown = realloc(f->vts, (f->nvts + n) * sizeof(*grown));
	int rc = -1;

	memset(es, 0, sizeof(es));
	if (grown == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	f->vts = grown;
	memset(f->vts + f->nvts, 0, n * sizeof(*grown));
	for (int i = 0; i < ENLIST_WORKERS; i++) {
		es[i].run = &run;
		es[i].admin = fconn_new(f, f->admin_cert, f->admin_key, err);
		es[i].anon = fconn_new(f, NULL, NULL, err);
		if (es[i].admin == NULL || es[i].anon == NULL)
			goto out;
	}
	for (int i = 0; i < ENLIST_WORKERS; i++)
		enlist_next(&es[i]);
	if (fleet_wait(f, enlist_finished, &run, 600000, "enlisting", err) < 0)
		goto out;
	if (run.failed) {
		*err = run.err;
		goto out;
	}
	rc = 0;
out:
	for (int i = 0; i < ENLIST_WORKERS; i++) {
		fconn_free(es[i].admin);
		fconn_free(es[i].anon);
		free(es[i].token);
		EVP_PKEY_free(es[i].key);
	}
	if (rc < 0) {
		for (size_t i = 0; i < n; i++) {
			vt_free(f->vts[f->nvts + i]);
			f->vts[f->nvts + i] = NULL;
		}
	} else {
		f->nvts += n;
	}
	return rc;
}

int
fleet_creds_save(struct fleet *f, const char *path, struct cerr *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
	int ok = fp != NULL;

	for (size_t i = 0; ok && i < f->nvts; i++)
		ok = PEM_write_PrivateKey(
			 fp, f->vts[i]->key, NULL, NULL, 0, NULL, NULL) == 1 &&
		    PEM_write_X509(fp, f->vts[i]->cert) == 1;
	if (fp != NULL && fclose(fp) != 0)
		ok = 0;
	else if (fp == NULL && fd >= 0)
		close(fd);
	if (!ok)
		return cerr_set(err, CERR_IO, "%s: cannot write", path);
	return 0;
}

int
fleet_creds_load(struct fleet *f, const char *path, size_t n, struct cerr *err)
{
	BIO *in = BIO_new_file(path, "r");
	int rc = -1;

	if (in == NULL)
		return cerr_set(err, CERR_IO, "%s: cannot open", path);
	while (f->nvts < n) {
		EVP_PKEY *key = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
		X509 *cert =
		    key ? PEM_read_bio_X509(in, NULL, NULL, NULL) : NULL;
		struct vt **grown;
		struct vt *v;

		if (key == NULL)
			break;
		grown = realloc(f->vts, (f->nvts + 1) * sizeof(*grown));
		v = cert && grown ? vt_new(f, cert, key, err) : NULL;
		if (grown != NULL)
			f->vts = grown;
		if (v == NULL) {
			X509_free(cert);
			EVP_PKEY_free(key);
			cerr_set(err, CERR_IO, "%s: entry %zu is unreadable",
			    path, f->nvts + 1);
			goto out;
		}
		v->idx = f->nvts;
		f->vts[f->nvts++] = v;
	}
	if (f->nvts < n) {
		cerr_set(err, CERR_INVALID, "%s: holds %zu targets, %zu wanted",
		    path, f->nvts, n);
		goto out;
	}
	rc = 0;
out:
	BIO_free(in);
	return rc;
}
