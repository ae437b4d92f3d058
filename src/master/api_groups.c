/*
 * api_groups: target groups. A job aimed at a group reaches its members;
 * adding a member posts it the group's jobs, removing one posts deletes
 * for the jobs it no longer gets (a target reached through two groups, or
 * also named directly, keeps the job). A group that jobs name cannot be
 * deleted.
 */
#include <string.h>

#include "common/log.h"
#include "master/api.h"
#include "master/jobs.h"
#include "master/master.h"
#include "store/store.h"

struct group_list {
	struct master *m;
	json_t *list;
	struct cerr *err;
};

static int
member_cb(void *arg, const char *name)
{
	return json_array_append_new(arg, json_string(name));
}

static int
group_cb(void *arg, const char *name)
{
	struct group_list *gl = arg;
	json_t *members = json_array();

	if (store_group_members(
		gl->m->store, name, member_cb, members, gl->err) < 0) {
		json_decref(members);
		return -1;
	}
	return json_array_append_new(
	    gl->list, json_pack("{s:s,s:o}", "name", name, "members", members));
}

void
api_groups_list(struct http_req *r)
{
	struct cerr err;
	struct group_list gl = {r->m, json_array(), &err};

	cerr_clear(&err);
	if (store_group_list(r->m->store, group_cb, &gl, &err) < 0 ||
	    err.code != CERR_OK) {
		json_decref(gl.list);
		http_reply_error(r, &err);
		return;
	}
	http_reply_json(r, 200, gl.list);
}

void
api_group_create(struct http_req *r)
{
	const char *name = NULL;
	struct cerr err;

	if (http_body_name(r, "name", &name, &err) < 0 ||
	    store_group_create(r->m->store, name, master_now(), &err) < 0) {
		http_reply_error(r, &err);
		return;
	}
	log_info("group_created", "group=%s by=%s", name, r->caller.id.name);
	http_reply_json(r, 200, json_pack("{s:s}", "name", name));
}

void
api_group_delete(struct http_req *r)
{
	char job[STORE_NAME_MAX + 1];
	struct cerr err;
	int named = jobs_naming_group(r->m, r->args[0], job, sizeof(job), &err);

	if (named > 0)
		cerr_set(&err, CERR_CONFLICT,
		    "group '%s' is used by job '%s'; "
		    "remove it from the job first",
		    r->args[0], job);
	if (named != 0 ||
	    store_group_delete(r->m->store, r->args[0], &err) < 0) {
		http_reply_error(r, &err);
		return;
	}
	log_info(
	    "group_deleted", "group=%s by=%s", r->args[0], r->caller.id.name);
	http_reply_ok(r);
}

/* Changes a membership and moves jobs, in one transaction. */
static void
membership(struct http_req *r, const char *group, const char *target, int add)
{
	json_t *posted = json_array();
	struct cerr err;
	int rc, changed = 1;

	if (store_begin(r->m->store, &err) < 0)
		goto fail;
	rc = add ? store_group_add(r->m->store, group, target, &changed, &err)
		 : store_group_remove(r->m->store, group, target, &err);
	if (rc < 0 || jobs_reaim_group(r->m, group, posted, &err) < 0 ||
	    store_commit(r->m->store, &err) < 0) {
		store_rollback(r->m->store);
		goto fail;
	}
	log_info(add ? "group_member_added" : "group_member_removed",
	    "group=%s target=%s posted=%zu by=%s", group, target,
	    json_array_size(posted), r->caller.id.name);
	jobs_wake(r->m, posted);
	/* "changed": false for an add of a member already in the group. */
	http_reply_json(r, 200,
	    json_pack("{s:s,s:s,s:b,s:o}", "group", group, "target", target,
		"changed", changed, "posted", posted));
	return;
fail:
	json_decref(posted);
	http_reply_error(r, &err);
}

void
api_group_add(struct http_req *r)
{
	const char *target = NULL;
	struct store_target t;
	struct cerr err;

	if (http_body_name(r, "target", &target, &err) < 0 ||
	    store_target_get(r->m->store, target, &t, &err) < 0) {
		http_reply_error(r, &err);
		return;
	}
	/* Defecting took it out of every group; it is not put back. */
	if (t.defected) {
		cerr_set(&err, CERR_CONFLICT,
		    "target '%s' has defected: enlist it again first", target);
		http_reply_error(r, &err);
		return;
	}
	membership(r, r->args[0], target, 1);
}

void
api_group_remove(struct http_req *r)
{
	membership(r, r->args[0], r->args[1], 0);
}
