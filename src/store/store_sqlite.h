/*
 * store_sqlite: what the SQLite backend's files share (store_sqlite*.c).
 * One struct store_sqlite per open store: the connection, the cache of
 * prepared statements and the explicit-transaction flag. Not part of the
 * store interface: callers use store.h only.
 *
 * Statements: every fixed SQL text is a static const char array in the
 * file that uses it; store_sqlite_stmt() prepares it once and caches it,
 * keyed by the array's address, so the hot calls (fetch, ack, poll, run
 * upload, post) never re-parse SQL. A statement must be handed back with
 * store_sqlite_done() on every path.
 *
 * Transactions: a call that runs more than one statement brackets them
 * with store_sqlite_tx_enter()/tx_leave(). Outside an explicit
 * store_begin() that is its own IMMEDIATE transaction; inside one it is a
 * savepoint, so a failing call undoes only itself.
 */
#ifndef COHORT_STORE_SQLITE_H
#define COHORT_STORE_SQLITE_H

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_lease.h"

/* The schema this code reads and writes (store_sqlite_schema.c); kept in
 * PRAGMA user_version. */
#define STORE_SQLITE_SCHEMA_VERSION 9
/* PRAGMA application_id of a cohort store: "Coh1". */
#define STORE_SQLITE_APP_ID 0x436f6831

#define STORE_SQLITE_STMT_MAX 128

struct store_sqlite_stmt_slot {
	const char *sql; /* the key: address of a static SQL array */
	sqlite3_stmt *st;
	int busy; /* handed out and not yet done */
};

struct store_sqlite_ckpt;

struct store_sqlite {
	sqlite3 *db;
	struct store_sqlite_ckpt *ckpt; /* the checkpoint thread, or NULL */
	int in_tx; /* inside store_begin() */
	struct store_sqlite_stmt_slot stmts[STORE_SQLITE_STMT_MAX];
	int nstmts;
	int64_t fence_epoch; /* the lease's, kept on what is posted */
};

/* Fills err from the connection's last error (rc) as "store: what:
 * <sqlite message>": CERR_STORE for the failures of the disk or the lock
 * (full, I/O, busy, corrupt, read-only), CERR_INTERNAL otherwise (a bug
 * in our SQL). Returns -1. */
int store_sqlite_fail(
    struct store_sqlite *sq, int rc, const char *what, struct cerr *err);

/* The cached statement for sql (a static array), ready to bind. When the
 * cached one is in use (a callback re-entered the store) a fresh one is
 * prepared and finalized by store_sqlite_done(). */
int store_sqlite_stmt(struct store_sqlite *sq, const char *sql,
    sqlite3_stmt **out, struct cerr *err);
/* Resets and hands back a statement from store_sqlite_stmt(); NULL is a
 * no-op. */
void store_sqlite_done(struct store_sqlite *sq, sqlite3_stmt *st);

/* Prepares a one-off statement (built at run time); the caller finalizes
 * it. */
int store_sqlite_prepare(struct store_sqlite *sq, const char *sql,
    sqlite3_stmt **out, const char *what, struct cerr *err);

/* Runs a prepared statement that returns no rows to its end. */
int store_sqlite_exec(struct store_sqlite *sq, sqlite3_stmt *st,
    const char *what, struct cerr *err);

int store_sqlite_tx_enter(
    struct store_sqlite *sq, const char *what, struct cerr *err);
/* Commits (ok) or undoes (!ok) what tx_enter began. Returns -1 when a
 * commit fails (err filled) and ok otherwise, so "return
 * store_sqlite_tx_leave(sq, rc == 0, ...)" keeps the call's result. */
int store_sqlite_tx_leave(
    struct store_sqlite *sq, int ok, const char *what, struct cerr *err);

/* Runs sql (one text parameter: key) and calls cb with column 0 of each
 * row; a non-zero return from cb ends the listing early. */
int store_sqlite_list_names(struct store_sqlite *sq, const char *sql,
    const char *key, store_name_cb cb, void *arg, const char *what,
    struct cerr *err);

/* WAL checkpoints move to a thread with its own connection to path
 * (store_sqlite_ckpt.c); stop joins it. stop on a store without one is a
 * no-op. */
int store_sqlite_ckpt_start(
    struct store_sqlite *sq, const char *path, struct cerr *err);
void store_sqlite_ckpt_stop(struct store_sqlite *sq);

/* Column text as a C string ("" for NULL), borrowed until the next step. */
const char *store_sqlite_text(sqlite3_stmt *st, int col);
/* Copies column text into a fixed array (always terminated). */
void store_sqlite_copy(sqlite3_stmt *st, int col, char *dst, size_t size);

