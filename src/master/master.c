/*
 * master: wiring of the master role (see master.h). Start-up loads the CA,
 * opens the store, loads revoked serials, starts the HTTPS server, the
 * notification sender (deliver.c) and the lease (active or standby,
 * lease.h); a housekeeping timer trims history, the download lists,
 * events and notifications while active; SIGTERM/SIGINT give up the lease,
 * answer held polls and stop the loop.
 */
#include "master/master.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "common/evbase.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/timefmt.h"
#include "common/tls.h"
#include "common/version.h"
#include "master/deliver.h"
#include "master/http.h"
#include "master/lease.h"
#include "master/longpoll.h"
#include "master/outbox_seen.h"
#include "master/retention.h"
#include "master/scaleout.h"
#include "store/store.h"

#define HOUSEKEEPING_S 60

int64_t
master_now(void)
{
	return timefmt_now_s();
}

static int
state_path(
    struct master *m, const char *rel, char *out, size_t size, struct cerr *err)
{
	return conf_state_path(m->conf, rel, out, size, err);
}

/* The CA key signs every certificate: refuse to run if anyone but the
 * daemon's user could read it. */
static int
check_key_mode(const char *path, struct cerr *err)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return cerr_set(err, CERR_IO, "%s: %s", path, strerror(errno));
	if ((st.st_mode & 077) != 0)
		return cerr_set(err, CERR_IO,
		    "%s: mode %03o lets others read "
		    "the CA key; chmod 600 it",
		    path, (unsigned)(st.st_mode & 0777));
	return 0;
}

static int
load_ca(struct master *m, struct cerr *err)
{
	char cert[CONF_STR_MAX + 32], key[CONF_STR_MAX + 32];

	if (state_path(m, PATH_TLS_CA, cert, sizeof(cert), err) < 0 ||
	    state_path(m, PATH_CA_KEY, key, sizeof(key), err) < 0 ||
	    check_key_mode(key, err) < 0 ||
	    pki_cert_read(cert, &m->ca_cert, err) < 0 ||
	    pki_key_read(key, &m->ca_key, err) < 0 ||
	    pki_cert_to_pem(m->ca_cert, &m->ca_pem, err) < 0 ||
	    pki_cert_fingerprint(m->ca_cert, m->ca_fingerprint, err) < 0)
		return -1;
	return 0;
}

static int
revoked_cb(void *arg, const char *serial)
{
	struct strmap *revoked = arg;
	char canonical[PKI_SERIAL_HEX_MAX];
	struct cerr err;

	/* A revocation recorded before serials were made canonical may be
	 * in capitals or keep leading zeros; it is meant all the same. */
	if (pki_serial_canonical(serial, canonical, &err) < 0)
		return strmap_put(revoked, serial, NULL, NULL, NULL);
	return strmap_put(revoked, canonical, NULL, NULL, NULL);
}

/* Read whole into a new set, which replaces the old one only then: a
 * read that fails (a standby reloads every few seconds) must not leave
 * the requests checked against an empty or partial set. */
int
master_reload_caches(struct master *m, struct cerr *err)
{
	struct strmap fresh;

	strmap_init(&fresh);
	if (store_revoked_list(m->store, revoked_cb, &fresh, err) < 0) {
		strmap_cleanup(&fresh);
		return -1;
	}
	strmap_cleanup(&m->revoked);
	m->revoked = fresh;
	/* Records sent to the master that was active may never have reached
	 * the store: nothing is known of any target's outbox until it says. */
	outbox_seen_clear(m);
	return 0;
}

/* Opens the store conf names; spec gets its full name. */
static int
open_store(struct master *m, char *spec, size_t size, struct cerr *err)
{
	const char *s = m->conf->store;

	if (strncmp(s, "postgres", 8) == 0)
		snprintf(spec, size, "%s", s);
	else if (state_path(m, s, spec, size, err) < 0)
		return -1;
	if (store_open(spec, &m->store, err) < 0)
		return -1;
	return master_reload_caches(m, err);
}

