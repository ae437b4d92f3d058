/*
 * master_join: "cohortctl master init --join FIRST --state-dir D --listen
 * HOST:PORT" makes the second (third, ...) master of an active/standby
 * pair (docs/ha.md). Every master of a pair must present the same server
 * certificate (targets trust one CA and check one set of names), sign
 * with the same CA (either may enlist a target), and share the one
 * PostgreSQL store; so D gets copies of FIRST's CA, CA key, server and
 * admin certificates and keys, and a cohortd.conf naming FIRST's store.
 * A SQLite store cannot be shared and is refused. The admin profile lists
 * this master first and then FIRST's, so cohortctl finds whichever is
 * active. Copy D to the second machine as it is (mode 0700: it holds the
 * CA key).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/conf.h"
#include "common/ini.h"
#include "common/paths.h"
#include "ctl/ctl.h"
#include "ctl/statedir.h"
#include "store/store.h"

#define PEM_MAX (64 * 1024)

static const struct {
	const char *rel;
	int mode;
} copied[] = {
    {PATH_TLS_CA, 0644},
    {PATH_CA_KEY, 0600},
    {PATH_TLS_CERT, 0644},
    {PATH_TLS_KEY, 0600},
    {"admin/cert.pem", 0644},
    {"admin/key.pem", 0600},
};

static const char *const written[] = {PATH_CONF, PATH_TLS_CA, PATH_CA_KEY,
    PATH_TLS_CERT, PATH_TLS_KEY, "admin/cert.pem", "admin/key.pem",
    PATH_ADMIN_PROFILE, NULL};

/* Copies FIRST/rel to dir/rel with mode; the copy in memory is wiped (it
 * may be a key). */
static int
copy_file(const char *first, const char *dir, const char *rel, int mode,
    struct cerr *err)
{
	char path[PATH_MAX], text[PEM_MAX + 1];
	size_t len;
	FILE *f;
	int rc = -1;

	if (statedir_path(first, rel, path, sizeof(path), err) < 0)
		return -1;
	f = fopen(path, "r");
	if (f == NULL)
		return cerr_set(err, CERR_IO, "%s: %s", path, strerror(errno));
	len = fread(text, 1, PEM_MAX + 1, f);
	if (ferror(f) || len > PEM_MAX || memchr(text, '\0', len) != NULL)
		cerr_set(
		    err, CERR_IO, "%s: unreadable or not a PEM file", path);
	else {
		text[len] = '\0';
		rc = statedir_write(dir, rel, text, mode, err);
	}
	fclose(f);
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}

static int
profile_master_cb(
    void *arg, const char *key, const char *value, struct cerr *err)
{
	if (strcmp(key, "master") == 0)
		snprintf(arg, CONF_STR_MAX, "%s", value);
	return 0;
}

/* FIRST's configuration: a master with a PostgreSQL store. */
static int
load_first(const char *first, struct conf *conf, struct cerr *err)
{
	char path[PATH_MAX], report[4096];

	if (statedir_path(first, PATH_CONF, path, sizeof(path), err) < 0 ||
	    conf_load(conf, path, NULL, 0, report, sizeof(report), err) < 0)
		return -1;
	if (conf->role != ROLE_MASTER)
		return cerr_set(err, CERR_INVALID,
		    "--join: %s is not a "
		    "master's configuration",
		    path);
	if (strncmp(conf->store, "postgres", 8) != 0)
		return cerr_set(err, CERR_INVALID,
		    "--join: %s has the SQLite "
		    "store (%s), which masters cannot share; a pair needs the "
		    "PostgreSQL store (master init --store postgresql://...)",
		    first, conf->store);
	return 0;
}

/* The host of the first URL in a profile's "master = URL ...": with
 * its brackets, if any, and without its port. */
