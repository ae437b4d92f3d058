/*
 * Unit tests for the active master's lease and the write fence
 * (store_lease.h): taking, renewing and releasing the lease between two
 * masters (a table of steps, on both backends), and on PostgreSQL the
 * fence: a deposed master's writes fail, inside a transaction and
 * outside; a takeover waits for the old holder's open write; a holder
 * paused inside a transaction loses its session after its lease time; a
 * standby writes nothing. SQLite by default; PostgreSQL when
 * COHORT_TEST_PG_URL is set (test_store.h).
 */
#include <time.h>

#include "test_store.h"

#include "store/store_lease.h"

#define TTL_MS 60000

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A second store on the fixture's database: the other master. On
 * PostgreSQL its lock_timeout is short when quick_locks is set. */
static struct store *
open_other(struct fx *fx, int quick_locks)
{
	struct store *s = NULL;
	struct cerr err;
	char spec[700];

	if (fx->pg && quick_locks)
		snprintf(spec, sizeof(spec),
		    "%s%coptions=-clock_timeout%%3D300", fx->path,
		    strchr(fx->path, '?') != NULL ? '&' : '?');
	else
		snprintf(spec, sizeof(spec), "%s", fx->path);
	if (store_open(spec, &s, &err) < 0)
		fail_msg("open other: %s", err.msg);
	return s;
}

/* ---- the lease between two masters: a table of steps ------------------ */

enum op { ACQUIRE, RENEW, RELEASE, EXPIRE };

static const struct step {
	int who; /* 0: master a, 1: master b */
	enum op op;
	int64_t epoch; /* RENEW/RELEASE: the epoch used */
	int taken; /* ACQUIRE: expected */
	int64_t want_epoch; /* ACQUIRE: the lease's epoch afterwards */
	const char *want_url;
	enum cerr_code code; /* CERR_OK: succeeds */
	const char *msg;
} steps[] = {
    /* a fresh store: a takes it */
    {0, ACQUIRE, 0, 1, 1, "https://a:8443", CERR_OK, NULL},
    /* b finds it held, and learns by whom */
    {1, ACQUIRE, 0, 0, 1, "https://a:8443", CERR_OK, NULL},
    {0, RENEW, 1, 0, 0, NULL, CERR_OK, NULL},
    /* b cannot renew what it does not hold */
    {1, RENEW, 1, 0, 0, NULL, CERR_NOT_ACTIVE, "held by https://a:8443"},
    {1, RELEASE, 7, 0, 0, NULL, CERR_OK, NULL}, /* no-op */
    {1, ACQUIRE, 0, 0, 1, "https://a:8443", CERR_OK, NULL},
    /* a gives it up: b takes it at once, with a new epoch */
    {0, RELEASE, 1, 0, 0, NULL, CERR_OK, NULL},
    {1, ACQUIRE, 0, 1, 2, "https://b:8443", CERR_OK, NULL},
    {0, RENEW, 1, 0, 0, NULL, CERR_NOT_ACTIVE,
	"epoch 1 was taken over: epoch 2 is held by https://b:8443"},
    {0, ACQUIRE, 0, 0, 2, "https://b:8443", CERR_OK, NULL},
    /* b's lease runs out: a takes it */
    {1, EXPIRE, 0, 0, 0, NULL, CERR_OK, NULL},
    {0, ACQUIRE, 0, 1, 3, "https://a:8443", CERR_OK, NULL},
    {1, RENEW, 2, 0, 0, NULL, CERR_NOT_ACTIVE, "epoch 3"},
    {0, RENEW, 3, 0, 0, NULL, CERR_OK, NULL},
};

static void
expire(struct fx *fx)
{
	raw_exec(fx->path,
	    fx->pg ? "UPDATE lease SET expires_at = 'epoch'"
		   : "UPDATE lease SET expires_at_ms = 0");
}

