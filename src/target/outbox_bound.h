/*
 * outbox_bound: the bounds of the target's outbox as configured, and the
 * run record without its outputs that the byte bound keeps of the oldest
 * records (tstore_outbox_add). A target cut off from its master, running
 * chatty jobs, would otherwise fill its disk with outputs the master
 * never gets whole anyway (upload_fit.h); the outcomes stay, the target's
 * own history keeps the outputs.
 */
#ifndef COHORT_OUTBOX_BOUND_H
#define COHORT_OUTBOX_BOUND_H

#include "common/cerr.h"
#include "common/conf.h"
#include "target/tstore.h"

/* outbox_max_items, outbox_max_bytes and outbox_bound_strip. */
struct tstore_outbox_bounds outbox_bound_get(const struct conf *conf);

/* tstore_outbox_strip_cb: a "run" record's body with each step's output
 * replaced by a line saying so (upload_fit_drop_outputs). Other kinds,
 * and a body that is not a JSON object, have nothing to take out. */
int outbox_bound_strip(
    const char *kind, const char *body, char **out, struct cerr *err);

#endif
