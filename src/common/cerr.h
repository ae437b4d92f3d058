/*
 * cerr: the one error type. A function that can fail returns 0 or -1 and
 * fills a caller-owned struct cerr: a stable code (published in docs/api.md
 * and sent to API clients) and a message with context. Filling it never
 * allocates, so it is safe on every path, including out-of-memory.
 */
#ifndef COHORT_CERR_H
#define COHORT_CERR_H

#include <stdarg.h>

enum cerr_code {
	CERR_OK = 0,
	CERR_INTERNAL, /* broken invariant or unexpected library error */
	CERR_INVALID, /* malformed request, document or argument */
	CERR_NOT_FOUND, /* the named object does not exist */
	CERR_CONFLICT, /* exists already, or state forbids the change */
	CERR_UNAUTHENTICATED, /* no, foreign, expired or revoked certificate */
	CERR_FORBIDDEN, /* authenticated but the role may not do this */
	CERR_TOKEN, /* enlistment token unknown, used or expired */
	CERR_TOO_LARGE, /* body, document or field over its limit */
	CERR_VERSION, /* peer's version is not accepted */
	CERR_IO, /* file or socket error */
	CERR_STORE, /* the store failed (disk full, I/O, locked) */
	CERR_TLS, /* TLS or certificate handling failed */
	CERR_UNAVAILABLE, /* peer unreachable or not active */
	CERR_GONE, /* this target was deleted or defected */
	CERR_RATE_LIMITED, /* too many requests from one certificate */
	CERR_TIMEOUT, /* the request was not sent in time */
	CERR_NOT_ACTIVE, /* a standby master, or a deposed one (fenced) */
	CERR_CODE_COUNT
};

#define CERR_MSG_MAX 512

struct cerr {
	enum cerr_code code;
	char msg[CERR_MSG_MAX];
};

/* Fills err (when not NULL) and returns -1, so callers can write
 * "return cerr_set(err, CERR_IO, "open %s: %s", path, strerror(errno));". */
int cerr_set(struct cerr *err, enum cerr_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int cerr_vset(struct cerr *err, enum cerr_code code, const char *fmt,
    va_list ap) __attribute__((format(printf, 3, 0)));

/* Prepends "prefix: " to the message already in err; returns -1. */
int cerr_wrap(struct cerr *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void cerr_clear(struct cerr *err);

/* "invalid_request", "not_found", ...: the stable wire names. */
const char *cerr_code_name(enum cerr_code code);
/* Maps a wire name back; CERR_INTERNAL for an unknown name. */
enum cerr_code cerr_code_from_name(const char *name);
/* The HTTP status an API error with this code is sent with. */
int cerr_http_status(enum cerr_code code);

#endif