static void
first_url_host(const char *urls, char *host, size_t size)
{
	const char *start = strstr(urls, "://");
	size_t len;

	start = start != NULL ? start + 3 : urls;
	len = strcspn(start, " /");
	for (size_t i = len; i > 0 && start[i - 1] != ']'; i--)
		if (start[i - 1] == ':') {
			len = i - 1;
			break;
		}
	snprintf(host, size, "%.*s", (int)len, start);
}

/* Whether url is one of the space-separated urls. */
static int
lists_url(const char *urls, const char *url)
{
	size_t n = strlen(url);

	for (const char *p = strstr(urls, url); p != NULL;
	     p = strstr(p + 1, url))
		if ((p == urls || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ' '))
			return 1;
	return 0;
}

/* One subjectAltName as a URL host: a DNS name, or an address (an IPv6
 * one in brackets); 0 when it is neither. */
static int
san_host(const GENERAL_NAME *gen, char *host, size_t size)
{
	char ip[INET6_ADDRSTRLEN];
	int len;

	if (gen->type == GEN_DNS) {
		len = ASN1_STRING_length(gen->d.dNSName);
		if (len <= 0 || (size_t)len >= size)
			return 0;
		snprintf(host, size, "%.*s", len,
		    (const char *)ASN1_STRING_get0_data(gen->d.dNSName));
		return strlen(host) == (size_t)len;
	}
	if (gen->type != GEN_IPADD)
		return 0;
	len = ASN1_STRING_length(gen->d.iPAddress);
	if ((len != 4 && len != 16) ||
	    inet_ntop(len == 4 ? AF_INET : AF_INET6,
		ASN1_STRING_get0_data(gen->d.iPAddress), ip,
		sizeof(ip)) == NULL)
		return 0;
	snprintf(host, size, len == 4 ? "%s" : "[%s]", ip);
	return 1;
}

/* A host the shared certificate (DIR's copy) names that no URL in
 * others uses: how this master, listening on a wildcard address, is
 * reached. 0 when the certificate names none but those. */
static int
unlisted_san(const char *dir, const char *others, char *host, size_t size)
{
	char path[PATH_MAX], url_part[300];
	GENERAL_NAMES *gens = NULL;
	struct cerr ignored;
	X509 *cert = NULL;
	FILE *f = NULL;
	int found = 0;

	if (statedir_path(dir, PATH_TLS_CERT, path, sizeof(path), &ignored) <
		0 ||
	    (f = fopen(path, "r")) == NULL ||
	    (cert = PEM_read_X509(f, NULL, NULL, NULL)) == NULL)
		goto out;
	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		if (!san_host(sk_GENERAL_NAME_value(gens, i), host, size))
			continue;
		snprintf(url_part, sizeof(url_part), "://%s:", host);
		if (strstr(others, url_part) == NULL) {
			found = 1;
			break;
		}
	}
out:
	GENERAL_NAMES_free(gens);
	X509_free(cert);
	if (f != NULL)
		fclose(f);
	return found;
}

/* cohortd.conf with FIRST's store, and the admin profile listing this
 * master and then FIRST's master URL(s). This master is reached by its
 * listen host, or for a wildcard by a host the shared certificate names
 * that FIRST's profile does not use; failing that, by the one FIRST's
 * profile uses (a shared name). A URL FIRST's profile lists already is
 * not listed twice (*shared_out 1 when this master's was so left out). */
