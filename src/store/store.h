/*
 * store: everything the master keeps, behind one interface. Callers use
 * only the store_*() functions below; each backend (store_sqlite*.c,
 * store_pg*.c) fills a struct store_ops table, and store.c dispatches. So a
 * PostgreSQL backend is added without touching a caller.
 *
 * Rules every backend keeps:
 * - Single-threaded use: one caller at a time per struct store.
 * - Every write runs in a transaction; store_begin()/store_commit() group
 *   several calls into one (posting a job to N targets is one commit).
 *   Without an explicit transaction each call commits on its own.
 * - Times are Unix seconds (int64, UTC) unless the name says _ms.
 * - Listing calls stream rows to a callback; a callback returning non-zero
 *   stops the listing early (the call still returns 0). Row structs passed
 *   to a callback are borrowed for the duration of the call only.
 * - Errors: CERR_NOT_FOUND, CERR_CONFLICT, CERR_TOKEN as documented per
 *   call; CERR_STORE for backend failures (disk full, I/O, busy), with the
 *   backend's message.
 */
#ifndef COHORT_STORE_H
#define COHORT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/cerr.h"
#include "common/eventrec.h"
#include "common/wire.h"

#define STORE_NAME_MAX 128
#define STORE_TEXT_MAX 512

struct store;

/* Opens (creating and migrating the schema as needed) the store that spec
 * names: a file path (SQLite, WAL mode) or a postgresql:// URL. */
int store_open(const char *spec, struct store **out, struct cerr *err);
void store_close(struct store *s);

int store_begin(struct store *s, struct cerr *err);
int store_commit(struct store *s, struct cerr *err);
/* Never fails from the caller's view; logs if the backend complains. */
void store_rollback(struct store *s);

/* ---- targets ------------------------------------------------------- */

struct store_target {
	char name[STORE_NAME_MAX + 1];
	char location[STORE_TEXT_MAX];
	char version[32];
	char cert_serial[80]; /* hex, of the current certificate */
	int64_t enlisted_at;
	int64_t last_poll; /* 0: never polled */
	int64_t local_time; /* target's clock at last_poll */
	int32_t tz_offset_s; /* target's UTC offset at last_poll */
	int32_t poll_interval_s;
	int defected; /* 1 once defected (row kept) */
	/* Filled by store_target_get/list only: */
	int64_t unread; /* instructions pending or downloaded */
	int64_t failed; /* failed and not cleared */
	int64_t outbox_dropped; /* target's outbox overflow count,
					 * as of its last poll */
};

/* CERR_CONFLICT when a target of that name exists and is not defected;
 * a defected row of that name is replaced (enlisting again after defect). */
int store_target_add(
    struct store *s, const struct store_target *t, struct cerr *err);
/* CERR_NOT_FOUND when absent. */
int store_target_get(struct store *s, const char *name,
    struct store_target *out, struct cerr *err);
typedef int (*store_target_cb)(void *arg, const struct store_target *t);
/* In name order. */
int store_target_list(
    struct store *s, store_target_cb cb, void *arg, struct cerr *err);

struct store_poll {
	int64_t now;
	int64_t local_time;
	int32_t tz_offset_s;
	int32_t poll_interval_s;
	const char *version;
	int64_t outbox_dropped; /* records the target had to drop */
};
/* Records a poll. CERR_NOT_FOUND when the target row is gone. */
int store_target_polled(struct store *s, const char *name,
    const struct store_poll *p, struct cerr *err);
/* Marks the target defected (its row stays, for the record) and takes it
 * out of every job's aim and every group. CERR_NOT_FOUND when absent. */
int store_target_set_defected(
    struct store *s, const char *name, int64_t now, struct cerr *err);
int store_target_set_location(
    struct store *s, const char *name, const char *location, struct cerr *err);
/* Removes the target, its job aims, its group memberships and its
 * instructions; history rows stay. CERR_NOT_FOUND when absent. */
int store_target_delete(struct store *s, const char *name, struct cerr *err);

/* ---- enlistment tokens (only a hash of the secret is kept) ---------- */

int store_token_add(struct store *s, const char *target, const char *hash_hex,
    int64_t now, int64_t expires_at, struct cerr *err);
/* Marks the token used, once. CERR_TOKEN with a message saying which:
 * unknown (no such token for this name), already used, or expired. */
int store_token_use(struct store *s, const char *target, const char *hash_hex,
    int64_t now, struct cerr *err);

