/*
 * retention: the master's history retention (see retention.h). Job
 * documents are read once per pass and their limits collected first, so
 * no store call runs inside the job listing.
 */
#include "master/retention.h"

#include <stdlib.h>
#include <string.h>

#include "common/jobdoc.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "store/store.h"

struct limit {
	char job[STORE_NAME_MAX + 1];
	int64_t keep;
	int64_t max_age_s;
};

struct limits {
	const struct conf *conf;
	struct limit *v;
	size_t n;
	int64_t max_keep; /* the largest per-job limit */
	int oom;
};

static int
collect_cb(void *arg, const struct store_job *j)
{
	struct limits *l = arg;
	struct limit *grown, *x;
	struct job *job = NULL;
	struct cerr err;

	if (jobdoc_parse(j->doc, strlen(j->doc), &job, &err) < 0) {
		log_warn(
		    "retention", "job=%s msg=%s", j->name, LOG_TEXT(err.msg));
		return 0;
	}
	grown = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	if (grown == NULL) {
		job_free(job);
		l->oom = 1;
		return 1;
	}
	l->v = grown;
	x = &grown[l->n++];
	snprintf(x->job, sizeof(x->job), "%s", j->name);
	x->keep = job->history_max_rows > 0 ? job->history_max_rows
					    : l->conf->history_max_rows_per_job;
	x->max_age_s = job->history_max_age_s;
	if (x->keep > l->max_keep)
		l->max_keep = x->keep;
	job_free(job);
	return 0;
}

int
retention_run(struct master *m, struct cerr *err)
{
	struct limits l = {
	    m->conf, NULL, 0, m->conf->history_max_rows_per_job, 0};
	int64_t now_ms = timefmt_now_ms();
	int rc = -1;

	if (store_job_list(m->store, collect_cb, &l, err) < 0)
		goto out;
	if (l.oom) {
		cerr_set(err, CERR_INTERNAL, "retention: out of memory");
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct limit *x = &l.v[i];

		if (store_history_trim_job(m->store, x->job, x->keep, err) <
			0 ||
		    (x->max_age_s > 0 &&
			store_history_purge(m->store, x->job,
			    now_ms - x->max_age_s * 1000, NULL, err) < 0))
			goto out;
	}
	rc = store_history_trim(
	    m->store, m->conf->history_max_rows, l.max_keep, err);
out:
	free(l.v);
	return rc;
}
