/*
 * tstore_sched: the scheduler's state per (job, schedule) (see tstore.h
 * and scheduler.c).
 */
#include "target/tstore.h"
#include "target/tstore_db.h"

#include <string.h>

static void
sched_row(sqlite3_stmt *st, int col, struct tstore_sched *r)
{
	r->def_hash = sqlite3_column_int64(st, col);
	r->cursor = sqlite3_column_int64(st, col + 1);
	r->paused = sqlite3_column_int(st, col + 2);
	r->miss_first = sqlite3_column_int64(st, col + 3);
	r->miss_last = sqlite3_column_int64(st, col + 4);
	r->miss_count = sqlite3_column_int64(st, col + 5);
}

static int
names_check(const char *job, const char *schedule, struct cerr *err)
{
	if (tstore_name_check("sched job", job, err) < 0 ||
	    tstore_name_check("sched schedule", schedule, err) < 0)
		return -1;
	return 0;
}

int
tstore_sched_get(struct tstore *s, const char *job, const char *schedule,
    struct tstore_sched *out, int *found_out, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_SCHED_GET];
	int step;

	memset(out, 0, sizeof(*out));
	*found_out = 0;
	if (names_check(job, schedule, err) < 0 ||
	    tstore_bind_check(st,
		sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC) |
		    sqlite3_bind_text(st, 2, schedule, -1, SQLITE_STATIC),
		"sched get", err) < 0)
		return -1;
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		sched_row(st, 0, out);
		*found_out = 1;
	} else if (step != SQLITE_DONE) {
		tstore_db_fail(s, "sched get", err);
	}
	tstore_stmt_done(st);
	return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : -1;
}

int
tstore_sched_put(struct tstore *s, const char *job, const char *schedule,
    const struct tstore_sched *r, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_SCHED_PUT];

	if (names_check(job, schedule, err) < 0)
		return -1;
	return tstore_stmt_run(s, ST_SCHED_PUT,
	    sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC) |
		sqlite3_bind_text(st, 2, schedule, -1, SQLITE_STATIC) |
		sqlite3_bind_int64(st, 3, r->def_hash) |
		sqlite3_bind_int64(st, 4, r->cursor) |
		sqlite3_bind_int(st, 5, r->paused) |
		sqlite3_bind_int64(st, 6, r->miss_first) |
		sqlite3_bind_int64(st, 7, r->miss_last) |
		sqlite3_bind_int64(st, 8, r->miss_count),
	    "sched put", err);
}

int
tstore_sched_list(
    struct tstore *s, tstore_sched_cb cb, void *arg, struct cerr *err)
{
	sqlite3_stmt *st =
	    tstore_list_start(s, ST_SCHED_LIST, "sched list", err);
	struct tstore_sched r;
	int step;

	if (st == NULL)
		return -1;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *job = (const char *)sqlite3_column_text(st, 0);
		const char *sched = (const char *)sqlite3_column_text(st, 1);

		sched_row(st, 2, &r);
		if (cb(arg, job != NULL ? job : "", sched != NULL ? sched : "",
			&r) != 0) {
			step = SQLITE_DONE;
			break;
		}
	}
	return tstore_list_end(s, st, step, "sched list", err);
}

int
tstore_sched_delete(
    struct tstore *s, const char *job, const char *schedule, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_SCHED_DELETE];

	if (names_check(job, schedule, err) < 0)
		return -1;
	return tstore_stmt_run(s, ST_SCHED_DELETE,
	    sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC) |
		sqlite3_bind_text(st, 2, schedule, -1, SQLITE_STATIC),
	    "sched delete", err);
}
