/*
 * store: picks the backend a store spec names and dispatches every call
 * through its function table (store_backend.h). Argument checks that do
 * not depend on the backend live here, once, so every backend refuses bad
 * input with the same message and never sees it. Nothing in this file
 * knows about SQL.
 */
#include "store/store.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "store/store_backend.h"
#include "store/store_check.h"
#include "store/store_pg.h"

#define HASH_HEX_LEN 64 /* SHA-256 */

int
store_check_name(const char *what, const char *name, struct cerr *err)
{
	size_t len;

	if (name == NULL || name[0] == '\0')
		return cerr_set(err, CERR_INVALID, "%s: empty name", what);
	len = strlen(name);
	if (len > STORE_NAME_MAX)
		return cerr_set(err, CERR_INVALID,
		    "%s: name longer than %d bytes", what, STORE_NAME_MAX);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return cerr_set(err, CERR_INVALID,
			    "%s: name holds a control character", what);
	/* A name from a request path is percent-decoded bytes; PostgreSQL
	 * would refuse invalid UTF-8 where SQLite stores it. */
	if (!utf8_valid(name, len))
		return cerr_set(
		    err, CERR_INVALID, "%s: name is not valid UTF-8", what);
	return 0;
}

int
store_check_text(const char *what, const char *s, size_t size, struct cerr *err)
{
	if (s != NULL && strlen(s) >= size)
		return cerr_set(err, CERR_INVALID, "%s: longer than %zu bytes",
		    what, size - 1);
	return 0;
}

static const char *
or_empty(const char *s)
{
	return s != NULL ? s : "";
}

/* Copies a SHA-256 hex digest into out (lowercase), refusing anything
 * else. The digest is never echoed back in the message. */
static int
check_hash(const char *hash_hex, char out[HASH_HEX_LEN + 1], struct cerr *err)
{
	if (hash_hex == NULL || strlen(hash_hex) != HASH_HEX_LEN)
		return cerr_set(err, CERR_INVALID,
		    "token hash: not %d hex digits", HASH_HEX_LEN);
	for (size_t i = 0; i < HASH_HEX_LEN; i++) {
		if (!isxdigit((unsigned char)hash_hex[i]))
			return cerr_set(err, CERR_INVALID,
			    "token hash: not %d hex digits", HASH_HEX_LEN);
		out[i] = (char)tolower((unsigned char)hash_hex[i]);
	}
	out[HASH_HEX_LEN] = '\0';
	return 0;
}

int
store_open(const char *spec, struct store **out, struct cerr *err)
{
	struct store *s = NULL;
	int rc = -1;

	if (spec == NULL || spec[0] == '\0')
		return cerr_set(err, CERR_INVALID, "store: empty store spec");
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return cerr_set(err, CERR_INTERNAL, "store: out of memory");
	if (strncmp(spec, "postgresql://", 13) == 0 ||
	    strncmp(spec, "postgres://", 11) == 0) {
		if (store_pg_open(spec, s, err) < 0)
			goto out;
	} else if (store_sqlite_open(spec, s, err) < 0) {
		goto out;
	}
	*out = s;
	s = NULL;
	rc = 0;
out:
	free(s);
	return rc;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	s->ops->close(s->be);
	free(s);
}

int
store_begin(struct store *s, struct cerr *err)
{
	return s->ops->begin(s->be, err);
}

int
store_commit(struct store *s, struct cerr *err)
{
	return s->ops->commit(s->be, err);
}

void
store_rollback(struct store *s)
{
	s->ops->rollback(s->be);
}

/* ---- targets ------------------------------------------------------- */

int
store_target_add(
    struct store *s, const struct store_target *t, struct cerr *err)
{
	if (store_check_name("add target", t->name, err) < 0)
		return -1;
	if (t->poll_interval_s <= 0)
		return cerr_set(err, CERR_INVALID,
		    "add target %s: poll interval must be positive", t->name);
	return s->ops->target_add(s->be, t, err);
}

int
store_target_get(struct store *s, const char *name, struct store_target *out,
    struct cerr *err)
{
	if (store_check_name("get target", name, err) < 0)
		return -1;
	return s->ops->target_get(s->be, name, out, err);
}

int
store_target_list(
    struct store *s, store_target_cb cb, void *arg, struct cerr *err)
{
	return s->ops->target_list(s->be, cb, arg, err);
}

