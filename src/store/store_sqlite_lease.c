/*
 * store_sqlite_lease: the lease row on SQLite (store_lease.h), kept for
 * parity with PostgreSQL: the same calls and the same answers, so the
 * store's tests and the master's code do not care which store they have.
 * A SQLite file cannot be shared by masters on several machines, and the
 * master refuses a second master on the same file (master/lease.c), so
 * there is nothing to fence here: store_lease_fence() only records the
 * epoch. Times are this machine's clock, in milliseconds.
 */
#include "store/store_sqlite.h"

#include <string.h>

/* Unix milliseconds by SQLite's clock: stable within one statement. */
#define NOW_MS "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"

const char store_sqlite_lease_schema[] =
    "CREATE TABLE lease ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  holder TEXT NOT NULL DEFAULT '',"
    "  url TEXT NOT NULL DEFAULT '',"
    "  epoch INTEGER NOT NULL DEFAULT 0,"
    "  expires_at_ms INTEGER NOT NULL DEFAULT 0"
    ");"
    "INSERT INTO lease (id) VALUES (1);";

static const char sql_acquire[] =
    "UPDATE lease SET holder = ?1, url = ?2, epoch = epoch + 1,"
    " expires_at_ms = " NOW_MS " + ?3"
    " WHERE id = 1 AND expires_at_ms <= " NOW_MS;
static const char sql_renew[] =
    "UPDATE lease SET expires_at_ms = " NOW_MS " + ?3"
    " WHERE id = 1 AND epoch = ?1 AND holder = ?2";
static const char sql_release[] =
    "UPDATE lease SET expires_at_ms = " NOW_MS " WHERE id = 1 AND epoch = ?1";
static const char sql_get[] =
    "SELECT holder, url, epoch, max(expires_at_ms - " NOW_MS ", 0)"
    " FROM lease WHERE id = 1";

int
store_sqlite_lease_get(void *be, struct store_lease *out, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql_get, &st, err) < 0)
		goto out;
	step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		cerr_set(err, CERR_STORE,
		    "store: lease: the lease row is "
		    "missing");
		goto out;
	}
	if (step != SQLITE_ROW) {
		store_sqlite_fail(sq, step, "read lease", err);
		goto out;
	}
	store_sqlite_copy(st, 0, out->holder, sizeof(out->holder));
	store_sqlite_copy(st, 1, out->url, sizeof(out->url));
	out->epoch = sqlite3_column_int64(st, 2);
	out->expires_in_ms = sqlite3_column_int64(st, 3);
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

/* Runs a bound update and hands the statement back; *changes_out: the
 * rows it changed. */
static int
run_update(struct store_sqlite *sq, sqlite3_stmt *st, int *changes_out,
    const char *what, struct cerr *err)
{
	int rc = store_sqlite_exec(sq, st, what, err);

	*changes_out = rc == 0 ? sqlite3_changes(sq->db) : 0;
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_lease_acquire(void *be, const char *holder, const char *url,
    int64_t ttl_ms, struct store_lease *out, int *taken, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1, changed = 0;

	if (store_sqlite_tx_enter(sq, "take lease", err) < 0)
		return -1;
	if (store_sqlite_stmt(sq, sql_acquire, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, holder, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, url, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, ttl_ms);
	if (run_update(sq, st, &changed, "take lease", err) < 0 ||
	    store_sqlite_lease_get(sq, out, err) < 0)
		goto out;
	*taken = changed == 1;
	rc = 0;
out:
	return store_sqlite_tx_leave(sq, rc == 0, "take lease", err);
}

int
store_sqlite_lease_renew(void *be, const char *holder, int64_t epoch,
    int64_t ttl_ms, struct cerr *err)
{
	struct store_sqlite *sq = be;
	struct store_lease now;
	sqlite3_stmt *st = NULL;
	int changed = 0;

	if (store_sqlite_stmt(sq, sql_renew, &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, epoch);
	sqlite3_bind_text(st, 2, holder, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, ttl_ms);
	if (run_update(sq, st, &changed, "renew lease", err) < 0)
		return -1;
	if (changed == 1)
		return 0;
	memset(&now, 0, sizeof(now));
	if (store_sqlite_lease_get(sq, &now, err) < 0)
		return -1;
	return cerr_set(err, CERR_NOT_ACTIVE,
	    "lease: epoch %lld was taken over: epoch %lld is held by %s",
	    (long long)epoch, (long long)now.epoch,
	    now.url[0] != '\0' ? now.url : now.holder);
}

int
store_sqlite_lease_release(void *be, int64_t epoch, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int changed = 0;

	if (store_sqlite_stmt(sq, sql_release, &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, epoch);
	return run_update(sq, st, &changed, "release lease", err);
}

/* One master per file: nothing to check (see the top of this file). */
void
store_sqlite_lease_fence(void *be, int64_t epoch)
{
	struct store_sqlite *sq = be;

	/* One master per SQLite store: nothing to fence, but instructions
	 * still name the epoch they were posted under. */
	sq->fence_epoch = epoch > 0 ? epoch : 0;
}

int
store_sqlite_lease_fenced(void *be)
{
	return 0;
}
