/*
 * jobrun_int: what jobrun.c and jobrun_as.c share and nothing else
 * includes. Not part of the interface.
 */
#ifndef COHORT_JOBRUN_INT_H
#define COHORT_JOBRUN_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/conf.h"
#include "common/runner.h"
#include "common/runrec.h"
#include "target/jobflow.h"
#include "target/jobrun.h"

#define JOBRUN_PATH                                                            \
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define JOBRUN_BASE_ENV 12 /* entries before the step's own */
#define JOBRUN_PW_BUF 16384
#define JOBRUN_GR_BUF_MAX (1 << 20)

struct jobrun {
	struct runner *runner;
	struct job *job; /* owned */
	void (*job_free)(struct job *job);
	int64_t target_run_id;
	char *target_name;
	char *default_cwd;
	size_t default_max_output_bytes;
	const struct conf *conf;
	jobrun_done_cb cb;
	void *arg;
	int (*on_step_spawn)(void *arg, const struct jobrun_attempt *at,
	    pid_t pgid, struct cerr *err);
	void (*on_step_end)(
	    void *arg, int64_t target_run_id, const struct run_step_rec *row);

	struct jobflow flow;
	struct flow_decision next; /* what the timer does next */
	struct event *timer;
	struct run_report *report; /* owned until given to cb */
	int64_t started_mono_ms;
	int64_t started_ms; /* wall clock, as the report has it */
	int64_t not_before_ms; /* for the first attempt only; then 0 */

	uint64_t child_id;
	int child_live;
	int step, attempt; /* the attempt running or last run */
	int64_t attempt_started_ms;
	int last_failed; /* the last attempt failed */
	char last_message[RUNREC_MESSAGE_MAX + 1];
	int canceling, finished;
	char cancel_why[256];
};

/* Who a step runs as. */
struct run_as {
	int set_user;
	uid_t uid;
	gid_t gid;
	char user[64];
	char home[512];
};

/* One attempt's outcome, before it becomes a step row. */
struct attempt_end {
	int succeeded, canceled, timed_out, exit_code;
	int64_t started_ms, duration_ms;
	char message[RUNREC_MESSAGE_MAX + 1];
	char *output; /* scrubbed, clean text; owned */
};

/* The daemon's own user (a step without a proxy). */
void jobrun_run_as_self(struct jobrun *jr, struct run_as *ra);
/* The proxy's user; -1 with the reason in msg when it cannot be. */
int jobrun_run_as_proxy(struct jobrun *jr, const char *name, struct run_as *ra,
    char *msg, size_t size);
/* The step's environment (NULL-terminated, each entry owned), or NULL. */
char **jobrun_env_build(
    struct jobrun *jr, const struct job_step *s, const struct run_as *ra);
void jobrun_env_free(char **env);

#endif
