/*
 * tstore_outbox: the outbox of records for the master and the durable
 * acknowledgements of applied instructions (see tstore.h).
 */
#include "target/tstore.h"
#include "target/tstore_db.h"

#include <stdlib.h>
#include <string.h>

/* Drops the oldest records so that one more fits under max_items, and
 * counts them in "outbox_dropped". More than one goes only when max_items
 * was lowered since the records were added. */
static int
outbox_make_room(struct tstore *s, int64_t max_items, struct cerr *err)
{
	int64_t count = 0, dropped;

	if (tstore_stmt_int(
		s, ST_OUTBOX_COUNT, SQLITE_OK, &count, "outbox add", err) < 0)
		return -1;
	if (count < max_items)
		return 0;
	if (tstore_stmt_run(s, ST_OUTBOX_TRIM,
		sqlite3_bind_int64(
		    s->st[ST_OUTBOX_TRIM], 1, count - max_items + 1),
		"outbox drop oldest", err) < 0)
		return -1;
	dropped = sqlite3_changes(s->db);
	return tstore_stmt_run(s, ST_META_ADD,
	    sqlite3_bind_text(s->st[ST_META_ADD], 1, TSTORE_OUTBOX_DROPPED, -1,
		SQLITE_STATIC) |
		sqlite3_bind_int64(s->st[ST_META_ADD], 2, dropped),
	    "outbox count dropped", err);
}

int
tstore_outbox_add(struct tstore *s, const char *kind, const char *body,
    int64_t max_items, int64_t now, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_OUTBOX_ADD];
	int own, rc;

	if (tstore_name_check("outbox kind", kind, err) < 0)
		return -1;
	if (body == NULL || max_items < 1)
		return cerr_set(err, CERR_INVALID,
		    "tstore: outbox add: no body or max_items < 1");
	if (tstore_op_begin(s, &own, "outbox add", err) < 0)
		return -1;
	rc = outbox_make_room(s, max_items, err);
	if (rc == 0)
		rc = tstore_stmt_run(s, ST_OUTBOX_ADD,
		    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC) |
			sqlite3_bind_text(st, 2, body, -1, SQLITE_STATIC) |
			sqlite3_bind_int64(st, 3, now),
		    "outbox add", err);
	return tstore_op_end(s, own, rc, "outbox add", err);
}

int
tstore_outbox_peek(struct tstore *s, int limit, tstore_outbox_cb cb, void *arg,
    struct cerr *err)
{
	sqlite3_stmt *st;
	int step;

	if (limit < 1)
		return cerr_set(err, CERR_INVALID,
		    "tstore: outbox peek: limit %d < 1", limit);
	st = tstore_list_start(s, ST_OUTBOX_PEEK, "outbox peek", err);
	if (st == NULL ||
	    tstore_bind_check(
		st, sqlite3_bind_int(st, 1, limit), "outbox peek", err) < 0)
		return -1;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 1);
		const char *body = (const char *)sqlite3_column_text(st, 2);

		if (cb(arg, sqlite3_column_int64(st, 0), kind ? kind : "",
			body ? body : "") != 0) {
			step = SQLITE_DONE;
			break;
		}
	}
	return tstore_list_end(s, st, step, "outbox peek", err);
}

int
tstore_outbox_delete(
    struct tstore *s, const int64_t *seqs, size_t n, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_OUTBOX_DELETE];
	int own, rc = 0;

	if (n == 0)
		return 0;
	if (seqs == NULL)
		return cerr_set(
		    err, CERR_INVALID, "tstore: outbox delete: no seqs");
	if (tstore_op_begin(s, &own, "outbox delete", err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = tstore_stmt_run(s, ST_OUTBOX_DELETE,
		    sqlite3_bind_int64(st, 1, seqs[i]), "outbox delete", err);
	return tstore_op_end(s, own, rc, "outbox delete", err);
}

int
tstore_outbox_stats(struct tstore *s, int64_t *count_out, int64_t *dropped_out,
    struct cerr *err)
{
	*count_out = 0;
	if (tstore_stmt_int(s, ST_OUTBOX_COUNT, SQLITE_OK, count_out,
		"outbox stats", err) < 0)
		return -1;
	return tstore_meta_get_int(
	    s, TSTORE_OUTBOX_DROPPED, 0, dropped_out, err);
}

int
tstore_ack_add(
    struct tstore *s, int64_t id, int ok, const char *error, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_ACK_ADD];

	if (id <= 0)
		return cerr_set(err, CERR_INVALID, "tstore: ack: bad id %lld",
		    (long long)id);
	return tstore_stmt_run(s, ST_ACK_ADD,
	    sqlite3_bind_int64(st, 1, id) | sqlite3_bind_int(st, 2, ok != 0) |
		sqlite3_bind_text(st, 3, error ? error : "", -1, SQLITE_STATIC),
	    "ack add", err);
}

int
tstore_ack_list(
    struct tstore *s, int limit, tstore_ack_cb cb, void *arg, struct cerr *err)
{
	sqlite3_stmt *st = tstore_list_start(s, ST_ACK_LIST, "ack list", err);
	int step;

	if (st == NULL)
		return -1;
	if (tstore_bind_check(
		st, sqlite3_bind_int(st, 1, limit), "ack list", err) < 0)
		return -1;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *e = sqlite3_column_text(st, 2);

		if (cb(arg, sqlite3_column_int64(st, 0),
			sqlite3_column_int(st, 1),
			e ? (const char *)e : "") != 0) {
			step = SQLITE_DONE;
			break;
		}
	}
	return tstore_list_end(s, st, step, "ack list", err);
}

int
tstore_ack_delete_upto(struct tstore *s, int64_t id, struct cerr *err)
{
	return tstore_stmt_run(s, ST_ACK_DELETE_UPTO,
	    sqlite3_bind_int64(s->st[ST_ACK_DELETE_UPTO], 1, id), "ack delete",
	    err);
}
