/*
 * api_poll: the calls a target makes. Its identity is its certificate's
 * name, never anything in the body: a target can only acknowledge its own
 * instructions, read its own download list and upload its own outcomes.
 *
 * A poll carries the acknowledgements of what the target applied since its
 * last poll and its status (clock, UTC offset, poll interval, version);
 * the answer is its next instructions, at once if there are any, else when
 * one is posted or the hold time ends.
 *
 * An upload carries outbox records: run reports (kind "run") and events
 * (kind "event"), each read strictly before anything is stored; in the
 * same transaction the notifications they call for are queued
 * (notify.c), and the sender is woken after the commit.
 */
#include <stdlib.h>
#include <string.h>

#include "common/eventrec.h"
#include "common/json.h"
#include "common/log.h"
#include "common/runrec.h"
#include "common/version.h"
#include "master/api.h"
#include "master/deliver.h"
#include "master/longpoll.h"
#include "master/master.h"
#include "master/notify.h"
#include "master/outbox_seen.h"
#include "master/scaleout.h"
#include "store/store.h"

#define MAX_ACKS 1000
#define MAX_UPLOAD_ITEMS 1000

int
api_poll_read(const json_t *body, struct api_poll_body *p, struct cerr *err)
{
	static const char *const keys[] = {"name", "version", "after", "wait_s",
	    "local_time", "tz_offset_s", "poll_interval_s", "acks",
	    "outbox_dropped", "outbox_pending_upto", "max_tasks", NULL};

	memset(p, 0, sizeof(*p));
	p->poll_interval_s = 60;
	p->outbox_pending_upto = -1;
	if (body == NULL)
		return cerr_set(err, CERR_INVALID, "request body is missing");
	if (json_check_keys(body, keys, "", err) < 0 ||
	    json_get_string(
		body, "name", "", STORE_NAME_MAX, 0, &p->name, err) < 0 ||
	    json_get_string(body, "version", "", 31, 0, &p->version, err) < 0 ||
	    json_get_int(body, "after", "", 0, INT64_MAX, &p->after, err) < 0 ||
	    json_get_int(body, "wait_s", "", 0, 3600, &p->wait_s, err) < 0 ||
	    json_get_int(body, "local_time", "", 0, INT64_MAX / 2,
		&p->local_time, err) < 0 ||
	    json_get_int(body, "tz_offset_s", "", -RUNREC_TZ_MAX_S,
		RUNREC_TZ_MAX_S, &p->tz_offset_s, err) < 0 ||
	    json_get_int(body, "poll_interval_s", "", 1, 28800,
		&p->poll_interval_s, err) < 0 ||
	    json_get_int(body, "outbox_dropped", "", 0, INT64_MAX / 2,
		&p->outbox_dropped, err) < 0 ||
	    json_get_int(body, "outbox_pending_upto", "", 0, INT64_MAX / 2,
		&p->outbox_pending_upto, err) < 0 ||
	    json_get_int(body, "max_tasks", "", 1, 10000, &p->max_tasks, err) <
		0)
		return -1;
	if (p->name == NULL || p->version == NULL)
		return cerr_set(err, CERR_INVALID,
		    "name and version are "
		    "required");
	p->acks = json_object_get(body, "acks");
	if (p->acks != NULL &&
	    (!json_is_array(p->acks) || json_array_size(p->acks) > MAX_ACKS))
		return cerr_set(err, CERR_INVALID,
		    "acks: must be an array of "
		    "at most %d",
		    MAX_ACKS);
	return 0;
}

int
api_poll_read_ack(const json_t *a, size_t i, int64_t *id, int *ok,
    const char **error, struct cerr *err)
{
	static const char *const keys[] = {"id", "ok", "error", NULL};

	*id = 0;
	*ok = 1;
	*error = "";
	if (json_check_keys(a, keys, "acks[]", err) < 0 ||
	    json_get_int(a, "id", "acks[]", 1, INT64_MAX, id, err) != 0 ||
	    json_get_bool(a, "ok", "acks[]", ok, err) < 0 ||
	    json_get_string(a, "error", "acks[]", 1000, 1, error, err) < 0)
		return cerr_set(err, CERR_INVALID,
		    "acks[%zu]: needs an id, ok "
		    "and optional error",
		    i + 1);
	return 0;
}

