/*
 * api_certs: the certificates the master's CA issues, other than at
 * enlistment. People get theirs from "cohortctl cert issue" (admin: the
 * key is made on the admin's machine and only its request travels);
 * certificates are listed and revoked by serial or by name; a target
 * renews its own before it expires, over its current identity.
 *
 * Renewal and the old certificate: the new serial is recorded on the
 * target row at once, and every other certificate of the target is
 * revoked when it first polls with the new one (api_certs_seen()). Until
 * then both are valid, so a target that dies before it has written the
 * new files keeps working with the old ones and simply renews again (the
 * certificate it never used is revoked with the old one). It all follows
 * from the store, so a restart or a takeover in between changes nothing.
 * A name gets at most CERTS_PER_HOUR certificates an hour, enlistment
 * included: a target that renewed in a loop would fill the store and the
 * revoked set for ever.
 */
#include <stdlib.h>
#include <string.h>

#include "common/jobdoc.h"
#include "common/json.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "master/api.h"
#include "master/longpoll.h"
#include "master/master.h"
#include "store/store.h"

#define CSR_MAX_BYTES 16384
#define CERTS_PER_HOUR 6

static json_t *
cert_json(const struct store_cert *c)
{
	char issued[TIMEFMT_MAX], until[TIMEFMT_MAX], revoked[TIMEFMT_MAX];

	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:s}", "name", c->name,
	    "role", c->role, "serial", c->serial_hex, "issued_at",
	    timefmt_utc(c->issued_at, issued), "not_after",
	    c->not_after > 0 ? timefmt_utc(c->not_after, until) : "", "revoked",
	    c->revoked_at > 0, "revoked_at",
	    c->revoked_at > 0 ? timefmt_utc(c->revoked_at, revoked) : "");
}

static int
list_cb(void *arg, const struct store_cert *c)
{
	json_array_append_new(arg, cert_json(c));
	return 0;
}

void
api_certs_list(struct http_req *r)
{
	json_t *list = json_array();
	struct cerr err;

	if (store_cert_list(r->m->store, NULL, list_cb, list, &err) < 0) {
		json_decref(list);
		http_reply_error(r, &err);
		return;
	}
	http_reply_json(r, 200, list);
}

/* Signs csr for name with role; fills the record to store and the PEM
 * (caller frees *pem_out). */
static int
issue_and_record(struct master *m, const char *csr, const char *name,
    const char *role, struct store_cert *rec, char **pem_out, struct cerr *err)
{
	struct pki_identity id;
	X509 *cert = NULL;
	int rc = -1;

	if (pki_csr_sign(m->ca_cert, m->ca_key, csr, strlen(csr), name, role,
		(int)m->conf->cert_days, &cert, err) < 0 ||
	    pki_cert_identity(cert, &id, err) < 0 ||
	    pki_cert_to_pem(cert, pem_out, err) < 0)
		goto out;
	memset(rec, 0, sizeof(*rec));
	snprintf(rec->serial_hex, sizeof(rec->serial_hex), "%s", id.serial_hex);
	snprintf(rec->name, sizeof(rec->name), "%s", name);
	snprintf(rec->role, sizeof(rec->role), "%s", role);
	rec->issued_at = master_now();
	rec->not_after = id.not_after;
	rc = 0;
out:
	X509_free(cert);
	return rc;
}

static void
reply_issued(struct http_req *r, const struct store_cert *rec, const char *pem)
{
	char until[TIMEFMT_MAX];

	http_reply_json(r, 200,
	    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "name", rec->name, "role",
		rec->role, "serial", rec->serial_hex, "not_after",
		timefmt_utc(rec->not_after, until), "cert", pem, "ca",
		r->m->ca_pem));
}

