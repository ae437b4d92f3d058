/*
 * store_pg_target: the targets table on PostgreSQL (the counterpart of
 * store_sqlite_target.c). A listing also counts each target's unread and
 * failed instructions in the same query (correlated counts over the
 * instructions index), so listing a thousand targets is one statement.
 */
#include "store/store_pg.h"

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
    "SELECT " TARGET_COLS " FROM targets t WHERE t.name = $1";
static const char sql_list[] =
    "SELECT " TARGET_COLS " FROM targets t ORDER BY t.name";
static const char sql_state[] = "SELECT defected FROM targets WHERE name = $1";
static const char sql_insert[] =
    "INSERT INTO targets (name, location, version, cert_serial,"
    " enlisted_at, last_poll, local_time, tz_offset_s, poll_interval_s,"
    " defected) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
static const char sql_polled[] =
    "UPDATE targets SET last_poll = $2, local_time = $3, tz_offset_s = $4,"
    " poll_interval_s = $5, version = coalesce($6, version),"
    " outbox_dropped = $7"
    " WHERE name = $1";
static const char sql_defected[] =
    "UPDATE targets SET defected = 1, defected_at = $2 WHERE name = $1";
/* As in store_sqlite_target.c: a defected target leaves aims and groups. */
static const char sql_leave_aims[] =
    "DELETE FROM job_targets WHERE target = $1";
static const char sql_leave_groups[] =
    "DELETE FROM group_members WHERE target = $1";
static const char sql_location[] =
    "UPDATE targets SET location = $2 WHERE name = $1";
/* The schema's ON DELETE CASCADE takes the target's instructions, job
 * aims and group memberships with the row, in this one statement. */
static const char sql_delete[] = "DELETE FROM targets WHERE name = $1";

static void
target_row(const PGresult *res, int row, struct store_target *t)
{
	store_pg_copy(res, row, 0, t->name, sizeof(t->name));
	store_pg_copy(res, row, 1, t->location, sizeof(t->location));
	store_pg_copy(res, row, 2, t->version, sizeof(t->version));
	store_pg_copy(res, row, 3, t->cert_serial, sizeof(t->cert_serial));
	t->enlisted_at = store_pg_int(res, row, 4);
	t->last_poll = store_pg_int(res, row, 5);
	t->local_time = store_pg_int(res, row, 6);
	t->tz_offset_s = (int32_t)store_pg_int(res, row, 7);
	t->poll_interval_s = (int32_t)store_pg_int(res, row, 8);
	t->defected = (int)store_pg_int(res, row, 9);
	t->unread = store_pg_int(res, row, 10);
	t->failed = store_pg_int(res, row, 11);
	t->outbox_dropped = store_pg_int(res, row, 12);
}

/* Runs an UPDATE/DELETE of one target by name ($1 in p);
 * CERR_NOT_FOUND when no row matched. */
static int
change_target(struct store_pg *pg, const char *sql,
    const struct store_pg_params *p, const char *name, const char *what,
    struct cerr *err)
{
	PGresult *res = NULL;
	int64_t changed;

	if (store_pg_write(pg, sql, p, &res, what, err) < 0)
		return -1;
	changed = store_pg_changes(res);
	PQclear(res);
	if (changed == 0)
		return cerr_set(err, CERR_NOT_FOUND, "no target '%s'", name);
	return 0;
}

/* *state: -1 absent, 0 enlisted, 1 defected. */
static int
target_state(
    struct store_pg *pg, const char *name, int *state, struct cerr *err)
{
	struct store_pg_params p = {0};
	PGresult *res = NULL;

	store_pg_param_text(&p, name);
	if (store_pg_query(pg, sql_state, &p, &res, "add target", err) < 0)
		return -1;
	*state = PQntuples(res) == 0 ? -1 : store_pg_int(res, 0, 0) != 0;
	PQclear(res);
	return 0;
}

static int
insert_target(
    struct store_pg *pg, const struct store_target *t, struct cerr *err)
{
	struct store_pg_params p = {0};