/* Reads and checks every acknowledgement before anything is recorded,
 * so a malformed one changes nothing. *out is new (longpoll_acks_free). */
static int
read_acks(const json_t *acks, struct longpoll_ack **out, size_t *nout,
    struct cerr *err)
{
	size_t n = json_array_size(acks), i;
	struct longpoll_ack *list = calloc(n + 1, sizeof(*list));
	json_t *a;

	if (list == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	json_array_foreach(acks, i, a)
	{
		const char *error;

		if (api_poll_read_ack(
			a, i, &list[i].id, &list[i].ok, &error, err) < 0) {
			longpoll_acks_free(list, i);
			return -1;
		}
		if (error[0] != '\0' &&
		    (list[i].error = strdup(error)) == NULL) {
			longpoll_acks_free(list, i);
			return cerr_set(err, CERR_INTERNAL, "out of memory");
		}
	}
	*out = list;
	*nout = n;
	return 0;
}

/* A target whose row is gone or defected is told so and stops polling. */
static int
check_enlisted(struct master *m, const char *name, struct store_target *t,
    struct cerr *err)
{
	if (store_target_get(m->store, name, t, err) < 0) {
		if (err->code == CERR_NOT_FOUND)
			cerr_set(err, CERR_GONE,
			    "target '%s' is not enlisted "
			    "with this master (deleted?)",
			    name);
		return -1;
	}
	if (t->defected)
		return cerr_set(
		    err, CERR_GONE, "target '%s' has defected", name);
	return 0;
}

/* A target with a certificate of the external CA (client_ca, mapped to
 * the role target) enlists by polling: its row is made on its first poll
 * and follows its certificate's serial (security). */
static int
external_enlist(struct master *m, const struct http_caller *c,
    const struct api_poll_body *p, struct cerr *err)
{
	struct store_target t;
	int rc = store_target_get(m->store, c->id.name, &t, err);

	if (rc == 0 && !t.defected) {
		if (strcmp(t.cert_serial, c->id.serial_hex) == 0)
			return 0;
		return store_target_set_serial(
		    m->store, c->id.name, c->id.serial_hex, err);
	}
	if (rc < 0 && err->code != CERR_NOT_FOUND)
		return -1;
	memset(&t, 0, sizeof(t));
	snprintf(t.name, sizeof(t.name), "%s", c->id.name);
	snprintf(t.version, sizeof(t.version), "%s", p->version);
	snprintf(t.cert_serial, sizeof(t.cert_serial), "%s", c->id.serial_hex);
	t.enlisted_at = master_now();
	t.poll_interval_s = (int32_t)p->poll_interval_s;
	if (store_target_add(m->store, &t, err) < 0)
		return -1;
	outbox_seen_forget(m, t.name);
	log_info("enlisted", "target=%s serial=%s by=client_ca_map", t.name,
	    t.cert_serial);
	return 0;
}

/* Name, version and enlistment. The enlistment is checked on the first
 * poll of each connection only: later, deleting or defecting a target
 * revokes its certificate, which every request is checked against, and
 * recording the poll finds a deleted row gone. */
static int
check_poll(struct http_req *r, const struct api_poll_body *p, struct cerr *err)
{
	const char *name = r->caller.id.name;
	struct store_target t;

	if (strcmp(p->name, name) != 0)
		return cerr_set(err, CERR_CONFLICT,
		    "configured name '%s' does "
		    "not match certificate name '%s': defect, rename, enlist "
		    "again",
		    p->name, name);
	if (version_check_peer(version_string(), p->version, err) < 0)
		return -1;
	if (r->conn != NULL && r->conn->target_checked)
		return 0;
	if ((r->caller.external &&
		external_enlist(r->m, &r->caller, p, err) < 0) ||
	    check_enlisted(r->m, name, &t, err) < 0)
		return -1;
	if (api_certs_seen(r->m, &r->caller, &t) == 0 && r->conn != NULL)
		r->conn->target_checked = 1;
	return 0;
}

/* A scale-out worker's poll registers it, once per connection and again
 * when its max_tasks changes. */
static int
check_worker(
    struct http_req *r, const struct api_poll_body *p, struct cerr *err)
{
	if (p->max_tasks == 0 ||
	    (r->conn != NULL && r->conn->worker_tasks == p->max_tasks))
		return 0;
	if (scaleout_worker_seen(r->m, r->caller.id.name, p->max_tasks, err) <
	    0)
		return -1;
	if (r->conn != NULL)
		r->conn->worker_tasks = (int)p->max_tasks;
	return 0;
}

/* The poll is recorded and answered (or held) by the long-poll batch at
 * the end of this turn of the event loop (longpoll.h). */
void
api_poll(struct http_req *r)
{
	const char *name = r->caller.id.name;
	struct longpoll_req lr;
	struct evhttp_request *req;
	struct api_poll_body p;
	struct cerr err;

	memset(&lr, 0, sizeof(lr));
	if (api_poll_read(r->body, &p, &err) < 0 ||
	    check_poll(r, &p, &err) < 0 || check_worker(r, &p, &err) < 0 ||
	    outbox_seen_poll(r->m, name, p.outbox_pending_upto, &err) < 0 ||
	    (p.acks != NULL &&
		read_acks(p.acks, &lr.acks, &lr.nacks, &err) < 0))
		goto fail;
	lr.target = name;
	lr.after = p.after;
	lr.wait_s = (int)(p.wait_s < r->m->conf->longpoll_max_s
		? p.wait_s
		: r->m->conf->longpoll_max_s);
	if (p.max_tasks > 0 && lr.wait_s > SCALEOUT_HEARTBEAT_S)
		lr.wait_s = SCALEOUT_HEARTBEAT_S;
	lr.local_time = p.local_time;
	lr.tz_offset_s = (int32_t)p.tz_offset_s;
	lr.poll_interval_s = (int32_t)p.poll_interval_s;
	lr.version = p.version;
	lr.outbox_dropped = p.outbox_dropped;
	lr.worker = p.max_tasks > 0;
	req = http_defer(r);
	if (longpoll_queue(r->m, req, &lr, &err) < 0) {
		longpoll_acks_free(lr.acks, lr.nacks);
		http_send_json(req, cerr_http_status(err.code),
		    json_pack("{s:{s:s,s:s}}", "error", "code",
			cerr_code_name(err.code), "message", err.msg));
		metrics_http(&r->m->metrics, cerr_http_status(err.code), -1);
	}
	return;
fail:
	/* Store failures are logged once per interval by the reply. */
	if (err.code != CERR_GONE && err.code != CERR_STORE)
		log_warn("poll_refused", "target=%s code=%s msg=%s", name,
		    cerr_code_name(err.code), LOG_TEXT(err.msg));
	http_reply_error(r, &err);
}

static int
store_report(struct master *m, const char *target, const struct run_report *rep,
    struct cerr *err)
{
	struct store_run row;

