/*
 * fleet_vt: one virtual target. It polls like cohortd's poll.c (name,
 * version, after, wait_s, local time, UTC offset, poll interval, acks),
 * applies what it receives by moving `after` past it (an id at or below
 * `after` is a repeated delivery and is counted, not applied again), acks
 * it in the next poll, and for each START uploads a finished run report
 * (src/common/runrec.h) through POST /v1/outbox, like upload.c.
 */
#include "fleet/fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/pki.h"
#include "common/runrec.h"
#include "common/version.h"

#define VT_MAX_ACKS 1000 /* the master's limit per poll */
#define VT_UPLOAD_BATCH 100 /* cohortd's upload batch */

struct vt *
vt_new(struct fleet *f, X509 *cert, EVP_PKEY *key, struct cerr *err)
{
	struct vt *v = calloc(1, sizeof(*v));
	struct pki_identity id;

	if (v == NULL) {
		cerr_set(err, CERR_INTERNAL, "out of memory");
		return NULL;
	}
	if (pki_cert_identity(cert, &id, err) < 0) {
		free(v);
		return NULL;
	}
	snprintf(v->name, sizeof(v->name), "%s", id.name);
	v->f = f;
	v->cert = cert;
	v->key = key;
	return v;
}

void
vt_free(struct vt *v)
{
	if (v == NULL)
		return;
	if (v->next != NULL)
		event_free(v->next);
	fconn_free(v->conn);
	fconn_free(v->up);
	for (size_t i = 0; i < v->nup; i++)
		free(v->up_jobs[i]);
	free(v->up_jobs);
	free(v->up_instr);
	free(v->acks);
	free(v->seen);
	X509_free(v->cert);
	EVP_PKEY_free(v->key);
	free(v);
}

/* Appends x to a growable int64 array. */
static int
push_i64(int64_t **a, size_t *n, size_t *cap, int64_t x)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		int64_t *g = realloc(*a, ncap * sizeof(*g));

		if (g == NULL)
			return -1;
		*a = g;
		*cap = ncap;
	}
	(*a)[(*n)++] = x;
	return 0;
}

static int
push_upload(struct vt *v, const char *job, int64_t instr_id)
{
	if (v->nup == v->up_cap) {
		size_t ncap = v->up_cap ? v->up_cap * 2 : 4;
		char **j = realloc(v->up_jobs, ncap * sizeof(*j));
		int64_t *ids;

		if (j == NULL)
			return -1;
		v->up_jobs = j;
		ids = realloc(v->up_instr, ncap * sizeof(*ids));
		if (ids == NULL)
			return -1;
		v->up_instr = ids;
		v->up_cap = ncap;
	}
	v->up_jobs[v->nup] = strdup(job);
	if (v->up_jobs[v->nup] == NULL)
		return -1;
	v->up_instr[v->nup++] = instr_id;
	return 0;
}

static void upload_send(struct vt *v);

/* One received instruction. */
static void
take_instruction(struct vt *v, const json_t *in, int64_t now_ns)
{
	struct fleet *f = v->f;
	int64_t id = json_integer_value(json_object_get(in, "id"));
	const char *op = json_string_value(json_object_get(in, "op"));
	const char *object = json_string_value(json_object_get(in, "object"));
	struct fleet_round *r = &f->round;

	if (id <= v->after) {
		f->dups++;
		return;
	}
	v->after = id;
	f->delivered++;
	if (push_i64(&v->acks, &v->nacks, &v->acks_cap, id) < 0 ||
	    (f->record &&
		push_i64(&v->seen, &v->nseen, &v->seen_cap, id) < 0)) {
		fleet_error(f, "out of memory");
		return;
	}
	if (op == NULL || object == NULL || strcmp(op, "start") != 0)
		return;
	if (r->job != NULL && strcmp(object, r->job) == 0 && r->got < r->want)
		r->lat_ns[r->got++] = now_ns - r->t0_ns;
	if (f->upload && push_upload(v, object, id) < 0)
		fleet_error(f, "out of memory");
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	vt_poll(arg);
}

static void
next_cb(evutil_socket_t fd, short what, void *arg)
{
	vt_poll(arg);
	upload_send(arg);
}

