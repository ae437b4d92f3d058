/*
 * store_pg_instr: the download list on PostgreSQL (the counterpart of
 * store_sqlite_instr.c). Each target reads its open (pending or
 * downloaded) instructions in id order and acknowledges each one; a
 * failed, uncleared instruction blocks everything after it until an
 * administrator clears it or a resync drops the rest. Fetch, ack and post
 * run on every poll, so each is one prepared statement on the common
 * path.
 */
#include "store/store_pg.h"

#include <string.h>

#define INSTR_COLS                                                             \
	"id, target, op, object, payload, status, cleared, posted_at,"         \
	" downloaded_at, applied_at, error, runs, epoch"

static const char sql_post[] =
    "INSERT INTO instructions (target, op, object, payload, status,"
    " posted_at, epoch) VALUES ($1, $2, $3, $4, 'pending', $5, $6)"
    " RETURNING id";
/* Nothing at all while a failed, uncleared instruction exists: the
 * target must not apply anything after a failure (order is kept). */
static const char sql_fetch[] =
    "SELECT " INSTR_COLS " FROM instructions"
    " WHERE target = $1 AND status IN ('pending', 'downloaded') AND id > $2"
    "  AND NOT EXISTS (SELECT 1 FROM instructions WHERE target = $1"
    "   AND status = 'failed' AND cleared = 0)"
    " ORDER BY id LIMIT $3";
static const char sql_mark_downloaded[] =
    "UPDATE instructions SET status = 'downloaded', downloaded_at = $4"
    " WHERE target = $1 AND status = 'pending' AND id > $2 AND id <= $3";
static const char sql_ack[] =
    "UPDATE instructions SET status = $3, error = $4, applied_at = $5,"
    " downloaded_at = CASE downloaded_at WHEN 0 THEN $5::bigint"
    "  ELSE downloaded_at END"
    " WHERE id = $1 AND target = $2"
    "  AND status IN ('pending', 'downloaded') RETURNING op";
static const char sql_owned[] =
    "SELECT 1 FROM instructions WHERE id = $1 AND target = $2";
static const char sql_clear[] =
    "UPDATE instructions SET cleared = 1 WHERE id = $1 AND status = 'failed'";
static const char sql_status[] =
    "SELECT status FROM instructions WHERE id = $1";
static const char sql_target_exists[] = "SELECT 1 FROM targets WHERE name = $1";
static const char sql_get[] =
    "SELECT " INSTR_COLS " FROM instructions WHERE id = $1";
static const char sql_withdraw[] = "DELETE FROM instructions WHERE id = $1"
				   " AND status IN ('pending', 'downloaded')";
static const char sql_drop_open[] = "DELETE FROM instructions WHERE target = $1"
				    " AND status IN ('pending', 'downloaded')";
static const char sql_clear_failed[] =
    "UPDATE instructions SET cleared = 1 WHERE target = $1"
    " AND status = 'failed' AND cleared = 0";
/* A cleared failure is finished business like an applied instruction, so
 * it is trimmed with them, except a failed definition that is still its
 * job's newest on that target (see the SQLite store's sql_trim). */
static const char sql_trim[] =
    "DELETE FROM instructions WHERE id IN (SELECT id FROM"
    " (SELECT id, target, object, op, status,"
    "   row_number() OVER (PARTITION BY target ORDER BY id DESC)"
    "   AS n FROM instructions"
    "   WHERE status = 'applied' OR (status = 'failed' AND cleared = 1))"
    "  AS ranked WHERE n > $1"
    " AND NOT (status = 'failed' AND op IN ('insert', 'update')"
    "  AND NOT EXISTS (SELECT 1 FROM instructions later"
    "   WHERE later.target = ranked.target AND later.object = ranked.object"
    "   AND later.op IN ('insert', 'update') AND later.id > ranked.id)))";
/* Listing: one statement per filter combination, parameters in the
 * order target, status, limit (a NULL limit is none); then two for
 * STORE_INSTR_OPEN and two for failed ones (the status a literal: the
 * partial index of schema step 8). */
