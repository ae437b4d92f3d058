/*
 * api: the master's request handlers, one file per resource
 * (api_<resource>.c). Each receives a struct http_req whose caller has
 * already passed the route's role check (routes.c) and whose body, if any,
 * is parsed JSON within the configured limits; each ends with exactly one
 * http_reply_*() or hands the request to the long-poll.
 */
#ifndef COHORT_API_H
#define COHORT_API_H

#include "master/http.h"

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

/* api_history.c */
void api_history(struct http_req *r);
void api_downloadlist(struct http_req *r);

/* api_poll.c: the calls targets make */
void api_poll(struct http_req *r);
void api_outbox(struct http_req *r);
void api_defect(struct http_req *r);

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

/* api_ha.c: high availability */
void api_health(struct http_req *r);
void api_lease_release(struct http_req *r);

#endif
