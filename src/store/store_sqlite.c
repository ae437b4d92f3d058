/*
 * store_sqlite: the SQLite backend's connection, its statement cache,
 * transactions and error mapping, and the function table that store.c
 * dispatches through. The calls themselves live in store_sqlite_<area>.c
 * and the schema in store_sqlite_schema.c.
 *
 * The connection runs in WAL mode with synchronous=FULL: a commit is on
 * disk before it returns. A power loss must not take back an instruction
 * id that a target has applied (the next instruction would get the same
 * id and never be fetched: targets ask for ids above their last) or an
 * outcome whose upload was acknowledged (the target has deleted it).
 * Commits are batched per loop turn, so the fsync is paid per batch, not
 * per request (docs/architecture.md has what it costs). foreign_keys is
 * on: the
 * schema's ON DELETE CASCADE rules remove a target's instructions, aims
 * and memberships with it.
 */
#include "store/store_sqlite.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "store/store_backend.h"

#define BUSY_TIMEOUT_MS 5000
#define WAL_RETRY_MS 10

static const char sql_begin[] = "BEGIN IMMEDIATE";
static const char sql_commit[] = "COMMIT";
static const char sql_rollback[] = "ROLLBACK";
static const char sql_savepoint[] = "SAVEPOINT call";
static const char sql_release[] = "RELEASE call";
static const char sql_rollback_to[] = "ROLLBACK TO call";

int
store_sqlite_fail(
    struct store_sqlite *sq, int rc, const char *what, struct cerr *err)
{
	enum cerr_code code = CERR_INTERNAL;
	const char *msg = sqlite3_errstr(rc);

	if (sq->db != NULL && sqlite3_extended_errcode(sq->db) == rc)
		msg = sqlite3_errmsg(sq->db);
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_NOMEM:
	case SQLITE_PROTOCOL:
	case SQLITE_PERM:
	case SQLITE_NOLFS:
		code = CERR_STORE;
		break;
	}
	return cerr_set(err, code, "store: %s: %s", what, msg);
}

int
store_sqlite_stmt(struct store_sqlite *sq, const char *sql, sqlite3_stmt **out,
    struct cerr *err)
{
	struct store_sqlite_stmt_slot *slot = NULL;
	sqlite3_stmt *st = NULL;
	int rc;

	/* SQLite ends a transaction by itself after some failures (I/O,
	 * disk full). Running on would commit each later call on its own
	 * while the caller believes they are grouped: refuse until
	 * store_rollback() or store_commit() ends the group. */
	if (sq->in_tx && sqlite3_get_autocommit(sq->db))
		return cerr_set(err, CERR_STORE,
		    "store: the transaction was rolled back after an earlier "
		    "error");
	for (int i = 0; i < sq->nstmts; i++) {
		if (sq->stmts[i].sql == sql) {
			slot = &sq->stmts[i];
			break;
		}
	}
	if (slot != NULL && !slot->busy) {
		slot->busy = 1;
		*out = slot->st;
		return 0;
	}
	rc = sqlite3_prepare_v3(sq->db, sql, -1,
	    slot == NULL ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL);
	if (rc != SQLITE_OK)
		return store_sqlite_fail(sq, rc, "prepare", err);
	/* A full cache only costs speed: the statement becomes one-off. */
	if (slot == NULL && sq->nstmts < STORE_SQLITE_STMT_MAX) {
		slot = &sq->stmts[sq->nstmts++];
		slot->sql = sql;
		slot->st = st;
		slot->busy = 1;
	}
	*out = st;
	return 0;
}

