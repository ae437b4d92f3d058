/*
 * jobs: job changes turned into download-list instructions (see jobs.h).
 */
#include "master/jobs.h"
#include "master/jobs_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jobdoc.h"
#include "common/json.h"
#include "common/log.h"
#include "master/failed_defs.h"
#include "master/longpoll.h"
#include "master/master.h"
#include "master/notify.h"
#include "store/store.h"

void
jobs_aim_cleanup(struct aim *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->names[i]);
	free(a->names);
	strmap_cleanup(&a->set);
	memset(a, 0, sizeof(*a));
}

int
jobs_aim_has(const struct aim *a, const char *name)
{
	return strmap_has(&a->set, name);
}

int
jobs_aim_add(void *arg, const char *name)
{
	struct aim *a = arg;
	char **grown;

	if (jobs_aim_has(a, name))
		return 0;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;

		grown = realloc(a->names, cap * sizeof(*grown));
		if (grown == NULL)
			return -1;
		a->names = grown;
		a->cap = cap;
	}
	a->names[a->n] = strdup(name);
	if (a->names[a->n] == NULL)
		return -1;
	if (strmap_put(&a->set, name, NULL, NULL, NULL) < 0) {
		free(a->names[a->n]);
		return -1;
	}
	a->n++;
	return 0;
}

static int
posted_add(json_t *posted, const char *target, enum instr_op op,
    const char *object, int64_t id)
{
	return json_array_append_new(posted,
	    json_pack("{s:s,s:s,s:s,s:I}", "target", target, "op",
		instr_op_name(op), "object", object ? object : "", "id",
		(json_int_t)id));
}

int
jobs_post(struct master *m, json_t *posted, const char *target,
    enum instr_op op, const char *object, const char *payload, struct cerr *err)
{
	int64_t id;

	if (store_instr_post(m->store, target, op, object, payload,
		master_now(), &id, err) < 0)
		return -1;
	posted_add(posted, target, op, object, id);
	return 0;
}

/* After the commit: wakes the targets' held polls and counts the
 * instructions for the metrics. */
void
jobs_wake_posted(struct master *m, const json_t *posted)
{
	size_t i;
	json_t *p;

	m->metrics.posted += json_array_size(posted);
	json_array_foreach(posted, i, p)
	    longpoll_wake(m, json_string_value(json_object_get(p, "target")));
}

/* The targets a job reaches: its named targets (each must be enlisted)
 * and the members of its groups (each group must exist). */
static int
aim_resolve(
    struct master *m, const struct job *job, struct aim *out, struct cerr *err)
{
	struct store_target t;

	for (size_t i = 0; i < job->ntargets; i++) {
		if (store_target_get(m->store, job->targets[i], &t, err) < 0 ||
		    t.defected)
			return cerr_set(err, CERR_INVALID,
			    "targets: '%s' is not an enlisted target",
			    job->targets[i]);
		if (jobs_aim_add(out, job->targets[i]) < 0)
			return cerr_set(err, CERR_INTERNAL, "out of memory");
	}
	for (size_t i = 0; i < job->ngroups; i++) {
		if (store_group_members(
			m->store, job->groups[i], jobs_aim_add, out, err) < 0)
			return err->code == CERR_NOT_FOUND
			    ? cerr_set(err, CERR_INVALID,
				  "groups: '%s' is not "
				  "a target group",
				  job->groups[i])
			    : -1;
	}
	return 0;
}

struct stored_doc {
	char *doc;
	int found;
};

static int
stored_doc_cb(void *arg, const struct store_job *j)
{
	struct stored_doc *sd = arg;

	sd->doc = strdup(j->doc);
	sd->found = 1;
	return 0;
}

int
jobs_stored(
    struct master *m, const char *name, struct job **out, struct cerr *err)
{
	struct stored_doc sd = {NULL, 0};
	json_t *doc = NULL;
	int rc = -1;

	*out = NULL;
	if (store_job_get(m->store, name, stored_doc_cb, &sd, err) < 0)
		goto out;
	doc = sd.doc != NULL ? json_loads(sd.doc, 0, NULL) : NULL;
	if (doc == NULL) {
		cerr_set(
		    err, CERR_INTERNAL, "stored job '%s' unreadable", name);
		goto out;
	}
	if (jobdoc_from_json(doc, out, err) < 0) {
		cerr_wrap(err, "stored job '%s'", name);
		goto out;
	}
	rc = 0;
out:
	json_decref(doc);
	free(sd.doc);
	return rc;
}

