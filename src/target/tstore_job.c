/*
 * tstore_job: the target's jobs (from the master and local ones) and the
 * run ledger (see tstore.h).
 */
#include "target/tstore.h"
#include "target/tstore_db.h"

#include <stdlib.h>
#include <string.h>

static const char *const origin_names[] = {
    [ORIGIN_MASTER] = "master", [ORIGIN_LOCAL] = "local"};
static const char *const state_names[] = {[TRUN_QUEUED] = "queued",
    [TRUN_RUNNING] = "running",
    [TRUN_FINISHED] = "finished"};

static int
origin_parse(const char *name, enum job_origin *out)
{
	for (int i = ORIGIN_MASTER; i <= ORIGIN_LOCAL; i++)
		if (name != NULL && strcmp(origin_names[i], name) == 0) {
			*out = (enum job_origin)i;
			return 0;
		}
	return -1;
}

static int
origin_check(enum job_origin origin, struct cerr *err)
{
	if (origin != ORIGIN_MASTER && origin != ORIGIN_LOCAL)
		return cerr_set(err, CERR_INVALID, "tstore: bad job origin %d",
		    (int)origin);
	return 0;
}

int
tstore_job_put(struct tstore *s, const char *name, enum job_origin origin,
    const char *doc, int64_t now, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_JOB_PUT];

	if (tstore_name_check("job name", name, err) < 0 ||
	    origin_check(origin, err) < 0)
		return -1;
	if (doc == NULL)
		return cerr_set(
		    err, CERR_INVALID, "tstore: job %s: no document", name);
	if (tstore_stmt_run(s, ST_JOB_PUT,
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) |
		    sqlite3_bind_text(
			st, 2, origin_names[origin], -1, SQLITE_STATIC) |
		    sqlite3_bind_text(st, 3, doc, -1, SQLITE_STATIC) |
		    sqlite3_bind_int64(st, 4, now),
		"job put", err) < 0)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return cerr_set(err, CERR_CONFLICT,
		    "tstore: job %s exists already as a %s job", name,
		    origin_names[origin == ORIGIN_MASTER ? ORIGIN_LOCAL
							 : ORIGIN_MASTER]);
	return 0;
}

int
tstore_job_get(struct tstore *s, const char *name, char **doc_out,
    enum job_origin *origin_out, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_JOB_GET];
	enum job_origin origin = ORIGIN_MASTER;
	const char *origin_name, *doc;
	int step;

	*doc_out = NULL;
	if (tstore_name_check("job name", name, err) < 0 ||
	    tstore_bind_check(st,
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC), "job get",
		err) < 0)
		return -1;
	step = sqlite3_step(st);
	if (step == SQLITE_DONE)
		cerr_set(
		    err, CERR_NOT_FOUND, "tstore: job %s: not found", name);
	else if (step != SQLITE_ROW)
		tstore_db_fail(s, "job get", err);
	if (step != SQLITE_ROW)
		goto out;
	origin_name = (const char *)sqlite3_column_text(st, 0);
	doc = (const char *)sqlite3_column_text(st, 1);
	if (doc == NULL || origin_parse(origin_name, &origin) < 0) {
		cerr_set(err, CERR_STORE, "tstore: job %s: bad row", name);
		goto out;
	}
	*doc_out = strdup(doc);
	if (*doc_out == NULL)
		cerr_set(err, CERR_INTERNAL, "tstore: job get: out of memory");
	else if (origin_out != NULL)
		*origin_out = origin;
out:
	tstore_stmt_done(st);
	return *doc_out != NULL ? 0 : -1;
}

int
tstore_job_delete(struct tstore *s, const char *name, enum job_origin origin,
    int *deleted_out, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_JOB_DELETE];

	if (deleted_out != NULL)
		*deleted_out = 0;
	if (tstore_name_check("job name", name, err) < 0 ||
	    origin_check(origin, err) < 0)
		return -1;
	if (tstore_stmt_run(s, ST_JOB_DELETE,
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) |
		    sqlite3_bind_text(
			st, 2, origin_names[origin], -1, SQLITE_STATIC),
		"job delete", err) < 0)
		return -1;
	if (deleted_out != NULL)
		*deleted_out = sqlite3_changes(s->db) > 0;
	return 0;
}

