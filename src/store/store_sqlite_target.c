/*
 * store_sqlite_target: the targets table. A listing also counts each
 * target's unread and failed instructions in the same query (correlated
 * counts over the instructions index), so listing a thousand targets is
 * one statement, not a thousand.
 */
#include "store/store_sqlite.h"

#include <stdio.h>

#define TARGET_COLS                                                            \
	"t.name, t.location, t.version, t.cert_serial, t.enlisted_at,"         \
	" t.last_poll, t.local_time, t.tz_offset_s, t.poll_interval_s,"        \
	" t.defected,"                                                         \
	" (SELECT count(*) FROM instructions i WHERE i.target = t.name"        \
	"   AND i.status IN ('pending', 'downloaded')),"                       \
	" (SELECT count(*) FROM instructions i WHERE i.target = t.name"        \
	"   AND i.status = 'failed' AND i.cleared = 0),"                       \
	" t.outbox_dropped"

static const char sql_get[] =
    "SELECT " TARGET_COLS " FROM targets t WHERE t.name = ?1";
static const char sql_list[] =
    "SELECT " TARGET_COLS " FROM targets t ORDER BY t.name";
static const char sql_state[] = "SELECT defected FROM targets WHERE name = ?1";
static const char sql_insert[] =
    "INSERT INTO targets (name, location, version, cert_serial,"
    " enlisted_at, last_poll, local_time, tz_offset_s, poll_interval_s,"
    " defected) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
static const char sql_polled[] =
    "UPDATE targets SET last_poll = ?2, local_time = ?3, tz_offset_s = ?4,"
    " poll_interval_s = ?5, version = coalesce(?6, version),"
    " outbox_dropped = ?7"
    " WHERE name = ?1";
static const char sql_defected[] =
    "UPDATE targets SET defected = 1, defected_at = ?2 WHERE name = ?1";
/* A defected target leaves every job's aim and every group, as SQL Server
 * Agent drops a defected target's job assignments: nothing is posted to
 * it again, and enlisting again starts from none. */
static const char sql_leave_aims[] =
    "DELETE FROM job_targets WHERE target = ?1";
static const char sql_leave_groups[] =
    "DELETE FROM group_members WHERE target = ?1";
static const char sql_location[] =
    "UPDATE targets SET location = ?2 WHERE name = ?1";
/* The schema's ON DELETE CASCADE takes the target's instructions, job
 * aims and group memberships with the row, in this one statement. */
static const char sql_delete[] = "DELETE FROM targets WHERE name = ?1";

static void
target_row(sqlite3_stmt *st, struct store_target *t)
{
	store_sqlite_copy(st, 0, t->name, sizeof(t->name));
	store_sqlite_copy(st, 1, t->location, sizeof(t->location));
	store_sqlite_copy(st, 2, t->version, sizeof(t->version));
	store_sqlite_copy(st, 3, t->cert_serial, sizeof(t->cert_serial));
	t->enlisted_at = sqlite3_column_int64(st, 4);
	t->last_poll = sqlite3_column_int64(st, 5);
	t->local_time = sqlite3_column_int64(st, 6);
	t->tz_offset_s = sqlite3_column_int(st, 7);
	t->poll_interval_s = sqlite3_column_int(st, 8);
	t->defected = sqlite3_column_int(st, 9);
	t->unread = sqlite3_column_int64(st, 10);
	t->failed = sqlite3_column_int64(st, 11);
	t->outbox_dropped = sqlite3_column_int64(st, 12);
}

/* Runs an UPDATE/DELETE of one target by name (bound as ?1 by the
 * caller); CERR_NOT_FOUND when no row matched. */
static int
change_target(struct store_sqlite *sq, sqlite3_stmt *st, const char *name,
    const char *what, struct cerr *err)
{
	if (store_sqlite_exec(sq, st, what, err) < 0)
		return -1;
	if (sqlite3_changes(sq->db) == 0)
		return cerr_set(err, CERR_NOT_FOUND, "no target '%s'", name);
	return 0;
}

/* *state: -1 absent, 0 enlisted, 1 defected. */
static int
target_state(
    struct store_sqlite *sq, const char *name, int *state, struct cerr *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql_state, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, "add target", err);
		goto out;
	}
	*state = step == SQLITE_DONE ? -1 : sqlite3_column_int(st, 0) != 0;
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

