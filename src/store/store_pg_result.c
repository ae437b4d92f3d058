/*
 * store_pg_result: what goes into a PostgreSQL statement and what comes
 * out: parameters as text, column values, rows changed, and the mapping
 * of a failed result to a cohort error (store_pg.h).
 */
#include "store/store_pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
store_pg_param_text(struct store_pg_params *p, const char *s)
{
	if (p->n >= STORE_PG_PARAMS_MAX) {
		p->overflow = 1;
		return;
	}
	p->v[p->n++] = s;
}

void
store_pg_param_int(struct store_pg_params *p, int64_t v)
{
	if (p->n >= STORE_PG_PARAMS_MAX) {
		p->overflow = 1;
		return;
	}
	snprintf(p->num[p->n], sizeof(p->num[0]), "%" PRId64, v);
	p->v[p->n] = p->num[p->n];
	p->n++;
}

/* Whether a SQLSTATE is a failure of the server, its storage, the
 * connection or the environment, not of our SQL. None at all means libpq
 * itself failed: the connection. */
static int
server_failure(const char *state)
{
	static const char *const classes[] = {"08", "25", "28", "3D", "40",
	    "53", "54", "55", "57", "58", "F0", "XX"};

	if (state == NULL || state[0] == '\0')
		return 1;
	if (strcmp(state, "42501") == 0) /* insufficient privilege */
		return 1;
	if (strcmp(state, "08P01") == 0) /* protocol violation: ours */
		return 0;
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (strncmp(state, classes[i], 2) == 0)
			return 1;
	return 0;
}

/* Copies a libpq message as one line: line breaks and tabs become
 * single spaces, trailing white space goes. */
void
store_pg_one_line(const char *msg, char *out, size_t size)
{
	size_t n = 0;
	int space = 0;

	for (; *msg != '\0' && n + 1 < size; msg++) {
		if (*msg == '\n' || *msg == '\t' || *msg == '\r' ||
		    *msg == ' ') {
			space = n > 0;
			continue;
		}
		if (space && n + 2 < size)
			out[n++] = ' ';
		space = 0;
		out[n++] = *msg;
	}
	out[n] = '\0';
}

int
store_pg_fail(struct store_pg *pg, const PGresult *res, const char *what,
    struct cerr *err)
{
	const char *state = NULL, *msg = NULL;
	enum cerr_code code = CERR_INTERNAL;
	char text[CERR_MSG_MAX];

	if (res != NULL) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		if (msg == NULL && PQresultErrorMessage(res)[0] != '\0')
			msg = PQresultErrorMessage(res);
	}
	if (msg == NULL)
		msg = PQerrorMessage(pg->conn);
	store_pg_one_line(msg, text, sizeof(text));
	if (text[0] == '\0')
		snprintf(text, sizeof(text), "no answer from the server");
	snprintf(pg->sqlstate, sizeof(pg->sqlstate), "%s",
	    state != NULL ? state : "");
	if (state != NULL && strcmp(state, STORE_PG_FENCED) == 0) {
		pg->fenced = 1;
		code = CERR_NOT_ACTIVE;
	} else if (state != NULL &&
	    (strcmp(state, "22021") == 0 || strcmp(state, "22P05") == 0))
		code = CERR_INVALID; /* text that is not UTF-8 */
	else if (server_failure(state))
		code = CERR_STORE;
	return cerr_set(err, code, "store: %s: %s", what, text);
}

int64_t
store_pg_changes(const PGresult *res)
{
	return strtoll(PQcmdTuples((PGresult *)res), NULL, 10);
}

int64_t
store_pg_int(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return 0;
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

const char *
store_pg_text(const PGresult *res, int row, int col)
{
	return PQgetvalue(res, row, col); /* "" for NULL */
}

void
store_pg_copy(const PGresult *res, int row, int col, char *dst, size_t size)
{
	const char *t = store_pg_text(res, row, col);
	size_t len = strlen(t);

	if (len >= size)
		len = size - 1;
	memcpy(dst, t, len);
	dst[len] = '\0';
}
