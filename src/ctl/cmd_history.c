/*
 * cmd_history: the run history and the download list, with filters;
 * purging history.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/runrec.h"
#include "common/timefmt.h"
#include "common/wire.h"
#include "ctl/ctl.h"
#include "ctl/output.h"
#include "store/store.h"

/* Appends "&name=value" (escaped) when value is set. */
static int
add_param(struct buf *q, const char *name, const char *value, struct cerr *err)
{
	char esc[1024];

	if (value == NULL)
		return 0;
	client_escape(value, esc, sizeof(esc));
	return buf_printf(q, err, "%c%s=%s", q->len ? '&' : '?', name, esc);
}

/* For people, a run reads best as its job row followed by its steps in
 * the order they ran (a step jumped back to runs again, as its next
 * attempt). Rows come newest first (by start time, then the newest
 * stored: a report's rows are stored in the order they ran), and are
 * regrouped so each run's rows stay together, runs in the order their
 * newest row came; within a run the list's order is reversed. */
struct row_key {
	json_t *row;
	size_t run_rank; /* index of the run's first row */
	json_int_t step;
	size_t index; /* in the list */
};

static int
compare_keys(const void *a, const void *b)
{
	const struct row_key *x = a, *y = b;

	if (x->run_rank != y->run_rank)
		return x->run_rank < y->run_rank ? -1 : 1;
	if ((x->step == 0) != (y->step == 0))
		return x->step == 0 ? -1 : 1;
	return x->index > y->index ? -1 : x->index < y->index;
}

static json_t *
group_by_run(json_t *rows)
{
	size_t n = json_array_size(rows);
	struct row_key *k = calloc(n + 1, sizeof(*k));
	json_t *first = json_object(), *out = json_array();

	if (k == NULL || first == NULL || out == NULL) {
		free(k);
		json_decref(first);
		json_decref(out);
		return json_incref(rows);
	}
	for (size_t i = 0; i < n; i++) {
		json_t *r = json_array_get(rows, i);
		const char *run =
		    json_string_value(json_object_get(r, "run_id"));
		json_t *seen = json_object_get(first, run ? run : "");

		if (seen == NULL)
			json_object_set_new(
			    first, run ? run : "", json_integer((json_int_t)i));
		k[i].row = r;
		k[i].run_rank = seen ? (size_t)json_integer_value(seen) : i;
		k[i].step = json_integer_value(json_object_get(r, "step"));
		k[i].index = i;
	}
	qsort(k, n, sizeof(*k), compare_keys);
	for (size_t i = 0; i < n; i++)
		json_array_append(out, k[i].row);
	free(k);
	json_decref(first);
	return out;
}

/* One run's outputs, after its table: each step attempt that has one. */
static void
print_outputs(const json_t *rows)
{
	char name[256];
	size_t i;
	json_t *r;

	json_array_foreach(rows, i, r)
	{
		const char *out =
		    json_string_value(json_object_get(r, "output"));

		if (out == NULL || out[0] == '\0')
			continue;
		printf("\n--- step %lld %s, attempt %lld ---\n",
		    (long long)json_integer_value(json_object_get(r, "step")),
		    output_field(r, "step_name", name, sizeof(name)),
		    (long long)json_integer_value(
			json_object_get(r, "attempt")));
		output_text(stdout, out);
	}
}

/* A failed instruction an administrator cleared no longer blocks its
 * target: the table says so beside the status (--json has "cleared"). */
static void
mark_cleared(json_t *rows)
{
	size_t i;
	json_t *r;

	json_array_foreach(rows, i, r)
	{
		if (json_is_true(json_object_get(r, "cleared")))
			json_object_set_new(
			    r, "status", json_string("failed, cleared"));
	}
}

