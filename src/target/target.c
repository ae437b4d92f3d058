/*
 * target: wiring of the target role (see target.h). Start-up opens the
 * local store, records runs cut off by a previous stop as interrupted,
 * starts queued runs, the scheduler and the local control socket, and
 * begins polling the master and uploading the outbox. SIGTERM/SIGINT stop the loop; running steps are killed with
 * their process groups and recorded as interrupted at the next start.
 */
#include "target/target.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "common/evbase.h"
#include "common/hclient.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/pki.h"
#include "common/runner.h"
#include "common/timefmt.h"
#include "common/version.h"
#include "target/lsock.h"
#include "target/privdrop.h"
#include "target/runlog.h"
#include "target/runner_ipc.h"
#include "target/scheduler.h"
#include "target/tstore.h"

void
target_url(const struct target *t, const char *path, char *out, size_t size)
{
	const char *base = t->masters[t->master_index];
	size_t n = strlen(base);

	/* "https://m:8443/" and "https://m:8443" both work. */
	if (n > 0 && base[n - 1] == '/')
		n--;
	snprintf(out, size, "%.*s%s", (int)n, base, path);
}

void
target_next_master(struct target *t)
{
	if (t->nmasters > 1)
		t->master_index = (t->master_index + 1) % t->nmasters;
}

/* Whether two master URLs are the same, a trailing slash aside. */
static int
same_url(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

	if (na > 0 && a[na - 1] == '/')
		na--;
	if (nb > 0 && b[nb - 1] == '/')
		nb--;
	return na == nb && strncmp(a, b, na) == 0;
}

/* The index of url in the master list, or -1. */
static int
master_listed(const struct target *t, const char *url)
{
	for (int i = 0; url != NULL && i < t->nmasters; i++)
		if (same_url(t->masters[i], url))
			return i;
	return -1;
}

int
target_follow(struct target *t, const struct hresp *resp, int rotate)
{
	json_t *body, *e;
	const char *code, *url;
	int at, rc = 0;

	if (resp->status != 503) {
		if (resp->status > 0)
			log_limit_ok(&t->standby_log, "master_active");
		return 0;
	}
	body = json_loadb(resp->body, resp->len, 0, NULL);
	e = json_object_get(body, "error");
	code = json_string_value(json_object_get(e, "code"));
	url = json_string_value(json_object_get(e, "active_url"));
	if (code != NULL && strcmp(code, "not_active") == 0) {
		at = master_listed(t, url);
		if (at >= 0)
			t->master_index = at;
		else if (rotate)
			target_next_master(t);
		rc = at >= 0 ? 2 : 1;
		log_limited(&t->standby_log, LOG_LVL_INFO, "master_standby",
		    "next=%s active_url=%s%s", t->masters[t->master_index],
		    url ? url : "(none)",
		    url != NULL && at < 0 ? " (not in this target's list)"
					  : "");
	}
	json_decref(body);
	return rc;
}

static int
split_masters(struct target *t, struct cerr *err)
{
	char copy[CONF_STR_MAX];
	char *save = NULL;

	snprintf(copy, sizeof(copy), "%s", t->conf->master);
	for (char *u = strtok_r(copy, " ,", &save); u != NULL;
	     u = strtok_r(NULL, " ,", &save)) {
		if (t->nmasters == TARGET_MAX_MASTERS)
			return cerr_set(err, CERR_INVALID,
			    "master: more than "
			    "%d URLs",
			    TARGET_MAX_MASTERS);
		if (strncmp(u, "https://", 8) != 0)
			return cerr_set(err, CERR_INVALID,
			    "master: '%s' is not "
			    "an https:// URL",
			    u);
		t->masters[t->nmasters] = strdup(u);
		if (t->masters[t->nmasters++] == NULL)
			return cerr_set(err, CERR_INTERNAL, "out of memory");
	}
	if (t->nmasters == 0)
		return cerr_set(err, CERR_INVALID, "master: no URL");
	return 0;
}

