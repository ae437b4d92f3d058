/*
 * api_downloads: administering a target's download list: clearing a
 * failed instruction (the target is no longer blocked by it), resyncing a
 * target (its pending instructions are dropped, then "resync" — delete all
 * multiserver jobs — and one insert per job aimed at it are posted), and
 * target settings (location on the master; poll interval by instruction).
 */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "master/api.h"
#include "master/defect.h"
#include "master/jobs.h"
#include "master/longpoll.h"
#include "master/master.h"
#include "master/scaleout.h"
#include "store/store.h"

void
api_downloadlist_clear(struct http_req *r)
{
	struct cerr err;
	int64_t id;

	if (http_path_id(r->args[0], "instruction id", &id, &err) < 0 ||
	    store_instr_clear(r->m->store, id, &err) < 0)
		goto fail;
	log_info("instruction_cleared", "id=%lld by=%s", (long long)id,
	    r->caller.id.name);
	http_reply_ok(r);
	return;
fail:
	http_reply_error(r, &err);
}

struct resync {
	struct master *m;
	const char *target;
	json_t *posted;
	struct cerr *err;
};

static int
post_one(struct resync *rs, enum instr_op op, const char *object,
    const char *payload)
{
	int64_t id;

	if (store_instr_post(rs->m->store, rs->target, op, object, payload,
		master_now(), &id, rs->err) < 0)
		return -1;
	return json_array_append_new(rs->posted,
	    json_pack("{s:s,s:s,s:I}", "target", rs->target, "op",
		instr_op_name(op), "id", (json_int_t)id));
}

static int
insert_job_cb(void *arg, const struct store_job *j)
{
	struct resync *rs = arg;

	return post_one(rs, INSTR_INSERT, j->name, j->doc);
}

/* Job names are collected first: posting writes to the store, which must
 * not happen inside its own listing. */
static int
collect_cb(void *arg, const char *name)
{
	return json_array_append_new(arg, json_string(name));
}

static int
resync_in_tx(struct resync *rs)
{
	json_t *jobs = json_array();
	size_t i;
	json_t *name;
	int rc = -1;

	if (store_instr_drop_pending(rs->m->store, rs->target, rs->err) < 0 ||
	    post_one(rs, INSTR_RESYNC, "", "") < 0 ||
	    store_target_jobs_list(
		rs->m->store, rs->target, collect_cb, jobs, rs->err) < 0)
		goto out;
	json_array_foreach(jobs, i,
	    name) if (store_job_get(rs->m->store, json_string_value(name),
			  insert_job_cb, rs, rs->err) < 0) goto out;
	rc = 0;
out:
	json_decref(jobs);
	return rc;
}

void
api_target_resync(struct http_req *r)
{
	struct cerr err;
	struct resync rs = {r->m, r->args[0], json_array(), &err};
	struct store_target t;
	int64_t defect = 0;

	if (store_target_get(r->m->store, r->args[0], &t, &err) < 0 ||
	    defect_open(r->m, r->args[0], &defect, &err) < 0)
		goto fail;
	/* A resync would drop a defect the target may have applied, and the
	 * target would then wait for ever for the master to take its ack. */
	if (defect > 0) {
		cerr_set(&err, CERR_CONFLICT,
		    "target '%s' has a defect on its way (instruction %lld): "
		    "it cannot be resynced; target delete removes it at once",
		    r->args[0], (long long)defect);
		goto fail;
	}
	if (store_begin(r->m->store, &err) < 0)
		goto fail;
	if (resync_in_tx(&rs) < 0 || store_commit(r->m->store, &err) < 0) {
		store_rollback(r->m->store);
		goto fail;
	}
	scaleout_resynced(r->m, r->args[0]);
	log_info("target_resync", "target=%s jobs=%zu by=%s", r->args[0],
	    json_array_size(rs.posted) - 1, r->caller.id.name);
	r->m->metrics.posted += json_array_size(rs.posted);
	longpoll_wake(r->m, r->args[0]);
	http_reply_json(r, 200,
	    json_pack("{s:s,s:o}", "target", r->args[0], "posted", rs.posted));
	return;
fail:
	json_decref(rs.posted);
	http_reply_error(r, &err);
}

static int
settings_in_tx(struct http_req *r, const char *location, int64_t poll_s,
    json_t *posted, struct cerr *err)
{
	char payload[64];
	int64_t id;

	if (location != NULL &&
	    store_target_set_location(r->m->store, r->args[0], location, err) <
		0)
		return -1;
	if (poll_s <= 0)
		return 0;
	snprintf(payload, sizeof(payload), "{\"poll_interval_s\":%lld}",
	    (long long)poll_s);
	if (store_instr_post(r->m->store, r->args[0], INSTR_SET_POLL_INTERVAL,
		"", payload, master_now(), &id, err) < 0)
		return -1;
	return json_array_append_new(posted,
	    json_pack("{s:s,s:s,s:I}", "target", r->args[0], "op",
		"set_poll_interval", "id", (json_int_t)id));
}

void
api_target_settings(struct http_req *r)
{
	static const char *const keys[] = {"location", "poll_interval_s", NULL};
	const char *location = NULL;
	int64_t poll_s = 0;
	json_t *posted = json_array();
	struct store_target t;
	struct cerr err;

	if (r->body == NULL) {
		cerr_set(&err, CERR_INVALID,
		    "request body: expected "
		    "{\"location\": ..., \"poll_interval_s\": ...}");
		goto fail;
	}
	if (json_check_keys(r->body, keys, "", &err) < 0 ||
	    json_get_string(r->body, "location", "", STORE_TEXT_MAX - 1, 0,
		&location, &err) < 0 ||
	    json_get_int(
		r->body, "poll_interval_s", "", 1, 28800, &poll_s, &err) < 0 ||
	    (location == NULL && poll_s == 0 &&
		cerr_set(&err, CERR_INVALID,
		    "request body: nothing to set (location, "
		    "poll_interval_s)") < 0) ||
	    store_target_get(r->m->store, r->args[0], &t, &err) < 0 ||
	    store_begin(r->m->store, &err) < 0)
		goto fail;
	if (settings_in_tx(r, location, poll_s, posted, &err) < 0 ||
	    store_commit(r->m->store, &err) < 0) {
		store_rollback(r->m->store);
		goto fail;
	}
	log_info("target_settings", "target=%s by=%s", r->args[0],
	    r->caller.id.name);
	r->m->metrics.posted += json_array_size(posted);
	longpoll_wake(r->m, r->args[0]);
	http_reply_json(r, 200,
	    json_pack("{s:s,s:o}", "target", r->args[0], "posted", posted));
	return;
fail:
	json_decref(posted);
	http_reply_error(r, &err);
}
