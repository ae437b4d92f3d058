/*
 * jobflow: the step flow state machine, without processes or time, so it
 * can be tested exhaustively. Given the result of a step attempt, it says
 * what comes next: another attempt of the same step (after the retry
 * interval), another step, or the end of the job with success or failure.
 */
#ifndef COHORT_JOBFLOW_H
#define COHORT_JOBFLOW_H

#include <stddef.h>
#include <stdint.h>

#include "common/jobdoc.h"

enum flow_kind {
	FLOW_RUN_STEP, /* run .step (1-based) as its execution .attempt */
	FLOW_RETRY, /* run .step again after .delay_s */
	FLOW_DONE_SUCCESS,
	FLOW_DONE_FAILURE
};

struct flow_decision {
	enum flow_kind kind;
	int step;
	int attempt;
	int64_t delay_s;
	char reason[160]; /* for the job row's message on DONE */
};

/*
 * An attempt number names one execution of a step within the run: it
 * counts every execution of that step, retries and revisits (a step:N
 * jump back) alike, so (step, attempt) never names two executions of one
 * run (the master keys its history rows on it). The retry limit counts
 * the tries of the current visit only: a step jumped back to gets its
 * retry_attempts again.
 */
struct jobflow {
	const struct job *job; /* borrowed */
	int step; /* current step, 1-based */
	int attempt; /* the current execution's number for its step */
	int tries; /* executions in the current visit to the step, 1-based */
	int runs[JOB_MAX_STEPS]; /* executions of each step so far */
	size_t transitions; /* bounds step loops (step:N back-jumps) */
	size_t max_transitions;
};

/* First decision: run the job's start step, attempt 1. A job of more
 * than JOB_MAX_STEPS steps (the document refuses one) ends at once. */
void jobflow_init(
    struct jobflow *f, const struct job *job, struct flow_decision *first);
/* The current attempt ended (succeeded = exit 0). A step that failed with
 * attempts left is retried; else its on_success/on_failure action applies.
 * Going past max_transitions ends the job with failure (a loop guard). */
void jobflow_step_done(
    struct jobflow *f, int succeeded, struct flow_decision *next);

#endif
