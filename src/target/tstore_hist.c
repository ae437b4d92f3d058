/*
 * tstore_hist: the local history of finished runs and missed-run records
 * (see tstore.h), with its retention.
 */
#include "target/tstore.h"
#include "target/tstore_db.h"

#include <stdint.h>

int
tstore_hist_add(
    struct tstore *s, const struct tstore_hist_row *r, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_HIST_ADD];

	if (tstore_name_check("history job", r->job, err) < 0 ||
	    tstore_name_check("history outcome", r->outcome, err) < 0)
		return -1;
	if (r->run_id <= 0 || r->report == NULL)
		return cerr_set(err, CERR_INVALID,
		    "tstore: history add %s: no run id or no report", r->job);
	return tstore_stmt_run(s, ST_HIST_ADD,
	    sqlite3_bind_int64(st, 1, r->run_id) |
		sqlite3_bind_text(st, 2, r->job, -1, SQLITE_STATIC) |
		sqlite3_bind_int(st, 3, r->local != 0) |
		sqlite3_bind_text(st, 4, r->outcome, -1, SQLITE_STATIC) |
		sqlite3_bind_int64(st, 5, r->started_ms) |
		sqlite3_bind_int64(st, 6, r->duration_ms) |
		sqlite3_bind_text(st, 7, r->report, -1, SQLITE_STATIC),
	    "history add", err);
}

static const char *
col_text(sqlite3_stmt *st, int col)
{
	const char *v = (const char *)sqlite3_column_text(st, col);

	return v != NULL ? v : "";
}

int
tstore_hist_list(struct tstore *s, const char *job, int64_t limit,
    tstore_hist_cb cb, void *arg, struct cerr *err)
{
	enum stmt_id id = job != NULL ? ST_HIST_LIST_JOB : ST_HIST_LIST;
	struct tstore_hist_row r;
	sqlite3_stmt *st;
	int step;

	if (limit <= 0)
		return cerr_set(err, CERR_INVALID,
		    "tstore: history list: limit must be positive");
	st = tstore_list_start(s, id, "history list", err);
	if (st == NULL ||
	    tstore_bind_check(st,
		sqlite3_bind_int64(st, 1, limit) |
		    (job != NULL
			    ? sqlite3_bind_text(st, 2, job, -1, SQLITE_STATIC)
			    : SQLITE_OK),
		"history list", err) < 0)
		return -1;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		r.run_id = sqlite3_column_int64(st, 0);
		r.job = col_text(st, 1);
		r.local = sqlite3_column_int(st, 2);
		r.outcome = col_text(st, 3);
		r.started_ms = sqlite3_column_int64(st, 4);
		r.duration_ms = sqlite3_column_int64(st, 5);
		r.report = col_text(st, 6);
		if (cb(arg, &r) != 0) {
			step = SQLITE_DONE;
			break;
		}
	}
	return tstore_list_end(s, st, step, "history list", err);
}

int
tstore_hist_trim_job(struct tstore *s, const char *job, int64_t keep,
    int64_t before_ms, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_HIST_TRIM_JOB];

	if (tstore_name_check("history job", job, err) < 0)
		return -1;
	if (keep < 0 || before_ms < 0)
		return cerr_set(err, CERR_INVALID,
		    "tstore: history trim %s: negative limit", job);
	return tstore_stmt_run(s, ST_HIST_TRIM_JOB,
	    sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC) |
		sqlite3_bind_int64(st, 2, keep > 0 ? keep : INT64_MAX) |
		sqlite3_bind_int64(st, 3, before_ms),
	    "history trim", err);
}

int
tstore_hist_trim(struct tstore *s, int64_t keep, struct cerr *err)
{
	if (keep < 0)
		return cerr_set(
		    err, CERR_INVALID, "tstore: history trim: negative limit");
	return tstore_stmt_run(s, ST_HIST_TRIM,
	    sqlite3_bind_int64(s->st[ST_HIST_TRIM], 1, keep), "history trim",
	    err);
}
