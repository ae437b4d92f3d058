/*
 * store_sqlite_run: the central job history. Targets upload outcomes at
 * high rates and may upload one twice (an outbox resends what it is not
 * sure arrived), so store_run_put is one cached upsert on the row's
 * natural key (target, target_run_id, step, attempt). Retention runs often
 * on a possibly large table, so every step of it walks an index from the
 * newest end and never counts or sorts the whole table.
 */
#include "store/store_sqlite.h"

#include <stdio.h>
#include <string.h>

#define RUN_COLS_BUT_OUTPUT                                                    \
	"run_id, target, target_run_id, job, step, attempt, step_name,"        \
	" outcome, exit_code, started_at_ms, tz_offset_s, duration_ms,"        \
	" instr_id, message"
#define RUN_COLS RUN_COLS_BUT_OUTPUT ", output"

/* A late "running" never overwrites a finished row: an outbox may
 * deliver the start of a run after its end. Nor does a copy the target
 * cut or stripped since (its output a "[cohort: output ..." line,
 * upload_fit.h) overwrite the longer output the master already stored:
 * a record whose acknowledgement was lost is sent again, and in between
 * its outputs may have been cut to a smaller budget or dropped for
 * outbox_max_bytes. */
static const char sql_put[] =
    "INSERT INTO runs (target, target_run_id, job, step, attempt,"
    " step_name, outcome, exit_code, started_at_ms, tz_offset_s,"
    " duration_ms, instr_id, message, output)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    " ON CONFLICT (target, target_run_id, step, attempt) DO UPDATE SET"
    "  job = excluded.job, step_name = excluded.step_name,"
    "  outcome = excluded.outcome, exit_code = excluded.exit_code,"
    "  started_at_ms = excluded.started_at_ms,"
    "  tz_offset_s = excluded.tz_offset_s,"
    "  duration_ms = excluded.duration_ms, instr_id = excluded.instr_id,"
    "  message = excluded.message,"
    "  output = CASE WHEN substr(excluded.output, 1, 16) = '[cohort: output '"
    "   AND length(runs.output) > length(excluded.output) THEN runs.output"
    "   ELSE excluded.output END"
    " WHERE runs.outcome = 'running' OR excluded.outcome <> 'running'";
/*
 * Retention per job, in one statement so the deletions run as one pass in
 * key order (a loop of per-job DELETEs thrashes the page cache on a big
 * table). jobs: every job name, found with one index probe per job (a
 * skip-scan by hand). cut: per job, the newest job run to remove (the
 * (?1 + 1)th newest step-0 row), if there is one. A job run is its step-0
 * row and every step row of the same (target, target_run_id).
 */
static const char sql_job_trim[] =
    "WITH RECURSIVE"
    " jobs(name) AS (SELECT min(job) FROM runs"
    "  UNION ALL SELECT (SELECT min(job) FROM runs WHERE job > jobs.name)"
    "  FROM jobs WHERE jobs.name IS NOT NULL),"
    " cut(job, id) AS MATERIALIZED (SELECT name,"
    "  (SELECT run_id FROM runs WHERE job = jobs.name AND step = 0"
    "   ORDER BY started_at_ms DESC, run_id DESC LIMIT 1 OFFSET ?1)"
    "  FROM jobs WHERE name IS NOT NULL)"
    " DELETE FROM runs WHERE (target, target_run_id) IN"
    " (SELECT r.target, r.target_run_id FROM cut"
    "  CROSS JOIN runs e ON e.run_id = cut.id"
    "  CROSS JOIN runs r ON r.job = cut.job AND r.step = 0"
    "   AND (r.started_at_ms < e.started_at_ms"
    "    OR (r.started_at_ms = e.started_at_ms AND r.run_id <= e.run_id)))";
/* The job view: per target, its newest finished job row. The window
 * reads only the job's step-0 rows (runs_by_job), which retention keeps
 * few. */
static const char sql_last_per_target[] =
    "SELECT " RUN_COLS " FROM (SELECT " RUN_COLS ", row_number() OVER"
    " (PARTITION BY target ORDER BY started_at_ms DESC, run_id DESC) AS rn"
    " FROM runs WHERE job = ?1 AND step = 0 AND outcome <> 'running')"
    " WHERE rn = 1 ORDER BY target";
