/*
 * store_pg_schema: the PostgreSQL schema as a list of migrations, the
 * counterpart of store_sqlite_schema.c: the same tables, columns and
 * meanings, in PostgreSQL's types. Entry i takes a store from version i
 * to i + 1; the one-row table cohort_schema holds the version a database
 * is at (and marks the schema as a cohort store). Opening runs the
 * missing steps in one transaction under an advisory lock, so two masters
 * starting together on one database do not both migrate: the second
 * waits, then finds the work done. A released step never changes: a
 * schema change is a new entry at the end (and one in the SQLite list).
 *
 * The tables live in the connection's current schema (the first of its
 * search_path), so one database can hold several stores, one per schema.
 * Every text column compares and sorts bytewise (COLLATE "C"), as SQLite
 * does, whatever the database's locale. Ids come from identity columns:
 * monotonic and never handed out twice, even after a rollback or a
 * deletion (unlike SQLite, a rolled-back insert leaves a gap).
 */
#include "store/store_pg.h"

#include <stdio.h>

#define TXT "TEXT COLLATE \"C\" NOT NULL"

/* Held for the migration's transaction; any key would do, as long as no
 * other program on the database uses it ("Coh1"). */
#define MIGRATION_LOCK "1131374641"

static const char *const migrations[] = {
    /* 1: the first schema. */
    "CREATE TABLE meta ("
    "  key " TXT " PRIMARY KEY,"
    "  value " TXT ");"
    "CREATE TABLE targets ("
    "  name " TXT " PRIMARY KEY,"
    "  location " TXT " DEFAULT '',"
    "  version " TXT " DEFAULT '',"
    "  cert_serial " TXT " DEFAULT '',"
    "  enlisted_at BIGINT NOT NULL,"
    "  last_poll BIGINT NOT NULL DEFAULT 0,"
    "  local_time BIGINT NOT NULL DEFAULT 0,"
    "  tz_offset_s INTEGER NOT NULL DEFAULT 0,"
    "  poll_interval_s INTEGER NOT NULL,"
    "  defected INTEGER NOT NULL DEFAULT 0,"
    "  defected_at BIGINT NOT NULL DEFAULT 0);"
    /* Only the SHA-256 of a token's secret is kept. */
    "CREATE TABLE tokens ("
    "  hash " TXT " PRIMARY KEY,"
    "  target " TXT ","
    "  created_at BIGINT NOT NULL,"
    "  expires_at BIGINT NOT NULL,"
    "  used_at BIGINT NOT NULL DEFAULT 0);"
    "CREATE TABLE revoked ("
    "  serial " TXT " PRIMARY KEY,"
    "  target " TXT ","
    "  revoked_at BIGINT NOT NULL);"
    "CREATE TABLE jobs ("
    "  name " TXT " PRIMARY KEY,"
    "  doc " TXT ","
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL);"
    "CREATE TABLE job_targets ("
    "  job " TXT " REFERENCES jobs(name) ON DELETE CASCADE,"
    "  target " TXT " REFERENCES targets(name) ON DELETE CASCADE,"
    "  PRIMARY KEY (job, target));"
    "CREATE INDEX job_targets_by_target ON job_targets(target, job);"
    "CREATE TABLE target_groups ("
    "  name " TXT " PRIMARY KEY,"
    "  created_at BIGINT NOT NULL);"
    "CREATE TABLE group_members ("
    "  grp " TXT " REFERENCES target_groups(name) ON DELETE CASCADE,"
    "  target " TXT " REFERENCES targets(name) ON DELETE CASCADE,"
    "  PRIMARY KEY (grp, target));"
    "CREATE INDEX group_members_by_target ON group_members(target, grp);"
    /* ALWAYS: an id is only ever the sequence's, so it is never handed
     * out twice and a target's after_id stays valid. */
    "CREATE TABLE instructions ("
    "  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  target " TXT " REFERENCES targets(name) ON DELETE CASCADE,"
    "  op " TXT ","
    "  object " TXT " DEFAULT '',"
    "  payload " TXT " DEFAULT '',"
    "  status " TXT " DEFAULT 'pending',"
    "  cleared INTEGER NOT NULL DEFAULT 0,"
    "  posted_at BIGINT NOT NULL,"
    "  downloaded_at BIGINT NOT NULL DEFAULT 0,"
    "  applied_at BIGINT NOT NULL DEFAULT 0,"
    "  error " TXT " DEFAULT '');"
    /* Serves fetch (target, open statuses, id > after), the per-target
     * counts, the blocked check (target, failed) and trimming. */
    "CREATE INDEX instructions_by_target"
    "  ON instructions(target, status, id);"
    "CREATE TABLE runs ("
    "  run_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  target " TXT ","
    "  target_run_id BIGINT NOT NULL,"
    "  job " TXT ","
    "  step INTEGER NOT NULL,"
    "  attempt INTEGER NOT NULL,"
    "  step_name " TXT " DEFAULT '',"
    "  outcome " TXT ","
    "  exit_code INTEGER NOT NULL,"
    "  started_at_ms BIGINT NOT NULL,"
    "  tz_offset_s INTEGER NOT NULL,"
    "  duration_ms BIGINT NOT NULL,"
    "  instr_id BIGINT NOT NULL DEFAULT 0,"
    "  message " TXT " DEFAULT '',"
    "  output " TXT " DEFAULT '',"
    "  UNIQUE (target, target_run_id, step, attempt));"
    /* Each index ends in run_id, so "newest first" is (started_at_ms,
     * run_id) read backwards without sorting (SQLite's indexes end in
     * the rowid by themselves). */
    "CREATE INDEX runs_by_time ON runs(started_at_ms, run_id);"
    "CREATE INDEX runs_by_job ON runs(job, step, started_at_ms, run_id);"
    "CREATE INDEX runs_by_target ON runs(target, started_at_ms, run_id);",
    /* 2: the target's outbox overflow count, from its polls. */
    "ALTER TABLE targets ADD COLUMN outbox_dropped BIGINT NOT NULL DEFAULT 0;",
    /* 3: the certificates the master issued, with the serials
     * of enlisted targets recorded from before (expiry unknown: 0), and
     * the audit log of admin API calls. */
    "CREATE TABLE certs ("
    "  serial " TXT " PRIMARY KEY,"
    "  name " TXT ","
    "  role " TXT ","
    "  issued_at BIGINT NOT NULL,"
    "  not_after BIGINT NOT NULL);"
    "CREATE INDEX certs_by_name ON certs(name, issued_at);"
    "INSERT INTO certs (serial, name, role, issued_at, not_after)"
    "  SELECT cert_serial, name, 'target', enlisted_at, 0 FROM targets"
    "  WHERE cert_serial <> '';"
    "CREATE TABLE audit ("
    "  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  at_ms BIGINT NOT NULL,"
    "  who " TXT ","
    "  role " TXT ","
    "  serial " TXT ","
    "  method " TXT ","
    "  path " TXT ","
    "  object " TXT ","
    "  status INTEGER NOT NULL,"
    "  code " TXT ");"
    "CREATE INDEX audit_by_time ON audit(at_ms);",
    /* 4: forwarded events, operators and notifications. Events and
     * notifications outlive targets and operators (history). */
    "CREATE TABLE events ("
    "  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  target " TXT ","
    "  event_id " TXT ","
    "  time_ms BIGINT NOT NULL,"
    "  severity " TXT ","
    "  kind " TXT ","
    "  job " TXT " DEFAULT '',"
    "  target_run_id BIGINT NOT NULL DEFAULT 0,"
    "  message " TXT " DEFAULT '',"
    "  received_at BIGINT NOT NULL,"
    "  UNIQUE (target, event_id));"
    "CREATE INDEX events_by_target ON events(target, id);"
    "CREATE TABLE operators ("
    "  name " TXT " PRIMARY KEY,"
    "  kind " TXT ","
    "  address " TXT " DEFAULT '',"
    "  is_default INTEGER NOT NULL DEFAULT 0,"
    "  created_at BIGINT NOT NULL);"
    /* At most one default operator, whatever the callers do. */
    "CREATE UNIQUE INDEX operators_one_default ON operators(is_default)"
    "  WHERE is_default = 1;"
    "CREATE TABLE notifications ("
    "  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  dedupe_key " TXT " UNIQUE,"
    "  operator " TXT ","
    "  subject " TXT ","
    "  payload " TXT ","
    "  status " TXT " DEFAULT 'pending',"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_at BIGINT NOT NULL,"
    "  last_error " TXT " DEFAULT '',"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL);"
    /* Serves the due scan (pending, next_at) and trimming by status. */
    "CREATE INDEX notifications_due ON notifications(status, next_at);",
    /* 5: the active master's lease and the write fence (HA). */
    store_pg_lease_schema,
    /* 6: scale-out. A worker row goes with its target's (the cascade);
     * executions outlive their worker and its target (history). No
     * index key holds a status: the open executions (the queue, read
     * oldest first) and the assigned or running ones (a worker's load,
     * and the lookup of an uploaded run by its start instruction) have
     * partial indexes, so a status change adds or removes an entry but
     * never moves one. */
    "CREATE TABLE workers ("
    "  name " TXT " PRIMARY KEY REFERENCES targets(name) ON DELETE CASCADE,"
    "  enabled INTEGER NOT NULL DEFAULT 0,"
    "  max_tasks BIGINT NOT NULL,"
    "  registered_at BIGINT NOT NULL);"
    "CREATE TABLE executions ("
    "  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  job " TXT ","
    "  pin_group " TXT " DEFAULT '',"
    "  pin_workers " TXT " DEFAULT '',"
    "  retries BIGINT NOT NULL DEFAULT 0,"
    "  attempt BIGINT NOT NULL DEFAULT 0,"
    "  status " TXT " DEFAULT 'queued',"
    "  worker " TXT " DEFAULT '',"
    "  instr_id BIGINT NOT NULL DEFAULT 0,"
    "  reason " TXT " DEFAULT '',"
    "  submitted_by " TXT " DEFAULT '',"
    "  submitted_at BIGINT NOT NULL,"
    "  assigned_at BIGINT NOT NULL DEFAULT 0,"
    "  started_at BIGINT NOT NULL DEFAULT 0,"
    "  finished_at BIGINT NOT NULL DEFAULT 0);"
    "CREATE INDEX executions_open ON executions(id)"
    "  WHERE status IN ('queued', 'assigned', 'running');"
    "CREATE INDEX executions_active ON executions(worker, instr_id)"
    "  WHERE status IN ('assigned', 'running');",
    /* 7: an instruction keeps the lease epoch it was posted under, and
     * a START counts the job runs reported finished for it (see the
     * SQLite store's step 8): when a run's row first says it ended,
     * inserted so or updated from "running". The function's
     * search_path is the schema's, whoever's session fires it. */
    "ALTER TABLE instructions ADD COLUMN runs BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE instructions ADD COLUMN epoch BIGINT NOT NULL DEFAULT 0;"
    /* -1: applied before the count, whose rows may be gone already */
    "UPDATE instructions SET runs = -1 WHERE op = 'start'"
    "  AND status = 'applied';"
    "UPDATE instructions SET runs = c.n FROM (SELECT instr_id, count(*)"
    "  AS n FROM runs WHERE step = 0 AND instr_id > 0"
    "  AND outcome <> 'running' GROUP BY instr_id)"
    "  AS c WHERE instructions.id = c.instr_id;"
    "CREATE FUNCTION cohort_count_run() RETURNS trigger"
    " LANGUAGE plpgsql SET search_path FROM CURRENT AS $count$"
    " BEGIN"
    "  UPDATE instructions SET runs = GREATEST(runs, 0) + 1"
    "  WHERE id = NEW.instr_id;"
    "  RETURN NULL;"
    " END $count$;"
    "CREATE TRIGGER runs_count_ended AFTER INSERT ON runs FOR EACH ROW"
    "  WHEN (NEW.step = 0 AND NEW.instr_id > 0"
    "  AND NEW.outcome <> 'running')"
    "  EXECUTE FUNCTION cohort_count_run();"
    "CREATE TRIGGER runs_count_ending AFTER UPDATE OF outcome ON runs"
    "  FOR EACH ROW WHEN (NEW.step = 0 AND NEW.instr_id > 0"
    "  AND OLD.outcome = 'running' AND NEW.outcome <> 'running')"
    "  EXECUTE FUNCTION cohort_count_run();",
    /* 8: the failed instructions, newest first (see the SQLite store's
     * step 9); the listing names the status as a literal, so the
     * planner can use this partial index whatever plan it keeps. */
    "CREATE INDEX instructions_failed ON instructions(id)"
    "  WHERE status = 'failed';",
};