static int
write_configs(const char *dir, const char *listen, const char *first,
    const struct conf *conf, int *shared_out, struct cerr *err)
{
	char text[PATH_MAX + 3 * CONF_STR_MAX + 256], path[PATH_MAX];
	char others[CONF_STR_MAX] = "", host[256], report[1024];
	char url[300];
	const char *colon = strrchr(listen, ':');
	struct cerr ignored;

	snprintf(text, sizeof(text),
	    "# cohortd master, made by cohortctl master init --join %s\n"
	    "role = master\nstate_dir = %s\nlisten = %s\nstore = %s\n",
	    first, dir, listen, conf->store);
	if (statedir_write(dir, PATH_CONF, text, 0600, err) < 0)
		return -1;
	if (statedir_path(first, PATH_ADMIN_PROFILE, path, sizeof(path), err) ==
	    0)
		ini_parse_file(path, profile_master_cb, others, report,
		    sizeof(report), &ignored);
	snprintf(host, sizeof(host), "%.*s",
	    (int)(colon != NULL ? colon - listen : 0), listen);
	*shared_out = 0;
	if ((strcmp(host, "0.0.0.0") == 0 || strcmp(host, "[::]") == 0) &&
	    !unlisted_san(dir, others, host, sizeof(host))) {
		first_url_host(others[0] != '\0' ? others : "127.0.0.1", host,
		    sizeof(host));
		*shared_out = 1;
	}
	snprintf(
	    url, sizeof(url), "https://%s%s", host, colon != NULL ? colon : "");
	*shared_out = *shared_out && lists_url(others, url);
	snprintf(text, sizeof(text),
	    "# admin client profile: cohortctl -c %s/%s ...\n"
	    "# the masters of the pair, tried in turn\n"
	    "master = %s%s%s\nca = %s\ncert = admin/cert.pem\n"
	    "key = admin/key.pem\n",
	    dir, PATH_ADMIN_PROFILE, lists_url(others, url) ? "" : url,
	    lists_url(others, url) || others[0] == '\0' ? "" : " ", others,
	    PATH_TLS_CA);
	return statedir_write(dir, PATH_ADMIN_PROFILE, text, 0600, err);
}

static int
make_dirs(const char *dir, char *abs_dir, size_t size, struct cerr *err)
{
	char path[PATH_MAX];
	struct stat st;

	if (statedir_mkdir(dir, err) < 0 ||
	    statedir_absolute(dir, abs_dir, size, err) < 0 ||
	    statedir_path(abs_dir, PATH_CONF, path, sizeof(path), err) < 0)
		return -1;
	if (stat(path, &st) == 0)
		return cerr_set(err, CERR_CONFLICT,
		    "%s exists: %s is "
		    "initialised already",
		    path, abs_dir);
	if (statedir_path(abs_dir, PATH_TLS_DIR, path, sizeof(path), err) < 0 ||
	    statedir_mkdir(path, err) < 0 ||
	    statedir_path(abs_dir, PATH_ADMIN_DIR, path, sizeof(path), err) < 0)
		return -1;
	return statedir_mkdir(path, err);
}

int
master_join(
    const char *dir, const char *listen, const char *first, struct cerr *err)
{
	static struct conf conf;
	char abs_dir[PATH_MAX];
	struct store *s = NULL;
	int shared = 0;

	if (load_first(first, &conf, err) < 0 ||
	    make_dirs(dir, abs_dir, sizeof(abs_dir), err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++)
		if (copy_file(conf.state_dir, abs_dir, copied[i].rel,
			copied[i].mode, err) < 0)
			goto fail;
	/* The store must be reachable from here, and migrated. */
	if (store_open(conf.store, &s, err) < 0 ||
	    write_configs(
		abs_dir, listen, conf.state_dir, &conf, &shared, err) < 0)
		goto fail;
	store_close(s);
	printf("master initialised in %s, joining %s (same CA, certificate "
	       "and store)\n  start it:  cohortd -c %s/%s\n  targets and "
	       "profiles list both masters: master = URL1 URL2\n",
	    abs_dir, conf.state_dir, abs_dir, PATH_CONF);
	if (shared)
		fprintf(stderr,
		    "note: the certificate names no host for this master "
		    "beside the first's, so its profile has only the first's "
		    "URL (a shared name for the pair); to list each master, "
		    "--listen on its own address or give master init --san "
		    "a name for each\n");
	return 0;
fail:
	store_close(s);
	statedir_remove(abs_dir, written);
	return -1;
}