static int
insert_target(
    struct store_sqlite *sq, const struct store_target *t, struct cerr *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_insert, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, t->location, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, t->version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, t->cert_serial, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, t->enlisted_at);
	sqlite3_bind_int64(st, 6, t->last_poll);
	sqlite3_bind_int64(st, 7, t->local_time);
	sqlite3_bind_int(st, 8, t->tz_offset_s);
	sqlite3_bind_int(st, 9, t->poll_interval_s);
	sqlite3_bind_int(st, 10, t->defected != 0);
	rc = store_sqlite_exec(sq, st, "add target", err);
out:
	store_sqlite_done(sq, st);
	return rc;
}

/* Enlisting again after a defect starts from a clean row: the old row
 * goes with its instructions, aims and memberships (the cascade). */
int
store_sqlite_target_add(
    void *be, const struct store_target *t, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1, state = -1;

	if (store_sqlite_tx_enter(sq, "add target", err) < 0)
		return -1;
	if (target_state(sq, t->name, &state, err) < 0)
		goto out;
	if (state == 0) {
		cerr_set(err, CERR_CONFLICT, "target '%s' is already enlisted",
		    t->name);
		goto out;
	}
	if (state == 1) {
		if (store_sqlite_stmt(sq, sql_delete, &st, err) < 0)
			goto out;
		sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
		if (store_sqlite_exec(sq, st, "add target", err) < 0)
			goto out;
	}
	rc = insert_target(sq, t, err);
out:
	store_sqlite_done(sq, st);
	return store_sqlite_tx_leave(sq, rc == 0, "add target", err);
}

int
store_sqlite_target_get(
    void *be, const char *name, struct store_target *out, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql_get, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		cerr_set(err, CERR_NOT_FOUND, "no target '%s'", name);
		goto out;
	}
	if (step != SQLITE_ROW) {
		store_sqlite_fail(sq, step, "get target", err);
		goto out;
	}
	target_row(st, out);
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_target_list(
    void *be, store_target_cb cb, void *arg, struct cerr *err)
{
	struct store_sqlite *sq = be;
	struct store_target t;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql_list, &st, err) < 0)
		goto out;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		target_row(st, &t);
		if (cb(arg, &t) != 0) {
			step = SQLITE_DONE;
			break;
		}
	}
	if (step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, "list targets", err);
		goto out;
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_target_polled(
    void *be, const char *name, const struct store_poll *p, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_polled, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, p->now);
	sqlite3_bind_int64(st, 3, p->local_time);
	sqlite3_bind_int(st, 4, p->tz_offset_s);
	sqlite3_bind_int(st, 5, p->poll_interval_s);
	if (p->version != NULL)
		sqlite3_bind_text(st, 6, p->version, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, p->outbox_dropped);
	rc = change_target(sq, st, name, "record poll", err);
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_target_set_defected(
    void *be, const char *name, int64_t now, struct cerr *err)
{
	static const char what[] = "defect target";
	struct store_sqlite *sq = be;
	const char *const leave[] = {sql_leave_aims, sql_leave_groups};
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_tx_enter(sq, what, err) < 0)
		return -1;
	if (store_sqlite_stmt(sq, sql_defected, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	if (change_target(sq, st, name, what, err) < 0)
		goto out;
	for (size_t i = 0; i < sizeof(leave) / sizeof(leave[0]); i++) {
		store_sqlite_done(sq, st);
		st = NULL;
		if (store_sqlite_stmt(sq, leave[i], &st, err) < 0)
			goto out;
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		if (store_sqlite_exec(sq, st, what, err) < 0)
			goto out;
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return store_sqlite_tx_leave(sq, rc == 0, what, err);
}

int
store_sqlite_target_set_location(
    void *be, const char *name, const char *location, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_location, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, location, -1, SQLITE_STATIC);
	rc = change_target(sq, st, name, "set location", err);
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_target_delete(void *be, const char *name, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_delete, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = change_target(sq, st, name, "delete target", err);
out:
	store_sqlite_done(sq, st);
	return rc;
}
