/*
 * cmd_drill: "cohortctl drill failover", proof on demand that a master
 * pair fails over without losing or doubling a run (PRODUCT.md section
 * 10). The profile lists every master of the pair. The drill finds the
 * active one (GET /v1/health on each), makes it give up its lease (POST
 * /v1/lease/release), times how long until another master reports itself
 * active with a newer epoch, and then checks the ledger on the new active
 * master: every applied START instruction in the download list must have
 * exactly one job row in the history (a run, or its refusal), matched by
 * instruction id. Runs whose rows are still on their way (uploads) get a
 * short grace. The figures are printed; the exit status is 1 when the
 * takeover did not happen in time or a run was lost or doubled.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "ctl/output.h"

#define TAKEOVER_MAX_MS 30000
#define UPLOAD_GRACE_MS 15000
#define POLL_MS 50
#define LEDGER_LIMIT "100000"

struct drill {
	struct client one; /* one master at a time */
	char urls[CLIENT_MAX_URLS][CONF_STR_MAX];
	int nurls;
	int from, to; /* indexes into urls */
	int64_t released_epoch, new_epoch, takeover_ms;
	int64_t starts, applied, in_flight, runs, lost, doubled;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static int
split(struct drill *d, const struct client *c, struct cerr *err)
{
	char copy[CONF_STR_MAX], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", c->url);
	for (char *u = strtok_r(copy, " ,", &save);
	     u != NULL && d->nurls < CLIENT_MAX_URLS;
	     u = strtok_r(NULL, " ,", &save))
		snprintf(d->urls[d->nurls++], CONF_STR_MAX, "%s", u);
	if (d->nurls < 2)
		return cerr_set(err, CERR_INVALID,
		    "drill failover: the "
		    "profile must list every master of the pair (master = "
		    "URL1 URL2)");
	return 0;
}

/* Points the one-master client at urls[i] (both hold CONF_STR_MAX). */
static void
use_master(struct drill *d, int i)
{
	memcpy(d->one.url, d->urls[i], strlen(d->urls[i]) + 1);
}

/* The health of urls[i]: 1 active (*epoch set), 0 not. */
static int
health(struct drill *d, int i, int64_t *epoch)
{
	json_t *out = NULL;
	struct cerr err;
	long status = 0;
	int active;

	use_master(d, i);
	if (client_get_status(&d->one, "/v1/health", &status, &out, &err) < 0)
		return 0;
	active = status == 200;
	*epoch = json_integer_value(json_object_get(out, "epoch"));
	json_decref(out);
	return active;
}