	memset(&row, 0, sizeof(row));
	snprintf(row.target, sizeof(row.target), "%s", target);
	snprintf(row.job, sizeof(row.job), "%s", rep->job);
	row.target_run_id = rep->target_run_id;
	row.instr_id = rep->instr_id;
	row.outcome = rep->outcome;
	row.exit_code = rep->exit_code;
	row.started_at_ms = rep->started_ms;
	row.tz_offset_s = rep->tz_offset_s;
	row.duration_ms = rep->duration_ms;
	row.message = rep->message;
	row.output = "";
	if (store_run_put(m->store, &row, err) < 0)
		return -1;
	for (size_t i = 0; i < rep->nsteps; i++) {
		const struct run_step_rec *s = &rep->steps[i];

		row.step = s->step;
		row.attempt = s->attempt;
		snprintf(
		    row.step_name, sizeof(row.step_name), "%s", s->step_name);
		row.outcome = s->outcome;
		row.exit_code = s->exit_code;
		row.started_at_ms = s->started_ms;
		row.duration_ms = s->duration_ms;
		row.message = s->message;
		row.output = s->output;
		if (store_run_put(m->store, &row, err) < 0)
			return -1;
	}
	return 0;
}

int
api_outbox_read_item(
    const json_t *item, struct api_outbox_item *out, struct cerr *err)
{
	static const char *const keys[] = {"seq", "kind", "body", NULL};
	const json_t *body = json_object_get(item, "body");
	const char *kind = NULL;

	memset(out, 0, sizeof(*out));
	if (json_check_keys(item, keys, "items[]", err) < 0 ||
	    json_get_string(item, "kind", "items[]", 32, 0, &kind, err) < 0)
		return -1;
	/* Absent: json_get_string() said 1 and left err alone. */
	if (kind == NULL)
		return cerr_set(err, CERR_INVALID, "items[].kind: missing");
	if (strcmp(kind, "run") == 0) {
		out->kind = API_ITEM_RUN;
		return run_report_from_json(body, &out->rep, err);
	}
	if (strcmp(kind, "event") == 0) {
		out->kind = API_ITEM_EVENT;
		return eventrec_from_json(body, &out->ev, err);
	}
	return cerr_set(
	    err, CERR_INVALID, "items[].kind: '%s' is unknown", kind);
}

/* What an upload did, told after its commit: whether a notification
 * was queued, and the run reports stored by outcome (the metrics). */
struct upload_tally {
	int queued;
	int kick_scaleout; /* a run of an execution ended */
	uint64_t runs[OUTCOME_COUNT];
};

/* A run report: its rows, and the notification its end may call for.
 * 0 stored, 1 refused (reason in err), -1 store error. Takes rep. */
static int
upload_run(struct master *m, const char *target, struct run_report *rep,
    struct upload_tally *tally, struct cerr *err)
{
	int rc, q = 0;

