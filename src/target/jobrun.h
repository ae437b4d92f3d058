/*
 * jobrun: one execution of a job on this target. It walks the job's steps
 * through the flow rules (jobflow.h) and starts each step attempt with the
 * runner, waiting retry_interval_s between attempts with a libevent timer,
 * and builds the run report as it goes. The done callback receives the
 * finished report.
 *
 * jobrun holds no network or store state: the target wires the done
 * callback to its outbox.
 */
#ifndef COHORT_JOBRUN_H
#define COHORT_JOBRUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/cerr.h"
#include "common/conf.h"
#include "common/jobdoc.h"
#include "common/runrec.h"

struct event_base;
struct runner;
struct jobrun;

/* A step attempt as it spawns. */
struct jobrun_attempt {
	int64_t target_run_id;
	int step; /* 1-based */
	int attempt; /* 1-based, as in its step row */
	const char *step_name;
	int64_t started_ms; /* UTC, as its step row will say */
};

struct jobrun_params {
	int64_t target_run_id;
	int64_t instr_id; /* 0 for a scheduled run */
	const char *target_name; /* for messages ("... on target web-1") */
	size_t default_max_output_bytes;
	const char *default_cwd; /* used when a step names none */
	const struct conf *conf; /* proxies; borrowed, outlives the run */
	/* Frees the job when the jobrun is freed (the owner's job_free);
	 * NULL: the job is not freed. */
	void (*job_free)(struct job *job);
	/* Called with each step attempt and its process group before the
	 * step may exec (runner_spec.on_spawn), with the done callback's
	 * arg; a failure fails that attempt unrun. NULL: not called. */
	int (*on_step_spawn)(void *arg, const struct jobrun_attempt *at,
	    pid_t pgid, struct cerr *err);
	/* Called with each step row as the attempt ends (spawned or not),
	 * before the run moves on; the row is borrowed. NULL: not called. */
	void (*on_step_end)(
	    void *arg, int64_t target_run_id, const struct run_step_rec *row);
	/* The first attempt does not exec before this wall-clock instant
	 * (UTC ms; runner_spec.not_before_ms), from which the run is timed
	 * and reported started; 0: at once. */
	int64_t not_before_ms;
};

/* Called once when the run ends (succeeded, failed or canceled). The
 * callback takes ownership of report. The jobrun must not be freed from
 * inside the callback; free it afterwards (e.g. from a zero timer). */
typedef void (*jobrun_done_cb)(
    void *arg, struct jobrun *jr, struct run_report *report);

/* Starts the run at job->start_step. Takes ownership of job, also on
 * failure (it is then freed with params->job_free). */
struct jobrun *jobrun_start(struct event_base *base, struct runner *runner,
    struct job *job, const struct jobrun_params *params, jobrun_done_cb cb,
    void *arg, struct cerr *err);
/* Stops the running step's process tree (or a pending retry wait); the run
 * ends as canceled with a message saying who asked. */
void jobrun_cancel(struct jobrun *jr, const char *why);
/* Frees the run and its job. A step still running is killed without a
 * report (runner_abandon), so free every jobrun before the runner. */
void jobrun_free(struct jobrun *jr);

const struct job *jobrun_job(const struct jobrun *jr);
int64_t jobrun_id(const struct jobrun *jr);
/* When the run started (UTC ms; its report's started_ms). */
int64_t jobrun_started_ms(const struct jobrun *jr);

#endif