/* Schema (store_sqlite_schema.c): creates or migrates to
 * STORE_SQLITE_SCHEMA_VERSION; refuses a newer or a foreign file. */
int store_sqlite_schema_migrate(
    struct store_sqlite *sq, const char *path, struct cerr *err);

/* The calls, one file per area; each has the contract of the store_*()
 * call of the same name (store.h). */
int store_sqlite_target_add(
    void *be, const struct store_target *t, struct cerr *err);
int store_sqlite_target_get(
    void *be, const char *name, struct store_target *out, struct cerr *err);
int store_sqlite_target_list(
    void *be, store_target_cb cb, void *arg, struct cerr *err);
int store_sqlite_target_polled(
    void *be, const char *name, const struct store_poll *p, struct cerr *err);
int store_sqlite_target_set_defected(
    void *be, const char *name, int64_t now, struct cerr *err);
int store_sqlite_target_set_location(
    void *be, const char *name, const char *location, struct cerr *err);
int store_sqlite_target_delete(void *be, const char *name, struct cerr *err);

int store_sqlite_token_add(void *be, const char *target, const char *hash_hex,
    int64_t now, int64_t expires_at, struct cerr *err);
int store_sqlite_token_use(void *be, const char *target, const char *hash_hex,
    int64_t now, struct cerr *err);
int store_sqlite_token_revoke(void *be, const char *serial_hex,
    const char *name, int64_t now, struct cerr *err);
int store_sqlite_token_revoked_list(
    void *be, store_serial_cb cb, void *arg, struct cerr *err);

int store_sqlite_job_put(void *be, const char *name, const char *doc,
    int64_t now, int *created_out, struct cerr *err);
int store_sqlite_job_get(
    void *be, const char *name, store_job_cb cb, void *arg, struct cerr *err);
int store_sqlite_job_list(
    void *be, store_job_cb cb, void *arg, struct cerr *err);
int store_sqlite_job_delete(void *be, const char *name, struct cerr *err);
int store_sqlite_job_targets_set(void *be, const char *job,
    const char *const *targets, size_t n, struct cerr *err);
int store_sqlite_job_targets_list(
    void *be, const char *job, store_name_cb cb, void *arg, struct cerr *err);
int store_sqlite_job_of_target_list(void *be, const char *target,
    store_name_cb cb, void *arg, struct cerr *err);

int store_sqlite_instr_post(void *be, const char *target, enum instr_op op,
    const char *object, const char *payload, int64_t now, int64_t *id_out,
    struct cerr *err);
int store_sqlite_instr_fetch(void *be, const char *target, int64_t after_id,
    int limit, int64_t now, store_instr_cb cb, void *arg, struct cerr *err);
int store_sqlite_instr_ack(void *be, const char *target, int64_t id, int ok,
    const char *error, int64_t now, enum instr_op *first_op, struct cerr *err);
int store_sqlite_instr_list(void *be, const struct store_instr_filter *f,
    store_instr_cb cb, void *arg, struct cerr *err);
int store_sqlite_instr_clear(void *be, int64_t id, struct cerr *err);
int store_sqlite_instr_get(
    void *be, int64_t id, store_instr_cb cb, void *arg, struct cerr *err);
int store_sqlite_instr_withdraw(void *be, int64_t id, struct cerr *err);
int store_sqlite_instr_drop_pending(
    void *be, const char *target, struct cerr *err);
int store_sqlite_instr_trim(void *be, int64_t keep, struct cerr *err);

int store_sqlite_group_create(
    void *be, const char *name, int64_t now, struct cerr *err);
int store_sqlite_group_delete(void *be, const char *name, struct cerr *err);
int store_sqlite_group_add(void *be, const char *group, const char *target,
    int *added_out, struct cerr *err);
int store_sqlite_group_remove(
    void *be, const char *group, const char *target, struct cerr *err);
int store_sqlite_group_list(
    void *be, store_name_cb cb, void *arg, struct cerr *err);
int store_sqlite_group_members(
    void *be, const char *group, store_name_cb cb, void *arg, struct cerr *err);

/* The lease (store_sqlite_lease.c): the schema step that adds it, and
 * the calls with the contract of store_lease_*(). */
extern const char store_sqlite_lease_schema[];
int store_sqlite_lease_acquire(void *be, const char *holder, const char *url,
    int64_t ttl_ms, struct store_lease *out, int *taken, struct cerr *err);
int store_sqlite_lease_renew(void *be, const char *holder, int64_t epoch,
    int64_t ttl_ms, struct cerr *err);
