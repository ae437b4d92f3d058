/*
 * store_sqlite_audit: the audit log of changes made through the admin
 * API: one row per call (who, what, when, outcome), written by the HTTP
 * front after the handler answered. Newest first when listed; trimmed to
 * a maximum by the master's housekeeping.
 */
#include "store/store_sqlite.h"

#include <string.h>

static const char sql_audit_insert[] =
    "INSERT INTO audit (at_ms, who, role, serial, method, path, object,"
    " status, code) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
/* limit -1: none (SQLite's convention). */
static const char sql_audit_list[] =
    "SELECT id, at_ms, who, role, serial, method, path, object, status,"
    " code FROM audit WHERE at_ms >= ?1 ORDER BY id DESC LIMIT ?2";
static const char sql_audit_trim[] =
    "DELETE FROM audit WHERE id <= (SELECT id FROM audit"
    " ORDER BY id DESC LIMIT 1 OFFSET ?1)";

int
store_sqlite_audit_add(void *be, const struct store_audit *a, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_audit_insert, &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, a->at_ms);
	sqlite3_bind_text(st, 2, a->who, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, a->role, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, a->serial_hex, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, a->method, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, a->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, a->object, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, a->status);
	sqlite3_bind_text(st, 9, a->code, -1, SQLITE_STATIC);
	rc = store_sqlite_exec(sq, st, "audit", err);
out:
	store_sqlite_done(sq, st);
	return rc;
}

static void
audit_row(sqlite3_stmt *st, struct store_audit *a)
{
	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(st, 0);
	a->at_ms = sqlite3_column_int64(st, 1);
	store_sqlite_copy(st, 2, a->who, sizeof(a->who));
	store_sqlite_copy(st, 3, a->role, sizeof(a->role));
	store_sqlite_copy(st, 4, a->serial_hex, sizeof(a->serial_hex));
	store_sqlite_copy(st, 5, a->method, sizeof(a->method));
	store_sqlite_copy(st, 6, a->path, sizeof(a->path));
	store_sqlite_copy(st, 7, a->object, sizeof(a->object));
	a->status = sqlite3_column_int(st, 8);
	store_sqlite_copy(st, 9, a->code, sizeof(a->code));
}

int
store_sqlite_audit_list(void *be, const struct store_audit_filter *f,
    store_audit_cb cb, void *arg, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	struct store_audit a;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql_audit_list, &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, f->since_ms);
	sqlite3_bind_int64(st, 2, f->limit > 0 ? f->limit : -1);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		audit_row(st, &a);
		if (cb(arg, &a) != 0) {
			step = SQLITE_DONE;
			break;
		}
	}
	if (step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, "list audit", err);
		goto out;
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_audit_trim(void *be, int64_t max_rows, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_audit_trim, &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, max_rows);
	rc = store_sqlite_exec(sq, st, "trim audit", err);
out:
	store_sqlite_done(sq, st);
	return rc;
}
