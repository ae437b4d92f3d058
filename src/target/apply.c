/*
 * apply: applies the master's instructions to the local store, in order,
 * each in one transaction together with the id of the last instruction
 * applied. That id makes every instruction idempotent: one at or below it
 * was applied already and is only acknowledged again. A START becomes a
 * queued run keyed by its instruction id in the same transaction, so it
 * can never start twice. The ack is written in that transaction too and
 * kept until the master has it (poll.c). The first failure stops the
 * batch: the master delivers nothing after it until an administrator
 * clears it. A store failure (a full disk) is not a failure of the
 * instruction: nothing is recorded, and the poller waits before asking
 * again (t->apply_stalled).
 */
#include <string.h>

#include "common/jobdoc.h"
#include "common/json.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "common/wire.h"
#include "target/defect.h"
#include "target/scheduler.h"
#include "target/target.h"
#include "target/tstore.h"

struct instr {
	int64_t id;
	enum instr_op op;
	const char *object;
	const json_t *payload;
};

#define APPLY_STALLED (-2)

/* What to do once the transaction is committed. */
struct effects {
	int kick_runs;
	int jobs_changed; /* the scheduler loads them again, once per
				   batch (a resync inserts every job) */
	const char *stop_job;
	int64_t stop_instr; /* stop only the run this start made, 0: all */
	int64_t poll_interval_s;
	int defect; /* the last instruction of the batch */
};

static int
read_instr(const json_t *v, struct instr *in, struct cerr *err)
{
	const char *op = NULL;
	int op_rc;

	memset(in, 0, sizeof(in[0]));
	if (json_get_int(v, "id", "instruction", 1, INT64_MAX, &in->id, err) !=
	    0) {
		in->id = 0;
		return cerr_set(err, CERR_INVALID, "malformed instruction");
	}
	op_rc = json_get_string(v, "op", "instruction", 32, 0, &op, err);
	if (op_rc > 0)
		cerr_set(err, CERR_INVALID, "instruction.op: missing");
	if (op_rc != 0 ||
	    json_get_string(v, "object", "instruction", JOB_NAME_MAX, 0,
		&in->object, err) < 0)
		return cerr_wrap(err, "malformed instruction");
	if (instr_op_parse(op, &in->op) < 0)
		return cerr_set(
		    err, CERR_INVALID, "unknown operation '%s'", op);
	if (in->object == NULL)
		in->object = "";
	in->payload = json_object_get(v, "payload");
	return 0;
}

static int
put_job(struct target *t, const struct instr *in, struct cerr *err)
{
	struct job *job = NULL;
	json_t *canon = NULL;
	char *text = NULL;
	int rc = -1;

	if (jobdoc_from_json(in->payload, &job, err) < 0) {
		cerr_wrap(err, "job document");
		goto out;
	}
	if (strcmp(job->name, in->object) != 0) {
		cerr_set(err, CERR_INVALID,
		    "job document names '%s', "
		    "instruction names '%s'",
		    job->name, in->object);
		goto out;
	}
	canon = jobdoc_to_json(job, 0);
	text = canon ? json_dump_compact(canon) : NULL;
	if (text == NULL) {
		cerr_set(err, CERR_INTERNAL, "out of memory");
		goto out;
	}
	if (tstore_job_put(t->store, job->name, ORIGIN_MASTER, text,
		timefmt_now_s(), err) < 0) {
		if (err->code == CERR_CONFLICT)
			cerr_set(err, CERR_CONFLICT,
			    "a local job named '%s' "
			    "exists on target %s",
			    job->name, t->conf->name);
		goto out;
	}
	rc = 0;
out:
	json_decref(canon);
	free(text);
	job_free(job);
	return rc;
}

static int
queue_start(struct target *t, const struct instr *in, struct effects *fx,
    struct cerr *err)
{
	enum job_origin origin;
	char *doc = NULL;
	int64_t run_id;
	int existed;

