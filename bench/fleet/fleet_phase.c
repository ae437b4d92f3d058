/*
 * fleet_phase: the scenarios. Each runs the loop through fleet_wait()
 * and fills a JSON object with its figures.
 *
 * - fanout: N virtual targets hold idle polls; the master's RSS is read
 *   before and after they connect; then, per size n, a job aimed at a
 *   group of the first n is started R times and each START's delivery is
 *   timed from just before the admin's start call to the arrival of the
 *   poll reply carrying it.
 * - renew: the virtual targets poll with wait_s 0, each re-polling as soon
 *   as its reply arrives (one renewal = one poll answered); the same code
 *   runs against the master and against a peer server.
 * - ingest: run reports uploaded in batches, several targets at a time.
 *
 * The helpers shared with the delivery test (fleet_check.c) are the
 * phase_*() functions without a JSON result.
 */
#include "fleet/fleet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include <event2/http.h>

#include "common/json.h"

#define CONNECT_WINDOW 256 /* handshakes in flight while connecting */
#define WAIT_MS 300000

struct connecting {
	struct fleet *f;
	size_t started;
};

static int
connect_progress(void *arg)
{
	struct connecting *c = arg;
	struct fleet *f = c->f;

	return f->connected == f->nvts ||
	    (c->started < f->nvts &&
		c->started - f->connected < CONNECT_WINDOW);
}

/* Starts every virtual target, a window of handshakes at a time, and
 * returns once each has had its first poll answered. */
int
phase_connect_all(struct fleet *f, struct cerr *err)
{
	struct connecting c = {f, 0};

	f->running = 1;
	while (f->connected < f->nvts) {
		while (c.started < f->nvts &&
		    c.started - f->connected < CONNECT_WINDOW)
			if (vt_start(f->vts[c.started++], err) < 0)
				return -1;
		if (fleet_wait(f, connect_progress, &c, WAIT_MS, "connections",
			err) < 0)
			return -1;
	}
	return 0;
}

static int
time_passed(void *arg)
{
	return fleet_now_ns() >= *(int64_t *)arg;
}

void
phase_run_for(struct fleet *f, int ms)
{
	int64_t until = fleet_now_ns() + (int64_t)ms * 1000000;
	struct cerr err;

	fleet_wait(f, time_passed, &until, ms + 1000, "time", &err);
}

/* Runs until pid used no CPU for 300 ms (30 s at most); 2 s without one. */
static void
settle(struct fleet *f, long pid)
{
	int64_t deadline = fleet_now_ns() + 30 * (int64_t)1000000000;

	if (pid <= 0) {
		phase_run_for(f, 2000);
		return;
	}
	while (fleet_now_ns() < deadline) {
		long before = fleet_cpu_ticks(pid);

		phase_run_for(f, 300);
		if (fleet_cpu_ticks(pid) == before)
			return;
	}
}

static int
list_empty(struct fleet *f, const char *query, int *empty, struct cerr *err)
{
	char path[128];
	json_t *reply = NULL;

	snprintf(path, sizeof(path), "/v1/downloadlist?%s&limit=1", query);
	if (fleet_admin_ok(f, "GET", path, NULL, &reply, err) < 0)
		return -1;
	*empty = json_is_array(reply) && json_array_size(reply) == 0;
	json_decref(reply);
	return 0;
}

/* Until the master has every instruction acknowledged (none pending or
 * downloaded). */
