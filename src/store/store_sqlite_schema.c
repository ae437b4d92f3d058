/*
 * store_sqlite_schema: the SQLite schema as a list of migrations. Entry i
 * takes a store from version i to i + 1; PRAGMA user_version holds the
 * version a file is at, and PRAGMA application_id marks it as a cohort
 * store. Opening runs the missing steps in one transaction, so a store is
 * either fully migrated or untouched. A released step never changes: a
 * schema change is a new entry at the end.
 *
 * Enumerations are stored by their stable wire names (common/wire.h), so
 * the file reads the same as the API and a PostgreSQL store can share the
 * layout. Every table that belongs to a target cascades on its deletion;
 * history (runs) and tokens do not reference targets and outlive them.
 */
#include "store/store_sqlite.h"

#include <stdio.h>

static const char *const migrations[] = {
    /* 1: the first schema. */
    "CREATE TABLE meta ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE targets ("
    "  name TEXT PRIMARY KEY,"
    "  location TEXT NOT NULL DEFAULT '',"
    "  version TEXT NOT NULL DEFAULT '',"
    "  cert_serial TEXT NOT NULL DEFAULT '',"
    "  enlisted_at INTEGER NOT NULL,"
    "  last_poll INTEGER NOT NULL DEFAULT 0,"
    "  local_time INTEGER NOT NULL DEFAULT 0,"
    "  tz_offset_s INTEGER NOT NULL DEFAULT 0,"
    "  poll_interval_s INTEGER NOT NULL,"
    "  defected INTEGER NOT NULL DEFAULT 0,"
    "  defected_at INTEGER NOT NULL DEFAULT 0"
    ");"
    /* Only the SHA-256 of a token's secret is kept. */
    "CREATE TABLE tokens ("
    "  hash TEXT PRIMARY KEY,"
    "  target TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  used_at INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE TABLE revoked ("
    "  serial TEXT PRIMARY KEY,"
    "  target TEXT NOT NULL,"
    "  revoked_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE jobs ("
    "  name TEXT PRIMARY KEY,"
    "  doc TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE job_targets ("
    "  job TEXT NOT NULL REFERENCES jobs(name) ON DELETE CASCADE,"
    "  target TEXT NOT NULL REFERENCES targets(name) ON DELETE CASCADE,"
    "  PRIMARY KEY (job, target)"
    ") WITHOUT ROWID;"
    "CREATE INDEX job_targets_by_target ON job_targets(target, job);"
    "CREATE TABLE target_groups ("
    "  name TEXT PRIMARY KEY,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE group_members ("
    "  grp TEXT NOT NULL REFERENCES target_groups(name) ON DELETE CASCADE,"
    "  target TEXT NOT NULL REFERENCES targets(name) ON DELETE CASCADE,"
    "  PRIMARY KEY (grp, target)"
    ") WITHOUT ROWID;"
    "CREATE INDEX group_members_by_target ON group_members(target, grp);"
    /* AUTOINCREMENT: an id is never handed out twice, even after the
	 * newest rows were deleted, so a target's after_id stays valid. */
    "CREATE TABLE instructions ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  target TEXT NOT NULL REFERENCES targets(name) ON DELETE CASCADE,"
    "  op TEXT NOT NULL,"
    "  object TEXT NOT NULL DEFAULT '',"
    "  payload TEXT NOT NULL DEFAULT '',"
    "  status TEXT NOT NULL DEFAULT 'pending',"
    "  cleared INTEGER NOT NULL DEFAULT 0,"
    "  posted_at INTEGER NOT NULL,"
    "  downloaded_at INTEGER NOT NULL DEFAULT 0,"
    "  applied_at INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT NOT NULL DEFAULT ''"
    ");"
    /* Serves fetch (target, open statuses, id > after), the per-target
     * counts, the blocked check (target, failed) and trimming (replaced
     * in step 6). */
    "CREATE INDEX instructions_by_target"
    "  ON instructions(target, status, id);"
    "CREATE TABLE runs ("
    "  run_id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  target TEXT NOT NULL,"
    "  target_run_id INTEGER NOT NULL,"
    "  job TEXT NOT NULL,"
    "  step INTEGER NOT NULL,"
    "  attempt INTEGER NOT NULL,"
    "  step_name TEXT NOT NULL DEFAULT '',"
    "  outcome TEXT NOT NULL,"
    "  exit_code INTEGER NOT NULL,"
    "  started_at_ms INTEGER NOT NULL,"
    "  tz_offset_s INTEGER NOT NULL,"
    "  duration_ms INTEGER NOT NULL,"
    "  instr_id INTEGER NOT NULL DEFAULT 0,"
    "  message TEXT NOT NULL DEFAULT '',"
    "  output TEXT NOT NULL DEFAULT '',"
    "  UNIQUE (target, target_run_id, step, attempt)"
    ");"
    /* Each index ends in the rowid (run_id), so "newest first" is
	 * (started_at_ms, run_id) read backwards without sorting. */
    "CREATE INDEX runs_by_time ON runs(started_at_ms);"
    "CREATE INDEX runs_by_job ON runs(job, step, started_at_ms);"
    "CREATE INDEX runs_by_target ON runs(target, started_at_ms);",
    /* 2: the target's outbox overflow count, from its polls. */
    "ALTER TABLE targets ADD COLUMN outbox_dropped INTEGER NOT NULL DEFAULT 0;",
    /* 3: the certificates the master issued, with the serials
     * of enlisted targets recorded from before (expiry unknown: 0), and
     * the audit log of admin API calls. */
    "CREATE TABLE certs ("
    "  serial TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  issued_at INTEGER NOT NULL,"
    "  not_after INTEGER NOT NULL"
    ");"
    "CREATE INDEX certs_by_name ON certs(name, issued_at);"
    "INSERT INTO certs (serial, name, role, issued_at, not_after)"
    "  SELECT cert_serial, name, 'target', enlisted_at, 0 FROM targets"
    "  WHERE cert_serial <> '';"
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  at_ms INTEGER NOT NULL,"
    "  who TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  serial TEXT NOT NULL,"
    "  method TEXT NOT NULL,"
    "  path TEXT NOT NULL,"
    "  object TEXT NOT NULL,"
    "  status INTEGER NOT NULL,"
    "  code TEXT NOT NULL"
    ");"
    "CREATE INDEX audit_by_time ON audit(at_ms);",
    /* 4: forwarded events, operators and notifications. Events and
     * notifications outlive targets and operators (history). */
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  target TEXT NOT NULL,"
    "  event_id TEXT NOT NULL,"
    "  time_ms INTEGER NOT NULL,"
    "  severity TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  job TEXT NOT NULL DEFAULT '',"
    "  target_run_id INTEGER NOT NULL DEFAULT 0,"
    "  message TEXT NOT NULL DEFAULT '',"
    "  received_at INTEGER NOT NULL,"
    "  UNIQUE (target, event_id)"
    ");"
    "CREATE INDEX events_by_target ON events(target, id);"
    "CREATE TABLE operators ("
    "  name TEXT PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  address TEXT NOT NULL DEFAULT '',"
    "  is_default INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL"
    ");"
    /* At most one default operator, whatever the callers do. */
    "CREATE UNIQUE INDEX operators_one_default ON operators(is_default)"
    "  WHERE is_default = 1;"
    "CREATE TABLE notifications ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  dedupe_key TEXT NOT NULL UNIQUE,"
    "  operator TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  status TEXT NOT NULL DEFAULT 'pending',"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_at INTEGER NOT NULL,"
    "  last_error TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    /* Serves the due scan (pending, next_at) and trimming by status. */
    "CREATE INDEX notifications_due ON notifications(status, next_at);",
    /* 5: the active master's lease (HA; kept for parity, see
     * store_sqlite_lease.c). */
    store_sqlite_lease_schema,
    /* 6: no index key holds an instruction's status. Under (target,
     * status, id) every status change (pending -> downloaded -> applied)
     * moved an entry in that target's part of the index: a job started
     * on 1,000 targets rewrote about 1,000 index pages per transition,
     * three times, and the WAL checkpointed several times per start.
     * Now the full index is (target, id), which a status change never
     * touches; the open instructions (what fetch reads) and the
     * uncleared failures (the blocked check) have small partial indexes
     * that fit in a few pages for the whole fleet. */
    "DROP INDEX instructions_by_target;"
    "CREATE INDEX instructions_by_target ON instructions(target, id);"
    "CREATE INDEX instructions_open ON instructions(target, id)"
    "  WHERE status IN ('pending', 'downloaded');"
    "CREATE INDEX instructions_blocked ON instructions(target)"
    "  WHERE status = 'failed' AND cleared = 0;",
    /* 7: scale-out. A worker row goes with its target's (the cascade);
     * executions outlive their worker and its target (history). As in
     * step 6 no index key holds a status: the open executions (the
     * queue, read oldest first) and the assigned or running ones (a
     * worker's load, and the lookup of an uploaded run by its start
     * instruction) have partial indexes, so a status change adds or
     * removes an entry but never moves one. */
    "CREATE TABLE workers ("
    "  name TEXT PRIMARY KEY REFERENCES targets(name) ON DELETE CASCADE,"
    "  enabled INTEGER NOT NULL DEFAULT 0,"
    "  max_tasks INTEGER NOT NULL,"
    "  registered_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE executions ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  job TEXT NOT NULL,"
    "  pin_group TEXT NOT NULL DEFAULT '',"
    "  pin_workers TEXT NOT NULL DEFAULT '',"
    "  retries INTEGER NOT NULL DEFAULT 0,"
    "  attempt INTEGER NOT NULL DEFAULT 0,"
    "  status TEXT NOT NULL DEFAULT 'queued',"
    "  worker TEXT NOT NULL DEFAULT '',"
    "  instr_id INTEGER NOT NULL DEFAULT 0,"
    "  reason TEXT NOT NULL DEFAULT '',"
    "  submitted_by TEXT NOT NULL DEFAULT '',"
    "  submitted_at INTEGER NOT NULL,"
    "  assigned_at INTEGER NOT NULL DEFAULT 0,"
    "  started_at INTEGER NOT NULL DEFAULT 0,"
    "  finished_at INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE INDEX executions_open ON executions(id)"
    "  WHERE status IN ('queued', 'assigned', 'running');"
    "CREATE INDEX executions_active ON executions(worker, instr_id)"
    "  WHERE status IN ('assigned', 'running');",
    /* 8: an instruction keeps the lease epoch it was posted under (what
     * section 10 of PRODUCT.md asks of every instruction; the fence is
     * what stops a deposed master, this is its trace). And a START
     * counts the job runs reported finished for it (a run's step-0 row,
     * or its refusal), so that "was every start run once?" has an
     * answer after retention or a purge has thinned the history (the
     * failover drill asks it). Triggers count a run when its row first
     * says it ended: inserted so, or updated from "running". A row
     * uploaded again counts nothing; a "running" row that retention
     * removed before its end arrived counts once, when the end comes;
     * a second run for one START counts twice. */
    "ALTER TABLE instructions ADD COLUMN runs INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE instructions ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;"
    /* -1: applied before the count, whose rows may be gone already */
    "UPDATE instructions SET runs = -1 WHERE op = 'start'"
    "  AND status = 'applied';"
    "UPDATE instructions SET runs = c.n FROM (SELECT instr_id, count(*)"
    "  AS n FROM runs WHERE step = 0 AND instr_id > 0"
    "  AND outcome <> 'running' GROUP BY instr_id)"
    "  AS c WHERE instructions.id = c.instr_id;"
    "CREATE TRIGGER runs_count_ended AFTER INSERT ON runs"
    "  WHEN NEW.step = 0 AND NEW.instr_id > 0"
    "  AND NEW.outcome <> 'running' BEGIN"
    "  UPDATE instructions SET runs = max(runs, 0) + 1"
    "  WHERE id = NEW.instr_id;"
    "  END;"
    "CREATE TRIGGER runs_count_ending AFTER UPDATE OF outcome ON runs"
    "  WHEN NEW.step = 0 AND NEW.instr_id > 0"
    "  AND OLD.outcome = 'running' AND NEW.outcome <> 'running' BEGIN"
    "  UPDATE instructions SET runs = max(runs, 0) + 1"
    "  WHERE id = NEW.instr_id;"
    "  END;",
    /* 9: the failed instructions, cleared or not, newest first: a job's
     * start and apply look for its failed definitions on every call
     * (failed_defs.c), and without an index that read the whole table,
     * up to 100 applied rows per target in a fleet. Failures are few. */
    "CREATE INDEX instructions_failed ON instructions(id)"
    "  WHERE status = 'failed';",
};