static int
list_call(struct ctl *ctl, const char *base, struct buf *q, int json,
    const struct output_col *cols, size_t ncols)
{
	char path[2048];
	struct client *c;
	json_t *out = NULL;
	struct cerr err;

	snprintf(path, sizeof(path), "%s%s", base, buf_str(q));
	buf_cleanup(q);
	if (ctl_client(ctl, &c, &err) < 0 ||
	    client_call(c, "GET", path, NULL, &out, &err) < 0)
		return ctl_fail(&err);
	if (json) {
		output_json(stdout, out);
	} else {
		mark_cleared(out);
		output_table(stdout, cols, ncols, out);
	}
	json_decref(out);
	return 0;
}

/* What "history" was asked for. */
struct history_args {
	const char *job, *target, *outcome, *since, *until, *run;
	const char *limit; /* job runs, not rows */
	int json;
};

/* --run: a run as the listing names it, on --target when that is given
 * too (the master would name its query parameter run_id). */
static int
run_check(const struct history_args *a, struct cerr *err)
{
	char target[STORE_NAME_MAX + 1];
	int64_t n;

	if (a->run == NULL)
		return 0;
	if (run_id_parse(a->run, target, sizeof(target), &n) < 0)
		return cerr_set(err, CERR_INVALID,
		    "--run: '%.80s' is not TARGET:N (as the RUN column shows "
		    "a run)",
		    a->run);
	if (a->target != NULL && strcmp(a->target, target) != 0)
		return cerr_set(err, CERR_INVALID,
		    "--run names target '%s', --target names '%.80s'", target,
		    a->target);
	return 0;
}

/* The filters checked here, so a mistake is named by its option (the
 * master would name its query parameter). */
static int
history_filters_check(const struct history_args *a, struct cerr *err)
{
	enum run_outcome o;
	int64_t ms;

	if (run_check(a, err) < 0)
		return -1;
	if (a->outcome != NULL && run_outcome_parse(a->outcome, &o) < 0)
		return cerr_set(err, CERR_INVALID,
		    "--outcome: '%s' is not one of running, succeeded, "
		    "failed, retrying, canceled, interrupted, missed",
		    a->outcome);
	if (a->since != NULL && timefmt_parse(a->since, &ms) < 0)
		return cerr_set(err, CERR_INVALID,
		    "--since: '%s' is not an RFC 3339 time (e.g. "
		    "2026-01-31T18:00:00Z)",
		    a->since);
	if (a->until != NULL && timefmt_parse(a->until, &ms) < 0)
		return cerr_set(err, CERR_INVALID,
		    "--until: '%s' is not an RFC 3339 time (e.g. "
		    "2026-01-31T18:00:00Z)",
		    a->until);
	return 0;
}

static int
history_get(struct ctl *ctl, struct buf *q, json_t **out, struct cerr *err)
{
	char path[2048];
	struct client *c;

	snprintf(path, sizeof(path), "/v1/history%s", buf_str(q));
	buf_cleanup(q);
	if (ctl_client(ctl, &c, err) < 0)
		return -1;
	return client_call(c, "GET", path, NULL, out, err);
}

/* The API's limit counts rows, and a run is a job row and its steps'
 * rows: cut by rows, the oldest run would lose its job row (outcome and
 * message) or some steps. whole_runs makes the filters and the limit
 * choose job runs, and lists every row of each. */
static int
history_runs(struct ctl *ctl, const struct history_args *a, json_t **out,
    struct cerr *err)
{
	struct buf q;

	buf_init(&q, 4096);
	if (add_param(&q, "job", a->job, err) < 0 ||
	    add_param(&q, "target", a->target, err) < 0 ||
	    add_param(&q, "outcome", a->outcome, err) < 0 ||
	    add_param(&q, "since", a->since, err) < 0 ||
	    add_param(&q, "until", a->until, err) < 0 ||
	    add_param(&q, "limit", a->limit ? a->limit : "100", err) < 0 ||
	    add_param(&q, "whole_runs", "1", err) < 0 ||
	    add_param(&q, "output", a->json ? NULL : "0", err) < 0) {
		buf_cleanup(&q);
		return -1;
	}
	return history_get(ctl, &q, out, err);
}