	if (tstore_job_get(t->store, in->object, &doc, &origin, err) < 0) {
		if (err->code == CERR_NOT_FOUND)
			cerr_set(err, CERR_NOT_FOUND,
			    "job '%s' is not on "
			    "target %s",
			    in->object, t->conf->name);
		return -1;
	}
	free(doc);
	if (origin != ORIGIN_MASTER)
		return cerr_set(err, CERR_CONFLICT,
		    "job '%s' on target %s is "
		    "a local job",
		    in->object, t->conf->name);
	if (tstore_run_add(t->store, in->object, 0, in->id, 0, timefmt_now_s(),
		&run_id, &existed, err) < 0)
		return -1;
	fx->kick_runs = 1;
	return 0;
}

static int
set_poll_interval(struct target *t, const struct instr *in, struct effects *fx,
    struct cerr *err)
{
	int64_t s = 0;

	if (json_get_int(in->payload, "poll_interval_s", "payload", 1, 28800,
		&s, err) != 0)
		return cerr_set(err, CERR_INVALID,
		    "payload.poll_interval_s: "
		    "must be 1..28800");
	if (tstore_meta_set_int(t->store, "poll_interval_s", s, err) < 0)
		return -1;
	fx->poll_interval_s = s;
	return 0;
}

static int
apply_op(struct target *t, const struct instr *in, struct effects *fx,
    struct cerr *err)
{
	switch (in->op) {
	case INSTR_INSERT:
	case INSTR_UPDATE:
		fx->jobs_changed = 1;
		return put_job(t, in, err);
	case INSTR_DELETE:
		fx->jobs_changed = 1;
		return tstore_job_delete(
		    t->store, in->object, ORIGIN_MASTER, NULL, err);
	case INSTR_START:
		return queue_start(t, in, fx, err);
	case INSTR_STOP:
		/* A scale-out execution's lost attempt is stopped alone
		 * (payload instr_id: its start), queued or running. */
		if (json_get_int(in->payload, "instr_id", "payload", 1,
			INT64_MAX, &fx->stop_instr, err) < 0)
			return -1;
		fx->stop_job = in->object;
		return 0;
	case INSTR_RESYNC:
		fx->jobs_changed = 1;
		return tstore_job_delete_origin(t->store, ORIGIN_MASTER, err);
	case INSTR_SET_POLL_INTERVAL:
		return set_poll_interval(t, in, fx, err);
	case INSTR_DEFECT:
		fx->jobs_changed = 1;
		fx->defect = 1;
		return defect_apply(t, err);
	default:
		return cerr_set(err, CERR_INVALID,
		    "operation '%s' is not "
		    "supported by target %s",
		    instr_op_name(in->op), t->conf->name);
	}
}

/* The failed instruction is handled: record it as passed, with its
 * failure as the ack, so it is never applied later by accident; the
 * master holds back the rest until it is cleared. -1 with err when the
 * store cannot record even that. */
static int
record_failure(struct target *t, const struct instr *in, const struct cerr *why,
    struct cerr *err)
{
	if (tstore_begin(t->store, err) < 0 ||
	    tstore_meta_set_int(t->store, "last_instr", in->id, err) < 0 ||
	    tstore_ack_add(t->store, in->id, 0, why->msg, err) < 0 ||
	    tstore_commit(t->store, err) < 0) {
		tstore_rollback(t->store);
		return -1;
	}
	return 0;
}

/* Applies one instruction: its effect, its id as last_instr and its ack,
 * in one transaction. 0 applied (or applied before), -1 failed (recorded
 * as failed), APPLY_STALLED when the store failed: a full disk or an I/O
 * error says nothing about the instruction, so nothing is recorded and
 * the same instruction comes again with the next poll. */
static int
apply_one(struct target *t, const struct instr *in, struct effects *fx,
    struct cerr *err)
{
	int64_t last = 0;
	int rc;