int
tstore_job_delete_origin(
    struct tstore *s, enum job_origin origin, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_JOB_DELETE_ORIGIN];

	if (origin_check(origin, err) < 0)
		return -1;
	return tstore_stmt_run(s, ST_JOB_DELETE_ORIGIN,
	    sqlite3_bind_text(st, 1, origin_names[origin], -1, SQLITE_STATIC),
	    "job delete all", err);
}

int
tstore_job_list(struct tstore *s, tstore_job_cb cb, void *arg, struct cerr *err)
{
	sqlite3_stmt *st = tstore_list_start(s, ST_JOB_LIST, "job list", err);
	enum job_origin origin;
	int step;

	if (st == NULL)
		return -1;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *doc = (const char *)sqlite3_column_text(st, 2);

		if (name == NULL || doc == NULL ||
		    origin_parse(
			(const char *)sqlite3_column_text(st, 1), &origin) < 0)
			continue; /* cannot happen: NOT NULL and CHECK */
		if (cb(arg, name, origin, doc) != 0) {
			step = SQLITE_DONE;
			break;
		}
	}
	return tstore_list_end(s, st, step, "job list", err);
}

/* With neither instr_id nor due_at (a local manual start) there is
 * nothing to deduplicate by: every call adds a run. When the insert is
 * refused by a unique index, the run holding the key is looked up. */
int
tstore_run_add(struct tstore *s, const char *job, int local, int64_t instr_id,
    int64_t due_at, int64_t now, int64_t *run_id_out, int *existed_out,
    struct cerr *err)
{
	sqlite3_stmt *add = s->st[ST_RUN_ADD];
	sqlite3_stmt *by_instr = s->st[ST_RUN_BY_INSTR];
	sqlite3_stmt *by_due = s->st[ST_RUN_BY_DUE];

	*run_id_out = 0;
	*existed_out = 0;
	if (tstore_name_check("run job", job, err) < 0)
		return -1;
	if (instr_id < 0 || due_at < 0)
		return cerr_set(err, CERR_INVALID,
		    "tstore: run of %s: negative instruction id or due time",
		    job);
	if (tstore_stmt_run(s, ST_RUN_ADD,
		sqlite3_bind_text(add, 1, job, -1, SQLITE_STATIC) |
		    sqlite3_bind_int64(add, 2, instr_id) |
		    sqlite3_bind_int64(add, 3, due_at) |
		    sqlite3_bind_int64(add, 4, now) |
		    sqlite3_bind_int(add, 5, local != 0),
		"run add", err) < 0)
		return -1;
	if (sqlite3_changes(s->db) > 0) {
		*run_id_out = sqlite3_last_insert_rowid(s->db);
		return 0;
	}
	if (instr_id > 0 &&
	    tstore_stmt_int(s, ST_RUN_BY_INSTR,
		sqlite3_bind_int64(by_instr, 1, instr_id), run_id_out,
		"run add", err) < 0)
		return -1;
	if (*run_id_out == 0 && due_at > 0 &&
	    tstore_stmt_int(s, ST_RUN_BY_DUE,
		sqlite3_bind_text(by_due, 1, job, -1, SQLITE_STATIC) |
		    sqlite3_bind_int64(by_due, 2, due_at),
		run_id_out, "run add", err) < 0)
		return -1;
	if (*run_id_out == 0)
		return cerr_set(err, CERR_STORE,
		    "tstore: run add %s: refused, yet no run holds its keys",
		    job);
	*existed_out = 1;
	return 0;
}

static int
state_check(enum trun_state state, struct cerr *err)
{
	if ((int)state < TRUN_QUEUED || state > TRUN_FINISHED)
		return cerr_set(
		    err, CERR_INVALID, "tstore: bad run state %d", (int)state);
	return 0;
}

int
tstore_run_set_state(struct tstore *s, int64_t run_id, enum trun_state state,
    const char *outcome, int64_t now, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_RUN_SET_STATE];

	if (state_check(state, err) < 0)
		return -1;
	if (tstore_stmt_run(s, ST_RUN_SET_STATE,
		sqlite3_bind_int64(st, 1, run_id) |
		    sqlite3_bind_text(
			st, 2, state_names[state], -1, SQLITE_STATIC) |
		    sqlite3_bind_text(st, 3, outcome != NULL ? outcome : "", -1,
			SQLITE_STATIC) |
		    sqlite3_bind_int64(st, 4, now),
		"run set state", err) < 0)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return cerr_set(err, CERR_NOT_FOUND,
		    "tstore: run %lld: not found", (long long)run_id);
	return 0;
}