/* The next poll (and upload) goes out on the next loop turn, not from
 * inside the reply's callback: the replies that arrived in this turn
 * are all timestamped first. Sent inline, building and encrypting one
 * target's next poll delayed the receipt time of every reply behind it
 * in the same turn, which real targets on their own machines do not
 * do to each other. */
static void
poll_later(struct vt *v)
{
	struct timeval now = {0, 0};

	if (v->next == NULL)
		v->next = evtimer_new(v->f->base, next_cb, v);
	if (v->next == NULL || evtimer_add(v->next, &now) < 0)
		next_cb(-1, 0, v);
}

static void
poll_done(void *arg, int status, const char *body, size_t len)
{
	struct vt *v = arg;
	struct fleet *f = v->f;
	int64_t now_ns = fleet_now_ns();
	struct timeval later = {1, 0};
	json_t *reply, *list, *in;
	size_t i;

	v->polling = 0;
	if (status != 200) {
		fleet_error(f, "%s: poll: status %d: %.*s", v->name, status,
		    (int)(len < 200 ? len : 200), body);
		if (f->running && status != 0)
			event_base_once(
			    f->base, -1, EV_TIMEOUT, retry_cb, v, &later);
		return;
	}
	f->polls++;
	f->poll_bytes += (int64_t)len;
	if (v->replies++ == 0)
		f->connected++;
	/* The master has the acks that poll carried. */
	if (v->acks_sent > 0)
		memmove(v->acks, v->acks + v->acks_sent,
		    (v->nacks - v->acks_sent) * sizeof(*v->acks));
	v->nacks -= v->acks_sent;
	v->acks_sent = 0;
	reply = json_loadb(body, len, 0, NULL);
	list = json_object_get(reply, "instructions");
	if (!json_is_array(list))
		fleet_error(f, "%s: poll: unreadable answer", v->name);
	json_array_foreach(list, i, in) take_instruction(v, in, now_ns);
	json_decref(reply);
	poll_later(v);
}

/* The first poll is answered at once (wait_s 0), so the caller learns
 * that the connection is up; the later ones are held. */
void
vt_poll(struct vt *v)
{
	struct fleet *f = v->f;
	size_t n = v->nacks < VT_MAX_ACKS ? v->nacks : VT_MAX_ACKS;
	struct cerr err;
	struct buf b;

	if (v->polling || !f->running)
		return;
	buf_init(&b, 1 << 20);
	buf_printf(&b, &err,
	    "{\"name\":\"%s\",\"version\":\"%s\","
	    "\"after\":%lld,\"wait_s\":%d,\"local_time\":%lld,"
	    "\"tz_offset_s\":0,\"poll_interval_s\":60,\"acks\":[",
	    v->name, version_string(), (long long)v->after,
	    v->replies == 0 ? 0 : f->wait_s,
	    (long long)(fleet_now_ns() / 1000000000));
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, &err, "%s{\"id\":%lld,\"ok\":true}",
		    i ? "," : "", (long long)v->acks[i]);
	if (buf_puts(&b, "]}", &err) < 0 ||
	    fconn_request(v->conn, "POST", "/v1/poll", b.data, b.len, poll_done,
		v, &err) < 0) {
		fleet_error(f, "%s: poll: %s", v->name, err.msg);
		buf_cleanup(&b);
		return;
	}
	buf_cleanup(&b);
	v->acks_sent = n;
	v->polling = 1;
	v->held_since_ns = fleet_now_ns();
}

int
vt_start(struct vt *v, struct cerr *err)
{
	if (v->conn == NULL) {
		v->conn = fconn_new(v->f, v->cert, v->key, err);
		if (v->conn == NULL)
			return -1;
	}
	vt_poll(v);
	return 0;
}

size_t
vt_count_held(struct fleet *f, int64_t min_age_ns)
{
	int64_t now = fleet_now_ns();
	size_t n = 0;

	for (size_t i = 0; i < f->nvts; i++)
		if (f->vts[i]->polling &&
		    now - f->vts[i]->held_since_ns >= min_age_ns)
			n++;
	return n;
}

