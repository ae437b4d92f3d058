/*
 * store_sqlite_cert: the certificates the master issued (name, role,
 * serial, expiry) and the serial a target currently holds. Revocation
 * stays in the table "revoked" (store_sqlite_token.c); a listing joins
 * it, so a certificate shows as revoked however it was revoked (target
 * deleted, defected, or cohortctl cert revoke).
 */
#include "store/store_sqlite.h"

#include <string.h>

static const char sql_cert_insert[] =
    "INSERT INTO certs (serial, name, role, issued_at, not_after)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";
#define CERT_COLUMNS                                                           \
	"SELECT c.serial, c.name, c.role, c.issued_at, c.not_after,"           \
	" COALESCE(r.revoked_at, 0) FROM certs c"                              \
	" LEFT JOIN revoked r ON r.serial = c.serial"
static const char sql_cert_get[] = CERT_COLUMNS " WHERE c.serial = ?1";
static const char sql_cert_list[] =
    CERT_COLUMNS " ORDER BY c.issued_at, c.serial";
static const char sql_cert_list_name[] =
    CERT_COLUMNS " WHERE c.name = ?1 ORDER BY c.issued_at, c.serial";
static const char sql_target_serial[] =
    "UPDATE targets SET cert_serial = ?2 WHERE name = ?1";

int
store_sqlite_cert_add(void *be, const struct store_cert *c, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql_cert_insert, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, c->serial_hex, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->role, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, c->issued_at);
	sqlite3_bind_int64(st, 5, c->not_after);
	step = sqlite3_step(st);
	if (step == SQLITE_CONSTRAINT_PRIMARYKEY) {
		cerr_set(err, CERR_CONFLICT,
		    "certificate %s is recorded already", c->serial_hex);
		goto out;
	}
	if (step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, "record certificate", err);
		goto out;
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

static void
cert_row(sqlite3_stmt *st, struct store_cert *c)
{
	memset(c, 0, sizeof(*c));
	store_sqlite_copy(st, 0, c->serial_hex, sizeof(c->serial_hex));
	store_sqlite_copy(st, 1, c->name, sizeof(c->name));
	store_sqlite_copy(st, 2, c->role, sizeof(c->role));
	c->issued_at = sqlite3_column_int64(st, 3);
	c->not_after = sqlite3_column_int64(st, 4);
	c->revoked_at = sqlite3_column_int64(st, 5);
}

int
store_sqlite_cert_get(
    void *be, const char *serial_hex, struct store_cert *out, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql_cert_get, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, serial_hex, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		cerr_set(err, CERR_NOT_FOUND,
		    "no certificate with serial %s was issued here",
		    serial_hex);
		goto out;
	}
	if (step != SQLITE_ROW) {
		store_sqlite_fail(sq, step, "get certificate", err);
		goto out;
	}
	cert_row(st, out);
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_cert_list(
    void *be, const char *name, store_cert_cb cb, void *arg, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	struct store_cert c;
	int rc = -1, step;

	if (store_sqlite_stmt(
		sq, name ? sql_cert_list_name : sql_cert_list, &st, err) < 0)
		goto out;
	if (name != NULL)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		cert_row(st, &c);
		if (cb(arg, &c) != 0) {
			step = SQLITE_DONE;
			break;
		}
	}
	if (step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, "list certificates", err);
		goto out;
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_cert_target_serial(
    void *be, const char *name, const char *serial_hex, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_target_serial, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, serial_hex, -1, SQLITE_STATIC);
	if (store_sqlite_exec(sq, st, "set serial", err) < 0)
		goto out;
	if (sqlite3_changes(sq->db) == 0) {
		cerr_set(err, CERR_NOT_FOUND, "no target '%s'", name);
		goto out;
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}
