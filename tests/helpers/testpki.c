/*
 * testpki: certificates the system tests need and cohort never makes: a
 * foreign CA, and certificates whose validity lies in the past (expired)
 * or that come from another CA but carry a real target's name. Built from
 * the same pki.c the daemons use, so the certificates differ from real
 * ones only where a test wants them to.
 *
 *   testpki ca CERT KEY CN
 *   testpki issue CA_CERT CA_KEY NAME ROLE CERT KEY [FROM_S UNTIL_S]
 *   testpki server CA_CERT CA_KEY SAN CERT KEY
 *
 * FROM_S and UNTIL_S are offsets from now in seconds (negative: in the
 * past) for notBefore and notAfter; the certificate is signed again after
 * they are set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "common/pki.h"

static int
fail(const struct cerr *err)
{
	fprintf(stderr, "testpki: %s\n", err->msg);
	return 1;
}

static int
make_ca(char **argv)
{
	EVP_PKEY *key = NULL;
	X509 *ca = NULL;
	struct cerr err;
	int rc = 1;

	if (pki_key_new(&key, &err) < 0 ||
	    pki_ca_new(key, argv[4], 30, &ca, &err) < 0 ||
	    pki_cert_write(argv[2], ca, &err) < 0 ||
	    pki_key_write(argv[3], key, &err) < 0)
		rc = fail(&err);
	else
		rc = 0;
	EVP_PKEY_free(key);
	X509_free(ca);
	return rc;
}

static int
issue(int argc, char **argv)
{
	EVP_PKEY *ca_key = NULL, *key = NULL;
	X509 *ca = NULL, *cert = NULL;
	struct cerr err;
	int rc = 1;

	if (pki_cert_read(argv[2], &ca, &err) < 0 ||
	    pki_key_read(argv[3], &ca_key, &err) < 0 ||
	    pki_key_new(&key, &err) < 0 ||
	    pki_cert_issue(ca, ca_key, key, argv[4], argv[5], PKI_USAGE_CLIENT,
		NULL, 0, 30, &cert, &err) < 0) {
		rc = fail(&err);
		goto out;
	}
	if (argc == 10 &&
	    (X509_gmtime_adj(X509_getm_notBefore(cert), atol(argv[8])) ==
		    NULL ||
		X509_gmtime_adj(X509_getm_notAfter(cert), atol(argv[9])) ==
		    NULL ||
		X509_sign(cert, ca_key, EVP_sha256()) == 0)) {
		fprintf(stderr, "testpki: cannot set the validity\n");
		goto out;
	}
	if (pki_cert_write(argv[6], cert, &err) < 0 ||
	    pki_key_write(argv[7], key, &err) < 0) {
		rc = fail(&err);
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
	X509_free(ca);
	X509_free(cert);
	return rc;
}

/* A master's server certificate naming only san. */
static int
server(char **argv)
{
	const char *sans[1] = {argv[4]};
	EVP_PKEY *ca_key = NULL, *key = NULL;
	X509 *ca = NULL, *cert = NULL;
	struct cerr err;
	int rc = 0;

	if (pki_cert_read(argv[2], &ca, &err) < 0 ||
	    pki_key_read(argv[3], &ca_key, &err) < 0 ||
	    pki_key_new(&key, &err) < 0 ||
	    pki_cert_issue(ca, ca_key, key, "master", "master",
		PKI_USAGE_SERVER, sans, 1, 30, &cert, &err) < 0 ||
	    pki_cert_write(argv[5], cert, &err) < 0 ||
	    pki_key_write(argv[6], key, &err) < 0)
		rc = fail(&err);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
	X509_free(ca);
	X509_free(cert);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc == 7 && strcmp(argv[1], "server") == 0)
		return server(argv);
	if (argc == 5 && strcmp(argv[1], "ca") == 0)
		return make_ca(argv);
	if ((argc == 8 || argc == 10) && strcmp(argv[1], "issue") == 0)
		return issue(argc, argv);
	fprintf(stderr,
	    "usage: testpki ca CERT KEY CN\n"
	    "       testpki issue CA_CERT CA_KEY NAME ROLE CERT KEY "
	    "[FROM_S UNTIL_S]\n"
	    "       testpki server CA_CERT CA_KEY SAN CERT KEY\n");
	return 2;
}
