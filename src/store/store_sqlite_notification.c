/*
 * store_sqlite_notification: notifications and the record of their
 * delivery, in the SQLite backend (see store.h). A notification is added
 * once per key (a run's outcome may be uploaded twice); the deliverer
 * reads the due ones through the (status, next_at) index, claims each by
 * moving its next_at past the attempt's time limit, and records every
 * attempt's result on the row.
 */
#include "store/store_sqlite.h"

#define NOTIFICATION_COLS                                                      \
	"id, dedupe_key, operator, subject, payload, status, attempts,"        \
	" next_at, last_error, created_at, updated_at"

static const char sql_add[] =
    "INSERT INTO notifications (dedupe_key, operator, subject, payload,"
    " status, attempts, next_at, last_error, created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, '', ?6, ?6)"
    " ON CONFLICT (dedupe_key) DO NOTHING";
static const char sql_due[] = "SELECT " NOTIFICATION_COLS " FROM notifications"
			      " WHERE status = 'pending' AND next_at <= ?1"
			      " ORDER BY next_at, id LIMIT ?2";
static const char sql_next_due[] =
    "SELECT min(next_at) FROM notifications WHERE status = 'pending'";
static const char sql_update[] =
    "UPDATE notifications SET status = ?2, attempts = ?3, next_at = ?4,"
    " last_error = ?5, updated_at = ?6 WHERE id = ?1";
static const char sql_list[] =
    "SELECT " NOTIFICATION_COLS " FROM notifications"
    " WHERE (?1 IS NULL OR operator = ?1) AND (?2 IS NULL OR status = ?2)"
    " ORDER BY id DESC LIMIT ?3";
/* Finished rows beyond the newest ?1 go; pending ones never. */
static const char sql_trim[] =
    "DELETE FROM notifications WHERE status <> 'pending' AND id <="
    " (SELECT id FROM notifications WHERE status <> 'pending'"
    "  ORDER BY id DESC LIMIT 1 OFFSET ?1)";

int
store_sqlite_notification_add(void *be, const struct store_notification *n,
    int *added_out, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_add, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, n->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, n->operator_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, n->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, n->payload, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, n->next_at);
	sqlite3_bind_int64(st, 6, n->created_at);
	if (store_sqlite_exec(sq, st, "add notification", err) < 0)
		goto out;
	*added_out = sqlite3_changes(sq->db) > 0;
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

static int
notification_row(
    sqlite3_stmt *st, struct store_notification *n, struct cerr *err)
{
	n->id = sqlite3_column_int64(st, 0);
	store_sqlite_copy(st, 1, n->key, sizeof(n->key));
	store_sqlite_copy(st, 2, n->operator_name, sizeof(n->operator_name));
	store_sqlite_copy(st, 3, n->subject, sizeof(n->subject));
	n->payload = store_sqlite_text(st, 4);
	if (store_delivery_status_parse(store_sqlite_text(st, 5), &n->status) <
	    0)
		return cerr_set(err, CERR_INTERNAL,
		    "store: notification %lld: unknown status",
		    (long long)n->id);
	n->attempts = sqlite3_column_int(st, 6);
	n->next_at = sqlite3_column_int64(st, 7);
	n->last_error = store_sqlite_text(st, 8);
	n->created_at = sqlite3_column_int64(st, 9);
	n->updated_at = sqlite3_column_int64(st, 10);
	return 0;
}

/* Steps a bound listing to its end, calling cb per row. */
static int
list_rows(struct store_sqlite *sq, sqlite3_stmt *st, store_notification_cb cb,
    void *arg, const char *what, struct cerr *err)
{
	struct store_notification n;
	int step;

	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (notification_row(st, &n, err) < 0)
			return -1;
		if (cb(arg, &n) != 0)
			return 0;
	}
	if (step != SQLITE_DONE)
		return store_sqlite_fail(sq, step, what, err);
	return 0;
}

int
store_sqlite_notification_due(void *be, int64_t now, int limit,
    store_notification_cb cb, void *arg, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_due, &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, limit);
	rc = list_rows(sq, st, cb, arg, "due notifications", err);
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_notification_next_due(
    void *be, int64_t *next_at_out, int *found_out, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql_next_due, &st, err) < 0)
		goto out;
	step = sqlite3_step(st);
	if (step != SQLITE_ROW) {
		store_sqlite_fail(sq, step, "next due notification", err);
		goto out;
	}
	*found_out = sqlite3_column_type(st, 0) != SQLITE_NULL;
	*next_at_out = sqlite3_column_int64(st, 0);
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_notification_update(void *be, int64_t id,
    enum delivery_status status, int attempts, int64_t next_at,
    const char *last_error, int64_t now, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_update, &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(
	    st, 2, store_delivery_status_name(status), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, attempts);
	sqlite3_bind_int64(st, 4, next_at);
	sqlite3_bind_text(st, 5, last_error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now);
	if (store_sqlite_exec(sq, st, "update notification", err) < 0)
		goto out;
	if (sqlite3_changes(sq->db) == 0) {
		cerr_set(
		    err, CERR_NOT_FOUND, "no notification %lld", (long long)id);
		goto out;
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_notification_list(void *be,
    const struct store_notification_filter *f, store_notification_cb cb,
    void *arg, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_list, &st, err) < 0)
		goto out;
	if (f->operator_name != NULL)
		sqlite3_bind_text(st, 1, f->operator_name, -1, SQLITE_STATIC);
	if (f->status >= 0)
		sqlite3_bind_text(st, 2,
		    store_delivery_status_name((enum delivery_status)f->status),
		    -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, f->limit > 0 ? f->limit : -1);
	rc = list_rows(sq, st, cb, arg, "list notifications", err);
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_notification_trim(void *be, int64_t keep, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_trim, &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, keep);
	rc = store_sqlite_exec(sq, st, "trim notifications", err);
out:
	store_sqlite_done(sq, st);
	return rc;
}