void
api_cert_issue(struct http_req *r)
{
	static const char *const keys[] = {"name", "role", "csr", NULL};
	const char *name = NULL, *role = NULL, *csr = NULL;
	struct store_cert rec;
	char *pem = NULL;
	struct cerr err;

	if (r->body == NULL) {
		cerr_set(&err, CERR_INVALID, "request body is missing");
		goto fail;
	}
	if (json_check_keys(r->body, keys, "", &err) < 0 ||
	    json_get_string(
		r->body, "name", "", STORE_NAME_MAX, 0, &name, &err) < 0 ||
	    json_get_string(r->body, "role", "", 15, 0, &role, &err) < 0 ||
	    json_get_string(r->body, "csr", "", CSR_MAX_BYTES, 1, &csr, &err) <
		0)
		goto fail;
	if (name == NULL || role == NULL || csr == NULL) {
		cerr_set(&err, CERR_INVALID, "name, role and csr are required");
		goto fail;
	}
	if (strcmp(role, "admin") != 0 && strcmp(role, "operator") != 0 &&
	    strcmp(role, "viewer") != 0) {
		cerr_set(&err, CERR_INVALID,
		    "role: '%.20s' is not admin, "
		    "operator or viewer (targets get theirs by enlisting)",
		    role);
		goto fail;
	}
	if (jobdoc_check_name(name, STORE_NAME_MAX, "name", &err) < 0 ||
	    issue_and_record(r->m, csr, name, role, &rec, &pem, &err) < 0 ||
	    store_cert_add(r->m->store, &rec, &err) < 0)
		goto fail;
	log_info("cert_issued", "name=%s role=%s serial=%s by=%s", rec.name,
	    rec.role, rec.serial_hex, r->caller.id.name);
	reply_issued(r, &rec, pem);
	free(pem);
	return;
fail:
	free(pem);
	http_reply_error(r, &err);
}

struct revoke_set {
	const char *name; /* revoke by name, or NULL */
	const char *role; /* only this role's, or NULL: all */
	const char *keep; /* a serial to leave valid, or NULL */
	char serials[16][PKI_SERIAL_HEX_MAX];
	int n;
	int more; /* more than fit: revoke again */
	int targets, people; /* what the collected serials were issued to */
	int unrecorded; /* one serial this master never issued */
};

static int
collect_cb(void *arg, const struct store_cert *c)
{
	struct revoke_set *rs = arg;

	if (c->revoked_at > 0 ||
	    (rs->role != NULL && strcmp(c->role, rs->role) != 0) ||
	    (rs->keep != NULL && strcmp(c->serial_hex, rs->keep) == 0))
		return 0;
	if (rs->n == (int)(sizeof(rs->serials) / sizeof(rs->serials[0]))) {
		rs->more = 1;
		return 1;
	}
	snprintf(rs->serials[rs->n++], PKI_SERIAL_HEX_MAX, "%s", c->serial_hex);
	if (strcmp(c->role, "target") == 0)
		rs->targets++;
	else
		rs->people++;
	return 0;
}

/* Revokes every serial in rs in one transaction, then in memory. */
static int
revoke_set_apply(struct master *m, const struct revoke_set *rs,
    const char *name, struct cerr *err)
{
	if (store_begin(m->store, err) < 0)
		return -1;
	for (int i = 0; i < rs->n; i++) {
		if (store_revoke(m->store, rs->serials[i], name, master_now(),
			err) < 0) {
			store_rollback(m->store);
			return -1;
		}
	}
	if (store_commit(m->store, err) < 0) {
		store_rollback(m->store);
		return -1;
	}
	for (int i = 0; i < rs->n; i++)
		strmap_put(&m->revoked, rs->serials[i], NULL, NULL, NULL);
	return 0;
}

/* What a revoke request names: one serial (recorded or not: a
 * certificate of the external CA can be revoked too) or every
 * certificate issued to a name. */