_Static_assert(
    sizeof(migrations) / sizeof(migrations[0]) == STORE_PG_SCHEMA_VERSION,
    "one migration per schema version");

/* Waits for any other master's migration; lock_timeout must not cut
 * that wait short (a migration may take a while). */
static const char sql_lock[] =
    "SET LOCAL lock_timeout = 0;"
    " SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")";
/* In the current schema: is there a version table, and how many
 * relations of any kind? */
static const char sql_probe[] =
    "SELECT current_schema(),"
    " (SELECT count(*) FROM pg_catalog.pg_class c"
    "   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    "   WHERE n.nspname = current_schema() AND c.relname = 'cohort_schema'"
    "   AND c.relkind = 'r'),"
    " (SELECT count(*) FROM pg_catalog.pg_class c"
    "   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    "   WHERE n.nspname = current_schema()"
    "   AND c.relkind IN ('r', 'p', 'v', 'm', 'f'))";
static const char sql_version[] = "SELECT version FROM cohort_schema";
static const char sql_version_table[] =
    "CREATE TABLE cohort_schema (version INTEGER NOT NULL);"
    " INSERT INTO cohort_schema VALUES (0)";

/* Reads the version of the current schema. *fresh: the schema holds no
 * version table; then *version is 0 for an empty schema and -1 for one
 * that holds other tables, so is not ours. */
