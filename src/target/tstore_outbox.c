/*
 * tstore_outbox: the outbox of records for the master and the durable
 * acknowledgements of applied instructions (see tstore.h).
 */
#include "target/tstore.h"
#include "target/tstore_db.h"

#include <stdlib.h>
#include <string.h>

/* Drops the oldest records so that one more fits under max_items, and
 * adds them to *dropped. More than one goes only when max_items was
 * lowered since the records were added. */
static int
outbox_fit_count(
    struct tstore *s, int64_t max_items, int64_t *dropped, struct cerr *err)
{
	int64_t count = 0;

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
	*dropped += sqlite3_changes(s->db);
	return 0;
}

/* Reads the oldest record after seq `after` and strips it: *seq_out is 0
 * when there is none, *bare_out NULL when nothing was taken out (else
 * the caller frees it). The body is borrowed from the statement, so the
 * strip runs before the statement is reset. */
static int
outbox_strip_next(struct tstore *s, tstore_outbox_strip_cb strip, int64_t after,
    int64_t *seq_out, int64_t *size_out, char **bare_out, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_OUTBOX_AFTER];
	int step, rc = 0;

	*seq_out = 0;
	*size_out = 0;
	*bare_out = NULL;
	if (tstore_bind_check(
		st, sqlite3_bind_int64(st, 1, after), "outbox strip", err) < 0)
		return -1;
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 1);
		const char *body = (const char *)sqlite3_column_text(st, 2);

		*seq_out = sqlite3_column_int64(st, 0);
		*size_out = sqlite3_column_int64(st, 3);
		rc = strip(kind ? kind : "", body ? body : "", bare_out, err);
	} else if (step != SQLITE_DONE) {
		rc = tstore_db_fail(s, "outbox strip", err);
	}
	tstore_stmt_done(st);
	return rc;
}

/* Takes the outputs out of the oldest records not stripped yet, oldest
 * first, until *need bytes are freed or none is left; lowers *need by
 * what was freed. A record is read once: TSTORE_OUTBOX_STRIPPED moves
 * past it whether or not it had outputs to lose. One record at a time,
 * so no listing is open while a row changes. */
static int
outbox_strip_oldest(struct tstore *s, tstore_outbox_strip_cb strip,
    int64_t *need, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_OUTBOX_SET_BODY];
	int64_t upto = 0, from, seq, size, bare_size;
	char *bare = NULL;
	int rc = 0;

	if (tstore_meta_get_int(s, TSTORE_OUTBOX_STRIPPED, 0, &upto, err) < 0)
		return -1;
	from = upto;
	while (rc == 0 && *need > 0) {
		rc = outbox_strip_next(s, strip, upto, &seq, &size, &bare, err);
		if (rc < 0 || seq == 0)
			break;
		upto = seq;
		bare_size = bare != NULL ? (int64_t)strlen(bare) : size;
		if (bare_size < size) {
			rc = tstore_stmt_run(s, ST_OUTBOX_SET_BODY,
			    sqlite3_bind_int64(st, 1, seq) |
				sqlite3_bind_text(
				    st, 2, bare, -1, SQLITE_STATIC) |
				sqlite3_bind_int64(st, 3, bare_size),
			    "outbox strip", err);
			*need -= size - bare_size;
		}
		free(bare);
		bare = NULL;
	}
	if (rc == 0 && upto != from)
		rc = tstore_meta_set_int(s, TSTORE_OUTBOX_STRIPPED, upto, err);
	return rc;
}

/* Drops the oldest records whole until need bytes are freed or none is
 * left, and adds them to *dropped. */
static int
outbox_drop_oldest(
    struct tstore *s, int64_t need, int64_t *dropped, struct cerr *err)
{
	while (need > 0) {
		int64_t size = -1;

		if (tstore_stmt_int(s, ST_OUTBOX_DROP_OLDEST, SQLITE_OK, &size,
			"outbox drop oldest", err) < 0)
			return -1;
		if (size < 0)
			break; /* the outbox is empty */
		need -= size;
		(*dropped)++;
	}
	return 0;
}

