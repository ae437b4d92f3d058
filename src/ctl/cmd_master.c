/*
 * cmd_master: "master init" makes a master's state dir: the CA, the
 * master's server certificate (its names are every --san, or when none is
 * given the listen host, localhost, 127.0.0.1 and this host's name), an
 * admin client certificate with its profile admin.conf, the daemon's
 * cohortd.conf, and the store with its schema and the default operator
 * (STATE_DIR/cohort.db, or the PostgreSQL database --store names). It
 * refuses a dir that has a cohortd.conf already; a failure part-way
 * removes what it wrote. With --join, the second master of a pair is made
 * from the first one's state dir instead (master_join.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/paths.h"
#include "common/pki.h"
#include "ctl/ctl.h"
#include "ctl/statedir.h"
#include "store/store.h"

#define MAX_SANS 32
#define CA_DAYS 3650
#define CERT_DAYS 825

static const char *const written_files[] = {PATH_CONF, PATH_CA_KEY, PATH_TLS_CA,
    PATH_TLS_CERT, PATH_TLS_KEY, "admin/cert.pem", "admin/key.pem",
    PATH_ADMIN_PROFILE, "cohort.db", "cohort.db-wal", "cohort.db-shm", NULL};

struct init_opts {
	const char *dir;
	const char *listen;
	const char *store; /* a postgresql:// URL, or NULL: cohort.db */
	const char *join; /* the state dir of the pair's first master */
	const char *sans[MAX_SANS + 4];
	int nsans;
	char abs_dir[PATH_MAX];
	char host[256];
	int port;
};

static int
parse_listen(struct init_opts *o, struct cerr *err)
{
	const char *colon = strrchr(o->listen, ':');
	long long port;
	size_t hlen;

	if (colon == NULL || colon == o->listen)
		return cerr_set(
		    err, CERR_INVALID, "--listen: expected HOST:PORT");
	hlen = (size_t)(colon - o->listen);
	if (o->listen[0] == '[' && colon[-1] == ']') {
		snprintf(o->host, sizeof(o->host), "%.*s", (int)hlen - 2,
		    o->listen + 1);
	} else {
		snprintf(
		    o->host, sizeof(o->host), "%.*s", (int)hlen, o->listen);
	}
	if (ctl_int(colon + 1, "--listen port", 0, 65535, &port, err) < 0)
		return -1;
	o->port = (int)port;
	return 0;
}

/* Without --san: names a local operator would reach the master by. */
static void
default_sans(struct init_opts *o)
{
	static char hostname[256];

	if (o->nsans > 0)
		return;
	if (strcmp(o->host, "0.0.0.0") != 0 && strcmp(o->host, "::") != 0)
		o->sans[o->nsans++] = o->host;
	o->sans[o->nsans++] = "localhost";
	if (strcmp(o->host, "127.0.0.1") != 0)
		o->sans[o->nsans++] = "127.0.0.1";
	if (gethostname(hostname, sizeof(hostname) - 1) == 0 &&
	    strcmp(hostname, "localhost") != 0)
		o->sans[o->nsans++] = hostname;
}

static int
issue_pair(const char *dir, X509 *ca, EVP_PKEY *ca_key, const char *name,
    const char *role, enum pki_usage usage, const struct init_opts *o,
    const char *cert_rel, const char *key_rel, struct cerr *err)
{
	char cert_path[PATH_MAX], key_path[PATH_MAX];
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int rc = -1;

	if (statedir_path(dir, cert_rel, cert_path, sizeof(cert_path), err) <
		0 ||
	    statedir_path(dir, key_rel, key_path, sizeof(key_path), err) < 0 ||
	    pki_key_new(&key, err) < 0 ||
	    pki_cert_issue(ca, ca_key, key, name, role, usage,
		usage == PKI_USAGE_SERVER ? o->sans : NULL,
		usage == PKI_USAGE_SERVER ? (size_t)o->nsans : 0, CERT_DAYS,
		&cert, err) < 0 ||
	    pki_key_write(key_path, key, err) < 0 ||
	    pki_cert_write(cert_path, cert, err) < 0)
		goto out;
	rc = 0;
out:
	EVP_PKEY_free(key);
	X509_free(cert);
	return rc;
}

