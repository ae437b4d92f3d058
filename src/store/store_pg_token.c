/*
 * store_pg_token: one-time enlistment tokens and revoked certificate
 * serials on PostgreSQL (the counterpart of store_sqlite_token.c). A
 * token row holds only the SHA-256 of its secret; no message here ever
 * contains the hash (store_pg_fail() leaves out the server's DETAIL line,
 * which would quote it).
 */
#include "store/store_pg.h"

#include <string.h>

static const char sql_token_insert[] =
    "INSERT INTO tokens (hash, target, created_at, expires_at)"
    " VALUES ($1, $2, $3, $4)";
static const char sql_token_find[] =
    "SELECT expires_at, used_at FROM tokens WHERE hash = $1 AND target = $2";
/* used_at = 0 in the WHERE makes the use itself the check: of two
 * enlistments racing with one token exactly one changes the row. */
static const char sql_token_mark[] =
    "UPDATE tokens SET used_at = $2 WHERE hash = $1 AND used_at = 0";
/* An enlistment spends every other token issued to its name: a spare
 * one, leaked, could otherwise enlist the name again after a delete. */
static const char sql_token_spend_rest[] =
    "UPDATE tokens SET used_at = $2 WHERE target = $1 AND used_at = 0";
static const char sql_revoke[] =
    "INSERT INTO revoked (serial, target, revoked_at) VALUES ($1, $2, $3)"
    " ON CONFLICT (serial) DO NOTHING";
static const char sql_revoked_list[] =
    "SELECT serial FROM revoked ORDER BY serial";

int
store_pg_token_add(void *be, const char *target, const char *hash_hex,
    int64_t now, int64_t expires_at, struct cerr *err)
{
	struct store_pg *pg = be;
	struct store_pg_params p = {0};

	store_pg_param_text(&p, hash_hex);
	store_pg_param_text(&p, target);
	store_pg_param_int(&p, now);
	store_pg_param_int(&p, expires_at);
	if (store_pg_write(pg, sql_token_insert, &p, NULL, "add token", err) ==
	    0)
		return 0;
	if (strcmp(pg->sqlstate, STORE_PG_UNIQUE_VIOLATION) == 0)
		return cerr_set(err, CERR_CONFLICT,
		    "token for '%s': that token exists already", target);
	return -1;
}

/* Looks the token up: *found, and when found its expiry and use time. */
static int
token_find(struct store_pg *pg, const char *target, const char *hash_hex,
    int *found, int64_t *expires_at, int64_t *used_at, struct cerr *err)
{
	struct store_pg_params p = {0};
	PGresult *res = NULL;

	store_pg_param_text(&p, hash_hex);
	store_pg_param_text(&p, target);
	if (store_pg_query(pg, sql_token_find, &p, &res, "use token", err) < 0)
		return -1;
	*found = PQntuples(res) > 0;
	if (*found) {
		*expires_at = store_pg_int(res, 0, 0);
		*used_at = store_pg_int(res, 0, 1);
	}
	PQclear(res);
	return 0;
}

static int
token_mark(struct store_pg *pg, const char *target, const char *hash_hex,
    int64_t now, struct cerr *err)
{
	struct store_pg_params p = {0};
	PGresult *res = NULL;
	int64_t changed;

	store_pg_param_text(&p, hash_hex);
	store_pg_param_int(&p, now);
	if (store_pg_write(pg, sql_token_mark, &p, &res, "use token", err) < 0)
		return -1;
	changed = store_pg_changes(res);
	PQclear(res);
	if (changed == 0)
		return cerr_set(err, CERR_TOKEN,
		    "enlistment token for '%s' was already used", target);
	return 0;
}

/* A token for another name counts as unknown: the message must not tell
 * a guesser that the secret exists. */
int
store_pg_token_use(void *be, const char *target, const char *hash_hex,
    int64_t now, struct cerr *err)
{
	struct store_pg *pg = be;
	struct store_pg_params p = {0};
	int64_t expires_at = 0, used_at = 0;
	int found = 0;

	if (token_find(
		pg, target, hash_hex, &found, &expires_at, &used_at, err) < 0)
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
	if (token_mark(pg, target, hash_hex, now, err) < 0)
		return -1;
	store_pg_param_text(&p, target);
	store_pg_param_int(&p, now);
	return store_pg_write(
	    pg, sql_token_spend_rest, &p, NULL, "use token", err);
}

/* Revoking a serial twice keeps the first record and succeeds. */
int
store_pg_token_revoke(void *be, const char *serial_hex, const char *name,
    int64_t now, struct cerr *err)
{
	struct store_pg_params p = {0};

	store_pg_param_text(&p, serial_hex);
	store_pg_param_text(&p, name);
	store_pg_param_int(&p, now);
	return store_pg_write(be, sql_revoke, &p, NULL, "revoke", err);
}

int
store_pg_token_revoked_list(
    void *be, store_serial_cb cb, void *arg, struct cerr *err)
{
	PGresult *res = NULL;

	if (store_pg_query(
		be, sql_revoked_list, NULL, &res, "list revoked", err) < 0)
		return -1;
	for (int i = 0; i < PQntuples(res); i++)
		if (cb(arg, store_pg_text(res, i, 0)) != 0)
			break;
	PQclear(res);
	return 0;
}
