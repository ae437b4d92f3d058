/*
 * target: the target role's context and entry point. struct target owns
 * the event base, the local store, the HTTPS client, the runner and the
 * runs in progress; the poller (poll.c), the instruction applier
 * (apply.c), the run manager (runs.c) and the uploader (upload.c) all work
 * on it. target_run() returns when SIGTERM or SIGINT arrives.
 */
#ifndef COHORT_TARGET_H
#define COHORT_TARGET_H

#include <stdint.h>

#include <jansson.h>

#include "common/cerr.h"
#include "common/conf.h"

struct event_base;
struct event;
struct tstore;
struct runner;
struct hclient;
struct hcall;
struct jobrun;

#define TARGET_MAX_MASTERS 8

/* A run in progress on this target. */
struct active_run {
	int64_t run_id;
	struct jobrun *jr;
	struct active_run *next;
};

struct target {
	const struct conf *conf;
	struct event_base *base;
	struct tstore *store;
	struct runner *runner;
	struct hclient *http;

	/* master URLs (conf->master split); the current one is used until
	 * it fails, then the next */
	char *masters[TARGET_MAX_MASTERS];
	int nmasters;
	int master_index;

	int64_t poll_interval_s;	/* effective (the master may set it) */

	/* poller */
	struct hcall *poll_call;
	struct event *poll_retry;
	int poll_backoff_s;
	int64_t acks_sent_upto;		/* highest ack in the poll in flight */
	int stopped_polling;		/* told to stop (gone, renamed) */

	/* uploader */
	struct hcall *upload_call;
	struct event *upload_retry;
	int upload_backoff_s;
	int64_t upload_inflight_max_seq;

	/* runs */
	struct active_run *runs;
	struct event *runs_kick;	/* zero timer: start queued runs */
	struct event *reap;		/* zero timer: free finished jobruns */
	struct jobrun *finished[64];
	int nfinished;

	struct event *housekeeping;	/* prunes the run ledger */
	struct event *sig_term;
	struct event *sig_int;
};

int target_run(const struct conf *conf, struct cerr *err);

/* The URL of path on the current master ("https://m:8443/v1/poll"). */
void target_url(const struct target *t, const char *path, char *out,
    size_t size);
/* The current master failed: use the next one in the list. */
void target_next_master(struct target *t);
/* When resp is a master's not_active answer (a standby): moves to the
 * active master it names when that one is in the list (returns 2), else,
 * with rotate, to the next one (returns 1); 0 for any other answer. */
struct hresp;
int target_follow(struct target *t, const struct hresp *resp, int rotate);

/* poll.c */
int poll_start(struct target *t, struct cerr *err);
void poll_stop(struct target *t);

/* apply.c: applies a batch of instructions in order, each with its ack in
 * the local store; stops at the first failure. */
void apply_batch(struct target *t, const json_t *instructions);

/* runs.c */
void runs_kick(struct target *t);
void runs_stop_job(struct target *t, const char *job, const char *why);
int runs_recover(struct target *t, struct cerr *err);
void runs_shutdown(struct target *t);

/* upload.c */
void upload_kick(struct target *t);
void upload_stop(struct target *t);

#endif