/* ---- certificate revocation ----------------------------------------- */

int store_revoke(struct store *s, const char *serial_hex, const char *name,
    int64_t now, struct cerr *err);
typedef int (*store_serial_cb)(void *arg, const char *serial_hex);
int store_revoked_list(
    struct store *s, store_serial_cb cb, void *arg, struct cerr *err);

/* ---- jobs ------------------------------------------------------------ */

struct store_job {
	char name[STORE_NAME_MAX + 1];
	const char *doc; /* canonical JSON document */
	int64_t created_at;
	int64_t updated_at;
};

/* Creates or replaces; *created_out (may be NULL) says which. */
int store_job_put(struct store *s, const char *name, const char *doc,
    int64_t now, int *created_out, struct cerr *err);
typedef int (*store_job_cb)(void *arg, const struct store_job *j);
/* Calls cb once with the job; CERR_NOT_FOUND when absent. */
int store_job_get(struct store *s, const char *name, store_job_cb cb, void *arg,
    struct cerr *err);
int store_job_list(
    struct store *s, store_job_cb cb, void *arg, struct cerr *err);
/* Removes the job and its aims; CERR_NOT_FOUND when absent. */
int store_job_delete(struct store *s, const char *name, struct cerr *err);

/* A job's resolved aim: the targets it is posted to. */
typedef int (*store_name_cb)(void *arg, const char *name);
int store_job_targets_set(struct store *s, const char *job,
    const char *const *targets, size_t n, struct cerr *err);
int store_job_targets_list(struct store *s, const char *job, store_name_cb cb,
    void *arg, struct cerr *err);
/* The jobs aimed at a target, in name order. */
int store_target_jobs_list(struct store *s, const char *target,
    store_name_cb cb, void *arg, struct cerr *err);

/* ---- the download list ------------------------------------------------ */

struct store_instr {
	int64_t id; /* monotonic per target (and overall) */
	char target[STORE_NAME_MAX + 1];
	enum instr_op op;
	char object[STORE_NAME_MAX + 1]; /* job name, or "" */
	const char *payload; /* JSON text, or "" */
	enum instr_status status;
	int cleared; /* a failed one an admin cleared */
	int64_t posted_at;
	int64_t downloaded_at; /* 0: not yet */
	int64_t applied_at; /* 0: not yet (set for failed too) */
	const char *error; /* the target's error, or "" */
	/* START only: the job runs the history was sent for it (refusals
	 * included), counted as they arrive, so retention and purges of
	 * the history leave it alone (schema: a trigger on the runs); -1:
	 * applied before the store counted, and none has come since. */
	int64_t runs;
	/* The lease epoch of the master that posted it (the fence it wrote
	 * under); 0 before the store kept it, or posted without a lease. */
	int64_t epoch;
};

int store_instr_post(struct store *s, const char *target, enum instr_op op,
    const char *object, const char *payload, int64_t now, int64_t *id_out,
    struct cerr *err);
typedef int (*store_instr_cb)(void *arg, const struct store_instr *in);
/* The target's next instructions: pending or downloaded, id > after_id,
 * in id order, at most limit; marks each downloaded (downloaded_at = now
 * the first time). Returns none while the target has a failed, uncleared
 * instruction (order is preserved: nothing after a failure is applied). */
int store_instr_fetch(struct store *s, const char *target, int64_t after_id,
    int limit, int64_t now, store_instr_cb cb, void *arg, struct cerr *err);
/* Records the target's outcome for one of its own instructions. Applying
 * an ack twice is harmless; an ack for an unknown id or another target's
 * instruction is CERR_NOT_FOUND. error is "" when ok. first_op (may be
 * NULL) is the instruction's operation when this ack recorded its first
 * outcome, INSTR_OP_COUNT when it repeated one: an effect the master ties
 * to an ack (a defect) happens once. */
int store_instr_ack(struct store *s, const char *target, int64_t id, int ok,
    const char *error, int64_t now, enum instr_op *first_op, struct cerr *err);

/* A filter's status for the open instructions: pending or downloaded,
 * the ones the target has not acknowledged yet. */
#define STORE_INSTR_OPEN (-2)
struct store_instr_filter {
	const char *target; /* NULL: all */
	int status; /* -1: all, STORE_INSTR_OPEN, else enum instr_status */
	int64_t limit; /* 0: no limit */
};
/* Newest first. */
int store_instr_list(struct store *s, const struct store_instr_filter *f,
    store_instr_cb cb, void *arg, struct cerr *err);
