/*
 * store_pg_notification: notifications and their delivery record in the
 * PostgreSQL backend; statement for statement the SQLite backend's
 * store_sqlite_notification.c.
 */
#include "store/store_pg.h"

#define NOTIFICATION_COLS                                                      \
	"id, dedupe_key, operator, subject, payload, status, attempts,"        \
	" next_at, last_error, created_at, updated_at"

static const char sql_add[] =
    "INSERT INTO notifications (dedupe_key, operator, subject, payload,"
    " status, attempts, next_at, last_error, created_at, updated_at)"
    " VALUES ($1, $2, $3, $4, 'pending', 0, $5, '', $6, $6)"
    " ON CONFLICT (dedupe_key) DO NOTHING";
static const char sql_due[] = "SELECT " NOTIFICATION_COLS " FROM notifications"
			      " WHERE status = 'pending' AND next_at <= $1"
			      " ORDER BY next_at, id LIMIT $2";
static const char sql_next_due[] =
    "SELECT min(next_at) FROM notifications WHERE status = 'pending'";
static const char sql_update[] =
    "UPDATE notifications SET status = $2, attempts = $3, next_at = $4,"
    " last_error = $5, updated_at = $6 WHERE id = $1";
static const char sql_list[] =
    "SELECT " NOTIFICATION_COLS " FROM notifications"
    " WHERE ($1::text IS NULL OR operator = $1::text)"
    " AND ($2::text IS NULL OR status = $2::text)"
    " ORDER BY id DESC LIMIT $3";
/* Finished rows beyond the newest $1 go; pending ones never. */
static const char sql_trim[] =
    "DELETE FROM notifications WHERE status <> 'pending' AND id <="
    " (SELECT id FROM notifications WHERE status <> 'pending'"
    "  ORDER BY id DESC LIMIT 1 OFFSET $1)";

int
store_pg_notification_add(void *be, const struct store_notification *n,
    int *added_out, struct cerr *err)
{
	struct store_pg_params p = {0};
	PGresult *res = NULL;

	store_pg_param_text(&p, n->key);
	store_pg_param_text(&p, n->operator_name);
	store_pg_param_text(&p, n->subject);
	store_pg_param_text(&p, n->payload);
	store_pg_param_int(&p, n->next_at);
	store_pg_param_int(&p, n->created_at);
	if (store_pg_write(be, sql_add, &p, &res, "add notification", err) < 0)
		return -1;
	*added_out = store_pg_changes(res) > 0;
	PQclear(res);
	return 0;
}

static int
notification_row(const PGresult *res, int row, struct store_notification *n,
    struct cerr *err)
{
	n->id = store_pg_int(res, row, 0);
	store_pg_copy(res, row, 1, n->key, sizeof(n->key));
	store_pg_copy(res, row, 2, n->operator_name, sizeof(n->operator_name));
	store_pg_copy(res, row, 3, n->subject, sizeof(n->subject));
	n->payload = store_pg_text(res, row, 4);
	if (store_delivery_status_parse(
		store_pg_text(res, row, 5), &n->status) < 0)
		return cerr_set(err, CERR_INTERNAL,
		    "store: notification %lld: unknown status",
		    (long long)n->id);
	n->attempts = (int)store_pg_int(res, row, 6);
	n->next_at = store_pg_int(res, row, 7);
	n->last_error = store_pg_text(res, row, 8);
	n->created_at = store_pg_int(res, row, 9);
	n->updated_at = store_pg_int(res, row, 10);
	return 0;
}

/* Runs a listing and calls cb per row. */
static int
list_rows(struct store_pg *pg, const char *sql, const struct store_pg_params *p,
    store_notification_cb cb, void *arg, const char *what, struct cerr *err)
{
	struct store_notification n;
	PGresult *res = NULL;
	int rc = -1;

	if (store_pg_query(pg, sql, p, &res, what, err) < 0)
		goto out;
	for (int i = 0; i < PQntuples(res); i++) {
		if (notification_row(res, i, &n, err) < 0)
			goto out;
		if (cb(arg, &n) != 0)
			break;
	}
	rc = 0;
out:
	PQclear(res);
	return rc;
}

int
store_pg_notification_due(void *be, int64_t now, int limit,
    store_notification_cb cb, void *arg, struct cerr *err)
{
	struct store_pg_params p = {0};

	store_pg_param_int(&p, now);
	store_pg_param_int(&p, limit);
	return list_rows(be, sql_due, &p, cb, arg, "due notifications", err);
}

int
store_pg_notification_next_due(
    void *be, int64_t *next_at_out, int *found_out, struct cerr *err)
{
	PGresult *res = NULL;

	if (store_pg_query(
		be, sql_next_due, NULL, &res, "next due notification", err) < 0)
		return -1;
	*found_out = PQntuples(res) > 0 && !PQgetisnull(res, 0, 0);
	*next_at_out = *found_out ? store_pg_int(res, 0, 0) : 0;
	PQclear(res);
	return 0;
}

int
store_pg_notification_update(void *be, int64_t id, enum delivery_status status,
    int attempts, int64_t next_at, const char *last_error, int64_t now,
    struct cerr *err)
{
	struct store_pg_params p = {0};
	PGresult *res = NULL;
	int rc = -1;

	store_pg_param_int(&p, id);
	store_pg_param_text(&p, store_delivery_status_name(status));
	store_pg_param_int(&p, attempts);
	store_pg_param_int(&p, next_at);
	store_pg_param_text(&p, last_error);
	store_pg_param_int(&p, now);
	if (store_pg_write(
		be, sql_update, &p, &res, "update notification", err) < 0)
		goto out;
	if (store_pg_changes(res) == 0) {
		cerr_set(
		    err, CERR_NOT_FOUND, "no notification %lld", (long long)id);
		goto out;
	}
	rc = 0;
out:
	PQclear(res);
	return rc;
}

int
store_pg_notification_list(void *be, const struct store_notification_filter *f,
    store_notification_cb cb, void *arg, struct cerr *err)
{
	struct store_pg_params p = {0};

	store_pg_param_text(&p, f->operator_name);
	store_pg_param_text(&p,
	    f->status >= 0
		? store_delivery_status_name((enum delivery_status)f->status)
		: NULL);
	if (f->limit > 0)
		store_pg_param_int(&p, f->limit);
	else
		store_pg_param_text(&p, NULL);
	return list_rows(be, sql_list, &p, cb, arg, "list notifications", err);
}

int
store_pg_notification_trim(void *be, int64_t keep, struct cerr *err)
{
	struct store_pg_params p = {0};

	store_pg_param_int(&p, keep);
	return store_pg_write(
	    be, sql_trim, &p, NULL, "trim notifications", err);
}
