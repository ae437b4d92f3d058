/*
 * store_sqlite_history: removing job runs from the history on request
 * (purge) and by a job's own row limit (the master's housekeeping). A job
 * run is its step-0 row and every step row of the same (target,
 * target_run_id); both calls delete step rows first, then the job rows,
 * whose count is the number of job runs removed, in one transaction.
 */
#include "store/store_sqlite.h"

/* ?1 job (NULL: every job), ?2 started before, in ms (0: any time). */
static const char sql_purge_steps[] =
    "DELETE FROM runs WHERE step > 0 AND (target, target_run_id) IN"
    " (SELECT target, target_run_id FROM runs WHERE step = 0"
    "  AND (?1 IS NULL OR job = ?1) AND (?2 = 0 OR started_at_ms < ?2))";
static const char sql_purge_jobs[] =
    "DELETE FROM runs WHERE step = 0 AND (?1 IS NULL OR job = ?1)"
    " AND (?2 = 0 OR started_at_ms < ?2)";
/* The newest job run of ?1 to remove: the (?2 + 1)th newest. */
static const char sql_job_cutoff[] =
    "SELECT started_at_ms, run_id FROM runs WHERE job = ?1 AND step = 0"
    " ORDER BY started_at_ms DESC, run_id DESC LIMIT 1 OFFSET ?2";
/* ?1 job; every job run at or before (?2 started_at_ms, ?3 run_id). */
static const char sql_cut_steps[] =
    "DELETE FROM runs WHERE step > 0 AND (target, target_run_id) IN"
    " (SELECT target, target_run_id FROM runs WHERE job = ?1 AND step = 0"
    "  AND (started_at_ms < ?2 OR (started_at_ms = ?2 AND run_id <= ?3)))";
static const char sql_cut_jobs[] =
    "DELETE FROM runs WHERE job = ?1 AND step = 0"
    " AND (started_at_ms < ?2 OR (started_at_ms = ?2 AND run_id <= ?3))";

/* Runs one delete with ?1 job (NULL binds SQL NULL) and integer ?2, ?3;
 * *changes (may be NULL) gets the rows removed. */
static int
run_delete(struct store_sqlite *sq, const char *sql, const char *job,
    const int64_t *args, int nargs, int64_t *changes, struct cerr *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql, &st, err) < 0)
		goto out;
	if (job != NULL)
		sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 1);
	for (int i = 0; i < nargs; i++)
		sqlite3_bind_int64(st, i + 2, args[i]);
	rc = store_sqlite_exec(sq, st, "delete history", err);
	if (rc == 0 && changes != NULL)
		*changes = sqlite3_changes(sq->db);
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_history_purge(void *be, const char *job, int64_t before_ms,
    int64_t *deleted_out, struct cerr *err)
{
	struct store_sqlite *sq = be;
	int64_t deleted = 0;
	int rc = -1;

	if (store_sqlite_tx_enter(sq, "purge history", err) < 0)
		return -1;
	if (run_delete(sq, sql_purge_steps, job, &before_ms, 1, NULL, err) <
		0 ||
	    run_delete(sq, sql_purge_jobs, job, &before_ms, 1, &deleted, err) <
		0)
		goto out;
	if (deleted_out != NULL)
		*deleted_out = deleted;
	rc = 0;
out:
	return store_sqlite_tx_leave(sq, rc == 0, "purge history", err);
}

/* The (keep + 1)th newest job run of job; *found 0 when there is none. */
static int
job_cutoff(struct store_sqlite *sq, const char *job, int64_t keep,
    int64_t cut[2], int *found, struct cerr *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql_job_cutoff, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, keep);
	step = sqlite3_step(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, "trim job history", err);
		goto out;
	}
	*found = step == SQLITE_ROW;
	if (*found) {
		cut[0] = sqlite3_column_int64(st, 0);
		cut[1] = sqlite3_column_int64(st, 1);
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_history_trim_job(
    void *be, const char *job, int64_t keep, struct cerr *err)
{
	struct store_sqlite *sq = be;
	int64_t cut[2];
	int rc = -1, found = 0;

	if (store_sqlite_tx_enter(sq, "trim job history", err) < 0)
		return -1;
	if (job_cutoff(sq, job, keep, cut, &found, err) < 0)
		goto out;
	if (found &&
	    (run_delete(sq, sql_cut_steps, job, cut, 2, NULL, err) < 0 ||
		run_delete(sq, sql_cut_jobs, job, cut, 2, NULL, err) < 0))
		goto out;
	rc = 0;
out:
	return store_sqlite_tx_leave(sq, rc == 0, "trim job history", err);
}
