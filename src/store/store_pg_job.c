/*
 * store_pg_job: job documents and each job's resolved aim (the targets it
 * is posted to) on PostgreSQL (the counterpart of store_sqlite_job.c).
 * Aims reference both the job and the target, so deleting either removes
 * the aim with it (ON DELETE CASCADE).
 */
#include "store/store_pg.h"

#include <string.h>

static const char sql_insert[] =
    "INSERT INTO jobs (name, doc, created_at, updated_at)"
    " VALUES ($1, $2, $3, $3) ON CONFLICT (name) DO NOTHING";
static const char sql_update[] =
    "UPDATE jobs SET doc = $2, updated_at = $3 WHERE name = $1";
static const char sql_get[] =
    "SELECT name, doc, created_at, updated_at FROM jobs WHERE name = $1";
static const char sql_list[] =
    "SELECT name, doc, created_at, updated_at FROM jobs ORDER BY name";
static const char sql_delete[] = "DELETE FROM jobs WHERE name = $1";
static const char sql_exists[] = "SELECT 1 FROM jobs WHERE name = $1";
static const char sql_aims_clear[] = "DELETE FROM job_targets WHERE job = $1";
static const char sql_aim_add[] =
    "INSERT INTO job_targets (job, target) VALUES ($1, $2)"
    " ON CONFLICT DO NOTHING";
static const char sql_aims_of_job[] =
    "SELECT target FROM job_targets WHERE job = $1 ORDER BY target";
static const char sql_aims_of_target[] =
    "SELECT job FROM job_targets WHERE target = $1 ORDER BY job";

/* Runs one statement with $1 = name, $2 = doc, $3 = now; *changed says
 * whether it touched a row. */
static int
put_step(struct store_pg *pg, const char *sql, const char *name,
    const char *doc, int64_t now, int *changed, struct cerr *err)
{
	struct store_pg_params p = {0};
	PGresult *res = NULL;

	store_pg_param_text(&p, name);
	store_pg_param_text(&p, doc);
	store_pg_param_int(&p, now);
	if (store_pg_write(pg, sql, &p, &res, "put job", err) < 0)
		return -1;
	*changed = store_pg_changes(res) > 0;
	PQclear(res);
	return 0;
}

int
store_pg_job_put(void *be, const char *name, const char *doc, int64_t now,
    int *created_out, struct cerr *err)
{
	struct store_pg *pg = be;
	int rc = -1, inserted = 0, updated = 0;

	if (store_pg_tx_enter(pg, "put job", err) < 0)
		return -1;
	if (put_step(pg, sql_insert, name, doc, now, &inserted, err) < 0)
		goto out;
	if (!inserted &&
	    put_step(pg, sql_update, name, doc, now, &updated, err) < 0)
		goto out;
	*created_out = inserted;
	rc = 0;
out:
	return store_pg_tx_leave(pg, rc == 0, "put job", err);
}

static void
job_row(const PGresult *res, int row, struct store_job *j)
{
	store_pg_copy(res, row, 0, j->name, sizeof(j->name));
	j->doc = store_pg_text(res, row, 1);
	j->created_at = store_pg_int(res, row, 2);
	j->updated_at = store_pg_int(res, row, 3);
}

int
store_pg_job_get(
    void *be, const char *name, store_job_cb cb, void *arg, struct cerr *err)
{
	struct store_pg_params p = {0};
	struct store_job j;
	PGresult *res = NULL;
	int rc = -1;

	store_pg_param_text(&p, name);
	if (store_pg_query(be, sql_get, &p, &res, "get job", err) < 0)
		goto out;
	if (PQntuples(res) == 0) {
		cerr_set(err, CERR_NOT_FOUND, "no job '%s'", name);
		goto out;
	}
	job_row(res, 0, &j);
	cb(arg, &j);
	rc = 0;
out:
	PQclear(res);
	return rc;
}

int
store_pg_job_list(void *be, store_job_cb cb, void *arg, struct cerr *err)
{
	struct store_job j;
	PGresult *res = NULL;

	if (store_pg_query(be, sql_list, NULL, &res, "list jobs", err) < 0)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		job_row(res, i, &j);
		if (cb(arg, &j) != 0)
			break;
	}
	PQclear(res);
	return 0;
}

int
store_pg_job_delete(void *be, const char *name, struct cerr *err)
{
	struct store_pg_params p = {0};
	PGresult *res = NULL;
	int64_t changed;

	store_pg_param_text(&p, name);
	if (store_pg_write(be, sql_delete, &p, &res, "delete job", err) < 0)
		return -1;
	changed = store_pg_changes(res);
	PQclear(res);
	if (changed == 0)
		return cerr_set(err, CERR_NOT_FOUND, "no job '%s'", name);
	return 0;
}

static int
aim_add(
    struct store_pg *pg, const char *job, const char *target, struct cerr *err)
{
	struct store_pg_params p = {0};

	store_pg_param_text(&p, job);
	store_pg_param_text(&p, target);
	if (store_pg_write(pg, sql_aim_add, &p, NULL, "set job targets", err) ==
	    0)
		return 0;
	if (strcmp(pg->sqlstate, STORE_PG_FOREIGN_KEY_VIOLATION) == 0)
		return cerr_set(err, CERR_NOT_FOUND, "no target '%s'", target);
	return -1;
}

/* Replaces the whole aim; a name listed twice counts once. An unknown job
 * or target changes nothing (CERR_NOT_FOUND). */
int
store_pg_job_targets_set(void *be, const char *job, const char *const *targets,
    size_t n, struct cerr *err)
{
	struct store_pg *pg = be;
	struct store_pg_params p = {0};
	PGresult *res = NULL;
	int rc = -1;

	if (store_pg_tx_enter(pg, "set job targets", err) < 0)
		return -1;
	store_pg_param_text(&p, job);
	if (store_pg_query(pg, sql_exists, &p, &res, "set job targets", err) <
	    0)
		goto out;
	if (PQntuples(res) == 0) {
		cerr_set(err, CERR_NOT_FOUND, "no job '%s'", job);
		goto out;
	}
	if (store_pg_write(
		pg, sql_aims_clear, &p, NULL, "set job targets", err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (aim_add(pg, job, targets[i], err) < 0)
			goto out;
	rc = 0;
out:
	PQclear(res);
	return store_pg_tx_leave(pg, rc == 0, "set job targets", err);
}

int
store_pg_list_names(struct store_pg *pg, const char *sql, const char *key,
    store_name_cb cb, void *arg, const char *what, struct cerr *err)
{
	struct store_pg_params p = {0};
	PGresult *res = NULL;

	store_pg_param_text(&p, key);
	if (store_pg_query(pg, sql, &p, &res, what, err) < 0)
		return -1;
	for (int i = 0; i < PQntuples(res); i++)
		if (cb(arg, store_pg_text(res, i, 0)) != 0)
			break;
	PQclear(res);
	return 0;
}

int
store_pg_job_targets_list(
    void *be, const char *job, store_name_cb cb, void *arg, struct cerr *err)
{
	return store_pg_list_names(
	    be, sql_aims_of_job, job, cb, arg, "list job targets", err);
}

int
store_pg_job_of_target_list(
    void *be, const char *target, store_name_cb cb, void *arg, struct cerr *err)
{
	return store_pg_list_names(
	    be, sql_aims_of_target, target, cb, arg, "list target jobs", err);
}
