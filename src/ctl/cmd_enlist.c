/*
 * cmd_enlist: enlisting a target with a master, and defecting from it.
 *
 * Enlist trusts nothing it has not checked: the token carries the SHA-256
 * of the master's CA certificate, so the CA fetched over an unverified
 * first connection is compared with it before it is written; every later
 * call verifies the master against that CA. Then a key is made on this
 * machine (it never leaves it), and its certificate request is sent with
 * the token. A state dir with a cohortd.conf is enlisted already and is
 * refused: defect first.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/jobdoc.h"
#include "common/paths.h"
#include "common/pki.h"
#include "common/sockpath.h"
#include "common/version.h"
#include "ctl/ctl.h"
#include "ctl/statedir.h"
#include "master/token.h"
#include "target/defect.h"
#include "target/tstore.h"

static const char *const enlist_files[] = {
    PATH_CONF, PATH_TLS_CA, PATH_TLS_CERT, PATH_TLS_KEY, NULL};

struct enlist_opts {
	const char *dir;
	const char *name;
	const char *master;
	const char *token;
	const char *poll;
	long long poll_interval_s;
	char abs_dir[PATH_MAX];
	char token_read[TOKEN_MAX + 2]; /* --token -: wiped before exit */
};

/* A client for the master URL, verifying with ca when given. */
static void
master_client(const char *url, const char *ca, struct client *c)
{
	size_t n;

	memset(c, 0, sizeof(*c));
	snprintf(c->url, sizeof(c->url), "%s", url);
	n = strlen(c->url);
	if (n > 0 && c->url[n - 1] == '/')
		c->url[n - 1] = '\0';
	if (ca != NULL) {
		snprintf(c->ca, sizeof(c->ca), "%s", ca);
		c->verify = 1;
	}
}

/* "--token -": the token is the first line of standard input, so that
 * it shows neither in the process list nor in the shell's history. */
