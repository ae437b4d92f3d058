/*
 * api_ha: the high-availability calls (docs/ha.md). GET /v1/health is the
 * one call a standby answers: whether this master is active, and the URL
 * of the active one, with HTTP 200 on the active master and 503 on a
 * standby, so a load balancer's health check can send a shared name to
 * the active master. POST /v1/lease/release makes the active master give
 * its lease to a standby: the failover drill (cohortctl drill failover)
 * measures the takeover that follows.
 */
#include "master/api.h"
#include "master/lease.h"

void
api_health(struct http_req *r)
{
	http_reply_json(
	    r, lease_is_active(r->m) ? 200 : 503, lease_health_json(r->m));
}

void
api_lease_release(struct http_req *r)
{
	struct cerr err;
	int64_t epoch = 0;

	if (r->body != NULL && json_object_size(r->body) > 0) {
		cerr_set(&err, CERR_INVALID, "request body: expected none");
		http_reply_error(r, &err);
		return;
	}
	if (lease_may_give_up(r->m, &err) < 0) {
		http_reply_error(r, &err);
		return;
	}
	/* Written while this master may still write: once it has given the
	 * lease up, the store refuses it (the fence). */
	api_audit_record_early(r, EVHTTP_REQ_POST, "/v1/lease/release", 200);
	if (lease_give_up(r->m, &epoch, &err) < 0) {
		http_reply_error(r, &err);
		return;
	}
	http_reply_json(
	    r, 200, json_pack("{s:I}", "released_epoch", (json_int_t)epoch));
}
