/*
 * routes: the one table of the master's API: method, path, the roles
 * allowed, the handler. Access control is this table and nothing else; a
 * unit test checks every handler appears here and every route's roles.
 */
#include "master/api.h"

#define R(m, p, roles_, h, doc)                                                \
	{                                                                      \
		.method = EVHTTP_REQ_##m, .pattern = p, .roles = roles_,       \
		.handler = h, .summary = doc                                   \
	}
/* A read with query parameters (q: their names, space-separated). */
#define RP(m, p, roles_, h, doc, q)                                            \
	{                                                                      \
		.method = EVHTTP_REQ_##m, .pattern = p, .roles = roles_,       \
		.handler = h, .summary = doc, .query = q                       \
	}
#define ANYONE_CERT (HTTP_READERS | HTTP_TARGET)
#define RUNNERS (HTTP_ADMIN | HTTP_OPERATOR)
/* A change that is not audited (see api_audit.c). */
#define RQ(m, p, roles_, h, doc)                                               \
	{                                                                      \
		.method = EVHTTP_REQ_##m, .pattern = p, .roles = roles_,       \
		.handler = h, .summary = doc, .quiet = 1                       \
	}

/* A request that takes no body: anything but none or {} is refused, so a
 * field the caller thought it set is never silently ignored. */
#define RN(m, p, roles_, h, doc)                                               \
	{                                                                      \
		.method = EVHTTP_REQ_##m, .pattern = p, .roles = roles_,       \
		.handler = h, .summary = doc, .no_body = 1                     \
	}