int store_sqlite_lease_release(void *be, int64_t epoch, struct cerr *err);
int store_sqlite_lease_get(void *be, struct store_lease *out, struct cerr *err);
void store_sqlite_lease_fence(void *be, int64_t epoch);
int store_sqlite_lease_fenced(void *be);

int store_sqlite_run_put(void *be, const struct store_run *r, struct cerr *err);
int store_sqlite_run_list(void *be, const struct store_run_filter *f,
    store_run_cb cb, void *arg, struct cerr *err);
int store_sqlite_run_trim(
    void *be, int64_t max_rows, int64_t max_per_job, struct cerr *err);
int store_sqlite_history_purge(void *be, const char *job, int64_t before_ms,
    int64_t *deleted_out, struct cerr *err);
int store_sqlite_history_trim_job(
    void *be, const char *job, int64_t keep, struct cerr *err);

/* security: issued certificates (store_sqlite_cert.c) and the audit log
 * (store_sqlite_audit.c). */
int store_sqlite_cert_add(
    void *be, const struct store_cert *c, struct cerr *err);
int store_sqlite_cert_get(
    void *be, const char *serial_hex, struct store_cert *out, struct cerr *err);
int store_sqlite_cert_list(
    void *be, const char *name, store_cert_cb cb, void *arg, struct cerr *err);
int store_sqlite_cert_target_serial(
    void *be, const char *name, const char *serial_hex, struct cerr *err);
int store_sqlite_audit_add(
    void *be, const struct store_audit *a, struct cerr *err);
int store_sqlite_audit_list(void *be, const struct store_audit_filter *f,
    store_audit_cb cb, void *arg, struct cerr *err);
int store_sqlite_audit_trim(void *be, int64_t max_rows, struct cerr *err);
int store_sqlite_run_last_per_target(
    void *be, const char *job, store_run_cb cb, void *arg, struct cerr *err);

int store_sqlite_event_add(
    void *be, const struct store_event *e, int *added_out, struct cerr *err);
int store_sqlite_event_list(void *be, const struct store_event_filter *f,
    store_event_cb cb, void *arg, struct cerr *err);
int store_sqlite_event_trim(void *be, int64_t keep, struct cerr *err);

int store_sqlite_operator_add(
    void *be, const struct store_operator *op, struct cerr *err);
int store_sqlite_operator_get(void *be, const char *name, store_operator_cb cb,
    void *arg, struct cerr *err);
int store_sqlite_operator_get_default(
    void *be, store_operator_cb cb, void *arg, struct cerr *err);
int store_sqlite_operator_list(
    void *be, store_operator_cb cb, void *arg, struct cerr *err);
int store_sqlite_operator_set_default(
    void *be, const char *name, struct cerr *err);
int store_sqlite_operator_delete(void *be, const char *name, struct cerr *err);

int store_sqlite_notification_add(void *be, const struct store_notification *n,
    int *added_out, struct cerr *err);
int store_sqlite_notification_due(void *be, int64_t now, int limit,
    store_notification_cb cb, void *arg, struct cerr *err);
int store_sqlite_notification_next_due(
    void *be, int64_t *next_at_out, int *found_out, struct cerr *err);
int store_sqlite_notification_update(void *be, int64_t id,
    enum delivery_status status, int attempts, int64_t next_at,
    const char *last_error, int64_t now, struct cerr *err);
int store_sqlite_notification_list(void *be,
    const struct store_notification_filter *f, store_notification_cb cb,
    void *arg, struct cerr *err);
int store_sqlite_notification_trim(void *be, int64_t keep, struct cerr *err);

/* scale-out: workers and their executions (store_sqlite_exec.c). */
int store_sqlite_worker_seen(void *be, const char *name, int64_t max_tasks,
    int64_t now, int *created_out, struct cerr *err);
int store_sqlite_worker_set_enabled(
    void *be, const char *name, int enabled, struct cerr *err);
int store_sqlite_worker_list(
    void *be, store_worker_cb cb, void *arg, struct cerr *err);
int store_sqlite_exec_add(
    void *be, const struct store_exec *e, int64_t *id_out, struct cerr *err);
int store_sqlite_exec_update(
    void *be, const struct store_exec *e, struct cerr *err);
int store_sqlite_exec_get(
    void *be, int64_t id, store_exec_cb cb, void *arg, struct cerr *err);
int store_sqlite_exec_list(void *be, int which, int64_t limit, store_exec_cb cb,
    void *arg, struct cerr *err);
int store_sqlite_exec_by_instr(void *be, const char *worker, int64_t instr_id,
    store_exec_cb cb, void *arg, struct cerr *err);
int store_sqlite_exec_trim(
    void *be, int64_t keep, int64_t *deleted_out, struct cerr *err);

#endif
