/*
 * cerr: stable error codes and bounded error messages (see cerr.h).
 */
#include "common/cerr.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int http_status;
} cerr_table[CERR_CODE_COUNT] = {
    [CERR_OK] = {"ok", 200},
    [CERR_INTERNAL] = {"internal", 500},
    [CERR_INVALID] = {"invalid_request", 400},
    [CERR_NOT_FOUND] = {"not_found", 404},
    [CERR_CONFLICT] = {"conflict", 409},
    [CERR_UNAUTHENTICATED] = {"unauthenticated", 401},
    [CERR_FORBIDDEN] = {"forbidden", 403},
    [CERR_TOKEN] = {"bad_token", 403},
    [CERR_TOO_LARGE] = {"too_large", 413},
    [CERR_VERSION] = {"version_refused", 426},
    [CERR_IO] = {"io_error", 500},
    [CERR_STORE] = {"store_error", 503},
    [CERR_TLS] = {"tls_error", 500},
    [CERR_UNAVAILABLE] = {"unavailable", 503},
    [CERR_GONE] = {"gone", 410},
    [CERR_RATE_LIMITED] = {"rate_limited", 429},
    [CERR_TIMEOUT] = {"timeout", 408},
    [CERR_NOT_ACTIVE] = {"not_active", 503},
};

int
cerr_vset(struct cerr *err, enum cerr_code code, const char *fmt, va_list ap)
{
	if (err == NULL)
		return -1;
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return -1;
}

int
cerr_set(struct cerr *err, enum cerr_code code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cerr_vset(err, code, fmt, ap);
	va_end(ap);
	return -1;
}

int
cerr_wrap(struct cerr *err, const char *fmt, ...)
{
	char prefix[CERR_MSG_MAX];
	char old[CERR_MSG_MAX];
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
	return -1;
}

void
cerr_clear(struct cerr *err)
{
	if (err == NULL)
		return;
	err->code = CERR_OK;
	err->msg[0] = '\0';
}

const char *
cerr_code_name(enum cerr_code code)
{
	if ((int)code < 0 || code >= CERR_CODE_COUNT)
		return "internal";
	return cerr_table[code].name;
}

enum cerr_code
cerr_code_from_name(const char *name)
{
	for (int i = 0; i < CERR_CODE_COUNT; i++)
		if (name != NULL && strcmp(cerr_table[i].name, name) == 0)
			return (enum cerr_code)i;
	return CERR_INTERNAL;
}

int
cerr_http_status(enum cerr_code code)
{
	if ((int)code < 0 || code >= CERR_CODE_COUNT)
		return 500;
	return cerr_table[code].http_status;
}
