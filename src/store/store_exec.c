/*
 * store_exec: the scale-out part of the store interface (see store.h):
 * the checks every backend may rely on, then the call through s->ops.
 */
#include <string.h>

#include "store/store_backend.h"
#include "store/store_check.h"

#define WORKER_TASKS_MAX 10000
#define EXEC_RETRIES_MAX 100
#define EXEC_LIST_MAX 100000
/* The master composes reasons from a target's error text; room enough for
 * that, but still bounded. */
#define EXEC_REASON_MAX 4096

/* A name that may also be "" (none). */
static int
check_opt_name(const char *what, const char *name, struct cerr *err)
{
	if (name[0] == '\0')
		return 0;
	return store_check_name(what, name, err);
}

int
store_worker_seen(struct store *s, const char *name, int64_t max_tasks,
    int64_t now, int *created_out, struct cerr *err)
{
	int created = 0;

	if (store_check_name("record worker", name, err) < 0)
		return -1;
	if (max_tasks < 1 || max_tasks > WORKER_TASKS_MAX)
		return cerr_set(err, CERR_INVALID,
		    "record worker %s: max tasks must be 1..%d", name,
		    WORKER_TASKS_MAX);
	if (s->ops->worker_seen(s->be, name, max_tasks, now, &created, err) < 0)
		return -1;
	if (created_out != NULL)
		*created_out = created;
	return 0;
}

int
store_worker_set_enabled(
    struct store *s, const char *name, int enabled, struct cerr *err)
{
	if (store_check_name("enable worker", name, err) < 0)
		return -1;
	return s->ops->worker_set_enabled(s->be, name, enabled != 0, err);
}

int
store_worker_list(
    struct store *s, store_worker_cb cb, void *arg, struct cerr *err)
{
	return s->ops->worker_list(s->be, cb, arg, err);
}

/* The fields store_exec_update() writes. */
static int
check_exec_state(const char *what, const struct store_exec *e, struct cerr *err)
{
	if (check_opt_name(what, e->worker, err) < 0 ||
	    store_check_text(what, e->reason, EXEC_REASON_MAX + 1, err) < 0)
		return -1;
	if ((int)e->status < 0 || e->status >= EXEC_STATUS_COUNT)
		return cerr_set(err, CERR_INVALID, "%s: unknown status %d",
		    what, (int)e->status);
	if (e->attempt < 0 || e->instr_id < 0)
		return cerr_set(err, CERR_INVALID,
		    "%s: negative attempt or instruction id", what);
	return 0;
}

int
store_exec_add(struct store *s, const struct store_exec *e, int64_t *id_out,
    struct cerr *err)
{
	struct store_exec copy = *e;
	int64_t id = 0;

	if (store_check_name("add execution: job", e->job, err) < 0 ||
	    check_opt_name("add execution: group", e->pin_group, err) < 0 ||
	    store_check_text("add execution: workers", e->pin_workers,
		STORE_PIN_MAX + 1, err) < 0 ||
	    store_check_text("add execution: reason", e->reason,
		EXEC_REASON_MAX + 1, err) < 0 ||
	    check_opt_name(
		"add execution: submitted by", e->submitted_by, err) < 0)
		return -1;
	if (e->retries < 0 || e->retries > EXEC_RETRIES_MAX)
		return cerr_set(err, CERR_INVALID,
		    "add execution of %s: retries must be 0..%d", e->job,
		    EXEC_RETRIES_MAX);
	copy.pin_workers = store_or_empty(e->pin_workers);
	copy.reason = store_or_empty(e->reason);
	if (s->ops->exec_add(s->be, &copy, &id, err) < 0)
		return -1;
	if (id_out != NULL)
		*id_out = id;
	return 0;
}

int
store_exec_update(struct store *s, const struct store_exec *e, struct cerr *err)
{
	struct store_exec copy = *e;

	if (check_exec_state("update execution", e, err) < 0)
		return -1;
	copy.reason = store_or_empty(e->reason);
	return s->ops->exec_update(s->be, &copy, err);
}

int
store_exec_get(
    struct store *s, int64_t id, store_exec_cb cb, void *arg, struct cerr *err)
{
	return s->ops->exec_get(s->be, id, cb, arg, err);
}

int
store_exec_list(struct store *s, int which, int64_t limit, store_exec_cb cb,
    void *arg, struct cerr *err)
{
	if (limit < 1 || limit > EXEC_LIST_MAX)
		return cerr_set(err, CERR_INVALID,
		    "list executions: limit must be 1..%d", EXEC_LIST_MAX);
	if (which < STORE_EXECS_OPEN || which >= EXEC_STATUS_COUNT)
		return cerr_set(err, CERR_INVALID,
		    "list executions: no such selection %d", which);
	return s->ops->exec_list(s->be, which, limit, cb, arg, err);
}

int
store_exec_by_instr(struct store *s, const char *worker, int64_t instr_id,
    store_exec_cb cb, void *arg, struct cerr *err)
{
	if (store_check_name("execution by instruction: worker", worker, err) <
	    0)
		return -1;
	if (instr_id < 0)
		return cerr_set(err, CERR_INVALID,
		    "execution by instruction: negative instruction id");
	return s->ops->exec_by_instr(s->be, worker, instr_id, cb, arg, err);
}

int
store_exec_trim(
    struct store *s, int64_t keep, int64_t *deleted_out, struct cerr *err)
{
	int64_t deleted = 0;

	if (deleted_out != NULL)
		*deleted_out = 0;
	if (keep < 0)
		return cerr_set(err, CERR_INVALID,
		    "trim executions: negative count to keep");
	if (s->ops->exec_trim(s->be, keep, &deleted, err) < 0)
		return -1;
	if (deleted_out != NULL)
		*deleted_out = deleted;
	return 0;
}
