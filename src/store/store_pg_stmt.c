/*
 * store_pg_stmt: running one statement on the PostgreSQL backend's
 * connection (store_pg.c), for store_pg_query(), store_pg_write() and
 * the rest of store_pg.h's runners. A statement is prepared on the
 * connection once and run by name after that; inside store_begin() each
 * one runs under a savepoint sent in the same round trip (pipeline
 * mode), because PostgreSQL would otherwise abort the whole transaction
 * on one failing statement where SQLite undoes only that statement; and
 * a write takes the lease's fence in that same round trip.
 */
#include "store/store_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

static const char sql_stmt[] = "SAVEPOINT stmt";
static const char sql_stmt_release[] = "RELEASE SAVEPOINT stmt";
static const char sql_stmt_undo[] =
    "ROLLBACK TO SAVEPOINT stmt; RELEASE SAVEPOINT stmt";
/* The fence (store_pg.h): fails with STORE_PG_FENCED when the lease has
 * moved on from the epoch, and holds a share lock on the lease row until
 * the transaction ends. */
static const char sql_fence[] = "SELECT cohort_fence($1)";

/* A statement about to run: the static SQL and where it is cached. */
struct stmt {
	const char *sql;
	const struct store_pg_params *p;
	int slot; /* index in pg->stmts, -1: runs unnamed */
	int prepare; /* not yet prepared on this connection */
	char name[16];
};

/* Finds sql's slot: *prepared when it is prepared on this connection;
 * -1 when the cache is full (the statement then runs unnamed, which only
 * costs speed). */
static int
stmt_slot(struct store_pg *pg, const char *sql, int *prepared)
{
	*prepared = 0;
	for (int i = 0; i < pg->nstmts; i++) {
		if (pg->stmts[i] == sql) {
			*prepared = 1;
			return i;
		}
	}
	return pg->nstmts < STORE_PG_STMT_MAX ? pg->nstmts : -1;
}

static void
remember(struct store_pg *pg, const struct stmt *st)
{
	if (st->slot == pg->nstmts) {
		pg->stmts[st->slot] = st->sql;
		pg->nstmts++;
	}
}

static int
send_stmt(PGconn *c, const struct stmt *st)
{
	int n = st->p != NULL ? st->p->n : 0;
	const char *const *v = st->p != NULL ? st->p->v : NULL;

	if (st->slot < 0)
		return PQsendQueryParams(c, st->sql, n, NULL, v, NULL, NULL, 0);
	return PQsendQueryPrepared(c, st->name, n, v, NULL, NULL, 0);
}

/* Outside store_begin(): prepare (the first time) and execute. */
static PGresult *
exec_plain(struct store_pg *pg, const struct stmt *st, const char *what,
    struct cerr *err)
{
	int n = st->p != NULL ? st->p->n : 0;
	const char *const *v = st->p != NULL ? st->p->v : NULL;
	PGresult *res = NULL;

	if (st->prepare) {
		res = PQprepare(pg->conn, st->name, st->sql, 0, NULL);
		if (!store_pg_result_ok(res))
			goto fail;
		PQclear(res);
		remember(pg, st);
	}
	if (st->slot < 0)
		res =
		    PQexecParams(pg->conn, st->sql, n, NULL, v, NULL, NULL, 0);
	else
		res = PQexecPrepared(pg->conn, st->name, n, v, NULL, NULL, 0);
	if (store_pg_result_ok(res))
		return res;
fail:
	store_pg_fail(pg, res, what, err);
	PQclear(res);
	return NULL;
}

/* The result of the next query in a pipeline (NULL when there is none:
 * the connection failed), read up to the NULL that ends it. */
static PGresult *
pipe_result(PGconn *c)
{
	PGresult *res = PQgetResult(c), *more;

	if (res == NULL || PQresultStatus(res) == PGRES_PIPELINE_SYNC)
		return res;
	while ((more = PQgetResult(c)) != NULL)
		PQclear(more);
	return res;
}

/* The queries of one statement in a pipeline, in order: [the fence],
 * [SAVEPOINT stmt], [Parse], Execute, [RELEASE stmt]; and their results
 * (at_*: the index of that query's result, -1 when it is not sent). */
struct pipe {
	const struct stmt *st;
	const struct stmt *fence; /* NULL: none */
	int guarded; /* under its own savepoint */
	int nq, at_sp, at_exec;
	PGresult *r[5];
};

static void
pipe_plan(struct pipe *pp)
{
	pp->nq = 0;
	pp->at_sp = -1;
	if (pp->fence != NULL)
		pp->nq++;
	if (pp->guarded)
		pp->at_sp = pp->nq++;
	if (pp->st->prepare)
		pp->nq++;
	pp->at_exec = pp->nq++;
	if (pp->guarded)
		pp->nq++;
}