static void
run_step(struct fx *fx, struct store *s, size_t i)
{
	static const char *const holders[] = {"master-a", "master-b"};
	static const char *const urls[] = {"https://a:8443", "https://b:8443"};
	const struct step *st = &steps[i];
	struct store_lease l;
	struct cerr err;
	int rc = 0, taken = -1;

	cerr_clear(&err);
	if (st->op == ACQUIRE)
		rc = store_lease_acquire(s, holders[st->who], urls[st->who],
		    TTL_MS, &l, &taken, &err);
	else if (st->op == RENEW)
		rc = store_lease_renew(
		    s, holders[st->who], st->epoch, TTL_MS, &err);
	else if (st->op == RELEASE)
		rc = store_lease_release(s, st->epoch, &err);
	else
		expire(fx);
	if (st->code != CERR_OK) {
		expect_err(rc, &err, st->code, st->msg);
		return;
	}
	if (rc != 0)
		fail_msg("step %zu: %s", i, err.msg);
	if (st->op != ACQUIRE)
		return;
	if (taken != st->taken || l.epoch != st->want_epoch ||
	    strcmp(l.url, st->want_url) != 0 || l.expires_in_ms <= 0)
		fail_msg("step %zu: taken %d epoch %lld url %s expires in %lld",
		    i, taken, (long long)l.epoch, l.url,
		    (long long)l.expires_in_ms);
}

static void
test_lease_steps(void **state)
{
	struct fx *fx = *state;
	struct store *b = open_other(fx, 0);
	struct store_lease l;
	struct cerr err;

	assert_int_equal(store_lease_get(fx->s, &l, &err), 0);
	assert_int_equal(l.epoch, 0);
	assert_int_equal(l.expires_in_ms, 0);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		run_step(fx, steps[i].who == 0 ? fx->s : b, i);
	assert_int_equal(store_lease_shared(fx->s), fx->pg);
	store_close(b);
}

static const struct {
	const char *holder;
	const char *url;
	int64_t ttl_ms;
	const char *msg;
} bad_args[] = {
    {"", "https://a", 1000, "holder must be"},
    {"a", "https://a", 0, "ttl must be"},
    {"a", "https://a", 3600001, "ttl must be"},
};

static void
test_lease_bad_args(void **state)
{
	struct fx *fx = *state;
	struct store_lease l;
	struct cerr err;
	int taken;

	for (size_t i = 0; i < sizeof(bad_args) / sizeof(bad_args[0]); i++)
		expect_err(
		    store_lease_acquire(fx->s, bad_args[i].holder,
			bad_args[i].url, bad_args[i].ttl_ms, &l, &taken, &err),
		    &err, CERR_INVALID, bad_args[i].msg);
	expect_err(store_lease_renew(fx->s, "a", 0, 1000, &err), &err,
	    CERR_INVALID, "no epoch");
	assert_int_equal(store_lease_get(fx->s, &l, &err), 0);
	assert_int_equal(l.epoch, 0);
}

/* ---- the fence (PostgreSQL) ------------------------------------------- */

static int64_t
take(struct store *s, const char *holder, int64_t ttl_ms)
{
	struct store_lease l;
	struct cerr err;
	int taken = 0;

	if (store_lease_acquire(s, holder, "", ttl_ms, &l, &taken, &err) < 0)
		fail_msg("acquire: %s", err.msg);
	if (!taken)
		fail_msg("%s: lease held by %s", holder, l.holder);
	store_lease_fence(s, l.epoch);
	return l.epoch;
}

