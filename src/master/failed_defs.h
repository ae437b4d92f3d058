/*
 * failed_defs: the targets where a job's latest definition failed. An
 * insert or update that failed on its target (a local job of that name
 * there, say) leaves the target with the job's previous definition, or
 * none; posting the same document once more is then the way to deliver
 * it. So `job apply` of an unchanged document posts it again to such a
 * target once the failure is cleared, and `job start` is not posted there
 * (a start of a job the target lacks fails and blocks the target): see
 * jobs.c. `job why` gives the same advice (why.c).
 */
#ifndef COHORT_FAILED_DEFS_H
#define COHORT_FAILED_DEFS_H

#include <jansson.h>

#include "common/cerr.h"

struct store;

/* Into *out (new reference, the caller's): target -> {"id", "op",
 * "cleared", "error"} for every target whose newest insert or update of
 * job failed. Costs one listing of the failed instructions (few: a
 * cleared one is trimmed with the applied ones, an uncleared one blocks
 * its target), then, per target with a failed definition of the job, its
 * download list read newest first down to the job's newest definition. */
int failed_defs_find(
    struct store *s, const char *job, json_t **out, struct cerr *err);

#endif
