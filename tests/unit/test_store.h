/*
 * test_store: the fixture the store's unit tests share: a fresh SQLite
 * store in its own temporary directory per test (removed afterwards), a
 * second raw connection to look at the file, and small helpers.
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
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_sqlite.h"

struct fx {
	char dir[64];
	char path[128];
	struct store *s;
};

static inline int
fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct cerr err;

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/cohort-store-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/store.db", fx->dir);
	if (store_open(fx->path, &fx->s, &err) < 0)
		fail_msg("open: %s", err.msg);
	*state = fx;
	return 0;
}

static inline int
fx_teardown(void **state)
{
	struct fx *fx = *state;
	char p[160];

	store_close(fx->s);
	unlink(fx->path);
	snprintf(p, sizeof(p), "%s-wal", fx->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", fx->path);
	unlink(p);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* Runs SQL on the store file through a second connection. */
static inline void
raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;

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
	int64_t v;

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

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
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

#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

#endif