int
store_target_polled(struct store *s, const char *name,
    const struct store_poll *p, struct cerr *err)
{
	if (store_check_name("record poll", name, err) < 0 ||
	    store_check_text("record poll: version", p->version,
		sizeof(((struct store_target *)0)->version), err) < 0)
		return -1;
	if (p->poll_interval_s <= 0)
		return cerr_set(err, CERR_INVALID,
		    "record poll %s: poll interval must be positive", name);
	return s->ops->target_polled(s->be, name, p, err);
}

int
store_target_set_defected(
    struct store *s, const char *name, int64_t now, struct cerr *err)
{
	if (store_check_name("defect target", name, err) < 0)
		return -1;
	return s->ops->target_set_defected(s->be, name, now, err);
}

int
store_target_set_location(
    struct store *s, const char *name, const char *location, struct cerr *err)
{
	if (store_check_name("set location", name, err) < 0 ||
	    store_check_text("set location", location, STORE_TEXT_MAX, err) < 0)
		return -1;
	return s->ops->target_set_location(
	    s->be, name, or_empty(location), err);
}

int
store_target_delete(struct store *s, const char *name, struct cerr *err)
{
	if (store_check_name("delete target", name, err) < 0)
		return -1;
	return s->ops->target_delete(s->be, name, err);
}

/* ---- enlistment tokens, revocation ----------------------------------- */

int
store_token_add(struct store *s, const char *target, const char *hash_hex,
    int64_t now, int64_t expires_at, struct cerr *err)
{
	char hash[HASH_HEX_LEN + 1];

	if (store_check_name("add token", target, err) < 0 ||
	    check_hash(hash_hex, hash, err) < 0)
		return -1;
	if (expires_at <= now)
		return cerr_set(err, CERR_INVALID,
		    "add token for %s: expiry is not in the future", target);
	return s->ops->token_add(s->be, target, hash, now, expires_at, err);
}

int
store_token_use(struct store *s, const char *target, const char *hash_hex,
    int64_t now, struct cerr *err)
{
	char hash[HASH_HEX_LEN + 1];

	if (store_check_name("use token", target, err) < 0 ||
	    check_hash(hash_hex, hash, err) < 0)
		return -1;
	return s->ops->token_use(s->be, target, hash, now, err);
}

int
store_revoke(struct store *s, const char *serial_hex, const char *name,
    int64_t now, struct cerr *err)
{
	if (serial_hex == NULL || serial_hex[0] == '\0')
		return cerr_set(err, CERR_INVALID, "revoke: empty serial");
	if (store_check_text("revoke: serial", serial_hex,
		sizeof(((struct store_target *)0)->cert_serial), err) < 0 ||
	    store_check_name("revoke", name, err) < 0)
		return -1;
	return s->ops->revoke(s->be, serial_hex, name, now, err);
}

int
store_revoked_list(
    struct store *s, store_serial_cb cb, void *arg, struct cerr *err)
{
	return s->ops->revoked_list(s->be, cb, arg, err);
}

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
	if (s->ops->instr_post(s->be, target, op, or_empty(object),
		or_empty(payload), now, &id, err) < 0)
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
	    ok ? "" : or_empty(error), now, first_op ? first_op : &ignored,
	    err);
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

/* ---- target groups ----------------------------------------------------- */

int
store_group_create(
    struct store *s, const char *name, int64_t now, struct cerr *err)
{
	if (store_check_name("create group", name, err) < 0)
		return -1;
	return s->ops->group_create(s->be, name, now, err);
}

int
store_group_delete(struct store *s, const char *name, struct cerr *err)
{
	if (store_check_name("delete group", name, err) < 0)
		return -1;
	return s->ops->group_delete(s->be, name, err);
}

int
store_group_add(struct store *s, const char *group, const char *target,
    int *added_out, struct cerr *err)
{
	int added;

	if (store_check_name("add to group", group, err) < 0 ||
	    store_check_name("add to group: target", target, err) < 0)
		return -1;
	return s->ops->group_add(
	    s->be, group, target, added_out ? added_out : &added, err);
}

int
store_group_remove(
    struct store *s, const char *group, const char *target, struct cerr *err)
{
	if (store_check_name("remove from group", group, err) < 0 ||
	    store_check_name("remove from group: target", target, err) < 0)
		return -1;
	return s->ops->group_remove(s->be, group, target, err);
}

