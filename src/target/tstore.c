/*
 * tstore: the target's local SQLite store (see tstore.h).
 *
 * Durability: the outbox and the run ledger are the target's promise that
 * no outcome is lost and no START runs twice, so the store runs in WAL
 * mode with synchronous=FULL: every commit is on disk before it returns.
 * A target writes a few rows per run, so the extra fsync costs nothing
 * that matters (the master, with its far higher write rate, decides for
 * itself). The file is created mode 0600 (job documents may carry secret
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

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#define TSTORE_BUSY_TIMEOUT_MS 5000
#define TSTORE_OUTBOX_DROPPED "outbox_dropped"

enum stmt_id {
	ST_META_GET,
	ST_META_SET,
	ST_META_ADD,
	ST_JOB_PUT,
	ST_JOB_GET,
	ST_JOB_DELETE,
	ST_JOB_DELETE_ORIGIN,
	ST_JOB_LIST,
	ST_RUN_ADD,
	ST_RUN_BY_INSTR,
	ST_RUN_BY_DUE,
	ST_RUN_SET_STATE,
	ST_RUN_LIST_STATE,
	ST_RUN_ACTIVE,
	ST_OUTBOX_COUNT,
	ST_OUTBOX_TRIM,
	ST_OUTBOX_ADD,
	ST_OUTBOX_PEEK,
	ST_OUTBOX_DELETE,
	ST_COUNT
};

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
		   "created_at, updated_at) VALUES (?1, ?2, ?3, 'queued', '', "
		   "?4, ?4) ON CONFLICT DO NOTHING",
    /* The "> 0" terms let the planner use the partial indexes. */
    [ST_RUN_BY_INSTR] = "SELECT run_id FROM runs "
			"WHERE instr_id = ?1 AND instr_id > 0",
    [ST_RUN_BY_DUE] = "SELECT run_id FROM runs "
		      "WHERE job = ?1 AND due_at = ?2 AND due_at > 0",
    [ST_RUN_SET_STATE] = "UPDATE runs SET state = ?2, outcome = ?3, "
			 "updated_at = ?4 WHERE run_id = ?1",
    /* run_id, not created_at, is the order of creation: the clock may
     * have been set back between two runs. */
    [ST_RUN_LIST_STATE] = "SELECT run_id, job, instr_id, created_at "
			  "FROM runs WHERE state = ?1 ORDER BY run_id",
    [ST_RUN_ACTIVE] = "SELECT run_id FROM runs WHERE job = ?1 AND state IN "
		      "('queued', 'running') ORDER BY run_id LIMIT 1",
    [ST_OUTBOX_COUNT] = "SELECT COUNT(*) FROM outbox",
    [ST_OUTBOX_TRIM] = "DELETE FROM outbox WHERE seq IN "
		       "(SELECT seq FROM outbox ORDER BY seq LIMIT ?1)",
    [ST_OUTBOX_ADD] = "INSERT INTO outbox(kind, body, created_at) "
		      "VALUES (?1, ?2, ?3)",
    [ST_OUTBOX_PEEK] = "SELECT seq, kind, body FROM outbox "
		       "ORDER BY seq LIMIT ?1",
    [ST_OUTBOX_DELETE] = "DELETE FROM outbox WHERE seq = ?1",
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
};

#define TSTORE_SCHEMA_VERSION (int)(sizeof(migrations) / sizeof(migrations[0]))

static const char *const origin_names[] = {
    [ORIGIN_MASTER] = "master", [ORIGIN_LOCAL] = "local"};
static const char *const state_names[] = {[TRUN_QUEUED] = "queued",
    [TRUN_RUNNING] = "running",
    [TRUN_FINISHED] = "finished"};

struct tstore {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
};

/* CERR_STORE "tstore: <op>: <SQLite's message>"; returns -1. */
static int
db_fail(struct tstore *s, const char *op, struct cerr *err)
{
	return cerr_set(
	    err, CERR_STORE, "tstore: %s: %s", op, sqlite3_errmsg(s->db));
}

static int
db_exec(struct tstore *s, const char *sql, const char *op, struct cerr *err)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(s, op, err);
	return 0;
}

/* Readies st for its next use and drops borrowed bindings. */
static void
stmt_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Callers bind their arguments in the call itself: bind_rc is the OR of
 * the sqlite3_bind_*() results, so SQLITE_OK only when every bind worked
 * (binding fails only on out-of-memory or a value over SQLite's size
 * limit). */
