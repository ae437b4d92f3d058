/*
 * Unit tests for opening the master store: bad specs, schema versions
 * (an existing store, a newer one, another program's), two stores on one
 * database (masters sharing PostgreSQL), two opening a new one at once,
 * (SQLite) WAL checkpoints from the checkpoint thread, and (PostgreSQL) a
 * lost connection and an unreachable server. SQLite by default; PostgreSQL when
 * COHORT_TEST_PG_URL is set (test_store.h).
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "test_store.h"

#include "store/store_backend.h"
#include "store/store_pg.h"

/* ---- opening ----------------------------------------------------------- */

static const struct {
	const char *spec;
	enum cerr_code code;
	const char *msg;
} open_cases[] = {
    {"", CERR_INVALID, "empty store spec"},
    {"postgresql://%zz:s3cret@db/cohort", CERR_INVALID,
	"not a valid PostgreSQL URL"},
    {"postgres://cohort:s3cret@127.0.0.1:1/cohort", CERR_STORE,
	"store: open postgresql://cohort@127.0.0.1:1/cohort: "},
    {"/nonexistent-cohort-dir/x/store.db", CERR_STORE,
	"store: open /nonexistent-cohort-dir/x/store.db: No such file"},
};

static void
test_open_cases(void **state)
{
	struct store *s = NULL;
	struct cerr err;

	for (size_t i = 0; i < sizeof(open_cases) / sizeof(open_cases[0]);
	     i++) {
		int rc = store_open(open_cases[i].spec, &s, &err);

		if (rc == 0)
			fail_msg("case %zu opened", i);
		expect_err(rc, &err, open_cases[i].code, open_cases[i].msg);
		if (strstr(err.msg, "s3cret") != NULL)
			fail_msg("case %zu: message shows the password", i);
	}
	store_close(NULL);
}

/* A remote database's link is authenticated unless the URL (or
 * PGSSLMODE) chooses otherwise; a local one is left to libpq. */
static const struct {
	const char *url;
	const char *mode; /* NULL: libpq's own default */
} sslmode_cases[] = {
    {"postgresql://cohort@db.example.com/cohort", "verify-full"},
    {"postgresql://cohort@10.0.0.5:5433/cohort", "verify-full"},
    {"postgresql://cohort@127.0.0.1/cohort,db2", NULL},
    {"postgresql://h1,db.example.com/cohort", "verify-full"},
    {"postgresql://cohort@db.example.com/cohort?sslmode=require", NULL},
    {"postgresql://cohort@127.0.0.1:5432/cohort", NULL},
    {"postgresql://cohort@localhost/cohort", NULL},
    {"postgresql://cohort@[::1]/cohort", NULL},
    {"postgresql:///cohort?host=/run/postgresql", NULL},
    {"postgresql:///cohort", NULL},
    {"host=db.example.com dbname=cohort", "verify-full"},
    {"postgresql://%zz@db/cohort", NULL}, /* unparsable: open says so */
};

static void
test_pg_default_sslmode(void **state)
{
	unsetenv("PGSSLMODE");
	unsetenv("PGHOST");
	unsetenv("PGHOSTADDR");
	for (size_t i = 0; i < sizeof(sslmode_cases) / sizeof(sslmode_cases[0]);
	     i++) {
		const char *got =
		    store_pg_default_sslmode(sslmode_cases[i].url);

		if ((got == NULL) != (sslmode_cases[i].mode == NULL) ||
		    (got != NULL && strcmp(got, sslmode_cases[i].mode) != 0))
			fail_msg("case %zu (%s): got %s", i,
			    sslmode_cases[i].url, got ? got : "(none)");
	}
	setenv("PGSSLMODE", "disable", 1);
	assert_null(store_pg_default_sslmode(sslmode_cases[0].url));
	unsetenv("PGSSLMODE");
	/* a URL without a host takes libpq's PGHOST */
	setenv("PGHOST", "db.example.com", 1);
	assert_string_equal(
	    store_pg_default_sslmode("postgresql:///cohort"), "verify-full");
	assert_null(store_pg_default_sslmode("postgresql://127.0.0.1/cohort"));
	setenv("PGHOST", "/run/postgresql", 1);
	assert_null(store_pg_default_sslmode("postgresql:///cohort"));
	unsetenv("PGHOST");
}

