/*
 * cmd_drill: "cohortctl drill failover", proof on demand that a master
 * pair fails over without losing or doubling a run (PRODUCT.md section
 * 10). The profile lists every master of the pair. The drill finds the
 * active one (GET /v1/health on each), makes it give up its lease (POST
 * /v1/lease/release), times how long until another master reports itself
 * active with a newer epoch, and then checks the ledger on the new active
 * master: every applied START instruction in the download list must have
 * had exactly one job run reported finished for it (a run, or its
 * refusal), which the store counts per instruction as the runs end. Runs whose rows
 * are still on their way (uploads) get a short grace. The figures are printed; the exit status is 1 when the
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
	int64_t starts, applied, in_flight, running, runs, lost, doubled;
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

/* The health of urls[i]: 1 active (*epoch set), 0 not. *answered (may
 * be NULL): whether it answered at all (a standby answers 503). */
static int
health_of(struct drill *d, int i, int64_t *epoch, int *answered)
{
	json_t *out = NULL;
	struct cerr err;
	long status = 0;
	int active;

	use_master(d, i);
	if (answered != NULL)
		*answered = 0;
	if (client_get_status(&d->one, "/v1/health", &status, &out, &err) < 0)
		return 0;
	if (answered != NULL)
		*answered = 1;
	active = status == 200;
	*epoch = json_integer_value(json_object_get(out, "epoch"));
	json_decref(out);
	return active;
}

static int
health(struct drill *d, int i, int64_t *epoch)
{
	return health_of(d, i, epoch, NULL);
}

/* A master other than the active one answers: without one, giving the
 * lease up would leave the fleet without a master until the same one
 * took it back, and prove nothing. */
