/*
 * scaleout_int: what the scale-out files share: scaleout.c (the passes),
 * scaleout_lease.c (leases), scaleout_dispatch.c (queued executions to
 * workers) and scaleout_calls.c (the calls from the API and the uploads).
 * Not for other files.
 */
#ifndef COHORT_SCALEOUT_INT_H
#define COHORT_SCALEOUT_INT_H

#include <jansson.h>

#include "common/cerr.h"
#include "common/strmap.h"
#include "store/store.h"

struct event;
struct master;
struct scaleout_candidate;

/* An open execution copied out of the store listing. */
struct open_exec {
	struct store_exec e;
	char *pins; /* owned copies of e's borrowed strings */
	char *reason;
};

/* The scale-out state of the master (m->scaleout). */
struct scaleout {
	struct event *tick; /* every second */
	struct event *kick; /* a pass at the end of this loop turn */
	int64_t trimmed_at;
	/* When this master last became active. A worker that polled before
	 * counts as alive until it has had its poll interval (the longest
	 * it waits to reconnect) and a lease to come back: a restart or a
	 * failover judges no execution lost by its own outage. */
	int64_t active_since;
	int was_active;
	/* worker name -> int64_t: when a pass last saw it hold a poll (its
	 * last_poll is when that poll began). */
	struct strmap held_at;
	/* worker name -> int64_t: when an admin last resynced it (which
	 * drops its pending starts). */
	struct strmap resynced_at;
	/* "worker\njob" -> int64_t: when the worker last canceled a start
	 * of the job before it ran (scaleout_refused); kept while the
	 * history shows a run of the job going on there. */
	struct strmap refused_at;
};

/* One pass: what it read, and where its errors go. */
struct pass {
	struct master *m;
	int64_t now;
	struct store_worker *workers; /* in name order */
	struct scaleout_candidate *state; /* per worker */
	int *grace; /* per worker: scaleout_in_grace() */
	size_t nworkers;
	struct open_exec *execs;
	size_t nexecs;
	json_t *wake; /* names of workers posted to */
	int notified; /* a notification was queued: kick its sender */
	struct cerr *err;
};

/* scaleout.c: x, just ended failed by the master, told to the job's
 * operator (notify.h). */
int scaleout_notify_failed(struct pass *p, const struct open_exec *x);

/* scaleout.c: the worker named in the pass, or NULL; op of job posted to
 * worker (a stop names the start it undoes); e's reason set (a copy owned
 * by x). */
struct scaleout_candidate *scaleout_worker_state(
    struct pass *p, const char *name);
int scaleout_post_op(struct pass *p, const char *worker, enum instr_op op,
    const char *job, int64_t start_id, int64_t *id_out);
int scaleout_set_reason(
    struct open_exec *x, const char *reason, struct cerr *err);

/* scaleout_lease.c: name's time in map set to now; whether t is still
 * within its grace after this master became active; an assigned or
 * running execution's lease checked, its attempt ended if lost. */
void scaleout_note_time(struct strmap *map, const char *name, int64_t now);
int scaleout_in_grace(
    struct master *m, const struct store_target *t, int64_t now);
int scaleout_check_lease(struct pass *p, struct open_exec *x);

/* scaleout_dispatch.c: a queued execution to a worker, or it waits and
 * says why (c: room for a candidate per worker). */
int scaleout_dispatch(
    struct pass *p, struct open_exec *x, struct scaleout_candidate *c);

/* The attempt ended without a result it can trust (the worker is gone,
 * offline or blocked) or with a failure: queued again while retries are
 * left (or when uncounted: it certainly did not run), else failed. Writes
 * x to the store. */
int scaleout_end_attempt(struct master *m, struct open_exec *x,
    const char *what, int uncounted, int64_t now, struct cerr *err);

/* The worker canceled a start of the job before it ran (it was running
 * the job): it is not given the job again while its history shows a run
 * of it going on there. */
void scaleout_refused(struct master *m, const char *worker, const char *job);

/* store_name_cb appending name to a JSON array (arg). */
int scaleout_add_name(void *arg, const char *name);
/* Whether the JSON array names holds name. */
int scaleout_has_name(const json_t *names, const char *name);
/* store_job_cb for "does the job exist": the call's success says so. */
int scaleout_job_exists_cb(void *arg, const struct store_job *j);

#endif
