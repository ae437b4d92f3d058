/*
 * store_lease: the active master's lease and the fence on every write
 * (high availability; docs/ha.md). Several masters may share one
 * PostgreSQL store; one of them holds the lease, a single row with the
 * holder, its advertised URL, an epoch and an expiry, and renews it. A
 * standby takes the lease when it has expired, was released, or (on
 * PostgreSQL) its holder's database session is gone; taking it bumps the
 * epoch.
 *
 * Fencing: once a master has the lease it hands its epoch to
 * store_lease_fence(), and from then on every write checks, in the same
 * round trip and the same transaction, that the lease still carries that
 * epoch, and holds a share lock on the lease row until the write commits.
 * A takeover's update of the row therefore waits for the old holder's
 * open writes, and every write the old holder tries afterwards fails with
 * CERR_NOT_ACTIVE. So a master that wakes from a pause (SIGSTOP, a frozen
 * VM) after another took over cannot change anything.
 *
 * Times come from the store's clock (the database server's on
 * PostgreSQL), so the masters' clocks need not agree. The SQLite store
 * keeps the same row for parity but cannot be shared: there fencing is a
 * no-op, and the master refuses a second master on the same file.
 */
#ifndef COHORT_STORE_LEASE_H
#define COHORT_STORE_LEASE_H

#include <stdint.h>

#include "store/store.h"

/* For store_lease_fence(): refuse every write (a standby). */
#define STORE_LEASE_STANDBY (-1)

struct store_lease {
	char holder[STORE_NAME_MAX + 1]; /* "" while never held */
	char url[STORE_TEXT_MAX]; /* the holder's advertised URL */
	int64_t epoch; /* 0 while never held */
	int64_t expires_in_ms; /* <= 0: expired or released */
};

/* Takes the lease for holder (advertising url) for ttl_ms when it is
 * free; waits for the previous holder's open writes. *taken says whether
 * it was taken; *out is the lease as it now stands either way (so a
 * standby learns who is active). holder and url: 1..STORE_NAME_MAX and
 * < STORE_TEXT_MAX bytes; ttl_ms: 1..3600000. */
int store_lease_acquire(struct store *s, const char *holder, const char *url,
    int64_t ttl_ms, struct store_lease *out, int *taken, struct cerr *err);
/* Extends the lease holder holds with epoch by ttl_ms from now.
 * CERR_NOT_ACTIVE when another master has taken it. */
int store_lease_renew(struct store *s, const char *holder, int64_t epoch,
    int64_t ttl_ms, struct cerr *err);
/* Gives up the lease held with epoch (it expires now, so a standby can
 * take it at once); a no-op when it has moved on already. */
int store_lease_release(struct store *s, int64_t epoch, struct cerr *err);
int store_lease_get(struct store *s, struct store_lease *out, struct cerr *err);

/* Every later write checks the lease still has epoch (> 0); 0 turns the
 * check off (tools, a master alone on SQLite); STORE_LEASE_STANDBY
 * refuses every write. Clears the fenced flag. */
void store_lease_fence(struct store *s, int64_t epoch);
/* 1 once a write was refused because the epoch moved on, since the last
 * store_lease_fence(): the master has been deposed. */
int store_lease_fenced(struct store *s);
/* 1 when several masters may share this store (PostgreSQL). */
int store_lease_shared(const struct store *s);

#endif
