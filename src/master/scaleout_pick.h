/*
 * scaleout_pick: which worker takes a queued execution, or why none can
 * (PRODUCT.md section 6). A pure function of the candidates, so each
 * case is a unit test (tests/unit/test_scaleout_pick.c);
 * scaleout_dispatch.c gathers the candidates: the job's targets that are
 * workers, narrowed to the execution's group or named workers.
 */
#ifndef COHORT_SCALEOUT_PICK_H
#define COHORT_SCALEOUT_PICK_H

#include <stddef.h>
#include <stdint.h>

#define SCALEOUT_WHY_MAX 1024

struct scaleout_candidate {
	const char *name;
	int enabled; /* an administrator enabled it */
	int alive; /* holds a poll, or polled within the lease */
	int holding; /* holds a poll now: surely there */
	int blocked; /* a failed instruction is not cleared */
	int64_t max_tasks;
	int64_t active; /* its executions assigned or running */
	int runs_job; /* it runs an execution of this job now */
	int64_t last_poll; /* unix seconds, 0: never */
};

/* The index of the candidate to take the execution: enabled, alive, not
 * blocked, below max_tasks and not already running the job (a target
 * runs one instance of a job at a time); one holding a poll before one
 * only recently seen (it may have just died), then the least loaded,
 * then the first in order. -1 when none can, with why (a sentence naming each
 * candidate's state, or that there is none). */
int scaleout_pick(
    const struct scaleout_candidate *c, size_t n, char *why, size_t size);

#endif
