/*
 * scaleout: executions run by exactly one worker (PRODUCT.md section 6).
 *
 * A worker is an enlisted target with `worker = yes`: its polls say how
 * many tasks it takes (max_tasks) and register it, disabled until an
 * administrator enables it. `cohortctl exec submit JOB` queues one
 * execution; a dispatch pass gives each queued execution to one eligible
 * worker (the job's targets that are workers, narrowed to a group or to
 * named workers; enabled, alive, below max_tasks: scaleout_pick.h) by
 * posting it a `start` of the job. The execution follows that
 * instruction: the run the worker reports for it (its instr_id) marks the
 * execution running, then succeeded or failed, with the run's rows,
 * output included, in the history like any other run.
 *
 * The lease: a worker is alive while it holds a poll or has polled within
 * worker_lease_s (a held long-poll is the heartbeat: a worker that dies
 * closes it, or stops renewing it). An execution whose worker is no
 * longer alive (or was deleted, or is blocked before the run started)
 * loses its attempt: a `stop` is posted to that worker, in case it comes
 * back, and the execution is queued again while it has retries left,
 * else it fails with the reason. Each queued execution keeps the reason
 * it waits.
 *
 * Passes run on the active master only, in one store transaction each:
 * after a submit, a worker's first poll on a connection and an upload
 * that ends an execution's run, and every second.
 */
#ifndef COHORT_SCALEOUT_H
#define COHORT_SCALEOUT_H

#include <stdint.h>

#include <jansson.h>

#include "common/cerr.h"
#include "common/runrec.h"
#include "store/store.h"

struct master;
struct scaleout;

/* A worker's poll is held at most this long (PRODUCT.md 11: a task
 * heartbeat every 10 s): it polls again at least this often, so a host
 * that vanishes without closing its connection is missed within this
 * and a lease. */
#define SCALEOUT_HEARTBEAT_S 10

int scaleout_start(struct master *m, struct cerr *err);
void scaleout_stop(struct master *m);

/* A dispatch pass at the end of this turn of the event loop. */
void scaleout_kick(struct master *m);

/* Queues one execution of job (checked: it exists; group, when not NULL,
 * exists; workers, when not NULL, an array of the job's targets).
 * by: who submitted it. */
int scaleout_submit(struct master *m, const char *job, const char *group,
    const json_t *workers, int64_t retries, const char *by, int64_t *id_out,
    struct cerr *err);

/* A run report from worker, inside the upload's transaction: the
 * execution it belongs to (by its start instruction) moves on. *kick is
 * set when a pass should follow the commit. */
int scaleout_run_reported(struct master *m, const char *worker,
    const struct run_report *rep, int *kick, struct cerr *err);

/* Whether worker t can be trusted with executions: it holds a poll or
 * polled within worker_lease_s, and has not defected. */
int scaleout_worker_alive(
    struct master *m, const struct store_target *t, int64_t now);

/* An admin resynced worker (after the commit): starts it had pending are
 * gone, and the executions they carried are queued again. */
void scaleout_resynced(struct master *m, const char *worker);

/* `job stop` posted to worker in the caller's transaction: its assigned
 * or running executions of job end failed, not retried (an operator's
 * stop is not a failure to try again). */
int scaleout_stopped(
    struct master *m, const char *worker, const char *job, struct cerr *err);

/* A worker's poll (max_tasks > 0) registers it or updates max_tasks. */
int scaleout_worker_seen(
    struct master *m, const char *worker, int64_t max_tasks, struct cerr *err);

#endif
