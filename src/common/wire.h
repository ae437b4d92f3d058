/*
 * wire: the enumerations both sides speak (download-list operations and
 * statuses, run outcomes) and their stable names, which appear in the API,
 * the stores and the documentation. A name never changes once released.
 */
#ifndef COHORT_WIRE_H
#define COHORT_WIRE_H

enum instr_op {
	INSTR_INSERT,
	INSTR_UPDATE,
	INSTR_DELETE,
	INSTR_START,
	INSTR_STOP,
	INSTR_RESYNC,
	INSTR_SET_POLL_INTERVAL,
	INSTR_DEFECT,
	INSTR_OP_COUNT
};

enum instr_status {
	INSTR_PENDING,
	INSTR_DOWNLOADED,
	INSTR_APPLIED,
	INSTR_FAILED,
	INSTR_STATUS_COUNT
};

enum run_outcome {
	OUTCOME_RUNNING,
	OUTCOME_SUCCEEDED,
	OUTCOME_FAILED,
	OUTCOME_RETRYING,
	OUTCOME_CANCELED,
	OUTCOME_INTERRUPTED,
	/* appended: a due instant that did not run (a record with a reason,
	 * never a step row) */
	OUTCOME_MISSED,
	OUTCOME_COUNT
};

/* A scale-out execution (PRODUCT.md section 6): queued until one
 * eligible worker is given it, assigned once its start instruction is
 * posted, running once the worker reports the run, then ended. */
enum exec_status {
	EXEC_QUEUED,
	EXEC_ASSIGNED,
	EXEC_RUNNING,
	EXEC_SUCCEEDED,
	EXEC_FAILED,
	EXEC_STATUS_COUNT
};

/* Names: "insert", "set_poll_interval", "pending", "succeeded", ... */
const char *instr_op_name(enum instr_op op);
int instr_op_parse(const char *name, enum instr_op *out);
const char *instr_status_name(enum instr_status st);
int instr_status_parse(const char *name, enum instr_status *out);
const char *exec_status_name(enum exec_status st);
int exec_status_parse(const char *name, enum exec_status *out);
const char *run_outcome_name(enum run_outcome o);
int run_outcome_parse(const char *name, enum run_outcome *out);

/* The index of name in names[0..count), or -1 (name may be NULL): the
 * parse half of every name table (wire names, events, operators). */
int wire_name_index(const char *const *names, int count, const char *name);

#endif
