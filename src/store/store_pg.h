/*
 * store_pg: what the PostgreSQL backend's files share (store_pg*.c). One
 * struct store_pg per open store: one libpq connection, the names of the
 * statements prepared on it and the transaction state. Not part of the
 * store interface: callers use store.h only.
 *
 * Statements: every fixed SQL text is a static const char array in the
 * file that uses it; store_pg_query()/store_pg_write() prepare it on the
 * connection the first time (keyed by the array's address) and execute
 * it by name after that. Results come back whole (a PGresult), so a
 * listing's callback may call the store again.
 *
 * Transactions: PostgreSQL aborts the whole transaction on any error,
 * where SQLite undoes only the failing statement. So inside store_begin()
 * each statement runs under its own savepoint, sent in the same round
 * trip as the statement (libpq pipeline mode): a failing call undoes only
 * itself, as on SQLite. A call that runs several statements brackets them
 * with store_pg_tx_enter()/tx_leave() instead: its own transaction
 * outside store_begin(), a savepoint inside.
 *
 * Writes: every statement that changes a row goes through
 * store_pg_write() (or store_pg_run_script(), or a tx_enter/tx_leave
 * bracket of such statements). Once a master holds the lease
 * (store_lease.h) and set fence_epoch, store_pg_write() sends the fence,
 * SELECT cohort_fence(epoch), in the same pipeline as the statement:
 * once per transaction (tx_fenced, cleared when the transaction or the
 * savepoint that took the fence ends) and once per write outside one.
 * The fence takes a share lock on the lease row, held until the write
 * commits, and fails with STORE_PG_FENCED when the epoch moved on; then
 * the store is marked fenced and refuses every later write at once. Only
 * the lease's own statements (store_pg_lease.c) bypass the fence, through
 * store_pg_write_unfenced().
 */
#ifndef COHORT_STORE_PG_H
#define COHORT_STORE_PG_H

#include <libpq-fe.h>

#include "store/store.h"
#include "store/store_lease.h"

/* The schema this code reads and writes (store_pg_schema.c); kept in the
 * table cohort_schema. */
#define STORE_PG_SCHEMA_VERSION 8

#define STORE_PG_STMT_MAX 128
#define STORE_PG_PARAMS_MAX 16

/* SQLSTATEs the calls map to their own errors. */
#define STORE_PG_UNIQUE_VIOLATION "23505"
#define STORE_PG_FOREIGN_KEY_VIOLATION "23503"
/* Raised by cohort_fence(): the lease has moved on to another epoch. */
#define STORE_PG_FENCED "CO001"

struct store_pg {
	PGconn *conn;
	char label[256]; /* the store in messages: no password */
	int in_tx; /* inside store_begin() */
	int depth; /* open tx_enter() brackets */
	/* The SQL of the statements prepared on this connection: the
	 * statement at index i is named "s<i>". */
	const char *stmts[STORE_PG_STMT_MAX];
	int nstmts;
	char sqlstate[6]; /* of the last failed statement, or "" */
	/* After a failed reconnect, calls fail at once until retry_at
	 * (monotonic seconds) with the reason, instead of each waiting out
	 * a connect timeout. */
	int64_t retry_at;
	char down[200];
	/* Fencing (store_lease.h): the epoch every write checks (0: none,
	 * STORE_LEASE_STANDBY: refuse all); fenced once a write found the
	 * epoch moved on; tx_fenced while the open transaction holds the
	 * fence's lock; idle_tx_ms, when set, is the session's
	 * idle_in_transaction_session_timeout (kept across reconnects), so
	 * a master paused inside a transaction cannot hold a takeover
	 * up for longer than its lease. */
	int64_t fence_epoch;
	int fenced;
	int tx_fenced;
	int64_t idle_tx_ms;
};

/* A statement's parameters, all sent as text. Text is borrowed until the
 * statement has run; numbers are formatted into num. */
struct store_pg_params {
	int n;
	int overflow; /* more than STORE_PG_PARAMS_MAX were added */
	const char *v[STORE_PG_PARAMS_MAX];
	char num[STORE_PG_PARAMS_MAX][24];
};

/* Adds the next parameter ($1, $2, ...); NULL text is SQL NULL. */
void store_pg_param_text(struct store_pg_params *p, const char *s);
void store_pg_param_int(struct store_pg_params *p, int64_t v);