int
tstore_run_list_after(struct tstore *s, enum trun_state state,
    int64_t after_run_id, tstore_run_cb cb, void *arg, struct cerr *err)
{
	sqlite3_stmt *st;
	int step;

	if (state_check(state, err) < 0)
		return -1;
	st = tstore_list_start(s, ST_RUN_LIST_STATE, "run list", err);
	if (st == NULL ||
	    tstore_bind_check(st,
		sqlite3_bind_text(
		    st, 1, state_names[state], -1, SQLITE_STATIC) |
		    sqlite3_bind_int64(st, 2, after_run_id),
		"run list", err) < 0)
		return -1;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *job = (const char *)sqlite3_column_text(st, 1);
		struct tstore_run row = {sqlite3_column_int64(st, 0),
		    job != NULL ? job : "", sqlite3_column_int(st, 5) != 0,
		    sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3),
		    sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 6)};

		if (cb(arg, &row) != 0) {
			step = SQLITE_DONE;
			break;
		}
	}
	return tstore_list_end(s, st, step, "run list", err);
}

int
tstore_run_list_state(struct tstore *s, enum trun_state state, tstore_run_cb cb,
    void *arg, struct cerr *err)
{
	return tstore_run_list_after(s, state, 0, cb, arg, err);
}

int
tstore_run_active(
    struct tstore *s, const char *job, int64_t *run_id_out, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_RUN_ACTIVE];

	*run_id_out = 0;
	if (tstore_name_check("run job", job, err) < 0)
		return -1;
	return tstore_stmt_int(s, ST_RUN_ACTIVE,
	    sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC), run_id_out,
	    "run active", err);
}

int
tstore_run_by_due(struct tstore *s, const char *job, int64_t due_at,
    int64_t *run_id_out, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_RUN_BY_DUE];

	*run_id_out = 0;
	if (tstore_name_check("run job", job, err) < 0)
		return -1;
	return tstore_stmt_int(s, ST_RUN_BY_DUE,
	    sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC) |
		sqlite3_bind_int64(st, 2, due_at),
	    run_id_out, "run by due", err);
}

int
tstore_run_count_active(
    struct tstore *s, const char *job, int64_t *count_out, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_RUN_COUNT_ACTIVE];

	*count_out = 0;
	if (tstore_name_check("run job", job, err) < 0)
		return -1;
	return tstore_stmt_int(s, ST_RUN_COUNT_ACTIVE,
	    sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC), count_out,
	    "run count", err);
}

int
tstore_run_prune(struct tstore *s, int64_t finished_before, struct cerr *err)
{
	return tstore_stmt_run(s, ST_RUN_PRUNE,
	    sqlite3_bind_int64(s->st[ST_RUN_PRUNE], 1, finished_before),
	    "run prune", err);
}

int
tstore_run_set_pgid(struct tstore *s, int64_t run_id, int64_t pgid,
    int64_t start_ticks, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_RUN_SET_PGID];

	if (tstore_stmt_run(s, ST_RUN_SET_PGID,
		sqlite3_bind_int64(st, 1, run_id) |
		    sqlite3_bind_int64(st, 2, pgid) |
		    sqlite3_bind_int64(st, 3, start_ticks),
		"run set pgid", err) < 0)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return cerr_set(err, CERR_NOT_FOUND,
		    "tstore: run %lld: not found", (long long)run_id);
	return 0;
}

int
tstore_run_get_pgid(struct tstore *s, int64_t run_id, int64_t *pgid_out,
    int64_t *start_ticks_out, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_RUN_GET_PGID];
	int step;

	*pgid_out = 0;
	*start_ticks_out = 0;
	if (tstore_bind_check(
		st, sqlite3_bind_int64(st, 1, run_id), "run get pgid", err) < 0)
		return -1;
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		*pgid_out = sqlite3_column_int64(st, 0);
		*start_ticks_out = sqlite3_column_int64(st, 1);
	} else if (step == SQLITE_DONE) {
		cerr_set(err, CERR_NOT_FOUND, "tstore: run %lld: not found",
		    (long long)run_id);
	} else {
		tstore_db_fail(s, "run get pgid", err);
	}
	tstore_stmt_done(st);
	return step == SQLITE_ROW ? 0 : -1;
}