static const char *const sql_list[8] = {
    "SELECT " INSTR_COLS " FROM instructions ORDER BY id DESC LIMIT $1",
    "SELECT " INSTR_COLS " FROM instructions WHERE target = $1"
    " ORDER BY id DESC LIMIT $2",
    "SELECT " INSTR_COLS " FROM instructions WHERE status = $1"
    " ORDER BY id DESC LIMIT $2",
    "SELECT " INSTR_COLS " FROM instructions WHERE target = $1"
    " AND status = $2 ORDER BY id DESC LIMIT $3",
    "SELECT " INSTR_COLS " FROM instructions"
    " WHERE status IN ('pending', 'downloaded') ORDER BY id DESC LIMIT $1",
    "SELECT " INSTR_COLS " FROM instructions WHERE target = $1"
    " AND status IN ('pending', 'downloaded') ORDER BY id DESC LIMIT $2",
    "SELECT " INSTR_COLS " FROM instructions"
    " WHERE status = 'failed' ORDER BY id DESC LIMIT $1",
    "SELECT " INSTR_COLS " FROM instructions WHERE target = $1"
    " AND status = 'failed' ORDER BY id DESC LIMIT $2",
};

/* Fills in from a row (columns as in INSTR_COLS); text stays borrowed
 * from the result. */
static int
instr_row(
    const PGresult *res, int row, struct store_instr *in, struct cerr *err)
{
	in->id = store_pg_int(res, row, 0);
	store_pg_copy(res, row, 1, in->target, sizeof(in->target));
	if (instr_op_parse(store_pg_text(res, row, 2), &in->op) < 0 ||
	    instr_status_parse(store_pg_text(res, row, 5), &in->status) < 0)
		return cerr_set(err, CERR_INTERNAL,
		    "store: instruction %lld: unknown operation or status",
		    (long long)in->id);
	store_pg_copy(res, row, 3, in->object, sizeof(in->object));
	in->payload = store_pg_text(res, row, 4);
	in->cleared = (int)store_pg_int(res, row, 6);
	in->posted_at = store_pg_int(res, row, 7);
	in->downloaded_at = store_pg_int(res, row, 8);
	in->applied_at = store_pg_int(res, row, 9);
	in->error = store_pg_text(res, row, 10);
	in->runs = store_pg_int(res, row, 11);
	in->epoch = store_pg_int(res, row, 12);
	return 0;
}

int
store_pg_instr_post(void *be, const char *target, enum instr_op op,
    const char *object, const char *payload, int64_t now, int64_t *id_out,
    struct cerr *err)
{
	struct store_pg *pg = be;
	struct store_pg_params p = {0};
	PGresult *res = NULL;

	store_pg_param_text(&p, target);
	store_pg_param_text(&p, instr_op_name(op));
	store_pg_param_text(&p, object);
	store_pg_param_text(&p, payload);
	store_pg_param_int(&p, now);
	store_pg_param_int(&p, pg->fence_epoch > 0 ? pg->fence_epoch : 0);
	if (store_pg_write(pg, sql_post, &p, &res, "post instruction", err) <
	    0) {
		if (strcmp(pg->sqlstate, STORE_PG_FOREIGN_KEY_VIOLATION) == 0)
			return cerr_set(
			    err, CERR_NOT_FOUND, "no target '%s'", target);
		return -1;
	}
	*id_out = store_pg_int(res, 0, 0);
	PQclear(res);
	return 0;
}

/* Marks downloaded what a fetch handed out: the pending ones among the
 * open instructions in (after_id, last_id], which is exactly the prefix
 * the callback saw. */
static int
mark_downloaded(struct store_pg *pg, const char *target, int64_t after_id,
    int64_t last_id, int64_t now, struct cerr *err)
{
	struct store_pg_params p = {0};

	store_pg_param_text(&p, target);
	store_pg_param_int(&p, after_id);
	store_pg_param_int(&p, last_id);
	store_pg_param_int(&p, now);
	return store_pg_write(
	    pg, sql_mark_downloaded, &p, NULL, "fetch instructions", err);
}