	if (tstore_meta_get_int(t->store, "last_instr", 0, &last, err) < 0)
		return APPLY_STALLED;
	if (in->id <= last)
		return 0;
	if (tstore_begin(t->store, err) < 0)
		return APPLY_STALLED;
	rc = apply_op(t, in, fx, err);
	if (rc == 0 &&
	    (tstore_meta_set_int(t->store, "last_instr", in->id, err) < 0 ||
		tstore_ack_add(t->store, in->id, 1, "", err) < 0 ||
		tstore_commit(t->store, err) < 0))
		rc = -1;
	if (rc == 0)
		return 0;
	tstore_rollback(t->store);
	memset(fx, 0, sizeof(*fx));
	if (err->code == CERR_STORE)
		return APPLY_STALLED;
	log_warn("apply_failed", "id=%lld op=%s object=%s msg=%s",
	    (long long)in->id, instr_op_name(in->op), in->object,
	    LOG_TEXT(err->msg));
	if (record_failure(t, in, err, err) < 0)
		return APPLY_STALLED;
	return -1;
}

/* An instruction this target cannot read (an operation of a newer master,
 * a malformed one) fails like one it cannot apply: recorded with its
 * reason, so the master shows the target blocked and says why. Without
 * an id nothing can be recorded: APPLY_STALLED, so the target waits
 * before asking again rather than getting the same answer at once. */
static int
fail_unreadable(struct target *t, const struct instr *in,
    const struct cerr *why, struct cerr *err)
{
	int64_t last = 0;

	*err = *why;
	if (in->id <= 0) {
		log_error("apply", "msg=%s", LOG_TEXT(why->msg));
		return APPLY_STALLED;
	}
	if (tstore_meta_get_int(t->store, "last_instr", 0, &last, err) < 0)
		return APPLY_STALLED;
	if (in->id <= last)
		return 0; /* recorded before */
	log_warn("apply_failed", "id=%lld msg=%s", (long long)in->id,
	    LOG_TEXT(why->msg));
	if (record_failure(t, in, why, err) < 0)
		return APPLY_STALLED;
	return -1;
}

static void
run_effects(struct target *t, const struct effects *fx)
{
	if (fx->kick_runs)
		runs_kick(t);
	if (fx->stop_job != NULL && fx->stop_instr > 0)
		runs_stop_instr(t, fx->stop_instr,
		    "stopped from the master: the execution moved on without "
		    "this worker");
	else if (fx->stop_job != NULL)
		runs_stop_job(t, fx->stop_job, "stopped from the master");
	if (fx->poll_interval_s > 0)
		t->poll_interval_s = fx->poll_interval_s;
	if (fx->defect)
		defect_begin(t);
}

void
apply_batch(struct target *t, const json_t *instructions)
{
	int jobs_changed = 0;
	size_t i;
	json_t *v;

	t->apply_stalled = 0;
	/* Defecting, nothing more is applied: the master drops what it
	 * posted after the defect once it has the defect's ack. */
	if (t->defecting)
		return;
	json_array_foreach(instructions, i, v)
	{
		struct effects fx = {0, 0, NULL, 0, 0, 0};
		struct instr in;
		struct cerr err;
		int rc;

		if (read_instr(v, &in, &err) < 0) {
			struct cerr why = err;

			rc = fail_unreadable(t, &in, &why, &err);
			if (rc == 0)
				continue;
			if (rc == APPLY_STALLED && err.code == CERR_STORE)
				target_store_failed(t, &err);
			t->apply_stalled = rc == APPLY_STALLED;
			break;
		}
		rc = apply_one(t, &in, &fx, &err);
		if (rc == APPLY_STALLED) {
			target_store_failed(t, &err);
			t->apply_stalled = 1;
			break;
		}
		if (rc < 0)
			break;
		target_store_ok(t);
		log_info("applied", "id=%lld op=%s object=%s", (long long)in.id,
		    instr_op_name(in.op), in.object);
		jobs_changed |= fx.jobs_changed;
		run_effects(t, &fx);
		/* Nothing after a defect: the master drops it. */
		if (fx.defect)
			break;
	}
	if (jobs_changed)
		scheduler_reload(t);
}
