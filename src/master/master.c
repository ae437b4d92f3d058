/*
 * master: wiring of the master role (see master.h). Start-up loads the CA,
 * opens the store, loads revoked serials and starts the HTTPS server; a
 * housekeeping timer trims history and the download lists; SIGTERM/SIGINT
 * answer held polls and stop the loop.
 */
#include "master/master.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/paths.h"
#include "common/timefmt.h"
#include "common/tls.h"
#include "common/version.h"
#include "master/http.h"
#include "master/longpoll.h"
#include "store/store.h"

#define HOUSEKEEPING_S 60

int64_t
master_now(void)
{
	return timefmt_now_s();
}

static int
state_path(struct master *m, const char *rel, char *out, size_t size,
    struct cerr *err)
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
		return cerr_set(err, CERR_IO, "%s: mode %03o lets others read "
		    "the CA key; chmod 600 it", path,
		    (unsigned)(st.st_mode & 0777));
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
	struct master *m = arg;

	return strmap_put(&m->revoked, serial, NULL, NULL, NULL);
}

static int
open_store(struct master *m, struct cerr *err)
{
	char spec[CONF_STR_MAX + 32];
	const char *s = m->conf->store;

	if (strncmp(s, "postgres", 8) == 0)
		snprintf(spec, sizeof(spec), "%s", s);
	else if (state_path(m, s, spec, sizeof(spec), err) < 0)
		return -1;
	if (store_open(spec, &m->store, err) < 0)
		return -1;
	return store_revoked_list(m->store, revoked_cb, m, err);
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
	return m->ssl_ctx ? 0 : -1;
}

static void
housekeeping_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;
	struct cerr err;

	if (store_history_trim(m->store, m->conf->history_max_rows,
	    m->conf->history_max_rows_per_job, &err) < 0 ||
	    store_instr_trim(m->store, m->conf->downloadlist_keep_applied,
	    &err) < 0)
		log_warn("housekeeping", "msg=\"%s\"", err.msg);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct master *m = arg;

	log_info("stopping", "signal=%d", (int)sig);
	event_base_loopbreak(m->base);
}

static int
add_events(struct master *m, struct cerr *err)
{
	struct timeval tick = {HOUSEKEEPING_S, 0};

	m->sig_term = evsignal_new(m->base, SIGTERM, signal_cb, m);
	m->sig_int = evsignal_new(m->base, SIGINT, signal_cb, m);
	m->tick = event_new(m->base, -1, EV_PERSIST, housekeeping_cb, m);
	if (m->sig_term == NULL || m->sig_int == NULL || m->tick == NULL ||
	    evsignal_add(m->sig_term, NULL) < 0 ||
	    evsignal_add(m->sig_int, NULL) < 0 ||
	    event_add(m->tick, &tick) < 0)
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
	longpoll_release_all(m);
	http_stop(m);
	if (m->sig_term)
		event_free(m->sig_term);
	if (m->sig_int)
		event_free(m->sig_int);
	if (m->tick)
		event_free(m->tick);
	SSL_CTX_free(m->ssl_ctx);
	store_close(m->store);
	X509_free(m->ca_cert);
	EVP_PKEY_free(m->ca_key);
	free(m->ca_pem);
	strmap_cleanup(&m->revoked);
	strmap_cleanup(&m->waiters);
	if (m->base)
		event_base_free(m->base);
}

int
master_run(const struct conf *conf, struct cerr *err)
{
	struct master m;
	int rc = -1;

	memset(&m, 0, sizeof(m));
	m.conf = conf;
	strmap_init(&m.revoked);
	strmap_init(&m.waiters);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	if (conf->tls == TLS_ENCRYPT_ONLY)
		log_warn("tls", "msg=\"tls = encrypt-only has no effect on a "
		    "master; clients are always verified\"");
	m.base = event_base_new();
	if (m.base == NULL) {
		cerr_set(err, CERR_INTERNAL, "event_base_new failed");
		goto out;
	}
	if (load_ca(&m, err) < 0 || open_store(&m, err) < 0 ||
	    make_tls(&m, err) < 0 || longpoll_init(&m, err) < 0 ||
	    http_start(&m, err) < 0 || add_events(&m, err) < 0)
		goto out;
	log_info("started", "role=master version=%s state_dir=%s",
	    version_string(), conf->state_dir);
	event_base_dispatch(m.base);
	rc = 0;
out:
	master_cleanup(&m);
	return rc;
}