/* Marks a failed instruction cleared (the target is no longer blocked by
 * it). CERR_NOT_FOUND, or CERR_CONFLICT when it is not failed. */
int store_instr_clear(struct store *s, int64_t id, struct cerr *err);
/* Calls cb once with instruction id; CERR_NOT_FOUND when there is none
 * (never posted, dropped by a resync, or trimmed once applied). */
int store_instr_get(struct store *s, int64_t id, store_instr_cb cb, void *arg,
    struct cerr *err);
/* Deletes instruction id if it is still open (pending or downloaded, so
 * never applied): 1 when it was, 0 when it is not open (or gone). */
int store_instr_withdraw(struct store *s, int64_t id, struct cerr *err);
/* Marks every pending/downloaded instruction of target cleared-away
 * (deleted) and every failed one cleared: the first half of a resync. */
int store_instr_drop_pending(
    struct store *s, const char *target, struct cerr *err);
/* Keeps the newest `keep` applied instructions per target; older applied
 * ones are deleted. */
int store_instr_trim(struct store *s, int64_t keep, struct cerr *err);

/* ---- history ---------------------------------------------------------- */

struct store_run {
	int64_t run_id; /* the master's id; 0 when writing */
	char target[STORE_NAME_MAX + 1];
	int64_t target_run_id; /* the target's id of the job run */
	char job[STORE_NAME_MAX + 1];
	int step; /* 0: the job's own row; else 1-based */
	int attempt; /* 1-based; 0 for the job row */
	char step_name[STORE_NAME_MAX + 1];
	enum run_outcome outcome;
	int exit_code; /* -1 when there is none */
	int64_t started_at_ms; /* UTC */
	int32_t tz_offset_s; /* target's offset at start */
	int64_t duration_ms;
	int64_t instr_id; /* the START instruction, 0: scheduled */
	const char *message;
	const char *output; /* captured output ("" for none) */
};

/* Creates or updates the row keyed by (target, target_run_id, step,
 * attempt): uploading the same outcome twice leaves one row. */
int store_run_put(struct store *s, const struct store_run *r, struct cerr *err);

struct store_run_filter {
	const char *job; /* NULL: all */
	const char *target; /* NULL: all */
	int outcome; /* -1: all */
	int64_t since_ms, until_ms; /* 0: unbounded */
	int job_rows_only; /* only step 0 rows */
	/* The filters and the limit choose job runs by their job row (step
	 * 0); every row of each chosen run is listed. */
	int whole_runs;
	int64_t limit; /* 0: no limit */
	int64_t target_run_id; /* 0: all; else one job run of target */
	int without_output; /* output read as "": listings that show none */
};
typedef int (*store_run_cb)(void *arg, const struct store_run *r);
/* Newest first (started_at_ms, then run_id). */
int store_run_list(struct store *s, const struct store_run_filter *f,
    store_run_cb cb, void *arg, struct cerr *err);
/* Retention: at most max_per_job job runs per job (their step rows go with
 * them) and max_rows rows in all, oldest removed first. */
int store_history_trim(
    struct store *s, int64_t max_rows, int64_t max_per_job, struct cerr *err);
/* Removes the job runs (the step-0 row and all its step rows) of job
 * (NULL: every job) that started before before_ms (0: at any time);
 * *deleted_out (may be NULL) counts the job runs removed. */
int store_history_purge(struct store *s, const char *job, int64_t before_ms,
    int64_t *deleted_out, struct cerr *err);
/* Keeps the newest keep job runs of job (a job's own limit); older ones
 * go with their step rows. */
int store_history_trim_job(
    struct store *s, const char *job, int64_t keep, struct cerr *err);

/* ---- target groups ----------------------------------------------------- */

/* CERR_CONFLICT when the group exists. */
int store_group_create(
    struct store *s, const char *name, int64_t now, struct cerr *err);
/* Removes the group and its memberships; CERR_NOT_FOUND when absent. */
int store_group_delete(struct store *s, const char *name, struct cerr *err);
/* Adds target to group. CERR_NOT_FOUND when either is absent; adding a
 * member twice is harmless (*added_out, may be NULL, says 0). */
int store_group_add(struct store *s, const char *group, const char *target,
    int *added_out, struct cerr *err);
