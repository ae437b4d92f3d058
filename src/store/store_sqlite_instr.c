/*
 * store_sqlite_instr: the download list. Each target reads its open
 * (pending or downloaded) instructions in id order and acknowledges each
 * one; a failed, uncleared instruction blocks everything after it until an
 * administrator clears it or a resync drops the rest. Fetch, ack and post
 * run on every poll, so each is one cached statement on the common path.
 */
#include "store/store_sqlite.h"

#include <stdio.h>

#define INSTR_COLS                                                             \
	"id, target, op, object, payload, status, cleared, posted_at,"         \
	" downloaded_at, applied_at, error, runs, epoch"

static const char sql_post[] =
    "INSERT INTO instructions (target, op, object, payload, status,"
    " posted_at, epoch) VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6)";
/* Nothing at all while a failed, uncleared instruction exists: the
 * target must not apply anything after a failure (order is kept). The
 * status terms are written exactly as the partial indexes' WHERE clauses
 * (instructions_open, instructions_blocked; schema step 6), which is what
 * lets SQLite use them: the open ones are read in id order from the small
 * index, without a temporary b-tree. */
static const char sql_fetch[] =
    "SELECT " INSTR_COLS " FROM instructions"
    " WHERE target = ?1 AND status IN ('pending', 'downloaded') AND id > ?2"
    "  AND NOT EXISTS (SELECT 1 FROM instructions WHERE target = ?1"
    "   AND status = 'failed' AND cleared = 0)"
    " ORDER BY id LIMIT ?3";
/* Through the open index too: the full one holds a page per target, and
 * a fan-out to thousands of targets finds few of those in the cache. */
static const char sql_mark_downloaded[] =
    "UPDATE instructions INDEXED BY instructions_open"
    " SET status = 'downloaded', downloaded_at = ?4"
    " WHERE target = ?1 AND status IN ('pending', 'downloaded')"
    "  AND status = 'pending' AND id > ?2 AND id <= ?3";
static const char sql_ack[] =
    "UPDATE instructions SET status = ?3, error = ?4, applied_at = ?5,"
    " downloaded_at = CASE downloaded_at WHEN 0 THEN ?5"
    "  ELSE downloaded_at END"
    " WHERE id = ?1 AND target = ?2"
    "  AND status IN ('pending', 'downloaded') RETURNING op";
static const char sql_owned[] =
    "SELECT 1 FROM instructions WHERE id = ?1 AND target = ?2";
static const char sql_clear[] =
    "UPDATE instructions SET cleared = 1 WHERE id = ?1 AND status = 'failed'";
static const char sql_status[] =
    "SELECT status FROM instructions WHERE id = ?1";
static const char sql_target_exists[] = "SELECT 1 FROM targets WHERE name = ?1";
static const char sql_drop_open[] = "DELETE FROM instructions WHERE target = ?1"
				    " AND status IN ('pending', 'downloaded')";
static const char sql_get[] =
    "SELECT " INSTR_COLS " FROM instructions WHERE id = ?1";
static const char sql_withdraw[] = "DELETE FROM instructions WHERE id = ?1"
				   " AND status IN ('pending', 'downloaded')";
static const char sql_clear_failed[] =
    "UPDATE instructions SET cleared = 1 WHERE target = ?1"
    " AND status = 'failed' AND cleared = 0";
/* A cleared failure is finished business like an applied instruction, so
 * it is trimmed with them (otherwise failures would pile up forever),
 * except a failed definition that is still its job's newest on that
 * target: job start and job apply read it (failed_defs.c). At most one
 * per job and target stays so. */
static const char sql_trim[] =
    "DELETE FROM instructions WHERE id IN (SELECT id FROM"
    " (SELECT id, target, object, op, status,"
    "   row_number() OVER (PARTITION BY target ORDER BY id DESC)"
    "   AS n FROM instructions"
    "   WHERE status = 'applied' OR (status = 'failed' AND cleared = 1))"
    " AS ranked WHERE n > ?1"
    " AND NOT (status = 'failed' AND op IN ('insert', 'update')"
    "  AND NOT EXISTS (SELECT 1 FROM instructions later"
    "   WHERE later.target = ranked.target AND later.object = ranked.object"
    "   AND later.op IN ('insert', 'update') AND later.id > ranked.id)))";