static int
read_version(struct store_pg *pg, int64_t *version, int *fresh,
    const char *what, struct cerr *err)
{
	PGresult *res = NULL;
	int rc = -1;

	if (store_pg_query_once(pg, sql_probe, NULL, &res, what, err) < 0)
		goto out;
	if (PQgetisnull(res, 0, 0)) {
		cerr_set(err, CERR_STORE,
		    "store: %s: no schema to create the tables in (the "
		    "search_path names none that exists)",
		    what);
		goto out;
	}
	*fresh = store_pg_int(res, 0, 1) == 0;
	*version = store_pg_int(res, 0, 2) > 0 ? -1 : 0;
	PQclear(res);
	res = NULL;
	if (*fresh) {
		rc = 0;
		goto out;
	}
	if (store_pg_query_once(pg, sql_version, NULL, &res, what, err) < 0)
		goto out;
	if (PQntuples(res) != 1) {
		cerr_set(err, CERR_STORE,
		    "store: %s: table cohort_schema holds %d rows, not one",
		    what, PQntuples(res));
		goto out;
	}
	*version = store_pg_int(res, 0, 0);
	rc = 0;
out:
	PQclear(res);
	return rc;
}

/* Runs the steps from version up to the current one, each followed by
 * its version number; the caller's transaction makes them atomic. */
