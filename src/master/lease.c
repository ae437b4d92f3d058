/*
 * lease: the active/standby state of a master (see lease.h). One timer
 * drives it: every lease_renew_ms the active master renews its lease and
 * a standby tries to take it. The active master also counts the time
 * since its last good renewal: when that reaches lease_ttl_s the lease
 * may have run out in the store, so it steps down without waiting to
 * hear so (its writes would be fenced anyway). A standby remembers the
 * lease as it last read it, to name the active master to callers.
 */
#include "master/lease.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/rand.h>

#include "common/log.h"
#include "master/deliver.h"
#include "master/http.h"
#include "master/longpoll.h"
#include "master/master.h"
#include "store/store.h"
#include "store/store_lease.h"

struct lease {
	struct master *m;
	struct event *timer;
	char holder[STORE_NAME_MAX + 1]; /* this process: host/pid/random */
	char url[STORE_TEXT_MAX]; /* advertised */
	int shared; /* PostgreSQL: run the lease */
	int lock_fd; /* SQLite: the one-master lock */
	int active;
	int64_t epoch; /* held, while active */
	int64_t renewed_ms; /* start of the last good take/renewal */
	int64_t hold_off_ms; /* no taking before (after giving up) */
	struct store_lease seen; /* the lease as last read */
	int64_t seen_ms; /* when */
	int64_t caches_ms; /* a standby's last reload of the revoked set */
	struct log_limit take_log; /* a store that is down fails each try */
};

/* A standby answers its metrics to certificate holders: the revoked set
 * it checks them against is read again this often, not only at start. */
#define STANDBY_RELOAD_MS 10000

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
ttl_ms(const struct lease *l)
{
	return l->m->conf->lease_ttl_s * 1000;
}

/* Unique per process, so a restarted master never mistakes the lease of
 * its former self for its own. */
static void
make_holder(struct lease *l)
{
	char host[64] = "master";
	unsigned char rnd[4] = {0, 0, 0, 0};

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	RAND_bytes(rnd, sizeof(rnd));
	snprintf(l->holder, sizeof(l->holder), "%s/%ld/%02x%02x%02x%02x", host,
	    (long)getpid(), rnd[0], rnd[1], rnd[2], rnd[3]);
}

/* advertise_url, else https://HOST:PORT from listen and the bound port
 * (this host's name for a wildcard address). */
static void
make_url(struct lease *l)
{
	const struct conf *c = l->m->conf;
	char host[256];
	const char *colon = strrchr(c->listen, ':');
	size_t n = colon != NULL ? (size_t)(colon - c->listen) : 0;

	if (c->advertise_url[0] != '\0') {
		snprintf(l->url, sizeof(l->url), "%s", c->advertise_url);
		return;
	}
	snprintf(host, sizeof(host), "%.*s", (int)n, c->listen);
	if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "[::]") == 0 ||
	    strcmp(host, "::") == 0 || host[0] == '\0') {
		if (gethostname(host, sizeof(host) - 1) != 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
	}
	snprintf(l->url, sizeof(l->url), "https://%s%s%s:%d",
	    strchr(host, ':') != NULL && host[0] != '[' ? "[" : "", host,
	    strchr(host, ':') != NULL && host[0] != '[' ? "]" : "", l->m->port);
}

/* SQLite: one master per store file, held by an exclusive lock for the
 * life of the process. */
