/*
 * tstore: the target's local SQLite store (see tstore.h).
 *
 * Durability: the outbox and the run ledger are the target's promise that
 * no outcome is lost and no START runs twice, so the store runs in WAL
 * mode with synchronous=FULL: every commit is on disk before it returns.
 * A target writes a few rows per run, so the extra fsync costs nothing
 * that matters (the master, with its far higher write rate, decides for
 * itself), except on the path from a due instant to exec, where each one
 * is latency: there tstore_begin_unsynced() skips the fsync of the writes
 * a power cut may lose harmlessly, leaving one per start. The file is created mode 0600 (job documents may carry secret
 * environment values); SQLite gives its -wal and -shm files the same mode.
 *
 * The schema is versioned with PRAGMA user_version: migrations[] holds one
 * entry per version and they run in one transaction at open. A store
 * written by a newer cohortd is refused untouched rather than guessed at.
 *
 * The frequent statements are prepared once at open (stmt_sql[]). Every
 * call that writes more than one statement runs them atomically: in its own
 * BEGIN IMMEDIATE transaction, or, inside the caller's tstore_begin(), in a
 * savepoint, so a failed call changes nothing either way. Listings may call
 * back into the store to write, but not re-enter the same listing.
 */
#include "target/tstore.h"
#include "target/tstore_db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#define TSTORE_BUSY_TIMEOUT_MS 5000

