/*
 * Unit tests for the master store: targets, enlistment tokens,
 * revocation, jobs and their aims, transactions. Opening is in
 * test_store_open.c, the download list in test_store_instr.c, history in
 * test_store_history.c. SQLite by default; PostgreSQL when
 * COHORT_TEST_PG_URL is set (test_store.h).
 */
#include "test_store.h"

#include "store/store_backend.h"

#define H1 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define H2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define H3 "1111111111111111222222222222222233333333333333334444444444444444"

/* ---- targets ----------------------------------------------------------- */

static void
test_target_basics(void **state)
{
	struct fx *fx = *state;
	struct store_target t;
	struct names nm = {0};
	struct cerr err;

	add_target(fx->s, "web-2");
	add_target(fx->s, "web-1");
	add_target(fx->s, "db-1");
	memset(&t, 0, sizeof(t));
	snprintf(t.name, sizeof(t.name), "web-1");
	t.poll_interval_s = 60;
	expect_err(store_target_add(fx->s, &t, &err), &err, CERR_CONFLICT,
	    "'web-1' is already enlisted");

	assert_int_equal(store_target_get(fx->s, "web-1", &t, &err), 0);
	assert_string_equal(t.location, "rack web-1");
	assert_string_equal(t.cert_serial, "0aweb-1");
	assert_int_equal(t.enlisted_at, 1000);
	assert_int_equal(t.last_poll, 0);
	assert_int_equal(t.defected, 0);
	assert_int_equal(t.unread, 0);
	expect_err(store_target_get(fx->s, "nope", &t, &err), &err,
	    CERR_NOT_FOUND, "no target 'nope'");

	assert_int_equal(
	    store_target_list(fx->s, collect_target, &nm, &err), 0);
	assert_int_equal(nm.n, 3);
	assert_string_equal(nm.v[0], "db-1");
	assert_string_equal(nm.v[2], "web-2");
	memset(&nm, 0, sizeof(nm));
	nm.stop_after = 1;
	assert_int_equal(
	    store_target_list(fx->s, collect_target, &nm, &err), 0);
	assert_int_equal(nm.n, 1);
}

static void
test_target_updates(void **state)
{
	struct fx *fx = *state;
	struct store_target t;
	struct store_poll p = {.now = 2000,
	    .local_time = 5600,
	    .tz_offset_s = 3600,
	    .poll_interval_s = 30,
	    .version = "0.2.0",
	    .outbox_dropped = 7};
	struct cerr err;

	add_target(fx->s, "web-1");
	assert_int_equal(store_target_get(fx->s, "web-1", &t, &err), 0);
	assert_int_equal(t.outbox_dropped, 0);
	assert_int_equal(store_target_polled(fx->s, "web-1", &p, &err), 0);
	assert_int_equal(store_target_get(fx->s, "web-1", &t, &err), 0);
	assert_int_equal(t.outbox_dropped, 7);
	p.version = NULL; /* keeps the version */
	p.now = 2100;
	p.outbox_dropped = 9;
	assert_int_equal(store_target_polled(fx->s, "web-1", &p, &err), 0);
	assert_int_equal(store_target_get(fx->s, "web-1", &t, &err), 0);
	assert_int_equal(t.outbox_dropped, 9);
	assert_int_equal(t.last_poll, 2100);
	assert_int_equal(t.local_time, 5600);
	assert_int_equal(t.tz_offset_s, 3600);
	assert_int_equal(t.poll_interval_s, 30);
	assert_string_equal(t.version, "0.2.0");
	expect_err(store_target_polled(fx->s, "gone", &p, &err), &err,
	    CERR_NOT_FOUND, "no target 'gone'");

	assert_int_equal(
	    store_target_set_location(fx->s, "web-1", "hall B", &err), 0);
	assert_int_equal(store_target_get(fx->s, "web-1", &t, &err), 0);
	assert_string_equal(t.location, "hall B");
	expect_err(store_target_set_location(fx->s, "gone", "x", &err), &err,
	    CERR_NOT_FOUND, NULL);
	expect_err(store_target_set_defected(fx->s, "gone", 1, &err), &err,
	    CERR_NOT_FOUND, NULL);
}