static void
open_versions_sqlite(struct fx *fx)
{
	struct store *s = NULL;
	struct cerr err;
	char other[160], mode[16], sql[64];

	/* Opening an existing store again works and keeps the data. */
	add_target(fx->s, "web-1");
	store_close(fx->s);
	fx->s = NULL;
	assert_int_equal(store_open(fx->path, &fx->s, &err), 0);
	assert_int_equal(raw_int(fx->path, "PRAGMA user_version"),
	    STORE_SQLITE_SCHEMA_VERSION);
	assert_int_equal(
	    raw_int(fx->path, "PRAGMA application_id"), STORE_SQLITE_APP_ID);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM targets"), 1);
	raw_text(fx->path, "PRAGMA journal_mode", mode, sizeof(mode));
	assert_string_equal(mode, "wal");

	/* A store from a newer release is refused and left alone. */
	store_close(fx->s);
	fx->s = NULL;
	raw_exec(fx->path, "PRAGMA user_version = 999");
	expect_err(store_open(fx->path, &s, &err), &err, CERR_STORE,
	    "schema version 999 is newer");
	assert_int_equal(raw_int(fx->path, "PRAGMA user_version"), 999);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    STORE_SQLITE_SCHEMA_VERSION);
	raw_exec(fx->path, sql);
	assert_int_equal(store_open(fx->path, &fx->s, &err), 0);

	/* Another program's database, and a file that is no database. */
	snprintf(other, sizeof(other), "%s/other.db", fx->dir);
	raw_exec(other, "CREATE TABLE mine (x)");
	expect_err(store_open(other, &s, &err), &err, CERR_STORE,
	    "not a cohort store");
	unlink(other);
	{
		FILE *f = fopen(other, "w");

		assert_non_null(f);
		fputs("this is not a database, just some text to fill the "
		      "first page of the file ............................\n",
		    f);
		fclose(f);
	}
	expect_err(
	    store_open(other, &s, &err), &err, CERR_STORE, "not a database");
	unlink(other);
}

static void
open_versions_pg(struct fx *fx)
{
	struct store *s = NULL;
	struct cerr err;
	char other[600], sql[64];

	/* Opening an existing store again works and keeps the data. */
	add_target(fx->s, "web-1");
	store_close(fx->s);
	fx->s = NULL;
	assert_int_equal(store_open(fx->path, &fx->s, &err), 0);
	assert_int_equal(raw_int(fx->path, "SELECT version FROM cohort_schema"),
	    STORE_PG_SCHEMA_VERSION);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM targets"), 1);

	/* A store from a newer release is refused and left alone. */
	store_close(fx->s);
	fx->s = NULL;
	raw_exec(fx->path, "UPDATE cohort_schema SET version = 999");
	expect_err(store_open(fx->path, &s, &err), &err, CERR_STORE,
	    "schema version 999 is newer");
	assert_int_equal(
	    raw_int(fx->path, "SELECT version FROM cohort_schema"), 999);
	snprintf(sql, sizeof(sql), "UPDATE cohort_schema SET version = %d",
	    STORE_PG_SCHEMA_VERSION);
	raw_exec(fx->path, sql);
	assert_int_equal(store_open(fx->path, &fx->s, &err), 0);

	/* Another program's tables, and a search_path naming no schema. */
	raw_exec(
	    fx->path, "CREATE SCHEMA other; CREATE TABLE other.mine (x int)");
	pg_url_schema(fx->path, "other", other, sizeof(other));
	expect_err(store_open(other, &s, &err), &err, CERR_STORE,
	    "not a cohort store");
	assert_int_equal(raw_int(fx->path,
			     "SELECT count(*) FROM pg_tables"
			     " WHERE schemaname = 'other'"),
	    1);
	pg_url_schema(fx->path, "nowhere", other, sizeof(other));
	expect_err(store_open(other, &s, &err), &err, CERR_STORE,
	    "no schema to create the tables in");
}

static void
test_open_versions(void **state)
{
	struct fx *fx = *state;

	if (fx->pg)
		open_versions_pg(fx);
	else
		open_versions_sqlite(fx);
}

/* ---- two stores on one database (masters sharing PostgreSQL) ---------- */