/* Makes room under b->max_bytes for the new record (kind, body): the
 * oldest records' outputs first, then the oldest records whole. The new
 * record is kept whole, but whole records go only for the bytes its own
 * outputs could not have freed: while outputs could still make room, no
 * outcome is dropped for them. So the outbox goes over max_bytes by at
 * most the newest record's outputs, which a later add takes out when it
 * needs the room. */
static int
outbox_fit_bytes(struct tstore *s, const struct tstore_outbox_bounds *b,
    const char *kind, const char *body, int64_t *dropped, struct cerr *err)
{
	int64_t total = 0, size = (int64_t)strlen(body), need;
	char *bare = NULL;

	if (tstore_stmt_int(
		s, ST_OUTBOX_BYTES, SQLITE_OK, &total, "outbox add", err) < 0)
		return -1;
	need = total + size - b->max_bytes;
	if (need > 0 && b->strip != NULL &&
	    outbox_strip_oldest(s, b->strip, &need, err) < 0)
		return -1;
	if (need <= 0)
		return 0;
	if (b->strip != NULL) {
		if (b->strip(kind, body, &bare, err) < 0)
			return -1;
		if (bare != NULL && (int64_t)strlen(bare) < size)
			need -= size - (int64_t)strlen(bare);
		free(bare);
	}
	return outbox_drop_oldest(s, need, dropped, err);
}

/* Both bounds, then one count of what they dropped. */
static int
outbox_make_room(struct tstore *s, const struct tstore_outbox_bounds *b,
    const char *kind, const char *body, struct cerr *err)
{
	int64_t dropped = 0;

	if (outbox_fit_count(s, b->max_items, &dropped, err) < 0 ||
	    outbox_fit_bytes(s, b, kind, body, &dropped, err) < 0)
		return -1;
	if (dropped == 0)
		return 0;
	return tstore_stmt_run(s, ST_META_ADD,
	    sqlite3_bind_text(s->st[ST_META_ADD], 1, TSTORE_OUTBOX_DROPPED, -1,
		SQLITE_STATIC) |
		sqlite3_bind_int64(s->st[ST_META_ADD], 2, dropped),
	    "outbox count dropped", err);
}

int
tstore_outbox_add(struct tstore *s, const char *kind, const char *body,
    const struct tstore_outbox_bounds *b, int64_t now, struct cerr *err)
{
	sqlite3_stmt *st = s->st[ST_OUTBOX_ADD];
	int own, rc;

	if (tstore_name_check("outbox kind", kind, err) < 0)
		return -1;
	if (body == NULL || b == NULL || b->max_items < 1 || b->max_bytes < 1)
		return cerr_set(err, CERR_INVALID,
		    "tstore: outbox add: no body, or max_items or max_bytes "
		    "< 1");
	if (tstore_op_begin(s, &own, "outbox add", err) < 0)
		return -1;
	rc = outbox_make_room(s, b, kind, body, err);
	if (rc == 0)
		rc = tstore_stmt_run(s, ST_OUTBOX_ADD,
		    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC) |
			sqlite3_bind_text(st, 2, body, -1, SQLITE_STATIC) |
			sqlite3_bind_int64(st, 3, now) |
			sqlite3_bind_int64(st, 4, (int64_t)strlen(body)),
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
tstore_outbox_last_seq(struct tstore *s, int64_t *seq_out, struct cerr *err)
{
	*seq_out = 0;
	return tstore_stmt_int(
	    s, ST_OUTBOX_LAST, SQLITE_OK, seq_out, "outbox last seq", err);
}

int
tstore_outbox_bytes(struct tstore *s, int64_t *bytes_out, struct cerr *err)
{
	*bytes_out = 0;
	return tstore_stmt_int(
	    s, ST_OUTBOX_BYTES, SQLITE_OK, bytes_out, "outbox bytes", err);
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