/* Fills err from a failed result (res may be NULL: the connection's
 * error) as "store: what: <server message>": CERR_STORE for failures of
 * the server or the connection (down, disk full, I/O, locks, read-only,
 * permissions), CERR_INVALID for text that is not valid UTF-8,
 * CERR_INTERNAL otherwise (a bug in our SQL). Only the primary message is
 * used: a server's DETAIL line may quote key values such as a token hash.
 * Records the SQLSTATE in pg->sqlstate. Returns -1. */
int store_pg_fail(struct store_pg *pg, const PGresult *res, const char *what,
    struct cerr *err);

/* Copies a libpq message as one line: line breaks and tabs become
 * single spaces, trailing white space goes. */
void store_pg_one_line(const char *msg, char *out, size_t size);

/* Statements (store_pg_stmt.c). Runs the static statement sql (a read)
 * with p (may be NULL). On success *out (may be NULL) takes the result,
 * which the caller PQclear()s; on failure *out is NULL, err is filled and
 * pg->sqlstate says why. */
int store_pg_query(struct store_pg *pg, const char *sql,
    const struct store_pg_params *p, PGresult **out, const char *what,
    struct cerr *err);
/* The same for a statement that changes rows. */
int store_pg_write(struct store_pg *pg, const char *sql,
    const struct store_pg_params *p, PGresult **out, const char *what,
    struct cerr *err);
/* The same without the fence: only for the lease row itself. */
int store_pg_write_unfenced(struct store_pg *pg, const char *sql,
    const struct store_pg_params *p, PGresult **out, const char *what,
    struct cerr *err);
/* The same for a read built at run time: not prepared, not cached. */
int store_pg_query_once(struct store_pg *pg, const char *sql,
    const struct store_pg_params *p, PGresult **out, const char *what,
    struct cerr *err);

/* Runs a script of statements without parameters (schema changes) as
 * one simple-protocol query; a write, like store_pg_write(). */
int store_pg_run_script(
    struct store_pg *pg, const char *sql, const char *what, struct cerr *err);

int store_pg_tx_enter(struct store_pg *pg, const char *what, struct cerr *err);
/* Commits (ok) or undoes (!ok) what tx_enter began. Returns -1 when a
 * commit fails (err filled) and when !ok, so "return
 * store_pg_tx_leave(pg, rc == 0, ...)" keeps the call's result. */
int store_pg_tx_leave(
    struct store_pg *pg, int ok, const char *what, struct cerr *err);

/* The connection (store_pg.c) as store_pg_stmt.c runs statements on it;
 * not for the calls. Whether res is a success (a command or rows). */
int store_pg_result_ok(const PGresult *res);
/* Runs a fixed command without parameters: nothing prepared, no fence. */
int store_pg_run_fixed(
    struct store_pg *pg, const char *sql, const char *what, struct cerr *err);
/* Makes the connection ready for a statement: fails when a transaction
 * that should be open is gone; outside one, opens a lost connection
 * again. */
int store_pg_ready(struct store_pg *pg, const char *what, struct cerr *err);
/* Opens the connection again after it was lost, at most every few
 * seconds; the statements prepared on the old one are forgotten. */
int store_pg_reconnect(struct store_pg *pg, const char *what, struct cerr *err);

/* Rows changed by a write (INSERT/UPDATE/DELETE). */
int64_t store_pg_changes(const PGresult *res);
/* A column as an integer (0 for NULL), and as text ("" for NULL),
 * borrowed until PQclear(res). */
int64_t store_pg_int(const PGresult *res, int row, int col);
const char *store_pg_text(const PGresult *res, int row, int col);
/* Copies column text into a fixed array (always terminated). */
void store_pg_copy(
    const PGresult *res, int row, int col, char *dst, size_t size);

/* Opens the store a postgresql:// or postgres:// URL names (store_pg.c):
 * fills s->ops and s->be on success, leaves s untouched on failure. */
int store_pg_open(const char *url, struct store *s, struct cerr *err);
/* The sslmode a connection to url gets when neither the URL nor
 * PGSSLMODE names one: "verify-full" when a host is not this machine (the
 * database holds every job the fleet runs: its link is authenticated
 * like the targets'), NULL (libpq's default) for a Unix socket, localhost
 * or a loopback address. */
const char *store_pg_default_sslmode(const char *url);

/* Runs sql (one text parameter: key) and calls cb with column 0 of each
 * row; a non-zero return from cb ends the listing early. */
int store_pg_list_names(struct store_pg *pg, const char *sql, const char *key,
    store_name_cb cb, void *arg, const char *what, struct cerr *err);

int store_pg_group_create(
    void *be, const char *name, int64_t now, struct cerr *err);