static int
apply_steps(struct store_pg *pg, int64_t version, int fresh, const char *what,
    struct cerr *err)
{
	char sql[64];

	if (fresh && store_pg_run_script(pg, sql_version_table, what, err) < 0)
		return -1;
	for (int64_t v = version; v < STORE_PG_SCHEMA_VERSION; v++) {
		snprintf(sql, sizeof(sql),
		    "UPDATE cohort_schema SET version = %lld",
		    (long long)v + 1);
		if (store_pg_run_script(pg, migrations[v], what, err) < 0 ||
		    store_pg_run_script(pg, sql, what, err) < 0)
			return -1;
	}
	return 0;
}

int
store_pg_schema_migrate(struct store_pg *pg, struct cerr *err)
{
	char what[300];
	int64_t version = 0;
	int rc = -1, fresh = 0;

	snprintf(what, sizeof(what), "migrate %s", pg->label);
	if (store_pg_tx_enter(pg, what, err) < 0)
		return -1;
	if (store_pg_run_script(pg, sql_lock, what, err) < 0 ||
	    read_version(pg, &version, &fresh, what, err) < 0)
		goto out;
	if (version < 0) {
		cerr_set(err, CERR_STORE,
		    "store: %s: not a cohort store (the schema holds other "
		    "tables)",
		    pg->label);
		goto out;
	}
	if (version > STORE_PG_SCHEMA_VERSION) {
		cerr_set(err, CERR_STORE,
		    "store: %s: schema version %lld is newer than this "
		    "release knows (%d); run a newer cohortd",
		    pg->label, (long long)version, STORE_PG_SCHEMA_VERSION);
		goto out;
	}
	if (version < STORE_PG_SCHEMA_VERSION &&
	    apply_steps(pg, version, fresh, what, err) < 0)
		goto out;
	rc = 0;
out:
	return store_pg_tx_leave(pg, rc == 0, what, err);
}
