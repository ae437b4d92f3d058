/*
 * store_backend: the one function table a store backend fills (see
 * store.h). store.c checks every argument that does not depend on the
 * backend (name lengths, enum ranges, limits) and then calls through
 * s->ops, so a backend may assume its inputs are well-formed: strings are
 * non-NULL and within the sizes of the store.h structs, except two
 * documented NULLs: store_poll.version (keep the stored version) and
 * store_run.message/output (store ""). (store.c passes "" for a NULL
 * event message, operator address, notification payload or error, and
 * execution pin_workers or reason.)
 * Each entry has the contract of the store_*() call of the same name.
 */
#ifndef COHORT_STORE_BACKEND_H
#define COHORT_STORE_BACKEND_H

#include "store/store.h"
#include "store/store_lease.h"

struct store_ops {
	const char *name; /* "sqlite", "postgresql": for messages */
	void (*close)(void *be);

	int (*begin)(void *be, struct cerr *err);
	int (*commit)(void *be, struct cerr *err);
	void (*rollback)(void *be);

	int (*target_add)(
	    void *be, const struct store_target *t, struct cerr *err);
	int (*target_get)(void *be, const char *name, struct store_target *out,
	    struct cerr *err);
	int (*target_list)(
	    void *be, store_target_cb cb, void *arg, struct cerr *err);
	int (*target_polled)(void *be, const char *name,
	    const struct store_poll *p, struct cerr *err);
	int (*target_set_defected)(
	    void *be, const char *name, int64_t now, struct cerr *err);
	int (*target_set_location)(
	    void *be, const char *name, const char *location, struct cerr *err);
	int (*target_delete)(void *be, const char *name, struct cerr *err);

	int (*token_add)(void *be, const char *target, const char *hash_hex,
	    int64_t now, int64_t expires_at, struct cerr *err);
	int (*token_use)(void *be, const char *target, const char *hash_hex,
	    int64_t now, struct cerr *err);
	int (*revoke)(void *be, const char *serial_hex, const char *name,
	    int64_t now, struct cerr *err);
	int (*revoked_list)(
	    void *be, store_serial_cb cb, void *arg, struct cerr *err);

	int (*job_put)(void *be, const char *name, const char *doc, int64_t now,
	    int *created_out, struct cerr *err);
	int (*job_get)(void *be, const char *name, store_job_cb cb, void *arg,
	    struct cerr *err);
	int (*job_list)(void *be, store_job_cb cb, void *arg, struct cerr *err);
	int (*job_delete)(void *be, const char *name, struct cerr *err);
	int (*job_targets_set)(void *be, const char *job,
	    const char *const *targets, size_t n, struct cerr *err);
	int (*job_targets_list)(void *be, const char *job, store_name_cb cb,
	    void *arg, struct cerr *err);
	int (*target_jobs_list)(void *be, const char *target, store_name_cb cb,
	    void *arg, struct cerr *err);

	int (*instr_post)(void *be, const char *target, enum instr_op op,
	    const char *object, const char *payload, int64_t now,
	    int64_t *id_out, struct cerr *err);
	int (*instr_fetch)(void *be, const char *target, int64_t after_id,
	    int limit, int64_t now, store_instr_cb cb, void *arg,
	    struct cerr *err);
	int (*instr_ack)(void *be, const char *target, int64_t id, int ok,
	    const char *error, int64_t now, enum instr_op *first_op,
	    struct cerr *err);
	int (*instr_list)(void *be, const struct store_instr_filter *f,
	    store_instr_cb cb, void *arg, struct cerr *err);
	int (*instr_clear)(void *be, int64_t id, struct cerr *err);
	int (*instr_get)(void *be, int64_t id, store_instr_cb cb, void *arg,
	    struct cerr *err);
	int (*instr_withdraw)(void *be, int64_t id, struct cerr *err);
	int (*instr_drop_pending)(
	    void *be, const char *target, struct cerr *err);
	int (*instr_trim)(void *be, int64_t keep, struct cerr *err);

	int (*run_put)(void *be, const struct store_run *r, struct cerr *err);
	int (*run_list)(void *be, const struct store_run_filter *f,
	    store_run_cb cb, void *arg, struct cerr *err);
	int (*history_trim)(
	    void *be, int64_t max_rows, int64_t max_per_job, struct cerr *err);

	int (*group_create)(
	    void *be, const char *name, int64_t now, struct cerr *err);
	int (*group_delete)(void *be, const char *name, struct cerr *err);
	int (*group_add)(void *be, const char *group, const char *target,
	    int *added_out, struct cerr *err);
	int (*group_remove)(
	    void *be, const char *group, const char *target, struct cerr *err);
	int (*group_list)(
	    void *be, store_name_cb cb, void *arg, struct cerr *err);
	int (*group_members)(void *be, const char *group, store_name_cb cb,
	    void *arg, struct cerr *err);

