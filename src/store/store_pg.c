/*
 * store_pg: the PostgreSQL backend's connection and transactions, and
 * the function table store.c dispatches through. Statements run in
 * store_pg_stmt.c, results and errors are read in store_pg_result.c, the
 * calls themselves live in store_pg_<area>.c and the schema in
 * store_pg_schema.c.
 *
 * One synchronous libpq connection per store. A connection lost outside
 * a transaction is opened again by the next call; one lost inside a
 * transaction fails that transaction (as a failed commit would), and
 * every call until store_commit()/store_rollback() says so.
 */
#include "store/store_pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "store/store_backend.h"

#define MIN_SERVER_VERSION 120000 /* MATERIALIZED CTEs, identity */
/* A lost server is tried again at most this often: each try may block
 * the caller for the connect timeout. */
#define RETRY_S 10

static const char sql_begin[] = "BEGIN";
static const char sql_commit[] = "COMMIT";
static const char sql_rollback[] = "ROLLBACK";
static const char sql_call[] = "SAVEPOINT call";
static const char sql_call_release[] = "RELEASE SAVEPOINT call";
static const char sql_call_undo[] =
    "ROLLBACK TO SAVEPOINT call; RELEASE SAVEPOINT call";
/* SQLite's busy timeout, as a lock timeout: a call waits that long for a
 * row another session holds, then fails with CERR_STORE instead of
 * hanging the daemon. Kept when the URL or role set one already. */
static const char sql_session[] =
    "SELECT set_config('lock_timeout', '5s', false)"
    " WHERE current_setting('lock_timeout') = '0'";

static const char msg_tx_lost[] =
    "the transaction was rolled back after an earlier error";
static const char sql_idle_tx[] =
    "SELECT set_config('idle_in_transaction_session_timeout', $1, false)";

int
store_pg_result_ok(const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	return res != NULL && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK);
}

/* Runs a fixed command without parameters (transaction control, session
 * set-up); the simple protocol needs no preparing. */
int
store_pg_run_fixed(
    struct store_pg *pg, const char *sql, const char *what, struct cerr *err)
{
	PGresult *res = PQexec(pg->conn, sql);
	int rc = 0;

	if (!store_pg_result_ok(res))
		rc = store_pg_fail(pg, res, what, err);
	PQclear(res);
	return rc;
}

static void
ignore_notice(void *arg, const PGresult *res)
{
}

static int64_t
monotonic_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* Applies pg->idle_tx_ms to the session (none set: nothing to do). */
static int
set_idle_tx(struct store_pg *pg, const char *what, struct cerr *err)
{
	struct store_pg_params p = {0};
	PGresult *res;
	char ms[32];
	int rc = 0;

	if (pg->idle_tx_ms <= 0)
		return 0;
	snprintf(ms, sizeof(ms), "%lldms", (long long)pg->idle_tx_ms);
	store_pg_param_text(&p, ms);
	res =
	    PQexecParams(pg->conn, sql_idle_tx, p.n, NULL, p.v, NULL, NULL, 0);
	if (!store_pg_result_ok(res))
		rc = store_pg_fail(pg, res, what, err);
	PQclear(res);
	return rc;
}

/* The active master's lease names its session (backend_pid), so a
 * standby can take over at once from a holder whose session is gone
 * (store_pg_lease.c). A reconnect is a new session: the lease is pointed
 * at it before anything else runs, or a standby would take a lease whose
 * holder is alive. A lease that moved on meanwhile changes nothing here;
 * the next fenced write finds that out. */
static int
adopt_lease(struct store_pg *pg, const char *what, struct cerr *err)
{
	static const char sql_adopt[] =
	    "UPDATE lease SET backend_pid = pg_backend_pid()"
	    " WHERE id = 1 AND epoch = $1";
	struct store_pg_params p = {0};
	PGresult *res;
	int rc = 0;

	if (pg->fence_epoch <= 0 || pg->fenced)
		return 0;
	store_pg_param_int(&p, pg->fence_epoch);
	res = PQexecParams(pg->conn, sql_adopt, p.n, NULL, p.v, NULL, NULL, 0);
	if (!store_pg_result_ok(res))
		rc = store_pg_fail(pg, res, what, err);
	PQclear(res);
	return rc;
}

