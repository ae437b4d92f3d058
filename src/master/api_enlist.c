/*
 * api_enlist: issuing enlistment tokens (admin) and enlisting a target
 * (anonymous, with a token and a certificate request). The token is
 * consumed and the target row created in one transaction, after the CSR
 * has been checked and signed, so a bad request never burns a token.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/jobdoc.h"
#include "common/json.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "common/version.h"
#include "master/api.h"
#include "master/master.h"
#include "master/outbox_seen.h"
#include "master/token.h"
#include "store/store.h"

void
api_token_create(struct http_req *r)
{
	static const char *const token_keys[] = {"ttl_s", NULL};
	const char *name = r->args[0];
	char token[TOKEN_MAX], hash[PKI_FINGERPRINT_HEX], when[TIMEFMT_MAX];
	int64_t ttl = r->m->conf->token_ttl_s, now = master_now();
	struct store_target t;
	struct cerr err;

	if (jobdoc_check_name(name, STORE_NAME_MAX, "name", &err) < 0 ||
	    (r->body != NULL &&
		(json_check_keys(r->body, token_keys, "", &err) < 0 ||
		    json_get_int(r->body, "ttl_s", "", 10, 604800, &ttl, &err) <
			0)))
		goto fail;
	if (store_target_get(r->m->store, name, &t, &err) == 0 && !t.defected) {
		cerr_set(&err, CERR_CONFLICT,
		    "target '%s' is enlisted already; "
		    "it must defect (or be deleted) first",
		    name);
		goto fail;
	}
	if (token_new(r->m->ca_fingerprint, token, hash, &err) < 0 ||
	    store_token_add(r->m->store, name, hash, now, now + ttl, &err) < 0)
		goto fail;
	log_info("token_issued", "target=%s by=%s expires_in_s=%lld", name,
	    r->caller.id.name, (long long)ttl);
	http_reply_json(r, 200,
	    json_pack("{s:s,s:s,s:s}", "name", name, "token", token,
		"expires_at", timefmt_utc(now + ttl, when)));
	OPENSSL_cleanse(token, sizeof(token));
	return;
fail:
	http_reply_error(r, &err);
}

int
api_enlist_read(const json_t *body, struct api_enlist_body *e, struct cerr *err)
{
	static const char *const keys[] = {
	    "name", "token", "csr", "version", "poll_interval_s", NULL};

	memset(e, 0, sizeof(*e));
	e->poll_interval_s = 60;
	if (body == NULL)
		return cerr_set(err, CERR_INVALID, "request body is missing");
	if (json_check_keys(body, keys, "", err) < 0 ||
	    json_get_string(
		body, "name", "", STORE_NAME_MAX, 0, &e->name, err) < 0 ||
	    json_get_string(body, "token", "", TOKEN_MAX, 0, &e->token, err) <
		0 ||
	    json_get_string(
		body, "csr", "", API_CSR_MAX_BYTES, 1, &e->csr, err) < 0 ||
	    json_get_string(body, "version", "", 31, 0, &e->version, err) < 0 ||
	    json_get_int(body, "poll_interval_s", "", 1, 28800,
		&e->poll_interval_s, err) < 0)
		return -1;
	if (e->name == NULL || e->token == NULL || e->csr == NULL ||
	    e->version == NULL)
		return cerr_set(err, CERR_INVALID,
		    "name, token, csr and version are required");
	return jobdoc_check_name(e->name, STORE_NAME_MAX, "name", err);
}

/* Consumes the token and records the target, atomically. */
static int
enlist_commit(struct master *m, const struct api_enlist_body *e,
    const char *secret, const struct pki_identity *id, struct cerr *err)
{
	struct store_target t;
	struct store_cert c;
	char hash[PKI_FINGERPRINT_HEX];

	memset(&t, 0, sizeof(t));
	snprintf(t.name, sizeof(t.name), "%s", e->name);
	snprintf(t.version, sizeof(t.version), "%s", e->version);
	snprintf(t.cert_serial, sizeof(t.cert_serial), "%s", id->serial_hex);
	t.enlisted_at = master_now();
	t.poll_interval_s = (int32_t)e->poll_interval_s;
	token_hash(secret, hash);
	if (store_begin(m->store, err) < 0)
		return -1;
	memset(&c, 0, sizeof(c));
	snprintf(c.serial_hex, sizeof(c.serial_hex), "%s", id->serial_hex);
	snprintf(c.name, sizeof(c.name), "%s", e->name);
	snprintf(c.role, sizeof(c.role), "target");
	c.issued_at = t.enlisted_at;
	c.not_after = id->not_after;
	if (store_token_use(m->store, e->name, hash, t.enlisted_at, err) < 0 ||
	    store_target_add(m->store, &t, err) < 0 ||
	    store_cert_add(m->store, &c, err) < 0 ||
	    store_commit(m->store, err) < 0) {
		store_rollback(m->store);
		return -1;
	}
	return 0;
}

void
api_enlist(struct http_req *r)
{
	struct api_enlist_body e;
	struct token_parts tp;
	struct pki_identity id;
	struct cerr err;
	X509 *cert = NULL;
	char *cert_pem = NULL;

	memset(&tp, 0, sizeof(tp));
	if (api_enlist_read(r->body, &e, &err) < 0 ||
	    version_check_peer(version_string(), e.version, &err) < 0 ||
	    token_parse(e.token, &tp, &err) < 0)
		goto fail;
	if (strcmp(tp.ca_fingerprint, r->m->ca_fingerprint) != 0) {
		cerr_set(&err, CERR_TOKEN,
		    "token: issued by another master "
		    "(CA fingerprint differs)");
		goto fail;
	}
	if (pki_csr_sign(r->m->ca_cert, r->m->ca_key, e.csr, strlen(e.csr),
		e.name, "target", (int)r->m->conf->cert_days, &cert,
		&err) < 0 ||
	    pki_cert_identity(cert, &id, &err) < 0 ||
	    pki_cert_to_pem(cert, &cert_pem, &err) < 0 ||
	    enlist_commit(r->m, &e, tp.secret, &id, &err) < 0)
		goto fail;
	outbox_seen_forget(r->m, e.name);
	log_info("enlisted", "target=%s serial=%s version=%s", e.name,
	    id.serial_hex, e.version);
	http_reply_json(r, 200,
	    json_pack("{s:s,s:s,s:s,s:I}", "name", e.name, "cert", cert_pem,
		"ca", r->m->ca_pem, "poll_interval_s",
		(json_int_t)e.poll_interval_s));
	goto out;
fail:
	log_warn("enlist_refused", "code=%s msg=%s", cerr_code_name(err.code),
	    LOG_TEXT(err.msg));
	http_reply_error(r, &err);
out:
	OPENSSL_cleanse(&tp, sizeof(tp));
	X509_free(cert);
	free(cert_pem);
}