/* CERR_NOT_FOUND when target is not a member. */
int store_group_remove(
    struct store *s, const char *group, const char *target, struct cerr *err);
/* Groups in name order. */
int store_group_list(
    struct store *s, store_name_cb cb, void *arg, struct cerr *err);
/* Members in name order; CERR_NOT_FOUND when the group is absent. */
int store_group_members(struct store *s, const char *group, store_name_cb cb,
    void *arg, struct cerr *err);

/* ---- scale-out: workers and their executions (PRODUCT.md section 6) ---- */

/* A worker is an enlisted target that said so in its polls (worker = yes
 * in its cohortd.conf). Its row goes with the target's. */
struct store_worker {
	char name[STORE_NAME_MAX + 1]; /* the target's name */
	int enabled; /* new workers start disabled */
	int64_t max_tasks; /* executions it takes at once */
	int64_t registered_at;
	int64_t active; /* its executions now assigned or running */
};
typedef int (*store_worker_cb)(void *arg, const struct store_worker *w);

/* Records that target name is a worker taking max_tasks at once: on the
 * first call a new, disabled worker (*created_out 1, may be NULL), after
 * that max_tasks is updated. CERR_NOT_FOUND when no such target. */
int store_worker_seen(struct store *s, const char *name, int64_t max_tasks,
    int64_t now, int *created_out, struct cerr *err);
/* CERR_NOT_FOUND when name is not a worker. */
int store_worker_set_enabled(
    struct store *s, const char *name, int enabled, struct cerr *err);
/* Every worker in name order, with active counted. */
int store_worker_list(
    struct store *s, store_worker_cb cb, void *arg, struct cerr *err);

#define STORE_PIN_MAX 8192 /* pinned workers: JSON array text */

/* One queued execution of a job, run by exactly one worker. */
struct store_exec {
	int64_t id; /* monotonic */
	char job[STORE_NAME_MAX + 1];
	char pin_group[STORE_NAME_MAX + 1]; /* "" or a group */
	const char *pin_workers; /* "" or a JSON array of names */
	int64_t retries; /* re-runs allowed after a failure or lost lease */
	int64_t attempt; /* 0 until first assigned */
	enum exec_status status;
	char worker[STORE_NAME_MAX + 1]; /* the current attempt's, or "" */
	int64_t instr_id; /* the current attempt's start instruction, or 0 */
	const char *reason; /* why it waits, or how it ended; "";
			     * at most 4,096 bytes */
	char submitted_by[STORE_NAME_MAX + 1];
	int64_t submitted_at;
	int64_t assigned_at; /* 0: not yet (each attempt sets it anew) */
	int64_t started_at; /* 0: not yet */
	int64_t finished_at; /* 0: not yet */
};
typedef int (*store_exec_cb)(void *arg, const struct store_exec *e);

/* Adds e (its id, attempt, worker, instr_id and times but submitted_at
 * ignored: a new execution is queued) and gives its id. */
int store_exec_add(struct store *s, const struct store_exec *e, int64_t *id_out,
    struct cerr *err);
/* Writes attempt, status, worker, instr_id, reason and the assigned,
 * started and finished times of execution e->id (the rest never
 * changes). CERR_NOT_FOUND when no such id. */
int store_exec_update(
    struct store *s, const struct store_exec *e, struct cerr *err);
/* Calls cb once; CERR_NOT_FOUND when no such id. */
int store_exec_get(
    struct store *s, int64_t id, store_exec_cb cb, void *arg, struct cerr *err);
#define STORE_EXECS_ALL (-1) /* every one, newest first */
#define STORE_EXECS_OPEN (-2) /* queued, assigned, running: oldest first */
/* which: STORE_EXECS_ALL, STORE_EXECS_OPEN, or an enum exec_status: that
 * status only, open ones oldest first (the queue's order), ended ones
 * newest first. At most limit (1..100000). */
int store_exec_list(struct store *s, int which, int64_t limit, store_exec_cb cb,
    void *arg, struct cerr *err);
/* The assigned or running execution whose current attempt is worker's
 * start instruction instr_id: cb called once, or not at all when none. */
int store_exec_by_instr(struct store *s, const char *worker, int64_t instr_id,
    store_exec_cb cb, void *arg, struct cerr *err);
/* Deletes the oldest ended (succeeded, failed) executions beyond keep;
 * *deleted_out (may be NULL) counts them. */