static const char *const stmt_sql[ST_COUNT] = {
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [ST_META_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2) "
		    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [ST_META_ADD] = "INSERT INTO meta(key, value) VALUES (?1, ?2) "
		    "ON CONFLICT(key) DO UPDATE SET value = value + "
		    "excluded.value",
    /* Replaces only a job of the same origin: 0 changes means conflict. */
    [ST_JOB_PUT] = "INSERT INTO jobs(name, origin, doc, updated_at) "
		   "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(name) DO UPDATE SET "
		   "doc = excluded.doc, updated_at = excluded.updated_at "
		   "WHERE jobs.origin = excluded.origin",
    [ST_JOB_GET] = "SELECT origin, doc FROM jobs WHERE name = ?1",
    [ST_JOB_DELETE] = "DELETE FROM jobs WHERE name = ?1 AND origin = ?2",
    [ST_JOB_DELETE_ORIGIN] = "DELETE FROM jobs WHERE origin = ?1",
    [ST_JOB_LIST] = "SELECT name, origin, doc FROM jobs ORDER BY name",
    /* DO NOTHING covers both partial unique indexes. */
    [ST_RUN_ADD] = "INSERT INTO runs(job, instr_id, due_at, state, outcome, "
		   "created_at, updated_at, local) VALUES (?1, ?2, ?3, "
		   "'queued', '', ?4, ?4, ?5) ON CONFLICT DO NOTHING",
    /* The "> 0" terms let the planner use the partial indexes. */
    [ST_RUN_BY_INSTR] = "SELECT run_id FROM runs "
			"WHERE instr_id = ?1 AND instr_id > 0",
    [ST_RUN_BY_DUE] = "SELECT run_id FROM runs "
		      "WHERE job = ?1 AND due_at = ?2 AND due_at > 0",
    [ST_RUN_SET_STATE] = "UPDATE runs SET state = ?2, outcome = ?3, "
			 "updated_at = ?4 WHERE run_id = ?1",
    /* run_id, not created_at, is the order of creation: the clock may
     * have been set back between two runs. */
    [ST_RUN_LIST_STATE] = "SELECT run_id, job, instr_id, due_at, created_at, "
			  "local, started_ms FROM runs WHERE state = ?1 AND "
			  "run_id > ?2 ORDER BY run_id",
    [ST_RUN_ACTIVE] = "SELECT run_id FROM runs WHERE job = ?1 AND state IN "
		      "('queued', 'running') ORDER BY run_id LIMIT 1",
    [ST_OUTBOX_COUNT] = "SELECT COUNT(*) FROM outbox",
    [ST_OUTBOX_TRIM] = "DELETE FROM outbox WHERE seq IN "
		       "(SELECT seq FROM outbox ORDER BY seq LIMIT ?1)",
    [ST_OUTBOX_ADD] = "INSERT INTO outbox(kind, body, created_at, size) "
		      "VALUES (?1, ?2, ?3, ?4)",
    [ST_OUTBOX_PEEK] = "SELECT seq, kind, body FROM outbox "
		       "ORDER BY seq LIMIT ?1",
    [ST_OUTBOX_DELETE] = "DELETE FROM outbox WHERE seq = ?1",
    /* Summed from the outbox_size index, never from the bodies. */
    [ST_OUTBOX_BYTES] = "SELECT COALESCE(SUM(size), 0) FROM outbox",
    [ST_OUTBOX_LAST] = "SELECT COALESCE(MAX(seq), 0) FROM outbox",
    [ST_OUTBOX_AFTER] = "SELECT seq, kind, body, size FROM outbox "
			"WHERE seq > ?1 ORDER BY seq LIMIT 1",
    [ST_OUTBOX_SET_BODY] = "UPDATE outbox SET body = ?2, size = ?3 "
			   "WHERE seq = ?1",
    [ST_OUTBOX_DROP_OLDEST] = "DELETE FROM outbox WHERE seq = "
			      "(SELECT MIN(seq) FROM outbox) RETURNING size",
    [ST_ACK_ADD] = "INSERT INTO acks(id, ok, error) VALUES (?1, ?2, ?3) "
		   "ON CONFLICT(id) DO NOTHING",
    [ST_ACK_LIST] = "SELECT id, ok, error FROM acks ORDER BY id LIMIT ?1",
    [ST_ACK_DELETE_UPTO] = "DELETE FROM acks WHERE id <= ?1",
    [ST_RUN_PRUNE] = "DELETE FROM runs WHERE state = 'finished' AND "
		     "updated_at < ?1",
    [ST_RUN_SET_PGID] = "UPDATE runs SET pgid = ?2, pgid_start = ?3 "
			"WHERE run_id = ?1",
    [ST_RUN_GET_PGID] = "SELECT pgid, pgid_start FROM runs WHERE run_id = ?1",
    [ST_RUN_SET_STARTED] = "UPDATE runs SET started_ms = ?2 WHERE run_id = ?1",
    [ST_STEP_PUT] = "INSERT INTO run_steps(run_id, step, attempt, step_name, "
		    "outcome, exit_code, started_ms, duration_ms, message) "
		    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
		    "ON CONFLICT(run_id, step, attempt) DO UPDATE SET "
		    "step_name = excluded.step_name, "
		    "outcome = excluded.outcome, "
		    "exit_code = excluded.exit_code, "
		    "started_ms = excluded.started_ms, "
		    "duration_ms = excluded.duration_ms, "
		    "message = excluded.message",
    /* rowid: the order the attempts started in (an upsert keeps it),
     * which a jump back to an earlier step does not follow by number */
    [ST_STEP_LIST] = "SELECT step, attempt, step_name, outcome, exit_code, "
		     "started_ms, duration_ms, message FROM run_steps "
		     "WHERE run_id = ?1 ORDER BY rowid",
    [ST_STEP_DELETE] = "DELETE FROM run_steps WHERE run_id = ?1",
    [ST_RUN_COUNT_ACTIVE] = "SELECT COUNT(*) FROM runs WHERE job = ?1 AND "
			    "state IN ('queued', 'running')",
    [ST_SCHED_GET] = "SELECT def_hash, cursor, paused, miss_first, "
		     "miss_last, miss_count FROM sched "
		     "WHERE job = ?1 AND schedule = ?2",
    [ST_SCHED_PUT] = "INSERT INTO sched(job, schedule, def_hash, cursor, "
		     "paused, miss_first, miss_last, miss_count) VALUES (?1, "
		     "?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(job, schedule) "
		     "DO UPDATE SET def_hash = excluded.def_hash, "
		     "cursor = excluded.cursor, paused = excluded.paused, "
		     "miss_first = excluded.miss_first, "
		     "miss_last = excluded.miss_last, "
		     "miss_count = excluded.miss_count",
    [ST_SCHED_LIST] = "SELECT job, schedule, def_hash, cursor, paused, "
		      "miss_first, miss_last, miss_count FROM sched "
		      "ORDER BY job, schedule",
    [ST_SCHED_DELETE] = "DELETE FROM sched WHERE job = ?1 AND schedule = ?2",
    [ST_HIST_ADD] = "INSERT OR REPLACE INTO history(run_id, job, local, "
		    "outcome, started_ms, duration_ms, report) "
		    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_HIST_LIST] = "SELECT run_id, job, local, outcome, started_ms, "
		     "duration_ms, report FROM history "
		     "ORDER BY run_id DESC LIMIT ?1",
    [ST_HIST_LIST_JOB] = "SELECT run_id, job, local, outcome, started_ms, "
			 "duration_ms, report FROM history WHERE job = ?2 "
			 "ORDER BY run_id DESC LIMIT ?1",
    /* ?2: keep the newest ?2 runs (-1: no count limit); ?3: and none
     * that started before ?3 ms */
    [ST_HIST_TRIM_JOB] = "DELETE FROM history WHERE job = ?1 AND "
			 "(started_ms < ?3 OR run_id IN (SELECT run_id FROM "
			 "history WHERE job = ?1 ORDER BY run_id DESC "
			 "LIMIT -1 OFFSET ?2))",
    [ST_HIST_TRIM] = "DELETE FROM history WHERE run_id IN (SELECT run_id "
		     "FROM history ORDER BY run_id DESC LIMIT -1 OFFSET ?1)",
};