/* One job run (--run), with each step's output after the table. */
static int
history_one_run(struct ctl *ctl, const struct history_args *a, json_t **out,
    struct cerr *err)
{
	struct buf q;

	buf_init(&q, 4096);
	if (add_param(&q, "run_id", a->run, err) < 0 ||
	    add_param(&q, "job", a->job, err) < 0 ||
	    add_param(&q, "target", a->target, err) < 0 ||
	    add_param(&q, "outcome", a->outcome, err) < 0 ||
	    add_param(&q, "since", a->since, err) < 0 ||
	    add_param(&q, "until", a->until, err) < 0 ||
	    add_param(&q, "limit", "100000", err) < 0) {
		buf_cleanup(&q);
		return -1;
	}
	if (history_get(ctl, &q, out, err) < 0)
		return -1;
	/* Named alone, a run that is not there is an error (exit 1); with
	 * filters, that it matches none of them is an answer. */
	if (json_array_size(*out) == 0 && a->job == NULL &&
	    a->outcome == NULL && a->since == NULL && a->until == NULL) {
		json_decref(*out);
		*out = NULL;
		return cerr_set(err, CERR_NOT_FOUND,
		    "no run %s in the history (never recorded, or trimmed "
		    "by retention)",
		    a->run);
	}
	return 0;
}

int
cmd_history(struct ctl *ctl, int argc, char **argv)
{
	static const struct output_col cols[] = {
	    {"RUN", "run_id", 0},
	    {"JOB", "job", 24},
	    {"TARGET", "target", 0},
	    {"STEP", "step", 0},
	    {"NAME", "step_name", 16},
	    {"TRY", "attempt", 0},
	    {"OUTCOME", "outcome", 0},
	    {"EXIT", "exit_code", 0},
	    {"STARTED", "started_at", 0},
	    {"MS", "duration_ms", 0},
	    {"MESSAGE", "message", 50},
	};
	struct history_args a = {0};
	int npos;
	const struct ctl_opt opts[] = {CTL_VALUE("--job", &a.job),
	    CTL_VALUE("--target", &a.target), CTL_VALUE("--limit", &a.limit),
	    CTL_VALUE("--outcome", &a.outcome), CTL_VALUE("--since", &a.since),
	    CTL_VALUE("--until", &a.until), CTL_VALUE("--run", &a.run),
	    CTL_FLAG("--json", &a.json), CTL_END};
	json_t *rows = NULL, *grouped;
	long long n;
	struct cerr err;

	if (ctl_parse(argc, argv, opts, NULL, 0, 0, &npos, &err) < 0 ||
	    (a.limit != NULL &&
		ctl_int(a.limit, "--limit", 1, 100000, &n, &err) < 0) ||
	    history_filters_check(&a, &err) < 0 ||
	    (a.run != NULL ? history_one_run(ctl, &a, &rows, &err)
			   : history_runs(ctl, &a, &rows, &err)) < 0)
		return ctl_fail(&err);
	/* Both forms list the same rows in the same order: each run's job
	 * row, then its steps. */
	grouped = group_by_run(rows);
	if (a.json) {
		output_json(stdout, grouped);
	} else if (a.run != NULL) {
		/* One run is read in full: its messages (the last column)
		 * are not cut. */
		struct output_col run_cols[sizeof(cols) / sizeof(cols[0])];

		memcpy(run_cols, cols, sizeof(cols));
		run_cols[sizeof(cols) / sizeof(cols[0]) - 1].max_width = 0;
		output_table(stdout, run_cols,
		    sizeof(run_cols) / sizeof(run_cols[0]), grouped);
		print_outputs(grouped);
	} else {
		output_table(
		    stdout, cols, sizeof(cols) / sizeof(cols[0]), grouped);
	}
	json_decref(grouped);
	json_decref(rows);
	return 0;
}