	int (*history_purge)(void *be, const char *job, int64_t before_ms,
	    int64_t *deleted_out, struct cerr *err);
	int (*history_trim_job)(
	    void *be, const char *job, int64_t keep, struct cerr *err);
	/* security: issued certificates and the audit log */
	int (*cert_add)(void *be, const struct store_cert *c, struct cerr *err);
	int (*cert_get)(void *be, const char *serial_hex,
	    struct store_cert *out, struct cerr *err);
	int (*cert_list)(void *be, const char *name, store_cert_cb cb,
	    void *arg, struct cerr *err);
	int (*target_set_serial)(void *be, const char *name,
	    const char *serial_hex, struct cerr *err);
	int (*audit_add)(
	    void *be, const struct store_audit *a, struct cerr *err);
	int (*audit_list)(void *be, const struct store_audit_filter *f,
	    store_audit_cb cb, void *arg, struct cerr *err);
	int (*audit_trim)(void *be, int64_t max_rows, struct cerr *err);
	/* events, operators, notifications */
	int (*run_last_per_target)(void *be, const char *job, store_run_cb cb,
	    void *arg, struct cerr *err);
	int (*event_add)(void *be, const struct store_event *e, int *added_out,
	    struct cerr *err);
	int (*event_list)(void *be, const struct store_event_filter *f,
	    store_event_cb cb, void *arg, struct cerr *err);
	int (*event_trim)(void *be, int64_t keep, struct cerr *err);
	int (*operator_add)(
	    void *be, const struct store_operator *op, struct cerr *err);
	int (*operator_get)(void *be, const char *name, store_operator_cb cb,
	    void *arg, struct cerr *err);
	int (*operator_get_default)(
	    void *be, store_operator_cb cb, void *arg, struct cerr *err);
	int (*operator_list)(
	    void *be, store_operator_cb cb, void *arg, struct cerr *err);
	int (*operator_set_default)(
	    void *be, const char *name, struct cerr *err);
	int (*operator_delete)(void *be, const char *name, struct cerr *err);
	int (*notification_add)(void *be, const struct store_notification *n,
	    int *added_out, struct cerr *err);
	int (*notification_due)(void *be, int64_t now, int limit,
	    store_notification_cb cb, void *arg, struct cerr *err);
	int (*notification_next_due)(
	    void *be, int64_t *next_at_out, int *found_out, struct cerr *err);
	int (*notification_update)(void *be, int64_t id,
	    enum delivery_status status, int attempts, int64_t next_at,
	    const char *last_error, int64_t now, struct cerr *err);
	int (*notification_list)(void *be,
	    const struct store_notification_filter *f, store_notification_cb cb,
	    void *arg, struct cerr *err);
	int (*notification_trim)(void *be, int64_t keep, struct cerr *err);
	/* scale-out: workers and their executions */
	int (*worker_seen)(void *be, const char *name, int64_t max_tasks,
	    int64_t now, int *created_out, struct cerr *err);
	int (*worker_set_enabled)(
	    void *be, const char *name, int enabled, struct cerr *err);
	int (*worker_list)(
	    void *be, store_worker_cb cb, void *arg, struct cerr *err);
	int (*exec_add)(void *be, const struct store_exec *e, int64_t *id_out,
	    struct cerr *err);
	int (*exec_update)(
	    void *be, const struct store_exec *e, struct cerr *err);
	int (*exec_get)(void *be, int64_t id, store_exec_cb cb, void *arg,
	    struct cerr *err);
	int (*exec_list)(void *be, int which, int64_t limit, store_exec_cb cb,
	    void *arg, struct cerr *err);
	int (*exec_by_instr)(void *be, const char *worker, int64_t instr_id,
	    store_exec_cb cb, void *arg, struct cerr *err);
	int (*exec_trim)(
	    void *be, int64_t keep, int64_t *deleted_out, struct cerr *err);
	/* The lease (store_lease.h). */
	int lease_shared; /* several masters may share the store */
	int (*lease_acquire)(void *be, const char *holder, const char *url,
	    int64_t ttl_ms, struct store_lease *out, int *taken,
	    struct cerr *err);
	int (*lease_renew)(void *be, const char *holder, int64_t epoch,
	    int64_t ttl_ms, struct cerr *err);
	int (*lease_release)(void *be, int64_t epoch, struct cerr *err);
	int (*lease_get)(void *be, struct store_lease *out, struct cerr *err);
	void (*lease_fence)(void *be, int64_t epoch);
	int (*lease_fenced)(void *be);
};

/* What store.c holds: the table and the backend's own state. */
struct store {
	const struct store_ops *ops;
	void *be;
};

/* Opens the SQLite store at path (store_sqlite.c): fills s->ops and s->be
 * on success, leaves s untouched on failure. */
int store_sqlite_open(const char *path, struct store *s, struct cerr *err);

#endif