static int
count_name(void *arg, const char *name)
{
	(void)name;
	(*(int *)arg)++;
	return 0;
}

static void
test_target_readd_after_defect(void **state)
{
	struct fx *fx = *state;
	struct store_target t;
	struct cerr err;
	int64_t id = 0;

	const char *const web1[] = {"web-1"};
	int n = 0;

	add_target(fx->s, "web-1");
	assert_int_equal(store_instr_post(fx->s, "web-1", INSTR_INSERT, "j",
			     "{}", 10, &id, &err),
	    0);
	assert_int_equal(store_job_put(fx->s, "j", "{}", 10, NULL, &err), 0);
	assert_int_equal(store_job_targets_set(fx->s, "j", web1, 1, &err), 0);
	assert_int_equal(store_group_create(fx->s, "web", 10, &err), 0);
	assert_int_equal(store_group_add(fx->s, "web", "web-1", NULL, &err), 0);
	assert_int_equal(
	    store_target_set_defected(fx->s, "web-1", 50, &err), 0);
	assert_int_equal(store_target_get(fx->s, "web-1", &t, &err), 0);
	assert_int_equal(t.defected, 1);
	assert_int_equal(t.unread, 1);
	/* it left the job's aim and the group */
	assert_int_equal(
	    store_job_targets_list(fx->s, "j", count_name, &n, &err), 0);
	assert_int_equal(
	    store_group_members(fx->s, "web", count_name, &n, &err), 0);
	assert_int_equal(n, 0);

	memset(&t, 0, sizeof(t));
	snprintf(t.name, sizeof(t.name), "web-1");
	snprintf(t.cert_serial, sizeof(t.cert_serial), "beef");
	t.enlisted_at = 3000;
	t.poll_interval_s = 120;
	assert_int_equal(store_target_add(fx->s, &t, &err), 0);
	assert_int_equal(store_target_get(fx->s, "web-1", &t, &err), 0);
	assert_int_equal(t.defected, 0);
	assert_int_equal(t.enlisted_at, 3000);
	assert_string_equal(t.cert_serial, "beef");
	assert_int_equal(t.unread, 0); /* the old incarnation's list is gone */
}

static void
test_target_bad_input(void **state)
{
	struct fx *fx = *state;
	struct store_target t;
	struct store_poll p = {.now = 1,
	    .poll_interval_s = 60,
	    .version = "0123456789012345678901234567890123456789"};
	char long_name[STORE_NAME_MAX + 2];
	struct cerr err;

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	memset(&t, 0, sizeof(t));
	t.poll_interval_s = 60;
	expect_err(store_target_add(fx->s, &t, &err), &err, CERR_INVALID,
	    "empty name");
	snprintf(t.name, sizeof(t.name), "bad\nname");
	expect_err(store_target_add(fx->s, &t, &err), &err, CERR_INVALID,
	    "control character");
	snprintf(t.name, sizeof(t.name), "bad\xff");
	expect_err(store_target_add(fx->s, &t, &err), &err, CERR_INVALID,
	    "not valid UTF-8");
	expect_err(store_target_get(fx->s, "caf\xc3", &t, &err), &err,
	    CERR_INVALID, "not valid UTF-8");
	snprintf(t.name, sizeof(t.name), "ok");
	t.poll_interval_s = 0;
	expect_err(store_target_add(fx->s, &t, &err), &err, CERR_INVALID,
	    "poll interval");
	expect_err(store_target_get(fx->s, long_name, &t, &err), &err,
	    CERR_INVALID, "longer than 128");
	add_target(fx->s, "web-1");
	expect_err(store_target_polled(fx->s, "web-1", &p, &err), &err,
	    CERR_INVALID, "version: longer than 31");
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM targets"), 1);
}

/* ---- tokens and revocation -------------------------------------------- */

