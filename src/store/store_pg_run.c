/*
 * store_pg_run: the central job history on PostgreSQL (the counterpart
 * of store_sqlite_run.c). Targets upload outcomes at high rates and may
 * upload one twice, so store_run_put is one prepared upsert on the row's
 * natural key (target, target_run_id, step, attempt). Retention walks the
 * indexes from the newest end and never counts or sorts the whole table.
 */
#include "store/store_pg.h"

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
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
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
 * Retention per job in one statement. jobs: every job name, found with
 * one index probe per job (a loose index scan by hand). cut: per job, the
 * newest job run to remove (the ($1 + 1)th newest step-0 row), if there
 * is one. A job run is its step-0 row and every step row of the same
 * (target, target_run_id).
 */
static const char sql_job_trim[] =
    "WITH RECURSIVE"
    " jobs(name) AS (SELECT min(job) FROM runs"
    "  UNION ALL SELECT (SELECT min(job) FROM runs WHERE job > jobs.name)"
    "  FROM jobs WHERE jobs.name IS NOT NULL),"
    " cut(job, started_at_ms, run_id) AS MATERIALIZED (SELECT jobs.name,"
    "  c.started_at_ms, c.run_id FROM jobs CROSS JOIN LATERAL"
    "  (SELECT started_at_ms, run_id FROM runs"
    "   WHERE job = jobs.name AND step = 0"
    "   ORDER BY started_at_ms DESC, run_id DESC LIMIT 1 OFFSET $1) c)"
    " DELETE FROM runs WHERE (target, target_run_id) IN"
    " (SELECT r.target, r.target_run_id FROM cut"
    "  JOIN runs r ON r.job = cut.job AND r.step = 0"
    "   AND (r.started_at_ms, r.run_id) <= (cut.started_at_ms, cut.run_id))";
/* The job view: per target, its newest finished job row. */
static const char sql_last_per_target[] =
    "SELECT DISTINCT ON (target) " RUN_COLS " FROM runs"
    " WHERE job = $1 AND step = 0 AND outcome <> 'running'"
    " ORDER BY target, started_at_ms DESC, run_id DESC";
/* Retention in all: everything from the ($1 + 1)th newest row back. */
static const char sql_all_cutoff[] =
    "SELECT started_at_ms, run_id FROM runs"
    " ORDER BY started_at_ms DESC, run_id DESC LIMIT 1 OFFSET $1";
static const char sql_all_delete[] =
    "DELETE FROM runs WHERE (started_at_ms, run_id) <= ($1, $2)";

int
store_pg_run_put(void *be, const struct store_run *r, struct cerr *err)
{
	struct store_pg_params p = {0};

	store_pg_param_text(&p, r->target);
	store_pg_param_int(&p, r->target_run_id);
	store_pg_param_text(&p, r->job);
	store_pg_param_int(&p, r->step);
	store_pg_param_int(&p, r->attempt);
	store_pg_param_text(&p, r->step_name);
	store_pg_param_text(&p, run_outcome_name(r->outcome));
	store_pg_param_int(&p, r->exit_code);
	store_pg_param_int(&p, r->started_at_ms);
	store_pg_param_int(&p, r->tz_offset_s);
	store_pg_param_int(&p, r->duration_ms);
	store_pg_param_int(&p, r->instr_id);
	store_pg_param_text(&p, r->message != NULL ? r->message : "");
	store_pg_param_text(&p, r->output != NULL ? r->output : "");
	return store_pg_write(be, sql_put, &p, NULL, "put run", err);
}

static int
run_row(const PGresult *res, int row, struct store_run *r, struct cerr *err)
{
	r->run_id = store_pg_int(res, row, 0);
	store_pg_copy(res, row, 1, r->target, sizeof(r->target));
	r->target_run_id = store_pg_int(res, row, 2);
	store_pg_copy(res, row, 3, r->job, sizeof(r->job));
	r->step = (int)store_pg_int(res, row, 4);
	r->attempt = (int)store_pg_int(res, row, 5);
	store_pg_copy(res, row, 6, r->step_name, sizeof(r->step_name));
	if (run_outcome_parse(store_pg_text(res, row, 7), &r->outcome) < 0)
		return cerr_set(err, CERR_INTERNAL,
		    "store: run %lld: unknown outcome", (long long)r->run_id);
	r->exit_code = (int)store_pg_int(res, row, 8);
	r->started_at_ms = store_pg_int(res, row, 9);
	r->tz_offset_s = (int32_t)store_pg_int(res, row, 10);
	r->duration_ms = store_pg_int(res, row, 11);
	r->instr_id = store_pg_int(res, row, 12);
	r->message = store_pg_text(res, row, 13);
	r->output = store_pg_text(res, row, 14);
	return 0;
}

/* Appends text to sql and, when n is not NULL, the next parameter's
 * placeholder ($1, $2, ...). */
