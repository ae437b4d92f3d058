/*
 * api: the master's request handlers, one file per resource
 * (api_<resource>.c). Each receives a struct http_req whose caller has
 * already passed the route's role check (routes.c) and whose body, if any,
 * is parsed JSON within the configured limits; each ends with exactly one
 * http_reply_*() or hands the request to the long-poll.
 */
#ifndef COHORT_API_H
#define COHORT_API_H

#include "common/eventrec.h"
#include "common/runrec.h"
#include "master/http.h"
#include "master/serials.h"
#include "store/store.h"

/* api_session.c */
void api_whoami(struct http_req *r);
void api_ca(struct http_req *r);

/* api_enlist.c */
void api_token_create(struct http_req *r);
void api_enlist(struct http_req *r);

/* api_targets.c */
void api_targets_list(struct http_req *r);
void api_target_get(struct http_req *r);
void api_target_delete(struct http_req *r);

/* api_jobs.c */
void api_jobs_list(struct http_req *r);
void api_job_get(struct http_req *r);
void api_job_put(struct http_req *r);
void api_job_delete(struct http_req *r);
void api_job_start(struct http_req *r);
void api_job_stop(struct http_req *r);
void api_job_next(struct http_req *r);

/* api_why.c */
void api_job_why(struct http_req *r);

/* api_history.c */
void api_history(struct http_req *r);
void api_downloadlist(struct http_req *r);
void api_history_purge(struct http_req *r);

/* api_poll.c: the calls targets make */
void api_poll(struct http_req *r);
void api_outbox(struct http_req *r);

/* api_defect.c: a target leaving, on its own or the master's request */
void api_defect(struct http_req *r);
void api_target_defect(struct http_req *r);

/* api_groups.c */
void api_groups_list(struct http_req *r);
void api_group_create(struct http_req *r);
void api_group_delete(struct http_req *r);
void api_group_add(struct http_req *r);
void api_group_remove(struct http_req *r);

/* api_downloads.c */
void api_downloadlist_clear(struct http_req *r);
void api_target_resync(struct http_req *r);
void api_target_settings(struct http_req *r);

/* ---- request readers ----
 * The checks a handler makes on outside bytes before it touches the store,
 * as pure functions of the parsed body: the handlers call exactly these,
 * and fuzz/fuzz_http.c drives them with arbitrary requests. */

#define API_CSR_MAX_BYTES 16384

struct api_poll_body {
	const char *name; /* borrowed from the body */
	const char *version;
	int64_t after;
	int64_t wait_s;
	int64_t local_time;
	int64_t tz_offset_s;
	int64_t poll_interval_s;
	int64_t outbox_dropped; /* target's outbox overflow count */
	/* the highest seq in the target's outbox, 0 when empty; -1: not
	 * sent (an older target) */
	int64_t outbox_pending_upto;
	int64_t max_tasks; /* a scale-out worker's, 0: not a worker */
	const json_t *acks; /* array or NULL */
};
int api_poll_read(
    const json_t *body, struct api_poll_body *p, struct cerr *err);
/* One element of acks; *error is "" when the target sent none. */
int api_poll_read_ack(const json_t *a, size_t i, int64_t *id, int *ok,
    const char **error, struct cerr *err);
/* One uploaded outbox item: a run record (rep, the caller frees it) or a
 * forwarded event; -1 with the reason when it must be refused. */
struct api_outbox_item {
	enum { API_ITEM_RUN, API_ITEM_EVENT } kind;
	struct run_report *rep;
	struct eventrec ev;
};
int api_outbox_read_item(
    const json_t *item, struct api_outbox_item *out, struct cerr *err);

struct api_enlist_body {
	const char *name; /* borrowed from the body */
	const char *token;
	const char *csr;
	const char *version;
	int64_t poll_interval_s;
};
int api_enlist_read(
    const json_t *body, struct api_enlist_body *e, struct cerr *err);
/* api_certs.c (security) */
void api_certs_list(struct http_req *r);
void api_cert_issue(struct http_req *r);
void api_cert_revoke(struct http_req *r);
void api_cert_renew(struct http_req *r);
/* On a target connection's first poll, with its row: a target calling
 * with its current certificate has every other one of its name revoked.
 * 0 when done (or nothing was due), -1 when the store failed (logged;
 * the next poll tries again). */
int api_certs_seen(struct master *m, const struct http_caller *c,
    const struct store_target *t);
/* Inside the caller's transaction, revokes in the store every valid
 * target certificate issued to name; their serials are added to out, for
 * the in-memory set after the commit (serial_list_apply). */
int api_certs_revoke_target(struct master *m, const char *name,
    struct serial_list *out, struct cerr *err);

/* api_audit.c (security) */
void api_audit_list(struct http_req *r);
/* Records a change request that reached its handler (see api_audit.c). */
/* For a handler whose success ends this master's right to write (the
 * lease given up): its row, with the status it will answer, written
 * before; the front then writes none. */
void api_audit_record_early(struct http_req *r, enum evhttp_cmd_type method,
    const char *path, int status);
void api_audit_record(
    const struct http_req *r, const struct http_route *rt, const char *path);
/* api_events.c */
void api_events_list(struct http_req *r);

/* api_operators.c */
void api_operators_list(struct http_req *r);
void api_operator_create(struct http_req *r);
void api_operator_delete(struct http_req *r);
void api_operator_default(struct http_req *r);
void api_notifications_list(struct http_req *r);
/* api_ha.c: high availability */
void api_health(struct http_req *r);
void api_lease_release(struct http_req *r);
/* api_exec.c: scale-out executions and workers (scaleout.h) */
void api_exec_submit(struct http_req *r);
void api_exec_list(struct http_req *r);
void api_exec_get(struct http_req *r);
void api_workers_list(struct http_req *r);
void api_worker_enable(struct http_req *r);
void api_worker_disable(struct http_req *r);
/* api_ui.c: the web dashboard, its files under /ui/ */
void api_ui_index(struct http_req *r);
void api_ui_file(struct http_req *r);
void api_ui_redirect(struct http_req *r);
/* A standby's answer to a dashboard path: a redirect to the active
 * master's, or a page saying there is none yet. */
void api_ui_standby(struct http_req *r, const char *path);
/* api_metrics.c: GET /metrics, Prometheus text */
void api_metrics(struct http_req *r);

#endif