static int
revoke_read(struct http_req *r, struct revoke_set *rs, char *who,
    size_t who_size, struct cerr *err)
{
	static const char *const keys[] = {"serial", "name", NULL};
	const char *serial = NULL;
	struct store_cert c;

	memset(rs, 0, sizeof(*rs));
	if (r->body == NULL || json_check_keys(r->body, keys, "", err) < 0 ||
	    json_get_string(r->body, "serial", "", PKI_SERIAL_HEX_MAX - 1, 0,
		&serial, err) < 0 ||
	    json_get_string(
		r->body, "name", "", STORE_NAME_MAX, 0, &rs->name, err) < 0 ||
	    (serial == NULL) == (rs->name == NULL))
		return cerr_set(err, CERR_INVALID,
		    "request body: expected "
		    "{\"serial\": HEX} or {\"name\": NAME}");
	if (rs->name != NULL) {
		snprintf(who, who_size, "%s", rs->name);
		if (store_cert_list(
			r->m->store, rs->name, collect_cb, rs, err) < 0)
			return -1;
		if (rs->n == 0)
			return cerr_set(err, CERR_NOT_FOUND,
			    "no valid "
			    "certificate was issued to '%s'",
			    rs->name);
		/* People and targets share names: revoking a person must not
		 * cut off the target of that name, or the other way round. */
		if (rs->targets > 0 && rs->people > 0)
			return cerr_set(err, CERR_CONFLICT,
			    "'%s' names both a person's and a target's "
			    "certificates: revoke by serial (cert list shows "
			    "them), or delete the target",
			    rs->name);
		return 0;
	}
	/* Stored, listed and looked up in one spelling (caller.c compares
	 * exactly): a serial pasted from openssl, in capitals, must not be
	 * answered "revoked" and go on working. */
	if (pki_serial_canonical(serial, rs->serials[0], err) < 0)
		return -1;
	rs->n = 1;
	snprintf(who, who_size, "%s", "unrecorded");
	if (store_cert_get(r->m->store, rs->serials[0], &c, err) == 0)
		snprintf(who, who_size, "%s", c.name);
	else if (err->code != CERR_NOT_FOUND)
		return -1;
	else
		rs->unrecorded = 1;
	return 0;
}

void
api_cert_revoke(struct http_req *r)
{
	char who[STORE_NAME_MAX + 1];
	struct revoke_set rs;
	json_t *list = NULL;
	struct cerr err;

	if (revoke_read(r, &rs, who, sizeof(who), &err) < 0)
		goto fail;
	for (int i = 0; i < rs.n; i++) {
		if (strcasecmp(rs.serials[i], r->caller.id.serial_hex) == 0) {
			cerr_set(&err, CERR_CONFLICT,
			    "certificate %s is the "
			    "one this request came with: revoke it from "
			    "another admin certificate",
			    rs.serials[i]);
			goto fail;
		}
	}
	if (revoke_set_apply(r->m, &rs, who, &err) < 0)
		goto fail;
	longpoll_revoked(r->m, who);
	list = json_array();
	for (int i = 0; i < rs.n; i++) {
		json_array_append_new(list, json_string(rs.serials[i]));
		log_info("cert_revoked", "name=%s serial=%s by=%s", who,
		    rs.serials[i], r->caller.id.name);
	}
	/* "recorded" false: revoked all the same, but a client should say
	 * so, as a mistyped serial looks the same */
	http_reply_json(r, 200,
	    json_pack("{s:s,s:o,s:b,s:b}", "name", who, "revoked", list, "more",
		rs.more, "recorded", !rs.unrecorded));
	return;
fail:
	http_reply_error(r, &err);
}

struct recent_certs {
	int64_t since;
	int n;
};

static int
recent_cb(void *arg, const struct store_cert *c)
{
	struct recent_certs *rc = arg;

	rc->n += strcmp(c->role, "target") == 0 && c->issued_at >= rc->since;
	return 0;
}

static int
renew_rate_check(struct master *m, const char *name, struct cerr *err)
{
	struct recent_certs recent = {master_now() - 3600, 0};

	if (store_cert_list(m->store, name, recent_cb, &recent, err) < 0)
		return -1;
	if (recent.n >= CERTS_PER_HOUR)
		return cerr_set(err, CERR_RATE_LIMITED,
		    "target '%s' was issued %d certificates in the last "
		    "hour, the most it gets: renew later",
		    name, recent.n);
	return 0;
}

/* A renewal: only by an enlisted target of this master's CA, for its own
 * name, a few times an hour at most. */
static int
renew_check(struct http_req *r, struct store_target *t, const char **csr,
    struct cerr *err)
{
	static const char *const keys[] = {"csr", NULL};
	const char *name = r->caller.id.name;