static int
make_pki(const struct init_opts *o, struct cerr *err)
{
	char ca_cert[PATH_MAX], ca_key_path[PATH_MAX];
	EVP_PKEY *ca_key = NULL;
	X509 *ca = NULL;
	int rc = -1;

	if (statedir_path(
		o->abs_dir, PATH_TLS_CA, ca_cert, sizeof(ca_cert), err) < 0 ||
	    statedir_path(o->abs_dir, PATH_CA_KEY, ca_key_path,
		sizeof(ca_key_path), err) < 0 ||
	    pki_key_new(&ca_key, err) < 0 ||
	    pki_ca_new(ca_key, "cohort CA", CA_DAYS, &ca, err) < 0 ||
	    pki_key_write(ca_key_path, ca_key, err) < 0 ||
	    pki_cert_write(ca_cert, ca, err) < 0 ||
	    issue_pair(o->abs_dir, ca, ca_key, "master", "master",
		PKI_USAGE_SERVER, o, PATH_TLS_CERT, PATH_TLS_KEY, err) < 0 ||
	    issue_pair(o->abs_dir, ca, ca_key, "admin", "admin",
		PKI_USAGE_CLIENT, o, "admin/cert.pem", "admin/key.pem",
		err) < 0)
		goto out;
	rc = 0;
out:
	EVP_PKEY_free(ca_key);
	X509_free(ca);
	return rc;
}

/* The host the admin profile reaches this master by: one its
 * certificate names, or cohortctl could not verify it. The listen host
 * when the certificate names it; for a wildcard, 127.0.0.1 or localhost
 * when named (this machine); else the first --san. */
static const char *
profile_host(const struct init_opts *o)
{
	static const char *const local[] = {"127.0.0.1", "localhost", "::1"};
	int wildcard =
	    strcmp(o->host, "0.0.0.0") == 0 || strcmp(o->host, "::") == 0;

	for (int i = 0; i < o->nsans; i++)
		if (!wildcard && strcasecmp(o->sans[i], o->host) == 0)
			return o->host;
	for (size_t k = 0; wildcard && k < sizeof(local) / sizeof(local[0]);
	     k++)
		for (int i = 0; i < o->nsans; i++)
			if (strcasecmp(o->sans[i], local[k]) == 0)
				return o->sans[i];
	return o->nsans > 0 ? o->sans[0] : o->host;
}

static int
write_configs(const struct init_opts *o, struct cerr *err)
{
	char text[PATH_MAX * 2 + 512];
	const char *url_host = profile_host(o);

	snprintf(text, sizeof(text),
	    "# cohortd master, made by cohortctl master init\n"
	    "role = master\nstate_dir = %s\nlisten = %s\nstore = %s\n",
	    o->abs_dir, o->listen, o->store != NULL ? o->store : "cohort.db");
	if (statedir_write(o->abs_dir, PATH_CONF, text, 0600, err) < 0)
		return -1;
	snprintf(text, sizeof(text),
	    "# admin client profile: cohortctl -c %s/%s ...\n%s"
	    "master = https://%s%s%s:%d\nca = %s\ncert = admin/cert.pem\n"
	    "key = admin/key.pem\n",
	    o->abs_dir, PATH_ADMIN_PROFILE,
	    o->port == 0 ? "# (port 0: the port is read from the file 'port' "
			   "beside this)\n"
			 : "",
	    strchr(url_host, ':') ? "[" : "", url_host,
	    strchr(url_host, ':') ? "]" : "", o->port, PATH_TLS_CA);
	return statedir_write(o->abs_dir, PATH_ADMIN_PROFILE, text, 0600, err);
}

/* The admin certificate made here is the first one "cert list" shows. */
static int
record_admin(const struct init_opts *o, struct store *s, struct cerr *err)
{
	char path[PATH_MAX];
	struct pki_identity id;
	struct store_cert c;
	X509 *cert = NULL;
	int rc = -1;

	if (statedir_path(
		o->abs_dir, "admin/cert.pem", path, sizeof(path), err) < 0 ||
	    pki_cert_read(path, &cert, err) < 0 ||
	    pki_cert_identity(cert, &id, err) < 0)
		goto out;
	memset(&c, 0, sizeof(c));
	snprintf(c.serial_hex, sizeof(c.serial_hex), "%s", id.serial_hex);
	snprintf(c.name, sizeof(c.name), "%s", id.name);
	snprintf(c.role, sizeof(c.role), "%s", id.role);
	c.issued_at = time(NULL);
	c.not_after = id.not_after;
	rc = store_cert_add(s, &c, err);
out:
	X509_free(cert);
	return rc;
}

