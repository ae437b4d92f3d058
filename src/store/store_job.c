/*
 * store_job: what the fleet is told to do, in the store interface (see
 * store.h): job documents, the targets each job is aimed at, and the
 * download list of instructions posted to targets. Like the rest of the
 * facade (store.c) it checks what does not depend on the backend, then
 * calls through s->ops.
 */
#include "store/store_backend.h"
#include "store/store_check.h"

/* ---- jobs ------------------------------------------------------------ */

int
store_job_put(struct store *s, const char *name, const char *doc, int64_t now,
    int *created_out, struct cerr *err)
{
	int created = 0;

	if (store_check_name("put job", name, err) < 0)
		return -1;
	if (doc == NULL || doc[0] == '\0')
		return cerr_set(
		    err, CERR_INVALID, "put job %s: empty document", name);
	if (s->ops->job_put(s->be, name, doc, now, &created, err) < 0)
		return -1;
	if (created_out != NULL)
		*created_out = created;
	return 0;
}

int
store_job_get(struct store *s, const char *name, store_job_cb cb, void *arg,
    struct cerr *err)
{
	if (store_check_name("get job", name, err) < 0)
		return -1;
	return s->ops->job_get(s->be, name, cb, arg, err);
}

int
store_job_list(struct store *s, store_job_cb cb, void *arg, struct cerr *err)
{
	return s->ops->job_list(s->be, cb, arg, err);
}

int
store_job_delete(struct store *s, const char *name, struct cerr *err)
{
	if (store_check_name("delete job", name, err) < 0)
		return -1;
	return s->ops->job_delete(s->be, name, err);
}

int
store_job_targets_set(struct store *s, const char *job,
    const char *const *targets, size_t n, struct cerr *err)
{
	if (store_check_name("set job targets", job, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (store_check_name(
			"set job targets: target", targets[i], err) < 0)
			return -1;
	return s->ops->job_targets_set(s->be, job, targets, n, err);
}

int
store_job_targets_list(struct store *s, const char *job, store_name_cb cb,
    void *arg, struct cerr *err)
{
	if (store_check_name("list job targets", job, err) < 0)
		return -1;
	return s->ops->job_targets_list(s->be, job, cb, arg, err);
}

int
store_target_jobs_list(struct store *s, const char *target, store_name_cb cb,
    void *arg, struct cerr *err)
{
	if (store_check_name("list target jobs", target, err) < 0)
		return -1;
	return s->ops->target_jobs_list(s->be, target, cb, arg, err);
}

/* ---- the download list ------------------------------------------------ */

int
store_instr_post(struct store *s, const char *target, enum instr_op op,
    const char *object, const char *payload, int64_t now, int64_t *id_out,
    struct cerr *err)
{
	int64_t id = 0;

	if (store_check_name("post instruction", target, err) < 0 ||
	    store_check_text("post instruction: object", object,
		STORE_NAME_MAX + 1, err) < 0)
		return -1;
	if ((int)op < 0 || op >= INSTR_OP_COUNT)
		return cerr_set(err, CERR_INVALID,
		    "post instruction: unknown operation %d", (int)op);
	if (s->ops->instr_post(s->be, target, op, store_or_empty(object),
		store_or_empty(payload), now, &id, err) < 0)
		return -1;
	if (id_out != NULL)
		*id_out = id;
	return 0;
}

int
store_instr_fetch(struct store *s, const char *target, int64_t after_id,
    int limit, int64_t now, store_instr_cb cb, void *arg, struct cerr *err)
{
	if (store_check_name("fetch instructions", target, err) < 0)
		return -1;
	if (limit <= 0)
		return cerr_set(err, CERR_INVALID,
		    "fetch instructions: limit must be positive");
	if (after_id < 0)
		return cerr_set(
		    err, CERR_INVALID, "fetch instructions: negative after id");
	return s->ops->instr_fetch(
	    s->be, target, after_id, limit, now, cb, arg, err);
}

int
store_instr_ack(struct store *s, const char *target, int64_t id, int ok,
    const char *error, int64_t now, enum instr_op *first_op, struct cerr *err)
{
	enum instr_op ignored;

	if (store_check_name("ack instruction", target, err) < 0)
		return -1;
	return s->ops->instr_ack(s->be, target, id, ok != 0,
	    ok ? "" : store_or_empty(error), now,
	    first_op ? first_op : &ignored, err);
}

int
store_instr_list(struct store *s, const struct store_instr_filter *f,
    store_instr_cb cb, void *arg, struct cerr *err)
{
	if (f->target != NULL &&
	    store_check_name("list instructions", f->target, err) < 0)
		return -1;
	if ((f->status < -1 && f->status != STORE_INSTR_OPEN) ||
	    f->status >= INSTR_STATUS_COUNT)
		return cerr_set(err, CERR_INVALID,
		    "list instructions: unknown status %d", f->status);
	if (f->limit < 0)
		return cerr_set(
		    err, CERR_INVALID, "list instructions: negative limit");
	return s->ops->instr_list(s->be, f, cb, arg, err);
}

int
store_instr_clear(struct store *s, int64_t id, struct cerr *err)
{
	return s->ops->instr_clear(s->be, id, err);
}

int
store_instr_get(
    struct store *s, int64_t id, store_instr_cb cb, void *arg, struct cerr *err)
{
	return s->ops->instr_get(s->be, id, cb, arg, err);
}

int
store_instr_withdraw(struct store *s, int64_t id, struct cerr *err)
{
	return s->ops->instr_withdraw(s->be, id, err);
}

int
store_instr_drop_pending(struct store *s, const char *target, struct cerr *err)
{
	if (store_check_name("drop pending instructions", target, err) < 0)
		return -1;
	return s->ops->instr_drop_pending(s->be, target, err);
}

int
store_instr_trim(struct store *s, int64_t keep, struct cerr *err)
{
	if (keep < 0)
		return cerr_set(err, CERR_INVALID,
		    "trim instructions: negative count to keep");
	return s->ops->instr_trim(s->be, keep, err);
}