/* migrations[i] takes the schema from version i to i + 1. Released
 * entries never change; a new version is a new entry. AUTOINCREMENT keeps
 * run ids and outbox seqs from ever being reused after deletes: the master
 * acknowledges outbox records by seq. */
static const char *const migrations[] = {
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "CREATE TABLE jobs (name TEXT PRIMARY KEY,"
    " origin TEXT NOT NULL CHECK (origin IN ('master', 'local')),"
    " doc TEXT NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE TABLE runs (run_id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " job TEXT NOT NULL, instr_id INTEGER NOT NULL DEFAULT 0,"
    " due_at INTEGER NOT NULL DEFAULT 0,"
    " state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'finished')),"
    " outcome TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX runs_instr ON runs (instr_id) WHERE instr_id > 0;"
    "CREATE UNIQUE INDEX runs_due ON runs (job, due_at) WHERE due_at > 0;"
    "CREATE INDEX runs_state ON runs (state);"
    "CREATE INDEX runs_job_state ON runs (job, state);"
    "CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " kind TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL);",
    /* 2: acknowledgements kept until the master has them */
    "CREATE TABLE acks (id INTEGER PRIMARY KEY, ok INTEGER NOT NULL,"
    " error TEXT NOT NULL);"
    "CREATE INDEX runs_finished ON runs (updated_at) "
    "WHERE state = 'finished';",
    /* 3: the running step's process group and its leader's start time,
     * so a restart can kill what a crash left running */
    ("ALTER TABLE runs ADD COLUMN pgid INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE runs ADD COLUMN pgid_start INTEGER NOT NULL DEFAULT 0;"),
    /* 4: the scheduler's state per (job, schedule), and the local history
     * of finished runs (the report as JSON) */
    "CREATE TABLE sched (job TEXT NOT NULL, schedule TEXT NOT NULL,"
    " def_hash INTEGER NOT NULL, cursor INTEGER NOT NULL,"
    " paused INTEGER NOT NULL DEFAULT 0,"
    " miss_first INTEGER NOT NULL DEFAULT 0,"
    " miss_last INTEGER NOT NULL DEFAULT 0,"
    " miss_count INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (job, schedule));"
    "CREATE TABLE history (run_id INTEGER PRIMARY KEY, job TEXT NOT NULL,"
    " local INTEGER NOT NULL, outcome TEXT NOT NULL,"
    " started_ms INTEGER NOT NULL, duration_ms INTEGER NOT NULL,"
    " report TEXT NOT NULL);"
    "CREATE INDEX history_job ON history (job, run_id);",
    /* 5: each run's origin, so a run whose job is deleted meanwhile is
     * still recorded as what it was (a local job's stays off the
     * outbox); runs from before take their job's origin, if it is left */
    ("ALTER TABLE runs ADD COLUMN local INTEGER NOT NULL DEFAULT 0;"
     "UPDATE runs SET local = 1 WHERE job IN "
     "(SELECT name FROM jobs WHERE origin = 'local');"),
    /* 6: each outbox record's body size in bytes, for outbox_max_bytes.
     * The column comes after the body, so a row's size is read past its
     * body's overflow pages: the index lets the total be summed from
     * its own few pages instead. */
    ("ALTER TABLE outbox ADD COLUMN size INTEGER NOT NULL DEFAULT 0;"
     "UPDATE outbox SET size = length(CAST(body AS BLOB));"
     "CREATE INDEX outbox_size ON outbox (size);"),
    /* 7: what a run found "running" at start-up is recorded with: its
     * start (runs from before take the second they were marked running)
     * and its step attempts as they start and end (run_steps, emptied
     * when the run ends) */
    ("ALTER TABLE runs ADD COLUMN started_ms INTEGER NOT NULL DEFAULT 0;"
     "UPDATE runs SET started_ms = updated_at * 1000 "
     "WHERE state = 'running';"
     "CREATE TABLE run_steps (run_id INTEGER NOT NULL,"
     " step INTEGER NOT NULL, attempt INTEGER NOT NULL,"
     " step_name TEXT NOT NULL, outcome TEXT NOT NULL,"
     " exit_code INTEGER NOT NULL, started_ms INTEGER NOT NULL,"
     " duration_ms INTEGER NOT NULL, message TEXT NOT NULL,"
     " PRIMARY KEY (run_id, step, attempt));"),
};