static const struct {
	const char *target;
	const char *hash;
	int64_t now;
	enum cerr_code code; /* CERR_OK: accepted */
	const char *msg;
} token_cases[] = {
    {"web-2", H1, 150, CERR_TOKEN, "for 'web-2' is unknown"},
    {"web-1", H2, 150, CERR_TOKEN, "for 'web-1' is unknown"},
    {"web-1", H1, 200, CERR_TOKEN, "for 'web-1' has expired"},
    {"web-1", "xyz", 150, CERR_INVALID, "not 64 hex digits"},
    {"web-1", H1, 150, CERR_OK, NULL},
    {"web-1", H1, 151, CERR_TOKEN, "for 'web-1' was already used"},
    /* the enlistment spent the spare token of its name too */
    {"web-1", H3, 152, CERR_TOKEN, "for 'web-1' was already used"},
    {"web-3", H2, 150, CERR_TOKEN, "is unknown"},
};

static void
test_tokens(void **state)
{
	struct fx *fx = *state;
	struct cerr err;
	char upper[] = "ABCDEF0123456789ABCDEF0123456789"
		       "ABCDEF0123456789ABCDEF0123456789";

	assert_int_equal(
	    store_token_add(fx->s, "web-1", H1, 100, 200, &err), 0);
	expect_err(store_token_add(fx->s, "web-1", H1, 100, 200, &err), &err,
	    CERR_CONFLICT, NULL);
	expect_err(store_token_add(fx->s, "web-1", H2, 100, 100, &err), &err,
	    CERR_INVALID, "not in the future");
	assert_int_equal(
	    store_token_add(fx->s, "web-1", H3, 100, 300, &err), 0);
	for (size_t i = 0; i < sizeof(token_cases) / sizeof(token_cases[0]);
	     i++) {
		int rc = store_token_use(fx->s, token_cases[i].target,
		    token_cases[i].hash, token_cases[i].now, &err);

		if (token_cases[i].code == CERR_OK) {
			if (rc != 0)
				fail_msg("case %zu: %s", i, err.msg);
			continue;
		}
		if (rc == 0)
			fail_msg("case %zu accepted", i);
		expect_err(rc, &err, token_cases[i].code, token_cases[i].msg);
		if (strstr(err.msg, token_cases[i].hash) != NULL)
			fail_msg("case %zu: message shows the hash", i);
	}
	/* Digests are kept in lowercase: the same token either way. */
	assert_int_equal(
	    store_token_add(fx->s, "web-4", upper, 100, 200, &err), 0);
	for (char *c = upper; *c != '\0'; c++)
		*c = (char)(*c >= 'A' && *c <= 'F' ? *c - 'A' + 'a' : *c);
	assert_int_equal(store_token_use(fx->s, "web-4", upper, 120, &err), 0);
	assert_int_equal(raw_int(fx->path,
			     "SELECT count(*) FROM tokens "
			     "WHERE hash = lower(hash)"),
	    3);
}

static void
test_revoke(void **state)
{
	struct fx *fx = *state;
	struct names nm = {0};
	struct cerr err;

	assert_int_equal(store_revoke(fx->s, "0b", "web-2", 10, &err), 0);
	assert_int_equal(store_revoke(fx->s, "0a", "web-1", 10, &err), 0);
	assert_int_equal(store_revoke(fx->s, "0a", "web-1", 11, &err), 0);
	expect_err(store_revoke(fx->s, "", "web-1", 11, &err), &err,
	    CERR_INVALID, "empty serial");
	assert_int_equal(store_revoked_list(fx->s, collect_name, &nm, &err), 0);
	assert_int_equal(nm.n, 2);
	assert_string_equal(nm.v[0], "0a");
	assert_string_equal(nm.v[1], "0b");
}

/* ---- jobs -------------------------------------------------------------- */

struct job_seen {
	char name[STORE_NAME_MAX + 1];
	char doc[64];
	int64_t created_at, updated_at;
	int calls;
};