	store_pg_param_text(&p, t->name);
	store_pg_param_text(&p, t->location);
	store_pg_param_text(&p, t->version);
	store_pg_param_text(&p, t->cert_serial);
	store_pg_param_int(&p, t->enlisted_at);
	store_pg_param_int(&p, t->last_poll);
	store_pg_param_int(&p, t->local_time);
	store_pg_param_int(&p, t->tz_offset_s);
	store_pg_param_int(&p, t->poll_interval_s);
	store_pg_param_int(&p, t->defected != 0);
	return store_pg_write(pg, sql_insert, &p, NULL, "add target", err);
}

/* Enlisting again after a defect starts from a clean row: the old row
 * goes with its instructions, aims and memberships (the cascade). */
int
store_pg_target_add(void *be, const struct store_target *t, struct cerr *err)
{
	struct store_pg *pg = be;
	struct store_pg_params p = {0};
	int rc = -1, state = -1;

	if (store_pg_tx_enter(pg, "add target", err) < 0)
		return -1;
	if (target_state(pg, t->name, &state, err) < 0)
		goto out;
	if (state == 0) {
		cerr_set(err, CERR_CONFLICT, "target '%s' is already enlisted",
		    t->name);
		goto out;
	}
	store_pg_param_text(&p, t->name);
	if (state == 1 &&
	    store_pg_write(pg, sql_delete, &p, NULL, "add target", err) < 0)
		goto out;
	rc = insert_target(pg, t, err);
out:
	return store_pg_tx_leave(pg, rc == 0, "add target", err);
}

int
store_pg_target_get(
    void *be, const char *name, struct store_target *out, struct cerr *err)
{
	struct store_pg *pg = be;
	struct store_pg_params p = {0};
	PGresult *res = NULL;
	int rc = -1;

	store_pg_param_text(&p, name);
	if (store_pg_query(pg, sql_get, &p, &res, "get target", err) < 0)
		goto out;
	if (PQntuples(res) == 0) {
		cerr_set(err, CERR_NOT_FOUND, "no target '%s'", name);
		goto out;
	}
	target_row(res, 0, out);
	rc = 0;
out:
	PQclear(res);
	return rc;
}

int
store_pg_target_list(void *be, store_target_cb cb, void *arg, struct cerr *err)
{
	struct store_pg *pg = be;
	struct store_target t;
	PGresult *res = NULL;

	if (store_pg_query(pg, sql_list, NULL, &res, "list targets", err) < 0)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		target_row(res, i, &t);
		if (cb(arg, &t) != 0)
			break;
	}
	PQclear(res);
	return 0;
}

int
store_pg_target_polled(
    void *be, const char *name, const struct store_poll *p, struct cerr *err)
{
	struct store_pg_params q = {0};

	store_pg_param_text(&q, name);
	store_pg_param_int(&q, p->now);
	store_pg_param_int(&q, p->local_time);
	store_pg_param_int(&q, p->tz_offset_s);
	store_pg_param_int(&q, p->poll_interval_s);
	store_pg_param_text(&q, p->version); /* NULL keeps the version */
	store_pg_param_int(&q, p->outbox_dropped);
	return change_target(be, sql_polled, &q, name, "record poll", err);
}

int
store_pg_target_set_defected(
    void *be, const char *name, int64_t now, struct cerr *err)
{
	static const char what[] = "defect target";
	struct store_pg_params p = {0}, only_name = {0};
	int rc = -1;

	if (store_pg_tx_enter(be, what, err) < 0)
		return -1;
	store_pg_param_text(&p, name);
	store_pg_param_int(&p, now);
	store_pg_param_text(&only_name, name);
	if (change_target(be, sql_defected, &p, name, what, err) == 0 &&
	    store_pg_write(be, sql_leave_aims, &only_name, NULL, what, err) ==
		0 &&
	    store_pg_write(be, sql_leave_groups, &only_name, NULL, what, err) ==
		0)
		rc = 0;
	return store_pg_tx_leave(be, rc == 0, what, err);
}

int
store_pg_target_set_location(
    void *be, const char *name, const char *location, struct cerr *err)
{
	struct store_pg_params p = {0};

	store_pg_param_text(&p, name);
	store_pg_param_text(&p, location);
	return change_target(be, sql_location, &p, name, "set location", err);
}

int
store_pg_target_delete(void *be, const char *name, struct cerr *err)
{
	struct store_pg_params p = {0};

	store_pg_param_text(&p, name);
	return change_target(be, sql_delete, &p, name, "delete target", err);
}