int store_exec_trim(
    struct store *s, int64_t keep, int64_t *deleted_out, struct cerr *err);

/* ---- issued certificates (security) ----------------------------------- */

struct store_cert {
	char serial_hex[80];
	char name[STORE_NAME_MAX + 1];
	char role[16]; /* admin, operator, viewer, target */
	int64_t issued_at;
	int64_t not_after; /* 0: unknown (recorded before v2) */
	/* Filled by store_cert_get/list only, from the revocations: */
	int64_t revoked_at; /* 0: not revoked */
};

/* Records a certificate the master issued. CERR_CONFLICT when that serial
 * is recorded already. */
int store_cert_add(
    struct store *s, const struct store_cert *c, struct cerr *err);
/* CERR_NOT_FOUND when no issued certificate has that serial. */
int store_cert_get(struct store *s, const char *serial_hex,
    struct store_cert *out, struct cerr *err);
typedef int (*store_cert_cb)(void *arg, const struct store_cert *c);
/* In issue order (issued_at, then serial); name NULL: every name. */
int store_cert_list(struct store *s, const char *name, store_cert_cb cb,
    void *arg, struct cerr *err);
/* Records the serial of a target's new certificate (rotation).
 * CERR_NOT_FOUND when the target is absent. */
int store_target_set_serial(struct store *s, const char *name,
    const char *serial_hex, struct cerr *err);

/* ---- audit log (security) -------------------------------------------- */

struct store_audit {
	int64_t id; /* assigned; 0 when writing */
	int64_t at_ms; /* UTC */
	char who[STORE_NAME_MAX + 1]; /* certificate name ("" anonymous) */
	char role[16]; /* its role, or "anonymous" */
	char serial_hex[80]; /* its serial, or "" */
	char method[8]; /* GET, POST, PUT, DELETE */
	char path[STORE_TEXT_MAX];
	char object[STORE_TEXT_MAX]; /* what the call named, or "" */
	int status; /* the HTTP status of the answer */
	char code[32]; /* "ok" or the error code's wire name */
};

int store_audit_add(
    struct store *s, const struct store_audit *a, struct cerr *err);
struct store_audit_filter {
	int64_t since_ms; /* 0: unbounded */
	int64_t limit; /* 0: no limit */
};
typedef int (*store_audit_cb)(void *arg, const struct store_audit *a);
/* Newest first. */
int store_audit_list(struct store *s, const struct store_audit_filter *f,
    store_audit_cb cb, void *arg, struct cerr *err);
/* Keeps the newest max_rows entries. */
int store_audit_trim(struct store *s, int64_t max_rows, struct cerr *err);
/* ---- job view: the last outcome per target ------------------------------ */

/* For job: the newest finished job row (step 0, outcome not running) of
 * each target that has one, in target order. */
int store_run_last_per_target(struct store *s, const char *job, store_run_cb cb,
    void *arg, struct cerr *err);

/* ---- forwarded events ---------------------------------------------------- */

struct store_event {
	int64_t id; /* the master's id; 0 when adding */
	char target[STORE_NAME_MAX + 1];
	char event_id[EVENTREC_ID_LEN + 1]; /* the target's id of it */
	int64_t time_ms; /* UTC, on the target's clock */
	enum event_severity severity;
	enum event_kind kind;
	char job[STORE_NAME_MAX + 1]; /* "" when none */
	int64_t target_run_id; /* 0 when none */
	const char *message; /* at most EVENTREC_MESSAGE_MAX bytes */
	int64_t received_at;
};

/* Stores an event. The same (target, event_id) again keeps the first;
 * *added_out (may be NULL) says whether this call added it. */
int store_event_add(struct store *s, const struct store_event *e,
    int *added_out, struct cerr *err);

struct store_event_filter {
	const char *target; /* NULL: all */
	int min_severity; /* -1: all, else at or above */
	int64_t limit; /* 0: no limit */
};
typedef int (*store_event_cb)(void *arg, const struct store_event *e);
/* Newest first (in the order they arrived). */
int store_event_list(struct store *s, const struct store_event_filter *f,
    store_event_cb cb, void *arg, struct cerr *err);
/* Keeps the newest `keep` events. */
int store_event_trim(struct store *s, int64_t keep, struct cerr *err);

/* ---- operators (who is notified, and how) -------------------------------- */

#define STORE_ADDRESS_MAX 4096