/* Opens the connection again after it was lost. Statements prepared on
 * the old one are gone with it. */
int
store_pg_reconnect(struct store_pg *pg, const char *what, struct cerr *err)
{
	char label[300];

	if (pg->retry_at != 0 && monotonic_s() < pg->retry_at)
		return cerr_set(err, CERR_STORE,
		    "store: %s: no connection to the database (%s); next try "
		    "within %d s",
		    what, pg->down, RETRY_S);
	log_warn("store_reconnect", "store=%s",
	    log_quote(label, sizeof(label), pg->label));
	pg->nstmts = 0;
	pg->tx_fenced = 0;
	PQreset(pg->conn);
	if (PQstatus(pg->conn) != CONNECTION_OK ||
	    store_pg_run_fixed(pg, sql_session, what, err) < 0 ||
	    set_idle_tx(pg, what, err) < 0 || adopt_lease(pg, what, err) < 0) {
		if (PQstatus(pg->conn) != CONNECTION_OK)
			store_pg_fail(pg, NULL, what, err);
		store_pg_one_line(
		    PQerrorMessage(pg->conn), pg->down, sizeof(pg->down));
		pg->retry_at = monotonic_s() + RETRY_S;
		return -1;
	}
	pg->retry_at = 0;
	return 0;
}

/* Ends whatever transaction the server still has open on this
 * connection (after a failure, or one begun behind our back). */
static void
abandon(struct store_pg *pg, const char *what)
{
	PGTransactionStatusType ts = PQtransactionStatus(pg->conn);
	struct cerr ignored;

	if ((ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) &&
	    store_pg_run_fixed(pg, sql_rollback, what, &ignored) < 0)
		log_warn("store_rollback", "call=%s error=%s", what,
		    LOG_TEXT(ignored.msg));
}

/* Makes the connection ready for a statement. Inside a transaction
 * (store_begin() or a call's bracket) it must still be open: the server
 * or a lost connection may have ended it, and running on would commit
 * later calls on their own while the caller believes them grouped.
 * Outside one, a lost connection is opened again. */
int
store_pg_ready(struct store_pg *pg, const char *what, struct cerr *err)
{
	PGTransactionStatusType ts = PQtransactionStatus(pg->conn);

	if (pg->in_tx || pg->depth > 0) {
		if (ts == PQTRANS_INTRANS)
			return 0;
		return cerr_set(err, CERR_STORE, "store: %s", msg_tx_lost);
	}
	if (PQstatus(pg->conn) != CONNECTION_OK)
		return store_pg_reconnect(pg, what, err);
	if (ts != PQTRANS_IDLE)
		abandon(pg, what);
	return 0;
}

int
store_pg_idle_tx_timeout(struct store_pg *pg, int64_t ms, struct cerr *err)
{
	char what[] = "set idle_in_transaction_session_timeout";

	pg->idle_tx_ms = ms;
	if (store_pg_ready(pg, what, err) < 0)
		return -1;
	if (ms > 0)
		return set_idle_tx(pg, what, err);
	return store_pg_run_fixed(pg,
	    "SELECT set_config('idle_in_transaction_session_timeout', '0',"
	    " false)",
	    what, err);
}

int
store_pg_tx_enter(struct store_pg *pg, const char *what, struct cerr *err)
{
	int nested = pg->in_tx || pg->depth > 0;

	if (store_pg_ready(pg, what, err) < 0 ||
	    store_pg_run_fixed(pg, nested ? sql_call : sql_begin, what, err) <
		0)
		return -1;
	if (!nested)
		pg->tx_fenced = 0;
	pg->depth++;
	return 0;
}

int
store_pg_tx_leave(
    struct store_pg *pg, int ok, const char *what, struct cerr *err)
{
	struct cerr ignored;

