/*
 * store_pg_exec: scale-out workers and their executions in the PostgreSQL
 * backend; statement for statement the SQLite backend's
 * store_sqlite_exec.c. Every write goes through store_pg_write(), so a
 * master that lost the lease cannot queue, assign or end an execution.
 */
#include "store/store_pg.h"

#include <string.h>

#define EXEC_COLS                                                              \
	"id, job, pin_group, pin_workers, retries, attempt, status, worker,"   \
	" instr_id, reason, submitted_by, submitted_at, assigned_at,"          \
	" started_at, finished_at"
/* Written exactly as the partial indexes' WHERE clauses, so the planner
 * sees that they apply. */
#define OPEN_TERM "status IN ('queued', 'assigned', 'running')"
#define ACTIVE_TERM "status IN ('assigned', 'running')"
#define ENDED_TERM "status IN ('succeeded', 'failed')"

static const char sql_worker_update[] =
    "UPDATE workers SET max_tasks = $2 WHERE name = $1";
static const char sql_worker_insert[] =
    "INSERT INTO workers (name, enabled, max_tasks, registered_at)"
    " VALUES ($1, 0, $2, $3) ON CONFLICT (name) DO NOTHING";
static const char sql_worker_enable[] =
    "UPDATE workers SET enabled = $2 WHERE name = $1";
static const char sql_worker_list[] =
    "SELECT w.name, w.enabled, w.max_tasks, w.registered_at,"
    " (SELECT count(*) FROM executions e WHERE e.worker = w.name"
    "   AND e." ACTIVE_TERM ")"
    " FROM workers w ORDER BY w.name";
static const char sql_exec_add[] =
    "INSERT INTO executions (job, pin_group, pin_workers, retries, attempt,"
    " status, worker, instr_id, reason, submitted_by, submitted_at,"
    " assigned_at, started_at, finished_at)"
    " VALUES ($1, $2, $3, $4, 0, 'queued', '', 0, $5, $6, $7, 0, 0, 0)"
    " RETURNING id";
static const char sql_exec_update[] =
    "UPDATE executions SET attempt = $2, status = $3, worker = $4,"
    " instr_id = $5, reason = $6, assigned_at = $7, started_at = $8,"
    " finished_at = $9 WHERE id = $1";
static const char sql_exec_get[] =
    "SELECT " EXEC_COLS " FROM executions WHERE id = $1";
static const char sql_exec_open[] = "SELECT " EXEC_COLS " FROM executions"
				    " WHERE " OPEN_TERM " ORDER BY id LIMIT $1";
static const char sql_exec_all[] =
    "SELECT " EXEC_COLS " FROM executions ORDER BY id DESC LIMIT $1";
/* OPEN_TERM as the partial index says it, so the index is used. */
static const char sql_exec_status_oldest[] =
    "SELECT " EXEC_COLS " FROM executions WHERE " OPEN_TERM
    " AND status = $2 ORDER BY id LIMIT $1";
static const char sql_exec_status_newest[] =
    "SELECT " EXEC_COLS " FROM executions WHERE status = $2"
    " ORDER BY id DESC LIMIT $1";
static const char sql_exec_by_instr[] =
    "SELECT " EXEC_COLS " FROM executions"
    " WHERE worker = $1 AND instr_id = $2 AND " ACTIVE_TERM
    " ORDER BY id LIMIT 1";
/* Ended rows beyond the newest $1 go; open ones never. */
static const char sql_exec_trim[] =
    "DELETE FROM executions WHERE " ENDED_TERM " AND id <="
    " (SELECT id FROM executions WHERE " ENDED_TERM
    "  ORDER BY id DESC LIMIT 1 OFFSET $1)";

/* ---- workers ----------------------------------------------------------- */

/* Runs one write of a worker row (p: name first); *changes_out gets the
 * rows it changed. A missing target (the foreign key) is
 * CERR_NOT_FOUND. */
static int
worker_write(struct store_pg *pg, const char *sql,
    const struct store_pg_params *p, const char *name, int64_t *changes_out,
    const char *what, struct cerr *err)
{
	PGresult *res = NULL;

	if (store_pg_write(pg, sql, p, &res, what, err) < 0) {
		if (strcmp(pg->sqlstate, STORE_PG_FOREIGN_KEY_VIOLATION) == 0)
			return cerr_set(
			    err, CERR_NOT_FOUND, "no target '%s'", name);
		return -1;
	}
	*changes_out = store_pg_changes(res);
	PQclear(res);
	return 0;
}

