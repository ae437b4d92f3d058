/*
 * lease: whether this master is the active one (docs/ha.md). With the
 * PostgreSQL store several masters share one database; the one holding
 * the store's lease (store_lease.h) is active, the others stand by and
 * answer every request but GET /v1/health and GET /metrics with 503
 * not_active naming the active master. A timer renews the lease every lease_renew_ms (active)
 * or tries to take it (standby). Becoming active fences every write with
 * the new epoch and reloads what the master caches from the store;
 * losing the lease (renewal refused, a write fenced, no renewal for
 * lease_ttl_s, or given up on request) makes the master a standby at
 * once, and the polls it holds are answered not_active so the targets
 * move on.
 *
 * With the SQLite store there is one master: it is always active, and it
 * holds an exclusive lock on STORE.lock, so a second master on the same
 * file refuses to start.
 */
#ifndef COHORT_LEASE_H
#define COHORT_LEASE_H

#include <stdint.h>

#include <jansson.h>

#include "common/cerr.h"

struct master;
struct http_req;

/* Sets up m->lease once the store is open: on SQLite locks the store at
 * store_path (before the port is bound, so a second master fails before
 * it touches anything); on PostgreSQL starts as a standby. */
int lease_open(struct master *m, const char *store_path, struct cerr *err);
/* Starts it once the port is bound (the advertised URL names it): on
 * PostgreSQL takes the lease at once when it is free, and starts the
 * timer. */
int lease_start(struct master *m, struct cerr *err);
/* Gives the lease up when held (a clean stop lets a standby take over at
 * once) and frees it. */
void lease_stop(struct master *m);

int lease_is_active(const struct master *m);

/* After a request: a write the store refused as fenced means another
 * master has taken over; become a standby now. */
void lease_check_fenced(struct master *m);

/* Answers r with 503 not_active naming the active master. */
void lease_reply_not_active(struct http_req *r);
/* The not_active error body: {"error": {"code", "message", "active_url"}}
 * (active_url null when no live master is known). New reference. */
json_t *lease_not_active_json(const struct master *m);

/* GET /v1/health: this master's state and the active one's URL. */
json_t *lease_health_json(const struct master *m);

/* Gives the lease up on request (the failover drill) and stays a standby
 * for a while, so another master takes over. *epoch_out: the epoch given
 * up. CERR_CONFLICT on the SQLite store (there is no standby). */
int lease_give_up(struct master *m, int64_t *epoch_out, struct cerr *err);
/* 0 when lease_give_up() would give the lease up, else -1 with why. */
int lease_may_give_up(const struct master *m, struct cerr *err);

#endif
