/*
 * api_operators: operators (whom notifications reach, and how) and the
 * record of each notification's delivery. `cohortctl master init` makes
 * the operator "default" (kind log); an operator the jobs name, or the
 * default one, cannot be deleted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common/jobdoc.h"
#include "common/json.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "master/api.h"
#include "master/deliver.h"
#include "master/master.h"
#include "master/notify.h"
#include "store/store.h"

#define DEFAULT_LIMIT 100
#define MAX_LIMIT 100000

/* A webhook's URL may carry a password (https://user:pw@host/...): the
 * listing, which viewers read, shows it as the mask, as it does a
 * secret. NULL on out-of-memory; curl_free() the result. */
static char *
address_shown(const struct store_operator *op)
{
	CURLU *u = NULL;
	char *pw = NULL, *shown = NULL;

	if (op->kind != OPERATOR_WEBHOOK || (u = curl_url()) == NULL ||
	    curl_url_set(u, CURLUPART_URL, op->address, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &pw, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PASSWORD, JOB_SECRET_MASK, 0) !=
		CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &shown, 0) != CURLUE_OK) {
		curl_free(shown);
		shown = NULL;
	}
	curl_free(pw);
	curl_url_cleanup(u);
	return shown;
}

static int
operator_cb(void *arg, const struct store_operator *op)
{
	char *masked = address_shown(op);
	int rc = json_array_append_new(arg,
	    json_pack("{s:s,s:s,s:s,s:b,s:o}", "name", op->name, "kind",
		store_operator_kind_name(op->kind), "address",
		masked != NULL ? masked : op->address, "default",
		op->is_default, "created_at",
		json_utc_or_null(op->created_at)));

	curl_free(masked);
	return rc;
}

void
api_operators_list(struct http_req *r)
{
	json_t *list = json_array();
	struct cerr err;

	if (store_operator_list(r->m->store, operator_cb, list, &err) < 0) {
		json_decref(list);
		http_reply_error(r, &err);
		return;
	}
	http_reply_json(r, 200, list);
}

/* Reads {"name", "kind", "address", "default"} into op. */
static int
operator_read(const json_t *body, struct store_operator *op, struct cerr *err)
{
	static const char *const keys[] = {
	    "name", "kind", "address", "default", NULL};
	const char *name = NULL, *kind = NULL;

	memset(op, 0, sizeof(*op));
	if (body == NULL)
		return cerr_set(err, CERR_INVALID,
		    "request body: expected "
		    "{\"name\", \"kind\", \"address\", \"default\"}");
	if (json_check_keys(body, keys, "", err) < 0 ||
	    json_get_string(body, "name", "", STORE_NAME_MAX, 0, &name, err) <
		0 ||
	    json_get_string(body, "kind", "", 16, 0, &kind, err) < 0 ||
	    json_get_string(body, "address", "", STORE_ADDRESS_MAX, 0,
		&op->address, err) < 0 ||
	    json_get_bool(body, "default", "", &op->is_default, err) < 0)
		return -1;
	if (name == NULL || kind == NULL)
		return cerr_set(err, CERR_INVALID,
		    "name and kind are "
		    "required");
	if (jobdoc_check_name(name, STORE_NAME_MAX, "name", err) < 0)
		return -1;
	if (store_operator_kind_parse(kind, &op->kind) < 0)
		return cerr_set(err, CERR_INVALID,
		    "kind: '%.20s' is not one of "
		    "log, webhook, email, command",
		    kind);
	snprintf(op->name, sizeof(op->name), "%s", name);
	return deliver_check_address(op->kind, op->address, err);
}

void
api_operator_create(struct http_req *r)
{
	struct store_operator op;
	struct cerr err;

	if (operator_read(r->body, &op, &err) < 0)
		goto fail;
	op.created_at = master_now();
	if (store_operator_add(r->m->store, &op, &err) < 0)
		goto fail;
	log_info("operator_created", "operator=%s kind=%s default=%d by=%s",
	    op.name, store_operator_kind_name(op.kind), op.is_default,
	    r->caller.id.name);
	http_reply_json(r, 200,
	    json_pack("{s:s,s:s,s:b}", "name", op.name, "kind",
		store_operator_kind_name(op.kind), "default", op.is_default));
	return;
fail:
	http_reply_error(r, &err);
}

void
api_operator_delete(struct http_req *r)
{
	char job[STORE_NAME_MAX + 1];
	struct cerr err;
	int named =
	    notify_jobs_naming(r->m->store, r->args[0], job, sizeof(job), &err);

	if (named < 0)
		goto fail;
	if (named) {
		cerr_set(&err, CERR_CONFLICT,
		    "operator '%s' is used by job "
		    "'%s' (notify.operator); change the job first",
		    r->args[0], job);
		goto fail;
	}
	if (store_operator_delete(r->m->store, r->args[0], &err) < 0)
		goto fail;
	log_info("operator_deleted", "operator=%s by=%s", r->args[0],
	    r->caller.id.name);
	http_reply_ok(r);
	return;
fail:
	http_reply_error(r, &err);
}

void
api_operator_default(struct http_req *r)
{
	struct cerr err;

	if (store_operator_set_default(r->m->store, r->args[0], &err) < 0) {
		http_reply_error(r, &err);
		return;
	}
	log_info("operator_default", "operator=%s by=%s", r->args[0],
	    r->caller.id.name);
	http_reply_json(
	    r, 200, json_pack("{s:s,s:b}", "name", r->args[0], "default", 1));
}

static int
notification_cb(void *arg, const struct store_notification *n)
{
	return json_array_append_new(arg,
	    json_pack("{s:I,s:s,s:s,s:s,s:i,s:s,s:o,s:o,s:o}", "id",
		(json_int_t)n->id, "operator", n->operator_name, "subject",
		n->subject, "status", store_delivery_status_name(n->status),
		"attempts", n->attempts, "last_error", n->last_error,
		"created_at", json_utc_or_null(n->created_at), "updated_at",
		json_utc_or_null(n->updated_at), "next_attempt_at",
		n->status == DELIVERY_PENDING ? json_utc_or_null(n->next_at)
					      : json_null()));
}

void
api_notifications_list(struct http_req *r)
{
	struct store_notification_filter f = {
	    http_query(r, "operator"), -1, DEFAULT_LIMIT};
	const char *status = http_query(r, "status");
	json_t *list = json_array();
	enum delivery_status st;
	struct cerr err;

	if (status != NULL) {
		if (store_delivery_status_parse(status, &st) < 0) {
			cerr_set(&err, CERR_INVALID,
			    "query parameter status: "
			    "'%.40s' is not one of pending, delivered, failed",
			    status);
			goto fail;
		}
		f.status = (int)st;
	}
	if (http_query_int(r, "limit", 1, MAX_LIMIT, &f.limit, &err) < 0 ||
	    store_notification_list(
		r->m->store, &f, notification_cb, list, &err) < 0)
		goto fail;
	http_reply_json(r, 200, list);
	return;
fail:
	json_decref(list);
	http_reply_error(r, &err);
}