static int
read_token(struct enlist_opts *o, struct cerr *err)
{
	struct termios saved, quiet;
	int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	char *got;
	size_t n;

	/* typed at a terminal: asked for, and not shown */
	if (tty) {
		fputs("enlistment token: ", stderr);
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	got = fgets(o->token_read, sizeof(o->token_read), stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', stderr);
	}
	if (got == NULL)
		return cerr_set(
		    err, CERR_INVALID, "--token -: no token on standard input");
	n = strcspn(o->token_read, "\r\n");
	if (o->token_read[n] == '\0' && n == sizeof(o->token_read) - 1)
		return cerr_set(err, CERR_TOKEN,
		    "--token -: the line on standard input is longer than "
		    "a token");
	o->token_read[n] = '\0';
	o->token = o->token_read;
	return 0;
}

static int
check_opts(struct enlist_opts *o, struct cerr *err)
{
	struct token_parts tp;

	if (o->dir == NULL || o->name == NULL || o->master == NULL ||
	    o->token == NULL)
		return cerr_set(err, CERR_INVALID,
		    "enlist needs --state-dir, "
		    "--name, --master and --token");
	if (strcmp(o->token, "-") == 0 && read_token(o, err) < 0)
		return -1;
	o->poll_interval_s = 60;
	if ((o->poll != NULL &&
		ctl_int(o->poll, "--poll-interval", 1, 28800,
		    &o->poll_interval_s, err) < 0) ||
	    jobdoc_check_name(o->name, JOB_NAME_MAX, "--name", err) < 0 ||
	    token_parse(o->token, &tp, err) < 0)
		return -1;
	OPENSSL_cleanse(&tp, sizeof(tp));
	/* Several URLs (the masters of a pair) are tried in turn. */
	return client_check_urls(o->master, "--master", err);
}

/* Fetches the CA without verification and accepts it only if its
 * fingerprint is the one in the token; then writes it. */
static int
fetch_ca(const struct enlist_opts *o, struct cerr *err)
{
	struct client c;
	struct token_parts tp;
	char fp[PKI_FINGERPRINT_HEX];
	json_t *out = NULL;
	const char *pem;
	X509 *ca = NULL;
	int rc = -1;

	master_client(o->master, NULL, &c);
	if (token_parse(o->token, &tp, err) < 0 ||
	    client_call(&c, "GET", "/v1/ca", NULL, &out, err) < 0)
		goto out;
	pem = json_string_value(json_object_get(out, "ca"));
	if (pem == NULL || pki_cert_from_pem(pem, strlen(pem), &ca, err) < 0 ||
	    pki_cert_fingerprint(ca, fp, err) < 0) {
		cerr_set(err, CERR_TLS,
		    "the master sent no usable CA "
		    "certificate");
		goto out;
	}
	if (strcmp(fp, tp.ca_fingerprint) != 0) {
		cerr_set(err, CERR_TLS,
		    "the master's CA does not match the "
		    "token: wrong master URL, or someone in between");
		goto out;
	}
	rc = statedir_write(o->abs_dir, PATH_TLS_CA, pem, 0644, err);
out:
	OPENSSL_cleanse(&tp, sizeof(tp));
	X509_free(ca);
	json_decref(out);
	return rc;
}

static int
request_cert(const struct enlist_opts *o, struct cerr *err)
{
	char key_path[PATH_MAX], ca_path[PATH_MAX];
	struct client c;
	EVP_PKEY *key = NULL;
	json_t *body = NULL, *out = NULL;
	char *csr = NULL;
	const char *cert;
	int rc = -1;

	if (statedir_path(
		o->abs_dir, PATH_TLS_CA, ca_path, sizeof(ca_path), err) < 0)
		return -1;
	master_client(o->master, ca_path, &c);
	if (statedir_path(o->abs_dir, PATH_TLS_KEY, key_path, sizeof(key_path),
		err) < 0 ||
	    pki_target_key_new(&key, err) < 0 ||
	    pki_key_write(key_path, key, err) < 0 ||
	    pki_csr_new(key, o->name, &csr, err) < 0)
		goto out;
	body = json_pack("{s:s,s:s,s:s,s:s,s:I}", "name", o->name, "token",
	    o->token, "csr", csr, "version", version_string(),
	    "poll_interval_s", (json_int_t)o->poll_interval_s);
	if (body == NULL ||
	    client_call(&c, "POST", "/v1/enlist", body, &out, err) < 0)
		goto out;
	cert = json_string_value(json_object_get(out, "cert"));
	if (cert == NULL) {
		cerr_set(err, CERR_INTERNAL, "the master sent no certificate");
		goto out;
	}
	rc = statedir_write(o->abs_dir, PATH_TLS_CERT, cert, 0644, err);
out:
	EVP_PKEY_free(key);
	free(csr);
	json_decref(body);
	json_decref(out);
	return rc;
}

static void
warn_dropped(int64_t left)
{
	if (left > 0)
		fprintf(stderr,
		    "warning: %lld outbox records (run outcomes, events) "
		    "were not uploaded and are dropped\n",
		    (long long)left);
}

/* The target's local store at db, when there is one (*s NULL when not). */
static int
open_store_if_any(const char *db, struct tstore **s, struct cerr *err)
{
	struct stat st;

	*s = NULL;
	return stat(db, &st) == 0 ? tstore_open(db, s, err) : 0;
}

/* A state dir that was enlisted before keeps its local store: what it
 * still holds for a master (a defect cut off before the store was told,
 * or a store copied from elsewhere) must not reach the next one, whose
 * instruction ids start anew. */
static int
forget_old_master(const char *dir, struct cerr *err)
{
	char db[PATH_MAX];
	struct tstore *s;
	int64_t left = 0;
	int rc = 0;

	if (statedir_path(dir, PATH_TARGET_STORE, db, sizeof(db), err) < 0 ||
	    open_store_if_any(db, &s, err) < 0)
		return -1;
	if (s != NULL)
		rc = tstore_forget_master(s, &left, err);
	tstore_close(s);
	if (rc == 0)
		warn_dropped(left);
	return rc;
}

static int
write_target_conf(const struct enlist_opts *o, struct cerr *err)
{
	char text[PATH_MAX * 2 + 512];

	snprintf(text, sizeof(text),
	    "# cohortd target, made by cohortctl enlist\n"
	    "role = target\nstate_dir = %s\nname = %s\nmaster = %s\n"
	    "poll_interval_s = %lld\n",
	    o->abs_dir, o->name, o->master, o->poll_interval_s);
	return statedir_write(o->abs_dir, PATH_CONF, text, 0600, err);
}

/* Makes the state dir and its files; on failure, undoes what it made. */
static int
enlist(struct enlist_opts *o, struct cerr *err)
{
	char path[PATH_MAX];
	struct stat st;
	int dir_existed = stat(o->dir, &st) == 0;

	if (statedir_mkdir(o->dir, err) < 0 ||
	    statedir_absolute(o->dir, o->abs_dir, sizeof(o->abs_dir), err) <
		0 ||
	    statedir_path(o->abs_dir, PATH_CONF, path, sizeof(path), err) < 0)
		return -1;
	if (stat(path, &st) == 0)
		return cerr_set(err, CERR_CONFLICT,
		    "%s is enlisted already (%s "
		    "exists): a target reports to one master; defect first "
		    "(cohortctl defect --state-dir %s)",
		    o->abs_dir, path, o->dir);
	if (statedir_path(o->abs_dir, PATH_TLS_DIR, path, sizeof(path), err) <
		0 ||
	    statedir_mkdir(path, err) < 0 ||
	    forget_old_master(o->abs_dir, err) < 0 || fetch_ca(o, err) < 0 ||
	    request_cert(o, err) < 0 || write_target_conf(o, err) < 0) {
		statedir_undo(o->abs_dir, enlist_files, dir_existed);
		return -1;
	}
	return 0;
}

int
cmd_enlist(struct ctl *ctl, int argc, char **argv)
{
	struct enlist_opts o;
	struct ctl_opt opts[] = {CTL_VALUE("--state-dir", &o.dir),
	    CTL_VALUE("--name", &o.name), CTL_VALUE("--master", &o.master),
	    CTL_VALUE("--token", &o.token),
	    CTL_VALUE("--poll-interval", &o.poll), CTL_END};
	struct cerr err;
	int npos, rc;

	memset(&o, 0, sizeof(o));
	rc = ctl_parse(argc, argv, opts, NULL, 0, 0, &npos, &err) < 0 ||
		check_opts(&o, &err) < 0 || enlist(&o, &err) < 0
	    ? -1
	    : 0;
	OPENSSL_cleanse(o.token_read, sizeof(o.token_read));
	if (rc < 0)
		return ctl_fail(&err);
	printf("enlisted %s with %s\n  start it: cohortd -c %s/%s\n", o.name,
	    o.master, o.abs_dir, PATH_CONF);
	return 0;
}

/* Tells the master, with this target's own certificate. */
static int
defect_remote(const struct conf *conf, struct cerr *err)
{
	struct client c;

	master_client(conf->master, NULL, &c);
	c.verify = conf->tls == TLS_VERIFY;
	if (conf_state_path(conf, PATH_TLS_CA, c.ca, sizeof(c.ca), err) < 0 ||
	    conf_state_path(conf, PATH_TLS_CERT, c.cert, sizeof(c.cert), err) <
		0 ||
	    conf_state_path(conf, PATH_TLS_KEY, c.key, sizeof(c.key), err) < 0)
		return -1;
	return client_call(&c, "POST", "/v1/defect", NULL, NULL, err);
}

/* Removes the multiserver jobs (local jobs stay) and forgets the master
 * (target/defect.h). */
static int
defect_local(const struct conf *conf, struct cerr *err)
{
	char db[PATH_MAX];
	struct tstore *s;
	int64_t left = 0;
	int rc;

	if (conf_state_path(conf, PATH_TARGET_STORE, db, sizeof(db), err) < 0 ||
	    open_store_if_any(db, &s, err) < 0)
		return -1;
	rc = defect_forget_master(conf, s, &left, err);
	tstore_close(s);
	if (rc == 0)
		warn_dropped(left);
	return rc;
}

/* Whether the target's daemon runs: its control socket takes a
 * connection. A running daemon would go on polling with a certificate
 * the master revokes and scheduling jobs whose rows are gone, so defect
 * waits until it is stopped (it cannot start again without enlisting). */
static int
daemon_running(const struct conf *conf, char *sock, size_t size)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct sockpath sp;
	struct cerr err;
	int fd, up;

	if (conf_state_path(conf, conf->socket, sock, size, &err) < 0 ||
	    sockpath_open(sock, &sp, &err) < 0)
		return 0;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sp.path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	up = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	sockpath_close(&sp);
	return up;
}

