/*
 * tstore: the target's local SQLite store (WAL): its jobs (from the master
 * and local ones), the ledger of its runs, the scheduler's state, the local
 * history, the outbox of records not yet acknowledged by the master, and a
 * few named values (the id of the last instruction applied, the outbox
 * overflow count).
 *
 * The ledger is what makes instructions idempotent: a START instruction
 * becomes a run row keyed by its instruction id, inserted in the same
 * transaction that records the instruction as applied, so a replayed or
 * re-downloaded START can never start a second run.
 *
 * Single-threaded use. Listing callbacks borrow their arguments.
 */
#ifndef COHORT_TSTORE_H
#define COHORT_TSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/cerr.h"

struct tstore;

int tstore_open(const char *path, struct tstore **out, struct cerr *err);
void tstore_close(struct tstore *s);

int tstore_begin(struct tstore *s, struct cerr *err);
int tstore_commit(struct tstore *s, struct cerr *err);
/* Begins a transaction whose commit does not wait for the disk: the
 * write survives a crash of the daemon (it is in the kernel's page cache)
 * but may be lost at a power cut, and is made durable by the next synced
 * commit (the log is written in order). Only for writes whose loss at a
 * power cut is harmless: what they record is re-derived at the next
 * start, or describes processes a power cut has killed anyway. */
int tstore_begin_unsynced(struct tstore *s, struct cerr *err);
void tstore_rollback(struct tstore *s);

/* ---- named values ---- */
int tstore_meta_get_int(struct tstore *s, const char *key, int64_t dflt,
    int64_t *out, struct cerr *err);
int tstore_meta_set_int(
    struct tstore *s, const char *key, int64_t value, struct cerr *err);

/* ---- jobs ---- */
enum job_origin { ORIGIN_MASTER, ORIGIN_LOCAL };

/* Creates or replaces. CERR_CONFLICT when a job of that name exists with
 * the other origin (a master job never replaces a local one or back). */
int tstore_job_put(struct tstore *s, const char *name, enum job_origin origin,
    const char *doc, int64_t now, struct cerr *err);
/* *doc_out is the caller's to free. CERR_NOT_FOUND when absent. */
int tstore_job_get(struct tstore *s, const char *name, char **doc_out,
    enum job_origin *origin_out, struct cerr *err);
/* Deletes if present with that origin; absent is not an error (so a
 * DELETE instruction applies twice harmlessly). *deleted_out may be NULL. */
int tstore_job_delete(struct tstore *s, const char *name,
    enum job_origin origin, int *deleted_out, struct cerr *err);
int tstore_job_delete_origin(
    struct tstore *s, enum job_origin origin, struct cerr *err);
typedef int (*tstore_job_cb)(
    void *arg, const char *name, enum job_origin origin, const char *doc);
int tstore_job_list(
    struct tstore *s, tstore_job_cb cb, void *arg, struct cerr *err);

/* ---- the run ledger ---- */
enum trun_state { TRUN_QUEUED, TRUN_RUNNING, TRUN_FINISHED };

/* Adds a queued run of job; local: a local job's (its origin is kept
 * with the run, whatever becomes of the job). instr_id > 0 (a START) or
 * due_at > 0 (a scheduled instant) identifies it: when a run with that
 * instr_id, or that (job, due_at), exists already, nothing is added,
 * *existed_out is 1 and *run_id_out is the existing run. */
int tstore_run_add(struct tstore *s, const char *job, int local,
    int64_t instr_id, int64_t due_at, int64_t now, int64_t *run_id_out,
    int *existed_out, struct cerr *err);
/* outcome: a run_outcome name, or "" while not finished. */
int tstore_run_set_state(struct tstore *s, int64_t run_id,
    enum trun_state state, const char *outcome, int64_t now, struct cerr *err);
/* A row of the run ledger, as listed. */
struct tstore_run {
	int64_t run_id;
	const char *job;
	int local; /* a local job's run */
	int64_t instr_id;
	int64_t
	    due_at; /* the scheduled instant (s), 0 for a START or a manual run */
	int64_t created_at;
	/* when it was marked running (UTC ms), as its running record
	 * says; 0 while queued */
	int64_t started_ms;
};
typedef int (*tstore_run_cb)(void *arg, const struct tstore_run *row);
/* Runs in a state with an id above after_run_id, oldest first. */
int tstore_run_list_after(struct tstore *s, enum trun_state state,
    int64_t after_run_id, tstore_run_cb cb, void *arg, struct cerr *err);
