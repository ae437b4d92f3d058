/*
 * tstore_db: what the tstore files share and nothing else includes: the
 * store's handle, its prepared statements and the helpers that run them
 * (see tstore.c for the rules they follow). Not part of the interface.
 */
#ifndef COHORT_TSTORE_DB_H
#define COHORT_TSTORE_DB_H

#include <sqlite3.h>

#include "common/cerr.h"

#define TSTORE_OUTBOX_DROPPED "outbox_dropped"
/* Outbox records with a seq up to this one have had their outputs taken
 * out for outbox_max_bytes, or had none worth taking: the byte bound
 * never reads them again. Seqs are never reused, so it only grows. */
#define TSTORE_OUTBOX_STRIPPED "outbox_stripped_upto"

enum stmt_id {
	ST_META_GET,
	ST_META_SET,
	ST_META_ADD,
	ST_JOB_PUT,
	ST_JOB_GET,
	ST_JOB_DELETE,
	ST_JOB_DELETE_ORIGIN,
	ST_JOB_LIST,
	ST_RUN_ADD,
	ST_RUN_BY_INSTR,
	ST_RUN_BY_DUE,
	ST_RUN_SET_STATE,
	ST_RUN_LIST_STATE,
	ST_RUN_ACTIVE,
	ST_OUTBOX_COUNT,
	ST_OUTBOX_TRIM,
	ST_OUTBOX_ADD,
	ST_OUTBOX_PEEK,
	ST_OUTBOX_DELETE,
	ST_OUTBOX_BYTES,
	ST_OUTBOX_LAST,
	ST_OUTBOX_AFTER,
	ST_OUTBOX_SET_BODY,
	ST_OUTBOX_DROP_OLDEST,
	ST_ACK_ADD,
	ST_ACK_LIST,
	ST_ACK_DELETE_UPTO,
	ST_RUN_PRUNE,
	ST_RUN_SET_PGID,
	ST_RUN_GET_PGID,
	ST_RUN_SET_STARTED,
	ST_STEP_PUT,
	ST_STEP_LIST,
	ST_STEP_DELETE,
	ST_RUN_COUNT_ACTIVE,
	ST_SCHED_GET,
	ST_SCHED_PUT,
	ST_SCHED_LIST,
	ST_SCHED_DELETE,
	ST_HIST_ADD,
	ST_HIST_LIST,
	ST_HIST_LIST_JOB,
	ST_HIST_TRIM_JOB,
	ST_HIST_TRIM,
	ST_COUNT
};

struct tstore {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	int unsynced; /* synchronous is NORMAL for the open transaction */
};

/* The helpers of tstore.c; each reports "tstore: <op>: ..." in err. */
int tstore_db_fail(struct tstore *s, const char *op, struct cerr *err);
int tstore_db_exec(
    struct tstore *s, const char *sql, const char *op, struct cerr *err);
void tstore_stmt_done(sqlite3_stmt *st);
int tstore_bind_check(
    sqlite3_stmt *st, int bind_rc, const char *op, struct cerr *err);
int tstore_stmt_run(struct tstore *s, enum stmt_id id, int bind_rc,
    const char *op, struct cerr *err);
int tstore_stmt_int(struct tstore *s, enum stmt_id id, int bind_rc,
    int64_t *out, const char *op, struct cerr *err);
sqlite3_stmt *tstore_list_start(
    struct tstore *s, enum stmt_id id, const char *op, struct cerr *err);
int tstore_list_end(struct tstore *s, sqlite3_stmt *st, int step,
    const char *op, struct cerr *err);
int tstore_op_begin(
    struct tstore *s, int *own_out, const char *op, struct cerr *err);
int tstore_op_end(
    struct tstore *s, int own, int rc, const char *op, struct cerr *err);
int tstore_name_check(const char *what, const char *name, struct cerr *err);

#endif