int
phase_wait_applied(struct fleet *f, struct cerr *err)
{
	int64_t deadline = fleet_now_ns() + (int64_t)WAIT_MS * 1000000;
	int pending = 0, downloaded = 0;

	while (fleet_now_ns() < deadline) {
		if (list_empty(f, "status=pending", &pending, err) < 0 ||
		    list_empty(f, "status=downloaded", &downloaded, err) < 0)
			return -1;
		if (pending && downloaded)
			return 0;
		phase_run_for(f, 20);
	}
	return cerr_set(err, CERR_UNAVAILABLE,
	    "timed out waiting for the "
	    "master to record every acknowledgement");
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static json_t *
lat_stats(int64_t *a, size_t n)
{
	size_t p99;

	if (n == 0)
		return json_object();
	qsort(a, n, sizeof(*a), cmp_i64);
	p99 = (size_t)ceil(0.99 * (double)n);
	return json_pack("{s:I,s:f,s:f,s:f}", "n", (json_int_t)n, "p50_ms",
	    (double)a[(n - 1) / 2] / 1e6, "p99_ms", (double)a[p99 - 1] / 1e6,
	    "max_ms", (double)a[n - 1] / 1e6);
}

/* Admin requests sent together, counted as they are answered; the
 * instructions their replies say were posted are collected in expect. */
struct batch {
	size_t sent, done, failed;
	json_t *expect; /* target -> [ids], may be NULL */
	char why[256];
};

void
phase_expect_posted(json_t *expect, const json_t *reply)
{
	const json_t *p;
	size_t i;

	json_array_foreach(json_object_get(reply, "posted"), i, p)
	{
		const char *t = json_string_value(json_object_get(p, "target"));
		json_t *list = t ? json_object_get(expect, t) : NULL;

		if (t == NULL)
			continue;
		if (list == NULL) {
			list = json_array();
			json_object_set_new(expect, t, list);
		}
		json_array_append(list, json_object_get(p, "id"));
	}
}

static void
batch_cb(void *arg, int status, const char *body, size_t len)
{
	struct batch *b = arg;
	json_t *reply;

	b->done++;
	if (status != 200) {
		b->failed++;
		snprintf(b->why, sizeof(b->why), "status %d: %.*s", status,
		    (int)(len < 200 ? len : 200), body);
		return;
	}
	if (b->expect == NULL)
		return;
	reply = json_loadb(body, len, 0, NULL);
	phase_expect_posted(b->expect, reply);
	json_decref(reply);
}

static int
batch_done(void *arg)
{
	struct batch *b = arg;

	return b->done == b->sent;
}

/* Creates group and adds the first n virtual targets to it. */
int
phase_make_group(struct fleet *f, const char *group, size_t n, json_t *expect,
    struct cerr *err)
{
	struct batch b = {0, 0, 0, expect, ""};
	char path[256], body[256];

	if (fleet_admin_ok(f, "POST", "/v1/groups",
		json_pack("{s:s}", "name", group), NULL, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "/v1/groups/%s/members", group);
	for (size_t i = 0; i < n; i++) {
		snprintf(
		    body, sizeof(body), "{\"target\":\"%s\"}", f->vts[i]->name);
		if (fconn_request(f->admin, "POST", path, body, strlen(body),
			batch_cb, &b, err) < 0)
			return -1;
		b.sent++;
	}
	if (fleet_wait(f, batch_done, &b, WAIT_MS, "group members", err) < 0)
		return -1;
	if (b.failed > 0)
		return cerr_set(err, CERR_INVALID,
		    "adding %zu members to %s: "
		    "%s",
		    b.failed, group, b.why);
	return 0;
}

int
phase_put_job(struct fleet *f, const char *name, const char *group,
    const char *description, json_t *expect, struct cerr *err)
{
	char path[256];
	json_t *reply = NULL;

	snprintf(path, sizeof(path), "/v1/jobs/%s", name);
	if (fleet_admin_ok(f, "PUT", path,
		json_pack("{s:s,s:s,s:[s],s:[{s:s}]}", "name", name,
		    "description", description, "groups", group, "steps",
		    "command", "true"),
		&reply, err) < 0)
		return -1;
	if (expect != NULL)
		phase_expect_posted(expect, reply);
	json_decref(reply);
	return 0;
}

static int
round_done(void *arg)
{
	struct fleet_round *r = arg;

	return r->got == r->want;
}

/* R starts of a job aimed at the first n; lat holds n * rounds. */
static int
fanout_rounds(struct fleet *f, const char *job, size_t n, int rounds,
    int64_t *lat, json_t *admin_ms, struct cerr *err)
{
	char path[256];

	snprintf(path, sizeof(path), "/v1/jobs/%s/start", job);
	for (int r = 0; r < rounds; r++) {
		struct fleet_round *fr = &f->round;
		int64_t t_admin;

		fr->job = job;
		fr->want = n;
		fr->got = 0;
		fr->lat_ns = lat + (size_t)r * n;
		fr->t0_ns = fleet_now_ns();
		if (fleet_admin_ok(f, "POST", path, NULL, NULL, err) < 0)
			return -1;
		t_admin = fleet_now_ns() - fr->t0_ns;
		if (fleet_wait(
			f, round_done, fr, WAIT_MS, "START delivery", err) < 0)
			return -1;
		fr->job = NULL;
		fr->lat_ns = NULL;
		json_array_append_new(
		    admin_ms, json_real((double)t_admin / 1e6));
		if (phase_wait_applied(f, err) < 0)
			return -1;
	}
	return 0;
}

static int
fanout_size(
    struct fleet *f, size_t n, int rounds, json_t *out, struct cerr *err)
{
	char name[64];
	int64_t *lat = calloc(n * (size_t)rounds, sizeof(*lat));
	json_t *admin_ms = json_array(), *st, *per_round;
	int rc = -1;

	/* Unique per run, so a master can be measured more than once. */
	snprintf(name, sizeof(name), "fan-%zu-%ld", n, (long)getpid());
	if (lat == NULL || admin_ms == NULL) {
		cerr_set(err, CERR_INTERNAL, "out of memory");
		goto out;
	}
	if (phase_make_group(f, name, n, NULL, err) < 0 ||
	    phase_put_job(f, name, name, "fan-out", NULL, err) < 0 ||
	    phase_wait_applied(f, err) < 0 ||
	    fanout_rounds(f, name, n, rounds, lat, admin_ms, err) < 0)
		goto out;
	/* Each round's own figures first (sorting a round's slice leaves
	 * the whole array's statistics unchanged): one slow round is what
	 * moves p99. */
	per_round = json_array();
	for (int r = 0; per_round != NULL && r < rounds; r++)
		json_array_append_new(
		    per_round, lat_stats(lat + (size_t)r * n, n));
	st = lat_stats(lat, n * (size_t)rounds);
	json_object_set_new(st, "rounds", json_integer(rounds));
	json_object_set_new(st, "per_round", per_round);
	json_object_set(st, "start_call_ms", admin_ms);
	snprintf(name, sizeof(name), "%zu", n);
	json_object_set_new(out, name, st);
	rc = 0;
out:
	json_decref(admin_ms);
	free(lat);
	return rc;
}

/* The master's CPU use while every target holds an idle poll. */
static void
idle_cpu(struct fleet *f, long pid, int hold_s, json_t *out)
{
	long before = fleet_cpu_ticks(pid), after;
	int64_t t0 = fleet_now_ns();
	double dt;

	phase_run_for(f, hold_s * 1000);
	after = fleet_cpu_ticks(pid);
	dt = (double)(fleet_now_ns() - t0) / 1e9;
	if (before >= 0 && after >= 0)
		json_object_set_new(out, "master_idle_cpu_pct",
		    json_real(100.0 * (double)(after - before) /
			(double)sysconf(_SC_CLK_TCK) / dt));
	json_object_set_new(
	    out, "master_idle_rss_kib", json_integer(fleet_rss_kib(pid)));
}

int
phase_fanout(struct fleet *f, const size_t *sizes, size_t nsizes, int rounds,
    long master_pid, int hold_s, json_t *out, struct cerr *err)
{
	long rss0 = master_pid > 0 ? fleet_rss_kib(master_pid) : -1, rss1;
	int64_t t0 = fleet_now_ns();
	json_t *fan = json_object();

	json_object_set_new(out, "fanout", fan);
	if (phase_connect_all(f, err) < 0)
		return -1;
	json_object_set_new(
	    out, "connect_s", json_real((double)(fleet_now_ns() - t0) / 1e9));
	settle(f, master_pid);
	rss1 = master_pid > 0 ? fleet_rss_kib(master_pid) : -1;
	json_object_set_new(out, "targets", json_integer((json_int_t)f->nvts));
	json_object_set_new(
	    out, "held_polls", json_integer((json_int_t)vt_count_held(f, 0)));
	if (rss0 > 0 && rss1 > 0)
		json_object_set_new(out, "master_rss",
		    json_pack("{s:i,s:i,s:f}", "idle_kib", (int)rss0,
			"connected_kib", (int)rss1, "per_target_bytes",
			(double)(rss1 - rss0) * 1024.0 / (double)f->nvts));
	for (size_t i = 0; i < nsizes; i++) {
		if (sizes[i] > f->nvts)
			return cerr_set(err, CERR_INVALID,
			    "fan-out of %zu needs "
			    "that many targets (have %zu)",
			    sizes[i], f->nvts);
		if (fanout_size(f, sizes[i], rounds, fan, err) < 0)
			return -1;
	}
	if (hold_s > 0 && master_pid > 0)
		idle_cpu(f, master_pid, hold_s, out);
	return 0;
}

static double
self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int
none_polling(void *arg)
{
	return vt_count_held(arg, 0) == 0;
}

int
phase_renew(struct fleet *f, int seconds, long server_pid, json_t *out,
    struct cerr *err)
{
	int64_t polls0, bytes0, t0, t1;
	long srv0, srv1;
	double cpu0, cpu1, dt;

	f->wait_s = 0;
	if (phase_connect_all(f, err) < 0)
		return -1;
	phase_run_for(f, 1000); /* warm-up */
	polls0 = f->polls;
	bytes0 = f->poll_bytes;
	srv0 = server_pid > 0 ? fleet_cpu_ticks(server_pid) : -1;
	cpu0 = self_cpu_s();
	t0 = fleet_now_ns();
	phase_run_for(f, seconds * 1000);
	t1 = fleet_now_ns();
	cpu1 = self_cpu_s();
	srv1 = server_pid > 0 ? fleet_cpu_ticks(server_pid) : -1;
	dt = (double)(t1 - t0) / 1e9;
	json_object_set_new(
	    out, "renewals_per_s", json_real((double)(f->polls - polls0) / dt));
	json_object_set_new(
	    out, "connections", json_integer((json_int_t)f->nvts));
	json_object_set_new(out, "seconds", json_real(dt));
	json_object_set_new(out, "reply_body_bytes",
	    json_real(f->polls > polls0 ? (double)(f->poll_bytes - bytes0) /
			(double)(f->polls - polls0)
					: 0));
	json_object_set_new(
	    out, "client_cpu_pct", json_real(100.0 * (cpu1 - cpu0) / dt));
	if (srv0 >= 0 && srv1 >= 0)
		json_object_set_new(out, "server_cpu_pct",
		    json_real(100.0 * (double)(srv1 - srv0) /
			(double)sysconf(_SC_CLK_TCK) / dt));
	f->running = 0;
	return fleet_wait(f, none_polling, f, 30000, "the last renewals", err);
}

static int
ingest_done(void *arg)
{
	struct fleet *f = arg;

	if (f->ingest_left > 0)
		return 0;
	for (size_t i = 0; i < f->nvts; i++)
		if (f->vts[i]->uploading)
			return 0;
	return 1;
}

int
phase_ingest(
    struct fleet *f, int64_t reports, int batch, json_t *out, struct cerr *err)
{
	int64_t t0;
	double dt;

	f->ingest_left = reports;
	f->ingest_batch = batch;
	t0 = fleet_now_ns();
	for (size_t i = 0; i < f->nvts; i++)
		vt_ingest(f->vts[i]);
	if (fleet_wait(f, ingest_done, f, WAIT_MS, "uploads", err) < 0)
		return -1;
	dt = (double)(fleet_now_ns() - t0) / 1e9;
	json_object_set_new(
	    out, "outcomes_per_s", json_real((double)f->uploaded / dt));
	json_object_set_new(out, "outcomes", json_integer(f->uploaded));
	json_object_set_new(out, "refused", json_integer(f->rejected));
	json_object_set_new(
	    out, "uploaders", json_integer((json_int_t)f->nvts));
	json_object_set_new(out, "batch", json_integer(batch));
	json_object_set_new(out, "seconds", json_real(dt));
	if (f->rejected > 0)
		return cerr_set(err, CERR_INVALID,
		    "the master refused %lld "
		    "reports",
		    (long long)f->rejected);
	return 0;
}