_Static_assert(
    sizeof(migrations) / sizeof(migrations[0]) == STORE_SQLITE_SCHEMA_VERSION,
    "one migration per schema version");

/* Reads one integer PRAGMA or query result. */
static int
query_int(struct store_sqlite *sq, const char *sql, int64_t *out,
    const char *what, struct cerr *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_prepare(sq, sql, &st, what, err) < 0)
		goto out;
	step = sqlite3_step(st);
	if (step != SQLITE_ROW) {
		store_sqlite_fail(sq, step, what, err);
		goto out;
	}
	*out = sqlite3_column_int64(st, 0);
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/* Refuses a file this code must not write: another program's database,
 * or a cohort store from a newer release. */
static int
check_file(struct store_sqlite *sq, const char *path, int64_t version,
    const char *what, struct cerr *err)
{
	int64_t app_id, tables;

	if (query_int(sq, "PRAGMA application_id", &app_id, what, err) < 0 ||
	    query_int(sq, "SELECT count(*) FROM sqlite_schema", &tables, what,
		err) < 0)
		return -1;
	if ((app_id != 0 && app_id != STORE_SQLITE_APP_ID) ||
	    (app_id == 0 && tables > 0))
		return cerr_set(
		    err, CERR_STORE, "store: %s: not a cohort store", path);
	if (version > STORE_SQLITE_SCHEMA_VERSION)
		return cerr_set(err, CERR_STORE,
		    "store: %s: schema version %lld is newer than this "
		    "release knows (%d); run a newer cohortd",
		    path, (long long)version, STORE_SQLITE_SCHEMA_VERSION);
	return 0;
}