/* The callback sees each row as it is after this call: downloaded, with
 * downloaded_at set the first time. */
int
store_pg_instr_fetch(void *be, const char *target, int64_t after_id, int limit,
    int64_t now, store_instr_cb cb, void *arg, struct cerr *err)
{
	struct store_pg *pg = be;
	struct store_pg_params p = {0};
	struct store_instr in;
	PGresult *res = NULL;
	int64_t last_id = after_id;
	int rc = -1, any_pending = 0;

	store_pg_param_text(&p, target);
	store_pg_param_int(&p, after_id);
	store_pg_param_int(&p, limit);
	if (store_pg_query(pg, sql_fetch, &p, &res, "fetch instructions", err) <
	    0)
		goto out;
	for (int i = 0; i < PQntuples(res); i++) {
		if (instr_row(res, i, &in, err) < 0)
			goto out;
		if (in.status == INSTR_PENDING) {
			any_pending = 1;
			in.status = INSTR_DOWNLOADED;
			in.downloaded_at = now;
		}
		last_id = in.id;
		if (cb(arg, &in) != 0)
			break;
	}
	if (any_pending &&
	    mark_downloaded(pg, target, after_id, last_id, now, err) < 0)
		goto out;
	rc = 0;
out:
	PQclear(res);
	return rc;
}

/* *found: whether instruction id exists and belongs to target. */
static int
instr_owned(struct store_pg *pg, const char *target, int64_t id, int *found,
    struct cerr *err)
{
	struct store_pg_params p = {0};
	PGresult *res = NULL;

	store_pg_param_int(&p, id);
	store_pg_param_text(&p, target);
	if (store_pg_query(pg, sql_owned, &p, &res, "ack instruction", err) < 0)
		return -1;
	*found = PQntuples(res) > 0;
	PQclear(res);
	return 0;
}

/* The first outcome stands: an ack for an instruction already applied or
 * failed changes nothing and succeeds (a target may resend an ack whose
 * reply it lost). */
int
store_pg_instr_ack(void *be, const char *target, int64_t id, int ok,
    const char *error, int64_t now, enum instr_op *first_op, struct cerr *err)
{
	struct store_pg *pg = be;
	struct store_pg_params p = {0};
	PGresult *res = NULL;
	int64_t changed;
	int found = 0;

	*first_op = INSTR_OP_COUNT;

	store_pg_param_int(&p, id);
	store_pg_param_text(&p, target);
	store_pg_param_text(
	    &p, instr_status_name(ok ? INSTR_APPLIED : INSTR_FAILED));
	store_pg_param_text(&p, error);
	store_pg_param_int(&p, now);
	if (store_pg_write(pg, sql_ack, &p, &res, "ack instruction", err) < 0)
		return -1;
	changed = store_pg_changes(res);
	if (changed > 0 && PQntuples(res) > 0 &&
	    instr_op_parse(PQgetvalue(res, 0, 0), first_op) < 0)
		*first_op = INSTR_OP_COUNT;
	PQclear(res);
	if (changed > 0)
		return 0;
	if (instr_owned(pg, target, id, &found, err) < 0)
		return -1;
	if (!found)
		return cerr_set(err, CERR_NOT_FOUND,
		    "no instruction %lld for target '%s'", (long long)id,
		    target);
	return 0;
}

int
store_pg_instr_list(void *be, const struct store_instr_filter *f,
    store_instr_cb cb, void *arg, struct cerr *err)
{
	struct store_pg_params p = {0};
	struct store_instr in;
	PGresult *res = NULL;
	int rc = -1, which;

	which = (f->target != NULL) | (f->status >= 0) << 1;
	if (f->status == STORE_INSTR_OPEN)
		which = 4 + (f->target != NULL);
	else if (f->status == INSTR_FAILED)
		which = 6 + (f->target != NULL);
	if (f->target != NULL)
		store_pg_param_text(&p, f->target);
	if (f->status >= 0 && f->status != INSTR_FAILED)
		store_pg_param_text(
		    &p, instr_status_name((enum instr_status)f->status));
	if (f->limit > 0)
		store_pg_param_int(&p, f->limit);
	else
		store_pg_param_text(&p, NULL);
	if (store_pg_query(
		be, sql_list[which], &p, &res, "list instructions", err) < 0)
		goto out;
	for (int i = 0; i < PQntuples(res); i++) {
		if (instr_row(res, i, &in, err) < 0)
			goto out;
		if (cb(arg, &in) != 0)
			break;
	}
	rc = 0;
out:
	PQclear(res);
	return rc;
}

