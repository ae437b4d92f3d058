/*
 * caller: the identity of a request's sender (see caller.h).
 */
#include "master/caller.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/conf.h"
#include "common/tls.h"
#include "master/master.h"
#include "store/store.h"

enum http_role
caller_role(const char *name)
{
	static const struct {
		const char *name;
		enum http_role role;
	} roles[] = {{"admin", HTTP_ADMIN}, {"operator", HTTP_OPERATOR},
	    {"viewer", HTTP_VIEWER}, {"target", HTTP_TARGET}};

	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcmp(name, roles[i].name) == 0)
			return roles[i].role;
	return 0;
}

/* An external certificate's role is the mapping's, never its own OU. */
static int
external_role(struct master *m, X509 *peer, struct http_caller *c)
{
	const struct conf_map *map = conf_map_find(m->conf, c->id.name);
	char issuer[128] = "?";

	if (map == NULL) {
		X509_NAME_get_text_by_NID(X509_get_issuer_name(peer),
		    NID_commonName, issuer, sizeof(issuer));
		return cerr_set(&c->why, CERR_FORBIDDEN,
		    "certificate '%s' "
		    "from the external CA '%s' has no role on this master "
		    "(the master's configuration needs 'map %s = ROLE')",
		    c->id.name, issuer, c->id.name);
	}
	snprintf(c->id.role, sizeof(c->id.role), "%s", map->role);
	c->external = 1;
	return 0;
}

/* The identity on a connection's first request: verified, mapped when
 * external, then kept with the SSL object. Refusals are not kept (the
 * connection is refused anyway). */
static struct http_conn *
first_identity(struct master *m, SSL *ssl, struct http_caller *c)
{
	X509 *peer = SSL_get0_peer_certificate(ssl);
	struct http_conn *hc;

	if (tls_peer_identity(ssl, &c->id, &c->why) < 0)
		return NULL;
	/* Only with client_ca can a verified chain end elsewhere than at
	 * the master's own CA. */
	if (m->conf->client_ca[0] != '\0' && peer != NULL &&
	    !tls_issued_by(peer, m->ca_cert) && external_role(m, peer, c) < 0)
		return NULL;
	hc = calloc(1, sizeof(*hc));
	if (hc == NULL)
		return NULL; /* served uncached */
	tls_drop_peer_chain(ssl);
	hc->id = c->id;
	hc->external = c->external;
	if (SSL_set_ex_data(ssl, m->conn_idx, hc) != 1) {
		free(hc);
		return NULL;
	}
	return hc;
}

/* Deleting a target or its defecting revokes its certificate. A target
 * that was not holding a poll at that moment learns it on its next call:
 * c->gone, for its own routes (PRODUCT.md section 11: it is told so and
 * stops polling). Any other revoked certificate, or a store that cannot
 * answer, stays a plain 401. */
static void
revoked_target_gone(struct master *m, struct http_caller *c)
{
	struct store_target t;
	struct cerr err;

	if (caller_role(c->id.role) != HTTP_TARGET)
		return;
	if (store_target_get(m->store, c->id.name, &t, &err) < 0) {
		if (err.code == CERR_NOT_FOUND)
			cerr_set(&c->gone, CERR_GONE,
			    "target '%s' was deleted on the master",
			    c->id.name);
		return;
	}
	if (t.defected)
		cerr_set(&c->gone, CERR_GONE, "target '%s' has defected",
		    c->id.name);
}

void
caller_identify(
    struct master *m, SSL *ssl, struct http_caller *c, struct http_conn **conn)
{
	struct http_conn *hc;

	memset(c, 0, sizeof(*c));
	*conn = NULL;
	if (ssl == NULL) {
		cerr_set(&c->why, CERR_UNAUTHENTICATED, "not a TLS connection");
		return;
	}
	hc = SSL_get_ex_data(ssl, m->conn_idx);
	if (hc != NULL) {
		c->id = hc->id;
		c->external = hc->external;
	} else {
		hc = first_identity(m, ssl, c);
		if (c->why.code != CERR_OK)
			return;
	}
	*conn = hc;
	/* Revoked first: a deleted or defected target is told it is gone,
	 * whatever its certificate's dates, so it stops polling. */
	if (strmap_has(&m->revoked, c->id.serial_hex)) {
		cerr_set(&c->why, CERR_UNAUTHENTICATED,
		    "certificate of %s has been revoked", c->id.name);
		revoked_target_gone(m, c);
		return;
	}
	/* The handshake checked the dates; a kept-alive connection (a
	 * dashboard, a long-poll renewed for hours) outlives them. */
	if (c->id.not_after < (long long)time(NULL)) {
		cerr_set(&c->why, CERR_UNAUTHENTICATED,
		    "certificate of %s has expired", c->id.name);
		return;
	}
	c->role = caller_role(c->id.role);
	if (c->role == 0) {
		cerr_set(&c->why, CERR_UNAUTHENTICATED,
		    "certificate role '%s' may not call the API", c->id.role);
		return;
	}
	c->authenticated = 1;
}