static int
standby_answers(struct drill *d)
{
	int64_t epoch;
	int answered;

	for (int i = 0; i < d->nurls; i++)
		if (i != d->from &&
		    (health_of(d, i, &epoch, &answered) || answered))
			return 1;
	return 0;
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
	if (!standby_answers(d))
		return cerr_set(err, CERR_UNAVAILABLE,
		    "drill failover: no other master of the profile answers; "
		    "giving up %s's lease would leave the fleet without a "
		    "master: not started",
		    d->urls[d->from]);
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
				/* the one that gave up took it back: no
				 * standby took over */
				if (i == d->from)
					return cerr_set(err, CERR_UNAVAILABLE,
					    "drill failover: no standby took "
					    "over; %s took its lease back "
					    "(epoch %lld) after %.3f s",
					    d->urls[d->from], (long long)epoch,
					    (double)(mono_ms() - start) /
						1000.0);
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

/* A (job, target) pair as one string, for the busy set. */
static void
pair_key(char *out, size_t size, const char *job, const char *target)
{
	snprintf(out, size, "%s\037%s", job ? job : "", target ? target : "");
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct busy {
	char **pairs; /* sorted */
	size_t n;
};

static void
busy_free(struct busy *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->pairs[i]);
	free(b->pairs);
}

/* The (job, target) pairs with a run going: a START applied there is
 * that run, or waits behind it (one instance of a job at a time), so
 * has no finished run yet. */
static int
read_busy(const struct client *c, struct busy *b, struct cerr *err)
{
	json_t *list = NULL, *v;
	char key[2 * CONF_STR_MAX];
	size_t i;

	if (client_call(c, "GET",
		"/v1/history?jobs_only=1&outcome=running&limit=" LEDGER_LIMIT,
		NULL, &list, err) < 0)
		return -1;
	b->pairs = calloc(json_array_size(list) + 1, sizeof(*b->pairs));
	json_array_foreach(list, i, v)
	{
		if (b->pairs == NULL)
			break;
		pair_key(key, sizeof(key),
		    json_string_value(json_object_get(v, "job")),
		    json_string_value(json_object_get(v, "target")));
		b->pairs[b->n] = strdup(key);
		if (b->pairs[b->n] == NULL)
			break;
		b->n++;
	}
	if (b->pairs == NULL || b->n < json_array_size(list)) {
		json_decref(list);
		busy_free(b);
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	}
	json_decref(list);
	qsort(b->pairs, b->n, sizeof(*b->pairs), cmp_str);
	return 0;
}

static int
is_busy(const struct busy *b, const json_t *start)
{
	char key[2 * CONF_STR_MAX], *k = key;

	pair_key(key, sizeof(key),
	    json_string_value(json_object_get(start, "object")),
	    json_string_value(json_object_get(start, "target")));
	return bsearch(&k, b->pairs, b->n, sizeof(*b->pairs), cmp_str) != NULL;
}

/* One look at the ledger. Each START in the download list counts the
 * job runs reported finished for it (the store counts them as they end,
 * so history retention and purges do not matter): an applied one with
 * none is lost, unless its job is running on its target (its own run,
 * or one it waits behind); one with two or more ran twice. A START
 * applied before the store counted (runs null) is left out. */
static int
check_ledger(struct drill *d, const struct client *c, struct cerr *err)
{
	json_t *list = NULL, *v;
	struct busy busy = {0};
	size_t i;

	if (read_busy(c, &busy, err) < 0)
		return -1;
	if (client_call(c, "GET", "/v1/downloadlist?limit=" LEDGER_LIMIT, NULL,
		&list, err) < 0) {
		busy_free(&busy);
		return -1;
	}
	d->starts = d->applied = d->in_flight = d->running = 0;
	d->runs = d->lost = d->doubled = 0;
	json_array_foreach(list, i, v)
	{
		const char *op =
		    json_string_value(json_object_get(v, "operation"));
		const char *st =
		    json_string_value(json_object_get(v, "status"));
		json_t *runs = json_object_get(v, "runs");
		json_int_t n = json_integer_value(runs);

		if (op == NULL || strcmp(op, "start") != 0 || st == NULL)
			continue;
		d->starts++;
		if (strcmp(st, "pending") == 0 || strcmp(st, "downloaded") == 0)
			d->in_flight++;
		if (strcmp(st, "applied") != 0 || !json_is_integer(runs))
			continue;
		d->applied++;
		d->runs += n;
		d->doubled += n > 1;
		if (n == 0 && is_busy(&busy, v))
			d->running++;
		else
			d->lost += n == 0;
	}
	json_decref(list);
	busy_free(&busy);
	return 0;
}

static void
report(const struct drill *d, int json)
{
	if (json) {
		json_t *v = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
				      "s:I,s:I,s:I}",
		    "from", d->urls[d->from], "to", d->urls[d->to],
		    "released_epoch", (json_int_t)d->released_epoch, "epoch",
		    (json_int_t)d->new_epoch, "takeover_ms",
		    (json_int_t)d->takeover_ms, "starts", (json_int_t)d->starts,
		    "applied", (json_int_t)d->applied, "in_flight",
		    (json_int_t)d->in_flight, "running", (json_int_t)d->running,
		    "runs", (json_int_t)d->runs, "lost", (json_int_t)d->lost,
		    "doubled", (json_int_t)d->doubled);

		output_json(stdout, v);
		json_decref(v);
		return;
	}
	printf("failover drill: %s -> %s\n"
	       "  takeover: %lld.%03lld s (epoch %lld given up, epoch %lld "
	       "taken)\n"
	       "  ledger:   %lld START instructions: %lld applied, %lld in "
	       "flight; %lld runs: %lld lost, %lld doubled; %lld running or "
	       "waiting behind a run of their job\n",
	    d->urls[d->from], d->urls[d->to], (long long)d->takeover_ms / 1000,
	    (long long)d->takeover_ms % 1000, (long long)d->released_epoch,
	    (long long)d->new_epoch, (long long)d->starts,
	    (long long)d->applied, (long long)d->in_flight, (long long)d->runs,
	    (long long)d->lost, (long long)d->doubled, (long long)d->running);
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