static int
bind_check(sqlite3_stmt *st, int bind_rc, const char *op, struct cerr *err)
{
	if (bind_rc == SQLITE_OK)
		return 0;
	stmt_done(st);
	return cerr_set(
	    err, CERR_STORE, "tstore: %s: %s", op, sqlite3_errstr(bind_rc));
}

/* Runs a statement that returns no rows; always resets it. */
static int
stmt_run(struct tstore *s, enum stmt_id id, int bind_rc, const char *op,
    struct cerr *err)
{
	sqlite3_stmt *st = s->st[id];
	int rc;

	if (bind_check(st, bind_rc, op, err) < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		db_fail(s, op, err);
	stmt_done(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Runs a statement returning at most one integer, stored in *out when a
 * row comes back (*out is left alone otherwise); always resets it. */
static int
stmt_int(struct tstore *s, enum stmt_id id, int bind_rc, int64_t *out,
    const char *op, struct cerr *err)
{
	sqlite3_stmt *st = s->st[id];
	int rc;

	if (bind_check(st, bind_rc, op, err) < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		db_fail(s, op, err);
	stmt_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* Takes a listing statement for use. A callback that re-entered the same
 * listing would reset the statement under its caller: refused. */
static sqlite3_stmt *
list_start(struct tstore *s, enum stmt_id id, const char *op, struct cerr *err)
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
static int
list_end(struct tstore *s, sqlite3_stmt *st, int step, const char *op,
    struct cerr *err)
{
	if (step != SQLITE_DONE)
		db_fail(s, op, err);
	stmt_done(st);
	return step == SQLITE_DONE ? 0 : -1;
}

/* Opens the atomic unit of one call: its own transaction, or a savepoint
 * inside the caller's. */
static int
op_begin(struct tstore *s, int *own_out, const char *op, struct cerr *err)
{
	*own_out = sqlite3_get_autocommit(s->db);
	return db_exec(
	    s, *own_out ? "BEGIN IMMEDIATE" : "SAVEPOINT tstore_op", op, err);
}

/* Closes what op_begin opened: kept when rc is 0, else undone. Returns
 * the call's final result. */
static int
op_end(struct tstore *s, int own, int rc, const char *op, struct cerr *err)
{
	if (rc == 0 &&
	    db_exec(s, own ? "COMMIT" : "RELEASE tstore_op", op, err) == 0)
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

	if (db_exec(s, "BEGIN IMMEDIATE", "migrate", err) < 0)
		return -1;
	for (int v = from; v < TSTORE_SCHEMA_VERSION; v++) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (db_exec(s, migrations[v], "migrate", err) < 0 ||
		    db_exec(s, sql, "migrate", err) < 0)
			goto out;
	}
	rc = db_exec(s, "COMMIT", "migrate", err);
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
	if (db_exec(s, "PRAGMA synchronous = FULL", "set synchronous", err) < 0)
		return -1;
	if (db_exec(s, "PRAGMA trusted_schema = OFF", "set trusted_schema",
		err) < 0)
		return -1;
	if (version < TSTORE_SCHEMA_VERSION &&
	    schema_migrate(s, version, err) < 0)
		return -1;
	for (int i = 0; i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
			SQLITE_PREPARE_PERSISTENT, &s->st[i],
			NULL) != SQLITE_OK)
			return db_fail(s, "prepare", err);
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

int
tstore_begin(struct tstore *s, struct cerr *err)
{
	if (!sqlite3_get_autocommit(s->db))
		return cerr_set(err, CERR_INTERNAL,
		    "tstore: begin: a transaction is open already");
	return db_exec(s, "BEGIN IMMEDIATE", "begin", err);
}

/* A failed commit is rolled back: the caller never holds a half-open
 * transaction. */
int
tstore_commit(struct tstore *s, struct cerr *err)
{
	if (db_exec(s, "COMMIT", "commit", err) == 0)
		return 0;
	tstore_rollback(s);
	return -1;
}

void
tstore_rollback(struct tstore *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static int
name_check(const char *what, const char *name, struct cerr *err)
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
	if (name_check("meta key", key, err) < 0)
		return -1;
	return stmt_int(s, ST_META_GET,
	    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC), out, "meta get",
	    err);
}

int
tstore_meta_set_int(
    struct tstore *s, const char *key, int64_t value, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_META_SET];

	if (name_check("meta key", key, err) < 0)
		return -1;
	return stmt_run(s, ST_META_SET,
	    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) |
		sqlite3_bind_int64(st, 2, value),
	    "meta set", err);
}

static int
origin_parse(const char *name, enum job_origin *out)
{
	for (int i = ORIGIN_MASTER; i <= ORIGIN_LOCAL; i++)
		if (name != NULL && strcmp(origin_names[i], name) == 0) {
			*out = (enum job_origin)i;
			return 0;
		}
	return -1;
}

static int
origin_check(enum job_origin origin, struct cerr *err)
{
	if (origin != ORIGIN_MASTER && origin != ORIGIN_LOCAL)
		return cerr_set(err, CERR_INVALID, "tstore: bad job origin %d",
		    (int)origin);
	return 0;
}

int
tstore_job_put(struct tstore *s, const char *name, enum job_origin origin,
    const char *doc, int64_t now, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_JOB_PUT];

