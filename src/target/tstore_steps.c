/*
 * tstore_steps: the step attempts of the runs that are going, and each
 * running run's start (see tstore.h). Only a start-up after a crash
 * reads them: they let a run cut off mid-way be recorded with the start
 * it had and the steps it ran, rather than as if it began at the
 * restart.
 */
#include "target/tstore.h"
#include "target/tstore_db.h"

#include <stdint.h>

int
tstore_run_set_started(
    struct tstore *s, int64_t run_id, int64_t started_ms, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_RUN_SET_STARTED];

	if (tstore_stmt_run(s, ST_RUN_SET_STARTED,
		sqlite3_bind_int64(st, 1, run_id) |
		    sqlite3_bind_int64(st, 2, started_ms),
		"run set started", err) < 0)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return cerr_set(err, CERR_NOT_FOUND,
		    "tstore: run %lld: not found", (long long)run_id);
	return 0;
}

int
tstore_step_put(struct tstore *s, int64_t run_id, const struct tstore_step *r,
    struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_STEP_PUT];

	if (tstore_name_check("step outcome", r->outcome, err) < 0)
		return -1;
	if (r->step <= 0 || r->attempt <= 0 || r->step_name == NULL ||
	    r->message == NULL)
		return cerr_set(err, CERR_INVALID,
		    "tstore: run %lld step %d attempt %d: no step, attempt, "
		    "name or message",
		    (long long)run_id, r->step, r->attempt);
	return tstore_stmt_run(s, ST_STEP_PUT,
	    sqlite3_bind_int64(st, 1, run_id) |
		sqlite3_bind_int(st, 2, r->step) |
		sqlite3_bind_int(st, 3, r->attempt) |
		sqlite3_bind_text(st, 4, r->step_name, -1, SQLITE_STATIC) |
		sqlite3_bind_text(st, 5, r->outcome, -1, SQLITE_STATIC) |
		sqlite3_bind_int(st, 6, r->exit_code) |
		sqlite3_bind_int64(st, 7, r->started_ms) |
		sqlite3_bind_int64(st, 8, r->duration_ms) |
		sqlite3_bind_text(st, 9, r->message, -1, SQLITE_STATIC),
	    "step put", err);
}

static const char *
col_text(sqlite3_stmt *st, int col)
{
	const char *v = (const char *)sqlite3_column_text(st, col);

	return v != NULL ? v : "";
}

int
tstore_step_list(struct tstore *s, int64_t run_id, tstore_step_cb cb, void *arg,
    struct cerr *err)
{
	sqlite3_stmt *st = tstore_list_start(s, ST_STEP_LIST, "step list", err);
	int step;

	if (st == NULL ||
	    tstore_bind_check(
		st, sqlite3_bind_int64(st, 1, run_id), "step list", err) < 0)
		return -1;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct tstore_step row = {sqlite3_column_int(st, 0),
		    sqlite3_column_int(st, 1), col_text(st, 2), col_text(st, 3),
		    sqlite3_column_int(st, 4), sqlite3_column_int64(st, 5),
		    sqlite3_column_int64(st, 6), col_text(st, 7)};

		if (cb(arg, &row) != 0) {
			step = SQLITE_DONE;
			break;
		}
	}
	return tstore_list_end(s, st, step, "step list", err);
}

int
tstore_step_delete(struct tstore *s, int64_t run_id, struct cerr *err)
{
	return tstore_stmt_run(s, ST_STEP_DELETE,
	    sqlite3_bind_int64(s->st[ST_STEP_DELETE], 1, run_id), "step delete",
	    err);
}