int
cmd_defect(struct ctl *ctl, int argc, char **argv)
{
	static struct conf conf;
	const char *dir = NULL;
	int force = 0, npos;
	struct ctl_opt opts[] = {CTL_VALUE("--state-dir", &dir),
	    CTL_FLAG("--force", &force), CTL_END};
	char path[PATH_MAX], report[4096], sock[CONF_STR_MAX + 32];
	struct cerr err;

	if (ctl_parse(argc, argv, opts, NULL, 0, 0, &npos, &err) < 0)
		return ctl_fail(&err);
	if (dir == NULL || dir[0] == '\0') {
		cerr_set(&err, CERR_INVALID,
		    "defect needs --state-dir (the target's state "
		    "directory)");
		return ctl_fail(&err);
	}
	if (statedir_path(dir, PATH_CONF, path, sizeof(path), &err) < 0)
		return ctl_fail(&err);
	/* Defecting removes the configuration: a second defect, or a
	 * directory that never enlisted, finds none. */
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		cerr_set(&err, CERR_NOT_FOUND,
		    "%s is not an enlisted target's state directory (no %s): "
		    "nothing to defect",
		    dir, PATH_CONF);
		return ctl_fail(&err);
	}
	if (conf_load(&conf, path, NULL, 0, report, sizeof(report), &err) < 0)
		return ctl_fail(&err);
	if (conf.role != ROLE_TARGET) {
		cerr_set(&err, CERR_INVALID,
		    "%s is not a target's "
		    "configuration",
		    path);
		return ctl_fail(&err);
	}
	if (daemon_running(&conf, sock, sizeof(sock))) {
		cerr_set(&err, CERR_CONFLICT,
		    "the target daemon is running (its control socket %s "
		    "answers): stop it first, then defect",
		    sock);
		return ctl_fail(&err);
	}
	if (!force && defect_remote(&conf, &err) < 0) {
		cerr_wrap(&err,
		    "cannot tell the master (use --force to defect "
		    "locally anyway)");
		return ctl_fail(&err);
	}
	if (defect_local(&conf, &err) < 0)
		return ctl_fail(&err);
	printf("%s defected%s; its multiserver jobs are removed, local jobs "
	       "kept\n",
	    conf.name, force ? " locally (the master was not told)" : "");
	return 0;
}
