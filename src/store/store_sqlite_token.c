/*
 * store_sqlite_token: one-time enlistment tokens and revoked certificate
 * serials. A token row holds only the SHA-256 of its secret (store.c has
 * checked its form); no message here ever contains the hash.
 */
#include "store/store_sqlite.h"

static const char sql_token_insert[] =
    "INSERT INTO tokens (hash, target, created_at, expires_at)"
    " VALUES (?1, ?2, ?3, ?4)";
static const char sql_token_find[] =
    "SELECT expires_at, used_at FROM tokens WHERE hash = ?1 AND target = ?2";
/* used_at = 0 in the WHERE makes the use itself the check: of two
 * enlistments racing with one token exactly one changes the row. */
static const char sql_token_mark[] =
    "UPDATE tokens SET used_at = ?2 WHERE hash = ?1 AND used_at = 0";
/* An enlistment spends every other token issued to its name: a spare
 * one, leaked, could otherwise enlist the name again after a delete. */
static const char sql_token_spend_rest[] =
    "UPDATE tokens SET used_at = ?2 WHERE target = ?1 AND used_at = 0";
static const char sql_revoke[] =
    "INSERT INTO revoked (serial, target, revoked_at) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (serial) DO NOTHING";
static const char sql_revoked_list[] =
    "SELECT serial FROM revoked ORDER BY serial";

int
store_sqlite_token_add(void *be, const char *target, const char *hash_hex,
    int64_t now, int64_t expires_at, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql_token_insert, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, hash_hex, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, target, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, expires_at);
	step = sqlite3_step(st);
	if (step == SQLITE_CONSTRAINT_PRIMARYKEY) {
		cerr_set(err, CERR_CONFLICT,
		    "token for '%s': that token exists already", target);
		goto out;
	}
	if (step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, "add token", err);
		goto out;
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

/* Looks the token up: *found, and when found its expiry and use time. */
static int
token_find(struct store_sqlite *sq, const char *target, const char *hash_hex,
    int *found, int64_t *expires_at, int64_t *used_at, struct cerr *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql_token_find, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, hash_hex, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, target, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, "use token", err);
		goto out;
	}
	*found = step == SQLITE_ROW;
	if (*found) {
		*expires_at = sqlite3_column_int64(st, 0);
		*used_at = sqlite3_column_int64(st, 1);
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

static int
token_mark(struct store_sqlite *sq, const char *target, const char *hash_hex,
    int64_t now, struct cerr *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_token_mark, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, hash_hex, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	if (store_sqlite_exec(sq, st, "use token", err) < 0)
		goto out;
	if (sqlite3_changes(sq->db) == 0) {
		cerr_set(err, CERR_TOKEN,
		    "enlistment token for '%s' was already used", target);
		goto out;
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

/* A token for another name counts as unknown: the message must not tell
 * a guesser that the secret exists. */
int
store_sqlite_token_use(void *be, const char *target, const char *hash_hex,
    int64_t now, struct cerr *err)
{
	struct store_sqlite *sq = be;
	int64_t expires_at = 0, used_at = 0;
	sqlite3_stmt *st = NULL;
	int found = 0, rc;

	if (token_find(
		sq, target, hash_hex, &found, &expires_at, &used_at, err) < 0)
		return -1;
	if (!found)
		return cerr_set(err, CERR_TOKEN,
		    "enlistment token for '%s' is unknown", target);
	if (used_at != 0)
		return cerr_set(err, CERR_TOKEN,
		    "enlistment token for '%s' was already used", target);
	if (now >= expires_at)
		return cerr_set(err, CERR_TOKEN,
		    "enlistment token for '%s' has expired", target);
	if (token_mark(sq, target, hash_hex, now, err) < 0 ||
	    store_sqlite_stmt(sq, sql_token_spend_rest, &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, target, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	rc = store_sqlite_exec(sq, st, "use token", err);
	store_sqlite_done(sq, st);
	return rc;
}

/* Revoking a serial twice keeps the first record and succeeds. */
int
store_sqlite_token_revoke(void *be, const char *serial_hex, const char *name,
    int64_t now, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_revoke, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, serial_hex, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	rc = store_sqlite_exec(sq, st, "revoke", err);
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_token_revoked_list(
    void *be, store_serial_cb cb, void *arg, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql_revoked_list, &st, err) < 0)
		goto out;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (cb(arg, store_sqlite_text(st, 0)) != 0) {
			step = SQLITE_DONE;
			break;
		}
	}
	if (step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, "list revoked", err);
		goto out;
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}