int store_pg_group_delete(void *be, const char *name, struct cerr *err);
int store_pg_group_add(void *be, const char *group, const char *target,
    int *added_out, struct cerr *err);
int store_pg_group_remove(
    void *be, const char *group, const char *target, struct cerr *err);
int store_pg_group_list(
    void *be, store_name_cb cb, void *arg, struct cerr *err);
int store_pg_group_members(
    void *be, const char *group, store_name_cb cb, void *arg, struct cerr *err);

/* Sets the session's idle_in_transaction_session_timeout to ms (0:
 * off) now and after every reconnect. */
int store_pg_idle_tx_timeout(struct store_pg *pg, int64_t ms, struct cerr *err);

/* The lease (store_pg_lease.c): the schema step that adds it, and the
 * calls with the contract of store_lease_*(). */
extern const char store_pg_lease_schema[];
int store_pg_lease_acquire(void *be, const char *holder, const char *url,
    int64_t ttl_ms, struct store_lease *out, int *taken, struct cerr *err);
int store_pg_lease_renew(void *be, const char *holder, int64_t epoch,
    int64_t ttl_ms, struct cerr *err);
int store_pg_lease_release(void *be, int64_t epoch, struct cerr *err);
int store_pg_lease_get(void *be, struct store_lease *out, struct cerr *err);
void store_pg_lease_fence(void *be, int64_t epoch);
int store_pg_lease_fenced(void *be);

/* Schema (store_pg_schema.c): creates or migrates to
 * STORE_PG_SCHEMA_VERSION under an advisory lock, so masters starting
 * together do not race; refuses a newer schema or a foreign one. */
int store_pg_schema_migrate(struct store_pg *pg, struct cerr *err);

/* The calls, one file per area; each has the contract of the store_*()
 * call of the same name (store.h). */
int store_pg_target_add(
    void *be, const struct store_target *t, struct cerr *err);
int store_pg_target_get(
    void *be, const char *name, struct store_target *out, struct cerr *err);
int store_pg_target_list(
    void *be, store_target_cb cb, void *arg, struct cerr *err);
int store_pg_target_polled(
    void *be, const char *name, const struct store_poll *p, struct cerr *err);
int store_pg_target_set_defected(
    void *be, const char *name, int64_t now, struct cerr *err);
int store_pg_target_set_location(
    void *be, const char *name, const char *location, struct cerr *err);
int store_pg_target_delete(void *be, const char *name, struct cerr *err);

int store_pg_token_add(void *be, const char *target, const char *hash_hex,
    int64_t now, int64_t expires_at, struct cerr *err);
int store_pg_token_use(void *be, const char *target, const char *hash_hex,
    int64_t now, struct cerr *err);
int store_pg_token_revoke(void *be, const char *serial_hex, const char *name,
    int64_t now, struct cerr *err);
int store_pg_token_revoked_list(
    void *be, store_serial_cb cb, void *arg, struct cerr *err);

int store_pg_job_put(void *be, const char *name, const char *doc, int64_t now,
    int *created_out, struct cerr *err);
int store_pg_job_get(
    void *be, const char *name, store_job_cb cb, void *arg, struct cerr *err);
int store_pg_job_list(void *be, store_job_cb cb, void *arg, struct cerr *err);
int store_pg_job_delete(void *be, const char *name, struct cerr *err);
int store_pg_job_targets_set(void *be, const char *job,
    const char *const *targets, size_t n, struct cerr *err);
int store_pg_job_targets_list(
    void *be, const char *job, store_name_cb cb, void *arg, struct cerr *err);
int store_pg_job_of_target_list(void *be, const char *target, store_name_cb cb,
    void *arg, struct cerr *err);

int store_pg_instr_post(void *be, const char *target, enum instr_op op,
    const char *object, const char *payload, int64_t now, int64_t *id_out,
    struct cerr *err);
int store_pg_instr_fetch(void *be, const char *target, int64_t after_id,
    int limit, int64_t now, store_instr_cb cb, void *arg, struct cerr *err);
int store_pg_instr_ack(void *be, const char *target, int64_t id, int ok,
    const char *error, int64_t now, enum instr_op *first_op, struct cerr *err);
int store_pg_instr_list(void *be, const struct store_instr_filter *f,
    store_instr_cb cb, void *arg, struct cerr *err);
int store_pg_instr_clear(void *be, int64_t id, struct cerr *err);
int store_pg_instr_get(
    void *be, int64_t id, store_instr_cb cb, void *arg, struct cerr *err);
