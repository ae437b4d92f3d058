/*
 * wire: stable names of the shared enumerations (see wire.h).
 */
#include "common/wire.h"

#include <string.h>

static const char *const op_names[INSTR_OP_COUNT] = {
    "insert",
    "update",
    "delete",
    "start",
    "stop",
    "resync",
    "set_poll_interval",
    "defect",
};
static const char *const status_names[INSTR_STATUS_COUNT] = {
    "pending",
    "downloaded",
    "applied",
    "failed",
};
static const char *const exec_status_names[EXEC_STATUS_COUNT] = {
    "queued",
    "assigned",
    "running",
    "succeeded",
    "failed",
};
static const char *const outcome_names[OUTCOME_COUNT] = {
    "running",
    "succeeded",
    "failed",
    "retrying",
    "canceled",
    "interrupted",
    "missed",
};

int
wire_name_index(const char *const *names, int count, const char *name)
{
	for (int i = 0; name != NULL && i < count; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

const char *
instr_op_name(enum instr_op op)
{
	return (int)op >= 0 && op < INSTR_OP_COUNT ? op_names[op] : "unknown";
}

int
instr_op_parse(const char *name, enum instr_op *out)
{
	int i = wire_name_index(op_names, INSTR_OP_COUNT, name);

	if (i < 0)
		return -1;
	*out = (enum instr_op)i;
	return 0;
}

const char *
instr_status_name(enum instr_status st)
{
	return (int)st >= 0 && st < INSTR_STATUS_COUNT ? status_names[st]
						       : "unknown";
}

int
instr_status_parse(const char *name, enum instr_status *out)
{
	int i = wire_name_index(status_names, INSTR_STATUS_COUNT, name);

	if (i < 0)
		return -1;
	*out = (enum instr_status)i;
	return 0;
}

const char *
exec_status_name(enum exec_status st)
{
	return (int)st >= 0 && st < EXEC_STATUS_COUNT ? exec_status_names[st]
						      : "unknown";
}

int
exec_status_parse(const char *name, enum exec_status *out)
{
	int i = wire_name_index(exec_status_names, EXEC_STATUS_COUNT, name);

	if (i < 0)
		return -1;
	*out = (enum exec_status)i;
	return 0;
}

const char *
run_outcome_name(enum run_outcome o)
{
	return (int)o >= 0 && o < OUTCOME_COUNT ? outcome_names[o] : "unknown";
}

int
run_outcome_parse(const char *name, enum run_outcome *out)
{
	int i = wire_name_index(outcome_names, OUTCOME_COUNT, name);

	if (i < 0)
		return -1;
	*out = (enum run_outcome)i;
	return 0;
}