/* A target's name is fixed by its certificate: one renamed in its
 * configuration must not poll under the old identity. */
static int
check_identity(const struct target *t, const char *cert_path, struct cerr *err)
{
	struct pki_identity id;
	X509 *cert = NULL;
	int rc;

	/* Defecting removes the certificate: say that, not "no such file",
	 * to whoever starts the daemon again with the set-aside file. */
	if (access(cert_path, F_OK) != 0 && errno == ENOENT)
		return cerr_set(err, CERR_CONFLICT,
		    "%s is gone: this target has defected from its master (or "
		    "never enlisted); enlist it again with cohortctl enlist "
		    "--state-dir %s (its local jobs are kept)",
		    cert_path, t->conf->state_dir);
	if (pki_cert_read(cert_path, &cert, err) < 0)
		return -1;
	rc = pki_cert_identity(cert, &id, err);
	X509_free(cert);
	if (rc < 0)
		return -1;
	if (strcmp(id.name, t->conf->name) != 0)
		return cerr_set(err, CERR_CONFLICT,
		    "configured name '%s' does "
		    "not match this target's certificate ('%s'): a target's "
		    "name cannot change in place; defect, rename, enlist again",
		    t->conf->name, id.name);
	return 0;
}

static int
make_client(struct target *t, struct cerr *err)
{
	char cert[CONF_STR_MAX + 32], key[CONF_STR_MAX + 32];
	char ca[CONF_STR_MAX + 32];
	struct hclient_tls tls = {
	    cert, key, ca, t->conf->tls == TLS_VERIFY, 0, 1};

	if (conf_state_path(t->conf, PATH_TLS_CERT, cert, sizeof(cert), err) <
		0 ||
	    conf_state_path(t->conf, PATH_TLS_KEY, key, sizeof(key), err) < 0 ||
	    conf_state_path(t->conf, PATH_TLS_CA, ca, sizeof(ca), err) < 0)
		return -1;
	t->http = hclient_new(t->base, &tls, err);
	return t->http ? 0 : -1;
}

static int
open_parts(struct target *t, struct cerr *err)
{
	char db[CONF_STR_MAX + 32], cert[CONF_STR_MAX + 32];
	int64_t defecting = 0;

	if (conf_state_path(t->conf, PATH_TARGET_STORE, db, sizeof(db), err) <
		0 ||
	    conf_state_path(t->conf, PATH_TLS_CERT, cert, sizeof(cert), err) <
		0 ||
	    renew_recover(t->conf, err) < 0 ||
	    check_identity(t, cert, err) < 0 ||
	    tstore_open(db, &t->store, err) < 0 ||
	    tstore_meta_get_int(t->store, "poll_interval_s",
		t->conf->poll_interval_s, &t->poll_interval_s, err) < 0 ||
	    tstore_meta_get_int(t->store, "defecting", 0, &defecting, err) < 0)
		return -1;
	t->defecting = defecting != 0;
	if (t->runner_ipc != NULL)
		t->runner = runner_ipc_runner(t->runner_ipc, t->base, err);
	else
		t->runner = runner_new(t->base, err);
	t->runner_ipc = NULL; /* the runner took it over, also on failure */
	if (t->runner == NULL)
		return -1;
	return make_client(t, err);
}

int
target_reconnect(struct target *t, struct cerr *err)
{
	poll_stop(t);
	upload_stop(t);
	if (t->renew_call != NULL)
		hclient_cancel(t->http, t->renew_call);
	t->renew_call = NULL;
	hclient_free(t->http);
	t->http = NULL;
	if (make_client(t, err) < 0 || poll_start(t, err) < 0)
		return -1;
	upload_kick(t);
	log_info("reconnected", "msg=\"new client certificate in use\"");
	return 0;
}

#define HOUSEKEEPING_S 3600
#define KEEP_FINISHED_RUNS_S (7 * 86400)