static void
append(char *sql, size_t size, const char *text, int *n)
{
	size_t len = strlen(sql);

	if (n == NULL)
		snprintf(sql + len, size - len, "%s", text);
	else
		snprintf(sql + len, size - len, "%s$%d", text, ++*n);
}

/* Builds the listing for the filters in use (256 combinations: built, not
 * prepared) and its parameters. since_ms is inclusive, until_ms
 * exclusive. */
static void
list_build(const struct store_run_filter *f, char *sql, size_t size,
    struct store_pg_params *p)
{
	int n = 0;

	snprintf(sql, size,
	    "SELECT " RUN_COLS_BUT_OUTPUT ", %s FROM runs WHERE %s",
	    f->without_output ? "''" : "output",
	    f->whole_runs ? "(target, target_run_id) IN (SELECT target, "
			    "target_run_id FROM runs WHERE TRUE"
			  : "TRUE");
	if (f->target_run_id > 0) {
		append(sql, size, " AND target_run_id = ", &n);
		store_pg_param_int(p, f->target_run_id);
	}
	if (f->job != NULL) {
		append(sql, size, " AND job = ", &n);
		store_pg_param_text(p, f->job);
	}
	if (f->target != NULL) {
		append(sql, size, " AND target = ", &n);
		store_pg_param_text(p, f->target);
	}
	if (f->outcome >= 0) {
		append(sql, size, " AND outcome = ", &n);
		store_pg_param_text(
		    p, run_outcome_name((enum run_outcome)f->outcome));
	}
	if (f->since_ms != 0) {
		append(sql, size, " AND started_at_ms >= ", &n);
		store_pg_param_int(p, f->since_ms);
	}
	if (f->until_ms != 0) {
		append(sql, size, " AND started_at_ms < ", &n);
		store_pg_param_int(p, f->until_ms);
	}
	if (f->job_rows_only || f->whole_runs)
		append(sql, size, " AND step = 0", NULL);
	append(sql, size, " ORDER BY started_at_ms DESC, run_id DESC", NULL);
	if (f->limit > 0) {
		append(sql, size, " LIMIT ", &n);
		store_pg_param_int(p, f->limit);
	}
	if (f->whole_runs)
		append(sql, size, ") ORDER BY started_at_ms DESC, run_id DESC",
		    NULL);
}

int
store_pg_run_list(void *be, const struct store_run_filter *f, store_run_cb cb,
    void *arg, struct cerr *err)
{
	struct store_pg_params p = {0};
	struct store_run r;
	PGresult *res = NULL;
	char sql[2048];
	int rc = -1;

	list_build(f, sql, sizeof(sql), &p);
	if (store_pg_query_once(be, sql, &p, &res, "list runs", err) < 0)
		goto out;
	for (int i = 0; i < PQntuples(res); i++) {
		if (run_row(res, i, &r, err) < 0)
			goto out;
		if (cb(arg, &r) != 0)
			break;
	}
	rc = 0;
out:
	PQclear(res);
	return rc;
}

int
store_pg_run_last_per_target(
    void *be, const char *job, store_run_cb cb, void *arg, struct cerr *err)
{
	struct store_pg_params p = {0};
	struct store_run r;
	PGresult *res = NULL;
	int rc = -1;

	store_pg_param_text(&p, job);
	if (store_pg_query(be, sql_last_per_target, &p, &res,
		"last runs per target", err) < 0)
		goto out;
	for (int i = 0; i < PQntuples(res); i++) {
		if (run_row(res, i, &r, err) < 0)
			goto out;
		if (cb(arg, &r) != 0)
			break;
	}
	rc = 0;
out:
	PQclear(res);
	return rc;
}

int
store_pg_run_trim(
    void *be, int64_t max_rows, int64_t max_per_job, struct cerr *err)
{
	static const char what[] = "trim history";
	struct store_pg *pg = be;
	struct store_pg_params per_job = {0}, all = {0}, cut = {0};
	PGresult *res = NULL;
	int rc = -1;

	if (store_pg_tx_enter(pg, what, err) < 0)
		return -1;
	store_pg_param_int(&per_job, max_per_job);
	store_pg_param_int(&all, max_rows);
	if (store_pg_write(pg, sql_job_trim, &per_job, NULL, what, err) < 0 ||
	    store_pg_query(pg, sql_all_cutoff, &all, &res, what, err) < 0)
		goto out;
	if (PQntuples(res) > 0) {
		store_pg_param_int(&cut, store_pg_int(res, 0, 0));
		store_pg_param_int(&cut, store_pg_int(res, 0, 1));
		if (store_pg_write(pg, sql_all_delete, &cut, NULL, what, err) <
		    0)
			goto out;
	}
	rc = 0;
out:
	PQclear(res);
	return store_pg_tx_leave(pg, rc == 0, what, err);
}
