/*
 * store_pg_group: target groups in the PostgreSQL backend (see store.h);
 * statement for statement the SQLite backend's store_sqlite_group.c.
 */
#include "store/store_pg.h"

static const char sql_create[] =
    "INSERT INTO target_groups(name, created_at) VALUES ($1, $2) "
    "ON CONFLICT (name) DO NOTHING";
static const char sql_delete[] = "DELETE FROM target_groups WHERE name = $1";
static const char sql_exists[] = "SELECT 1 FROM target_groups WHERE name = $1";
static const char sql_target_exists[] = "SELECT 1 FROM targets WHERE name = $1";
static const char sql_add[] = "INSERT INTO group_members(grp, target) "
			      "VALUES ($1, $2) ON CONFLICT DO NOTHING";
static const char sql_remove[] =
    "DELETE FROM group_members WHERE grp = $1 AND target = $2";
static const char sql_list[] =
    "SELECT name FROM target_groups WHERE $1::text = $1 ORDER BY name";
static const char sql_members[] =
    "SELECT target FROM group_members WHERE grp = $1 ORDER BY target";

static int
write_rows(struct store_pg *pg, const char *sql, struct store_pg_params *p,
    int64_t *changes, const char *what, struct cerr *err)
{
	PGresult *res = NULL;

	if (store_pg_write(pg, sql, p, &res, what, err) < 0)
		return -1;
	*changes = store_pg_changes(res);
	PQclear(res);
	return 0;
}

static int
seen_cb(void *arg, const char *name)
{
	*(int *)arg = 1;
	return 1;
}

static int
exists(struct store_pg *pg, const char *sql, const char *key, int *found,
    const char *what, struct cerr *err)
{
	*found = 0;
	return store_pg_list_names(pg, sql, key, seen_cb, found, what, err);
}

int
store_pg_group_create(void *be, const char *name, int64_t now, struct cerr *err)
{
	struct store_pg_params p = {0};
	int64_t changed = 0;

	store_pg_param_text(&p, name);
	store_pg_param_int(&p, now);
	if (write_rows(be, sql_create, &p, &changed, "create group", err) < 0)
		return -1;
	if (changed == 0)
		return cerr_set(err, CERR_CONFLICT, "group '%s' exists", name);
	return 0;
}

int
store_pg_group_delete(void *be, const char *name, struct cerr *err)
{
	struct store_pg_params p = {0};
	int64_t changed = 0;

	store_pg_param_text(&p, name);
	if (write_rows(be, sql_delete, &p, &changed, "delete group", err) < 0)
		return -1;
	if (changed == 0)
		return cerr_set(err, CERR_NOT_FOUND, "no group '%s'", name);
	return 0;
}

int
store_pg_group_add(void *be, const char *group, const char *target,
    int *added_out, struct cerr *err)
{
	struct store_pg *pg = be;
	struct store_pg_params p = {0};
	int64_t changed = 0;
	int found = 0, rc = -1;

	if (store_pg_tx_enter(pg, "add to group", err) < 0)
		return -1;
	if (exists(pg, sql_exists, group, &found, "add to group", err) < 0)
		goto out;
	if (!found) {
		cerr_set(err, CERR_NOT_FOUND, "no group '%s'", group);
		goto out;
	}
	if (exists(pg, sql_target_exists, target, &found, "add to group", err) <
	    0)
		goto out;
	if (!found) {
		cerr_set(err, CERR_NOT_FOUND, "no target '%s'", target);
		goto out;
	}
	store_pg_param_text(&p, group);
	store_pg_param_text(&p, target);
	if (write_rows(pg, sql_add, &p, &changed, "add to group", err) < 0)
		goto out;
	*added_out = changed > 0;
	rc = 0;
out:
	return store_pg_tx_leave(pg, rc == 0, "add to group", err);
}

int
store_pg_group_remove(
    void *be, const char *group, const char *target, struct cerr *err)
{
	struct store_pg_params p = {0};
	int64_t changed = 0;
	int found = 0;

	store_pg_param_text(&p, group);
	store_pg_param_text(&p, target);
	if (write_rows(be, sql_remove, &p, &changed, "remove from group", err) <
	    0)
		return -1;
	if (changed > 0)
		return 0;
	if (exists(be, sql_exists, group, &found, "remove from group", err) < 0)
		return -1;
	if (!found)
		return cerr_set(err, CERR_NOT_FOUND, "no group '%s'", group);
	return cerr_set(err, CERR_NOT_FOUND,
	    "target '%s' is not in "
	    "group '%s'",
	    target, group);
}

int
store_pg_group_list(void *be, store_name_cb cb, void *arg, struct cerr *err)
{
	return store_pg_list_names(
	    be, sql_list, "", cb, arg, "list groups", err);
}

int
store_pg_group_members(
    void *be, const char *group, store_name_cb cb, void *arg, struct cerr *err)
{
	int found = 0;

	if (exists(be, sql_exists, group, &found, "list group members", err) <
	    0)
		return -1;
	if (!found)
		return cerr_set(err, CERR_NOT_FOUND, "no group '%s'", group);
	return store_pg_list_names(
	    be, sql_members, group, cb, arg, "list group members", err);
}
