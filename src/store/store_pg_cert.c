/*
 * store_pg_cert: the certificates the master issued and the serial a
 * target currently holds, on PostgreSQL; statement for statement the
 * SQLite backend's store_sqlite_cert.c.
 */
#include "store/store_pg.h"

#include <string.h>

static const char sql_cert_insert[] =
    "INSERT INTO certs (serial, name, role, issued_at, not_after)"
    " VALUES ($1, $2, $3, $4, $5)";
#define CERT_COLUMNS                                                           \
	"SELECT c.serial, c.name, c.role, c.issued_at, c.not_after,"           \
	" COALESCE(r.revoked_at, 0) FROM certs c"                              \
	" LEFT JOIN revoked r ON r.serial = c.serial"
static const char sql_cert_get[] = CERT_COLUMNS " WHERE c.serial = $1";
static const char sql_cert_list[] =
    CERT_COLUMNS " ORDER BY c.issued_at, c.serial";
static const char sql_cert_list_name[] =
    CERT_COLUMNS " WHERE c.name = $1 ORDER BY c.issued_at, c.serial";
static const char sql_target_serial[] =
    "UPDATE targets SET cert_serial = $2 WHERE name = $1";

int
store_pg_cert_add(void *be, const struct store_cert *c, struct cerr *err)
{
	struct store_pg *pg = be;
	struct store_pg_params p = {0};

	store_pg_param_text(&p, c->serial_hex);
	store_pg_param_text(&p, c->name);
	store_pg_param_text(&p, c->role);
	store_pg_param_int(&p, c->issued_at);
	store_pg_param_int(&p, c->not_after);
	if (store_pg_write(
		pg, sql_cert_insert, &p, NULL, "record certificate", err) == 0)
		return 0;
	if (strcmp(pg->sqlstate, STORE_PG_UNIQUE_VIOLATION) == 0)
		return cerr_set(err, CERR_CONFLICT,
		    "certificate %s is recorded already", c->serial_hex);
	return -1;
}

static void
cert_row(const PGresult *res, int row, struct store_cert *c)
{
	memset(c, 0, sizeof(*c));
	store_pg_copy(res, row, 0, c->serial_hex, sizeof(c->serial_hex));
	store_pg_copy(res, row, 1, c->name, sizeof(c->name));
	store_pg_copy(res, row, 2, c->role, sizeof(c->role));
	c->issued_at = store_pg_int(res, row, 3);
	c->not_after = store_pg_int(res, row, 4);
	c->revoked_at = store_pg_int(res, row, 5);
}

int
store_pg_cert_get(
    void *be, const char *serial_hex, struct store_cert *out, struct cerr *err)
{
	struct store_pg_params p = {0};
	PGresult *res = NULL;
	int rc = -1;

	store_pg_param_text(&p, serial_hex);
	if (store_pg_query(be, sql_cert_get, &p, &res, "get certificate", err) <
	    0)
		return -1;
	if (PQntuples(res) == 0) {
		cerr_set(err, CERR_NOT_FOUND,
		    "no certificate with serial %s was issued here",
		    serial_hex);
		goto out;
	}
	cert_row(res, 0, out);
	rc = 0;
out:
	PQclear(res);
	return rc;
}

int
store_pg_cert_list(
    void *be, const char *name, store_cert_cb cb, void *arg, struct cerr *err)
{
	struct store_pg_params p = {0};
	PGresult *res = NULL;
	struct store_cert c;

	if (name != NULL)
		store_pg_param_text(&p, name);
	if (store_pg_query(be, name ? sql_cert_list_name : sql_cert_list,
		name ? &p : NULL, &res, "list certificates", err) < 0)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		cert_row(res, i, &c);
		if (cb(arg, &c) != 0)
			break;
	}
	PQclear(res);
	return 0;
}

int
store_pg_cert_target_serial(
    void *be, const char *name, const char *serial_hex, struct cerr *err)
{
	struct store_pg_params p = {0};
	PGresult *res = NULL;
	int64_t changed;

	store_pg_param_text(&p, name);
	store_pg_param_text(&p, serial_hex);
	if (store_pg_write(be, sql_target_serial, &p, &res, "set serial", err) <
	    0)
		return -1;
	changed = store_pg_changes(res);
	PQclear(res);
	if (changed == 0)
		return cerr_set(err, CERR_NOT_FOUND, "no target '%s'", name);
	return 0;
}
