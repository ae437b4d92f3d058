/*
 * defect: a target leaving this master (see defect.h).
 */
#include "master/defect.h"

#include <stdlib.h>
#include <string.h>

#include "common/jobdoc.h"
#include "common/json.h"
#include "common/log.h"
#include "master/api.h"
#include "master/master.h"
#include "master/scaleout.h"
#include "store/store.h"

static int
open_defect_cb(void *arg, const struct store_instr *in)
{
	int64_t *id = arg;

	if (in->op != INSTR_DEFECT ||
	    (in->status != INSTR_PENDING && in->status != INSTR_DOWNLOADED))
		return 0;
	*id = in->id;
	return 1;
}

int
defect_open(
    struct master *m, const char *name, int64_t *id_out, struct cerr *err)
{
	struct store_instr_filter f = {name, -1, 0};

	*id_out = 0;
	return store_instr_list(m->store, &f, open_defect_cb, id_out, err);
}

struct names {
	json_t *list;
};

static int
name_cb(void *arg, const char *name)
{
	struct names *n = arg;

	return json_array_append_new(n->list, json_string(name));
}

static int
doc_cb(void *arg, const struct store_job *j)
{
	*(char **)arg = strdup(j->doc);
	return 0;
}

/* Saves job name's document without target among its named targets,
 * when it names it there (it may reach it through a group only). */
static int
drop_from_document(
    struct master *m, const char *name, const char *target, struct cerr *err)
{
	struct job *job = NULL;
	char *doc = NULL, *canonical = NULL;
	json_t *canon_json = NULL;
	size_t kept = 0;
	int rc = -1;

	if (store_job_get(m->store, name, doc_cb, &doc, err) < 0)
		return err->code == CERR_NOT_FOUND ? 0 : -1;
	if (doc == NULL || jobdoc_parse(doc, strlen(doc), &job, err) < 0) {
		cerr_set(
		    err, CERR_INTERNAL, "stored job '%s' unreadable", name);
		goto out;
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
	free(doc);
	return rc;
}

/* A defected target leaves the jobs and groups it was in (the store drops
 * the aims and memberships with store_target_set_defected): each job
 * document that names it is saved without it, so the job shows what it
 * reaches and can be applied again as shown. Nothing is posted: the
 * job's other targets run it the same. */
static int
leave_documents(struct master *m, const char *target, struct cerr *err)
{
	struct names jobs = {json_array()};
	size_t i;
	int rc = -1;

	if (jobs.list == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	if (store_target_jobs_list(m->store, target, name_cb, &jobs, err) < 0)
		goto out;
	for (i = 0; i < json_array_size(jobs.list); i++)
		if (drop_from_document(m,
			json_string_value(json_array_get(jobs.list, i)), target,
			err) < 0)
			goto out;
	rc = 0;
out:
	json_decref(jobs.list);
	return rc;
}

static int
revoke_one(struct master *m, const char *name, const char *serial,
    struct defect_revoked *out, struct cerr *err)
{
	if (serial == NULL || serial[0] == '\0')
		return 0;
	for (int i = 0; i < out->n; i++)
		if (strcmp(out->serials[i], serial) == 0)
			return 0;
	if (store_revoke(m->store, serial, name, master_now(), err) < 0)
		return -1;
	snprintf(out->serials[out->n], sizeof(out->serials[0]), "%s", serial);
	out->n++;
	return 0;
}

int
defect_in_tx(struct master *m, const char *name, const char *caller_serial,
    struct defect_revoked *out, struct cerr *err)
{
	char renewed[DEFECT_SERIALS_MAX][PKI_SERIAL_HEX_MAX];
	struct store_target t;
	int n = 0;

	memset(out, 0, sizeof(*out));
	if (store_target_get(m->store, name, &t, err) < 0 ||
	    store_instr_drop_pending(m->store, name, err) < 0 ||
	    leave_documents(m, name, err) < 0 ||
	    store_target_set_defected(m->store, name, master_now(), err) < 0 ||
	    revoke_one(m, name, caller_serial, out, err) < 0 ||
	    revoke_one(m, name, t.cert_serial, out, err) < 0)
		return -1;
	/* Every other certificate issued to it (one it renewed to, or from,
	 * and has not stopped using): already revoked in the store. */
	if (api_certs_revoke_target(
		m, name, renewed, DEFECT_SERIALS_MAX, &n, err) < 0)
		return -1;
	for (int i = 0; i < n && out->n < DEFECT_SERIALS_MAX + 2; i++)
		memcpy(out->serials[out->n++], renewed[i], sizeof(renewed[i]));
	return 0;
}

void
defect_committed(struct master *m, const char *name,
    const struct defect_revoked *rv, const char *by)
{
	struct cerr err;

	for (int i = 0; i < rv->n; i++)
		if (strmap_put(&m->revoked, rv->serials[i], NULL, NULL, &err) <
		    0)
			log_error(
			    "defected", "target=%s msg=\"%s\"", name, err.msg);
	scaleout_resynced(m, name);
	log_info("defected", "target=%s by=%s revoked=%d", name, by, rv->n);
}