/* Clearing a failure twice is harmless; clearing anything else is a
 * conflict that names the instruction's real status. */
int
store_pg_instr_clear(void *be, int64_t id, struct cerr *err)
{
	struct store_pg_params p = {0};
	PGresult *res = NULL;
	int rc = -1;

	store_pg_param_int(&p, id);
	if (store_pg_write(be, sql_clear, &p, &res, "clear instruction", err) <
	    0)
		goto out;
	if (store_pg_changes(res) > 0) {
		rc = 0;
		goto out;
	}
	PQclear(res);
	res = NULL;
	if (store_pg_query(be, sql_status, &p, &res, "clear instruction", err) <
	    0)
		goto out;
	if (PQntuples(res) > 0)
		cerr_set(err, CERR_CONFLICT,
		    "instruction %lld is %s, not failed", (long long)id,
		    store_pg_text(res, 0, 0));
	else
		cerr_set(
		    err, CERR_NOT_FOUND, "no instruction %lld", (long long)id);
out:
	PQclear(res);
	return rc;
}

int
store_pg_instr_get(
    void *be, int64_t id, store_instr_cb cb, void *arg, struct cerr *err)
{
	struct store_pg_params p = {0};
	struct store_instr in;
	PGresult *res = NULL;
	int rc = -1;

	store_pg_param_int(&p, id);
	if (store_pg_query(be, sql_get, &p, &res, "get instruction", err) < 0)
		goto out;
	if (PQntuples(res) == 0) {
		cerr_set(
		    err, CERR_NOT_FOUND, "no instruction %lld", (long long)id);
		goto out;
	}
	if (instr_row(res, 0, &in, err) < 0)
		goto out;
	cb(arg, &in);
	rc = 0;
out:
	PQclear(res);
	return rc;
}

int
store_pg_instr_withdraw(void *be, int64_t id, struct cerr *err)
{
	struct store_pg_params p = {0};
	PGresult *res = NULL;
	int rc = -1;

	store_pg_param_int(&p, id);
	if (store_pg_write(
		be, sql_withdraw, &p, &res, "withdraw instruction", err) == 0)
		rc = store_pg_changes(res) > 0;
	PQclear(res);
	return rc;
}

int
store_pg_instr_drop_pending(void *be, const char *target, struct cerr *err)
{
	static const char what[] = "drop pending instructions";
	struct store_pg *pg = be;
	struct store_pg_params p = {0};
	PGresult *res = NULL;
	int rc = -1;

	if (store_pg_tx_enter(pg, what, err) < 0)
		return -1;
	store_pg_param_text(&p, target);
	if (store_pg_query(pg, sql_target_exists, &p, &res, what, err) < 0)
		goto out;
	if (PQntuples(res) == 0) {
		cerr_set(err, CERR_NOT_FOUND, "no target '%s'", target);
		goto out;
	}
	if (store_pg_write(pg, sql_drop_open, &p, NULL, what, err) < 0 ||
	    store_pg_write(pg, sql_clear_failed, &p, NULL, what, err) < 0)
		goto out;
	rc = 0;
out:
	PQclear(res);
	return store_pg_tx_leave(pg, rc == 0, what, err);
}

int
store_pg_instr_trim(void *be, int64_t keep, struct cerr *err)
{
	struct store_pg_params p = {0};

	store_pg_param_int(&p, keep);
	return store_pg_write(be, sql_trim, &p, NULL, "trim instructions", err);
}
