/*
 * fleet: the command line of the fleet simulator (see fleet.h). Every
 * command prints one JSON object on stdout and exits 0 only when no
 * request failed and the scenario's checks held.
 *
 *   fleet enlist --state DIR --n N --creds FILE [--prefix NAME]
 *   fleet fanout --state DIR --creds FILE --n N [--sizes 100,1000]
 *                [--rounds R] [--pid MASTER_PID] [--hold-s S]
 *   fleet renew  --state DIR --creds FILE --n N --seconds S [--url URL]
 *                [--pid SERVER_PID]
 *   fleet ingest --state DIR --creds FILE --n N --outcomes R [--batch B]
 *   fleet check  --state DIR --n N
 *
 * DIR is the master's state dir: its port file, CA and admin certificate.
 * --url sends the virtual targets' requests elsewhere (the peer server the
 * renewals are compared with), still verified against the master's CA.
 */
#include "fleet/fleet.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#include <event2/event.h>
#include <event2/http.h>

#include "common/evbase.h"
#include "common/json.h"
#include "common/pki.h"

#define FLEET_MAX_SIZES 8

struct opts {
	const char *cmd;
	const char *state;
	const char *creds;
	const char *url;
	const char *prefix;
	size_t n;
	size_t sizes[FLEET_MAX_SIZES];
	size_t nsizes;
	int rounds;
	int seconds;
	int hold_s;
	int batch;
	int64_t outcomes;
	long pid;
};

int64_t
fleet_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Ends the loop turn: with fast peers the active queue never drains, so
 * EVLOOP_ONCE alone could keep running callbacks past every deadline. */
static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

int
fleet_wait(struct fleet *f, int (*done)(void *arg), void *arg, int timeout_ms,
    const char *what, struct cerr *err)
{
	int64_t deadline = fleet_now_ns() + (int64_t)timeout_ms * 1000000;
	struct event *tick = evtimer_new(f->base, tick_cb, f->base);
	struct timeval tv = {0, 20000};
	int rc = 0;

	if (tick == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	while (!done(arg)) {
		if (fleet_now_ns() > deadline) {
			rc = cerr_set(err, CERR_UNAVAILABLE,
			    "timed out after "
			    "%d ms waiting for %s (last error: %s)",
			    timeout_ms, what,
			    f->last_error[0] ? f->last_error : "none");
			break;
		}
		evtimer_add(tick, &tv);
		event_base_loop(f->base, EVLOOP_ONCE);
	}
	event_free(tick);
	return rc;
}

static long
proc_field(long pid, const char *file, const char *key)
{
	char path[64], line[512];
	long v = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/%s", pid, file);
	fp = fopen(path, "r");
	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, key, strlen(key)) == 0)
			v = strtol(line + strlen(key), NULL, 10);
	fclose(fp);
	return v;
}

long
fleet_rss_kib(long pid)
{
	return proc_field(pid, "status", "VmRSS:");
}

long
fleet_cpu_ticks(long pid)
{
	char path[64], line[1024];
	unsigned long ut = 0, st = 0;
	char *p;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fp = fopen(path, "r");
	if (fp == NULL)
		return -1;
	p = fgets(line, sizeof(line), fp);
	fclose(fp);
	/* Fields 14 and 15 (utime, stime) follow the ")" of the name. */
	p = p ? strrchr(line, ')') : NULL;
	if (p == NULL ||
	    sscanf(p + 2,
		"%*c %*d %*d %*d %*d %*d %*u %*u %*u "
		"%*u %*u %lu %lu",
		&ut, &st) != 2)
		return -1;
	return (long)(ut + st);
}

void
fleet_error(struct fleet *f, const char *fmt, ...)
{
	va_list ap;

	f->errors++;
	va_start(ap, fmt);
	vsnprintf(f->last_error, sizeof(f->last_error), fmt, ap);
	va_end(ap);
	if (f->errors <= 5)
		fprintf(stderr, "fleet: %s\n", f->last_error);
}

/* 10,000 virtual targets need 20,000 descriptors and more: lift the soft
 * limit to the hard one, and the hard one too when allowed (root). */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (rl.rlim_max < 1048576) {
		struct rlimit more = {1048576, 1048576};

		if (setrlimit(RLIMIT_NOFILE, &more) == 0)
			return;
	}
	setrlimit(RLIMIT_NOFILE, &rl);
}

