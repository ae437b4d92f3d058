/*
 * store_history: what happened, in the store interface (see store.h):
 * the run history and its limits, each job's last run per target, the
 * events targets forward, and the audit log of admin calls. Like the
 * rest of the facade (store.c) it checks what does not depend on the
 * backend, then calls through s->ops.
 */
#include <string.h>

#include "store/store_backend.h"
#include "store/store_check.h"

/* ---- history ---------------------------------------------------------- */

static int
check_run(const struct store_run *r, struct cerr *err)
{
	if (store_check_name("put run: target", r->target, err) < 0 ||
	    store_check_name("put run: job", r->job, err) < 0 ||
	    store_check_text("put run: step name", r->step_name,
		STORE_NAME_MAX + 1, err) < 0)
		return -1;
	if (r->step < 0 || r->attempt < 0)
		return cerr_set(err, CERR_INVALID,
		    "put run %s/%lld: negative step or attempt", r->target,
		    (long long)r->target_run_id);
	if ((int)r->outcome < 0 || r->outcome >= OUTCOME_COUNT)
		return cerr_set(err, CERR_INVALID,
		    "put run %s/%lld: unknown outcome %d", r->target,
		    (long long)r->target_run_id, (int)r->outcome);
	return 0;
}

int
store_run_put(struct store *s, const struct store_run *r, struct cerr *err)
{
	if (check_run(r, err) < 0)
		return -1;
	return s->ops->run_put(s->be, r, err);
}

int
store_run_list(struct store *s, const struct store_run_filter *f,
    store_run_cb cb, void *arg, struct cerr *err)
{
	if ((f->job != NULL &&
		store_check_name("list runs: job", f->job, err) < 0) ||
	    (f->target != NULL &&
		store_check_name("list runs: target", f->target, err) < 0))
		return -1;
	if (f->outcome < -1 || f->outcome >= OUTCOME_COUNT)
		return cerr_set(err, CERR_INVALID,
		    "list runs: unknown outcome %d", f->outcome);
	if (f->limit < 0)
		return cerr_set(err, CERR_INVALID, "list runs: negative limit");
	if (f->target_run_id < 0 || (f->target_run_id > 0 && f->target == NULL))
		return cerr_set(
		    err, CERR_INVALID, "list runs: a run id needs its target");
	return s->ops->run_list(s->be, f, cb, arg, err);
}

int
store_history_trim(
    struct store *s, int64_t max_rows, int64_t max_per_job, struct cerr *err)
{
	if (max_rows < 0 || max_per_job < 0)
		return cerr_set(
		    err, CERR_INVALID, "trim history: negative limit");
	return s->ops->history_trim(s->be, max_rows, max_per_job, err);
}

int
store_history_purge(struct store *s, const char *job, int64_t before_ms,
    int64_t *deleted_out, struct cerr *err)
{
	if (deleted_out != NULL)
		*deleted_out = 0;
	if (job != NULL && store_check_name("purge history: job", job, err) < 0)
		return -1;
	if (before_ms < 0)
		return cerr_set(
		    err, CERR_INVALID, "purge history: negative time");
	return s->ops->history_purge(s->be, job, before_ms, deleted_out, err);
}

int
store_history_trim_job(
    struct store *s, const char *job, int64_t keep, struct cerr *err)
{
	if (store_check_name("trim job history: job", job, err) < 0)
		return -1;
	if (keep < 0)
		return cerr_set(
		    err, CERR_INVALID, "trim job history: negative limit");
	return s->ops->history_trim_job(s->be, job, keep, err);
}

/* ---- job view, events ----------------------------------------------------- */

int
store_run_last_per_target(struct store *s, const char *job, store_run_cb cb,
    void *arg, struct cerr *err)
{
	if (store_check_name("last runs per target: job", job, err) < 0)
		return -1;
	return s->ops->run_last_per_target(s->be, job, cb, arg, err);
}

int
store_event_add(struct store *s, const struct store_event *e, int *added_out,
    struct cerr *err)
{
	struct store_event copy = *e;
	int added = 0;

	if (store_check_name("add event: target", e->target, err) < 0 ||
	    store_check_text("add event: message", e->message,
		EVENTREC_MESSAGE_MAX + 1, err) < 0 ||
	    store_check_text(
		"add event: job", e->job, STORE_NAME_MAX + 1, err) < 0)
		return -1;
	if (strlen(e->event_id) != EVENTREC_ID_LEN || (int)e->severity < 0 ||
	    e->severity >= EVENT_SEVERITY_COUNT || (int)e->kind < 0 ||
	    e->kind >= EVENT_KIND_COUNT)
		return cerr_set(err, CERR_INVALID,
		    "add event from %s: bad id, severity or kind", e->target);
	copy.message = store_or_empty(e->message);
	if (s->ops->event_add(s->be, &copy, &added, err) < 0)
		return -1;
	if (added_out != NULL)
		*added_out = added;
	return 0;
}

int
store_event_list(struct store *s, const struct store_event_filter *f,
    store_event_cb cb, void *arg, struct cerr *err)
{
	if (f->target != NULL &&
	    store_check_name("list events: target", f->target, err) < 0)
		return -1;
	if (f->min_severity < -1 || f->min_severity >= EVENT_SEVERITY_COUNT)
		return cerr_set(err, CERR_INVALID,
		    "list events: unknown severity %d", f->min_severity);
	if (f->limit < 0)
		return cerr_set(
		    err, CERR_INVALID, "list events: negative limit");
	return s->ops->event_list(s->be, f, cb, arg, err);
}

int
store_event_trim(struct store *s, int64_t keep, struct cerr *err)
{
	if (keep < 0)
		return cerr_set(
		    err, CERR_INVALID, "trim events: negative count to keep");
	return s->ops->event_trim(s->be, keep, err);
}

/* ---- audit log (security) --------------------------------------------- */

int
store_audit_add(struct store *s, const struct store_audit *a, struct cerr *err)
{
	if (store_check_text("audit: who", a->who, sizeof(a->who), err) < 0 ||
	    store_check_text("audit: role", a->role, sizeof(a->role), err) <
		0 ||
	    store_check_text("audit: serial", a->serial_hex,
		sizeof(a->serial_hex), err) < 0 ||
	    store_check_text(
		"audit: method", a->method, sizeof(a->method), err) < 0 ||
	    store_check_text("audit: path", a->path, sizeof(a->path), err) <
		0 ||
	    store_check_text(
		"audit: object", a->object, sizeof(a->object), err) < 0 ||
	    store_check_text("audit: code", a->code, sizeof(a->code), err) < 0)
		return -1;
	if (a->method[0] == '\0' || a->path[0] == '\0' || a->code[0] == '\0')
		return cerr_set(err, CERR_INVALID,
		    "audit: method, path and code are required");
	return s->ops->audit_add(s->be, a, err);
}

int
store_audit_list(struct store *s, const struct store_audit_filter *f,
    store_audit_cb cb, void *arg, struct cerr *err)
{
	if (f->limit < 0 || f->since_ms < 0)
		return cerr_set(
		    err, CERR_INVALID, "list audit: negative limit or time");
	return s->ops->audit_list(s->be, f, cb, arg, err);
}

int
store_audit_trim(struct store *s, int64_t max_rows, struct cerr *err)
{
	if (max_rows < 1)
		return cerr_set(
		    err, CERR_INVALID, "trim audit: keep at least one row");
	return s->ops->audit_trim(s->be, max_rows, err);
}
