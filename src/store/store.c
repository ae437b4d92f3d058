/*
 * store: picks the backend a store spec names and dispatches every call
 * through its function table (store_backend.h). Argument checks that do
 * not depend on the backend live in this facade, once, so every backend
 * refuses bad input with the same message and never sees it. This file
 * opens and closes a store, runs its transactions and holds the checks
 * every area shares (store_check.h); each area's calls have a file of
 * their own: store_target.c, store_job.c, store_history.c,
 * store_notification.c and store_exec.c. Nothing in them knows about SQL.
 */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "store/store_backend.h"
#include "store/store_check.h"
#include "store/store_pg.h"

int
store_check_name(const char *what, const char *name, struct cerr *err)
{
	size_t len;

	if (name == NULL || name[0] == '\0')
		return cerr_set(err, CERR_INVALID, "%s: empty name", what);
	len = strlen(name);
	if (len > STORE_NAME_MAX)
		return cerr_set(err, CERR_INVALID,
		    "%s: name longer than %d bytes", what, STORE_NAME_MAX);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return cerr_set(err, CERR_INVALID,
			    "%s: name holds a control character", what);
	/* A name from a request path is percent-decoded bytes; PostgreSQL
	 * would refuse invalid UTF-8 where SQLite stores it. */
	if (!utf8_valid(name, len))
		return cerr_set(
		    err, CERR_INVALID, "%s: name is not valid UTF-8", what);
	return 0;
}

int
store_check_text(const char *what, const char *s, size_t size, struct cerr *err)
{
	if (s != NULL && strlen(s) >= size)
		return cerr_set(err, CERR_INVALID, "%s: longer than %zu bytes",
		    what, size - 1);
	return 0;
}

const char *
store_or_empty(const char *s)
{
	return s != NULL ? s : "";
}

int
store_open(const char *spec, struct store **out, struct cerr *err)
{
	struct store *s = NULL;
	int rc = -1;

	if (spec == NULL || spec[0] == '\0')
		return cerr_set(err, CERR_INVALID, "store: empty store spec");
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return cerr_set(err, CERR_INTERNAL, "store: out of memory");
	if (strncmp(spec, "postgresql://", 13) == 0 ||
	    strncmp(spec, "postgres://", 11) == 0) {
		if (store_pg_open(spec, s, err) < 0)
			goto out;
	} else if (store_sqlite_open(spec, s, err) < 0) {
		goto out;
	}
	*out = s;
	s = NULL;
	rc = 0;
out:
	free(s);
	return rc;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	s->ops->close(s->be);
	free(s);
}

int
store_begin(struct store *s, struct cerr *err)
{
	return s->ops->begin(s->be, err);
}

int
store_commit(struct store *s, struct cerr *err)
{
	return s->ops->commit(s->be, err);
}

void
store_rollback(struct store *s)
{
	s->ops->rollback(s->be);
}