static int
read_port(const char *state, int *port, struct cerr *err)
{
	char path[1100];
	FILE *fp;
	int ok;

	snprintf(path, sizeof(path), "%s/port", state);
	fp = fopen(path, "r");
	if (fp == NULL)
		return cerr_set(err, CERR_IO, "%s: cannot open", path);
	ok = fscanf(fp, "%d", port) == 1;
	fclose(fp);
	return ok ? 0 : cerr_set(err, CERR_IO, "%s: no port", path);
}

static int
use_url(struct fleet *f, const char *url, struct cerr *err)
{
	struct evhttp_uri *u = evhttp_uri_parse(url);
	const char *host = u ? evhttp_uri_get_host(u) : NULL;
	int rc = 0;

	if (host == NULL || evhttp_uri_get_port(u) <= 0)
		rc = cerr_set(err, CERR_INVALID,
		    "--url: '%s' is not "
		    "https://HOST:PORT",
		    url);
	else {
		snprintf(f->host, sizeof(f->host), "%s", host);
		f->port = evhttp_uri_get_port(u);
	}
	if (u != NULL)
		evhttp_uri_free(u);
	return rc;
}

static int
fleet_init(struct fleet *f, const struct opts *o, struct cerr *err)
{
	char ca[1100], cert[1100], key[1100];

	memset(f, 0, sizeof(*f));
	f->wait_s = FLEET_HOLD_S;
	snprintf(f->state_dir, sizeof(f->state_dir), "%s", o->state);
	snprintf(f->host, sizeof(f->host), "127.0.0.1");
	snprintf(ca, sizeof(ca), "%s/tls/ca.crt", o->state);
	snprintf(cert, sizeof(cert), "%s/admin/cert.pem", o->state);
	snprintf(key, sizeof(key), "%s/admin/key.pem", o->state);
	/* epoll's change list: a connection's write event, added while a
	 * connect or a write waits and removed when it is done, costs no
	 * epoll_ctl when both happen in one loop turn (fleet_http.c). */
	f->base = evbase_new(EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	if (f->base == NULL)
		return cerr_set(err, CERR_INTERNAL, "event_base_new failed");
	f->ssl = fleet_ssl_ctx(ca, err);
	if (f->ssl == NULL || read_port(o->state, &f->port, err) < 0 ||
	    pki_cert_read(cert, &f->admin_cert, err) < 0 ||
	    pki_key_read(key, &f->admin_key, err) < 0)
		return -1;
	f->admin = fconn_new(f, f->admin_cert, f->admin_key, err);
	return f->admin ? 0 : -1;
}

static void
fleet_cleanup(struct fleet *f)
{
	f->running = 0;
	for (size_t i = 0; i < f->nvts; i++)
		vt_free(f->vts[i]);
	free(f->vts);
	fconn_free(f->admin);
	X509_free(f->admin_cert);
	EVP_PKEY_free(f->admin_key);
	SSL_CTX_free(f->ssl);
	if (f->base != NULL)
		event_base_free(f->base);
}

static int
parse_sizes(const char *s, struct opts *o)
{
	char *end;

	o->nsizes = 0;
	while (*s != '\0' && o->nsizes < FLEET_MAX_SIZES) {
		o->sizes[o->nsizes++] = strtoul(s, &end, 10);
		if (end == s || (*end != ',' && *end != '\0'))
			return -1;
		s = *end ? end + 1 : end;
	}
	return o->nsizes > 0 ? 0 : -1;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {{"state", 1, NULL, 's'},
	    {"creds", 1, NULL, 'c'}, {"url", 1, NULL, 'u'}, {"n", 1, NULL, 'n'},
	    {"sizes", 1, NULL, 'z'}, {"rounds", 1, NULL, 'r'},
	    {"seconds", 1, NULL, 't'}, {"outcomes", 1, NULL, 'o'},
	    {"batch", 1, NULL, 'b'}, {"pid", 1, NULL, 'p'},
	    {"prefix", 1, NULL, 'x'}, {"hold-s", 1, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	int ch;

	memset(o, 0, sizeof(*o));
	o->rounds = 3;
	o->seconds = 5;
	o->batch = 100;
	if (argc < 2)
		return -1;
	o->cmd = argv[1];
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o->state = optarg;
			break;
		case 'c':
			o->creds = optarg;
			break;
		case 'u':
			o->url = optarg;
			break;
		case 'n':
			o->n = strtoul(optarg, NULL, 10);
			break;
		case 'z':
			if (parse_sizes(optarg, o) < 0)
				return -1;
			break;
		case 'r':
			o->rounds = atoi(optarg);
			break;
		case 't':
			o->seconds = atoi(optarg);
			break;
		case 'o':
			o->outcomes = strtoll(optarg, NULL, 10);
			break;
		case 'b':
			o->batch = atoi(optarg);
			break;
		case 'p':
			o->pid = strtol(optarg, NULL, 10);
			break;
		case 'x':
			o->prefix = optarg;
			break;
		case 'h':
			o->hold_s = atoi(optarg);
			break;
		default:
			return -1;
		}
	}
	return o->state != NULL && o->n > 0 && o->rounds > 0 &&
		o->hold_s >= 0 && o->seconds > 0 && o->batch > 0
	    ? 0
	    : -1;
}

/* The virtual targets of the command: enlisted here or loaded. */
static int
fleet_targets(struct fleet *f, const struct opts *o, struct cerr *err)
{
	if (strcmp(o->cmd, "check") == 0 || strcmp(o->cmd, "enlist") == 0)
		return fleet_enlist(f, o->n,
		    o->prefix                          ? o->prefix
			: strcmp(o->cmd, "check") == 0 ? "check"
						       : "fleet",
		    err);
	if (o->creds == NULL)
		return cerr_set(err, CERR_INVALID, "--creds is required");
	return fleet_creds_load(f, o->creds, o->n, err);
}

static int
run_command(
    struct fleet *f, const struct opts *o, json_t *out, struct cerr *err)
{
	int64_t t0 = fleet_now_ns();

	if (fleet_targets(f, o, err) < 0)
		return -1;
	if (strcmp(o->cmd, "enlist") == 0) {
		json_object_set_new(
		    out, "enlisted", json_integer((json_int_t)f->nvts));
		json_object_set_new(out, "enlist_s",
		    json_real((double)(fleet_now_ns() - t0) / 1e9));
		return o->creds ? fleet_creds_save(f, o->creds, err) : 0;
	}
	if (o->url != NULL && use_url(f, o->url, err) < 0)
		return -1;
	if (strcmp(o->cmd, "fanout") == 0)
		return phase_fanout(f, o->sizes, o->nsizes, o->rounds, o->pid,
		    o->hold_s, out, err);
	if (strcmp(o->cmd, "renew") == 0)
		return phase_renew(f, o->seconds, o->pid, out, err);
	if (strcmp(o->cmd, "ingest") == 0)
		return phase_ingest(f, o->outcomes > 0 ? o->outcomes : 10000,
		    o->batch, out, err);
	if (strcmp(o->cmd, "check") == 0)
		return check_run(f, out, err);
	return cerr_set(err, CERR_INVALID, "unknown command '%s'", o->cmd);
}

int
main(int argc, char **argv)
{
	struct fleet f;
	struct opts o;
	struct cerr err;
	json_t *out = json_object();
	char *text;
	int rc;

	if (parse_opts(argc, argv, &o) < 0) {
		fprintf(stderr,
		    "usage: fleet enlist|fanout|renew|ingest|check "
		    "--state DIR --n N [--creds FILE] [--prefix P] [--sizes A,B] "
		    "[--rounds R] [--seconds S] [--url URL] [--outcomes R] "
		    "[--batch B] [--pid PID] [--hold-s S]\n");
		return 2;
	}
	raise_nofile();
	cerr_clear(&err);
	rc = fleet_init(&f, &o, &err);
	if (rc == 0)
		rc = run_command(&f, &o, out, &err);
	json_object_set_new(out, "command", json_string(o.cmd));
	json_object_set_new(out, "errors", json_integer(f.errors));
	if (f.errors > 0)
		json_object_set_new(
		    out, "last_error", json_string(f.last_error));
	if (rc < 0)
		json_object_set_new(out, "failure", json_string(err.msg));
	text = json_dumps(out, JSON_INDENT(1));
	printf("%s\n", text ? text : "{}");
	free(text);
	json_decref(out);
	fleet_cleanup(&f);
	if (rc < 0)
		fprintf(stderr, "fleet: %s\n", err.msg);
	return rc < 0 || f.errors > 0 ? 1 : 0;
}
