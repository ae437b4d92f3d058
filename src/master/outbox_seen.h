/*
 * outbox_seen: what the active master knows of each target's outbox, so
 * that it trusts a "running" row in the history only when no record that
 * could end that run is still on its way.
 *
 * A target's poll says how far its outbox reaches (the highest seq it
 * holds, 0 when empty: "outbox_pending_upto"); its uploads bring records
 * by seq. The history is complete for a target when its last poll found
 * the outbox empty or every record up to that seq has arrived since.
 * Seqs only grow, and records go up in order, so the two may arrive in
 * either order. Known only for this process's active period: after a
 * restart or a failover, a record may have gone to the old master's
 * socket and not to the store, so nothing is complete until the target
 * says so again (master_reload_caches() forgets it all).
 *
 * The window left: a poll's report is as old as the poll, which may be
 * held for up to longpoll_max_s. A run that ends meanwhile, and whose end
 * fails to upload at once, reads as running until that upload lands.
 */
#ifndef COHORT_OUTBOX_SEEN_H
#define COHORT_OUTBOX_SEEN_H

#include <stdint.h>

#include "common/cerr.h"

struct master;

/* A poll's report: pending_upto < 0 (a target too old to say) forgets
 * what was known of it. */
int outbox_seen_poll(struct master *m, const char *target, int64_t pending_upto,
    struct cerr *err);
/* Records up to seq `upto` reached the store (acknowledged or refused). */
int outbox_seen_upload(
    struct master *m, const char *target, int64_t upto, struct cerr *err);
/* 1 when no record of target is known to be on its way, else 0. */
int outbox_seen_complete(const struct master *m, const char *target);
/* Forgets target: a new life of the name (enlisted again, deleted,
 * defected) starts its outbox's seqs over. */
void outbox_seen_forget(struct master *m, const char *target);
/* Forgets every target (becoming active; shutting down). */
void outbox_seen_clear(struct master *m);

#endif