/* The store, with the admin certificate recorded and the default
 * operator: "default", of kind log (notifications go to the master's log
 * until an administrator makes another operator the default). */
static int
make_store(const struct init_opts *o, struct cerr *err)
{
	struct store_operator op = {.name = "default",
	    .kind = OPERATOR_LOG,
	    .address = "",
	    .is_default = 1,
	    .created_at = time(NULL)};
	char path[PATH_MAX];
	struct store *s = NULL;
	int rc;

	if (o->store != NULL)
		snprintf(path, sizeof(path), "%s", o->store);
	else if (statedir_path(
		     o->abs_dir, "cohort.db", path, sizeof(path), err) < 0)
		return -1;
	if (store_open(path, &s, err) < 0)
		return -1;
	rc = record_admin(o, s, err);
	if (rc == 0)
		rc = store_operator_add(s, &op, err);
	store_close(s);
	return rc;
}

/* A second master joins the first one's certificates and store: names
 * and store are the first master's, so --san and --store do not go with
 * --join. */
static int
check_join(const struct init_opts *o, struct cerr *err)
{
	if (o->nsans > 0)
		return cerr_set(err, CERR_INVALID,
		    "--san: with --join the "
		    "server certificate is the first master's; give every "
		    "name of every master with --san when initialising the "
		    "first one");
	if (o->store != NULL)
		return cerr_set(err, CERR_INVALID,
		    "--store: with --join the "
		    "store is the first master's");
	return 0;
}

int
cmd_master_init(struct ctl *ctl, int argc, char **argv)
{
	struct init_opts o;
	struct ctl_opt opts[] = {CTL_VALUE("--state-dir", &o.dir),
	    CTL_VALUE("--listen", &o.listen),
	    CTL_LIST("--san", o.sans, &o.nsans, MAX_SANS),
	    CTL_VALUE("--store", &o.store), CTL_VALUE("--join", &o.join),
	    CTL_END};
	char conf_path[PATH_MAX];
	struct cerr err;
	struct stat st;
	int npos, dir_existed;

	memset(&o, 0, sizeof(o));
	if (ctl_parse(argc, argv, opts, NULL, 0, 0, &npos, &err) < 0)
		return ctl_fail(&err);
	if (o.dir == NULL || o.listen == NULL) {
		cerr_set(&err, CERR_INVALID,
		    "master init needs --state-dir "
		    "and --listen");
		return ctl_fail(&err);
	}
	if (o.join != NULL) {
		if (check_join(&o, &err) < 0 ||
		    master_join(o.dir, o.listen, o.join, &err) < 0)
			return ctl_fail(&err);
		return 0;
	}
	if (o.store != NULL && strncmp(o.store, "postgresql://", 13) != 0 &&
	    strncmp(o.store, "postgres://", 11) != 0) {
		cerr_set(&err, CERR_INVALID,
		    "--store: not a postgresql:// URL "
		    "(without --store the store is STATE_DIR/cohort.db)");
		return ctl_fail(&err);
	}
	dir_existed = stat(o.dir, &st) == 0;
	if (parse_listen(&o, &err) < 0 || statedir_mkdir(o.dir, &err) < 0 ||
	    statedir_absolute(o.dir, o.abs_dir, sizeof(o.abs_dir), &err) < 0 ||
	    statedir_path(
		o.abs_dir, PATH_CONF, conf_path, sizeof(conf_path), &err) < 0)
		return ctl_fail(&err);
	if (stat(conf_path, &st) == 0) {
		cerr_set(&err, CERR_CONFLICT,
		    "%s exists: %s is initialised "
		    "already",
		    conf_path, o.abs_dir);
		return ctl_fail(&err);
	}
	default_sans(&o);
	if (statedir_mkdir(o.dir, &err) < 0 ||
	    statedir_path(o.abs_dir, PATH_TLS_DIR, conf_path, sizeof(conf_path),
		&err) < 0 ||
	    statedir_mkdir(conf_path, &err) < 0 ||
	    statedir_path(o.abs_dir, PATH_ADMIN_DIR, conf_path,
		sizeof(conf_path), &err) < 0 ||
	    statedir_mkdir(conf_path, &err) < 0 || make_pki(&o, &err) < 0 ||
	    make_store(&o, &err) < 0 || write_configs(&o, &err) < 0) {
		statedir_undo(o.abs_dir, written_files, dir_existed);
		return ctl_fail(&err);
	}
	printf("master initialised in %s\n  start it:  cohortd -c %s/%s\n"
	       "  use it:    cohortctl -c %s/%s target list\n",
	    o.abs_dir, o.abs_dir, PATH_CONF, o.abs_dir, PATH_ADMIN_PROFILE);
	return 0;
}

