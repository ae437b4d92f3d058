/*
 * store_pg_operator: operators in the PostgreSQL backend; statement for
 * statement the SQLite backend's store_sqlite_operator.c.
 */
#include "store/store_pg.h"

#define OPERATOR_COLS "name, kind, address, is_default, created_at"

static const char sql_add[] =
    "INSERT INTO operators (name, kind, address, is_default, created_at)"
    " VALUES ($1, $2, $3, 0, $4) ON CONFLICT (name) DO NOTHING";
static const char sql_get[] =
    "SELECT " OPERATOR_COLS " FROM operators WHERE name = $1";
static const char sql_get_default[] =
    "SELECT " OPERATOR_COLS " FROM operators WHERE is_default = 1";
static const char sql_list[] =
    "SELECT " OPERATOR_COLS " FROM operators ORDER BY name";
static const char sql_clear_default[] =
    "UPDATE operators SET is_default = 0 WHERE is_default = 1"
    " AND name <> $1";
static const char sql_set_default[] =
    "UPDATE operators SET is_default = 1 WHERE name = $1";
static const char sql_is_default[] =
    "SELECT is_default FROM operators WHERE name = $1";
static const char sql_delete[] = "DELETE FROM operators WHERE name = $1";

static int
write_name(struct store_pg *pg, const char *sql, const char *name,
    int64_t *changes_out, const char *what, struct cerr *err)
{
	struct store_pg_params p = {0};
	PGresult *res = NULL;

	store_pg_param_text(&p, name);
	if (store_pg_write(pg, sql, &p, &res, what, err) < 0)
		return -1;
	*changes_out = store_pg_changes(res);
	PQclear(res);
	return 0;
}

/* Makes name the only default, inside the caller's bracket. */
static int
make_default(
    struct store_pg *pg, const char *name, int64_t *found, struct cerr *err)
{
	int64_t changed = 0;

	if (write_name(pg, sql_clear_default, name, &changed,
		"set default operator", err) < 0)
		return -1;
	return write_name(
	    pg, sql_set_default, name, found, "set default operator", err);
}

int
store_pg_operator_add(
    void *be, const struct store_operator *op, struct cerr *err)
{
	struct store_pg *pg = be;
	struct store_pg_params p = {0};
	PGresult *res = NULL;
	int64_t found = 0;
	int rc = -1;

	if (store_pg_tx_enter(pg, "add operator", err) < 0)
		return -1;
	store_pg_param_text(&p, op->name);
	store_pg_param_text(&p, store_operator_kind_name(op->kind));
	store_pg_param_text(&p, op->address);
	store_pg_param_int(&p, op->created_at);
	if (store_pg_write(pg, sql_add, &p, &res, "add operator", err) < 0)
		goto out;
	if (store_pg_changes(res) == 0) {
		cerr_set(err, CERR_CONFLICT, "operator '%s' exists", op->name);
		goto out;
	}
	if (op->is_default && make_default(pg, op->name, &found, err) < 0)
		goto out;
	rc = 0;
out:
	PQclear(res);
	return store_pg_tx_leave(pg, rc == 0, "add operator", err);
}

/* Runs a listing of operators (with name as $1 when not NULL); *rows_out
 * counts the rows. */
static int
list(struct store_pg *pg, const char *sql, const char *name,
    store_operator_cb cb, void *arg, int *rows_out, struct cerr *err)
{
	struct store_pg_params p = {0};
	struct store_operator op;
	PGresult *res = NULL;
	int rc = -1;

	if (name != NULL)
		store_pg_param_text(&p, name);
	if (store_pg_query(pg, sql, &p, &res, "list operators", err) < 0)
		goto out;
	*rows_out = PQntuples(res);
	for (int i = 0; i < PQntuples(res); i++) {
		store_pg_copy(res, i, 0, op.name, sizeof(op.name));
		if (store_operator_kind_parse(
			store_pg_text(res, i, 1), &op.kind) < 0) {
			cerr_set(err, CERR_INTERNAL,
			    "store: operator %s: unknown kind", op.name);
			goto out;
		}
		op.address = store_pg_text(res, i, 2);
		op.is_default = (int)store_pg_int(res, i, 3);
		op.created_at = store_pg_int(res, i, 4);
		if (cb(arg, &op) != 0)
			break;
	}
	rc = 0;
out:
	PQclear(res);
	return rc;
}

int
store_pg_operator_get(void *be, const char *name, store_operator_cb cb,
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
store_pg_operator_get_default(
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
store_pg_operator_list(
    void *be, store_operator_cb cb, void *arg, struct cerr *err)
{
	int rows = 0;

	return list(be, sql_list, NULL, cb, arg, &rows, err);
}

int
store_pg_operator_set_default(void *be, const char *name, struct cerr *err)
{
	struct store_pg *pg = be;
	int64_t found = 0;
	int rc = -1;

	if (store_pg_tx_enter(pg, "set default operator", err) < 0)
		return -1;
	if (make_default(pg, name, &found, err) < 0)
		goto out;
	if (found == 0) {
		cerr_set(err, CERR_NOT_FOUND, "no operator '%s'", name);
		goto out;
	}
	rc = 0;
out:
	return store_pg_tx_leave(pg, rc == 0, "set default operator", err);
}

static int
is_default_cb(void *arg, const char *value)
{
	*(int *)arg = value[0] == '1' ? 1 : 0;
	return 1;
}

int
store_pg_operator_delete(void *be, const char *name, struct cerr *err)
{
	struct store_pg *pg = be;
	int64_t changed = 0;
	int is_default = -1, rc = -1;

	if (store_pg_tx_enter(pg, "delete operator", err) < 0)
		return -1;
	if (store_pg_list_names(pg, sql_is_default, name, is_default_cb,
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
	rc = write_name(pg, sql_delete, name, &changed, "delete operator", err);
out:
	return store_pg_tx_leave(pg, rc == 0, "delete operator", err);
}
