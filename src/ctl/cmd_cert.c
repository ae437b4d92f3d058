/*
 * cmd_cert: certificates for people (cert issue), their listing and
 * revocation, and the audit log.
 *
 * cert issue makes the key here, on the admin's machine, and sends only
 * a certificate request: the key never travels. The new key, certificate
 * and CA go into a folder (mode 0700) with a profile beside them, ready
 * for "cohortctl -c DIR/profile.conf"; an existing key there is never
 * overwritten.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/jobdoc.h"
#include "common/pki.h"
#include "ctl/ctl.h"
#include "ctl/output.h"
#include "ctl/statedir.h"

#define CERT_PROFILE "profile.conf"

#define CERT_P12 "browser.p12"

static const char *const issued_files[] = {
    "key.pem", "cert.pem", "ca.crt", CERT_PROFILE, CERT_P12, NULL};

struct issue_opts {
	const char *role;
	const char *out;
	int p12; /* also write browser.p12, for the dashboard */
	const char *name;
	char dir[PATH_MAX];
	int made_dir; /* the folder is this call's: removed if it fails */
};

static int
issue_check(struct issue_opts *o, struct cerr *err)
{
	char key[PATH_MAX];
	struct stat st;

	if (o->role == NULL)
		return cerr_set(err, CERR_INVALID,
		    "cert issue needs --role "
		    "admin|operator|viewer");
	if (strcmp(o->role, "admin") != 0 && strcmp(o->role, "operator") != 0 &&
	    strcmp(o->role, "viewer") != 0)
		return cerr_set(err, CERR_INVALID,
		    "--role: '%s' is not admin, "
		    "operator or viewer",
		    o->role);
	if (jobdoc_check_name(o->name, JOB_NAME_MAX, "NAME", err) < 0)
		return -1;
	o->made_dir = stat(o->out ? o->out : o->name, &st) < 0;
	if (statedir_mkdir(o->out ? o->out : o->name, err) < 0 ||
	    statedir_absolute(
		o->out ? o->out : o->name, o->dir, sizeof(o->dir), err) < 0 ||
	    statedir_path(o->dir, "key.pem", key, sizeof(key), err) < 0)
		return -1;
	if (stat(key, &st) == 0)
		return cerr_set(err, CERR_CONFLICT,
		    "%s exists: choose another "
		    "--out folder (a key is never overwritten)",
		    key);
	return 0;
}

static int
issue_write(const struct issue_opts *o, const struct client *c, EVP_PKEY *key,
    const json_t *out, struct cerr *err)
{
	const char *cert = json_string_value(json_object_get(out, "cert"));
	const char *ca = json_string_value(json_object_get(out, "ca"));
	char path[PATH_MAX], text[CONF_STR_MAX + 256];

	if (cert == NULL || ca == NULL)
		return cerr_set(err, CERR_INTERNAL,
		    "the master sent no "
		    "certificate");
	snprintf(text, sizeof(text),
	    "# %s (%s), made by cohortctl cert "
	    "issue\nmaster = %s\nca = ca.crt\ncert = cert.pem\nkey = key.pem\n",
	    o->name, o->role, c->url);
	if (statedir_path(o->dir, "key.pem", path, sizeof(path), err) < 0 ||
	    pki_key_write(path, key, err) < 0 ||
	    statedir_write(o->dir, "cert.pem", cert, 0644, err) < 0 ||
	    statedir_write(o->dir, "ca.crt", ca, 0644, err) < 0 ||
	    statedir_write(o->dir, CERT_PROFILE, text, 0600, err) < 0)
		return -1;
	if (!o->p12)
		return 0;
	snprintf(text, sizeof(text), "cohort %s (%s)", o->name, o->role);
	if (statedir_path(o->dir, CERT_P12, path, sizeof(path), err) < 0 ||
	    pki_p12_write(path, key, cert, ca, text, err) < 0)
		return -1;
	return 0;
}

int
cmd_cert_issue(struct ctl *ctl, int argc, char **argv)
{
	struct issue_opts o;
	const char *pos[1];
	const struct ctl_opt opts[] = {CTL_VALUE("--role", &o.role),
	    CTL_VALUE("--out", &o.out), CTL_FLAG("--p12", &o.p12), CTL_END};
	json_t *body = NULL, *out = NULL;
	char serial[100], until[64];
	EVP_PKEY *key = NULL;
	struct client *c;
	char *csr = NULL;
	struct cerr err;
	int npos, rc = 1;

	memset(&o, 0, sizeof(o));
	if (ctl_parse(argc, argv, opts, pos, 1, 1, &npos, &err) < 0)
		return ctl_fail(&err);
	o.name = pos[0];
	if (issue_check(&o, &err) < 0 || ctl_client(ctl, &c, &err) < 0 ||
	    pki_key_new(&key, &err) < 0 ||
	    pki_csr_new(key, o.name, &csr, &err) < 0)
		goto fail;
	body = json_pack(
	    "{s:s,s:s,s:s}", "name", o.name, "role", o.role, "csr", csr);
	if (body == NULL ||
	    client_call(c, "POST", "/v1/certs", body, &out, &err) < 0)
		goto fail;
	if (issue_write(&o, c, key, out, &err) < 0) {
		statedir_remove(o.dir, issued_files);
		goto fail;
	}
	printf("issued %s (%s), serial %s, valid until %s\n  use it: "
	       "cohortctl -c %s/%s whoami\n",
	    o.name, o.role, output_field(out, "serial", serial, sizeof(serial)),
	    output_field(out, "not_after", until, sizeof(until)), o.dir,
	    CERT_PROFILE);
	if (o.p12)
		printf("  in a browser (the dashboard, %.*s/ui/): import "
		       "%s/%s, no password\n",
		    (int)strcspn(c->url, " ,"), c->url, o.dir, CERT_P12);
	rc = 0;
	goto out;
fail:
	/* A refused issue leaves no empty folder behind (one it made). */
	if (o.made_dir && o.dir[0] != '\0')
		rmdir(o.dir);
	rc = ctl_fail(&err);
out:
	EVP_PKEY_free(key);
	free(csr);
	json_decref(body);
	json_decref(out);
	return rc;
}

