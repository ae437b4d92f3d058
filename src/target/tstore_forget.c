/*
 * tstore_forget: what a defect removes from the local store (see
 * tstore.h): everything bound to the master, nothing of the local jobs.
 */
#include "target/tstore.h"
#include "target/tstore_db.h"

int
tstore_forget_master(struct tstore *s, int64_t *outbox_left, struct cerr *err)
{
	/* Queued runs of multiserver jobs would fail at the next start, and
	 * tell a master enlisted later about a job it never posted. */
	static const char forget[] =
	    "UPDATE runs SET state = 'finished', outcome = 'canceled',"
	    " updated_at = CAST(strftime('%s', 'now') AS INTEGER)"
	    " WHERE state = 'queued' AND local = 0;"
	    "DELETE FROM jobs WHERE origin = 'master';"
	    /* Instruction ids are the master's own: a later master's START
	     * with an old run's id must be a run of its own (runs_instr),
	     * not taken for one already applied. */
	    "UPDATE runs SET instr_id = 0 WHERE instr_id > 0;"
	    "DELETE FROM acks;"
	    "DELETE FROM outbox;"
	    "DELETE FROM meta WHERE key IN ('last_instr', 'poll_interval_s',"
	    " 'defecting', '" TSTORE_OUTBOX_DROPPED "');";
	int own, rc;

	if (tstore_op_begin(s, &own, "forget the master", err) < 0)
		return -1;
	rc = tstore_stmt_int(s, ST_OUTBOX_COUNT, SQLITE_OK, outbox_left,
	    "forget the master", err);
	if (rc == 0)
		rc = tstore_db_exec(s, forget, "forget the master", err);
	return tstore_op_end(s, own, rc, "forget the master", err);
}