#define TSTORE_SCHEMA_VERSION (int)(sizeof(migrations) / sizeof(migrations[0]))

/* A value over SQLite's size limit (SQLITE_TOOBIG) can never be written,
 * however often it is tried: it is CERR_TOO_LARGE, so a caller can tell
 * it from a store that refuses writes for now (CERR_STORE). */
static enum cerr_code
code_of(int sqlite_rc)
{
	return (sqlite_rc & 0xff) == SQLITE_TOOBIG ? CERR_TOO_LARGE
						   : CERR_STORE;
}

/* "tstore: <op>: <SQLite's message>"; returns -1. */
int
tstore_db_fail(struct tstore *s, const char *op, struct cerr *err)
{
	return cerr_set(err, code_of(sqlite3_extended_errcode(s->db)),
	    "tstore: %s: %s", op, sqlite3_errmsg(s->db));
}

int
tstore_db_exec(
    struct tstore *s, const char *sql, const char *op, struct cerr *err)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return tstore_db_fail(s, op, err);
	return 0;
}

/* Readies st for its next use and drops borrowed bindings. */
void
tstore_stmt_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Callers bind their arguments in the call itself: bind_rc is the OR of
 * the sqlite3_bind_*() results, so SQLITE_OK only when every bind worked
 * (binding fails only on out-of-memory or a value over SQLite's size
 * limit). */
int
tstore_bind_check(
    sqlite3_stmt *st, int bind_rc, const char *op, struct cerr *err)
{
	if (bind_rc == SQLITE_OK)
		return 0;
	tstore_stmt_done(st);
	return cerr_set(err, code_of(bind_rc), "tstore: %s: %s", op,
	    sqlite3_errstr(bind_rc));
}

/* Runs a statement that returns no rows; always resets it. */
int
tstore_stmt_run(struct tstore *s, enum stmt_id id, int bind_rc, const char *op,
    struct cerr *err)
{
	sqlite3_stmt *st = s->st[id];
	int rc;

