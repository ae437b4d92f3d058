/*
 * store_pg_audit: the audit log of admin API calls on PostgreSQL;
 * statement for statement the SQLite backend's store_sqlite_audit.c.
 */
#include "store/store_pg.h"

#include <string.h>

static const char sql_audit_insert[] =
    "INSERT INTO audit (at_ms, who, role, serial, method, path, object,"
    " status, code) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
/* A NULL limit is no limit. */
static const char sql_audit_list[] =
    "SELECT id, at_ms, who, role, serial, method, path, object, status,"
    " code FROM audit WHERE at_ms >= $1 ORDER BY id DESC LIMIT $2";
static const char sql_audit_trim[] =
    "DELETE FROM audit WHERE id <= (SELECT id FROM audit"
    " ORDER BY id DESC LIMIT 1 OFFSET $1)";

int
store_pg_audit_add(void *be, const struct store_audit *a, struct cerr *err)
{
	struct store_pg_params p = {0};

	store_pg_param_int(&p, a->at_ms);
	store_pg_param_text(&p, a->who);
	store_pg_param_text(&p, a->role);
	store_pg_param_text(&p, a->serial_hex);
	store_pg_param_text(&p, a->method);
	store_pg_param_text(&p, a->path);
	store_pg_param_text(&p, a->object);
	store_pg_param_int(&p, a->status);
	store_pg_param_text(&p, a->code);
	return store_pg_write(be, sql_audit_insert, &p, NULL, "audit", err);
}

static void
audit_row(const PGresult *res, int row, struct store_audit *a)
{
	memset(a, 0, sizeof(*a));
	a->id = store_pg_int(res, row, 0);
	a->at_ms = store_pg_int(res, row, 1);
	store_pg_copy(res, row, 2, a->who, sizeof(a->who));
	store_pg_copy(res, row, 3, a->role, sizeof(a->role));
	store_pg_copy(res, row, 4, a->serial_hex, sizeof(a->serial_hex));
	store_pg_copy(res, row, 5, a->method, sizeof(a->method));
	store_pg_copy(res, row, 6, a->path, sizeof(a->path));
	store_pg_copy(res, row, 7, a->object, sizeof(a->object));
	a->status = (int)store_pg_int(res, row, 8);
	store_pg_copy(res, row, 9, a->code, sizeof(a->code));
}

int
store_pg_audit_list(void *be, const struct store_audit_filter *f,
    store_audit_cb cb, void *arg, struct cerr *err)
{
	struct store_pg_params p = {0};
	PGresult *res = NULL;
	struct store_audit a;

	store_pg_param_int(&p, f->since_ms);
	if (f->limit > 0)
		store_pg_param_int(&p, f->limit);
	else
		store_pg_param_text(&p, NULL);
	if (store_pg_query(be, sql_audit_list, &p, &res, "list audit", err) < 0)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		audit_row(res, i, &a);
		if (cb(arg, &a) != 0)
			break;
	}
	PQclear(res);
	return 0;
}

int
store_pg_audit_trim(void *be, int64_t max_rows, struct cerr *err)
{
	struct store_pg_params p = {0};

	store_pg_param_int(&p, max_rows);
	return store_pg_write(be, sql_audit_trim, &p, NULL, "trim audit", err);
}