/* Runs in a state, oldest first. */
int tstore_run_list_state(struct tstore *s, enum trun_state state,
    tstore_run_cb cb, void *arg, struct cerr *err);
/* The queued or running run of job with the lowest id, or 0. */
int tstore_run_active(
    struct tstore *s, const char *job, int64_t *run_id_out, struct cerr *err);
/* The run of job that holds scheduled instant due_at (> 0), in any
 * state, or 0: the key tstore_run_add() deduplicates by. */
int tstore_run_by_due(struct tstore *s, const char *job, int64_t due_at,
    int64_t *run_id_out, struct cerr *err);

/* The process group of the run's current step and its leader's start
 * time (orphan.h), recorded before the step may exec. CERR_NOT_FOUND when
 * the run is absent; get gives 0s when none was recorded. */
int tstore_run_set_pgid(struct tstore *s, int64_t run_id, int64_t pgid,
    int64_t start_ticks, struct cerr *err);
int tstore_run_get_pgid(struct tstore *s, int64_t run_id, int64_t *pgid_out,
    int64_t *start_ticks_out, struct cerr *err);
/* The run's start (UTC ms), written when it is marked running. */
int tstore_run_set_started(
    struct tstore *s, int64_t run_id, int64_t started_ms, struct cerr *err);

/* ---- a running run's step attempts (tstore_steps.c) ----
 * What a run found "running" at start-up is recorded with: each attempt
 * is put when it spawns (outcome "running") and again when it ends,
 * without its output (that goes with the run's end). Rows are keyed by
 * (run, step, attempt), so putting one twice keeps one; they are
 * deleted when the run ends. */
struct tstore_step {
	int step;
	int attempt;
	const char *step_name;
	const char *outcome; /* a run_outcome name; "running" until it ends */
	int exit_code;
	int64_t started_ms;
	int64_t duration_ms;
	const char *message;
};
int tstore_step_put(struct tstore *s, int64_t run_id,
    const struct tstore_step *row, struct cerr *err);
typedef int (*tstore_step_cb)(void *arg, const struct tstore_step *row);
/* The run's attempts in the order they started. */
int tstore_step_list(struct tstore *s, int64_t run_id, tstore_step_cb cb,
    void *arg, struct cerr *err);
int tstore_step_delete(struct tstore *s, int64_t run_id, struct cerr *err);

/* How many runs of job are queued or running. */
int tstore_run_count_active(
    struct tstore *s, const char *job, int64_t *count_out, struct cerr *err);

/* Deletes finished runs last changed before finished_before. Their ids
 * can no longer collide: instructions at or below the last applied id are
 * never applied again, and due instants that old never come back. */
int tstore_run_prune(
    struct tstore *s, int64_t finished_before, struct cerr *err);

/* ---- the scheduler's state ----
 * One row per (job, schedule), so that due instants are neither run twice
 * nor forgotten across restarts (scheduler.c). */
struct tstore_sched {
	int64_t def_hash; /* of the schedule's canonical form */
	int64_t cursor; /* due instants at or before it are handled */
	int paused; /* the job was disabled at cursor */
	/* due instants refused for overlap, not yet recorded: count 0 none */
	int64_t miss_first, miss_last, miss_count;
};

/* *found_out is 0 (and *out zeroed) when there is no row. */
int tstore_sched_get(struct tstore *s, const char *job, const char *schedule,
    struct tstore_sched *out, int *found_out, struct cerr *err);
int tstore_sched_put(struct tstore *s, const char *job, const char *schedule,
    const struct tstore_sched *row, struct cerr *err);
typedef int (*tstore_sched_cb)(void *arg, const char *job, const char *schedule,
    const struct tstore_sched *row);
int tstore_sched_list(
    struct tstore *s, tstore_sched_cb cb, void *arg, struct cerr *err);
/* Absent is not an error. */
int tstore_sched_delete(
    struct tstore *s, const char *job, const char *schedule, struct cerr *err);

/* ---- the local history ----
 * One row per finished job run (and per missed-run record) of master and
 * local jobs: the run report as JSON. Local jobs' runs are only here; the
 * master's jobs' runs are also uploaded. Rows are keyed by the ledger's
 * run id, so recording a run twice keeps one row. */
struct tstore_hist_row {
	int64_t run_id;
	const char *job;
	int local; /* a local job's run */
	const char *outcome; /* a run_outcome name */
	int64_t started_ms;
	int64_t duration_ms;
	const char *report; /* run_report_to_json() text */
};

