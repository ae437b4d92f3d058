/*
 * store_pg_lease: the active master's lease on PostgreSQL (store_lease.h):
 * one row, taken, renewed and released with single statements that
 * compare the epoch, and the fence function every write of the active
 * master calls (store_pg.c sends it). Expiry is the server's clock, so
 * the masters' clocks need not agree.
 *
 * A standby may take the lease when it has expired, was released, or its
 * holder's database session is gone (its backend is no longer in
 * pg_stat_activity): a master that crashed or was killed loses its
 * connection at once, so a standby need not wait out the lease. The
 * lease is still the rule where that cannot be seen (a paused master
 * keeps its session; a pooler keeps server connections open), and
 * fencing keeps every case safe: whoever takes the lease bumps the
 * epoch, and the old holder's writes fail from then on.
 */
#include "store/store_pg.h"

#include <stdio.h>
#include <string.h>

#define TXT "TEXT COLLATE \"C\" NOT NULL"

/* The schema step that adds the lease (store_pg_schema.c lists it). The
 * fence function raises STORE_PG_FENCED ("CO001"). */
const char store_pg_lease_schema[] =
    "CREATE TABLE lease ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  holder " TXT " DEFAULT '',"
    "  url " TXT " DEFAULT '',"
    "  epoch BIGINT NOT NULL DEFAULT 0,"
    "  backend_pid INTEGER NOT NULL DEFAULT 0,"
    "  expires_at TIMESTAMPTZ NOT NULL DEFAULT 'epoch');"
    "INSERT INTO lease (id) VALUES (1);"
    "CREATE FUNCTION cohort_fence(want BIGINT) RETURNS INTEGER"
    " LANGUAGE plpgsql AS $fence$"
    " BEGIN"
    "  PERFORM 1 FROM lease WHERE id = 1 AND epoch = want FOR SHARE;"
    "  IF NOT FOUND THEN"
    "   RAISE EXCEPTION 'the lease has moved on from epoch %: another"
    " master is active', want USING ERRCODE = 'CO001';"
    "  END IF;"
    "  RETURN 1;"
    " END $fence$;";

#define LEASE_COLS                                                             \
	"holder, url, epoch, CASE WHEN expires_at <= clock_timestamp()"        \
	" THEN 0 ELSE GREATEST(1, (extract(epoch FROM expires_at"              \
	" - clock_timestamp()) * 1000)::bigint) END"
#define EXPIRES "clock_timestamp() + $3::bigint * interval '1 millisecond'"

/* Waits (lock_timeout) for the share locks of the old holder's open
 * writes when the row qualifies; a live lease is not locked at all. */
static const char sql_acquire[] =
    "UPDATE lease SET holder = $1, url = $2, epoch = epoch + 1,"
    " backend_pid = pg_backend_pid(), expires_at = " EXPIRES
    " WHERE id = 1 AND (expires_at <= clock_timestamp()"
    "  OR NOT EXISTS (SELECT 1 FROM pg_stat_activity"
    "   WHERE pid = lease.backend_pid))"
    " RETURNING " LEASE_COLS;
static const char sql_renew[] =
    "UPDATE lease SET backend_pid = pg_backend_pid(), expires_at = " EXPIRES
    " WHERE id = 1 AND epoch = $1 AND holder = $2";
static const char sql_release[] =
    "UPDATE lease SET expires_at = clock_timestamp()"
    " WHERE id = 1 AND epoch = $1";
static const char sql_get[] = "SELECT " LEASE_COLS " FROM lease WHERE id = 1";

static int
read_lease(const PGresult *res, struct store_lease *out, struct cerr *err)
{
	if (PQntuples(res) != 1)
		return cerr_set(
		    err, CERR_STORE, "store: lease: the lease row is missing");
	store_pg_copy(res, 0, 0, out->holder, sizeof(out->holder));
	store_pg_copy(res, 0, 1, out->url, sizeof(out->url));
	out->epoch = store_pg_int(res, 0, 2);
	out->expires_in_ms = store_pg_int(res, 0, 3);
	return 0;
}

int
store_pg_lease_get(void *be, struct store_lease *out, struct cerr *err)
{
	PGresult *res = NULL;
	int rc;

	if (store_pg_query(be, sql_get, NULL, &res, "read lease", err) < 0)
		return -1;
	rc = read_lease(res, out, err);
	PQclear(res);
	return rc;
}

/* Taking the lease also bounds how long this session may sit inside a
 * transaction: a master paused there must not hold a takeover up for
 * longer than its lease (store_pg.h, idle_tx_ms). */
int
store_pg_lease_acquire(void *be, const char *holder, const char *url,
    int64_t ttl_ms, struct store_lease *out, int *taken, struct cerr *err)
{
	struct store_pg *pg = be;
	struct store_pg_params p = {0};
	PGresult *res = NULL;
	int rc = -1;

	store_pg_param_text(&p, holder);
	store_pg_param_text(&p, url);
	store_pg_param_int(&p, ttl_ms);
	if (store_pg_write_unfenced(
		pg, sql_acquire, &p, &res, "take lease", err) < 0)
		goto out;
	if (PQntuples(res) == 0) {
		rc = store_pg_lease_get(pg, out, err);
		goto out;
	}
	if (read_lease(res, out, err) < 0)
		goto out;
	/* Taken, but not to be kept without its bound: given back at once,
	 * so no one waits out a lease its holder does not know it has. */
	if (store_pg_idle_tx_timeout(pg, ttl_ms, err) < 0) {
		struct cerr ignored;

		store_pg_lease_release(pg, out->epoch, &ignored);
		goto out;
	}
	*taken = 1;
	rc = 0;
out:
	PQclear(res);
	return rc;
}

int
store_pg_lease_renew(void *be, const char *holder, int64_t epoch,
    int64_t ttl_ms, struct cerr *err)
{
	struct store_pg *pg = be;
	struct store_pg_params p = {0};
	struct store_lease now;
	PGresult *res = NULL;
	int64_t changed;

	store_pg_param_int(&p, epoch);
	store_pg_param_text(&p, holder);
	store_pg_param_int(&p, ttl_ms);
	if (store_pg_write_unfenced(
		pg, sql_renew, &p, &res, "renew lease", err) < 0)
		return -1;
	changed = store_pg_changes(res);
	PQclear(res);
	if (changed == 1)
		return 0;
	if (store_pg_lease_get(pg, &now, err) < 0)
		return -1;
	return cerr_set(err, CERR_NOT_ACTIVE,
	    "lease: epoch %lld was taken over: epoch %lld is held by %s",
	    (long long)epoch, (long long)now.epoch,
	    now.url[0] != '\0' ? now.url : now.holder);
}

int
store_pg_lease_release(void *be, int64_t epoch, struct cerr *err)
{
	struct store_pg_params p = {0};

	store_pg_param_int(&p, epoch);
	return store_pg_write_unfenced(
	    be, sql_release, &p, NULL, "release lease", err);
}

void
store_pg_lease_fence(void *be, int64_t epoch)
{
	struct store_pg *pg = be;

	pg->fence_epoch = epoch;
	pg->fenced = 0;
	pg->tx_fenced = 0;
}

int
store_pg_lease_fenced(void *be)
{
	struct store_pg *pg = be;

	return pg->fenced;
}