	pg->depth--;
	if (ok && PQtransactionStatus(pg->conn) != PQTRANS_INTRANS) {
		cerr_set(err, CERR_STORE, "store: %s: %s", what, msg_tx_lost);
		ok = 0;
	}
	if (pg->in_tx || pg->depth > 0) {
		if (ok &&
		    store_pg_run_fixed(pg, sql_call_release, what, err) == 0)
			return 0;
		/* A fence taken inside the savepoint goes with it. */
		pg->tx_fenced = 0;
		if (PQtransactionStatus(pg->conn) != PQTRANS_UNKNOWN &&
		    store_pg_run_fixed(pg, sql_call_undo, what, &ignored) < 0)
			log_warn("store_rollback", "call=%s error=%s", what,
			    LOG_TEXT(ignored.msg));
		return -1;
	}
	pg->tx_fenced = 0;
	if (ok && store_pg_run_fixed(pg, sql_commit, what, err) == 0)
		return 0;
	abandon(pg, what);
	return -1;
}

/* ---- the explicit transaction ---------------------------------------- */

static int
pg_begin(void *be, struct cerr *err)
{
	struct store_pg *pg = be;

	if (pg->in_tx || pg->depth > 0)
		return cerr_set(err, CERR_INTERNAL,
		    "store: begin: a transaction is already open");
	if (store_pg_ready(pg, "begin", err) < 0 ||
	    store_pg_run_fixed(pg, sql_begin, "begin", err) < 0)
		return -1;
	pg->in_tx = 1;
	pg->tx_fenced = 0;
	return 0;
}

/* A failed commit leaves no transaction open: what it held is undone. */
static int
pg_commit(void *be, struct cerr *err)
{
	struct store_pg *pg = be;

	if (!pg->in_tx)
		return cerr_set(err, CERR_INTERNAL,
		    "store: commit: no transaction is open");
	pg->in_tx = 0;
	pg->tx_fenced = 0;
	if (PQtransactionStatus(pg->conn) != PQTRANS_INTRANS) {
		abandon(pg, "rollback");
		return cerr_set(
		    err, CERR_STORE, "store: commit: %s", msg_tx_lost);
	}
	if (store_pg_run_fixed(pg, sql_commit, "commit", err) == 0)
		return 0;
	abandon(pg, "rollback");
	return -1;
}

static void
pg_rollback(void *be)
{
	struct store_pg *pg = be;

	if (!pg->in_tx)
		return;
	pg->in_tx = 0;
	pg->tx_fenced = 0;
	abandon(pg, "rollback");
}

/* ---- opening and closing ---------------------------------------------- */

static void
pg_close(void *be)
{
	struct store_pg *pg = be;

	if (pg == NULL)
		return;
	PQfinish(pg->conn); /* an open transaction is rolled back */
	free(pg);
}

/* "postgresql://user@host:port/dbname": the store as messages and logs
 * name it, without its password or any other option. */
static void
make_label(const char *url, char *out, size_t size)
{
	PQconninfoOption *opts = PQconninfoParse(url, NULL);
	const char *user = "", *host = "", *port = "", *db = "";

	for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++) {
		if (o->val == NULL)
			continue;
		if (strcmp(o->keyword, "user") == 0)
			user = o->val;
		else if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
		else if (strcmp(o->keyword, "dbname") == 0)
			db = o->val;
	}
	snprintf(out, size, "postgresql://%s%s%s%s%s/%s", user,
	    user[0] != '\0' ? "@" : "", host, port[0] != '\0' ? ":" : "", port,
	    db);
	PQconninfoFree(opts);
}

/* Whether host (a libpq host list entry) is this machine: a Unix
 * socket directory, localhost or a loopback address. */
static int
host_is_local(const char *host)
{
	return host[0] == '/' || host[0] == '@' ||
	    strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
	    strncmp(host, "127.", 4) == 0;
}

/* Whether a libpq host list ("a,b") names a machine other than this. */
static int
hosts_remote(const char *hosts)
{
	char list[512], *save = NULL;
	int remote = 0;

	if (hosts == NULL)
		return 0;
	snprintf(list, sizeof(list), "%s", hosts);
	for (char *h = strtok_r(list, ",", &save); h != NULL;
	     h = strtok_r(NULL, ",", &save))
		remote |= !host_is_local(h);
	return remote;
}