int
store_group_list(struct store *s, store_name_cb cb, void *arg, struct cerr *err)
{
	return s->ops->group_list(s->be, cb, arg, err);
}

int
store_group_members(struct store *s, const char *group, store_name_cb cb,
    void *arg, struct cerr *err)
{
	if (store_check_name("list group members", group, err) < 0)
		return -1;
	return s->ops->group_members(s->be, group, cb, arg, err);
}

/* ---- issued certificates, audit log (security) ------------------------ */

/* A serial: 1..79 hex digits (pki.h's form). */
static int
check_serial(const char *what, const char *serial_hex, struct cerr *err)
{
	size_t len = serial_hex != NULL ? strlen(serial_hex) : 0;

	if (len == 0 || len >= sizeof(((struct store_cert *)0)->serial_hex))
		return cerr_set(err, CERR_INVALID,
		    "%s: serial must be 1..%zu hex digits", what,
		    sizeof(((struct store_cert *)0)->serial_hex) - 1);
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)serial_hex[i]))
			return cerr_set(err, CERR_INVALID,
			    "%s: serial is not hexadecimal", what);
	return 0;
}

int
store_cert_add(struct store *s, const struct store_cert *c, struct cerr *err)
{
	if (check_serial("record certificate", c->serial_hex, err) < 0 ||
	    store_check_name("record certificate", c->name, err) < 0 ||
	    store_check_name("record certificate: role", c->role, err) < 0 ||
	    store_check_text(
		"record certificate: role", c->role, sizeof(c->role), err) < 0)
		return -1;
	return s->ops->cert_add(s->be, c, err);
}

int
store_cert_get(struct store *s, const char *serial_hex, struct store_cert *out,
    struct cerr *err)
{
	if (check_serial("get certificate", serial_hex, err) < 0)
		return -1;
	return s->ops->cert_get(s->be, serial_hex, out, err);
}

int
store_cert_list(struct store *s, const char *name, store_cert_cb cb, void *arg,
    struct cerr *err)
{
	if (name != NULL &&
	    store_check_name("list certificates", name, err) < 0)
		return -1;
	return s->ops->cert_list(s->be, name, cb, arg, err);
}

int
store_target_set_serial(
    struct store *s, const char *name, const char *serial_hex, struct cerr *err)
{
	if (store_check_name("set serial", name, err) < 0 ||
	    check_serial("set serial", serial_hex, err) < 0)
		return -1;
	return s->ops->target_set_serial(s->be, name, serial_hex, err);
}

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
	copy.message = or_empty(e->message);
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

/* ---- operators ------------------------------------------------------------ */

static const char *const operator_kind_names[OPERATOR_KIND_COUNT] = {
    "log",
    "webhook",
    "email",
    "command",
};
static const char *const delivery_status_names[DELIVERY_STATUS_COUNT] = {
    "pending",
    "delivered",
    "failed",
};

const char *
store_operator_kind_name(enum operator_kind k)
{
	return (int)k >= 0 && k < OPERATOR_KIND_COUNT ? operator_kind_names[k]
						      : "unknown";
}

int
store_operator_kind_parse(const char *name, enum operator_kind *out)
{
	int i = wire_name_index(operator_kind_names, OPERATOR_KIND_COUNT, name);

	if (i < 0)
		return -1;
	*out = (enum operator_kind)i;
	return 0;
}

const char *
store_delivery_status_name(enum delivery_status st)
{
	return (int)st >= 0 && st < DELIVERY_STATUS_COUNT
	    ? delivery_status_names[st]
	    : "unknown";
}

int
store_delivery_status_parse(const char *name, enum delivery_status *out)
{
	int i =
	    wire_name_index(delivery_status_names, DELIVERY_STATUS_COUNT, name);

	if (i < 0)
		return -1;
	*out = (enum delivery_status)i;
	return 0;
}

int
store_operator_add(
    struct store *s, const struct store_operator *op, struct cerr *err)
{
	struct store_operator copy = *op;

	if (store_check_name("add operator", op->name, err) < 0 ||
	    store_check_text("add operator: address", op->address,
		STORE_ADDRESS_MAX + 1, err) < 0)
		return -1;
	if ((int)op->kind < 0 || op->kind >= OPERATOR_KIND_COUNT)
		return cerr_set(err, CERR_INVALID,
		    "add operator %s: unknown kind %d", op->name,
		    (int)op->kind);
	copy.address = or_empty(op->address);
	copy.is_default = op->is_default != 0;
	return s->ops->operator_add(s->be, &copy, err);
}

