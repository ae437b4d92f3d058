/*
 * notify: what the master tells its operators, and whom. When a target
 * uploads a run's final job row or forwards an event, the upload handler
 * asks here, inside the same store transaction, whether that calls for a
 * notification; if so one is queued in the store, keyed by the run or the
 * event, so an upload repeated after a lost reply queues nothing more.
 * deliver.c sends what is queued.
 *
 * Whom: the operator the job's document names (notify.operator), else
 * the default operator. When: a run per the job's notify.on (failure,
 * the default, counts failed and interrupted runs; success counts
 * succeeded ones; completion every end, canceled included); an event
 * always, except a job_failed event (the run's own notification covers
 * it) and the events of a job whose notify.on is never.
 */
#ifndef COHORT_NOTIFY_H
#define COHORT_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "common/cerr.h"
#include "common/eventrec.h"
#include "common/jobdoc.h"
#include "common/runrec.h"

struct store;
struct store_exec;

/* Whether a job notifying on `on` is told about a run that ended so.
 * Unfinished outcomes (running, retrying) never are. */
int notify_wanted(enum notify_on on, enum run_outcome outcome);

/* Queues the notification for a run of target whose rows were just
 * stored, if the run has ended and its job wants one. *queued_out (may be
 * NULL) is 1 when a notification was added by this call. */
int notify_run(struct store *s, const char *target,
    const struct run_report *rep, int64_t now, int *queued_out,
    struct cerr *err);
/* The same for a scale-out execution the master ended failed with no
 * run report to tell it (its last attempt lost with no retries left, or
 * its job, group or workers gone): e->status must be EXEC_FAILED. */
int notify_execution(struct store *s, const struct store_exec *e, int64_t now,
    int *queued_out, struct cerr *err);
/* The same for an event stored for the first time. */
int notify_event(struct store *s, const char *target, const struct eventrec *ev,
    int64_t now, int *queued_out, struct cerr *err);

/* For a job document: CERR_INVALID ("notify.operator: ...") when name
 * (may be NULL: none) is not an operator. */
int notify_check_operator(struct store *s, const char *name, struct cerr *err);
/* 1 when a job names the operator (its name in first), 0 when none, -1
 * on a store error. */
int notify_jobs_naming(struct store *s, const char *operator_name, char *first,
    size_t size, struct cerr *err);

#endif