const struct http_route http_routes[] = {
    R(GET, "/v1/whoami", ANYONE_CERT, api_whoami,
	"the caller's certificate name and role"),
    R(GET, "/v1/ca", HTTP_ANON, api_ca,
	"the CA certificate (enlisting targets check it against the "
	"fingerprint in their token)"),
    R(POST, "/v1/enlist", HTTP_ANON, api_enlist,
	"enlist a target with a one-time token and a CSR"),
    R(POST, "/v1/targets/{name}/token", HTTP_ADMIN, api_token_create,
	"issue a one-time enlistment token"),
    R(GET, "/v1/targets", HTTP_READERS, api_targets_list, "list targets"),
    R(GET, "/v1/targets/{name}", HTTP_READERS, api_target_get, "one target"),
    RN(DELETE, "/v1/targets/{name}", HTTP_ADMIN, api_target_delete,
	"delete a target and revoke its certificate"),
    RP(GET, "/v1/jobs", HTTP_READERS, api_jobs_list,
	"list jobs (?last_outcomes=1: with each one's last finished run "
	"per target, as one job shows)",
	"last_outcomes"),
    R(GET, "/v1/jobs/{name}", HTTP_READERS, api_job_get, "one job"),
    R(PUT, "/v1/jobs/{name}", HTTP_ADMIN, api_job_put,
	"create or replace a job from its document"),
    RN(DELETE, "/v1/jobs/{name}", HTTP_ADMIN, api_job_delete,
	"delete a job (posts a delete to its targets)"),
    R(POST, "/v1/jobs/{name}/start", RUNNERS, api_job_start,
	"start a job on its targets or one of them"),
    R(POST, "/v1/jobs/{name}/stop", RUNNERS, api_job_stop,
	"stop a running job on its targets or one of them"),
    RP(GET, "/v1/history", HTTP_READERS, api_history, "run history",
	"job target outcome since until run_id step attempt limit output "
	"whole_runs jobs_only"),
    R(POST, "/v1/history/purge", HTTP_ADMIN, api_history_purge,
	"delete history by job and age"),
    RP(GET, "/v1/jobs/{name}/next", HTTP_READERS, api_job_next,
	"preview a job's next runs per schedule, marking DST", "count"),
    RP(GET, "/v1/jobs/{name}/why", HTTP_READERS, api_job_why,
	"explain what a job does or does not do on its targets or one of "
	"them (query: target)",
	"target"),
    RP(GET, "/v1/downloadlist", HTTP_READERS, api_downloadlist,
	"instructions posted to targets", "target status limit"),
    RQ(POST, "/v1/poll", HTTP_TARGET, api_poll,
	"target: acknowledge instructions and wait for new ones"),
    RQ(POST, "/v1/outbox", HTTP_TARGET, api_outbox,
	"target: upload run outcomes and events"),
    RN(POST, "/v1/defect", HTTP_TARGET, api_defect,
	"target: leave this master"),
    R(GET, "/v1/groups", HTTP_READERS, api_groups_list,
	"target groups and their members"),
    R(POST, "/v1/groups", HTTP_ADMIN, api_group_create,
	"create a target group"),
    RN(DELETE, "/v1/groups/{name}", HTTP_ADMIN, api_group_delete,
	"delete a target group no job names"),
    R(POST, "/v1/groups/{name}/members", HTTP_ADMIN, api_group_add,
	"add a target to a group (posts the group's jobs to it)"),
    RN(DELETE, "/v1/groups/{name}/members/{target}", HTTP_ADMIN,
	api_group_remove,
	"remove a target from a group (posts deletes it no longer gets)"),
    RN(POST, "/v1/downloadlist/{id}/clear", HTTP_ADMIN, api_downloadlist_clear,
	"clear a failed instruction (unblocks its target)"),
    RN(POST, "/v1/targets/{name}/resync", HTTP_ADMIN, api_target_resync,
	"drop pending instructions and post every job again"),
    R(POST, "/v1/targets/{name}/settings", HTTP_ADMIN, api_target_settings,
	"set a target's location and poll interval"),
    RN(POST, "/v1/targets/{name}/defect", HTTP_ADMIN, api_target_defect,
	"post a target a defect: it removes its multiserver jobs, uploads "
	"what it holds and leaves"),
    /* security */
    R(GET, "/v1/certs", HTTP_READERS, api_certs_list,
	"certificates the master issued, with their expiry and revocation"),
    R(POST, "/v1/certs", HTTP_ADMIN, api_cert_issue,
	"issue a person's certificate (admin, operator, viewer) from a CSR"),
    R(POST, "/v1/certs/revoke", HTTP_ADMIN, api_cert_revoke,
	"revoke a certificate by serial, or every one issued to a name"),
    R(POST, "/v1/renew", HTTP_TARGET, api_cert_renew,
	"target: a new certificate for a new key, before the old expires"),
    RP(GET, "/v1/audit", HTTP_READERS, api_audit_list,
	"the audit log of changes made through the API", "since limit"),
    RP(GET, "/v1/events", HTTP_READERS, api_events_list,
	"events forwarded by targets (filters: target, severity)",
	"target severity limit"),
    R(GET, "/v1/operators", HTTP_READERS, api_operators_list,
	"operators: whom notifications reach, and how"),
    R(POST, "/v1/operators", HTTP_ADMIN, api_operator_create,
	"create an operator (webhook, email, command or log)"),
    RN(DELETE, "/v1/operators/{name}", HTTP_ADMIN, api_operator_delete,
	"delete an operator no job names and that is not the default"),
    RN(POST, "/v1/operators/{name}/default", HTTP_ADMIN, api_operator_default,
	"make an operator the default one"),
    RP(GET, "/v1/notifications", HTTP_READERS, api_notifications_list,
	"notifications and their delivery (filters: operator, status)",
	"operator status limit"),
    R(GET, "/v1/health", HTTP_ANON, api_health,
	"active or standby, and the active master's URL (200 when "
	"active, 503 on a standby; answered by a standby too)"),
    RN(POST, "/v1/lease/release", HTTP_ADMIN, api_lease_release,
	"the active master gives up its lease to a standby (the "
	"failover drill)"),
    /* metrics: a scraper gets a viewer certificate */
    R(GET, "/metrics", HTTP_READERS, api_metrics,
	"Prometheus text metrics (format 0.0.4; answered by a standby "
	"too)"),
    /* scale-out executions and workers */
    R(POST, "/v1/executions", RUNNERS, api_exec_submit,
	"queue one execution of a job for exactly one eligible worker "
	"(body: job, group or workers, retries)"),
    RP(GET, "/v1/executions", HTTP_READERS, api_exec_list,
	"the execution queue (query: status, limit): newest first; "
	"open ones oldest first",
	"status limit"),
    R(GET, "/v1/executions/{id}", HTTP_READERS, api_exec_get,
	"one execution: its worker, attempt and reason"),
    R(GET, "/v1/workers", HTTP_READERS, api_workers_list,
	"scale-out workers: enabled, online, tasks"),
    RN(POST, "/v1/workers/{name}/enable", HTTP_ADMIN, api_worker_enable,
	"let a worker take executions"),
    RN(POST, "/v1/workers/{name}/disable", HTTP_ADMIN, api_worker_disable,
	"a worker finishes what it runs and takes nothing new"),
    /* the web dashboard: static files; what it shows it reads from
     * /v1/ with the same certificate */
    R(GET, "/ui", HTTP_READERS, api_ui_redirect, "redirects to /ui/"),
    R(GET, "/ui/", HTTP_READERS, api_ui_index, "the web dashboard"),
    R(GET, "/ui/{file}", HTTP_READERS, api_ui_file,
	"the dashboard's scripts and styles"),
    {.pattern = NULL},
};