static int
collect_job(void *arg, const struct store_job *j)
{
	struct job_seen *js = arg;

	snprintf(js->name, sizeof(js->name), "%s", j->name);
	snprintf(js->doc, sizeof(js->doc), "%s", j->doc);
	js->created_at = j->created_at;
	js->updated_at = j->updated_at;
	js->calls++;
	return 0;
}

static void
test_jobs(void **state)
{
	struct fx *fx = *state;
	struct job_seen js = {0};
	struct cerr err;
	int created = -1;

	assert_int_equal(
	    store_job_put(fx->s, "backup", "{\"v\":1}", 100, &created, &err),
	    0);
	assert_int_equal(created, 1);
	assert_int_equal(
	    store_job_put(fx->s, "backup", "{\"v\":2}", 200, &created, &err),
	    0);
	assert_int_equal(created, 0);
	assert_int_equal(
	    store_job_put(fx->s, "alpha", "{}", 300, NULL, &err), 0);
	expect_err(store_job_put(fx->s, "empty", "", 300, NULL, &err), &err,
	    CERR_INVALID, "empty document");

	assert_int_equal(
	    store_job_get(fx->s, "backup", collect_job, &js, &err), 0);
	assert_int_equal(js.calls, 1);
	assert_string_equal(js.doc, "{\"v\":2}");
	assert_int_equal(js.created_at, 100);
	assert_int_equal(js.updated_at, 200);
	expect_err(store_job_get(fx->s, "none", collect_job, &js, &err), &err,
	    CERR_NOT_FOUND, "no job 'none'");

	memset(&js, 0, sizeof(js));
	assert_int_equal(store_job_list(fx->s, collect_job, &js, &err), 0);
	assert_int_equal(js.calls, 2);
	assert_string_equal(js.name, "backup"); /* the last, in name order */

	assert_int_equal(store_job_delete(fx->s, "alpha", &err), 0);
	expect_err(store_job_delete(fx->s, "alpha", &err), &err, CERR_NOT_FOUND,
	    "no job 'alpha'");
}

static void
test_job_targets(void **state)
{
	struct fx *fx = *state;
	const char *aim[] = {"web-2", "web-1", "web-2"};
	const char *bad[] = {"web-1", "ghost"};
	struct names nm = {0};
	struct cerr err;

	add_target(fx->s, "web-1");
	add_target(fx->s, "web-2");
	assert_int_equal(
	    store_job_put(fx->s, "backup", "{}", 1, NULL, &err), 0);
	assert_int_equal(store_job_put(fx->s, "audit", "{}", 1, NULL, &err), 0);
	assert_int_equal(
	    store_job_targets_set(fx->s, "backup", aim, 3, &err), 0);
	assert_int_equal(
	    store_job_targets_set(fx->s, "audit", aim, 1, &err), 0);
	assert_int_equal(
	    store_job_targets_list(fx->s, "backup", collect_name, &nm, &err),
	    0);
	assert_int_equal(nm.n, 2);
	assert_string_equal(nm.v[0], "web-1");
	assert_string_equal(nm.v[1], "web-2");

	/* An unknown target or job changes nothing. */
	expect_err(store_job_targets_set(fx->s, "backup", bad, 2, &err), &err,
	    CERR_NOT_FOUND, "no target 'ghost'");
	expect_err(store_job_targets_set(fx->s, "nojob", aim, 1, &err), &err,
	    CERR_NOT_FOUND, "no job 'nojob'");
	memset(&nm, 0, sizeof(nm));
	assert_int_equal(
	    store_target_jobs_list(fx->s, "web-2", collect_name, &nm, &err), 0);
	assert_int_equal(nm.n, 2);
	assert_string_equal(nm.v[0], "audit");
	assert_string_equal(nm.v[1], "backup");

	/* Deleting the job takes its aims; an empty set clears them. */
	assert_int_equal(store_job_delete(fx->s, "audit", &err), 0);
	assert_int_equal(
	    store_job_targets_set(fx->s, "backup", NULL, 0, &err), 0);
	memset(&nm, 0, sizeof(nm));
	assert_int_equal(
	    store_target_jobs_list(fx->s, "web-2", collect_name, &nm, &err), 0);
	assert_int_equal(nm.n, 0);
	assert_int_equal(
	    raw_int(fx->path, "SELECT count(*) FROM job_targets"), 0);
}