/* Listing: one statement per filter combination, parameters by name.
 * An open status (pending, downloaded) is also looked up through the
 * small open index (forced: for "ORDER BY id DESC LIMIT 1" the planner
 * would rather walk the whole table, history included, backwards). */
#define OPEN_TERM " AND status IN ('pending', 'downloaded')"
#define FAILED_TERM " AND status = 'failed'"
static const char *const sql_list[10] = {
    "SELECT " INSTR_COLS " FROM instructions"
    " ORDER BY id DESC LIMIT :limit",
    "SELECT " INSTR_COLS " FROM instructions WHERE target = :target"
    " ORDER BY id DESC LIMIT :limit",
    "SELECT " INSTR_COLS " FROM instructions WHERE status = :status"
    " ORDER BY id DESC LIMIT :limit",
    "SELECT " INSTR_COLS " FROM instructions WHERE target = :target"
    " AND status = :status ORDER BY id DESC LIMIT :limit",
    "SELECT " INSTR_COLS " FROM instructions INDEXED BY instructions_open"
    " WHERE status = :status" OPEN_TERM " ORDER BY id DESC LIMIT :limit",
    "SELECT " INSTR_COLS " FROM instructions INDEXED BY instructions_open"
    " WHERE target = :target AND status = :status" OPEN_TERM
    " ORDER BY id DESC LIMIT :limit",
    /* STORE_INSTR_OPEN: both open statuses */
    "SELECT " INSTR_COLS " FROM instructions INDEXED BY instructions_open"
    " WHERE 1" OPEN_TERM " ORDER BY id DESC LIMIT :limit",
    "SELECT " INSTR_COLS " FROM instructions INDEXED BY instructions_open"
    " WHERE target = :target" OPEN_TERM " ORDER BY id DESC LIMIT :limit",
    /* failed: through the small failed index (step 9) */
    "SELECT " INSTR_COLS " FROM instructions INDEXED BY instructions_failed"
    " WHERE 1" FAILED_TERM " ORDER BY id DESC LIMIT :limit",
    "SELECT " INSTR_COLS " FROM instructions INDEXED BY instructions_failed"
    " WHERE target = :target" FAILED_TERM " ORDER BY id DESC LIMIT :limit",
};

/* Fills in from the current row (columns as in INSTR_COLS); text stays
 * borrowed from the statement. */
static int
instr_row(sqlite3_stmt *st, struct store_instr *in, struct cerr *err)
{
	in->id = sqlite3_column_int64(st, 0);
	store_sqlite_copy(st, 1, in->target, sizeof(in->target));
	if (instr_op_parse(store_sqlite_text(st, 2), &in->op) < 0 ||
	    instr_status_parse(store_sqlite_text(st, 5), &in->status) < 0)
		return cerr_set(err, CERR_INTERNAL,
		    "store: instruction %lld: unknown operation or status",
		    (long long)in->id);
	store_sqlite_copy(st, 3, in->object, sizeof(in->object));
	in->payload = store_sqlite_text(st, 4);
	in->cleared = sqlite3_column_int(st, 6);
	in->posted_at = sqlite3_column_int64(st, 7);
	in->downloaded_at = sqlite3_column_int64(st, 8);
	in->applied_at = sqlite3_column_int64(st, 9);
	in->error = store_sqlite_text(st, 10);
	in->runs = sqlite3_column_int64(st, 11);
	in->epoch = sqlite3_column_int64(st, 12);
	return 0;
}

int
store_sqlite_instr_post(void *be, const char *target, enum instr_op op,
    const char *object, const char *payload, int64_t now, int64_t *id_out,
    struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql_post, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, instr_op_name(op), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, object, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, payload, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, sq->fence_epoch);
	step = sqlite3_step(st);
	if (step == SQLITE_CONSTRAINT_FOREIGNKEY) {
		cerr_set(err, CERR_NOT_FOUND, "no target '%s'", target);
		goto out;
	}
	if (step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, "post instruction", err);
		goto out;
	}
	*id_out = sqlite3_last_insert_rowid(sq->db);
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

