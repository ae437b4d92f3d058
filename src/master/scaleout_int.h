/*
 * scaleout_int: what scaleout.c (the passes) shares with scaleout_calls.c
 * (the calls from the API and the uploads). Not for other files.
 */
#ifndef COHORT_SCALEOUT_INT_H
#define COHORT_SCALEOUT_INT_H

#include <jansson.h>

#include "common/cerr.h"
#include "store/store.h"

struct master;

/* An open execution copied out of the store listing. */
struct open_exec {
	struct store_exec e;
	char *pins; /* owned copies of e's borrowed strings */
	char *reason;
};

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