	rc = store_report(m, target, rep, err);
	if (rc == 0)
		rc = notify_run(m->store, target, rep, master_now(), &q, err);
	if (rc == 0)
		rc = scaleout_run_reported(
		    m, target, rep, &tally->kick_scaleout, err);
	tally->queued |= q;
	if (rc == 0 && rep->outcome >= 0 && rep->outcome < OUTCOME_COUNT)
		tally->runs[rep->outcome]++;
	run_report_free(rep);
	return rc;
}

/* An event: stored once per (target, id); the first time it may call
 * for a notification. Returns as upload_run(). */
static int
upload_event(struct master *m, const char *target, const struct eventrec *e,
    struct upload_tally *tally, struct cerr *err)
{
	const struct eventrec ev = *e;
	struct store_event se;
	char q[EVENTREC_MESSAGE_MAX + 8];
	int added = 0, nq = 0;

	memset(&se, 0, sizeof(se));
	snprintf(se.target, sizeof(se.target), "%s", target);
	memcpy(se.event_id, ev.id, sizeof(se.event_id));
	se.time_ms = ev.time_ms;
	se.severity = ev.severity;
	se.kind = ev.kind;
	snprintf(se.job, sizeof(se.job), "%s", ev.job);
	se.target_run_id = ev.run_id;
	se.message = ev.message;
	se.received_at = master_now();
	if (store_event_add(m->store, &se, &added, err) < 0)
		return -1;
	if (!added)
		return 0;
	log_info("event", "target=%s severity=%s kind=%s msg=%s", target,
	    eventrec_severity_name(ev.severity), eventrec_kind_name(ev.kind),
	    log_quote(q, sizeof(q), ev.message));
	if (notify_event(m->store, target, &ev, master_now(), &nq, err) < 0)
		return -1;
	tally->queued |= nq;
	return 0;
}

/* One uploaded item: 0 stored, 1 refused (reason in err), -1 store error.
 * tally counts what was stored. */
static int
upload_item(struct master *m, const char *target, const json_t *item,
    struct upload_tally *tally, struct cerr *err)
{
	struct api_outbox_item it;

