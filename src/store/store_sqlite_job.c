/*
 * store_sqlite_job: job documents and each job's resolved aim (the
 * targets it is posted to). Aims reference both the job and the target,
 * so deleting either removes the aim with it (ON DELETE CASCADE).
 */
#include "store/store_sqlite.h"

static const char sql_insert[] =
    "INSERT INTO jobs (name, doc, created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?3) ON CONFLICT (name) DO NOTHING";
static const char sql_update[] =
    "UPDATE jobs SET doc = ?2, updated_at = ?3 WHERE name = ?1";
static const char sql_get[] =
    "SELECT name, doc, created_at, updated_at FROM jobs WHERE name = ?1";
static const char sql_list[] =
    "SELECT name, doc, created_at, updated_at FROM jobs ORDER BY name";
static const char sql_delete[] = "DELETE FROM jobs WHERE name = ?1";
static const char sql_exists[] = "SELECT 1 FROM jobs WHERE name = ?1";
static const char sql_aims_clear[] = "DELETE FROM job_targets WHERE job = ?1";
static const char sql_aim_add[] =
    "INSERT INTO job_targets (job, target) VALUES (?1, ?2)"
    " ON CONFLICT DO NOTHING";
static const char sql_aims_of_job[] =
    "SELECT target FROM job_targets WHERE job = ?1 ORDER BY target";
static const char sql_aims_of_target[] =
    "SELECT job FROM job_targets WHERE target = ?1 ORDER BY job";

/* Runs one statement with ?1 = name, ?2 = doc, ?3 = now; *changed says
 * whether it touched a row. */
static int
put_step(struct store_sqlite *sq, const char *sql, const char *name,
    const char *doc, int64_t now, int *changed, struct cerr *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, doc, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	if (store_sqlite_exec(sq, st, "put job", err) < 0)
		goto out;
	*changed = sqlite3_changes(sq->db) > 0;
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_job_put(void *be, const char *name, const char *doc, int64_t now,
    int *created_out, struct cerr *err)
{
	struct store_sqlite *sq = be;
	int rc = -1, inserted = 0, updated = 0;

	if (store_sqlite_tx_enter(sq, "put job", err) < 0)
		return -1;
	if (put_step(sq, sql_insert, name, doc, now, &inserted, err) < 0)
		goto out;
	if (!inserted &&
	    put_step(sq, sql_update, name, doc, now, &updated, err) < 0)
		goto out;
	*created_out = inserted;
	rc = 0;
out:
	return store_sqlite_tx_leave(sq, rc == 0, "put job", err);
}

static void
job_row(sqlite3_stmt *st, struct store_job *j)
{
	store_sqlite_copy(st, 0, j->name, sizeof(j->name));
	j->doc = store_sqlite_text(st, 1);
	j->created_at = sqlite3_column_int64(st, 2);
	j->updated_at = sqlite3_column_int64(st, 3);
}

int
store_sqlite_job_get(
    void *be, const char *name, store_job_cb cb, void *arg, struct cerr *err)
{
	struct store_sqlite *sq = be;
	struct store_job j;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql_get, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		cerr_set(err, CERR_NOT_FOUND, "no job '%s'", name);
		goto out;
	}
	if (step != SQLITE_ROW) {
		store_sqlite_fail(sq, step, "get job", err);
		goto out;
	}
	job_row(st, &j);
	cb(arg, &j);
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_job_list(void *be, store_job_cb cb, void *arg, struct cerr *err)
{
	struct store_sqlite *sq = be;
	struct store_job j;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql_list, &st, err) < 0)
		goto out;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		job_row(st, &j);
		if (cb(arg, &j) != 0) {
			step = SQLITE_DONE;
			break;
		}
	}
	if (step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, "list jobs", err);
		goto out;
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_job_delete(void *be, const char *name, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_delete, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (store_sqlite_exec(sq, st, "delete job", err) < 0)
		goto out;
	if (sqlite3_changes(sq->db) == 0) {
		cerr_set(err, CERR_NOT_FOUND, "no job '%s'", name);
		goto out;
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

/* Runs a statement keyed by ?1 = key; *rows counts what it returned. */
static int
run_keyed(struct store_sqlite *sq, const char *sql, const char *key, int *rows,
    const char *what, struct cerr *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	*rows = 0;
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		(*rows)++;
	if (step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, what, err);
		goto out;
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

static int
aim_add(struct store_sqlite *sq, const char *job, const char *target,
    struct cerr *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql_aim_add, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, target, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_CONSTRAINT_FOREIGNKEY) {
		cerr_set(err, CERR_NOT_FOUND, "no target '%s'", target);
		goto out;
	}
	if (step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, "set job targets", err);
		goto out;
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

/* Replaces the whole aim; a name listed twice counts once. An unknown job
 * or target changes nothing (CERR_NOT_FOUND). */
int
store_sqlite_job_targets_set(void *be, const char *job,
    const char *const *targets, size_t n, struct cerr *err)
{
	struct store_sqlite *sq = be;
	int rc = -1, rows = 0;

	if (store_sqlite_tx_enter(sq, "set job targets", err) < 0)
		return -1;
	if (run_keyed(sq, sql_exists, job, &rows, "set job targets", err) < 0)
		goto out;
	if (rows == 0) {
		cerr_set(err, CERR_NOT_FOUND, "no job '%s'", job);
		goto out;
	}
	if (run_keyed(sq, sql_aims_clear, job, &rows, "set job targets", err) <
	    0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (aim_add(sq, job, targets[i], err) < 0)
			goto out;
	rc = 0;
out:
	return store_sqlite_tx_leave(sq, rc == 0, "set job targets", err);
}

int
store_sqlite_list_names(struct store_sqlite *sq, const char *sql,
    const char *key, store_name_cb cb, void *arg, const char *what,
    struct cerr *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (cb(arg, store_sqlite_text(st, 0)) != 0) {
			step = SQLITE_DONE;
			break;
		}
	}
	if (step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, what, err);
		goto out;
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_job_targets_list(
    void *be, const char *job, store_name_cb cb, void *arg, struct cerr *err)
{
	return store_sqlite_list_names(
	    be, sql_aims_of_job, job, cb, arg, "list job targets", err);
}

int
store_sqlite_job_of_target_list(
    void *be, const char *target, store_name_cb cb, void *arg, struct cerr *err)
{
	return store_sqlite_list_names(
	    be, sql_aims_of_target, target, cb, arg, "list target jobs", err);
}
