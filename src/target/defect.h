/*
 * defect: a target leaving its master (PRODUCT.md section 3), on the
 * master's `defect` instruction or by `cohortctl defect`.
 *
 * On the instruction, nothing the target holds for the master is lost:
 * applying it removes the multiserver jobs and ends their runs, in the
 * transaction that records its ack, and the ack then waits until every
 * such run has ended and the outbox is empty (uploaded). The master
 * defects the target when it records the ack, revoking its certificate,
 * and answers that poll "gone"; the target then forgets the master the
 * way `cohortctl defect` does, and the daemon stops (it cannot start
 * again without enlisting). "defecting" in the local store carries a
 * defect across a restart.
 */
#ifndef COHORT_TARGET_DEFECT_H
#define COHORT_TARGET_DEFECT_H

#include "common/cerr.h"
#include "common/conf.h"

struct target;
struct tstore;

/* Inside the instruction's transaction: the multiserver jobs go and the
 * store remembers the target is defecting. */
int defect_apply(struct target *t, struct cerr *err);
/* After the commit: their runs end, and polling holds the acks back. */
void defect_begin(struct target *t);
/* Whether the defect's ack may go: nothing is left to upload. */
int defect_ready(struct target *t);
/* The master answered that the target is gone: forget it and stop. */
void defect_finish(struct target *t);

/* Forgets the master: the store's master state (tstore_forget_master,
 * when s is not NULL), the certificate, key and CA, and the configuration,
 * kept aside as cohortd.conf.defected. *outbox_left: the records no
 * master will now receive. */
int defect_forget_master(const struct conf *conf, struct tstore *s,
    int64_t *outbox_left, struct cerr *err);

#endif