static void
test_two_stores(void **state)
{
	struct fx *fx = *state;
	struct store *s2 = NULL;
	struct store_target t;
	struct cerr err;
	int64_t id1 = 0, id2 = 0;

	assert_int_equal(store_open(fx->path, &s2, &err), 0);
	add_target(fx->s, "web-1");
	assert_int_equal(store_target_get(s2, "web-1", &t, &err), 0);
	post(fx->s, "web-1", INSTR_INSERT, &id1);
	post(s2, "web-1", INSTR_START, &id2);
	assert_true(id2 > id1);
	assert_int_equal(store_target_get(fx->s, "web-1", &t, &err), 0);
	assert_int_equal(t.unread, 2);

	/* What one groups in a transaction the other sees at its commit. */
	assert_int_equal(store_begin(s2, &err), 0);
	post(s2, "web-1", INSTR_STOP, &id2);
	assert_int_equal(store_target_get(fx->s, "web-1", &t, &err), 0);
	assert_int_equal(t.unread, 2);
	assert_int_equal(store_commit(s2, &err), 0);
	assert_int_equal(store_target_get(fx->s, "web-1", &t, &err), 0);
	assert_int_equal(t.unread, 3);
	store_close(s2);
}

/* A child: waits at the gate, opens (creating) the store, adds a target. */
static void
open_in_child(const char *spec, int gate[2], int i)
{
	struct store_target t = {.enlisted_at = 1, .poll_interval_s = 60};
	struct store *s = NULL;
	struct cerr err;
	char c;

	close(gate[1]);
	if (read(gate[0], &c, 1) < 0)
		_exit(2);
	snprintf(t.name, sizeof(t.name), "web-%d", i);
	if (store_open(spec, &s, &err) < 0 ||
	    store_target_add(s, &t, &err) < 0) {
		fprintf(stderr, "child %d: %s\n", i, err.msg);
		_exit(1);
	}
	store_close(s);
	_exit(0);
}

/* Two masters creating one new store at the same moment: one creates
 * the schema, the other waits and finds it. */
static void
test_open_together(void **state)
{
	struct fx *fx = *state;
	struct store *s = NULL;
	struct names nm = {0};
	struct cerr err;
	char spec[600];
	int gate[2], status;
	pid_t pid[2];

	fx_fresh_spec(fx, spec, sizeof(spec));
	assert_int_equal(pipe(gate), 0);
	for (int i = 0; i < 2; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0)
			open_in_child(spec, gate, i);
	}
	close(gate[0]);
	close(gate[1]); /* EOF at the gate: both start now */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(store_open(spec, &s, &err), 0);
	assert_int_equal(store_target_list(s, collect_target, &nm, &err), 0);
	assert_int_equal(nm.n, 2);
	store_close(s);
	fx_fresh_remove(fx, spec);
}

/* ---- a lost connection ------------------------------------------------ */

/* Makes the server end the store's connection (as a restart would) and
 * waits until the server process is gone. */
static void
kill_connection(struct fx *fx)
{
	char sql[80];

	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d, 10000)",
	    PQbackendPID(((struct store_pg *)fx->s->be)->conn));
	raw_exec(fx->path, sql);
}

/* PostgreSQL only: a lost connection fails the call that finds it, and
 * the transaction it was in; the next call outside a transaction opens
 * the connection again. */
static void
test_connection_lost(void **state)
{
	struct fx *fx = *state;
	struct store_target t;
	struct cerr err;
	int64_t id;

	if (!fx->pg)
		skip();
	add_target(fx->s, "web-1");
	kill_connection(fx);
	expect_err(store_target_get(fx->s, "web-1", &t, &err), &err, CERR_STORE,
	    "store: get target: ");
	assert_int_equal(store_target_get(fx->s, "web-1", &t, &err), 0);

	assert_int_equal(store_begin(fx->s, &err), 0);
	post(fx->s, "web-1", INSTR_INSERT, &id);
	kill_connection(fx);
	expect_err(
	    store_instr_post(fx->s, "web-1", INSTR_STOP, "j", "", 1, &id, &err),
	    &err, CERR_STORE, "store: post instruction: ");
	expect_err(
	    store_instr_post(fx->s, "web-1", INSTR_STOP, "j", "", 1, &id, &err),
	    &err, CERR_STORE, "rolled back after an earlier error");
	expect_err(store_commit(fx->s, &err), &err, CERR_STORE,
	    "rolled back after an earlier error");
	post(fx->s, "web-1", INSTR_START, &id);
	assert_int_equal(store_target_get(fx->s, "web-1", &t, &err), 0);
	assert_int_equal(t.unread, 1);
}