/* A secret sent back as listings show it keeps the stored value
 * (jobdoc_secrets.c). The stored job is read only for such a document. */
static int
keep_stored_secrets(struct master *m, struct job *job, struct cerr *err)
{
	struct job *old = NULL;
	int rc;

	if (!job_has_masked_secret(job))
		return 0;
	if (jobs_stored(m, job->name, &old, err) < 0 &&
	    err->code != CERR_NOT_FOUND)
		return -1;
	rc = job_keep_secrets(job, old, err);
	job_free(old);
	return rc;
}

/* The definition to post again to a target that has the job already:
 * its newest one failed there and an administrator cleared the failure
 * (while uncleared, the target is blocked at it, and the advice is to
 * clear it or resync). NULL when there is none. */
static const json_t *
to_post_again(const json_t *failed, const char *target)
{
	const json_t *entry = json_object_get(failed, target);

	return json_is_true(json_object_get(entry, "cleared")) ? entry : NULL;
}

/* Posts the failed definition again, with its own operation (an insert
 * the target never applied stays an insert), marked "again" in posted. */
static int
post_again(struct master *m, json_t *posted, const char *target,
    const struct job *job, const char *canonical, const json_t *failed,
    struct cerr *err)
{
	enum instr_op op = INSTR_UPDATE;

	if (instr_op_parse(
		json_string_value(json_object_get(failed, "op")), &op) < 0)
		op = INSTR_UPDATE;
	if (jobs_post(m, posted, target, op, job->name, canonical, err) < 0)
		return -1;
	json_object_set_new(json_array_get(posted, json_array_size(posted) - 1),
	    "again", json_true());
	return 0;
}

/* Saves the job and posts the instructions, inside the caller's
 * transaction. With post_failed, an unchanged document is posted again
 * to the targets whose latest definition of the job failed and was
 * cleared (failed_defs.h): applying the job again is how an operator
 * delivers it after removing the cause. */
static int
apply_in_tx(struct master *m, const struct job *job, const char *canonical,
    const struct aim *aim, int post_failed, json_t *result, struct cerr *err)
{
	struct stored_doc old = {NULL, 0};
	struct aim old_aim = {0};
	json_t *posted = json_object_get(result, "posted");
	json_t *failed = NULL;
	int created = 0, changed, rc = -1;

	if (store_job_get(m->store, job->name, stored_doc_cb, &old, err) < 0 &&
	    err->code != CERR_NOT_FOUND)
		goto out;
	if (old.found &&
	    store_job_targets_list(
		m->store, job->name, jobs_aim_add, &old_aim, err) < 0)
		goto out;
	changed = !old.found || strcmp(old.doc, canonical) != 0;
	if ((changed &&
		store_job_put(m->store, job->name, canonical, master_now(),
		    &created, err) < 0) ||
	    store_job_targets_set(m->store, job->name,
		(const char *const *)aim->names, aim->n, err) < 0)
		goto out;
	if (post_failed && !changed &&
	    failed_defs_find(m->store, job->name, &failed, err) < 0)
		goto out;
	for (size_t i = 0; i < aim->n; i++) {
		int had = jobs_aim_has(&old_aim, aim->names[i]);
		const json_t *again = to_post_again(failed, aim->names[i]);

		if (had && !changed && again != NULL) {
			if (post_again(m, posted, aim->names[i], job, canonical,
				again, err) < 0)
				goto out;
		} else if ((!had || changed) &&
		    jobs_post(m, posted, aim->names[i],
			had ? INSTR_UPDATE : INSTR_INSERT, job->name, canonical,
			err) < 0)
			goto out;
	}
	for (size_t i = 0; i < old_aim.n; i++)
		if (!jobs_aim_has(aim, old_aim.names[i]) &&
		    jobs_post(m, posted, old_aim.names[i], INSTR_DELETE,
			job->name, "", err) < 0)
			goto out;
	json_object_set_new(result, "created", json_boolean(created));
	json_object_set_new(result, "changed",
	    json_boolean(changed || json_array_size(posted) > 0));
	rc = 0;
out:
	json_decref(failed);
	free(old.doc);
	jobs_aim_cleanup(&old_aim);
	return rc;
}