static void
test_fence_deposed(void **state)
{
	struct fx *fx = *state;
	struct store *b = open_other(fx, 0);
	struct store_target t;
	struct cerr err;

	take(fx->s, "a", TTL_MS);
	add_target(fx->s, "web-1"); /* a writes while it holds the lease */
	expire(fx);
	take(b, "b", TTL_MS);
	if (!fx->pg) {
		/* One master per SQLite file: nothing to fence. */
		add_target(fx->s, "web-2");
		store_close(b);
		return;
	}
	/* outside a transaction */
	expect_err(store_target_set_location(fx->s, "web-1", "x", &err), &err,
	    CERR_NOT_ACTIVE, "another master is active");
	assert_int_equal(store_lease_fenced(fx->s), 1);
	/* later writes are refused at once; reads still work */
	expect_err(store_target_set_location(fx->s, "web-1", "y", &err), &err,
	    CERR_NOT_ACTIVE, "has taken over the lease");
	assert_int_equal(store_target_get(fx->s, "web-1", &t, &err), 0);
	assert_string_equal(t.location, "rack web-1");
	/* b, the new holder, writes */
	add_target(b, "web-2");
	/* a transaction of the deposed master changes nothing */
	store_lease_fence(fx->s, 1);
	assert_int_equal(store_begin(fx->s, &err), 0);
	expect_err(store_target_set_location(fx->s, "web-2", "z", &err), &err,
	    CERR_NOT_ACTIVE, "");
	expect_err(store_commit(fx->s, &err), &err, CERR_STORE, "");
	assert_int_equal(store_target_get(b, "web-2", &t, &err), 0);
	assert_string_equal(t.location, "rack web-2");
	/* a standby writes nothing */
	store_lease_fence(fx->s, STORE_LEASE_STANDBY);
	expect_err(store_target_set_location(fx->s, "web-2", "z", &err), &err,
	    CERR_NOT_ACTIVE, "standby");
	store_close(b);
}

/* A takeover waits for the old holder's open write; the old holder's
 * next write, in the same transaction, then fails. */
static void
test_fence_takeover_waits(void **state)
{
	struct fx *fx = *state;
	struct store *b = open_other(fx, 1);
	struct store_lease l;
	struct store_target t;
	struct cerr err;
	int taken = -1;

	if (!fx->pg) {
		store_close(b);
		skip();
	}
	take(fx->s, "a", TTL_MS);
	add_target(fx->s, "web-1");
	expire(fx);
	assert_int_equal(store_begin(fx->s, &err), 0);
	assert_int_equal(
	    store_target_set_location(fx->s, "web-1", "first", &err), 0);
	/* a's transaction holds the fence's lock: b cannot take over yet */
	expect_err(store_lease_acquire(b, "b", "", TTL_MS, &l, &taken, &err),
	    &err, CERR_STORE, "lock");
	assert_int_equal(store_commit(fx->s, &err), 0);
	assert_int_equal(
	    store_lease_acquire(b, "b", "", TTL_MS, &l, &taken, &err), 0);
	assert_int_equal(taken, 1);
	assert_int_equal(store_begin(fx->s, &err), 0);
	expect_err(store_target_set_location(fx->s, "web-1", "second", &err),
	    &err, CERR_NOT_ACTIVE, "");
	store_rollback(fx->s);
	assert_int_equal(store_target_get(b, "web-1", &t, &err), 0);
	assert_string_equal(t.location, "first");
	store_close(b);
}

/* A holder paused inside a transaction (SIGSTOP) loses its session once
 * it has been idle there for its lease time, so the takeover goes on;
 * the paused transaction is undone, and its next write is fenced. */
static void
test_fence_paused_in_transaction(void **state)
{
	struct fx *fx = *state;
	struct store *b = open_other(fx, 0);
	struct store_lease l;
	struct store_target t;
	struct cerr err;
	int64_t deadline = mono_ms() + 20000;
	int taken = 0;

	if (!fx->pg) {
		store_close(b);
		skip();
	}
	take(fx->s, "a", 300);
	add_target(fx->s, "web-1");
	assert_int_equal(store_begin(fx->s, &err), 0);
	assert_int_equal(
	    store_target_set_location(fx->s, "web-1", "paused", &err), 0);
	while (!taken && mono_ms() < deadline)
		if (store_lease_acquire(b, "b", "", TTL_MS, &l, &taken, &err) <
		    0)
			fail_msg("acquire: %s", err.msg);
	assert_int_equal(taken, 1);
	expect_err(store_commit(fx->s, &err), &err, CERR_STORE, "");
	assert_int_equal(store_target_get(b, "web-1", &t, &err), 0);
	assert_string_equal(t.location, "rack web-1");
	expect_err(store_target_set_location(fx->s, "web-1", "late", &err),
	    &err, CERR_NOT_ACTIVE, "");
	store_close(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_lease_steps),
	    T(test_lease_bad_args),
	    T(test_fence_deposed),
	    T(test_fence_takeover_waits),
	    T(test_fence_paused_in_transaction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