/* Called on every poll of a worker, so the common case (known worker) is
 * one UPDATE. The rare first time inserts; each statement is atomic on
 * its own, and an insert that finds the row already there (a concurrent
 * first poll) falls back to the update, so no bracket is needed. */
int
store_pg_worker_seen(void *be, const char *name, int64_t max_tasks, int64_t now,
    int *created_out, struct cerr *err)
{
	static const char what[] = "record worker";
	struct store_pg_params up = {0}, ins = {0};
	int64_t changed = 0;

	*created_out = 0;
	store_pg_param_text(&up, name);
	store_pg_param_int(&up, max_tasks);
	if (worker_write(
		be, sql_worker_update, &up, name, &changed, what, err) < 0)
		return -1;
	if (changed > 0)
		return 0;
	store_pg_param_text(&ins, name);
	store_pg_param_int(&ins, max_tasks);
	store_pg_param_int(&ins, now);
	if (worker_write(
		be, sql_worker_insert, &ins, name, &changed, what, err) < 0)
		return -1;
	if (changed > 0) {
		*created_out = 1;
		return 0;
	}
	return worker_write(
	    be, sql_worker_update, &up, name, &changed, what, err);
}

int
store_pg_worker_set_enabled(
    void *be, const char *name, int enabled, struct cerr *err)
{
	struct store_pg_params p = {0};
	int64_t changed = 0;

	store_pg_param_text(&p, name);
	store_pg_param_int(&p, enabled);
	if (worker_write(be, sql_worker_enable, &p, name, &changed,
		"enable worker", err) < 0)
		return -1;
	if (changed == 0)
		return cerr_set(err, CERR_NOT_FOUND, "no worker '%s'", name);
	return 0;
}

int
store_pg_worker_list(void *be, store_worker_cb cb, void *arg, struct cerr *err)
{
	struct store_worker w;
	PGresult *res = NULL;

	if (store_pg_query(
		be, sql_worker_list, NULL, &res, "list workers", err) < 0)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		store_pg_copy(res, i, 0, w.name, sizeof(w.name));
		w.enabled = (int)store_pg_int(res, i, 1);
		w.max_tasks = store_pg_int(res, i, 2);
		w.registered_at = store_pg_int(res, i, 3);
		w.active = store_pg_int(res, i, 4);
		if (cb(arg, &w) != 0)
			break;
	}
	PQclear(res);
	return 0;
}

/* ---- executions --------------------------------------------------------- */

/* Fills e from a row (columns as in EXEC_COLS); text stays borrowed from
 * the result. */
static int
exec_row(const PGresult *res, int row, struct store_exec *e, struct cerr *err)
{
	e->id = store_pg_int(res, row, 0);
	store_pg_copy(res, row, 1, e->job, sizeof(e->job));
	store_pg_copy(res, row, 2, e->pin_group, sizeof(e->pin_group));
	e->pin_workers = store_pg_text(res, row, 3);
	e->retries = store_pg_int(res, row, 4);
	e->attempt = store_pg_int(res, row, 5);
	if (exec_status_parse(store_pg_text(res, row, 6), &e->status) < 0)
		return cerr_set(err, CERR_INTERNAL,
		    "store: execution %lld: unknown status", (long long)e->id);
	store_pg_copy(res, row, 7, e->worker, sizeof(e->worker));
	e->instr_id = store_pg_int(res, row, 8);
	e->reason = store_pg_text(res, row, 9);
	store_pg_copy(res, row, 10, e->submitted_by, sizeof(e->submitted_by));
	e->submitted_at = store_pg_int(res, row, 11);
	e->assigned_at = store_pg_int(res, row, 12);
	e->started_at = store_pg_int(res, row, 13);
	e->finished_at = store_pg_int(res, row, 14);
	return 0;
}

/* Runs a listing and calls cb per row; *rows_out (may be NULL) counts
 * the rows read. */
static int
list_rows(struct store_pg *pg, const char *sql, const struct store_pg_params *p,
    store_exec_cb cb, void *arg, int *rows_out, const char *what,
    struct cerr *err)
{
	struct store_exec e;
	PGresult *res = NULL;
	int rc = -1;