	if (name_check("job name", name, err) < 0 ||
	    origin_check(origin, err) < 0)
		return -1;
	if (doc == NULL)
		return cerr_set(
		    err, CERR_INVALID, "tstore: job %s: no document", name);
	if (stmt_run(s, ST_JOB_PUT,
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) |
		    sqlite3_bind_text(
			st, 2, origin_names[origin], -1, SQLITE_STATIC) |
		    sqlite3_bind_text(st, 3, doc, -1, SQLITE_STATIC) |
		    sqlite3_bind_int64(st, 4, now),
		"job put", err) < 0)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return cerr_set(err, CERR_CONFLICT,
		    "tstore: job %s exists already as a %s job", name,
		    origin_names[origin == ORIGIN_MASTER ? ORIGIN_LOCAL
							 : ORIGIN_MASTER]);
	return 0;
}

int
tstore_job_get(struct tstore *s, const char *name, char **doc_out,
    enum job_origin *origin_out, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_JOB_GET];
	enum job_origin origin = ORIGIN_MASTER;
	const char *origin_name, *doc;
	int step;

	*doc_out = NULL;
	if (name_check("job name", name, err) < 0 ||
	    bind_check(st, sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC),
		"job get", err) < 0)
		return -1;
	step = sqlite3_step(st);
	if (step == SQLITE_DONE)
		cerr_set(
		    err, CERR_NOT_FOUND, "tstore: job %s: not found", name);
	else if (step != SQLITE_ROW)
		db_fail(s, "job get", err);
	if (step != SQLITE_ROW)
		goto out;
	origin_name = (const char *)sqlite3_column_text(st, 0);
	doc = (const char *)sqlite3_column_text(st, 1);
	if (doc == NULL || origin_parse(origin_name, &origin) < 0) {
		cerr_set(err, CERR_STORE, "tstore: job %s: bad row", name);
		goto out;
	}
	*doc_out = strdup(doc);
	if (*doc_out == NULL)
		cerr_set(err, CERR_INTERNAL, "tstore: job get: out of memory");
	else if (origin_out != NULL)
		*origin_out = origin;
out:
	stmt_done(st);
	return *doc_out != NULL ? 0 : -1;
}

int
tstore_job_delete(struct tstore *s, const char *name, enum job_origin origin,
    int *deleted_out, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_JOB_DELETE];

	if (deleted_out != NULL)
		*deleted_out = 0;
	if (name_check("job name", name, err) < 0 ||
	    origin_check(origin, err) < 0)
		return -1;
	if (stmt_run(s, ST_JOB_DELETE,
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) |
		    sqlite3_bind_text(
			st, 2, origin_names[origin], -1, SQLITE_STATIC),
		"job delete", err) < 0)
		return -1;
	if (deleted_out != NULL)
		*deleted_out = sqlite3_changes(s->db) > 0;
	return 0;
}

int
tstore_job_delete_origin(
    struct tstore *s, enum job_origin origin, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_JOB_DELETE_ORIGIN];

	if (origin_check(origin, err) < 0)
		return -1;
	return stmt_run(s, ST_JOB_DELETE_ORIGIN,
	    sqlite3_bind_text(st, 1, origin_names[origin], -1, SQLITE_STATIC),
	    "job delete all", err);
}