const char *
store_pg_default_sslmode(const char *url)
{
	PQconninfoOption *opts = PQconninfoParse(url, NULL);
	const char *mode = NULL;
	int remote = 0, named_host = 0;
	int explicit_mode = getenv("PGSSLMODE") != NULL;

	for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++) {
		if (o->val == NULL || o->val[0] == '\0')
			continue;
		if (strcmp(o->keyword, "sslmode") == 0) {
			explicit_mode = 1;
		} else if (strcmp(o->keyword, "host") == 0 ||
		    strcmp(o->keyword, "hostaddr") == 0) {
			named_host = 1;
			remote |= hosts_remote(o->val);
		}
	}
	/* Without a host in the URL libpq takes PGHOST or PGHOSTADDR, and
	 * without those its Unix socket. */
	if (!named_host)
		remote = hosts_remote(getenv("PGHOST")) ||
		    hosts_remote(getenv("PGHOSTADDR"));
	if (opts != NULL && remote && !explicit_mode)
		mode = "verify-full";
	PQconninfoFree(opts);
	return mode;
}

/* Connects with our defaults (which the URL may override) and forces
 * UTF-8 on the wire: the store's text is UTF-8 whatever the database's
 * encoding. Every call is synchronous on the event loop, so a database
 * that vanishes without a word (a partition) must be noticed in seconds,
 * not after TCP's retransmissions (~15 min): unacknowledged data fails
 * the connection after 10 s (tcp_user_timeout), an idle wait for a
 * reply after 5 + 3 x 2 s of unanswered keepalives. */
static int
connect_url(struct store_pg *pg, const char *url, struct cerr *err)
{
	const char *sslmode = store_pg_default_sslmode(url);
	const char *keys[] = {"connect_timeout", "application_name",
	    "keepalives_idle", "keepalives_interval", "keepalives_count",
	    "tcp_user_timeout", "dbname", "client_encoding", "sslmode", NULL};
	const char *vals[] = {"10", "cohortd", "5", "2", "3", "10000", url,
	    "UTF8", sslmode, NULL};
	char what[300];

	/* A NULL value ends the list: without a default the URL's own
	 * sslmode (or libpq's) applies. */
	if (sslmode == NULL)
		keys[8] = NULL;
	snprintf(what, sizeof(what), "open %s", pg->label);
	pg->conn = PQconnectdbParams(keys, vals, 1);
	if (pg->conn == NULL)
		return cerr_set(err, CERR_INTERNAL, "store: out of memory");
	if (PQstatus(pg->conn) != CONNECTION_OK)
		return store_pg_fail(pg, NULL, what, err);
	PQsetNoticeReceiver(pg->conn, ignore_notice, NULL);
	if (PQserverVersion(pg->conn) < MIN_SERVER_VERSION)
		return cerr_set(err, CERR_STORE,
		    "store: %s: PostgreSQL %d is too old (12 or newer needed)",
		    what, PQserverVersion(pg->conn) / 10000);
	return store_pg_run_fixed(pg, sql_session, what, err);
}

