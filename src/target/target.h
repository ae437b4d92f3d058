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
#include <openssl/types.h> /* EVP_PKEY: all this header needs of OpenSSL */

#include "common/cerr.h"
#include "common/conf.h"
#include "common/eventrec.h"
#include "common/log.h"

struct event_base;
struct event;
struct tstore;
struct runner;
struct runner_ipc;
struct hclient;
struct hcall;
struct jobrun;
struct run_report;
struct scheduler;
struct lsock;

#define TARGET_MAX_MASTERS 8
/* Finished runs the store refused wait in memory: this many whole, then
 * without their outputs up to TARGET_UNRECORDED_KEPT; past that a run's
 * report is dropped and its ledger row, left "running", is recorded
 * interrupted once the store takes writes again. */
#define TARGET_UNRECORDED_MAX 64
#define TARGET_UNRECORDED_KEPT 4096

/* A run in progress on this target. */
struct active_run {
	int64_t run_id;
	struct jobrun *jr;
	int local; /* a local job's run: not uploaded */
	struct active_run *next;
};

struct target {
	const struct conf *conf;
	struct event_base *base;
	struct tstore *store;
	struct runner *runner;
	/* privilege separation: the runner process until the runner takes
	 * it over (runner_ipc.h) */
	struct runner_ipc *runner_ipc;
	struct hclient *http;

	/* master URLs (conf->master split); the current one is used until
	 * it fails, then the next */
	char *masters[TARGET_MAX_MASTERS];
	int nmasters;
	int master_index;

	int64_t poll_interval_s; /* effective (the master may set it) */

	/* poller */
	struct hcall *poll_call;
	struct event *poll_retry;
	int poll_backoff_s;
	int64_t acks_sent_upto; /* highest ack in the poll in flight */
	int stopped_polling; /* told to stop (gone, renamed) */
	int defecting; /* applied a defect; its ack waits (defect.h) */
	char defect_failed[CERR_MSG_MAX + 64]; /* why the daemon exits 1 */

	/* uploader */
	struct hcall *upload_call;
	struct event *upload_retry;
	int upload_backoff_s;
	size_t upload_budget; /* bytes per upload; 0: UPLOAD_MAX_BYTES */
	int64_t upload_inflight_max_seq;

	/* runs */
	struct active_run *runs;
	struct event *runs_kick; /* zero timer: start queued runs */
	/* A pass of runs_kick that stopped at its bound resumes after this
	 * run id (0: from the oldest queued run); a kick from elsewhere
	 * meanwhile (rescan) has the oldest looked at again afterwards. */
	int64_t runs_after;
	int runs_rescan;
	struct event *reap; /* zero timer: free finished jobruns */
	struct jobrun *finished[64];
	int nfinished;

	/* events.c: daemon errors are forwarded at most once a minute */
	int64_t daemon_error_at;
	int daemon_errors_held;

	struct event *housekeeping; /* prunes the run ledger */
	struct event *sig_term;
	struct event *sig_int;

	/* reliability: reload, local store failures */
	struct conf *live; /* owned copy; conf points here */
	struct event *sig_hup; /* reloads the configuration */
	struct log_limit store_log; /* store failures, once per interval */
	struct log_limit poll_log; /* failed polls, once per interval */
	struct log_limit upload_log; /* failed uploads, once per interval */
	struct log_limit standby_log; /* standby answers, once per interval */
	int apply_stalled; /* a store failure cut the last batch */
	struct unrecorded_run {
		struct run_report *rep;
		int local; /* a local job's run */
	} * unrecorded;
	int nunrecorded; /* finished runs not yet in the store */
	int unrecorded_cap;
	int unrecorded_dropped; /* reports dropped since the last sweep */
	struct event *record_retry; /* writes them, starts queued runs */
	/* scheduling (scheduler.c) and the local control socket (lsock.c) */
	int64_t started_at; /* Unix seconds */
	/* The machine's boot (Unix seconds, /proc/stat), 0 when unknown: a
	 * due instant before it is missed as "target offline". */
	int64_t booted_at;
	struct scheduler *sched;
	struct lsock *lsock;
	/* certificate renewal (renew.c) */
	struct event *renew_timer;
	struct event *renew_swap; /* zero timer: swap files, reconnect */
	struct hcall *renew_call;
	EVP_PKEY *renew_key; /* the new key while its request runs */
};