int
tstore_job_list(struct tstore *s, tstore_job_cb cb, void *arg, struct cerr *err)
{
	sqlite3_stmt *st = list_start(s, ST_JOB_LIST, "job list", err);
	enum job_origin origin;
	int step;

	if (st == NULL)
		return -1;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *doc = (const char *)sqlite3_column_text(st, 2);

		if (name == NULL || doc == NULL ||
		    origin_parse(
			(const char *)sqlite3_column_text(st, 1), &origin) < 0)
			continue; /* cannot happen: NOT NULL and CHECK */
		if (cb(arg, name, origin, doc) != 0) {
			step = SQLITE_DONE;
			break;
		}
	}
	return list_end(s, st, step, "job list", err);
}

/* With neither instr_id nor due_at (a local manual start) there is
 * nothing to deduplicate by: every call adds a run. When the insert is
 * refused by a unique index, the run holding the key is looked up. */
int
tstore_run_add(struct tstore *s, const char *job, int64_t instr_id,
    int64_t due_at, int64_t now, int64_t *run_id_out, int *existed_out,
    struct cerr *err)
{
	sqlite3_stmt *add = s->st[ST_RUN_ADD];
	sqlite3_stmt *by_instr = s->st[ST_RUN_BY_INSTR];
	sqlite3_stmt *by_due = s->st[ST_RUN_BY_DUE];

	*run_id_out = 0;
	*existed_out = 0;
	if (name_check("run job", job, err) < 0)
		return -1;
	if (instr_id < 0 || due_at < 0)
		return cerr_set(err, CERR_INVALID,
		    "tstore: run of %s: negative instruction id or due time",
		    job);
	if (stmt_run(s, ST_RUN_ADD,
		sqlite3_bind_text(add, 1, job, -1, SQLITE_STATIC) |
		    sqlite3_bind_int64(add, 2, instr_id) |
		    sqlite3_bind_int64(add, 3, due_at) |
		    sqlite3_bind_int64(add, 4, now),
		"run add", err) < 0)
		return -1;
	if (sqlite3_changes(s->db) > 0) {
		*run_id_out = sqlite3_last_insert_rowid(s->db);
		return 0;
	}
	if (instr_id > 0 &&
	    stmt_int(s, ST_RUN_BY_INSTR,
		sqlite3_bind_int64(by_instr, 1, instr_id), run_id_out,
		"run add", err) < 0)
		return -1;
	if (*run_id_out == 0 && due_at > 0 &&
	    stmt_int(s, ST_RUN_BY_DUE,
		sqlite3_bind_text(by_due, 1, job, -1, SQLITE_STATIC) |
		    sqlite3_bind_int64(by_due, 2, due_at),
		run_id_out, "run add", err) < 0)
		return -1;
	if (*run_id_out == 0)
		return cerr_set(err, CERR_STORE,
		    "tstore: run add %s: refused, yet no run holds its keys",
		    job);
	*existed_out = 1;
	return 0;
}

static int
state_check(enum trun_state state, struct cerr *err)
{
	if ((int)state < TRUN_QUEUED || state > TRUN_FINISHED)
		return cerr_set(
		    err, CERR_INVALID, "tstore: bad run state %d", (int)state);
	return 0;
}

int
tstore_run_set_state(struct tstore *s, int64_t run_id, enum trun_state state,
    const char *outcome, int64_t now, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_RUN_SET_STATE];

	if (state_check(state, err) < 0)
		return -1;
	if (stmt_run(s, ST_RUN_SET_STATE,
		sqlite3_bind_int64(st, 1, run_id) |
		    sqlite3_bind_text(
			st, 2, state_names[state], -1, SQLITE_STATIC) |
		    sqlite3_bind_text(st, 3, outcome != NULL ? outcome : "", -1,
			SQLITE_STATIC) |
		    sqlite3_bind_int64(st, 4, now),
		"run set state", err) < 0)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return cerr_set(err, CERR_NOT_FOUND,
		    "tstore: run %lld: not found", (long long)run_id);
	return 0;
}

int
tstore_run_list_state(struct tstore *s, enum trun_state state, tstore_run_cb cb,
    void *arg, struct cerr *err)
{
	sqlite3_stmt *st;
	int step;

	if (state_check(state, err) < 0)
		return -1;
	st = list_start(s, ST_RUN_LIST_STATE, "run list", err);
	if (st == NULL ||
	    bind_check(st,
		sqlite3_bind_text(st, 1, state_names[state], -1, SQLITE_STATIC),
		"run list", err) < 0)
		return -1;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *job = (const char *)sqlite3_column_text(st, 1);

		if (cb(arg, sqlite3_column_int64(st, 0), job != NULL ? job : "",
			sqlite3_column_int64(st, 2),
			sqlite3_column_int64(st, 3)) != 0) {
			step = SQLITE_DONE;
			break;
		}
	}
	return list_end(s, st, step, "run list", err);
}