int
jobs_apply(struct master *m, const json_t *doc, const char *url_name,
    json_t **result, struct cerr *err)
{
	struct job *job = NULL;
	struct aim aim = {0};
	json_t *canon_json = NULL, *res = NULL;
	char *canonical = NULL;
	int rc = -1;

	if (doc == NULL) {
		cerr_set(err, CERR_INVALID,
		    "request body: the job document "
		    "is missing");
		goto out;
	}
	if (jobdoc_from_json(doc, &job, err) < 0)
		goto out;
	if (strcmp(job->name, url_name) != 0) {
		cerr_set(err, CERR_INVALID,
		    "name: '%s' does not match the "
		    "name in the URL ('%s')",
		    job->name, url_name);
		goto out;
	}
	if (keep_stored_secrets(m, job, err) < 0)
		goto out;
	canon_json = jobdoc_to_json(job, 0);
	canonical = canon_json ? json_dump_compact(canon_json) : NULL;
	res = json_pack("{s:s,s:[]}", "name", job->name, "posted");
	if (canonical == NULL || res == NULL) {
		cerr_set(err, CERR_INTERNAL, "out of memory");
		goto out;
	}
	/* Every reader (job show, retention, a target) parses the stored
	 * form under this bound, whatever max_body_bytes lets in. */
	if (strlen(canonical) > JOB_DOC_MAX_BYTES) {
		cerr_set(err, CERR_TOO_LARGE,
		    "job '%s': its document is %zu bytes, more than %d",
		    job->name, strlen(canonical), JOB_DOC_MAX_BYTES);
		goto out;
	}
	if (aim_resolve(m, job, &aim, err) < 0 ||
	    notify_check_operator(m->store, job->notify_operator, err) < 0 ||
	    store_begin(m->store, err) < 0)
		goto out;
	if (apply_in_tx(m, job, canonical, &aim, 1, res, err) < 0 ||
	    store_commit(m->store, err) < 0) {
		store_rollback(m->store);
		goto out;
	}
	log_info("job_applied", "job=%s targets=%zu posted=%zu", job->name,
	    aim.n, json_array_size(json_object_get(res, "posted")));
	jobs_wake_posted(m, json_object_get(res, "posted"));
	*result = res;
	res = NULL;
	rc = 0;
out:
	json_decref(res);
	json_decref(canon_json);
	free(canonical);
	jobs_aim_cleanup(&aim);
	job_free(job);
	return rc;
}

int
jobs_delete(
    struct master *m, const char *name, json_t **result, struct cerr *err)
{
	struct aim aim = {0};
	json_t *res = json_pack("{s:s,s:[]}", "name", name, "posted");
	int rc = -1;

	if (res == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	if (store_begin(m->store, err) < 0)
		goto out;
	if (store_job_targets_list(m->store, name, jobs_aim_add, &aim, err) <
		0 ||
	    store_job_delete(m->store, name, err) < 0)
		goto fail;
	for (size_t i = 0; i < aim.n; i++)
		if (jobs_post(m, json_object_get(res, "posted"), aim.names[i],
			INSTR_DELETE, name, "", err) < 0)
			goto fail;
	if (store_commit(m->store, err) < 0)
		goto fail;
	log_info("job_deleted", "job=%s targets=%zu", name, aim.n);
	jobs_wake_posted(m, json_object_get(res, "posted"));
	*result = res;
	res = NULL;
	rc = 0;
	goto out;
fail:
	store_rollback(m->store);
out:
	json_decref(res);
	jobs_aim_cleanup(&aim);
	return rc;
}

struct group_jobs {
	struct master *m;
	const char *group;
	json_t *posted;
	struct cerr *err;
	int failed;
};

static int
job_names_group(const struct job *job, const char *group)
{
	for (size_t i = 0; i < job->ngroups; i++)
		if (strcmp(job->groups[i], group) == 0)
			return 1;
	return 0;
}

/* For one stored job: if it names the group, recompute its aim and post
 * inserts to new targets and deletes to those no longer reached. */
static int
reaim_cb(void *arg, const struct store_job *j)
{
	struct group_jobs *gj = arg;
	struct aim aim = {0};
	struct job *job = NULL;
	json_t *result = json_pack("{s:o}", "posted", json_incref(gj->posted));
	int rc = -1;

	if (result == NULL ||
	    jobdoc_parse(j->doc, strlen(j->doc), &job, gj->err) < 0)
		goto out;
	if (!job_names_group(job, gj->group)) {
		rc = 0;
		goto out;
	}
	if (aim_resolve(gj->m, job, &aim, gj->err) < 0 ||
	    apply_in_tx(gj->m, job, j->doc, &aim, 0, result, gj->err) < 0)
		goto out;
	rc = 0;
out:
	json_decref(result);
	jobs_aim_cleanup(&aim);
	job_free(job);
	if (rc < 0)
		gj->failed = 1;
	return rc;
}

/* Jobs are listed into a name list first: re-aiming writes to the store,
 * which must not happen inside its own job listing. */
static int
collect_job_name(void *arg, const struct store_job *j)
{
	return jobs_aim_add(arg, j->name) < 0 ? -1 : 0;
}

int
jobs_reaim_group(
    struct master *m, const char *group, json_t *posted, struct cerr *err)
{
	struct group_jobs gj = {m, group, posted, err, 0};
	struct aim names = {0};
	int rc = -1;