static int
make_tls(struct master *m, struct cerr *err)
{
	char cert[CONF_STR_MAX + 32], key[CONF_STR_MAX + 32];
	char ca[CONF_STR_MAX + 32];

	if (state_path(m, PATH_TLS_CERT, cert, sizeof(cert), err) < 0 ||
	    state_path(m, PATH_TLS_KEY, key, sizeof(key), err) < 0 ||
	    state_path(m, PATH_TLS_CA, ca, sizeof(ca), err) < 0)
		return -1;
	m->ssl_ctx = tls_server_ctx_new(cert, key, ca, err);
	if (m->ssl_ctx == NULL)
		return -1;
	/* An external CA for client certificates (security). */
	if (m->conf->client_ca[0] != '\0') {
		if (state_path(m, m->conf->client_ca, ca, sizeof(ca), err) <
			0 ||
		    tls_server_ctx_trust(m->ssl_ctx, ca, err) < 0)
			return -1;
		log_info(
		    "client_ca", "path=%s maps=%d", ca, m->conf->map_count);
	}
	return 0;
}

static int
deliver_gate(const void *arg)
{
	return lease_is_active(arg);
}

static void
housekeeping_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;
	struct cerr err;

	ratelimit_prune(&m->ratelimit, ratelimit_now_ms());
	if (!lease_is_active(m))
		return;
	if (retention_run(m, &err) < 0 ||
	    store_instr_trim(
		m->store, m->conf->downloadlist_keep_applied, &err) < 0 ||
	    store_audit_trim(m->store, m->conf->audit_max_rows, &err) < 0)
		log_warn("housekeeping", "msg=%s", LOG_TEXT(err.msg));
	if (store_event_trim(m->store, m->conf->events_max_rows, &err) < 0 ||
	    store_notification_trim(
		m->store, m->conf->notifications_max_rows, &err) < 0)
		log_warn("housekeeping", "msg=%s", LOG_TEXT(err.msg));
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct master *m = arg;

	log_info("stopping", "signal=%d", (int)sig);
	event_base_loopbreak(m->base);
}

void
master_store_failed(struct master *m, const struct cerr *err)
{
	log_limited(&m->store_log, LOG_LVL_ERROR, "store_failing",
	    "code=%s msg=%s", cerr_code_name(err->code), LOG_TEXT(err->msg));
}

void
master_store_ok(struct master *m)
{
	log_limit_ok(&m->store_log, "store_recovered");
}

/* SIGHUP: the live keys of the file take effect (conf_reload), the rest
 * wait for a restart; held polls, connections and the store are left
 * alone. A file with errors changes nothing. */
static void
reload_cb(evutil_socket_t sig, short what, void *arg)
{
	struct master *m = arg;
	/* the report may fill a log line: more than LOG_TEXT's room */
	char report[4096], flat[4096 + 512], detail[2048];
	enum log_level level;
	struct cerr err;
	int applied;

	if (conf_reload(m->live, report, sizeof(report), &applied, &err) < 0) {
		log_error("reload_failed", "msg=%s detail=%s",
		    LOG_TEXT(err.msg),
		    log_text(detail, sizeof(detail),
			log_one_line(flat, sizeof(flat), report)));
		return;
	}
	log_level_parse(m->live->log_level, &level);
	log_setup("cohortd-master", level, m->live->log_syslog);
	http_apply_limits(m);
	if (report[0] != '\0')
		log_warn("reload_restart_needed", "keys=%s",
		    log_text(detail, sizeof(detail),
			log_one_line(flat, sizeof(flat), report)));
	log_info("reloaded", "path=%s applied=%d", m->live->path, applied);
}

static int
add_events(struct master *m, struct cerr *err)
{
	struct timeval tick = {HOUSEKEEPING_S, 0};

	m->sig_term = evsignal_new(m->base, SIGTERM, signal_cb, m);
	m->sig_int = evsignal_new(m->base, SIGINT, signal_cb, m);
	m->sig_hup = evsignal_new(m->base, SIGHUP, reload_cb, m);
	m->tick = event_new(m->base, -1, EV_PERSIST, housekeeping_cb, m);
	if (m->sig_term == NULL || m->sig_int == NULL || m->tick == NULL ||
	    m->sig_hup == NULL || evsignal_add(m->sig_term, NULL) < 0 ||
	    evsignal_add(m->sig_int, NULL) < 0 ||
	    evsignal_add(m->sig_hup, NULL) < 0 || event_add(m->tick, &tick) < 0)
		return cerr_set(err, CERR_INTERNAL, "cannot add events");
	return 0;
}