static void
housekeeping_cb(evutil_socket_t fd, short what, void *arg)
{
	struct target *t = arg;
	struct cerr err;

	if (tstore_run_prune(
		t->store, timefmt_now_s() - KEEP_FINISHED_RUNS_S, &err) < 0) {
		log_warn("housekeeping", "msg=%s", LOG_TEXT(err.msg));
		events_daemon_error(t, "pruning the run ledger", err.msg);
	}
	runlog_housekeeping(t);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct target *t = arg;

	log_info("stopping", "signal=%d", (int)sig);
	event_base_loopbreak(t->base);
}

void
target_store_failed(struct target *t, const struct cerr *err)
{
	log_limited(&t->store_log, LOG_LVL_ERROR, "store_failing",
	    "code=%s msg=%s", cerr_code_name(err->code), LOG_TEXT(err->msg));
	/* Rate-limited too; it may not reach the outbox while the store
	 * fails, but the first failure after a recovery usually does. */
	events_daemon_error(t, "local store", err->msg);
}

void
target_store_ok(struct target *t)
{
	log_limit_ok(&t->store_log, "store_recovered");
}

/* SIGHUP: the live keys of the file take effect (conf_reload), the rest
 * wait for a restart; the poll, uploads and running steps go on. A poll
 * interval set by the master stays ahead of the file's default. */
static void
reload_cb(evutil_socket_t sig, short what, void *arg)
{
	struct target *t = arg;
	/* the report may fill a log line: more than LOG_TEXT's room */
	char report[4096], flat[4096 + 512], detail[2048];
	enum log_level level;
	struct cerr err;
	int applied;

	if (conf_reload(t->live, report, sizeof(report), &applied, &err) < 0) {
		log_error("reload_failed", "msg=%s detail=%s",
		    LOG_TEXT(err.msg),
		    log_text(detail, sizeof(detail),
			log_one_line(flat, sizeof(flat), report)));
		events_daemon_error(t, "configuration reload", err.msg);
		return;
	}
	log_level_parse(t->live->log_level, &level);
	log_setup("cohortd-target", level, t->live->log_syslog);
	if (tstore_meta_get_int(t->store, "poll_interval_s",
		t->conf->poll_interval_s, &t->poll_interval_s, &err) < 0)
		log_error("reload", "msg=%s", LOG_TEXT(err.msg));
	if (report[0] != '\0')
		log_warn("reload_restart_needed", "keys=%s",
		    log_text(detail, sizeof(detail),
			log_one_line(flat, sizeof(flat), report)));
	log_info("reloaded", "path=%s applied=%d", t->live->path, applied);
}

static int
add_events(struct target *t, struct cerr *err)
{
	struct timeval hk = {HOUSEKEEPING_S, 0};

	t->sig_term = evsignal_new(t->base, SIGTERM, signal_cb, t);
	t->sig_int = evsignal_new(t->base, SIGINT, signal_cb, t);
	t->sig_hup = evsignal_new(t->base, SIGHUP, reload_cb, t);
	t->housekeeping =
	    event_new(t->base, -1, EV_PERSIST, housekeeping_cb, t);
	if (t->sig_term == NULL || t->sig_int == NULL || t->sig_hup == NULL ||
	    t->housekeeping == NULL || evsignal_add(t->sig_term, NULL) < 0 ||
	    evsignal_add(t->sig_int, NULL) < 0 ||
	    evsignal_add(t->sig_hup, NULL) < 0 ||
	    event_add(t->housekeeping, &hk) < 0)
		return cerr_set(err, CERR_INTERNAL, "cannot add events");
	housekeeping_cb(-1, 0, t);
	return 0;
}

static void
target_cleanup(struct target *t)
{
	lsock_stop(t);
	poll_stop(t);
	upload_stop(t);
	scheduler_stop(t);
	renew_stop(t);
	runs_shutdown(t);
	runner_free(t->runner);
	runner_ipc_free(t->runner_ipc);
	hclient_free(t->http);
	tstore_close(t->store);
	if (t->sig_term)
		event_free(t->sig_term);
	if (t->sig_int)
		event_free(t->sig_int);
	if (t->sig_hup)
		event_free(t->sig_hup);
	if (t->housekeeping)
		event_free(t->housekeeping);
	for (int i = 0; i < t->nmasters; i++)
		free(t->masters[i]);
	if (t->base)
		event_base_free(t->base);
	free(t->live);
}