static void
test_target_delete_cascade(void **state)
{
	struct fx *fx = *state;
	struct store_run r = {0};
	struct names nm = {0};
	const char *aim[] = {"web-1", "web-2"};
	struct cerr err;
	int64_t id;

	add_target(fx->s, "web-1");
	add_target(fx->s, "web-2");
	post(fx->s, "web-1", INSTR_INSERT, &id);
	post(fx->s, "web-2", INSTR_INSERT, &id);
	assert_int_equal(
	    store_job_put(fx->s, "backup", "{}", 1, NULL, &err), 0);
	assert_int_equal(
	    store_job_targets_set(fx->s, "backup", aim, 2, &err), 0);
	raw_exec(fx->path,
	    "INSERT INTO target_groups VALUES ('g', 1);"
	    "INSERT INTO group_members VALUES ('g', 'web-1');"
	    "INSERT INTO group_members VALUES ('g', 'web-2');");
	snprintf(r.target, sizeof(r.target), "web-1");
	snprintf(r.job, sizeof(r.job), "backup");
	r.target_run_id = 1;
	r.outcome = OUTCOME_SUCCEEDED;
	assert_int_equal(store_run_put(fx->s, &r, &err), 0);

	assert_int_equal(store_target_delete(fx->s, "web-1", &err), 0);
	expect_err(store_target_delete(fx->s, "web-1", &err), &err,
	    CERR_NOT_FOUND, "no target 'web-1'");
	assert_int_equal(raw_int(fx->path,
			     "SELECT count(*) FROM instructions"
			     " WHERE target = 'web-1'"),
	    0);
	assert_int_equal(
	    raw_int(fx->path, "SELECT count(*) FROM instructions"), 1);
	assert_int_equal(
	    raw_int(fx->path, "SELECT count(*) FROM group_members"), 1);
	assert_int_equal(
	    store_job_targets_list(fx->s, "backup", collect_name, &nm, &err),
	    0);
	assert_int_equal(nm.n, 1);
	assert_string_equal(nm.v[0], "web-2");
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM runs"), 1);
}

/* ---- transactions ------------------------------------------------------ */

