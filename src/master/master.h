/*
 * master: the master role's context and entry point. struct master owns
 * everything the master holds (event base, HTTPS server, store, CA key,
 * revoked serials, waiting polls); every handler receives it explicitly, so
 * a unit test can build one without the whole daemon. master_run() returns
 * when SIGTERM or SIGINT arrives.
 */
#ifndef COHORT_MASTER_H
#define COHORT_MASTER_H

#include <stdint.h>

#include <openssl/ssl.h>

#include "common/cerr.h"
#include "common/conf.h"
#include "common/pki.h"
#include "common/strmap.h"

struct event_base;
struct event;
struct evhttp;
struct store;
struct longpoll;

struct master {
	const struct conf *conf;
	struct event_base *base;
	struct store *store;
	SSL_CTX *ssl_ctx;
	struct evhttp *http;
	X509 *ca_cert;
	EVP_PKEY *ca_key;
	char ca_fingerprint[PKI_FINGERPRINT_HEX];
	char *ca_pem;			/* served to enlisting targets */
	struct strmap revoked;		/* serial hex -> (unused) */
	struct strmap waiters;		/* target name -> struct poll_waiter */
	struct event *sig_term;
	struct event *sig_int;
	struct event *tick;		/* housekeeping: trims, metrics */
	int port;			/* the bound port */
	struct longpoll *lp;		/* the per-turn poll batch */
	int conn_idx;			/* SSL ex_data: struct http_conn */
};

int master_run(const struct conf *conf, struct cerr *err);

/* Unix seconds, UTC. */
int64_t master_now(void);

/* Revokes a certificate serial: in the store and in the set every request
 * is checked against (api_targets.c). An empty serial is a no-op. */
int master_revoke(struct master *m, const char *serial, const char *name,
    struct cerr *err);

#endif