/* Retention in all: everything from the (?1 + 1)th newest row back. */
static const char sql_all_cutoff[] =
    "SELECT started_at_ms, run_id FROM runs"
    " ORDER BY started_at_ms DESC, run_id DESC LIMIT 1 OFFSET ?1";
static const char sql_all_delete[] =
    "DELETE FROM runs WHERE started_at_ms < ?1"
    " OR (started_at_ms = ?1 AND run_id <= ?2)";

int
store_sqlite_run_put(void *be, const struct store_run *r, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_put, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, r->target, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->target_run_id);
	sqlite3_bind_text(st, 3, r->job, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, r->step);
	sqlite3_bind_int(st, 5, r->attempt);
	sqlite3_bind_text(st, 6, r->step_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(
	    st, 7, run_outcome_name(r->outcome), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, r->exit_code);
	sqlite3_bind_int64(st, 9, r->started_at_ms);
	sqlite3_bind_int(st, 10, r->tz_offset_s);
	sqlite3_bind_int64(st, 11, r->duration_ms);
	sqlite3_bind_int64(st, 12, r->instr_id);
	sqlite3_bind_text(
	    st, 13, r->message != NULL ? r->message : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(
	    st, 14, r->output != NULL ? r->output : "", -1, SQLITE_STATIC);
	rc = store_sqlite_exec(sq, st, "put run", err);
out:
	store_sqlite_done(sq, st);
	return rc;
}

static int
run_row(sqlite3_stmt *st, struct store_run *r, struct cerr *err)
{
	r->run_id = sqlite3_column_int64(st, 0);
	store_sqlite_copy(st, 1, r->target, sizeof(r->target));
	r->target_run_id = sqlite3_column_int64(st, 2);
	store_sqlite_copy(st, 3, r->job, sizeof(r->job));
	r->step = sqlite3_column_int(st, 4);
	r->attempt = sqlite3_column_int(st, 5);
	store_sqlite_copy(st, 6, r->step_name, sizeof(r->step_name));
	if (run_outcome_parse(store_sqlite_text(st, 7), &r->outcome) < 0)
		return cerr_set(err, CERR_INTERNAL,
		    "store: run %lld: unknown outcome", (long long)r->run_id);
	r->exit_code = sqlite3_column_int(st, 8);
	r->started_at_ms = sqlite3_column_int64(st, 9);
	r->tz_offset_s = sqlite3_column_int(st, 10);
	r->duration_ms = sqlite3_column_int64(st, 11);
	r->instr_id = sqlite3_column_int64(st, 12);
	r->message = store_sqlite_text(st, 13);
	r->output = store_sqlite_text(st, 14);
	return 0;
}

/* Builds the listing for the filters in use (256 combinations: built, not
 * cached) and binds its parameters. since_ms is inclusive, until_ms
 * exclusive. */
static int
list_prepare(struct store_sqlite *sq, const struct store_run_filter *f,
    sqlite3_stmt **out, struct cerr *err)
{
	char sql[2048], where[512];
	sqlite3_stmt *st = NULL;

	snprintf(where, sizeof(where), "1%s%s%s%s%s%s%s",
	    f->target_run_id > 0 ? " AND target_run_id = :trid" : "",
	    f->job != NULL ? " AND job = :job" : "",
	    f->target != NULL ? " AND target = :target" : "",
	    f->outcome >= 0 ? " AND outcome = :outcome" : "",
	    f->since_ms != 0 ? " AND started_at_ms >= :since" : "",
	    f->until_ms != 0 ? " AND started_at_ms < :until" : "",
	    f->job_rows_only || f->whole_runs ? " AND step = 0" : "");
	/* Without the output, a row's overflow pages are never read. */
	if (f->whole_runs)
		snprintf(sql, sizeof(sql),
		    "SELECT " RUN_COLS_BUT_OUTPUT ", %s FROM runs WHERE "
		    "(target, target_run_id) IN (SELECT target, target_run_id "
		    "FROM runs WHERE %s ORDER BY started_at_ms DESC, run_id "
		    "DESC LIMIT :limit) ORDER BY started_at_ms DESC, run_id "
		    "DESC",
		    f->without_output ? "''" : "output", where);
	else
		snprintf(sql, sizeof(sql),
		    "SELECT " RUN_COLS_BUT_OUTPUT ", %s FROM runs WHERE %s"
		    " ORDER BY started_at_ms DESC, run_id DESC LIMIT :limit",
		    f->without_output ? "''" : "output", where);
	if (store_sqlite_prepare(sq, sql, &st, "list runs", err) < 0)
		return -1;
	sqlite3_bind_int64(
	    st, sqlite3_bind_parameter_index(st, ":trid"), f->target_run_id);
	if (f->job != NULL)
		sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":job"),
		    f->job, -1, SQLITE_STATIC);
	if (f->target != NULL)
		sqlite3_bind_text(st,
		    sqlite3_bind_parameter_index(st, ":target"), f->target, -1,
		    SQLITE_STATIC);
	if (f->outcome >= 0)
		sqlite3_bind_text(st,
		    sqlite3_bind_parameter_index(st, ":outcome"),
		    run_outcome_name((enum run_outcome)f->outcome), -1,
		    SQLITE_STATIC);
	sqlite3_bind_int64(
	    st, sqlite3_bind_parameter_index(st, ":since"), f->since_ms);
	sqlite3_bind_int64(
	    st, sqlite3_bind_parameter_index(st, ":until"), f->until_ms);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":limit"),
	    f->limit > 0 ? f->limit : -1);
	*out = st;
	return 0;
}