	if (tstore_bind_check(st, bind_rc, op, err) < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		tstore_db_fail(s, op, err);
	tstore_stmt_done(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Runs a statement returning at most one integer, stored in *out when a
 * row comes back (*out is left alone otherwise); always resets it. */
int
tstore_stmt_int(struct tstore *s, enum stmt_id id, int bind_rc, int64_t *out,
    const char *op, struct cerr *err)
{
	sqlite3_stmt *st = s->st[id];
	int rc;

	if (tstore_bind_check(st, bind_rc, op, err) < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		tstore_db_fail(s, op, err);
	tstore_stmt_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* Takes a listing statement for use. A callback that re-entered the same
 * listing would reset the statement under its caller: refused. */
sqlite3_stmt *
tstore_list_start(
    struct tstore *s, enum stmt_id id, const char *op, struct cerr *err)
{
	if (sqlite3_stmt_busy(s->st[id])) {
		cerr_set(err, CERR_INTERNAL,
		    "tstore: %s: listing re-entered from its callback", op);
		return NULL;
	}
	return s->st[id];
}

/* Ends a listing whose last sqlite3_step() returned step (SQLITE_DONE
 * also when the callback stopped it). */
int
tstore_list_end(struct tstore *s, sqlite3_stmt *st, int step, const char *op,
    struct cerr *err)
{
	if (step != SQLITE_DONE)
		tstore_db_fail(s, op, err);
	tstore_stmt_done(st);
	return step == SQLITE_DONE ? 0 : -1;
}

/* Opens the atomic unit of one call: its own transaction, or a savepoint
 * inside the caller's. */
int
tstore_op_begin(
    struct tstore *s, int *own_out, const char *op, struct cerr *err)
{
	*own_out = sqlite3_get_autocommit(s->db);
	return tstore_db_exec(
	    s, *own_out ? "BEGIN IMMEDIATE" : "SAVEPOINT tstore_op", op, err);
}

/* Closes what tstore_op_begin opened: kept when rc is 0, else undone. Returns
 * the call's final result. */
int
tstore_op_end(
    struct tstore *s, int own, int rc, const char *op, struct cerr *err)
{
	if (rc == 0 &&
	    tstore_db_exec(s, own ? "COMMIT" : "RELEASE tstore_op", op, err) ==
		0)
		return 0;
	if (own) {
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	} else {
		sqlite3_exec(s->db, "ROLLBACK TO tstore_op; RELEASE tstore_op",
		    NULL, NULL, NULL);
	}
	return -1;
}

/* The one-column answer of a PRAGMA, as text into out. */
static int
pragma_get(struct tstore *s, const char *sql, char *out, size_t size,
    const char *path, struct cerr *err)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *v;
	int rc = -1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		cerr_set(err, CERR_STORE, "tstore: open %s: %s", path,
		    sqlite3_errmsg(s->db));
		goto out;
	}
	v = sqlite3_column_text(st, 0);
	snprintf(out, size, "%s", v != NULL ? (const char *)v : "");
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/* Brings the schema from version `from` to TSTORE_SCHEMA_VERSION in one
 * transaction. */
static int
schema_migrate(struct tstore *s, int from, struct cerr *err)
{
	char sql[64];
	int rc = -1;

	if (tstore_db_exec(s, "BEGIN IMMEDIATE", "migrate", err) < 0)
		return -1;
	for (int v = from; v < TSTORE_SCHEMA_VERSION; v++) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (tstore_db_exec(s, migrations[v], "migrate", err) < 0 ||
		    tstore_db_exec(s, sql, "migrate", err) < 0)
			goto out;
	}
	rc = tstore_db_exec(s, "COMMIT", "migrate", err);
out:
	if (rc < 0 && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* Checks the version first, so a newer store is left exactly as found
 * (switching to WAL would already write its header). */
static int
schema_setup(struct tstore *s, const char *path, struct cerr *err)
{
	char value[32];
	int version;

	if (pragma_get(
		s, "PRAGMA user_version", value, sizeof(value), path, err) < 0)
		return -1;
	version = atoi(value);
	if (version > TSTORE_SCHEMA_VERSION)
		return cerr_set(err, CERR_STORE,
		    "tstore: %s: schema version %d is newer than this cohortd knows (%d); use the newer cohortd",
		    path, version, TSTORE_SCHEMA_VERSION);
	sqlite3_busy_timeout(s->db, TSTORE_BUSY_TIMEOUT_MS);
	if (pragma_get(s, "PRAGMA journal_mode = WAL", value, sizeof(value),
		path, err) < 0)
		return -1;
	if (strcmp(value, "wal") != 0)
		return cerr_set(err, CERR_STORE,
		    "tstore: %s: the file system refuses WAL mode (journal mode '%s')",
		    path, value);
	if (tstore_db_exec(
		s, "PRAGMA synchronous = FULL", "set synchronous", err) < 0)
		return -1;
	if (tstore_db_exec(s, "PRAGMA trusted_schema = OFF",
		"set trusted_schema", err) < 0)
		return -1;
	if (version < TSTORE_SCHEMA_VERSION &&
	    schema_migrate(s, version, err) < 0)
		return -1;
	for (int i = 0; i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
			SQLITE_PREPARE_PERSISTENT, &s->st[i],
			NULL) != SQLITE_OK)
			return tstore_db_fail(s, "prepare", err);
	return 0;
}

int
tstore_open(const char *path, struct tstore **out, struct cerr *err)
{
	struct tstore *s = NULL;
	int fd, rc = -1;

	*out = NULL;
	/* Created 0600 here so SQLite never creates it world-readable. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return cerr_set(err, CERR_STORE, "tstore: open %s: %s", path,
		    strerror(errno));
	close(fd);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return cerr_set(err, CERR_INTERNAL, "tstore: out of memory");
	if (sqlite3_open_v2(path, &s->db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
		NULL) != SQLITE_OK) {
		cerr_set(err, CERR_STORE, "tstore: open %s: %s", path,
		    s->db != NULL ? sqlite3_errmsg(s->db) : "out of memory");
		goto out;
	}
	if (schema_setup(s, path, err) < 0)
		goto out;
	*out = s;
	s = NULL;
	rc = 0;
out:
	tstore_close(s);
	return rc;
}

void
tstore_close(struct tstore *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	free(s);
}

/* SQLite takes synchronous only outside a transaction: set before BEGIN
 * and put back after the transaction ends. */
static int
set_synchronous(struct tstore *s, int full, struct cerr *err)
{
	if (tstore_db_exec(s,
		full ? "PRAGMA synchronous = FULL"
		     : "PRAGMA synchronous = NORMAL",
		"set synchronous", err) < 0)
		return -1;
	s->unsynced = !full;
	return 0;
}

static int
begin(struct tstore *s, int full, struct cerr *err)
{
	if (!sqlite3_get_autocommit(s->db))
		return cerr_set(err, CERR_INTERNAL,
		    "tstore: begin: a transaction is open already");
	if ((s->unsynced || !full) && set_synchronous(s, full, err) < 0)
		return -1;
	if (tstore_db_exec(s, "BEGIN IMMEDIATE", "begin", err) == 0)
		return 0;
	if (!full)
		set_synchronous(s, 1, err);
	return -1;
}

int
tstore_begin(struct tstore *s, struct cerr *err)
{
	return begin(s, 1, err);
}

int
tstore_begin_unsynced(struct tstore *s, struct cerr *err)
{
	return begin(s, 0, err);
}

/* A failed commit is rolled back: the caller never holds a half-open
 * transaction. Writes outside a transaction (each statement its own)
 * wait for the disk again from here on. */
int
tstore_commit(struct tstore *s, struct cerr *err)
{
	if (tstore_db_exec(s, "COMMIT", "commit", err) < 0) {
		tstore_rollback(s);
		return -1;
	}
	return s->unsynced ? set_synchronous(s, 1, err) : 0;
}

void
tstore_rollback(struct tstore *s)
{
	struct cerr ignored;

	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	/* Should this fail, the next begin tries again (s->unsynced). */
	if (s->unsynced)
		set_synchronous(s, 1, &ignored);
}

int
tstore_name_check(const char *what, const char *name, struct cerr *err)
{
	if (name == NULL || name[0] == '\0')
		return cerr_set(err, CERR_INVALID, "tstore: %s: empty", what);
	return 0;
}

int
tstore_meta_get_int(struct tstore *s, const char *key, int64_t dflt,
    int64_t *out, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_META_GET];

	*out = dflt;
	if (tstore_name_check("meta key", key, err) < 0)
		return -1;
	return tstore_stmt_int(s, ST_META_GET,
	    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC), out, "meta get",
	    err);
}

int
tstore_meta_set_int(
    struct tstore *s, const char *key, int64_t value, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_META_SET];

	if (tstore_name_check("meta key", key, err) < 0)
		return -1;
	return tstore_stmt_run(s, ST_META_SET,
	    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) |
		sqlite3_bind_int64(st, 2, value),
	    "meta set", err);
}