enum operator_kind {
	OPERATOR_LOG, /* a line in the master's log */
	OPERATOR_WEBHOOK, /* POST of the JSON to a URL */
	OPERATOR_EMAIL, /* through the local sendmail */
	OPERATOR_COMMAND, /* a command run by /bin/sh -c */
	OPERATOR_KIND_COUNT
};

/* "log", "webhook", "email", "command". */
const char *store_operator_kind_name(enum operator_kind k);
int store_operator_kind_parse(const char *name, enum operator_kind *out);

struct store_operator {
	char name[STORE_NAME_MAX + 1];
	enum operator_kind kind;
	const char *address; /* URL, address or command; "" for log */
	int is_default; /* the one default operator */
	int64_t created_at;
};

/* CERR_CONFLICT when the name exists. With is_default the new operator
 * becomes the only default. */
int store_operator_add(
    struct store *s, const struct store_operator *op, struct cerr *err);
typedef int (*store_operator_cb)(void *arg, const struct store_operator *op);
/* Calls cb once; CERR_NOT_FOUND when absent. */
int store_operator_get(struct store *s, const char *name, store_operator_cb cb,
    void *arg, struct cerr *err);
/* Calls cb with the default operator; CERR_NOT_FOUND when there is none. */
int store_operator_get_default(
    struct store *s, store_operator_cb cb, void *arg, struct cerr *err);
/* In name order. */
int store_operator_list(
    struct store *s, store_operator_cb cb, void *arg, struct cerr *err);
/* Makes name the only default; CERR_NOT_FOUND when absent. */
int store_operator_set_default(
    struct store *s, const char *name, struct cerr *err);
/* CERR_NOT_FOUND when absent, CERR_CONFLICT when it is the default
 * (another must become the default first). Its notifications stay. */
int store_operator_delete(struct store *s, const char *name, struct cerr *err);

/* ---- notifications and their delivery ------------------------------------ */

#define STORE_KEY_MAX 200

enum delivery_status {
	DELIVERY_PENDING,
	DELIVERY_DELIVERED,
	DELIVERY_FAILED,
	DELIVERY_STATUS_COUNT
};

/* "pending", "delivered", "failed". */
const char *store_delivery_status_name(enum delivery_status st);
int store_delivery_status_parse(const char *name, enum delivery_status *out);

struct store_notification {
	int64_t id; /* the master's id; 0 when adding */
	/* What it is about, once: "run:<target>:<run>", "event:<target>:<id>".
	 * A second notification with the same key is not added. */
	char key[STORE_KEY_MAX + 1];
	char operator_name[STORE_NAME_MAX + 1];
	char subject[STORE_TEXT_MAX];
	const char *payload; /* JSON text */
	enum delivery_status status;
	int attempts; /* made so far */
	int64_t next_at; /* pending: when the next attempt is due */
	const char *last_error; /* of the last failed attempt, or "" */
	int64_t created_at;
	int64_t updated_at; /* last attempt (or creation) */
};

/* Adds a pending notification due at n->next_at. The same key again keeps
 * the first; *added_out (may be NULL) says whether this call added it. */
int store_notification_add(struct store *s, const struct store_notification *n,
    int *added_out, struct cerr *err);
typedef int (*store_notification_cb)(
    void *arg, const struct store_notification *n);
/* Pending notifications due at now or earlier, earliest first, at most
 * limit. */
int store_notification_due(struct store *s, int64_t now, int limit,
    store_notification_cb cb, void *arg, struct cerr *err);
/* The earliest next_at of any pending notification; *found_out 0 when
 * there is none. */
int store_notification_next_due(
    struct store *s, int64_t *next_at_out, int *found_out, struct cerr *err);
/* Records an attempt (or a claim on one: a pending row with a later
 * next_at). CERR_NOT_FOUND when absent. */
int store_notification_update(struct store *s, int64_t id,
    enum delivery_status status, int attempts, int64_t next_at,
    const char *last_error, int64_t now, struct cerr *err);

struct store_notification_filter {
	const char *operator_name; /* NULL: all */
	int status; /* -1: all, else enum delivery_status */
	int64_t limit; /* 0: no limit */
};
/* Newest first. */
int store_notification_list(struct store *s,
    const struct store_notification_filter *f, store_notification_cb cb,
    void *arg, struct cerr *err);
/* Keeps the newest `keep` delivered or failed notifications; pending ones
 * always stay. */
int store_notification_trim(struct store *s, int64_t keep, struct cerr *err);

#endif
