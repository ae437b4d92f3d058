/*
 * store_sqlite_event: events forwarded by targets, in the SQLite backend
 * (see store.h). A target's outbox may upload an event twice, so adding
 * is an insert that does nothing on the event's natural key (target,
 * event_id) and says whether it added a row: the master notifies only for
 * the first. Severities are kept by name; "at or above" ranks them in the
 * query.
 */
#include "store/store_sqlite.h"

#include <string.h>

#define EVENT_COLS                                                             \
	"id, target, event_id, time_ms, severity, kind, job, target_run_id,"   \
	" message, received_at"

static const char sql_add[] =
    "INSERT INTO events (target, event_id, time_ms, severity, kind, job,"
    " target_run_id, message, received_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    " ON CONFLICT (target, event_id) DO NOTHING";
/* NULL parameters switch a filter off: one cached statement serves every
 * combination. */
static const char sql_list[] =
    "SELECT " EVENT_COLS " FROM events"
    " WHERE (?1 IS NULL OR target = ?1)"
    " AND (?2 < 0 OR CASE severity WHEN 'info' THEN 0 WHEN 'warning' THEN 1"
    "  WHEN 'error' THEN 2 ELSE 3 END >= ?2)"
    " ORDER BY id DESC LIMIT ?3";
static const char sql_trim[] =
    "DELETE FROM events WHERE id <= (SELECT id FROM events"
    " ORDER BY id DESC LIMIT 1 OFFSET ?1)";

int
store_sqlite_event_add(
    void *be, const struct store_event *e, int *added_out, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_add, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, e->target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, e->event_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, e->time_ms);
	sqlite3_bind_text(
	    st, 4, eventrec_severity_name(e->severity), -1, SQLITE_STATIC);
	sqlite3_bind_text(
	    st, 5, eventrec_kind_name(e->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, e->job, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, e->target_run_id);
	sqlite3_bind_text(st, 8, e->message, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, e->received_at);
	if (store_sqlite_exec(sq, st, "add event", err) < 0)
		goto out;
	*added_out = sqlite3_changes(sq->db) > 0;
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

static int
event_row(sqlite3_stmt *st, struct store_event *e, struct cerr *err)
{
	e->id = sqlite3_column_int64(st, 0);
	store_sqlite_copy(st, 1, e->target, sizeof(e->target));
	store_sqlite_copy(st, 2, e->event_id, sizeof(e->event_id));
	e->time_ms = sqlite3_column_int64(st, 3);
	if (eventrec_severity_parse(store_sqlite_text(st, 4), &e->severity) <
		0 ||
	    eventrec_kind_parse(store_sqlite_text(st, 5), &e->kind) < 0)
		return cerr_set(err, CERR_INTERNAL,
		    "store: event %lld: unknown severity or kind",
		    (long long)e->id);
	store_sqlite_copy(st, 6, e->job, sizeof(e->job));
	e->target_run_id = sqlite3_column_int64(st, 7);
	e->message = store_sqlite_text(st, 8);
	e->received_at = sqlite3_column_int64(st, 9);
	return 0;
}

int
store_sqlite_event_list(void *be, const struct store_event_filter *f,
    store_event_cb cb, void *arg, struct cerr *err)
{
	struct store_sqlite *sq = be;
	struct store_event e;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql_list, &st, err) < 0)
		goto out;
	if (f->target != NULL)
		sqlite3_bind_text(st, 1, f->target, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, f->min_severity);
	sqlite3_bind_int64(st, 3, f->limit > 0 ? f->limit : -1);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (event_row(st, &e, err) < 0)
			goto out;
		if (cb(arg, &e) != 0) {
			step = SQLITE_DONE;
			break;
		}
	}
	if (step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, "list events", err);
		goto out;
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_event_trim(void *be, int64_t keep, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_trim, &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, keep);
	rc = store_sqlite_exec(sq, st, "trim events", err);
out:
	store_sqlite_done(sq, st);
	return rc;
}