/* Every connected target holds a descriptor: lift the soft limit to the
 * hard one (often 1024 against 1048576), or 10,000 targets cannot
 * connect. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_warn("nofile", "msg=\"setrlimit: %s\"", strerror(errno));
}

static void
master_cleanup(struct master *m)
{
	lease_stop(m);
	scaleout_stop(m);
	longpoll_release_all(m);
	http_stop(m);
	deliver_free(m->deliver);
	if (m->sig_term)
		event_free(m->sig_term);
	if (m->sig_int)
		event_free(m->sig_int);
	if (m->sig_hup)
		event_free(m->sig_hup);
	if (m->tick)
		event_free(m->tick);
	SSL_CTX_free(m->ssl_ctx);
	store_close(m->store);
	X509_free(m->ca_cert);
	EVP_PKEY_free(m->ca_key);
	free(m->ca_pem);
	strmap_cleanup(&m->revoked);
	strmap_cleanup(&m->waiters);
	outbox_seen_clear(m); /* leaves an empty map that holds nothing */
	ratelimit_cleanup(&m->ratelimit);
	if (m->base)
		event_base_free(m->base);
	free(m->live);
}

int
master_run(const struct conf *conf, struct cerr *err)
{
	struct master m;
	char spec[CONF_STR_MAX + 32];
	int rc = -1;

	memset(&m, 0, sizeof(m));
	strmap_init(&m.revoked);
	strmap_init(&m.waiters);
	strmap_init(&m.outbox_seen);
	ratelimit_init(
	    &m.ratelimit, conf->rate_limit_per_s, conf->rate_limit_burst);
	/* A copy the master owns, so SIGHUP can change its live keys. */
	m.live = malloc(sizeof(*m.live));
	if (m.live == NULL) {
		cerr_set(err, CERR_INTERNAL, "out of memory");
		goto out;
	}
	*m.live = *conf;
	m.conf = m.live;
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	/* Webhooks (deliver.c) use libcurl. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		cerr_set(err, CERR_INTERNAL, "curl_global_init failed");
		goto out;
	}
	if (m.conf->tls == TLS_ENCRYPT_ONLY)
		log_warn("tls",
		    "msg=\"tls = encrypt-only has no effect on a "
		    "master; clients are always verified\"");
	/* epoll's change list: a poll's read and write events are enabled
	 * and disabled within one loop turn (see guard_write_now()), and the
	 * list sends the kernel only what is left at the turn's end. The
	 * list's known hazard, a descriptor closed and another opened under
	 * its number in one turn, is met by libevent (a MOD that finds no
	 * entry is retried as ADD). A socket closed while a just-forked
	 * operator command still holds a copy (until its close_range())
	 * stays in epoll that long: at worst a spurious wake-up for the
	 * number's next owner, which then reads nothing. */
	m.base = evbase_new(EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	if (m.base == NULL) {
		cerr_set(err, CERR_INTERNAL, "event_base_new failed");
		goto out;
	}
	if (load_ca(&m, err) < 0 ||
	    open_store(&m, spec, sizeof(spec), err) < 0 ||
	    lease_open(&m, spec, err) < 0 || make_tls(&m, err) < 0 ||
	    longpoll_init(&m, err) < 0 || http_start(&m, err) < 0 ||
	    lease_start(&m, err) < 0 || add_events(&m, err) < 0 ||
	    scaleout_start(&m, err) < 0)
		goto out;
	m.deliver = deliver_new(m.base, m.store, m.conf, deliver_gate, &m, err);
	if (m.deliver == NULL)
		goto out;
	log_info("started", "role=master version=%s state_dir=%s",
	    version_string(), m.conf->state_dir);
	event_base_dispatch(m.base);
	rc = 0;
out:
	master_cleanup(&m);
	curl_global_cleanup();
	return rc;
}
