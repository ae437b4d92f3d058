/*
 * test_store: the fixture the store's unit tests share: a fresh store per
 * test and a second raw connection to look at it, and small helpers.
 *
 * By default the store is SQLite, in its own temporary directory (removed
 * afterwards). When COHORT_TEST_PG_URL names a PostgreSQL database (see
 * tests/pg/run-with-pg.sh), the same tests run against it instead: each
 * test starts from an empty public schema, and fx->path holds the URL.
 * The raw_*() helpers take either kind of spec, so a test's SQL runs on
 * both when it is plain SQL.
 */
#ifndef COHORT_TEST_STORE_H
#define COHORT_TEST_STORE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_pg.h"
#include "store/store_sqlite.h"

struct fx {
	char dir[64];
	char path[512]; /* the store spec: a file or a PostgreSQL URL */
	struct store *s;
	int pg; /* running against COHORT_TEST_PG_URL */
};

static inline int
is_pg_spec(const char *spec)
{
	return strncmp(spec, "postgres", 8) == 0;
}

static inline PGconn *
raw_pg_connect(const char *url)
{
	PGconn *c = PQconnectdb(url);
	PGresult *res;

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connect %s: %s", url, PQerrorMessage(c));
	res = PQexec(c, "SET client_min_messages = warning");
	PQclear(res);
	return c;
}

/* Runs SQL on a PostgreSQL store through a second connection; the result
 * (rows expected when want_rows) is the caller's to PQclear(). */
static inline PGresult *
raw_pg(const char *url, const char *sql, int want_rows)
{
	PGconn *c = raw_pg_connect(url);
	PGresult *res = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	if (want_rows && PQntuples(res) < 1)
		fail_msg("%s: no row", sql);
	PQfinish(c);
	return res;
}

/* The URL of the same database with another schema first in the
 * search_path: another store in the same database. */
static inline void
pg_url_schema(const char *url, const char *schema, char *out, size_t size)
{
	snprintf(out, size, "%s%coptions=-csearch_path%%3D%s", url,
	    strchr(url, '?') != NULL ? '&' : '?', schema);
}

/* Runs SQL on the store through a second connection. */
static inline void
raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;

	if (is_pg_spec(path)) {
		PQclear(raw_pg(path, sql, 0));
		return;
	}
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
}

static inline int64_t
raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	PGresult *res;
	int64_t v;

	if (is_pg_spec(path)) {
		res = raw_pg(path, sql, 1);
		v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
		return v;
	}
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static inline void
raw_text(const char *path, const char *sql, char *out, size_t size)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	PGresult *res;

	if (is_pg_spec(path)) {
		res = raw_pg(path, sql, 1);
		snprintf(out, size, "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		return;
	}
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* Every schema a test may create, dropped before each test. */
#define FX_PG_RESET                                                            \
	"DROP SCHEMA IF EXISTS public CASCADE;"                                \
	" DROP SCHEMA IF EXISTS other CASCADE;"                                \
	" DROP SCHEMA IF EXISTS fresh CASCADE;"                                \
	" CREATE SCHEMA public"

static inline int
fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *url = getenv("COHORT_TEST_PG_URL");
	struct cerr err;

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/cohort-store-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	fx->pg = url != NULL && url[0] != '\0';
	if (fx->pg) {
		snprintf(fx->path, sizeof(fx->path), "%s", url);
		raw_exec(fx->path, FX_PG_RESET);
	} else {
		snprintf(fx->path, sizeof(fx->path), "%s/store.db", fx->dir);
	}
	if (store_open(fx->path, &fx->s, &err) < 0)
		fail_msg("open: %s", err.msg);
	*state = fx;
	return 0;
}

static inline int
fx_teardown(void **state)
{
	struct fx *fx = *state;
	char p[600];

	store_close(fx->s);
	if (!fx->pg) {
		unlink(fx->path);
		snprintf(p, sizeof(p), "%s-wal", fx->path);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", fx->path);
		unlink(p);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* A spec for a second, not yet created store next to the fixture's: a
 * new file, or an empty schema of the same database. */
static inline void
fx_fresh_spec(struct fx *fx, char *out, size_t size)
{
	if (!fx->pg) {
		snprintf(out, size, "%s/fresh.db", fx->dir);
		return;
	}
	raw_exec(fx->path, "CREATE SCHEMA fresh");
	pg_url_schema(fx->path, "fresh", out, size);
}

static inline void
fx_fresh_remove(struct fx *fx, const char *spec)
{
	char p[600];

	if (fx->pg) {
		raw_exec(fx->path, "DROP SCHEMA fresh CASCADE");
		return;
	}
	unlink(spec);
	snprintf(p, sizeof(p), "%s-wal", spec);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", spec);
	unlink(p);
}

static inline void
add_target(struct store *s, const char *name)
{
	struct store_target t;
	struct cerr err;

	memset(&t, 0, sizeof(t));
	snprintf(t.name, sizeof(t.name), "%s", name);
	snprintf(t.location, sizeof(t.location), "rack %s", name);
	snprintf(t.version, sizeof(t.version), "0.1.0");
	snprintf(t.cert_serial, sizeof(t.cert_serial), "0a%s", name);
	t.enlisted_at = 1000;
	t.poll_interval_s = 60;
	if (store_target_add(s, &t, &err) < 0)
		fail_msg("add %s: %s", name, err.msg);
}

static inline void
expect_err(
    int rc, const struct cerr *err, enum cerr_code code, const char *substr)
{
	assert_int_equal(rc, -1);
	if (err->code != code)
		fail_msg("code %s, want %s (%s)", cerr_code_name(err->code),
		    cerr_code_name(code), err->msg);
	if (substr != NULL && strstr(err->msg, substr) == NULL)
		fail_msg("'%s' not in '%s'", substr, err->msg);
}

static inline void
post(struct store *s, const char *target, enum instr_op op, int64_t *id)
{
	struct cerr err;

	if (store_instr_post(s, target, op, "job", "{}", 10, id, &err) < 0)
		fail_msg("post: %s", err.msg);
}

struct names {
	char v[16][STORE_NAME_MAX + 1];
	int n;
	int stop_after; /* 0: never */
};

static inline int
collect_name(void *arg, const char *name)
{
	struct names *nm = arg;

	snprintf(nm->v[nm->n++], sizeof(nm->v[0]), "%s", name);
	return nm->stop_after != 0 && nm->n >= nm->stop_after;
}

static inline int
collect_target(void *arg, const struct store_target *t)
{
	struct names *nm = arg;

	snprintf(nm->v[nm->n++], sizeof(nm->v[0]), "%s", t->name);
	return nm->stop_after != 0 && nm->n >= nm->stop_after;
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

#endif