static int
lock_store(struct lease *l, const char *store_path, struct cerr *err)
{
	char path[CONF_STR_MAX + 40];

	snprintf(path, sizeof(path), "%s.lock", store_path);
	l->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (l->lock_fd < 0)
		return cerr_set(err, CERR_IO, "%s: %s", path, strerror(errno));
	if (flock(l->lock_fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno == EWOULDBLOCK)
		return cerr_set(err, CERR_CONFLICT,
		    "%s: another master uses this SQLite store; a pair of "
		    "masters needs the PostgreSQL store (docs/ha.md)",
		    store_path);
	return cerr_set(err, CERR_IO, "%s: %s", path, strerror(errno));
}

static void
answer_polls_not_active(struct master *m)
{
	json_t *body = lease_not_active_json(m);

	longpoll_refuse_all(m, 503, body);
	json_decref(body);
}

/* Becomes a standby: no write from here on, held polls answered so their
 * targets go to the active master. give_up also releases the lease in
 * the store, so a standby need not wait for it to run out. */
static void
step_down(struct lease *l, const char *why, int give_up)
{
	struct cerr err;
	int64_t epoch = l->epoch;

	l->active = 0;
	l->epoch = 0;
	store_lease_fence(l->m->store, STORE_LEASE_STANDBY);
	if (give_up && store_lease_release(l->m->store, epoch, &err) < 0)
		log_warn("lease_release", "epoch=%lld msg=%s", (long long)epoch,
		    LOG_TEXT(err.msg));
	/* Who has it now, to name to the targets. */
	if (!give_up && store_lease_get(l->m->store, &l->seen, &err) == 0)
		l->seen_ms = mono_ms();
	log_warn("lease_lost", "epoch=%lld state=standby reason=%s",
	    (long long)epoch, LOG_TEXT(why));
	answer_polls_not_active(l->m);
}

/* The lease is ours with epoch: fence every write with it, then reload
 * what the master caches from the store (a standby's copy may be stale:
 * the other master changed the store meanwhile). */
static void
become_active(struct lease *l, int64_t epoch, int64_t started_ms)
{
	struct cerr err;

	store_lease_fence(l->m->store, epoch);
	if (master_reload_caches(l->m, &err) < 0) {
		log_error("lease_taken", "epoch=%lld part=reload msg=%s",
		    (long long)epoch, LOG_TEXT(err.msg));
		store_lease_fence(l->m->store, STORE_LEASE_STANDBY);
		if (store_lease_release(l->m->store, epoch, &err) < 0)
			log_warn("lease_release", "msg=%s", LOG_TEXT(err.msg));
		return;
	}
	l->active = 1;
	l->epoch = epoch;
	l->renewed_ms = started_ms;
	log_info("lease_taken", "epoch=%lld state=active url=%s",
	    (long long)epoch, l->url);
	/* Notifications the deposed master left pending go out from here. */
	deliver_kick(l->m->deliver);
}

static void
try_take(struct lease *l)
{
	struct store_lease seen;
	struct cerr err;
	int64_t start = mono_ms();
	int taken = 0;

	if (start < l->hold_off_ms)
		return;
	if (store_lease_acquire(l->m->store, l->holder, l->url, ttl_ms(l),
		&seen, &taken, &err) < 0) {
		log_limited(&l->take_log, LOG_LVL_WARN, "lease_take", "msg=%s",
		    LOG_TEXT(err.msg));
		return;
	}
	log_limit_ok(&l->take_log, "lease_take_recovered");
	if (!taken &&
	    (seen.epoch != l->seen.epoch ||
		strcmp(seen.holder, l->seen.holder) != 0))
		log_info("lease_standby", "url=%s active_url=%s epoch=%lld",
		    l->url, seen.url[0] != '\0' ? seen.url : "(none)",
		    (long long)seen.epoch);
	l->seen = seen;
	l->seen_ms = start;
	if (taken)
		become_active(l, seen.epoch, start);
}

static void
renew(struct lease *l)
{
	struct cerr err;
	int64_t start = mono_ms();

	if (store_lease_fenced(l->m->store)) {
		step_down(l, "a write was fenced: another master took over", 0);
		return;
	}
	if (store_lease_renew(
		l->m->store, l->holder, l->epoch, ttl_ms(l), &err) == 0) {
		l->renewed_ms = start;
		return;
	}
	if (err.code == CERR_NOT_ACTIVE) {
		step_down(l, err.msg, 0);
		return;
	}
	log_warn("lease_renew", "epoch=%lld msg=%s", (long long)l->epoch,
	    LOG_TEXT(err.msg));
	if (start - l->renewed_ms >= ttl_ms(l))
		step_down(l,
		    "no renewal for lease_ttl_s: the lease may have "
		    "run out",
		    0);
}

static void
standby_reload(struct lease *l)
{
	int64_t now = mono_ms();
	struct cerr err;

	if (now - l->caches_ms < STANDBY_RELOAD_MS)
		return;
	l->caches_ms = now;
	if (master_reload_caches(l->m, &err) < 0)
		log_warn("standby_reload", "msg=%s", LOG_TEXT(err.msg));
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lease *l = arg;

	if (l->active) {
		renew(l);
		return;
	}
	try_take(l);
	if (!l->active)
		standby_reload(l);
}

int
lease_open(struct master *m, const char *store_path, struct cerr *err)
{
	struct lease *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	m->lease = l;
	l->m = m;
	l->lock_fd = -1;
	l->shared = store_lease_shared(m->store);
	make_holder(l);
	if (!l->shared)
		return lock_store(l, store_path, err);
	store_lease_fence(m->store, STORE_LEASE_STANDBY);
	return 0;
}

int
lease_start(struct master *m, struct cerr *err)
{
	struct lease *l = m->lease;
	int64_t renew_ms = m->conf->lease_renew_ms;
	struct timeval tv = {renew_ms / 1000, (renew_ms % 1000) * 1000};

	make_url(l);
	if (!l->shared) {
		l->active = 1;
		return 0;
	}
	l->timer = event_new(m->base, -1, EV_PERSIST, tick_cb, l);
	if (l->timer == NULL || event_add(l->timer, &tv) < 0)
		return cerr_set(
		    err, CERR_INTERNAL, "cannot add the lease timer");
	try_take(l);
	return 0;
}

void
lease_stop(struct master *m)
{
	struct lease *l = m->lease;
	struct cerr err;

	if (l == NULL)
		return;
	if (l->shared && l->active &&
	    store_lease_release(m->store, l->epoch, &err) < 0)
		log_warn("lease_release", "msg=%s", LOG_TEXT(err.msg));
	if (l->timer != NULL)
		event_free(l->timer);
	if (l->lock_fd >= 0)
		close(l->lock_fd);
	free(l);
	m->lease = NULL;
}

int
lease_is_active(const struct master *m)
{
	return m->lease != NULL && m->lease->active;
}

void
lease_check_fenced(struct master *m)
{
	struct lease *l = m->lease;

	if (l != NULL && l->active && store_lease_fenced(m->store))
		step_down(l, "a write was fenced: another master took over", 0);
}

/* The active master's URL as this one knows it, or NULL: a standby names
 * the holder only while the lease it last read is still running. */
static const char *
active_url(const struct lease *l)
{
	int64_t left;

	if (l->active)
		return l->url;
	left = l->seen.expires_in_ms - (mono_ms() - l->seen_ms);
	if (l->seen.epoch > 0 && left > 0 && l->seen.url[0] != '\0' &&
	    strcmp(l->seen.holder, l->holder) != 0)
		return l->seen.url;
	return NULL;
}

json_t *
lease_not_active_json(const struct master *m)
{
	const struct lease *l = m->lease;
	const char *url = l != NULL ? active_url(l) : NULL;
	char msg[CERR_MSG_MAX];

	if (url != NULL)
		snprintf(msg, sizeof(msg),
		    "this master (%s) is a standby; "
		    "the active master is %s",
		    l->url, url);
	else
		snprintf(msg, sizeof(msg),
		    "this master (%s) is a standby and "
		    "no master is active at the moment; try again shortly",
		    l != NULL ? l->url : "?");
	return json_pack("{s:{s:s,s:s,s:o}}", "error", "code",
	    cerr_code_name(CERR_NOT_ACTIVE), "message", msg, "active_url",
	    url != NULL ? json_string(url) : json_null());
}

void
lease_reply_not_active(struct http_req *r)
{
	http_reply_json(
	    r, cerr_http_status(CERR_NOT_ACTIVE), lease_not_active_json(r->m));
}

json_t *
lease_health_json(const struct master *m)
{
	const struct lease *l = m->lease;
	const char *url = active_url(l);

	return json_pack("{s:s,s:s,s:s,s:I,s:o,s:I,s:I}", "state",
	    l->active ? "active" : "standby", "url", l->url, "store",
	    l->shared ? "postgresql" : "sqlite", "epoch",
	    (json_int_t)(l->active ? l->epoch : l->seen.epoch), "active_url",
	    url != NULL ? json_string(url) : json_null(), "lease_ttl_s",
	    (json_int_t)m->conf->lease_ttl_s, "lease_renew_ms",
	    (json_int_t)m->conf->lease_renew_ms);
}

int
lease_may_give_up(const struct master *m, struct cerr *err)
{
	const struct lease *l = m->lease;

	if (!l->shared)
		return cerr_set(err, CERR_CONFLICT,
		    "this master has the SQLite store and no standby: a "
		    "failover needs the PostgreSQL store and a second master "
		    "(docs/ha.md)");
	if (!l->active)
		return cerr_set(err, CERR_NOT_ACTIVE,
		    "this master is not "
		    "active");
	return 0;
}

int
lease_give_up(struct master *m, int64_t *epoch_out, struct cerr *err)
{
	struct lease *l = m->lease;

	if (lease_may_give_up(m, err) < 0)
		return -1;
	*epoch_out = l->epoch;
	/* Long enough for every standby to look at least once. */
	l->hold_off_ms = mono_ms() + ttl_ms(l) + m->conf->lease_renew_ms;
	step_down(l, "given up on request", 1);
	return 0;
}