void
store_sqlite_done(struct store_sqlite *sq, sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	for (int i = 0; i < sq->nstmts; i++) {
		if (sq->stmts[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			sq->stmts[i].busy = 0;
			return;
		}
	}
	sqlite3_finalize(st);
}

int
store_sqlite_prepare(struct store_sqlite *sq, const char *sql,
    sqlite3_stmt **out, const char *what, struct cerr *err)
{
	int rc = sqlite3_prepare_v2(sq->db, sql, -1, out, NULL);

	if (rc != SQLITE_OK)
		return store_sqlite_fail(sq, rc, what, err);
	return 0;
}

int
store_sqlite_exec(struct store_sqlite *sq, sqlite3_stmt *st, const char *what,
    struct cerr *err)
{
	int rc;

	do
		rc = sqlite3_step(st);
	while (rc == SQLITE_ROW);
	if (rc != SQLITE_DONE)
		return store_sqlite_fail(sq, rc, what, err);
	return 0;
}

/* Runs one cached statement without parameters (transaction control). */
static int
run_fixed(struct store_sqlite *sq, const char *sql, const char *what,
    struct cerr *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql, &st, err) < 0)
		goto out;
	rc = store_sqlite_exec(sq, st, what, err);
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_tx_enter(
    struct store_sqlite *sq, const char *what, struct cerr *err)
{
	return run_fixed(sq, sq->in_tx ? sql_savepoint : sql_begin, what, err);
}

int
store_sqlite_tx_leave(
    struct store_sqlite *sq, int ok, const char *what, struct cerr *err)
{
	struct cerr ignored;

	/* SQLite itself rolls back the whole transaction on some errors
	 * (disk full, I/O); then there is nothing left to end here, and
	 * store_commit() reports it. */
	if (sqlite3_get_autocommit(sq->db))
		return ok ? 0 : -1;
	if (sq->in_tx) {
		if (!ok && run_fixed(sq, sql_rollback_to, what, &ignored) < 0)
			log_warn("store_rollback", "call=%s error=%s", what,
			    LOG_TEXT(ignored.msg));
		if (run_fixed(sq, sql_release, what, ok ? err : &ignored) < 0)
			return -1;
		return ok ? 0 : -1;
	}
	if (ok && run_fixed(sq, sql_commit, what, err) == 0)
		return 0;
	if (!sqlite3_get_autocommit(sq->db) &&
	    run_fixed(sq, sql_rollback, what, &ignored) < 0)
		log_warn("store_rollback", "call=%s error=%s", what,
		    LOG_TEXT(ignored.msg));
	return -1;
}

const char *
store_sqlite_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t != NULL ? (const char *)t : "";
}

void
store_sqlite_copy(sqlite3_stmt *st, int col, char *dst, size_t size)
{
	const char *t = store_sqlite_text(st, col);
	size_t len = strlen(t);

	if (len >= size)
		len = size - 1;
	memcpy(dst, t, len);
	dst[len] = '\0';
}

/* ---- the explicit transaction ---------------------------------------- */

static int
sqlite_begin(void *be, struct cerr *err)
{
	struct store_sqlite *sq = be;

	if (sq->in_tx)
		return cerr_set(err, CERR_INTERNAL,
		    "store: begin: a transaction is already open");
	if (run_fixed(sq, sql_begin, "begin", err) < 0)
		return -1;
	sq->in_tx = 1;
	return 0;
}

/* A failed commit leaves no transaction open: what it held is undone. */
static int
sqlite_commit(void *be, struct cerr *err)
{
	struct store_sqlite *sq = be;
	struct cerr ignored;

	if (!sq->in_tx)
		return cerr_set(err, CERR_INTERNAL,
		    "store: commit: no transaction is open");
	sq->in_tx = 0;
	if (sqlite3_get_autocommit(sq->db))
		return cerr_set(err, CERR_STORE,
		    "store: commit: the transaction was rolled back after an "
		    "earlier error");
	if (run_fixed(sq, sql_commit, "commit", err) == 0)
		return 0;
	if (!sqlite3_get_autocommit(sq->db) &&
	    run_fixed(sq, sql_rollback, "rollback", &ignored) < 0)
		log_warn("store_rollback", "error=%s", LOG_TEXT(ignored.msg));
	return -1;
}

static void
sqlite_rollback(void *be)
{
	struct store_sqlite *sq = be;
	struct cerr err;

	if (!sq->in_tx)
		return;
	sq->in_tx = 0;
	if (sqlite3_get_autocommit(sq->db))
		return;
	if (run_fixed(sq, sql_rollback, "rollback", &err) < 0)
		log_warn("store_rollback", "error=%s", LOG_TEXT(err.msg));
}

/* ---- opening and closing ---------------------------------------------- */