int target_run(const struct conf *conf, struct cerr *err);

/* The URL of path on the current master ("https://m:8443/v1/poll"). */
void target_url(
    const struct target *t, const char *path, char *out, size_t size);
/* The current master failed: use the next one in the list. */
void target_next_master(struct target *t);
/* When resp is a master's not_active answer (a standby): moves to the
 * active master it names when that one is in the list (returns 2), else,
 * with rotate, to the next one (returns 1); 0 for any other answer. */
struct hresp;
int target_follow(struct target *t, const struct hresp *resp, int rotate);

/* A local store call failed (disk full, I/O): logged once per interval.
 * target_store_ok() after a successful write ends the streak with one
 * "store_recovered" line. */
void target_store_failed(struct target *t, const struct cerr *err);
void target_store_ok(struct target *t);
/* The client certificate changed: remakes the HTTPS client and starts
 * polling and uploading again on it. */
int target_reconnect(struct target *t, struct cerr *err);

/* renew.c: renewing the certificate before it expires */
int renew_recover(const struct conf *c, struct cerr *err);
int renew_start(struct target *t, struct cerr *err);
void renew_stop(struct target *t);

/* poll.c */
int poll_start(struct target *t, struct cerr *err);
void poll_stop(struct target *t);

/* apply.c: applies a batch of instructions in order, each with its ack in
 * the local store; stops at the first failure. */
void apply_batch(struct target *t, const json_t *instructions);

/* runs.c */
void runs_kick(struct target *t);
void runs_stop_job(struct target *t, const char *job, const char *why);
/* Stops only the run that start instruction instr_id made: cancelled
 * before it starts when still queued, else cancelled while it runs. */
void runs_stop_instr(struct target *t, int64_t instr_id, const char *why);
/* Whether a run of job is in progress (started, not ended). */
int runs_running(struct target *t, const char *job);
/* The same, with that run's id and start (UTC ms) when there is one. */
int runs_running_since(
    struct target *t, const char *job, int64_t *run_id, int64_t *started_ms);
/* For a defect (defect.h): every run of a multiserver job ends; whether
 * one has not yet (-1: the store cannot tell). */
void runs_stop_master(struct target *t, const char *why);
int runs_master_busy(struct target *t, struct cerr *err);
int runs_recover(struct target *t, struct cerr *err);
/* Kills what a crashed daemon left running (orphan.h), from the store in
 * conf's state dir: done by a root target before it drops to `user`, since
 * steps that ran as proxy users can only be killed as root. runs_recover()
 * records those runs interrupted later. */
int runs_kill_orphans(const struct conf *conf, struct cerr *err);
void runs_shutdown(struct target *t);

/* upload.c */
void upload_kick(struct target *t);
/* upload_kick from the next loop turn, for callers on a latency path (a
 * step waiting to exec): reading the outbox and building the request
 * would otherwise run before it. */
void upload_kick_soon(struct target *t);
/* A poll was answered: the master is back, so an upload waiting out its
 * backoff from failed attempts goes now, not up to a poll interval later
 * (the history and the master's refusals wait for it). */
void upload_master_answered(struct target *t);
void upload_stop(struct target *t);

/* events.c: the daemon's own events, written to the outbox when at or
 * above event_forward_level (then the upload is kicked); failures are
 * logged. */
void events_raise(struct target *t, enum event_severity severity,
    enum event_kind kind, const char *job, int64_t run_id, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* A daemon error (what failed, and the message) as an error event, at
 * most one a minute; the ones held back are counted in the next. */
void events_daemon_error(struct target *t, const char *what, const char *msg);

#endif