	if (api_outbox_read_item(item, &it, err) < 0)
		return 1;
	if (it.kind == API_ITEM_EVENT)
		return upload_event(m, target, &it.ev, tally, err);
	return upload_run(m, target, it.rep, tally, err);
}

/* *upto: the highest seq of the items, acknowledged or refused. */
static int
upload_all(struct master *m, const char *target, const json_t *items,
    json_t *acked, json_t *rejected, struct upload_tally *tally, int64_t *upto,
    struct cerr *err)
{
	size_t i;
	json_t *item;

	json_array_foreach(items, i, item)
	{
		json_int_t seq =
		    json_integer_value(json_object_get(item, "seq"));
		struct cerr why;
		int rc;

		if (seq <= 0) {
			return cerr_set(err, CERR_INVALID,
			    "items[%zu].seq: "
			    "must be a positive integer",
			    i + 1);
		}
		rc = upload_item(m, target, item, tally, &why);
		if (rc < 0) {
			*err = why;
			return -1;
		}
		if (seq > *upto)
			*upto = seq;
		if (rc == 0) {
			json_array_append_new(acked, json_integer(seq));
			continue;
		}
		/* Refused records are acknowledged too, or one bad record
		 * would block the target's outbox forever; the refusal is
		 * logged and returned. */
		log_warn("upload_refused", "target=%s seq=%lld msg=%s", target,
		    (long long)seq, LOG_TEXT(why.msg));
		json_array_append_new(rejected,
		    json_pack("{s:I,s:s}", "seq", seq, "error", why.msg));
	}
	return 0;
}

void
api_outbox(struct http_req *r)
{
	static const char *const outbox_keys[] = {"items", NULL};
	const char *name = r->caller.id.name;
	const json_t *items =
	    r->body ? json_object_get(r->body, "items") : NULL;
	json_t *acked = json_array(), *rejected = json_array();
	struct store_target t;
	struct cerr err;
	struct upload_tally tally;
	int64_t upto = 0;

	memset(&tally, 0, sizeof(tally));
	if (r->body != NULL &&
	    json_check_keys(r->body, outbox_keys, "", &err) < 0)
		goto fail;
	if (!json_is_array(items) ||
	    json_array_size(items) > MAX_UPLOAD_ITEMS) {
		cerr_set(&err, CERR_INVALID,
		    "items: must be an array of at "
		    "most %d records",
		    MAX_UPLOAD_ITEMS);
		goto fail;
	}
	if (check_enlisted(r->m, name, &t, &err) < 0 ||
	    store_begin(r->m->store, &err) < 0)
		goto fail;
	if (upload_all(
		r->m, name, items, acked, rejected, &tally, &upto, &err) < 0 ||
	    store_commit(r->m->store, &err) < 0) {
		store_rollback(r->m->store);
		goto fail;
	}
	master_store_ok(r->m);
	/* Out of memory here only costs a refusal at the master (the target
	 * still refuses a second run itself). */
	if (outbox_seen_upload(r->m, name, upto, &err) < 0)
		log_warn(
		    "outbox_seen", "target=%s msg=%s", name, LOG_TEXT(err.msg));
	for (int o = 0; o < OUTCOME_COUNT; o++)
		r->m->metrics.runs[o] += tally.runs[o];
	if (tally.queued)
		deliver_kick(r->m->deliver);
	if (tally.kick_scaleout)
		scaleout_kick(r->m);
	http_reply_json(r, 200,
	    json_pack("{s:o,s:o}", "acked", acked, "rejected", rejected));
	return;
fail:
	json_decref(acked);
	json_decref(rejected);
	http_reply_error(r, &err);
}