	*csr = NULL;
	if (r->caller.external)
		return cerr_set(err, CERR_FORBIDDEN,
		    "'%s' has a certificate "
		    "of the external CA: that CA renews it",
		    name);
	if (r->body == NULL || json_check_keys(r->body, keys, "", err) < 0 ||
	    json_get_string(r->body, "csr", "", CSR_MAX_BYTES, 1, csr, err) <
		0 ||
	    *csr == NULL)
		return cerr_set(err, CERR_INVALID,
		    "request body: expected "
		    "{\"csr\": PEM}");
	if (store_target_get(r->m->store, name, t, err) < 0 || t->defected)
		return cerr_set(err, CERR_GONE,
		    "target '%s' is not enlisted "
		    "with this master",
		    name);
	return renew_rate_check(r->m, name, err);
}

void
api_cert_renew(struct http_req *r)
{
	const char *name = r->caller.id.name, *csr;
	struct store_target t;
	struct store_cert rec;
	char *pem = NULL;
	struct cerr err;

	if (renew_check(r, &t, &csr, &err) < 0 ||
	    issue_and_record(r->m, csr, name, "target", &rec, &pem, &err) < 0 ||
	    store_begin(r->m->store, &err) < 0)
		goto fail;
	if (store_cert_add(r->m->store, &rec, &err) < 0 ||
	    store_target_set_serial(r->m->store, name, rec.serial_hex, &err) <
		0 ||
	    store_commit(r->m->store, &err) < 0) {
		store_rollback(r->m->store);
		goto fail;
	}
	log_info("cert_renewed", "target=%s serial=%s old_serial=%s", name,
	    rec.serial_hex, r->caller.id.serial_hex);
	reply_issued(r, &rec, pem);
	free(pem);
	return;
fail:
	free(pem);
	http_reply_error(r, &err);
}

/* Called on a target connection's first poll (api_poll.c), with its
 * row: a target calling with its current certificate no longer needs any
 * other (the one it renewed from, one it was given and never used). */
int
api_certs_seen(
    struct master *m, const struct http_caller *c, const struct store_target *t)
{
	struct revoke_set rs;
	struct cerr err;
	int rc;

	if (c->external || strcmp(t->cert_serial, c->id.serial_hex) != 0)
		return 0;
	memset(&rs, 0, sizeof(rs));
	rs.role = "target";
	rs.keep = c->id.serial_hex;
	if (store_cert_list(m->store, t->name, collect_cb, &rs, &err) < 0) {
		log_warn("cert_revoke_failed", "name=%s msg=%s", t->name,
		    LOG_TEXT(err.msg));
		return -1;
	}
	if (rs.n == 0)
		return 0;
	rc = store_begin(m->store, &err);
	for (int i = 0; rc == 0 && i < rs.n; i++)
		rc = store_revoke(
		    m->store, rs.serials[i], t->name, master_now(), &err);
	if (rc < 0 || store_commit(m->store, &err) < 0) {
		store_rollback(m->store);
		log_warn("cert_revoke_failed", "name=%s msg=%s", t->name,
		    LOG_TEXT(err.msg));
		return -1;
	}
	for (int i = 0; i < rs.n; i++) {
		strmap_put(&m->revoked, rs.serials[i], NULL, NULL, NULL);
		log_info("cert_rotated", "target=%s serial=%s revoked=%s",
		    t->name, c->id.serial_hex, rs.serials[i]);
	}
	return 0;
}

/* Each round revokes what one listing collected (at most 16), so the
 * next lists the rest; a name holds one certificate per enlistment and
 * per renewal, a few an hour at most. */
int
api_certs_revoke_target(struct master *m, const char *name,
    struct serial_list *out, struct cerr *err)
{
	struct revoke_set rs;

	for (int round = 0; round < 100000; round++) {
		memset(&rs, 0, sizeof(rs));
		rs.role = "target";
		if (store_cert_list(m->store, name, collect_cb, &rs, err) < 0)
			return -1;
		for (int i = 0; i < rs.n; i++)
			if (store_revoke(m->store, rs.serials[i], name,
				master_now(), err) < 0 ||
			    serial_list_add(out, rs.serials[i], err) < 0)
				return -1;
		if (!rs.more)
			return 0;
	}
	return cerr_set(err, CERR_INTERNAL,
	    "'%s' holds more certificates than can be revoked at once", name);
}
