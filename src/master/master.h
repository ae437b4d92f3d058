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
#include "common/log.h"
#include "common/pki.h"
#include "common/strmap.h"
#include "master/guard.h"
#include "master/metrics.h"
#include "master/ratelimit.h"

struct event_base;
struct event;
struct evhttp;
struct store;
struct deliver;
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
	char *ca_pem; /* served to enlisting targets */
	struct strmap revoked; /* serial hex -> (unused) */
	struct strmap waiters; /* target name -> struct poll_waiter */
	struct strmap outbox_seen; /* target name -> its outbox as known
				      (outbox_seen.h) */
	struct event *sig_term;
	struct event *sig_int;
	struct event *tick; /* housekeeping: trims, metrics */
	int port; /* the bound port */

	/* reliability (SIGHUP reload, store failures) */
	struct conf *live; /* owned; conf points here */
	struct event *sig_hup; /* reloads the configuration */
	struct log_limit store_log; /* store failures, once per interval */
	/* security */
	struct guard_limits guard; /* checks before evhttp parses */
	struct ratelimit ratelimit; /* per certificate serial / address */
	struct deliver *deliver; /* sends notifications (deliver.h) */
	struct lease *lease; /* active or standby (lease.h) */
	struct scaleout *scaleout; /* the execution queue (scaleout.h) */
	/* performance */
	struct longpoll *lp; /* the per-turn poll batch */
	int conn_idx; /* SSL ex_data: struct http_conn */
	/* metrics: the counters GET /metrics reports (metrics.h) */
	struct metrics metrics;
};

int master_run(const struct conf *conf, struct cerr *err);

/* Loads again what the master caches from the store (the revoked
 * serials): at start and when a standby becomes active, since the store
 * changed while another master was active. */
int master_reload_caches(struct master *m, struct cerr *err);

/* Unix seconds, UTC. */
int64_t master_now(void);

/* Revokes a certificate serial: in the store and in the set every request
 * is checked against (api_targets.c). An empty serial is a no-op. */
int master_revoke(
    struct master *m, const char *serial, const char *name, struct cerr *err);

/* A request failed in the store (disk full, I/O): logged once per
 * interval (see log_limited). master_store_ok() after a successful write
 * ends the streak with one "store_recovered" line. */
void master_store_failed(struct master *m, const struct cerr *err);
void master_store_ok(struct master *m);

#endif