/* Started as root with "user": the runner process keeps root, the rest
 * of the daemon gives it up (runner_ipc.h, privdrop.h). First thing at
 * start, before any connection, store or key is opened. */
static int
separate(struct target *t, struct cerr *err)
{
	if (geteuid() != 0) {
		if (t->conf->user[0] != '\0')
			log_warn("privsep",
			    "msg=\"user = %s ignored: cohortd was not started "
			    "as root\"",
			    t->conf->user);
		return 0;
	}
	if (t->conf->user[0] == '\0') {
		log_warn("privsep",
		    "msg=\"running as root without privilege "
		    "separation: set user = NAME\"");
		return 0;
	}
	if (runs_kill_orphans(t->conf, err) < 0 ||
	    runner_ipc_fork(t->conf, &t->runner_ipc, err) < 0)
		return -1;
	return privdrop_to_user(t->conf, err);
}

/* The machine's boot from /proc/stat's btime, 0 when it cannot be read
 * (missed instants are then "daemon down", as before the boot was known). */
static int64_t
boot_time_s(void)
{
	FILE *f = fopen("/proc/stat", "r");
	char line[256];
	long long btime = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "btime %lld", &btime) == 1)
			break;
	fclose(f);
	return btime > 0 ? (int64_t)btime : 0;
}

int
target_run(const struct conf *conf, struct cerr *err)
{
	struct target t;
	int rc = -1;

	memset(&t, 0, sizeof(t));
	t.started_at = timefmt_now_s();
	t.booted_at = boot_time_s();
	signal(SIGPIPE, SIG_IGN);
	/* A copy the target owns, so SIGHUP can change its live keys. */
	t.live = malloc(sizeof(*t.live));
	if (t.live == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	*t.live = *conf;
	t.conf = t.live;
	if (separate(&t, err) < 0) {
		runner_ipc_free(t.runner_ipc);
		free(t.live);
		return -1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		runner_ipc_free(t.runner_ipc);
		free(t.live);
		return cerr_set(err, CERR_INTERNAL, "curl_global_init failed");
	}
	if (t.conf->tls == TLS_ENCRYPT_ONLY)
		log_warn("tls",
		    "msg=\"tls = encrypt-only: the master's "
		    "certificate is NOT checked; anyone who can intercept the "
		    "connection can impersonate the master\"");
	/* Timers to the microsecond (timerfd on Linux): epoll's own
	 * millisecond timeouts wake a schedule's due instant 1-2 ms late. */
	t.base = evbase_new(EVENT_BASE_FLAG_PRECISE_TIMER);
	if (t.base == NULL) {
		cerr_set(err, CERR_INTERNAL, "event_base_new failed");
		goto out;
	}
	if (split_masters(&t, err) < 0 || open_parts(&t, err) < 0 ||
	    add_events(&t, err) < 0 || runs_recover(&t, err) < 0 ||
	    scheduler_start(&t, err) < 0 || lsock_start(&t, err) < 0 ||
	    poll_start(&t, err) < 0 || renew_start(&t, err) < 0)
		goto out;
	upload_kick(&t);
	log_info("started", "role=target name=%s version=%s master=%s",
	    t.conf->name, version_string(), t.masters[0]);
	event_base_dispatch(t.base);
	/* Without its runner process the daemon cannot run steps: it stops
	 * and says so, so a supervisor restarts it. */
	if (runner_check(t.runner, err) < 0)
		goto out;
	if (t.defect_failed[0] != '\0') {
		cerr_set(err, CERR_IO, "%s", t.defect_failed);
		goto out;
	}
	rc = 0;
out:
	target_cleanup(&t);
	curl_global_cleanup();
	return rc;
}