int
store_sqlite_run_list(void *be, const struct store_run_filter *f,
    store_run_cb cb, void *arg, struct cerr *err)
{
	struct store_sqlite *sq = be;
	struct store_run r;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (list_prepare(sq, f, &st, err) < 0)
		goto out;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (run_row(st, &r, err) < 0)
			goto out;
		if (cb(arg, &r) != 0) {
			step = SQLITE_DONE;
			break;
		}
	}
	if (step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, "list runs", err);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

int
store_sqlite_run_last_per_target(
    void *be, const char *job, store_run_cb cb, void *arg, struct cerr *err)
{
	struct store_sqlite *sq = be;
	struct store_run r;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql_last_per_target, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (run_row(st, &r, err) < 0)
			goto out;
		if (cb(arg, &r) != 0) {
			step = SQLITE_DONE;
			break;
		}
	}
	if (step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, "last runs per target", err);
		goto out;
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

/* Finds the newest row to remove: the (skip + 1)th newest row. *found
 * is 0 when there are no more than skip rows. */
static int
find_cutoff(struct store_sqlite *sq, int64_t skip, int64_t cut[2], int *found,
    struct cerr *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql_all_cutoff, &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, skip);
	step = sqlite3_step(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, "trim history", err);
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

/* Runs one retention statement with its integer parameters ?1..?n. */
static int
trim_step(struct store_sqlite *sq, const char *sql, const int64_t *args, int n,
    struct cerr *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql, &st, err) < 0)
		goto out;
	for (int i = 0; i < n; i++)
		sqlite3_bind_int64(st, i + 1, args[i]);
	rc = store_sqlite_exec(sq, st, "trim history", err);
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_run_trim(
    void *be, int64_t max_rows, int64_t max_per_job, struct cerr *err)
{
	struct store_sqlite *sq = be;
	int64_t cut[2];
	int rc = -1, found = 0;

	if (store_sqlite_tx_enter(sq, "trim history", err) < 0)
		return -1;
	if (trim_step(sq, sql_job_trim, &max_per_job, 1, err) < 0 ||
	    find_cutoff(sq, max_rows, cut, &found, err) < 0)
		goto out;
	if (found && trim_step(sq, sql_all_delete, cut, 2, err) < 0)
		goto out;
	rc = 0;
out:
	return store_sqlite_tx_leave(sq, rc == 0, "trim history", err);
}