int tstore_hist_add(
    struct tstore *s, const struct tstore_hist_row *row, struct cerr *err);
typedef int (*tstore_hist_cb)(void *arg, const struct tstore_hist_row *row);
/* Newest first (by run id), of job (NULL: every job), at most limit (> 0). */
int tstore_hist_list(struct tstore *s, const char *job, int64_t limit,
    tstore_hist_cb cb, void *arg, struct cerr *err);
/* Keeps job's newest keep runs (0: no count limit) and drops its runs
 * that started before before_ms (0: no age limit). */
int tstore_hist_trim_job(struct tstore *s, const char *job, int64_t keep,
    int64_t before_ms, struct cerr *err);
/* Keeps the newest keep rows in all. */
int tstore_hist_trim(struct tstore *s, int64_t keep, struct cerr *err);

/* ---- acknowledgements ----
 * The outcome of each applied (or failed) instruction, written in the same
 * transaction as its effect and sent with every poll until the master has
 * answered a poll that carried it; so an ack survives a crash. Adding the
 * same id twice keeps the first. */
int tstore_ack_add(
    struct tstore *s, int64_t id, int ok, const char *error, struct cerr *err);
typedef int (*tstore_ack_cb)(void *arg, int64_t id, int ok, const char *error);
/* The oldest `limit` acks, in id order. */
int tstore_ack_list(
    struct tstore *s, int limit, tstore_ack_cb cb, void *arg, struct cerr *err);
int tstore_ack_delete_upto(struct tstore *s, int64_t id, struct cerr *err);

/* ---- the outbox ---- */
/* Sets *out to a copy of record body without its outputs (the caller
 * frees it), or to NULL when there is nothing to take out (not a run, no
 * output worth a marker). -1 with err set when it cannot tell (out of
 * memory). The store knows no record's format; the target does
 * (outbox_bound.h). */
typedef int (*tstore_outbox_strip_cb)(
    const char *kind, const char *body, char **out, struct cerr *err);

/* What bounds the outbox: records held, and their bodies' bytes in all. */
struct tstore_outbox_bounds {
	int64_t max_items; /* >= 1 */
	int64_t max_bytes; /* >= 1 */
	tstore_outbox_strip_cb strip; /* NULL: records only go whole */
};

/* Appends a record; it is kept whole, whatever its size. When
 * max_items are held already, the oldest record is dropped. When the
 * bodies would go over max_bytes, the oldest records lose their outputs
 * (b->strip), oldest first, until the new one fits; only when that is
 * not enough, even with the new record counted without its outputs, are
 * the oldest records dropped whole. Every record dropped counts in
 * "outbox_dropped": bounded, never silent. A record keeps its outcome
 * while only outputs need to go. */
int tstore_outbox_add(struct tstore *s, const char *kind, const char *body,
    const struct tstore_outbox_bounds *b, int64_t now, struct cerr *err);
typedef int (*tstore_outbox_cb)(
    void *arg, int64_t seq, const char *kind, const char *body);
/* The oldest `limit` records, in order. */
int tstore_outbox_peek(struct tstore *s, int limit, tstore_outbox_cb cb,
    void *arg, struct cerr *err);
/* Deletes the records with these seqs (acknowledged by the master);
 * unknown seqs are ignored. */
int tstore_outbox_delete(
    struct tstore *s, const int64_t *seqs, size_t n, struct cerr *err);
int tstore_outbox_stats(struct tstore *s, int64_t *count_out,
    int64_t *dropped_out, struct cerr *err);
/* The highest seq in the outbox, 0 when it is empty: a poll tells the
 * master how far its uploads must reach before its history is complete
 * for this target (master/outbox_seen.h). */
int tstore_outbox_last_seq(
    struct tstore *s, int64_t *seq_out, struct cerr *err);
/* The bytes of the records' bodies, in all (what max_bytes bounds). */
int tstore_outbox_bytes(struct tstore *s, int64_t *bytes_out, struct cerr *err);

/* Defecting: everything bound to the master goes, in one transaction:
 * its jobs, the runs of them still queued (canceled), the acks, the
 * outbox (*outbox_left says how many records were still in it), the
 * last instruction applied and the poll interval it set. A master
 * enlisted with later starts from nothing. Local jobs, their runs and
 * the local history stay. */
int tstore_forget_master(
    struct tstore *s, int64_t *outbox_left, struct cerr *err);

#endif