int
tstore_run_active(
    struct tstore *s, const char *job, int64_t *run_id_out, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_RUN_ACTIVE];

	*run_id_out = 0;
	if (name_check("run job", job, err) < 0)
		return -1;
	return stmt_int(s, ST_RUN_ACTIVE,
	    sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC), run_id_out,
	    "run active", err);
}

/* Drops the oldest records so that one more fits under max_items, and
 * counts them in "outbox_dropped". More than one goes only when max_items
 * was lowered since the records were added. */
static int
outbox_make_room(struct tstore *s, int64_t max_items, struct cerr *err)
{
	int64_t count = 0, dropped;

	if (stmt_int(s, ST_OUTBOX_COUNT, SQLITE_OK, &count, "outbox add", err) <
	    0)
		return -1;
	if (count < max_items)
		return 0;
	if (stmt_run(s, ST_OUTBOX_TRIM,
		sqlite3_bind_int64(
		    s->st[ST_OUTBOX_TRIM], 1, count - max_items + 1),
		"outbox drop oldest", err) < 0)
		return -1;
	dropped = sqlite3_changes(s->db);
	return stmt_run(s, ST_META_ADD,
	    sqlite3_bind_text(s->st[ST_META_ADD], 1, TSTORE_OUTBOX_DROPPED, -1,
		SQLITE_STATIC) |
		sqlite3_bind_int64(s->st[ST_META_ADD], 2, dropped),
	    "outbox count dropped", err);
}

int
tstore_outbox_add(struct tstore *s, const char *kind, const char *body,
    int64_t max_items, int64_t now, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_OUTBOX_ADD];
	int own, rc;

	if (name_check("outbox kind", kind, err) < 0)
		return -1;
	if (body == NULL || max_items < 1)
		return cerr_set(err, CERR_INVALID,
		    "tstore: outbox add: no body or max_items < 1");
	if (op_begin(s, &own, "outbox add", err) < 0)
		return -1;
	rc = outbox_make_room(s, max_items, err);
	if (rc == 0)
		rc = stmt_run(s, ST_OUTBOX_ADD,
		    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC) |
			sqlite3_bind_text(st, 2, body, -1, SQLITE_STATIC) |
			sqlite3_bind_int64(st, 3, now),
		    "outbox add", err);
	return op_end(s, own, rc, "outbox add", err);
}

int
tstore_outbox_peek(struct tstore *s, int limit, tstore_outbox_cb cb, void *arg,
    struct cerr *err)
{
	sqlite3_stmt *st;
	int step;

	if (limit < 1)
		return cerr_set(err, CERR_INVALID,
		    "tstore: outbox peek: limit %d < 1", limit);
	st = list_start(s, ST_OUTBOX_PEEK, "outbox peek", err);
	if (st == NULL ||
	    bind_check(st, sqlite3_bind_int(st, 1, limit), "outbox peek", err) <
		0)
		return -1;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 1);
		const char *body = (const char *)sqlite3_column_text(st, 2);

		if (cb(arg, sqlite3_column_int64(st, 0), kind ? kind : "",
			body ? body : "") != 0) {
			step = SQLITE_DONE;
			break;
		}
	}
	return list_end(s, st, step, "outbox peek", err);
}

int
tstore_outbox_delete(
    struct tstore *s, const int64_t *seqs, size_t n, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_OUTBOX_DELETE];
	int own, rc = 0;

	if (n == 0)
		return 0;
	if (seqs == NULL)
		return cerr_set(
		    err, CERR_INVALID, "tstore: outbox delete: no seqs");
	if (op_begin(s, &own, "outbox delete", err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = stmt_run(s, ST_OUTBOX_DELETE,
		    sqlite3_bind_int64(st, 1, seqs[i]), "outbox delete", err);
	return op_end(s, own, rc, "outbox delete", err);
}

int
tstore_outbox_stats(struct tstore *s, int64_t *count_out, int64_t *dropped_out,
    struct cerr *err)
{
	*count_out = 0;
	if (stmt_int(s, ST_OUTBOX_COUNT, SQLITE_OK, count_out, "outbox stats",
		err) < 0)
		return -1;
	return tstore_meta_get_int(
	    s, TSTORE_OUTBOX_DROPPED, 0, dropped_out, err);
}