/* Runs SQL on another database of the store's cluster (template1): what
 * cannot run while the store's own database refuses connections. */
static void
raw_exec_elsewhere(const char *url, const char *sql)
{
	const char *keys[] = {"dbname", "dbname", NULL};
	const char *vals[] = {url, "template1", NULL};
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	PGresult *res;

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connect: %s", PQerrorMessage(c));
	res = PQexec(c, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
}

/* PostgreSQL only: while the server cannot be reached again, the store
 * tries once and then fails at once with the reason, instead of making
 * every call wait out a connect timeout. */
static void
test_server_gone(void **state)
{
	struct fx *fx = *state;
	struct store_target t;
	struct cerr err;
	char db[64], sql[160];

	if (!fx->pg)
		skip();
	add_target(fx->s, "web-1");
	raw_text(fx->path, "SELECT current_database()", db, sizeof(db));
	kill_connection(fx);
	snprintf(sql, sizeof(sql),
	    "ALTER DATABASE \"%s\" ALLOW_CONNECTIONS false", db);
	raw_exec_elsewhere(fx->path, sql);
	expect_err(store_target_get(fx->s, "web-1", &t, &err), &err, CERR_STORE,
	    "store: get target: ");
	expect_err(store_target_get(fx->s, "web-1", &t, &err), &err, CERR_STORE,
	    "not currently accepting connections");
	expect_err(store_target_get(fx->s, "web-1", &t, &err), &err, CERR_STORE,
	    "next try within");
	assert_non_null(strstr(err.msg, "not currently accepting"));
	snprintf(sql, sizeof(sql),
	    "ALTER DATABASE \"%s\" ALLOW_CONNECTIONS true", db);
	raw_exec_elsewhere(fx->path, sql);
}

/* ---- checkpoints (SQLite) --------------------------------------------- */

#define CKPT_WAIT_MS 20000

static off_t
wal_bytes(const char *path)
{
	char wal[600];
	struct stat st;

	snprintf(wal, sizeof(wal), "%s-wal", path);
	return stat(wal, &st) == 0 ? st.st_size : -1;
}

/* n instructions of 8 KiB each (two or three pages) in one commit. */
static void
post_pages(struct store *s, int n)
{
	static char payload[8192];
	struct cerr err;
	int64_t id;

	memset(payload, 'x', sizeof(payload) - 1);
	assert_int_equal(store_begin(s, &err), 0);
	for (int j = 0; j < n; j++)
		assert_int_equal(store_instr_post(s, "web-1", INSTR_INSERT,
				     "job", payload, 1, &id, &err),
		    0);
	assert_int_equal(store_commit(s, &err), 0);
}

/* SQLite's own checkpoint is off (store_sqlite_ckpt.c): once the WAL
 * passes 1,000 pages the thread copies it back, and the next commit then
 * writes from the WAL's beginning again, which shows as a commit that
 * does not grow the file. Polled with small commits to a deadline. */
static void
test_wal_checkpointed(void **state)
{
	struct fx *fx = *state;
	struct timespec pause = {0, 2000000};
	struct cerr err;
	int reused = 0;
	off_t before;

	if (fx->pg)
		skip();
	add_target(fx->s, "web-1");
	for (int i = 0; i < 30; i++)
		post_pages(fx->s, 20); /* ~1,200 pages */
	for (int i = 0; i < CKPT_WAIT_MS / 2 && !reused; i++) {
		before = wal_bytes(fx->path);
		post_pages(fx->s, 1);
		reused = wal_bytes(fx->path) == before;
		nanosleep(&pause, NULL);
	}
	if (!reused)
		fail_msg("WAL of %lld bytes never restarted: not checkpointed",
		    (long long)wal_bytes(fx->path));
	/* Closing joins the thread and leaves a consistent file. */
	store_close(fx->s);
	fx->s = NULL;
	assert_int_equal(store_open(fx->path, &fx->s, &err), 0);
	assert_true(
	    raw_int(fx->path, "SELECT count(*) FROM instructions") > 600);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_cases),
	    cmocka_unit_test(test_pg_default_sslmode),
	    T(test_open_versions),
	    T(test_two_stores),
	    T(test_open_together),
	    T(test_connection_lost),
	    T(test_server_gone),
	    T(test_wal_checkpointed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
