/*
 * defect: a target leaving this master, whichever side asked. The target
 * asks itself (POST /v1/defect: `cohortctl defect` on the target), or the
 * master posts it a `defect` instruction (`cohortctl target defect`) and
 * the defect happens when the target acknowledges having applied it: by
 * then the target has removed its multiserver jobs and uploaded its
 * outbox (target/defect.c).
 */
#ifndef COHORT_MASTER_DEFECT_H
#define COHORT_MASTER_DEFECT_H

#include <stdint.h>

#include "common/cerr.h"
#include "common/pki.h"
#include "master/serials.h"

struct master;

/* The id of the defect instruction on its way to the target (pending or
 * downloaded), 0 when there is none. */
int defect_open(
    struct master *m, const char *name, int64_t *id_out, struct cerr *err);

/* Inside the caller's transaction: drops the target's pending
 * instructions, marks it defected and revokes every certificate it
 * holds, caller_serial too when not NULL (the certificate the request
 * came with). */
int defect_in_tx(struct master *m, const char *name, const char *caller_serial,
    struct serial_list *out, struct cerr *err);

/* After the commit: the serials join the set every request is checked
 * against, scale-out hears that the target's pending starts are gone,
 * and the defect is logged. */
void defect_committed(struct master *m, const char *name,
    const struct serial_list *rv, const char *by);

#endif
