/*
 * store_sqlite_operator: operators in the SQLite backend (see store.h).
 * There is at most one default: a partial unique index says so, and
 * making one the default clears the flag of the others in the same
 * transaction.
 */
#include "store/store_sqlite.h"

#define OPERATOR_COLS "name, kind, address, is_default, created_at"

static const char sql_add[] =
    "INSERT INTO operators (name, kind, address, is_default, created_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO NOTHING";
static const char sql_get[] =
    "SELECT " OPERATOR_COLS " FROM operators WHERE name = ?1";
static const char sql_get_default[] =
    "SELECT " OPERATOR_COLS " FROM operators WHERE is_default = 1";
static const char sql_list[] =
    "SELECT " OPERATOR_COLS " FROM operators ORDER BY name";
static const char sql_clear_default[] =
    "UPDATE operators SET is_default = 0 WHERE is_default = 1"
    " AND name <> ?1";
static const char sql_set_default[] =
    "UPDATE operators SET is_default = 1 WHERE name = ?1";
static const char sql_is_default[] =
    "SELECT is_default FROM operators WHERE name = ?1";
static const char sql_delete[] = "DELETE FROM operators WHERE name = ?1";

/* Runs a one-name write; *changes_out gets the rows it changed. */
static int
write_name(struct store_sqlite *sq, const char *sql, const char *name,
    int *changes_out, const char *what, struct cerr *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (store_sqlite_exec(sq, st, what, err) < 0)
		goto out;
	*changes_out = sqlite3_changes(sq->db);
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

static int
insert(struct store_sqlite *sq, const struct store_operator *op,
    int *changes_out, struct cerr *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_add, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, op->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(
	    st, 2, store_operator_kind_name(op->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->address, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, 0);
	sqlite3_bind_int64(st, 5, op->created_at);
	if (store_sqlite_exec(sq, st, "add operator", err) < 0)
		goto out;
	*changes_out = sqlite3_changes(sq->db);
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

/* Makes name the only default, inside the caller's bracket. */
static int
make_default(
    struct store_sqlite *sq, const char *name, int *found, struct cerr *err)
{
	int changed = 0;

	if (write_name(sq, sql_clear_default, name, &changed,
		"set default operator", err) < 0)
		return -1;
	return write_name(
	    sq, sql_set_default, name, found, "set default operator", err);
}

int
store_sqlite_operator_add(
    void *be, const struct store_operator *op, struct cerr *err)
{
	struct store_sqlite *sq = be;
	int changed = 0, found = 0, rc = -1;

	if (store_sqlite_tx_enter(sq, "add operator", err) < 0)
		return -1;
	if (insert(sq, op, &changed, err) < 0)
		goto out;
	if (changed == 0) {
		cerr_set(err, CERR_CONFLICT, "operator '%s' exists", op->name);
		goto out;
	}
	if (op->is_default && make_default(sq, op->name, &found, err) < 0)
		goto out;
	rc = 0;
out:
	return store_sqlite_tx_leave(sq, rc == 0, "add operator", err);
}

/* Runs a listing of operators (sql takes name as ?1 when not NULL);
 * *rows_out counts the rows seen. */
static int
list(struct store_sqlite *sq, const char *sql, const char *name,
    store_operator_cb cb, void *arg, int *rows_out, struct cerr *err)
{
	struct store_operator op;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	*rows_out = 0;
	if (store_sqlite_stmt(sq, sql, &st, err) < 0)
		goto out;
	if (name != NULL)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		store_sqlite_copy(st, 0, op.name, sizeof(op.name));
		if (store_operator_kind_parse(
			store_sqlite_text(st, 1), &op.kind) < 0) {
			cerr_set(err, CERR_INTERNAL,
			    "store: operator %s: unknown kind", op.name);
			goto out;
		}
		op.address = store_sqlite_text(st, 2);
		op.is_default = sqlite3_column_int(st, 3);
		op.created_at = sqlite3_column_int64(st, 4);
		(*rows_out)++;
		if (cb(arg, &op) != 0) {
			step = SQLITE_DONE;
			break;
		}
	}
	if (step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, "list operators", err);
		goto out;
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_operator_get(void *be, const char *name, store_operator_cb cb,
    void *arg, struct cerr *err)
{
	int rows = 0;

	if (list(be, sql_get, name, cb, arg, &rows, err) < 0)
		return -1;
	if (rows == 0)
		return cerr_set(err, CERR_NOT_FOUND, "no operator '%s'", name);
	return 0;
}

int
store_sqlite_operator_get_default(
    void *be, store_operator_cb cb, void *arg, struct cerr *err)
{
	int rows = 0;

	if (list(be, sql_get_default, NULL, cb, arg, &rows, err) < 0)
		return -1;
	if (rows == 0)
		return cerr_set(err, CERR_NOT_FOUND, "no default operator");
	return 0;
}

int
store_sqlite_operator_list(
    void *be, store_operator_cb cb, void *arg, struct cerr *err)
{
	int rows = 0;

	return list(be, sql_list, NULL, cb, arg, &rows, err);
}

int
store_sqlite_operator_set_default(void *be, const char *name, struct cerr *err)
{
	struct store_sqlite *sq = be;
	int found = 0, rc = -1;

	if (store_sqlite_tx_enter(sq, "set default operator", err) < 0)
		return -1;
	if (make_default(sq, name, &found, err) < 0)
		goto out;
	if (found == 0) {
		cerr_set(err, CERR_NOT_FOUND, "no operator '%s'", name);
		goto out;
	}
	rc = 0;
out:
	return store_sqlite_tx_leave(sq, rc == 0, "set default operator", err);
}

static int
is_default_cb(void *arg, const char *value)
{
	*(int *)arg = value[0] == '1' ? 1 : 0;
	return 1;
}

int
store_sqlite_operator_delete(void *be, const char *name, struct cerr *err)
{
	struct store_sqlite *sq = be;
	int is_default = -1, changed = 0, rc = -1;

	if (store_sqlite_tx_enter(sq, "delete operator", err) < 0)
		return -1;
	if (store_sqlite_list_names(sq, sql_is_default, name, is_default_cb,
		&is_default, "delete operator", err) < 0)
		goto out;
	if (is_default < 0) {
		cerr_set(err, CERR_NOT_FOUND, "no operator '%s'", name);
		goto out;
	}
	if (is_default) {
		cerr_set(err, CERR_CONFLICT,
		    "operator '%s' is the default; "
		    "make another operator the default first",
		    name);
		goto out;
	}
	rc = write_name(sq, sql_delete, name, &changed, "delete operator", err);
out:
	return store_sqlite_tx_leave(sq, rc == 0, "delete operator", err);
}