/* Runs the steps from version up to the current one, each followed by
 * its version number; the caller's transaction makes them atomic. */
static int
apply_steps(struct store_sqlite *sq, int64_t version, const char *what,
    struct cerr *err)
{
	char sql[64];
	int rc;

	for (int64_t v = version; v < STORE_SQLITE_SCHEMA_VERSION; v++) {
		rc = sqlite3_exec(sq->db, migrations[v], NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			return store_sqlite_fail(sq, rc, what, err);
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld",
		    (long long)v + 1);
		rc = sqlite3_exec(sq->db, sql, NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			return store_sqlite_fail(sq, rc, what, err);
	}
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d",
	    STORE_SQLITE_APP_ID);
	rc = sqlite3_exec(sq->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return store_sqlite_fail(sq, rc, what, err);
	return 0;
}

int
store_sqlite_schema_migrate(
    struct store_sqlite *sq, const char *path, struct cerr *err)
{
	char what[160];
	int64_t version = 0;
	int rc = -1, xrc;

	snprintf(what, sizeof(what), "migrate %s", path);
	/* IMMEDIATE: two daemons opening one new file do not both try to
	 * create the tables; the second waits and then finds them. */
	xrc = sqlite3_exec(sq->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (xrc != SQLITE_OK)
		return store_sqlite_fail(sq, xrc, what, err);
	if (query_int(sq, "PRAGMA user_version", &version, what, err) < 0 ||
	    check_file(sq, path, version, what, err) < 0)
		goto out;
	if (version < STORE_SQLITE_SCHEMA_VERSION &&
	    apply_steps(sq, version, what, err) < 0)
		goto out;
	xrc = sqlite3_exec(sq->db, "COMMIT", NULL, NULL, NULL);
	if (xrc != SQLITE_OK) {
		store_sqlite_fail(sq, xrc, what, err);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0 && !sqlite3_get_autocommit(sq->db))
		sqlite3_exec(sq->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}