int store_pg_instr_withdraw(void *be, int64_t id, struct cerr *err);
int store_pg_instr_drop_pending(void *be, const char *target, struct cerr *err);
int store_pg_instr_trim(void *be, int64_t keep, struct cerr *err);

int store_pg_run_put(void *be, const struct store_run *r, struct cerr *err);
int store_pg_run_list(void *be, const struct store_run_filter *f,
    store_run_cb cb, void *arg, struct cerr *err);
int store_pg_run_trim(
    void *be, int64_t max_rows, int64_t max_per_job, struct cerr *err);
int store_pg_history_purge(void *be, const char *job, int64_t before_ms,
    int64_t *deleted_out, struct cerr *err);
int store_pg_history_trim_job(
    void *be, const char *job, int64_t keep, struct cerr *err);

/* security: issued certificates (store_pg_cert.c) and the audit log
 * (store_pg_audit.c). */
int store_pg_cert_add(void *be, const struct store_cert *c, struct cerr *err);
int store_pg_cert_get(
    void *be, const char *serial_hex, struct store_cert *out, struct cerr *err);
int store_pg_cert_list(
    void *be, const char *name, store_cert_cb cb, void *arg, struct cerr *err);
int store_pg_cert_target_serial(
    void *be, const char *name, const char *serial_hex, struct cerr *err);
int store_pg_audit_add(void *be, const struct store_audit *a, struct cerr *err);
int store_pg_audit_list(void *be, const struct store_audit_filter *f,
    store_audit_cb cb, void *arg, struct cerr *err);
int store_pg_audit_trim(void *be, int64_t max_rows, struct cerr *err);
int store_pg_run_last_per_target(
    void *be, const char *job, store_run_cb cb, void *arg, struct cerr *err);

int store_pg_event_add(
    void *be, const struct store_event *e, int *added_out, struct cerr *err);
int store_pg_event_list(void *be, const struct store_event_filter *f,
    store_event_cb cb, void *arg, struct cerr *err);
int store_pg_event_trim(void *be, int64_t keep, struct cerr *err);

int store_pg_operator_add(
    void *be, const struct store_operator *op, struct cerr *err);
int store_pg_operator_get(void *be, const char *name, store_operator_cb cb,
    void *arg, struct cerr *err);
int store_pg_operator_get_default(
    void *be, store_operator_cb cb, void *arg, struct cerr *err);
int store_pg_operator_list(
    void *be, store_operator_cb cb, void *arg, struct cerr *err);
int store_pg_operator_set_default(void *be, const char *name, struct cerr *err);
int store_pg_operator_delete(void *be, const char *name, struct cerr *err);

int store_pg_notification_add(void *be, const struct store_notification *n,
    int *added_out, struct cerr *err);
int store_pg_notification_due(void *be, int64_t now, int limit,
    store_notification_cb cb, void *arg, struct cerr *err);
int store_pg_notification_next_due(
    void *be, int64_t *next_at_out, int *found_out, struct cerr *err);
int store_pg_notification_update(void *be, int64_t id,
    enum delivery_status status, int attempts, int64_t next_at,
    const char *last_error, int64_t now, struct cerr *err);
int store_pg_notification_list(void *be,
    const struct store_notification_filter *f, store_notification_cb cb,
    void *arg, struct cerr *err);
int store_pg_notification_trim(void *be, int64_t keep, struct cerr *err);

/* scale-out: workers and their executions (store_pg_exec.c). */
int store_pg_worker_seen(void *be, const char *name, int64_t max_tasks,
    int64_t now, int *created_out, struct cerr *err);
int store_pg_worker_set_enabled(
    void *be, const char *name, int enabled, struct cerr *err);
int store_pg_worker_list(
    void *be, store_worker_cb cb, void *arg, struct cerr *err);
int store_pg_exec_add(
    void *be, const struct store_exec *e, int64_t *id_out, struct cerr *err);
int store_pg_exec_update(
    void *be, const struct store_exec *e, struct cerr *err);
int store_pg_exec_get(
    void *be, int64_t id, store_exec_cb cb, void *arg, struct cerr *err);
int store_pg_exec_list(void *be, int which, int64_t limit, store_exec_cb cb,
    void *arg, struct cerr *err);
int store_pg_exec_by_instr(void *be, const char *worker, int64_t instr_id,
    store_exec_cb cb, void *arg, struct cerr *err);
int store_pg_exec_trim(
    void *be, int64_t keep, int64_t *deleted_out, struct cerr *err);

#endif
