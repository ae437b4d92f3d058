/*
 * store_pg_event: events forwarded by targets, in the PostgreSQL backend;
 * statement for statement the SQLite backend's store_sqlite_event.c.
 */
#include "store/store_pg.h"

#define EVENT_COLS                                                             \
	"id, target, event_id, time_ms, severity, kind, job, target_run_id,"   \
	" message, received_at"

static const char sql_add[] =
    "INSERT INTO events (target, event_id, time_ms, severity, kind, job,"
    " target_run_id, message, received_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    " ON CONFLICT (target, event_id) DO NOTHING";
/* NULL parameters switch a filter off; a NULL limit is none. */
static const char sql_list[] =
    "SELECT " EVENT_COLS " FROM events"
    " WHERE ($1::text IS NULL OR target = $1::text)"
    " AND ($2::int < 0 OR CASE severity WHEN 'info' THEN 0"
    "  WHEN 'warning' THEN 1 WHEN 'error' THEN 2 ELSE 3 END >= $2::int)"
    " ORDER BY id DESC LIMIT $3";
static const char sql_trim[] =
    "DELETE FROM events WHERE id <= (SELECT id FROM events"
    " ORDER BY id DESC LIMIT 1 OFFSET $1)";

int
store_pg_event_add(
    void *be, const struct store_event *e, int *added_out, struct cerr *err)
{
	struct store_pg_params p = {0};
	PGresult *res = NULL;

	store_pg_param_text(&p, e->target);
	store_pg_param_text(&p, e->event_id);
	store_pg_param_int(&p, e->time_ms);
	store_pg_param_text(&p, eventrec_severity_name(e->severity));
	store_pg_param_text(&p, eventrec_kind_name(e->kind));
	store_pg_param_text(&p, e->job);
	store_pg_param_int(&p, e->target_run_id);
	store_pg_param_text(&p, e->message);
	store_pg_param_int(&p, e->received_at);
	if (store_pg_write(be, sql_add, &p, &res, "add event", err) < 0)
		return -1;
	*added_out = store_pg_changes(res) > 0;
	PQclear(res);
	return 0;
}

static int
event_row(const PGresult *res, int row, struct store_event *e, struct cerr *err)
{
	e->id = store_pg_int(res, row, 0);
	store_pg_copy(res, row, 1, e->target, sizeof(e->target));
	store_pg_copy(res, row, 2, e->event_id, sizeof(e->event_id));
	e->time_ms = store_pg_int(res, row, 3);
	if (eventrec_severity_parse(store_pg_text(res, row, 4), &e->severity) <
		0 ||
	    eventrec_kind_parse(store_pg_text(res, row, 5), &e->kind) < 0)
		return cerr_set(err, CERR_INTERNAL,
		    "store: event %lld: unknown severity or kind",
		    (long long)e->id);
	store_pg_copy(res, row, 6, e->job, sizeof(e->job));
	e->target_run_id = store_pg_int(res, row, 7);
	e->message = store_pg_text(res, row, 8);
	e->received_at = store_pg_int(res, row, 9);
	return 0;
}

int
store_pg_event_list(void *be, const struct store_event_filter *f,
    store_event_cb cb, void *arg, struct cerr *err)
{
	struct store_pg_params p = {0};
	struct store_event e;
	PGresult *res = NULL;
	int rc = -1;

	store_pg_param_text(&p, f->target);
	store_pg_param_int(&p, f->min_severity);
	if (f->limit > 0)
		store_pg_param_int(&p, f->limit);
	else
		store_pg_param_text(&p, NULL);
	if (store_pg_query(be, sql_list, &p, &res, "list events", err) < 0)
		goto out;
	for (int i = 0; i < PQntuples(res); i++) {
		if (event_row(res, i, &e, err) < 0)
			goto out;
		if (cb(arg, &e) != 0)
			break;
	}
	rc = 0;
out:
	PQclear(res);
	return rc;
}

int
store_pg_event_trim(void *be, int64_t keep, struct cerr *err)
{
	struct store_pg_params p = {0};

	store_pg_param_int(&p, keep);
	return store_pg_write(be, sql_trim, &p, NULL, "trim events", err);
}