/* A finished one-step run, as cohortd's runs.c reports it. */
static json_t *
report_json(struct vt *v, const char *job, int64_t instr_id)
{
	int64_t now_ms = fleet_now_ns() / 1000000;
	struct run_report *rep =
	    run_report_new(++v->next_run_id, job, instr_id, now_ms, 0);
	struct run_step_rec s = {1, 1, (char *)"run", OUTCOME_SUCCEEDED, 0,
	    now_ms, 1, (char *)"", (char *)"", 0, 0};
	json_t *body = NULL;
	struct cerr err;

	if (rep == NULL || run_report_add_step(rep, &s, &err) < 0)
		goto out;
	rep->outcome = OUTCOME_SUCCEEDED;
	rep->exit_code = 0;
	rep->duration_ms = 1;
	body = run_report_to_json(rep);
out:
	run_report_free(rep);
	return json_pack("{s:I,s:s,s:o*}", "seq", (json_int_t)++v->next_seq,
	    "kind", "run", "body", body);
}

static int
send_items(struct vt *v, json_t *items, fconn_cb cb)
{
	json_t *req = json_pack("{s:o}", "items", items);
	char *text = req ? json_dump_compact(req) : NULL;
	struct cerr err;
	int rc = -1;

	if (text == NULL) {
		fleet_error(v->f, "out of memory");
		goto out;
	}
	if (v->up == NULL) {
		v->up = fconn_new(v->f, v->cert, v->key, &err);
		if (v->up == NULL) {
			fleet_error(v->f, "%s: %s", v->name, err.msg);
			goto out;
		}
	}
	if (fconn_request(v->up, "POST", "/v1/outbox", text, strlen(text), cb,
		v, &err) < 0) {
		fleet_error(v->f, "%s: upload: %s", v->name, err.msg);
		goto out;
	}
	v->uploading = 1;
	rc = 0;
out:
	json_decref(req);
	free(text);
	return rc;
}

/* Counts what the master acknowledged; 0 when the reply was an answer. */
static int
upload_counted(struct vt *v, int status, const char *body, size_t len)
{
	json_t *reply;

	v->uploading = 0;
	if (status != 200) {
		fleet_error(v->f, "%s: upload: status %d: %.*s", v->name,
		    status, (int)(len < 200 ? len : 200), body);
		return -1;
	}
	reply = json_loadb(body, len, 0, NULL);
	v->f->uploaded +=
	    (int64_t)json_array_size(json_object_get(reply, "acked"));
	v->f->rejected +=
	    (int64_t)json_array_size(json_object_get(reply, "rejected"));
	json_decref(reply);
	return 0;
}

static void
upload_done(void *arg, int status, const char *body, size_t len)
{
	struct vt *v = arg;

	if (upload_counted(v, status, body, len) < 0 || v->up_sent == 0)
		return;
	for (size_t i = 0; i < v->up_sent; i++)
		free(v->up_jobs[i]);
	memmove(v->up_jobs, v->up_jobs + v->up_sent,
	    (v->nup - v->up_sent) * sizeof(*v->up_jobs));
	memmove(v->up_instr, v->up_instr + v->up_sent,
	    (v->nup - v->up_sent) * sizeof(*v->up_instr));
	v->nup -= v->up_sent;
	v->up_sent = 0;
	upload_send(v);
}

static void
upload_send(struct vt *v)
{
	size_t n = v->nup < VT_UPLOAD_BATCH ? v->nup : VT_UPLOAD_BATCH;
	json_t *items;

	if (v->uploading || n == 0)
		return;
	items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(
		    items, report_json(v, v->up_jobs[i], v->up_instr[i]));
	if (send_items(v, items, upload_done) == 0)
		v->up_sent = n;
}

static void
ingest_done(void *arg, int status, const char *body, size_t len)
{
	struct vt *v = arg;

	if (upload_counted(v, status, body, len) == 0)
		vt_ingest(v);
}

void
vt_ingest(struct vt *v)
{
	struct fleet *f = v->f;
	int64_t n =
	    f->ingest_left < f->ingest_batch ? f->ingest_left : f->ingest_batch;
	json_t *items;

	if (v->uploading || n <= 0)
		return;
	f->ingest_left -= n;
	items = json_array();
	for (int64_t i = 0; i < n; i++)
		json_array_append_new(items, report_json(v, "ingest", 0));
	send_items(v, items, ingest_done);
}