static void
sqlite_close(void *be)
{
	struct store_sqlite *sq = be;

	if (sq == NULL)
		return;
	store_sqlite_ckpt_stop(sq);
	for (int i = 0; i < sq->nstmts; i++)
		sqlite3_finalize(sq->stmts[i].st);
	/* Closing also checkpoints the WAL and removes the -wal file. */
	if (sq->db != NULL && sqlite3_close(sq->db) != SQLITE_OK)
		log_warn("store_close", "error=%s",
		    LOG_TEXT(sqlite3_errmsg(sq->db)));
	free(sq);
}

/* Switching a new database to WAL takes an exclusive lock, and SQLite
 * answers SQLITE_BUSY at once, without calling its busy handler, while
 * another connection holds a lock on it: two masters creating one new
 * store at the same moment. Steps st again until the busy timeout. */
static int
wal_step(sqlite3_stmt *st)
{
	const struct timespec pause = {0, WAL_RETRY_MS * 1000000L};
	int step;

	for (int waited = 0;; waited += WAL_RETRY_MS) {
		step = sqlite3_step(st);
		if ((step & 0xff) != SQLITE_BUSY || waited >= BUSY_TIMEOUT_MS)
			return step;
		sqlite3_reset(st);
		nanosleep(&pause, NULL);
	}
}

/* WAL needs a local file system that supports shared memory; say so
 * instead of silently running in another journal mode. ":memory:" has no
 * journal file at all and is accepted as it is. */
