/*
 * store_lease: argument checks for the lease calls (store_lease.h) and
 * dispatch to the backend, as store.c does for the rest of the store.
 */
#include "store/store_lease.h"

#include <string.h>

#include "store/store_backend.h"

#define TTL_MAX_MS 3600000

static int
check_holder(const char *holder, const char *url, struct cerr *err)
{
	if (holder == NULL || holder[0] == '\0' ||
	    strlen(holder) > STORE_NAME_MAX)
		return cerr_set(err, CERR_INVALID,
		    "lease: holder must be 1..%d bytes", STORE_NAME_MAX);
	if (url != NULL && strlen(url) >= STORE_TEXT_MAX)
		return cerr_set(err, CERR_INVALID,
		    "lease: url longer than %d bytes", STORE_TEXT_MAX - 1);
	return 0;
}

static int
check_ttl(int64_t ttl_ms, struct cerr *err)
{
	if (ttl_ms < 1 || ttl_ms > TTL_MAX_MS)
		return cerr_set(err, CERR_INVALID,
		    "lease: ttl must be 1..%d ms", TTL_MAX_MS);
	return 0;
}

int
store_lease_acquire(struct store *s, const char *holder, const char *url,
    int64_t ttl_ms, struct store_lease *out, int *taken, struct cerr *err)
{
	if (url == NULL)
		url = "";
	if (check_holder(holder, url, err) < 0 || check_ttl(ttl_ms, err) < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	*taken = 0;
	return s->ops->lease_acquire(
	    s->be, holder, url, ttl_ms, out, taken, err);
}

int
store_lease_renew(struct store *s, const char *holder, int64_t epoch,
    int64_t ttl_ms, struct cerr *err)
{
	if (check_holder(holder, NULL, err) < 0 || check_ttl(ttl_ms, err) < 0)
		return -1;
	if (epoch < 1)
		return cerr_set(err, CERR_INVALID, "lease: no epoch to renew");
	return s->ops->lease_renew(s->be, holder, epoch, ttl_ms, err);
}

int
store_lease_release(struct store *s, int64_t epoch, struct cerr *err)
{
	if (epoch < 1)
		return 0;
	return s->ops->lease_release(s->be, epoch, err);
}

int
store_lease_get(struct store *s, struct store_lease *out, struct cerr *err)
{
	memset(out, 0, sizeof(*out));
	return s->ops->lease_get(s->be, out, err);
}

void
store_lease_fence(struct store *s, int64_t epoch)
{
	s->ops->lease_fence(s->be, epoch < 0 ? STORE_LEASE_STANDBY : epoch);
}

int
store_lease_fenced(struct store *s)
{
	return s->ops->lease_fenced(s->be);
}

int
store_lease_shared(const struct store *s)
{
	return s->ops->lease_shared;
}