/* Marks downloaded what a fetch handed out: the pending ones among the
 * open instructions in (after_id, last_id], which is exactly the prefix
 * the callback saw. */
static int
mark_downloaded(struct store_sqlite *sq, const char *target, int64_t after_id,
    int64_t last_id, int64_t now, struct cerr *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_mark_downloaded, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, target, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after_id);
	sqlite3_bind_int64(st, 3, last_id);
	sqlite3_bind_int64(st, 4, now);
	rc = store_sqlite_exec(sq, st, "fetch instructions", err);
out:
	store_sqlite_done(sq, st);
	return rc;
}

/* The callback sees each row as it is after this call: downloaded, with
 * downloaded_at set the first time. */
int
store_sqlite_instr_fetch(void *be, const char *target, int64_t after_id,
    int limit, int64_t now, store_instr_cb cb, void *arg, struct cerr *err)
{
	struct store_sqlite *sq = be;
	struct store_instr in;
	sqlite3_stmt *st = NULL;
	int64_t last_id = after_id;
	int rc = -1, step = SQLITE_DONE, any_pending = 0, stop = 0;

	if (store_sqlite_stmt(sq, sql_fetch, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, target, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after_id);
	sqlite3_bind_int(st, 3, limit);
	while (!stop && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if (instr_row(st, &in, err) < 0)
			goto out;
		if (in.status == INSTR_PENDING) {
			any_pending = 1;
			in.status = INSTR_DOWNLOADED;
			in.downloaded_at = now;
		}
		last_id = in.id;
		stop = cb(arg, &in) != 0;
	}
	if (!stop && step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, "fetch instructions", err);
		goto out;
	}
	store_sqlite_done(sq, st);
	st = NULL;
	if (any_pending &&
	    mark_downloaded(sq, target, after_id, last_id, now, err) < 0)
		goto out;
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

/* *found: whether instruction id exists and belongs to target. */
static int
instr_owned(struct store_sqlite *sq, const char *target, int64_t id, int *found,
    struct cerr *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql_owned, &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, target, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, "ack instruction", err);
		goto out;
	}
	*found = step == SQLITE_ROW;
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

/* The first outcome stands: an ack for an instruction already applied or
 * failed changes nothing and succeeds (a target may resend an ack whose
 * reply it lost). */
int
store_sqlite_instr_ack(void *be, const char *target, int64_t id, int ok,
    const char *error, int64_t now, enum instr_op *first_op, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1, found = 0, step;

	*first_op = INSTR_OP_COUNT;

	if (store_sqlite_stmt(sq, sql_ack, &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3,
	    instr_status_name(ok ? INSTR_APPLIED : INSTR_FAILED), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 4, error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW &&
	    instr_op_parse((const char *)sqlite3_column_text(st, 0), first_op) <
		0)
		*first_op = INSTR_OP_COUNT;
	if (step == SQLITE_ROW &&
	    store_sqlite_exec(sq, st, "ack instruction", err) < 0)
		goto out;
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, "ack instruction", err);
		goto out;
	}
	if (step == SQLITE_DONE) {
		if (instr_owned(sq, target, id, &found, err) < 0)
			goto out;
		if (!found) {
			cerr_set(err, CERR_NOT_FOUND,
			    "no instruction %lld for target '%s'",
			    (long long)id, target);
			goto out;
		}
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

/* Binds a named parameter if the statement has it. */
static void
bind_named_text(sqlite3_stmt *st, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i > 0)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

int
store_sqlite_instr_list(void *be, const struct store_instr_filter *f,
    store_instr_cb cb, void *arg, struct cerr *err)
{
	struct store_sqlite *sq = be;
	struct store_instr in;
	sqlite3_stmt *st = NULL;
	int rc = -1, step, which;

	which = (f->target != NULL) | (f->status >= 0) << 1;
	if (f->status == INSTR_PENDING || f->status == INSTR_DOWNLOADED)
		which += 2;
	else if (f->status == STORE_INSTR_OPEN)
		which = 6 + (f->target != NULL);
	else if (f->status == INSTR_FAILED)
		which = 8 + (f->target != NULL);
	if (store_sqlite_stmt(sq, sql_list[which], &st, err) < 0)
		goto out;
	bind_named_text(st, ":target", f->target);
	if (f->status >= 0 && f->status != INSTR_FAILED)
		bind_named_text(st, ":status",
		    instr_status_name((enum instr_status)f->status));
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":limit"),
	    f->limit > 0 ? f->limit : -1);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (instr_row(st, &in, err) < 0)
			goto out;
		if (cb(arg, &in) != 0) {
			step = SQLITE_DONE;
			break;
		}
	}
	if (step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, "list instructions", err);
		goto out;
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

