/*
 * events: the target's events into its outbox. An event at or above the
 * configured event_forward_level becomes an outbox record of kind "event"
 * (common/eventrec.h), which the uploader sends like a run's outcome; one
 * below it is dropped. Both the daemon (a failed run, a step timeout, its
 * own errors) and `cohortctl event raise` (a second writer on the same
 * SQLite store, in WAL mode) write them here.
 */
#ifndef COHORT_EVENTS_H
#define COHORT_EVENTS_H

#include "common/cerr.h"
#include "common/conf.h"
#include "common/eventrec.h"

struct tstore;

/* Whether ev is forwarded under conf's event_forward_level. */
int events_forwarded(const struct conf *conf, const struct eventrec *ev);

/* Writes ev to the outbox when it is forwarded; *queued_out (may be
 * NULL) says whether it was. */
int events_queue(struct tstore *s, const struct conf *conf,
    const struct eventrec *ev, int *queued_out, struct cerr *err);

#endif