int
store_operator_get(struct store *s, const char *name, store_operator_cb cb,
    void *arg, struct cerr *err)
{
	if (store_check_name("get operator", name, err) < 0)
		return -1;
	return s->ops->operator_get(s->be, name, cb, arg, err);
}

int
store_operator_get_default(
    struct store *s, store_operator_cb cb, void *arg, struct cerr *err)
{
	return s->ops->operator_get_default(s->be, cb, arg, err);
}

int
store_operator_list(
    struct store *s, store_operator_cb cb, void *arg, struct cerr *err)
{
	return s->ops->operator_list(s->be, cb, arg, err);
}

int
store_operator_set_default(struct store *s, const char *name, struct cerr *err)
{
	if (store_check_name("set default operator", name, err) < 0)
		return -1;
	return s->ops->operator_set_default(s->be, name, err);
}

int
store_operator_delete(struct store *s, const char *name, struct cerr *err)
{
	if (store_check_name("delete operator", name, err) < 0)
		return -1;
	return s->ops->operator_delete(s->be, name, err);
}

/* ---- notifications ---------------------------------------------------------- */

int
store_notification_add(struct store *s, const struct store_notification *n,
    int *added_out, struct cerr *err)
{
	struct store_notification copy = *n;
	int added = 0;

	if (n->key[0] == '\0')
		return cerr_set(
		    err, CERR_INVALID, "add notification: empty key");
	if (store_check_text(
		"add notification: key", n->key, STORE_KEY_MAX + 1, err) < 0 ||
	    store_check_name(
		"add notification: operator", n->operator_name, err) < 0 ||
	    store_check_text("add notification: subject", n->subject,
		STORE_TEXT_MAX, err) < 0)
		return -1;
	copy.payload = or_empty(n->payload);
	copy.last_error = "";
	copy.status = DELIVERY_PENDING;
	copy.attempts = 0;
	if (s->ops->notification_add(s->be, &copy, &added, err) < 0)
		return -1;
	if (added_out != NULL)
		*added_out = added;
	return 0;
}

int
store_notification_due(struct store *s, int64_t now, int limit,
    store_notification_cb cb, void *arg, struct cerr *err)
{
	if (limit <= 0)
		return cerr_set(err, CERR_INVALID,
		    "due notifications: limit must be positive");
	return s->ops->notification_due(s->be, now, limit, cb, arg, err);
}

int
store_notification_next_due(
    struct store *s, int64_t *next_at_out, int *found_out, struct cerr *err)
{
	*next_at_out = 0;
	*found_out = 0;
	return s->ops->notification_next_due(
	    s->be, next_at_out, found_out, err);
}

int
store_notification_update(struct store *s, int64_t id,
    enum delivery_status status, int attempts, int64_t next_at,
    const char *last_error, int64_t now, struct cerr *err)
{
	if ((int)status < 0 || status >= DELIVERY_STATUS_COUNT || attempts < 0)
		return cerr_set(err, CERR_INVALID,
		    "update notification %lld: bad status or attempts",
		    (long long)id);
	if (store_check_text("update notification: error", last_error,
		STORE_TEXT_MAX, err) < 0)
		return -1;
	return s->ops->notification_update(s->be, id, status, attempts, next_at,
	    or_empty(last_error), now, err);
}

int
store_notification_list(struct store *s,
    const struct store_notification_filter *f, store_notification_cb cb,
    void *arg, struct cerr *err)
{
	if (f->operator_name != NULL &&
	    store_check_name(
		"list notifications: operator", f->operator_name, err) < 0)
		return -1;
	if (f->status < -1 || f->status >= DELIVERY_STATUS_COUNT)
		return cerr_set(err, CERR_INVALID,
		    "list notifications: unknown status %d", f->status);
	if (f->limit < 0)
		return cerr_set(
		    err, CERR_INVALID, "list notifications: negative limit");
	return s->ops->notification_list(s->be, f, cb, arg, err);
}

int
store_notification_trim(struct store *s, int64_t keep, struct cerr *err)
{
	if (keep < 0)
		return cerr_set(err, CERR_INVALID,
		    "trim notifications: negative count to keep");
	return s->ops->notification_trim(s->be, keep, err);
}