/* Clearing a failure twice is harmless; clearing anything else is a
 * conflict that names the instruction's real status. */
int
store_sqlite_instr_clear(void *be, int64_t id, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql_clear, &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	if (store_sqlite_exec(sq, st, "clear instruction", err) < 0)
		goto out;
	if (sqlite3_changes(sq->db) > 0) {
		rc = 0;
		goto out;
	}
	store_sqlite_done(sq, st);
	st = NULL;
	if (store_sqlite_stmt(sq, sql_status, &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		cerr_set(err, CERR_CONFLICT,
		    "instruction %lld is %s, not failed", (long long)id,
		    store_sqlite_text(st, 0));
	else if (step == SQLITE_DONE)
		cerr_set(
		    err, CERR_NOT_FOUND, "no instruction %lld", (long long)id);
	else
		store_sqlite_fail(sq, step, "clear instruction", err);
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_instr_get(
    void *be, int64_t id, store_instr_cb cb, void *arg, struct cerr *err)
{
	struct store_sqlite *sq = be;
	struct store_instr in;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql_get, &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		cerr_set(
		    err, CERR_NOT_FOUND, "no instruction %lld", (long long)id);
		goto out;
	}
	if (step != SQLITE_ROW) {
		store_sqlite_fail(sq, step, "get instruction", err);
		goto out;
	}
	if (instr_row(st, &in, err) < 0)
		goto out;
	cb(arg, &in);
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_instr_withdraw(void *be, int64_t id, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_withdraw, &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	if (store_sqlite_exec(sq, st, "withdraw instruction", err) < 0)
		goto out;
	rc = sqlite3_changes(sq->db) > 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

/* Runs a statement keyed by ?1 = target; *rows counts rows returned. */
static int
run_target(struct store_sqlite *sq, const char *sql, const char *target,
    int *rows, struct cerr *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (store_sqlite_stmt(sq, sql, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, target, -1, SQLITE_STATIC);
	*rows = 0;
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		(*rows)++;
	if (step != SQLITE_DONE) {
		store_sqlite_fail(sq, step, "drop pending instructions", err);
		goto out;
	}
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

int
store_sqlite_instr_drop_pending(void *be, const char *target, struct cerr *err)
{
	struct store_sqlite *sq = be;
	int rc = -1, rows = 0;

	if (store_sqlite_tx_enter(sq, "drop pending instructions", err) < 0)
		return -1;
	if (run_target(sq, sql_target_exists, target, &rows, err) < 0)
		goto out;
	if (rows == 0) {
		cerr_set(err, CERR_NOT_FOUND, "no target '%s'", target);
		goto out;
	}
	if (run_target(sq, sql_drop_open, target, &rows, err) < 0 ||
	    run_target(sq, sql_clear_failed, target, &rows, err) < 0)
		goto out;
	rc = 0;
out:
	return store_sqlite_tx_leave(
	    sq, rc == 0, "drop pending instructions", err);
}

int
store_sqlite_instr_trim(void *be, int64_t keep, struct cerr *err)
{
	struct store_sqlite *sq = be;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql_trim, &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, keep);
	rc = store_sqlite_exec(sq, st, "trim instructions", err);
out:
	store_sqlite_done(sq, st);
	return rc;
}
