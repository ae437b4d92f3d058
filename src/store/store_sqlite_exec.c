/*
 * store_sqlite_exec: scale-out workers and their executions in the SQLite
 * backend (see store.h). A worker row belongs to its target and goes with
 * it (the schema's cascade); an execution is history and outlives both.
 * The queue (open executions, oldest first) and each worker's load (its
 * assigned and running executions) are read through small partial
 * indexes (schema step 7), so neither grows with the ended executions
 * kept for the record.
 */
#include "store/store_sqlite.h"

#define EXEC_COLS                                                              \
	"id, job, pin_group, pin_workers, retries, attempt, status, worker,"   \
	" instr_id, reason, submitted_by, submitted_at, assigned_at,"          \
	" started_at, finished_at"
/* Written exactly as the partial indexes' WHERE clauses, which is what
 * lets SQLite use them. */
#define OPEN_TERM "status IN ('queued', 'assigned', 'running')"
#define ACTIVE_TERM "status IN ('assigned', 'running')"
#define ENDED_TERM "status IN ('succeeded', 'failed')"

static const char sql_worker_update[] =
    "UPDATE workers SET max_tasks = ?2 WHERE name = ?1";
static const char sql_worker_insert[] =
    "INSERT INTO workers (name, enabled, max_tasks, registered_at)"
    " VALUES (?1, 0, ?2, ?3) ON CONFLICT (name) DO NOTHING";
static const char sql_worker_enable[] =
    "UPDATE workers SET enabled = ?2 WHERE name = ?1";
static const char sql_worker_list[] =
    "SELECT w.name, w.enabled, w.max_tasks, w.registered_at,"
    " (SELECT count(*) FROM executions e WHERE e.worker = w.name"
    "   AND e." ACTIVE_TERM ")"
    " FROM workers w ORDER BY w.name";
static const char sql_exec_add[] =
    "INSERT INTO executions (job, pin_group, pin_workers, retries, attempt,"
    " status, worker, instr_id, reason, submitted_by, submitted_at,"
    " assigned_at, started_at, finished_at)"
    " VALUES (?1, ?2, ?3, ?4, 0, 'queued', '', 0, ?5, ?6, ?7, 0, 0, 0)";
static const char sql_exec_update[] =
    "UPDATE executions SET attempt = ?2, status = ?3, worker = ?4,"
    " instr_id = ?5, reason = ?6, assigned_at = ?7, started_at = ?8,"
    " finished_at = ?9 WHERE id = ?1";
static const char sql_exec_get[] =
    "SELECT " EXEC_COLS " FROM executions WHERE id = ?1";
static const char sql_exec_open[] = "SELECT " EXEC_COLS " FROM executions"
				    " WHERE " OPEN_TERM " ORDER BY id LIMIT ?1";
static const char sql_exec_all[] =
    "SELECT " EXEC_COLS " FROM executions ORDER BY id DESC LIMIT ?1";
/* OPEN_TERM as the partial index says it, so the index is used. */
static const char sql_exec_status_oldest[] =
    "SELECT " EXEC_COLS " FROM executions WHERE " OPEN_TERM
    " AND status = ?2 ORDER BY id LIMIT ?1";
static const char sql_exec_status_newest[] =
    "SELECT " EXEC_COLS " FROM executions WHERE status = ?2"
    " ORDER BY id DESC LIMIT ?1";
static const char sql_exec_by_instr[] =
    "SELECT " EXEC_COLS " FROM executions"
    " WHERE worker = ?1 AND instr_id = ?2 AND " ACTIVE_TERM
    " ORDER BY id LIMIT 1";
/* Ended rows beyond the newest ?1 go; open ones never. */
static const char sql_exec_trim[] =
    "DELETE FROM executions WHERE " ENDED_TERM " AND id <="
    " (SELECT id FROM executions WHERE " ENDED_TERM
    "  ORDER BY id DESC LIMIT 1 OFFSET ?1)";

/* ---- workers ----------------------------------------------------------- */

