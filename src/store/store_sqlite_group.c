/*
 * store_sqlite_group: target groups in the SQLite backend (see store.h).
 * Memberships go with their group or their target (ON DELETE CASCADE).
 */
#include "store/store_sqlite.h"

static const char sql_create[] =
    "INSERT INTO target_groups(name, created_at) VALUES (?1, ?2) "
    "ON CONFLICT(name) DO NOTHING";
static const char sql_delete[] = "DELETE FROM target_groups WHERE name = ?1";
static const char sql_exists[] = "SELECT 1 FROM target_groups WHERE name = ?1";
static const char sql_target_exists[] = "SELECT 1 FROM targets WHERE name = ?1";
static const char sql_add[] = "INSERT INTO group_members(grp, target) "
			      "VALUES (?1, ?2) ON CONFLICT DO NOTHING";
static const char sql_remove[] =
    "DELETE FROM group_members WHERE grp = ?1 AND target = ?2";
static const char sql_list[] =
    "SELECT name FROM target_groups WHERE ?1 = ?1 ORDER BY name";
static const char sql_members[] =
    "SELECT target FROM group_members WHERE grp = ?1 ORDER BY target";

/* Runs a one-key write; *changes_out gets the rows it changed. */
static int
write_keyed(struct store_sqlite *sq, const char *sql, const char *a,
    const char *b, int64_t n, int *changes_out, const char *what,
    struct cerr *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (store_sqlite_stmt(sq, sql, &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (b != NULL)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	else if (n >= 0)
		sqlite3_bind_int64(st, 2, n);
	if (store_sqlite_exec(sq, st, what, err) < 0)
		goto out;
	*changes_out = sqlite3_changes(sq->db);
	rc = 0;
out:
	store_sqlite_done(sq, st);
	return rc;
}

static int
seen_cb(void *arg, const char *name)
{
	*(int *)arg = 1;
	return 1;
}

static int
exists(struct store_sqlite *sq, const char *sql, const char *key, int *found,
    const char *what, struct cerr *err)
{
	*found = 0;
	return store_sqlite_list_names(sq, sql, key, seen_cb, found, what, err);
}

int
store_sqlite_group_create(
    void *be, const char *name, int64_t now, struct cerr *err)
{
	int changed = 0;

	if (write_keyed(be, sql_create, name, NULL, now, &changed,
		"create group", err) < 0)
		return -1;
	if (changed == 0)
		return cerr_set(err, CERR_CONFLICT, "group '%s' exists", name);
	return 0;
}

int
store_sqlite_group_delete(void *be, const char *name, struct cerr *err)
{
	int changed = 0;

	if (write_keyed(be, sql_delete, name, NULL, -1, &changed,
		"delete group", err) < 0)
		return -1;
	if (changed == 0)
		return cerr_set(err, CERR_NOT_FOUND, "no group '%s'", name);
	return 0;
}

int
store_sqlite_group_add(void *be, const char *group, const char *target,
    int *added_out, struct cerr *err)
{
	struct store_sqlite *sq = be;
	int found = 0, rc = -1;

	if (store_sqlite_tx_enter(sq, "add to group", err) < 0)
		return -1;
	if (exists(sq, sql_exists, group, &found, "add to group", err) < 0)
		goto out;
	if (!found) {
		cerr_set(err, CERR_NOT_FOUND, "no group '%s'", group);
		goto out;
	}
	if (exists(sq, sql_target_exists, target, &found, "add to group", err) <
	    0)
		goto out;
	if (!found) {
		cerr_set(err, CERR_NOT_FOUND, "no target '%s'", target);
		goto out;
	}
	rc = write_keyed(
	    sq, sql_add, group, target, -1, added_out, "add to group", err);
out:
	return store_sqlite_tx_leave(sq, rc == 0, "add to group", err);
}

int
store_sqlite_group_remove(
    void *be, const char *group, const char *target, struct cerr *err)
{
	int changed = 0, found = 0;

	if (write_keyed(be, sql_remove, group, target, -1, &changed,
		"remove from group", err) < 0)
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
store_sqlite_group_list(void *be, store_name_cb cb, void *arg, struct cerr *err)
{
	return store_sqlite_list_names(
	    be, sql_list, "", cb, arg, "list groups", err);
}

int
store_sqlite_group_members(
    void *be, const char *group, store_name_cb cb, void *arg, struct cerr *err)
{
	struct store_sqlite *sq = be;
	int found = 0;

	if (exists(sq, sql_exists, group, &found, "list group members", err) <
	    0)
		return -1;
	if (!found)
		return cerr_set(err, CERR_NOT_FOUND, "no group '%s'", group);
	return store_sqlite_list_names(
	    sq, sql_members, group, cb, arg, "list group members", err);
}