static int
pipe_send(PGconn *c, const struct pipe *pp)
{
	const struct stmt *st = pp->st;

	return (pp->fence == NULL || send_stmt(c, pp->fence)) &&
	    (!pp->guarded ||
		PQsendQueryParams(c, sql_stmt, 0, NULL, NULL, NULL, NULL, 0)) &&
	    (!st->prepare || PQsendPrepare(c, st->name, st->sql, 0, NULL)) &&
	    send_stmt(c, st) &&
	    (!pp->guarded ||
		PQsendQueryParams(
		    c, sql_stmt_release, 0, NULL, NULL, NULL, NULL, 0));
}

/* Sends the planned queries and their sync; reads their results into
 * pp->r. Returns -1 when the pipeline broke on the way (the connection
 * was lost): then the transaction is gone. */
static int
pipe_run(struct store_pg *pg, struct pipe *pp)
{
	PGconn *c = pg->conn;
	struct cerr ignored;
	int synced;

	if (!PQenterPipelineMode(c))
		return -1;
	/* A send that fails shows as a missing or failed result below. */
	pipe_send(c, pp);
	synced = PQpipelineSync(c);
	for (int i = 0; synced && i < pp->nq; i++)
		pp->r[i] = pipe_result(c);
	if (synced)
		PQclear(pipe_result(c)); /* the sync, unless read above */
	if (PQexitPipelineMode(c))
		return 0;
	/* Results are missing. A lost connection is opened again by the
	 * next call outside a transaction; one still up but stuck in
	 * pipeline mode is opened again now. Either way the transaction is
	 * gone, and store_pg_ready() says so. */
	if (PQstatus(c) == CONNECTION_OK &&
	    store_pg_reconnect(pg, "pipeline", &ignored) < 0)
		log_warn("store_reconnect", "error=%s", LOG_TEXT(ignored.msg));
	return -1;
}

/* Runs a statement in one round trip: after the fence when there is one
 * (the pipeline's implicit transaction, or the open one, then holds the
 * fence's lock until the write commits), and inside store_begin() under
 * its own savepoint: when the statement fails the savepoint is rolled
 * back, so the transaction goes on without it, as SQLite's does after a
 * failed statement. A failed fence is not undone: the whole transaction
 * is lost, as it must be for a deposed master. */
static PGresult *
exec_piped(
    struct store_pg *pg, struct pipe *pp, const char *what, struct cerr *err)
{
	PGresult *res = NULL;
	int bad = -1;
	struct cerr ignored;
	char state[sizeof(pg->sqlstate)];

	pipe_plan(pp);
	if (pipe_run(pg, pp) < 0) {
		store_pg_fail(pg, NULL, what, err);
		goto out;
	}
	for (int i = 0; i < pp->nq && bad < 0; i++)
		if (!store_pg_result_ok(pp->r[i]))
			bad = i;
	if (pp->st->prepare && store_pg_result_ok(pp->r[pp->at_exec - 1]))
		remember(pg, pp->st);
	if (pp->fence != NULL && bad != 0 && (pg->in_tx || pg->depth > 0))
		pg->tx_fenced = 1;
	if (bad < 0) {
		res = pp->r[pp->at_exec];
		pp->r[pp->at_exec] = NULL;
		goto out;
	}
	store_pg_fail(pg, pp->r[bad], what, err);
	memcpy(state, pg->sqlstate, sizeof(state));
	if (pp->guarded && bad > pp->at_sp &&
	    PQtransactionStatus(pg->conn) == PQTRANS_INERROR &&
	    store_pg_run_fixed(pg, sql_stmt_undo, what, &ignored) < 0)
		log_warn("store_rollback", "call=%s error=%s", what,
		    LOG_TEXT(ignored.msg));
	memcpy(pg->sqlstate, state, sizeof(state));
out:
	for (int i = 0; i < pp->nq; i++)
		PQclear(pp->r[i]);
	return res;
}

/* Whether a write needs the fence (*need), refusing it at once when this
 * master may not write at all. */
static int
fence_needed(struct store_pg *pg, int *need, const char *what, struct cerr *err)
{
	*need = 0;
	if (pg->fence_epoch == 0)
		return 0;
	if (pg->fence_epoch < 0)
		return cerr_set(err, CERR_NOT_ACTIVE,
		    "store: %s: this master is a standby and does not write",
		    what);
	if (pg->fenced)
		return cerr_set(err, CERR_NOT_ACTIVE,
		    "store: %s: another master has taken over the lease "
		    "(this master held epoch %lld)",
		    what, (long long)pg->fence_epoch);
	*need = !((pg->in_tx || pg->depth > 0) && pg->tx_fenced);
	return 0;
}

