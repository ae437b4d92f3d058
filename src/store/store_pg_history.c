/*
 * store_pg_history: removing job runs from the history on request (purge)
 * and by a job's own row limit, on PostgreSQL (the counterpart of
 * store_sqlite_history.c). A job run is its step-0 row and every step row
 * of the same (target, target_run_id); step rows go first, then the job
 * rows, whose count is the number of job runs removed, in one transaction.
 */
#include "store/store_pg.h"

/* $1 job (NULL: every job), $2 started before, in ms (0: any time). */
static const char sql_purge_steps[] =
    "DELETE FROM runs WHERE step > 0 AND (target, target_run_id) IN"
    " (SELECT target, target_run_id FROM runs WHERE step = 0"
    "  AND ($1::text IS NULL OR job = $1::text)"
    "  AND ($2::bigint = 0 OR started_at_ms < $2::bigint))";
static const char sql_purge_jobs[] =
    "DELETE FROM runs WHERE step = 0"
    " AND ($1::text IS NULL OR job = $1::text)"
    " AND ($2::bigint = 0 OR started_at_ms < $2::bigint)";
/* The newest job run of $1 to remove: the ($2 + 1)th newest. */
static const char sql_job_cutoff[] =
    "SELECT started_at_ms, run_id FROM runs WHERE job = $1 AND step = 0"
    " ORDER BY started_at_ms DESC, run_id DESC LIMIT 1 OFFSET $2";
/* $1 job; every job run at or before ($2 started_at_ms, $3 run_id). */
static const char sql_cut_steps[] =
    "DELETE FROM runs WHERE step > 0 AND (target, target_run_id) IN"
    " (SELECT target, target_run_id FROM runs WHERE job = $1 AND step = 0"
    "  AND (started_at_ms, run_id) <= ($2::bigint, $3::bigint))";
static const char sql_cut_jobs[] =
    "DELETE FROM runs WHERE job = $1 AND step = 0"
    " AND (started_at_ms, run_id) <= ($2::bigint, $3::bigint)";

int
store_pg_history_purge(void *be, const char *job, int64_t before_ms,
    int64_t *deleted_out, struct cerr *err)
{
	static const char what[] = "purge history";
	struct store_pg *pg = be;
	struct store_pg_params p = {0};
	PGresult *res = NULL;
	int rc = -1;

	store_pg_param_text(&p, job);
	store_pg_param_int(&p, before_ms);
	if (store_pg_tx_enter(pg, what, err) < 0)
		return -1;
	if (store_pg_write(pg, sql_purge_steps, &p, NULL, what, err) < 0 ||
	    store_pg_write(pg, sql_purge_jobs, &p, &res, what, err) < 0)
		goto out;
	if (deleted_out != NULL)
		*deleted_out = store_pg_changes(res);
	rc = 0;
out:
	PQclear(res);
	return store_pg_tx_leave(pg, rc == 0, what, err);
}

int
store_pg_history_trim_job(
    void *be, const char *job, int64_t keep, struct cerr *err)
{
	static const char what[] = "trim job history";
	struct store_pg *pg = be;
	struct store_pg_params q = {0}, cut = {0};
	PGresult *res = NULL;
	int rc = -1;

	store_pg_param_text(&q, job);
	store_pg_param_int(&q, keep);
	if (store_pg_tx_enter(pg, what, err) < 0)
		return -1;
	if (store_pg_query(pg, sql_job_cutoff, &q, &res, what, err) < 0)
		goto out;
	if (PQntuples(res) > 0) {
		store_pg_param_text(&cut, job);
		store_pg_param_int(&cut, store_pg_int(res, 0, 0));
		store_pg_param_int(&cut, store_pg_int(res, 0, 1));
		if (store_pg_write(pg, sql_cut_steps, &cut, NULL, what, err) <
			0 ||
		    store_pg_write(pg, sql_cut_jobs, &cut, NULL, what, err) < 0)
			goto out;
	}
	rc = 0;
out:
	PQclear(res);
	return store_pg_tx_leave(pg, rc == 0, what, err);
}