/* Runs one write of a worker row (name ?1, number ?2, time ?3 when the
 * statement has them); *changes_out gets the rows it changed. A missing
 * target (the foreign key) is CERR_NOT_FOUND. */
static int
worker_write(struct store_sqlite *sq, const char *sql, const char *name,
    int64_t n, int64_t now, int *changes_out, const char *what,
    struct cerr *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, n);
	if (sqlite3_bind_parameter_count(st) >= 3)
		sqlite3_bind_int64(st, 3, now);
	step = sqlite3_step(st);
	if (step == SQLITE_CONSTRAINT_FOREIGNKEY) {
		cerr_set(err, CERR_NOT_FOUND, "no target '%s'", name);
		goto out;
	}
	if (step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, what, err);
		goto out;
	}
	*changes_out = sqlite3_changes(sq->db);
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

/* Called on every poll of a worker, so the common case (known worker) is
 * one UPDATE. The rare first time inserts; each statement is atomic on
 * its own, and an insert that finds the row already there (a concurrent
 * first poll) falls back to the update, so no bracket is needed. */
int
store_sqlite_worker_seen(void *be, const char *name, int64_t max_tasks,
    int64_t now, int *created_out, struct cerr *err)
{
	static const char what[] = "record worker";
	struct store_sqlite *sq = be;
	int changed = 0;

	*created_out = 0;
	if (worker_write(sq, sql_worker_update, name, max_tasks, now, &changed,
		what, err) < 0)
		return -1;
	if (changed > 0)
		return 0;
	if (worker_write(sq, sql_worker_insert, name, max_tasks, now, &changed,
		what, err) < 0)
		return -1;
	if (changed > 0) {
		*created_out = 1;
		return 0;
	}
	return worker_write(
	    sq, sql_worker_update, name, max_tasks, now, &changed, what, err);
}

int
store_sqlite_worker_set_enabled(
    void *be, const char *name, int enabled, struct cerr *err)
{
	int changed = 0;

	if (worker_write(be, sql_worker_enable, name, enabled, 0, &changed,
		"enable worker", err) < 0)
		return -1;
	if (changed == 0)
		return cerr_set(err, CERR_NOT_FOUND, "no worker '%s'", name);
	return 0;
}

int
store_sqlite_worker_list(
    void *be, store_worker_cb cb, void *arg, struct cerr *err)
{
	struct store_sqlite *sq = be;
	struct store_worker w;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql_worker_list, &st, err) < 0)
		goto out;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		store_sqlite_copy(st, 0, w.name, sizeof(w.name));
		w.enabled = sqlite3_column_int(st, 1);
		w.max_tasks = sqlite3_column_int64(st, 2);
		w.registered_at = sqlite3_column_int64(st, 3);
		w.active = sqlite3_column_int64(st, 4);
		if (cb(arg, &w) != 0) {
			step = SQLITE_DONE;
			break;
		}
	}
	if (step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, "list workers", err);
		goto out;
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

/* ---- executions --------------------------------------------------------- */

/* Fills e from the current row (columns as in EXEC_COLS); text stays
 * borrowed from the statement. */
static int
exec_row(sqlite3_stmt *st, struct store_exec *e, struct cerr *err)
{
	e->id = sqlite3_column_int64(st, 0);
	store_sqlite_copy(st, 1, e->job, sizeof(e->job));
	store_sqlite_copy(st, 2, e->pin_group, sizeof(e->pin_group));
	e->pin_workers = store_sqlite_text(st, 3);
	e->retries = sqlite3_column_int64(st, 4);
	e->attempt = sqlite3_column_int64(st, 5);
	if (exec_status_parse(store_sqlite_text(st, 6), &e->status) < 0)
		return cerr_set(err, CERR_INTERNAL,
		    "store: execution %lld: unknown status", (long long)e->id);
	store_sqlite_copy(st, 7, e->worker, sizeof(e->worker));
	e->instr_id = sqlite3_column_int64(st, 8);
	e->reason = store_sqlite_text(st, 9);
	store_sqlite_copy(st, 10, e->submitted_by, sizeof(e->submitted_by));
	e->submitted_at = sqlite3_column_int64(st, 11);
	e->assigned_at = sqlite3_column_int64(st, 12);
	e->started_at = sqlite3_column_int64(st, 13);
	e->finished_at = sqlite3_column_int64(st, 14);
	return 0;
}