	if (store_job_list(m->store, collect_job_name, &names, err) < 0)
		goto out;
	for (size_t i = 0; i < names.n; i++) {
		if (store_job_get(
			m->store, names.names[i], reaim_cb, &gj, err) < 0 &&
		    err->code != CERR_NOT_FOUND)
			goto out;
		if (gj.failed)
			goto out;
	}
	rc = 0;
out:
	jobs_aim_cleanup(&names);
	return rc;
}

int
jobs_naming_group(struct master *m, const char *group, char *first, size_t size,
    struct cerr *err)
{
	struct aim names = {0};
	int found = 0;

	first[0] = '\0';
	if (store_job_list(m->store, collect_job_name, &names, err) < 0) {
		jobs_aim_cleanup(&names);
		return -1;
	}
	for (size_t i = 0; i < names.n && !found; i++) {
		struct stored_doc sd = {NULL, 0};
		struct job *job = NULL;

		if (store_job_get(m->store, names.names[i], stored_doc_cb, &sd,
			err) == 0 &&
		    jobdoc_parse(sd.doc, strlen(sd.doc), &job, err) == 0 &&
		    job_names_group(job, group)) {
			found = 1;
			snprintf(first, size, "%s", job->name);
		}
		job_free(job);
		free(sd.doc);
	}
	jobs_aim_cleanup(&names);
	return found;
}

void
jobs_wake(struct master *m, const json_t *posted)
{
	jobs_wake_posted(m, posted);
}

/* Saves job name's document without target among its named targets,
 * when it names it there (it may reach it through a group only). */
static int
drop_from_document(
    struct master *m, const char *name, const char *target, struct cerr *err)
{
	struct job *job = NULL;
	json_t *canon_json = NULL;
	char *canonical = NULL;
	size_t kept = 0;
	int rc = -1;

	if (jobs_stored(m, name, &job, err) < 0) {
		if (err->code == CERR_STORE)
			return -1;
		log_warn("job_unreadable", "job=%s msg=%s", name,
		    LOG_TEXT(err->msg));
		return 0;
	}
	for (size_t i = 0; i < job->ntargets; i++) {
		if (strcmp(job->targets[i], target) == 0)
			free(job->targets[i]);
		else
			job->targets[kept++] = job->targets[i];
	}
	if (kept == job->ntargets) {
		rc = 0;
		goto out;
	}
	job->ntargets = kept;
	canon_json = jobdoc_to_json(job, 0);
	canonical = canon_json ? json_dump_compact(canon_json) : NULL;
	if (canonical == NULL) {
		cerr_set(err, CERR_INTERNAL, "out of memory");
		goto out;
	}
	rc = store_job_put(m->store, name, canonical, master_now(), NULL, err);
out:
	free(canonical);
	json_decref(canon_json);
	job_free(job);
	return rc;
}

int
jobs_forget_target(struct master *m, const char *target, struct cerr *err)
{
	struct aim names = {0};
	int rc = -1;

	/* Names first: saving writes to the store, not inside its listing. */
	if (store_target_jobs_list(
		m->store, target, jobs_aim_add, &names, err) < 0)
		goto out;
	for (size_t i = 0; i < names.n; i++)
		if (drop_from_document(m, names.names[i], target, err) < 0)
			goto out;
	rc = 0;
out:
	jobs_aim_cleanup(&names);
	return rc;
}