int
cmd_downloadlist(struct ctl *ctl, int argc, char **argv)
{
	static const struct output_col cols[] = {
	    {"ID", "id", 0},
	    {"TARGET", "target", 0},
	    {"OPERATION", "operation", 0},
	    {"OBJECT", "object", 24},
	    {"STATUS", "status", 0},
	    {"RUNS", "runs", 0},
	    {"POSTED", "posted_at", 0},
	    {"DOWNLOADED", "downloaded_at", 0},
	    {"ERROR", "error", 50},
	};
	const char *target = NULL, *status = NULL, *limit = NULL;
	enum instr_status st;
	int json = 0, npos;
	const struct ctl_opt opts[] = {CTL_VALUE("--target", &target),
	    CTL_VALUE("--status", &status), CTL_VALUE("--limit", &limit),
	    CTL_FLAG("--json", &json), CTL_END};
	long long n;
	struct buf q;
	struct cerr err;

	buf_init(&q, 4096);
	if (ctl_parse(argc, argv, opts, NULL, 0, 0, &npos, &err) < 0 ||
	    (limit != NULL &&
		ctl_int(limit, "--limit", 1, 100000, &n, &err) < 0) ||
	    (status != NULL && strcmp(status, "open") != 0 &&
		instr_status_parse(status, &st) < 0 &&
		cerr_set(&err, CERR_INVALID,
		    "--status: '%s' is not one of pending, downloaded, "
		    "applied, failed, open",
		    status) < 0) ||
	    add_param(&q, "target", target, &err) < 0 ||
	    add_param(&q, "status", status, &err) < 0 ||
	    add_param(&q, "limit", limit, &err) < 0) {
		buf_cleanup(&q);
		return ctl_fail(&err);
	}
	return list_call(ctl, "/v1/downloadlist", &q, json, cols,
	    sizeof(cols) / sizeof(cols[0]));
}

int
cmd_downloadlist_clear(struct ctl *ctl, int argc, char **argv)
{
	const struct ctl_opt opts[] = {CTL_END};
	const char *pos[1];
	char path[128];
	struct client *c;
	struct cerr err;
	long long id;
	int npos;

	if (ctl_parse(argc, argv, opts, pos, 1, 1, &npos, &err) < 0 ||
	    ctl_int(pos[0], "ID", 1, INT64_MAX, &id, &err) < 0 ||
	    ctl_client(ctl, &c, &err) < 0)
		return ctl_fail(&err);
	snprintf(path, sizeof(path), "/v1/downloadlist/%lld/clear", id);
	if (client_call(c, "POST", path, NULL, NULL, &err) < 0)
		return ctl_fail(&err);
	printf("instruction %lld cleared\n", id);
	return 0;
}

int
cmd_history_purge(struct ctl *ctl, int argc, char **argv)
{
	const char *job = NULL, *older = NULL;
	int npos;
	const struct ctl_opt opts[] = {CTL_VALUE("--job", &job),
	    CTL_VALUE("--older-than", &older), CTL_END};
	json_t *body = json_object(), *out = NULL;
	long long seconds = 0;
	struct client *c;
	struct cerr err;
	int rc = -1;

	if (ctl_parse(argc, argv, opts, NULL, 0, 0, &npos, &err) < 0 ||
	    (older != NULL &&
		ctl_duration(older, "--older-than", &seconds, &err) < 0) ||
	    ctl_client(ctl, &c, &err) < 0)
		goto out;
	if (job != NULL)
		json_object_set_new(body, "job", json_string(job));
	if (seconds > 0)
		json_object_set_new(
		    body, "older_than_s", json_integer(seconds));
	if (client_call(c, "POST", "/v1/history/purge", body, &out, &err) < 0)
		goto out;
	printf("purged %lld job runs\n",
	    (long long)json_integer_value(json_object_get(out, "deleted")));
	rc = 0;
out:
	json_decref(body);
	json_decref(out);
	return rc == 0 ? 0 : ctl_fail(&err);
}