/* Ends the store's transaction on its own connection, behind its back. */
static void
rollback_behind(struct fx *fx)
{
	PGresult *res;

	if (fx->pg) {
		res = PQexec(((struct store_pg *)fx->s->be)->conn, "ROLLBACK");
		assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
		PQclear(res);
		return;
	}
	assert_int_equal(sqlite3_exec(((struct store_sqlite *)fx->s->be)->db,
			     "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
}

static void
test_transactions(void **state)
{
	struct fx *fx = *state;
	struct store_target t;
	struct cerr err;
	int64_t id;

	add_target(fx->s, "web-1");
	expect_err(
	    store_commit(fx->s, &err), &err, CERR_INTERNAL, "no transaction");
	store_rollback(fx->s); /* nothing open: harmless */

	assert_int_equal(store_begin(fx->s, &err), 0);
	expect_err(
	    store_begin(fx->s, &err), &err, CERR_INTERNAL, "already open");
	post(fx->s, "web-1", INSTR_INSERT, &id);
	post(fx->s, "web-1", INSTR_START, &id);
	store_rollback(fx->s);
	assert_int_equal(store_target_get(fx->s, "web-1", &t, &err), 0);
	assert_int_equal(t.unread, 0);

	/* A failing call inside a transaction undoes only itself. */
	assert_int_equal(store_begin(fx->s, &err), 0);
	post(fx->s, "web-1", INSTR_INSERT, &id);
	expect_err(store_job_targets_set(fx->s, "nojob", NULL, 0, &err), &err,
	    CERR_NOT_FOUND, NULL);
	assert_int_equal(store_job_put(fx->s, "j", "{}", 1, NULL, &err), 0);
	assert_int_equal(store_commit(fx->s, &err), 0);
	assert_int_equal(store_target_get(fx->s, "web-1", &t, &err), 0);
	assert_int_equal(t.unread, 1);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM jobs"), 1);

	/* When the backend ends the transaction by itself (as SQLite does
	 * after an I/O error), later calls are refused instead of
	 * committing alone. */
	assert_int_equal(store_begin(fx->s, &err), 0);
	rollback_behind(fx);
	expect_err(
	    store_instr_post(fx->s, "web-1", INSTR_STOP, "j", "", 1, &id, &err),
	    &err, CERR_STORE, "rolled back after an earlier error");
	expect_err(store_commit(fx->s, &err), &err, CERR_STORE,
	    "rolled back after an earlier error");
	post(fx->s, "web-1", INSTR_STOP, &id);
	assert_int_equal(store_target_get(fx->s, "web-1", &t, &err), 0);
	assert_int_equal(t.unread, 2);
}

/* An I/O error at commit time: a deferred trigger on jobs raises what a
 * failing fsync would. */
#define PG_COMMIT_FAILS                                                        \
	"CREATE FUNCTION fail_commit() RETURNS trigger LANGUAGE plpgsql AS $$" \
	" BEGIN RAISE EXCEPTION 'could not fsync file: Input/output error'"    \
	" USING ERRCODE = 'io_error'; END $$;"                                 \
	" CREATE CONSTRAINT TRIGGER fail_commit AFTER INSERT ON jobs"          \
	" DEFERRABLE INITIALLY DEFERRED"                                       \
	" FOR EACH ROW EXECUTE FUNCTION fail_commit()"

/* PostgreSQL only (SQLite has no deferred failures to provoke): a commit
 * that fails undoes the whole transaction, and the store goes on. */
static void
test_commit_fails(void **state)
{
	struct fx *fx = *state;
	struct store_target t;
	struct cerr err;
	int64_t id;

	if (!fx->pg)
		skip();
	add_target(fx->s, "web-1");
	raw_exec(fx->path, PG_COMMIT_FAILS);
	assert_int_equal(store_begin(fx->s, &err), 0);
	post(fx->s, "web-1", INSTR_INSERT, &id);
	assert_int_equal(store_job_put(fx->s, "j", "{}", 1, NULL, &err), 0);
	expect_err(store_commit(fx->s, &err), &err, CERR_STORE,
	    "store: commit: could not fsync file");
	expect_err(store_commit(fx->s, &err), &err, CERR_INTERNAL,
	    "no transaction is open");
	/* Without store_begin(), the call's own commit fails the same way. */
	expect_err(store_job_put(fx->s, "j", "{}", 1, NULL, &err), &err,
	    CERR_STORE, "store: put job: could not fsync file");
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM jobs"), 0);
	post(fx->s, "web-1", INSTR_START, &id);
	assert_int_equal(store_target_get(fx->s, "web-1", &t, &err), 0);
	assert_int_equal(t.unread, 1);
}

/* PostgreSQL's disk-full error, raised once instructions holds 20 rows:
 * the server's own SQLSTATE and wording, on demand. */
#define PG_FULL_TRIGGER                                                        \
	"CREATE FUNCTION full_disk() RETURNS trigger LANGUAGE plpgsql AS $$"   \
	" BEGIN IF (SELECT count(*) FROM instructions) >= 20 THEN"             \
	" RAISE EXCEPTION 'could not extend file: No space left on device'"    \
	" USING ERRCODE = 'disk_full'; END IF; RETURN NEW; END $$;"            \
	" CREATE TRIGGER full_disk BEFORE INSERT ON instructions"              \
	" FOR EACH ROW EXECUTE FUNCTION full_disk()"

/* Fills the store's disk soon (SQLite: a page limit); returns the
 * backend's message for a full disk. */
static const char *
limit_space(struct fx *fx)
{
	char sql[64];

	if (fx->pg) {
		raw_exec(fx->path, PG_FULL_TRIGGER);
		return "could not extend file: No space left on device";
	}
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld",
	    (long long)raw_int(fx->path, "PRAGMA page_count") + 40);
	assert_int_equal(sqlite3_exec(((struct store_sqlite *)fx->s->be)->db,
			     sql, NULL, NULL, NULL),
	    SQLITE_OK);
	return "database or disk is full";
}

static void
unlimit_space(struct fx *fx)
{
	if (fx->pg) {
		raw_exec(fx->path, "DROP TRIGGER full_disk ON instructions");
		return;
	}
	assert_int_equal(
	    sqlite3_exec(((struct store_sqlite *)fx->s->be)->db,
		"PRAGMA max_page_count = 100000", NULL, NULL, NULL),
	    SQLITE_OK);
}

/* A full disk is CERR_STORE with the backend's message, changes
 * nothing, and the store works again once there is room. */
static void
test_store_full(void **state)
{
	struct fx *fx = *state;
	struct store_target t;
	struct cerr err;
	char *big = malloc(64 * 1024);
	char want[160];
	const char *full;
	int64_t id, unread;
	int rc = 0;

	assert_non_null(big);
	memset(big, 'x', 64 * 1024 - 1);
	big[64 * 1024 - 1] = '\0';
	add_target(fx->s, "web-1");
	full = limit_space(fx);
	for (int i = 0; i < 100 && rc == 0; i++)
		rc = store_instr_post(
		    fx->s, "web-1", INSTR_INSERT, "j", big, 1, &id, &err);
	snprintf(want, sizeof(want), "store: post instruction: %s", full);
	expect_err(rc, &err, CERR_STORE, want);

	/* Inside a transaction: the call fails, the rollback undoes it. */
	assert_int_equal(store_target_get(fx->s, "web-1", &t, &err), 0);
	unread = t.unread;
	assert_int_equal(store_begin(fx->s, &err), 0);
	rc = 0;
	for (int i = 0; i < 100 && rc == 0; i++)
		rc = store_instr_post(
		    fx->s, "web-1", INSTR_INSERT, "j", big, 1, &id, &err);
	expect_err(rc, &err, CERR_STORE, full);
	store_rollback(fx->s);
	assert_int_equal(store_target_get(fx->s, "web-1", &t, &err), 0);
	assert_int_equal(t.unread, unread);
	unlimit_space(fx);
	post(fx->s, "web-1", INSTR_START, &id);
	free(big);
}
static int
nested_list(void *arg, const struct store_job *j)
{
	struct fx *fx = arg;
	struct names nm = {0};
	struct cerr err;

	/* The same listing again from inside its own callback. */
	assert_int_equal(
	    store_job_list(fx->s, collect_job, &(struct job_seen){0}, &err), 0);
	assert_int_equal(
	    store_job_targets_list(fx->s, j->name, collect_name, &nm, &err), 0);
	return 0;
}

static void
test_reentrant_listing(void **state)
{
	struct fx *fx = *state;
	struct cerr err;

	assert_int_equal(store_job_put(fx->s, "a", "{}", 1, NULL, &err), 0);
	assert_int_equal(store_job_put(fx->s, "b", "{}", 1, NULL, &err), 0);
	assert_int_equal(store_job_list(fx->s, nested_list, fx, &err), 0);
	assert_int_equal(store_job_list(fx->s, nested_list, fx, &err), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_target_basics),
	    T(test_target_updates),
	    T(test_target_readd_after_defect),
	    T(test_target_bad_input),
	    T(test_tokens),
	    T(test_revoke),
	    T(test_jobs),
	    T(test_job_targets),
	    T(test_target_delete_cascade),
	    T(test_transactions),
	    T(test_store_full),
	    T(test_commit_fails),
	    T(test_reentrant_listing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