int
cmd_cert_revoke(struct ctl *ctl, int argc, char **argv)
{
	const char *name = NULL, *pos[1] = {NULL};
	const struct ctl_opt opts[] = {CTL_VALUE("--name", &name), CTL_END};
	json_t *body = NULL, *out = NULL, *v;
	struct client *c;
	struct cerr err;
	size_t i;
	int npos, rc;

	if (ctl_parse(argc, argv, opts, pos, 0, 1, &npos, &err) < 0)
		return ctl_fail(&err);
	if ((npos == 1) == (name != NULL)) {
		cerr_set(&err, CERR_INVALID,
		    "cert revoke needs a SERIAL or "
		    "--name NAME");
		return ctl_fail(&err);
	}
	if (ctl_client(ctl, &c, &err) < 0)
		return ctl_fail(&err);
	body = name ? json_pack("{s:s}", "name", name)
		    : json_pack("{s:s}", "serial", pos[0]);
	rc = client_call(c, "POST", "/v1/certs/revoke", body, &out, &err);
	json_decref(body);
	if (rc < 0)
		return ctl_fail(&err);
	json_array_foreach(json_object_get(out, "revoked"), i, v)
	    printf("revoked %s\n", json_string_value(v));
	/* Still exit 0: the revocation is recorded and in force, and is
	 * what an external CA's certificate needs; the warning is for the
	 * mistyped serial, which looks the same to the master. */
	if (json_is_false(json_object_get(out, "recorded")))
		fprintf(stderr,
		    "cohortctl: warning: this master issued no certificate "
		    "with serial %s (cert list shows those it did); it is "
		    "revoked all the same, as a certificate of an external CA "
		    "would be\n",
		    json_string_value(
			json_array_get(json_object_get(out, "revoked"), 0)));
	if (json_is_true(json_object_get(out, "more")))
		printf("(more remain: run the same command again)\n");
	json_decref(out);
	return 0;
}

int
cmd_cert_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct output_col cols[] = {
	    {"NAME", "name", 0},
	    {"ROLE", "role", 0},
	    {"SERIAL", "serial", 0},
	    {"ISSUED", "issued_at", 0},
	    {"NOT AFTER", "not_after", 0},
	    {"REVOKED", "revoked", 0},
	};
	int json = 0, npos;
	const struct ctl_opt opts[] = {CTL_FLAG("--json", &json), CTL_END};
	struct cerr err;

	if (ctl_parse(argc, argv, opts, NULL, 0, 0, &npos, &err) < 0)
		return ctl_fail(&err);
	return ctl_get_and_print(
	    ctl, "/v1/certs", json, cols, sizeof(cols) / sizeof(cols[0]));
}

int
cmd_audit(struct ctl *ctl, int argc, char **argv)
{
	static const struct output_col cols[] = {
	    {"AT", "at", 0},
	    {"WHO", "who", 0},
	    {"ROLE", "role", 0},
	    {"METHOD", "method", 0},
	    {"PATH", "path", 50},
	    {"OBJECT", "object", 30},
	    {"STATUS", "status", 0},
	    {"CODE", "code", 0},
	};
	const char *since = NULL, *limit = NULL;
	int json = 0, npos;
	const struct ctl_opt opts[] = {CTL_FLAG("--json", &json),
	    CTL_VALUE("--since", &since), CTL_VALUE("--limit", &limit),
	    CTL_END};
	char path[512], esc[256];
	long long n = 0;
	struct cerr err;

	if (ctl_parse(argc, argv, opts, NULL, 0, 0, &npos, &err) < 0 ||
	    (limit != NULL &&
		ctl_int(limit, "--limit", 1, 100000, &n, &err) < 0))
		return ctl_fail(&err);
	snprintf(path, sizeof(path), "/v1/audit?limit=%lld", n ? n : 100);
	if (since != NULL) {
		client_escape(since, esc, sizeof(esc));
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
		    "&since=%s", esc);
	}
	return ctl_get_and_print(
	    ctl, path, json, cols, sizeof(cols) / sizeof(cols[0]));
}