/* Steps a bound listing to its end, calling cb per row; *rows_out (may
 * be NULL) counts the rows read. */
static int
list_rows(struct store_sqlite *sq, sqlite3_stmt *st, store_exec_cb cb,
    void *arg, int *rows_out, const char *what, struct cerr *err)
{
	struct store_exec e;
	int step, rows = 0;

	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		rows++;
		if (exec_row(st, &e, err) < 0)
			return -1;
		if (cb(arg, &e) != 0) {
			step = SQLITE_DONE;
			break;
		}
	}
	if (step != SQLITE_DONE)
		return store_sqlite_fail(sq, step, what, err);
	if (rows_out != NULL)
		*rows_out = rows;
	return 0;
}

int
store_sqlite_exec_add(
    void *be, const struct store_exec *e, int64_t *id_out, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_exec_add, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, e->job, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, e->pin_group, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, e->pin_workers, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, e->retries);
	sqlite3_bind_text(st, 5, e->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, e->submitted_by, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, e->submitted_at);
	if (store_sqlite_exec(sq, st, "add execution", err) < 0)
		goto out;
	*id_out = sqlite3_last_insert_rowid(sq->db);
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_exec_update(void *be, const struct store_exec *e, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_exec_update, &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, e->id);
	sqlite3_bind_int64(st, 2, e->attempt);
	sqlite3_bind_text(
	    st, 3, exec_status_name(e->status), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, e->worker, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, e->instr_id);
	sqlite3_bind_text(st, 6, e->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, e->assigned_at);
	sqlite3_bind_int64(st, 8, e->started_at);
	sqlite3_bind_int64(st, 9, e->finished_at);
	if (store_sqlite_exec(sq, st, "update execution", err) < 0)
		goto out;
	if (sqlite3_changes(sq->db) == 0) {
		cerr_set(
		    err, CERR_NOT_FOUND, "no execution %lld", (long long)e->id);
		goto out;
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_exec_get(
    void *be, int64_t id, store_exec_cb cb, void *arg, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1, rows = 0;

	if (store_sqlite_stmt(sq, sql_exec_get, &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	if (list_rows(sq, st, cb, arg, &rows, "get execution", err) < 0)
		goto out;
	if (rows == 0) {
		cerr_set(
		    err, CERR_NOT_FOUND, "no execution %lld", (long long)id);
		goto out;
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_exec_list(void *be, int which, int64_t limit, store_exec_cb cb,
    void *arg, struct cerr *err)
{
	struct store_sqlite *sq = be;
	const char *sql = which == STORE_EXECS_OPEN ? sql_exec_open
	    : which == STORE_EXECS_ALL              ? sql_exec_all
	    : which <= EXEC_RUNNING                 ? sql_exec_status_oldest
						    : sql_exec_status_newest;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql, &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, limit);
	if (which >= 0)
		sqlite3_bind_text(st, 2,
		    exec_status_name((enum exec_status)which), -1,
		    SQLITE_STATIC);
	rc = list_rows(sq, st, cb, arg, NULL, "list executions", err);
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_exec_by_instr(void *be, const char *worker, int64_t instr_id,
    store_exec_cb cb, void *arg, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_exec_by_instr, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, worker, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, instr_id);
	rc = list_rows(sq, st, cb, arg, NULL, "execution by instruction", err);
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_exec_trim(
    void *be, int64_t keep, int64_t *deleted_out, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_exec_trim, &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, keep);
	if (store_sqlite_exec(sq, st, "trim executions", err) < 0)
		goto out;
	*deleted_out = sqlite3_changes(sq->db);
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}