	if (store_pg_query(pg, sql, p, &res, what, err) < 0)
		goto out;
	for (int i = 0; i < PQntuples(res); i++) {
		if (exec_row(res, i, &e, err) < 0)
			goto out;
		if (cb(arg, &e) != 0)
			break;
	}
	if (rows_out != NULL)
		*rows_out = PQntuples(res);
	rc = 0;
out:
	PQclear(res);
	return rc;
}

int
store_pg_exec_add(
    void *be, const struct store_exec *e, int64_t *id_out, struct cerr *err)
{
	struct store_pg_params p = {0};
	PGresult *res = NULL;

	store_pg_param_text(&p, e->job);
	store_pg_param_text(&p, e->pin_group);
	store_pg_param_text(&p, e->pin_workers);
	store_pg_param_int(&p, e->retries);
	store_pg_param_text(&p, e->reason);
	store_pg_param_text(&p, e->submitted_by);
	store_pg_param_int(&p, e->submitted_at);
	if (store_pg_write(be, sql_exec_add, &p, &res, "add execution", err) <
	    0)
		return -1;
	*id_out = store_pg_int(res, 0, 0);
	PQclear(res);
	return 0;
}

int
store_pg_exec_update(void *be, const struct store_exec *e, struct cerr *err)
{
	struct store_pg_params p = {0};
	PGresult *res = NULL;
	int rc = -1;

	store_pg_param_int(&p, e->id);
	store_pg_param_int(&p, e->attempt);
	store_pg_param_text(&p, exec_status_name(e->status));
	store_pg_param_text(&p, e->worker);
	store_pg_param_int(&p, e->instr_id);
	store_pg_param_text(&p, e->reason);
	store_pg_param_int(&p, e->assigned_at);
	store_pg_param_int(&p, e->started_at);
	store_pg_param_int(&p, e->finished_at);
	if (store_pg_write(
		be, sql_exec_update, &p, &res, "update execution", err) < 0)
		goto out;
	if (store_pg_changes(res) == 0) {
		cerr_set(
		    err, CERR_NOT_FOUND, "no execution %lld", (long long)e->id);
		goto out;
	}
	rc = 0;
out:
	PQclear(res);
	return rc;
}

int
store_pg_exec_get(
    void *be, int64_t id, store_exec_cb cb, void *arg, struct cerr *err)
{
	struct store_pg_params p = {0};
	int rows = 0;

	store_pg_param_int(&p, id);
	if (list_rows(
		be, sql_exec_get, &p, cb, arg, &rows, "get execution", err) < 0)
		return -1;
	if (rows == 0)
		return cerr_set(
		    err, CERR_NOT_FOUND, "no execution %lld", (long long)id);
	return 0;
}

int
store_pg_exec_list(void *be, int which, int64_t limit, store_exec_cb cb,
    void *arg, struct cerr *err)
{
	const char *sql = which == STORE_EXECS_OPEN ? sql_exec_open
	    : which == STORE_EXECS_ALL              ? sql_exec_all
	    : which <= EXEC_RUNNING                 ? sql_exec_status_oldest
						    : sql_exec_status_newest;
	struct store_pg_params p = {0};

	store_pg_param_int(&p, limit);
	if (which >= 0)
		store_pg_param_text(
		    &p, exec_status_name((enum exec_status)which));
	return list_rows(be, sql, &p, cb, arg, NULL, "list executions", err);
}

int
store_pg_exec_by_instr(void *be, const char *worker, int64_t instr_id,
    store_exec_cb cb, void *arg, struct cerr *err)
{
	struct store_pg_params p = {0};

	store_pg_param_text(&p, worker);
	store_pg_param_int(&p, instr_id);
	return list_rows(be, sql_exec_by_instr, &p, cb, arg, NULL,
	    "execution by instruction", err);
}

int
store_pg_exec_trim(
    void *be, int64_t keep, int64_t *deleted_out, struct cerr *err)
{
	struct store_pg_params p = {0};
	PGresult *res = NULL;

	store_pg_param_int(&p, keep);
	if (store_pg_write(
		be, sql_exec_trim, &p, &res, "trim executions", err) < 0)
		return -1;
	*deleted_out = store_pg_changes(res);
	PQclear(res);
	return 0;
}