static int
set_wal(struct store_sqlite *sq, const char *path, struct cerr *err)
{
	sqlite3_stmt *st = NULL;
	char what[128];
	int rc = -1, step;

	snprintf(what, sizeof(what), "open %s", path);
	if (store_sqlite_prepare(
		sq, "PRAGMA journal_mode=WAL", &st, what, err) < 0)
		goto out;
	step = wal_step(st);
	if (step != SQLITE_ROW) {
		store_sqlite_fail(sq, step, what, err);
		goto out;
	}
	if (strcmp(store_sqlite_text(st, 0), "wal") != 0 &&
	    strcmp(path, ":memory:") != 0) {
		cerr_set(err, CERR_STORE,
		    "store: %s: cannot use WAL mode (journal mode is %s)", what,
		    store_sqlite_text(st, 0));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

static int
configure(struct store_sqlite *sq, const char *path, struct cerr *err)
{
	char what[128];
	int rc;

	snprintf(what, sizeof(what), "open %s", path);
	sqlite3_extended_result_codes(sq->db, 1);
	sqlite3_busy_timeout(sq->db, BUSY_TIMEOUT_MS);
	rc = sqlite3_exec(sq->db,
	    "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;"
	    " PRAGMA trusted_schema=OFF;",
	    NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return store_sqlite_fail(sq, rc, what, err);
	if (set_wal(sq, path, err) < 0)
		return -1;
	return strcmp(path, ":memory:") == 0
	    ? 0
	    : store_sqlite_ckpt_start(sq, path, err);
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sqlite_close,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .target_add = store_sqlite_target_add,
    .target_get = store_sqlite_target_get,
    .target_list = store_sqlite_target_list,
    .target_polled = store_sqlite_target_polled,
    .target_set_defected = store_sqlite_target_set_defected,
    .target_set_location = store_sqlite_target_set_location,
    .target_delete = store_sqlite_target_delete,
    .token_add = store_sqlite_token_add,
    .token_use = store_sqlite_token_use,
    .revoke = store_sqlite_token_revoke,
    .revoked_list = store_sqlite_token_revoked_list,
    .job_put = store_sqlite_job_put,
    .job_get = store_sqlite_job_get,
    .job_list = store_sqlite_job_list,
    .job_delete = store_sqlite_job_delete,
    .job_targets_set = store_sqlite_job_targets_set,
    .job_targets_list = store_sqlite_job_targets_list,
    .target_jobs_list = store_sqlite_job_of_target_list,
    .instr_post = store_sqlite_instr_post,
    .instr_fetch = store_sqlite_instr_fetch,
    .instr_ack = store_sqlite_instr_ack,
    .instr_list = store_sqlite_instr_list,
    .instr_clear = store_sqlite_instr_clear,
    .instr_get = store_sqlite_instr_get,
    .instr_withdraw = store_sqlite_instr_withdraw,
    .instr_drop_pending = store_sqlite_instr_drop_pending,
    .instr_trim = store_sqlite_instr_trim,
    .run_put = store_sqlite_run_put,
    .run_list = store_sqlite_run_list,
    .history_trim = store_sqlite_run_trim,
    .group_create = store_sqlite_group_create,
    .group_delete = store_sqlite_group_delete,
    .group_add = store_sqlite_group_add,
    .group_remove = store_sqlite_group_remove,
    .group_list = store_sqlite_group_list,
    .group_members = store_sqlite_group_members,
    .history_purge = store_sqlite_history_purge,
    .history_trim_job = store_sqlite_history_trim_job,
    .cert_add = store_sqlite_cert_add,
    .cert_get = store_sqlite_cert_get,
    .cert_list = store_sqlite_cert_list,
    .target_set_serial = store_sqlite_cert_target_serial,
    .audit_add = store_sqlite_audit_add,
    .audit_list = store_sqlite_audit_list,
    .audit_trim = store_sqlite_audit_trim,
    .run_last_per_target = store_sqlite_run_last_per_target,
    .event_add = store_sqlite_event_add,
    .event_list = store_sqlite_event_list,
    .event_trim = store_sqlite_event_trim,
    .operator_add = store_sqlite_operator_add,
    .operator_get = store_sqlite_operator_get,
    .operator_get_default = store_sqlite_operator_get_default,
    .operator_list = store_sqlite_operator_list,
    .operator_set_default = store_sqlite_operator_set_default,
    .operator_delete = store_sqlite_operator_delete,
    .notification_add = store_sqlite_notification_add,
    .notification_due = store_sqlite_notification_due,
    .notification_next_due = store_sqlite_notification_next_due,
    .notification_update = store_sqlite_notification_update,
    .notification_list = store_sqlite_notification_list,
    .notification_trim = store_sqlite_notification_trim,
    .worker_seen = store_sqlite_worker_seen,
    .worker_set_enabled = store_sqlite_worker_set_enabled,
    .worker_list = store_sqlite_worker_list,
    .exec_add = store_sqlite_exec_add,
    .exec_update = store_sqlite_exec_update,
    .exec_get = store_sqlite_exec_get,
    .exec_list = store_sqlite_exec_list,
    .exec_by_instr = store_sqlite_exec_by_instr,
    .exec_trim = store_sqlite_exec_trim,
    .lease_shared = 0,
    .lease_acquire = store_sqlite_lease_acquire,
    .lease_renew = store_sqlite_lease_renew,
    .lease_release = store_sqlite_lease_release,
    .lease_get = store_sqlite_lease_get,
    .lease_fence = store_sqlite_lease_fence,
    .lease_fenced = store_sqlite_lease_fenced,
};

int
store_sqlite_open(const char *path, struct store *s, struct cerr *err)
{
	struct store_sqlite *sq = NULL;
	char what[128];
	int rc = -1, orc, fd;

	/* Created 0600 here, as the target's store is: SQLite would create
	 * it (and its -wal and -shm, which copy its mode) world-readable,
	 * and it holds token hashes, job documents and their secrets. */
	if (strcmp(path, ":memory:") != 0) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return cerr_set(err, CERR_STORE, "store: open %s: %s",
			    path, strerror(errno));
		close(fd);
	}
	sq = calloc(1, sizeof(*sq));
	if (sq == NULL)
		return cerr_set(err, CERR_INTERNAL, "store: out of memory");
	orc = sqlite3_open_v2(path, &sq->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	    NULL);
	if (orc != SQLITE_OK) {
		snprintf(what, sizeof(what), "open %s", path);
		store_sqlite_fail(sq, orc, what, err);
		goto out;
	}
	if (configure(sq, path, err) < 0 ||
	    store_sqlite_schema_migrate(sq, path, err) < 0)
		goto out;
	s->ops = &sqlite_ops;
	s->be = sq;
	sq = NULL;
	rc = 0;
out:
	sqlite_close(sq);
	return rc;
}