static const struct store_ops pg_ops = {
    .name = "postgresql",
    .close = pg_close,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .target_add = store_pg_target_add,
    .target_get = store_pg_target_get,
    .target_list = store_pg_target_list,
    .target_polled = store_pg_target_polled,
    .target_set_defected = store_pg_target_set_defected,
    .target_set_location = store_pg_target_set_location,
    .target_delete = store_pg_target_delete,
    .token_add = store_pg_token_add,
    .token_use = store_pg_token_use,
    .revoke = store_pg_token_revoke,
    .revoked_list = store_pg_token_revoked_list,
    .job_put = store_pg_job_put,
    .job_get = store_pg_job_get,
    .job_list = store_pg_job_list,
    .job_delete = store_pg_job_delete,
    .job_targets_set = store_pg_job_targets_set,
    .job_targets_list = store_pg_job_targets_list,
    .target_jobs_list = store_pg_job_of_target_list,
    .instr_post = store_pg_instr_post,
    .instr_fetch = store_pg_instr_fetch,
    .instr_ack = store_pg_instr_ack,
    .instr_list = store_pg_instr_list,
    .instr_clear = store_pg_instr_clear,
    .instr_get = store_pg_instr_get,
    .instr_withdraw = store_pg_instr_withdraw,
    .instr_drop_pending = store_pg_instr_drop_pending,
    .instr_trim = store_pg_instr_trim,
    .run_put = store_pg_run_put,
    .run_list = store_pg_run_list,
    .history_trim = store_pg_run_trim,
    .group_create = store_pg_group_create,
    .group_delete = store_pg_group_delete,
    .group_add = store_pg_group_add,
    .group_remove = store_pg_group_remove,
    .group_list = store_pg_group_list,
    .group_members = store_pg_group_members,
    .history_purge = store_pg_history_purge,
    .history_trim_job = store_pg_history_trim_job,
    .cert_add = store_pg_cert_add,
    .cert_get = store_pg_cert_get,
    .cert_list = store_pg_cert_list,
    .target_set_serial = store_pg_cert_target_serial,
    .audit_add = store_pg_audit_add,
    .audit_list = store_pg_audit_list,
    .audit_trim = store_pg_audit_trim,
    .run_last_per_target = store_pg_run_last_per_target,
    .event_add = store_pg_event_add,
    .event_list = store_pg_event_list,
    .event_trim = store_pg_event_trim,
    .operator_add = store_pg_operator_add,
    .operator_get = store_pg_operator_get,
    .operator_get_default = store_pg_operator_get_default,
    .operator_list = store_pg_operator_list,
    .operator_set_default = store_pg_operator_set_default,
    .operator_delete = store_pg_operator_delete,
    .notification_add = store_pg_notification_add,
    .notification_due = store_pg_notification_due,
    .notification_next_due = store_pg_notification_next_due,
    .notification_update = store_pg_notification_update,
    .notification_list = store_pg_notification_list,
    .notification_trim = store_pg_notification_trim,
    .worker_seen = store_pg_worker_seen,
    .worker_set_enabled = store_pg_worker_set_enabled,
    .worker_list = store_pg_worker_list,
    .exec_add = store_pg_exec_add,
    .exec_update = store_pg_exec_update,
    .exec_get = store_pg_exec_get,
    .exec_list = store_pg_exec_list,
    .exec_by_instr = store_pg_exec_by_instr,
    .exec_trim = store_pg_exec_trim,
    .lease_shared = 1,
    .lease_acquire = store_pg_lease_acquire,
    .lease_renew = store_pg_lease_renew,
    .lease_release = store_pg_lease_release,
    .lease_get = store_pg_lease_get,
    .lease_fence = store_pg_lease_fence,
    .lease_fenced = store_pg_lease_fenced,
};

/* A URL libpq cannot parse is refused without libpq's message, which may
 * quote a piece of it, password included. */
int
store_pg_open(const char *url, struct store *s, struct cerr *err)
{
	struct store_pg *pg = NULL;
	PQconninfoOption *opts;
	char *perr = NULL;
	int rc = -1;

	opts = PQconninfoParse(url, &perr);
	PQfreemem(perr);
	if (opts == NULL)
		return cerr_set(err, CERR_INVALID,
		    "store: not a valid PostgreSQL URL (postgresql://"
		    "[user@]host[:port]/dbname[?param=value...])");
	PQconninfoFree(opts);
	pg = calloc(1, sizeof(*pg));
	if (pg == NULL)
		return cerr_set(err, CERR_INTERNAL, "store: out of memory");
	make_label(url, pg->label, sizeof(pg->label));
	if (connect_url(pg, url, err) < 0 ||
	    store_pg_schema_migrate(pg, err) < 0)
		goto out;
	s->ops = &pg_ops;
	s->be = pg;
	pg = NULL;
	rc = 0;
out:
	pg_close(pg);
	return rc;
}