struct enlisted {
	char names[512];
	int n;
};

static int
enlisted_cb(void *arg, const struct store_target *t)
{
	struct enlisted *e = arg;
	size_t used = strlen(e->names);

	if (t->defected)
		return 0;
	if (e->n++ < 8)
		snprintf(e->names + used, sizeof(e->names) - used, "%s%s",
		    used ? ", " : "", t->name);
	return 0;
}

/* "master dismantle": a master stops being one. Refused while any target
 * is enlisted (each must defect, or be deleted, first). The state dir is
 * kept for the record, but the CA key is removed (nothing can be signed
 * any more) and cohortd.conf set aside, so cohortd no longer starts. */
int
cmd_master_dismantle(struct ctl *ctl, int argc, char **argv)
{
	static struct conf conf;
	const char *dir = NULL;
	const struct ctl_opt opts[] = {CTL_VALUE("--state-dir", &dir), CTL_END};
	char path[PATH_MAX], db[PATH_MAX + 32], to[PATH_MAX + 16];
	char report[4096];
	struct enlisted e = {"", 0};
	struct store *s = NULL;
	struct cerr err;
	int npos, rc;

	if (ctl_parse(argc, argv, opts, NULL, 0, 0, &npos, &err) < 0)
		return ctl_fail(&err);
	if (dir == NULL) {
		cerr_set(
		    &err, CERR_INVALID, "master dismantle needs --state-dir");
		return ctl_fail(&err);
	}
	if (statedir_path(dir, PATH_CONF, path, sizeof(path), &err) < 0 ||
	    conf_load(&conf, path, NULL, 0, report, sizeof(report), &err) < 0)
		return ctl_fail(&err);
	if (conf.role != ROLE_MASTER) {
		cerr_set(&err, CERR_INVALID,
		    "%s is not a master's "
		    "configuration",
		    path);
		return ctl_fail(&err);
	}
	if (strncmp(conf.store, "postgres", 8) == 0)
		snprintf(db, sizeof(db), "%s", conf.store);
	else if (conf_state_path(&conf, conf.store, db, sizeof(db), &err) < 0)
		return ctl_fail(&err);
	if (store_open(db, &s, &err) < 0)
		return ctl_fail(&err);
	rc = store_target_list(s, enlisted_cb, &e, &err);
	store_close(s);
	if (rc < 0)
		return ctl_fail(&err);
	if (e.n > 0) {
		cerr_set(&err, CERR_CONFLICT,
		    "%d target(s) are enlisted (%s%s): "
		    "each must defect or be deleted before the master is "
		    "dismantled",
		    e.n, e.names, e.n > 8 ? ", ..." : "");
		return ctl_fail(&err);
	}
	statedir_remove(
	    conf.state_dir, (const char *const[]){PATH_CA_KEY, NULL});
	snprintf(to, sizeof(to), "%s.dismantled", path);
	if (rename(path, to) != 0) {
		cerr_set(&err, CERR_IO, "rename %s: %s", path, strerror(errno));
		return ctl_fail(&err);
	}
	printf("master in %s dismantled (CA key removed, configuration kept "
	       "as %s)\n",
	    conf.state_dir, to);
	return 0;
}