/* Fills f with the fence for pg's epoch, prepared on this connection
 * (the first time, on its own: so it never shares a pipeline's slot
 * with a statement prepared there). */
static int
fence_stmt(struct store_pg *pg, struct stmt *f, struct store_pg_params *fp,
    const char *what, struct cerr *err)
{
	PGresult *res;
	int prepared = 0, rc = 0;

	memset(fp, 0, sizeof(*fp));
	store_pg_param_int(fp, pg->fence_epoch);
	memset(f, 0, sizeof(*f));
	f->sql = sql_fence;
	f->p = fp;
	f->slot = stmt_slot(pg, sql_fence, &prepared);
	snprintf(f->name, sizeof(f->name), "s%d", f->slot);
	if (f->slot < 0 || prepared)
		return 0;
	res = PQprepare(pg->conn, f->name, sql_fence, 0, NULL);
	if (store_pg_result_ok(res))
		remember(pg, f);
	else
		rc = store_pg_fail(pg, res, what, err);
	PQclear(res);
	return rc;
}

static int
exec_stmt(struct store_pg *pg, const char *sql, int cache, int write,
    const struct store_pg_params *p, PGresult **out, const char *what,
    struct cerr *err)
{
	struct stmt st = {.sql = sql, .p = p, .slot = -1}, fence;
	struct store_pg_params fp;
	struct pipe pp = {.st = &st};
	PGresult *res;
	int prepared = 0, need = 0;

	if (out != NULL)
		*out = NULL;
	pg->sqlstate[0] = '\0';
	if (p != NULL && p->overflow)
		return cerr_set(
		    err, CERR_INTERNAL, "store: %s: too many parameters", what);
	if ((write && fence_needed(pg, &need, what, err) < 0) ||
	    store_pg_ready(pg, what, err) < 0 ||
	    (need && fence_stmt(pg, &fence, &fp, what, err) < 0))
		return -1;
	if (cache) {
		st.slot = stmt_slot(pg, sql, &prepared);
		st.prepare = st.slot >= 0 && !prepared;
		snprintf(st.name, sizeof(st.name), "s%d", st.slot);
	}
	pp.fence = need ? &fence : NULL;
	pp.guarded = pg->in_tx && pg->depth == 0;
	if (pp.fence != NULL || pp.guarded)
		res = exec_piped(pg, &pp, what, err);
	else
		res = exec_plain(pg, &st, what, err);
	if (res == NULL)
		return -1;
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return 0;
}

int
store_pg_query(struct store_pg *pg, const char *sql,
    const struct store_pg_params *p, PGresult **out, const char *what,
    struct cerr *err)
{
	return exec_stmt(pg, sql, 1, 0, p, out, what, err);
}

/* The one door every change goes through: fenced (store_pg.h). */
int
store_pg_write(struct store_pg *pg, const char *sql,
    const struct store_pg_params *p, PGresult **out, const char *what,
    struct cerr *err)
{
	return exec_stmt(pg, sql, 1, 1, p, out, what, err);
}

int
store_pg_write_unfenced(struct store_pg *pg, const char *sql,
    const struct store_pg_params *p, PGresult **out, const char *what,
    struct cerr *err)
{
	return exec_stmt(pg, sql, 1, 0, p, out, what, err);
}

int
store_pg_query_once(struct store_pg *pg, const char *sql,
    const struct store_pg_params *p, PGresult **out, const char *what,
    struct cerr *err)
{
	return exec_stmt(pg, sql, 0, 0, p, out, what, err);
}

/* A script is one simple-protocol query: the fence goes in front of it,
 * in the same implicit (or the open) transaction. */
int
store_pg_run_script(
    struct store_pg *pg, const char *sql, const char *what, struct cerr *err)
{
	char head[64];
	char *text = NULL;
	size_t hlen, len = strlen(sql);
	int need = 0, rc;

	pg->sqlstate[0] = '\0';
	if (fence_needed(pg, &need, what, err) < 0 ||
	    store_pg_ready(pg, what, err) < 0)
		return -1;
	if (!need)
		return store_pg_run_fixed(pg, sql, what, err);
	hlen = (size_t)snprintf(head, sizeof(head),
	    "SELECT cohort_fence(%lld);", (long long)pg->fence_epoch);
	text = malloc(hlen + len + 1);
	if (text == NULL)
		return cerr_set(err, CERR_INTERNAL, "store: out of memory");
	memcpy(text, head, hlen);
	memcpy(text + hlen, sql, len + 1);
	rc = store_pg_run_fixed(pg, text, what, err);
	free(text);
	if (rc == 0 && (pg->in_tx || pg->depth > 0))
		pg->tx_fenced = 1;
	return rc;
}