/* Finds the active master, makes it give up, and times the takeover. */
static int
fail_over(struct drill *d, struct cerr *err)
{
	int64_t epoch = 0, start, now;
	json_t *out = NULL;

	d->from = -1;
	for (int i = 0; i < d->nurls && d->from < 0; i++)
		if (health(d, i, &epoch))
			d->from = i;
	if (d->from < 0)
		return cerr_set(err, CERR_UNAVAILABLE,
		    "drill failover: no "
		    "master of the profile is active");
	use_master(d, d->from);
	start = mono_ms();
	if (client_call(&d->one, "POST", "/v1/lease/release", NULL, &out, err) <
	    0)
		return cerr_wrap(err, "drill failover: %s", d->urls[d->from]);
	d->released_epoch =
	    json_integer_value(json_object_get(out, "released_epoch"));
	json_decref(out);
	for (now = start; now - start < TAKEOVER_MAX_MS; now = mono_ms()) {
		for (int i = 0; i < d->nurls; i++) {
			if (health(d, i, &epoch) && epoch > d->released_epoch) {
				d->to = i;
				d->new_epoch = epoch;
				d->takeover_ms = mono_ms() - start;
				return 0;
			}
		}
		sleep_ms(POLL_MS);
	}
	return cerr_set(err, CERR_UNAVAILABLE,
	    "drill failover: %s gave up "
	    "epoch %lld and no master took over within %d s",
	    d->urls[d->from], (long long)d->released_epoch,
	    TAKEOVER_MAX_MS / 1000);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The ids of the applied START instructions (sorted) into *ids; counts
 * the rest. Caller frees *ids. */
static int
read_starts(struct drill *d, const struct client *c, int64_t **ids, size_t *n,
    struct cerr *err)
{
	json_t *list = NULL, *v;
	size_t i;

	if (client_call(c, "GET", "/v1/downloadlist?limit=" LEDGER_LIMIT, NULL,
		&list, err) < 0)
		return -1;
	*ids = calloc(json_array_size(list) + 1, sizeof(**ids));
	*n = 0;
	d->starts = d->in_flight = 0;
	json_array_foreach(list, i, v)
	{
		const char *op =
		    json_string_value(json_object_get(v, "operation"));
		const char *st =
		    json_string_value(json_object_get(v, "status"));

		if (*ids == NULL || op == NULL || strcmp(op, "start") != 0)
			continue;
		d->starts++;
		if (st != NULL && strcmp(st, "applied") == 0)
			(*ids)[(*n)++] =
			    json_integer_value(json_object_get(v, "id"));
		else if (st != NULL &&
		    (strcmp(st, "pending") == 0 ||
			strcmp(st, "downloaded") == 0))
			d->in_flight++;
	}
	json_decref(list);
	if (*ids == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	qsort(*ids, *n, sizeof(**ids), cmp_i64);
	return 0;
}

/* The instruction ids of the history's job rows (sorted). */
static int
read_runs(const struct client *c, int64_t **ids, size_t *n, struct cerr *err)
{
	json_t *list = NULL, *v;
	size_t i;

	if (client_call(c, "GET", "/v1/history?jobs_only=1&limit=" LEDGER_LIMIT,
		NULL, &list, err) < 0)
		return -1;
	*ids = calloc(json_array_size(list) + 1, sizeof(**ids));
	*n = 0;
	json_array_foreach(list, i, v)
	{
		int64_t id = json_integer_value(json_object_get(v, "instr_id"));

		if (*ids != NULL && id > 0)
			(*ids)[(*n)++] = id;
	}
	json_decref(list);
	if (*ids == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	qsort(*ids, *n, sizeof(**ids), cmp_i64);
	return 0;
}

/* One look at the ledger: lost and doubled among the applied STARTs. */
static int
check_ledger(struct drill *d, const struct client *c, struct cerr *err)
{
	int64_t *starts = NULL, *runs = NULL;
	size_t ns = 0, nr = 0, j = 0;
	int rc = -1;

	if (read_starts(d, c, &starts, &ns, err) < 0 ||
	    read_runs(c, &runs, &nr, err) < 0)
		goto out;
	d->applied = (int64_t)ns;
	d->runs = d->lost = d->doubled = 0;
	for (size_t i = 0; i < ns; i++) {
		int64_t count = 0;

		while (j < nr && runs[j] < starts[i])
			j++;
		while (j < nr && runs[j] == starts[i]) {
			count++;
			j++;
		}
		d->runs += count;
		d->lost += count == 0;
		d->doubled += count > 1;
	}
	rc = 0;
out:
	free(starts);
	free(runs);
	return rc;
}

static void
report(const struct drill *d, int json)
{
	if (json) {
		json_t *v = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
				      "s:I,s:I}",
		    "from", d->urls[d->from], "to", d->urls[d->to],
		    "released_epoch", (json_int_t)d->released_epoch, "epoch",
		    (json_int_t)d->new_epoch, "takeover_ms",
		    (json_int_t)d->takeover_ms, "starts", (json_int_t)d->starts,
		    "applied", (json_int_t)d->applied, "in_flight",
		    (json_int_t)d->in_flight, "runs", (json_int_t)d->runs,
		    "lost", (json_int_t)d->lost, "doubled",
		    (json_int_t)d->doubled);

		output_json(stdout, v);
		json_decref(v);
		return;
	}
	printf("failover drill: %s -> %s\n"
	       "  takeover: %lld.%03lld s (epoch %lld given up, epoch %lld "
	       "taken)\n"
	       "  ledger:   %lld START instructions: %lld applied, %lld in "
	       "flight; %lld runs: %lld lost, %lld doubled\n",
	    d->urls[d->from], d->urls[d->to], (long long)d->takeover_ms / 1000,
	    (long long)d->takeover_ms % 1000, (long long)d->released_epoch,
	    (long long)d->new_epoch, (long long)d->starts,
	    (long long)d->applied, (long long)d->in_flight, (long long)d->runs,
	    (long long)d->lost, (long long)d->doubled);
}

int
cmd_drill_failover(struct ctl *ctl, int argc, char **argv)
{
	static struct drill d;
	int json = 0, npos;
	const struct ctl_opt opts[] = {CTL_FLAG("--json", &json), CTL_END};
	struct client *c;
	struct cerr err;
	int64_t grace_end;

	if (ctl_parse(argc, argv, opts, NULL, 0, 0, &npos, &err) < 0 ||
	    ctl_client(ctl, &c, &err) < 0 || split(&d, c, &err) < 0)
		return ctl_fail(&err);
	d.one = *c;
	if (fail_over(&d, &err) < 0 || check_ledger(&d, c, &err) < 0)
		return ctl_fail(&err);
	/* A run's row may still be on its way from its target. */
	for (grace_end = mono_ms() + UPLOAD_GRACE_MS;
	     d.lost > 0 && mono_ms() < grace_end;) {
		sleep_ms(500);
		if (check_ledger(&d, c, &err) < 0)
			return ctl_fail(&err);
	}
	report(&d, json);
	return d.lost > 0 || d.doubled > 0 ? 1 : 0;
}
