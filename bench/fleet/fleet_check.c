/*
 * fleet_check: the delivery test `make check` runs (N = 50). The admin
 * makes a group of all virtual targets, applies a job aimed at it, starts
 * it three times, changes it, starts it on one target and takes one
 * target out of the group. Every admin reply lists what it posted; the
 * test then holds that:
 *   - each virtual target received exactly the ids posted to it, each
 *     once, in order (no repeated delivery, none missing);
 *   - the master has every instruction acknowledged (none pending,
 *     downloaded or failed);
 *   - every START's run report was accepted and is in the history.
 */
#include "fleet/fleet.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"

#define CHECK_JOB "check-job"
#define CHECK_GROUP "check"
#define CHECK_WAIT_MS 120000

static size_t
expect_total(const json_t *expect)
{
	const char *key;
	json_t *list;
	size_t n = 0;

	json_object_foreach((json_t *)expect, key, list) n +=
	    json_array_size(list);
	return n;
}

struct delivery {
	struct fleet *f;
	int64_t want;
};

static int
delivered(void *arg)
{
	struct delivery *d = arg;

	return d->f->delivered >= d->want;
}

/* Until the virtual targets have everything posted so far. */
static int
wait_delivered(struct fleet *f, const json_t *expect, struct cerr *err)
{
	struct delivery d = {f, (int64_t)expect_total(expect)};

	return fleet_wait(f, delivered, &d, CHECK_WAIT_MS, "deliveries", err);
}

static int
start_job(struct fleet *f, const char *target, json_t *expect, size_t *starts,
    struct cerr *err)
{
	json_t *reply = NULL;

	if (fleet_admin_ok(f, "POST", "/v1/jobs/" CHECK_JOB "/start",
		target ? json_pack("{s:s}", "target", target) : NULL, &reply,
		err) < 0)
		return -1;
	phase_expect_posted(expect, reply);
	*starts += json_array_size(json_object_get(reply, "posted"));
	json_decref(reply);
	return wait_delivered(f, expect, err);
}

/* The admin's changes, each delivered before the next. */
static int
drive(struct fleet *f, json_t *expect, size_t *starts, struct cerr *err)
{
	char path[256];
	json_t *reply = NULL;

	if (phase_make_group(f, CHECK_GROUP, f->nvts, expect, err) < 0 ||
	    phase_put_job(f, CHECK_JOB, CHECK_GROUP, "first", expect, err) <
		0 ||
	    wait_delivered(f, expect, err) < 0)
		return -1;
	for (int i = 0; i < 3; i++)
		if (start_job(f, NULL, expect, starts, err) < 0 ||
		    phase_wait_applied(f, err) < 0)
			return -1;
	if (phase_put_job(f, CHECK_JOB, CHECK_GROUP, "second", expect, err) <
		0 ||
	    start_job(f, f->vts[0]->name, expect, starts, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "/v1/groups/%s/members/%s", CHECK_GROUP,
	    f->vts[f->nvts - 1]->name);
	if (fleet_admin_ok(f, "DELETE", path, NULL, &reply, err) < 0)
		return -1;
	phase_expect_posted(expect, reply);
	json_decref(reply);
	return wait_delivered(f, expect, err) < 0 ||
		phase_wait_applied(f, err) < 0
	    ? -1
	    : 0;
}

static void problem(json_t *problems, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
problem(json_t *problems, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (json_array_size(problems) >= 20)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(problems, json_string(msg));
}

/* Each target's arrivals against what the master said it posted. */
static void
check_sequences(struct fleet *f, const json_t *expect, json_t *problems)
{
	for (size_t i = 0; i < f->nvts; i++) {
		struct vt *v = f->vts[i];
		const json_t *want = json_object_get(expect, v->name);
		size_t n = json_array_size(want);

		if (v->nseen != n) {
			problem(problems,
			    "%s received %zu instructions, %zu "
			    "were posted to it",
			    v->name, v->nseen, n);
			continue;
		}
		for (size_t k = 0; k < n; k++) {
			int64_t id =
			    json_integer_value(json_array_get(want, k));

			if (v->seen[k] != id) {
				problem(problems,
				    "%s: arrival %zu is id %lld, "
				    "expected %lld",
				    v->name, k + 1, (long long)v->seen[k],
				    (long long)id);
				break;
			}
		}
	}
	if (f->dups > 0)
		problem(problems, "%lld instructions were delivered again",
		    (long long)f->dups);
}

static int
uploads_settled(void *arg)
{
	struct fleet *f = arg;

	for (size_t i = 0; i < f->nvts; i++)
		if (f->vts[i]->uploading || f->vts[i]->nup > 0)
			return 0;
	return 1;
}

/* What the master holds: nothing failed, every run in the history. */
static int
check_master(struct fleet *f, size_t starts, json_t *out, json_t *problems,
    struct cerr *err)
{
	json_t *failed = NULL, *runs = NULL, *row;
	size_t i, succeeded = 0;
	int rc = -1;

	if (fleet_wait(f, uploads_settled, f, CHECK_WAIT_MS, "uploads", err) <
		0 ||
	    fleet_admin_ok(f, "GET", "/v1/downloadlist?status=failed", NULL,
		&failed, err) < 0 ||
	    fleet_admin_ok(f, "GET",
		"/v1/history?job=" CHECK_JOB "&jobs_only=1&limit=100000", NULL,
		&runs, err) < 0)
		goto out;
	if (json_array_size(failed) != 0)
		problem(problems, "%zu instructions failed",
		    json_array_size(failed));
	json_array_foreach(runs, i,
	    row) if (strcmp(json_string_value(json_object_get(row, "outcome"))
			     ? json_string_value(
				   json_object_get(row, "outcome"))
			     : "",
			 "succeeded") == 0) succeeded++;
	if (f->uploaded != (int64_t)starts || succeeded != starts)
		problem(problems,
		    "%zu starts: %lld reports accepted, %zu "
		    "succeeded runs in the history",
		    starts, (long long)f->uploaded, succeeded);
	json_object_set_new(out, "history_runs",
	    json_integer((json_int_t)json_array_size(runs)));
	rc = 0;
out:
	json_decref(failed);
	json_decref(runs);
	return rc;
}

int
check_run(struct fleet *f, json_t *out, struct cerr *err)
{
	json_t *expect = json_object(), *problems = json_array();
	size_t starts = 0;
	int rc = -1;

	f->record = 1;
	f->upload = 1;
	if (f->nvts < 2) {
		cerr_set(err, CERR_INVALID, "check needs at least 2 targets");
		goto out;
	}
	if (phase_connect_all(f, err) < 0 || drive(f, expect, &starts, err) < 0)
		goto out;
	check_sequences(f, expect, problems);
	if (check_master(f, starts, out, problems, err) < 0)
		goto out;
	json_object_set_new(out, "targets", json_integer((json_int_t)f->nvts));
	json_object_set_new(
	    out, "posted", json_integer((json_int_t)expect_total(expect)));
	json_object_set_new(out, "delivered", json_integer(f->delivered));
	json_object_set_new(out, "redelivered", json_integer(f->dups));
	json_object_set_new(out, "starts", json_integer((json_int_t)starts));
	json_object_set_new(out, "reports_accepted", json_integer(f->uploaded));
	json_object_set(out, "problems", problems);
	if (json_array_size(problems) > 0) {
		cerr_set(err, CERR_INVALID, "%s",
		    json_string_value(json_array_get(problems, 0)));
		goto out;
	}
	rc = 0;
out:
	json_object_set_new(out, "ok", json_boolean(rc == 0));
	json_decref(expect);
	json_decref(problems);
	return rc;
}
