/*
 * Unit tests for pki: the CA, server and client certificates checked with
 * OpenSSL's own chain verification, certificate requests and every way the
 * CA refuses one, atomic file writes with their modes, fingerprints and
 * random tokens. One CA is made per run (group setup) and shared.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include "common/pki.h"

#define DAYS 30

struct fixture {
	EVP_PKEY *ca_key;
	X509 *ca;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct cerr err;

	if (f == NULL || pki_key_new(&f->ca_key, &err) < 0 ||
	    pki_ca_new(f->ca_key, "cohort test CA", 3650, &f->ca, &err) < 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	X509_free(f->ca);
	EVP_PKEY_free(f->ca_key);
	free(f);
	return 0;
}

/* 1 when cert chains to ca under strict RFC 5280 checks. */
static int
chain_verifies(X509 *ca, X509 *cert)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok;

	assert_non_null(store);
	assert_non_null(ctx);
	assert_int_equal(X509_STORE_add_cert(store, ca), 1);
	X509_STORE_set_flags(store, X509_V_FLAG_X509_STRICT);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, cert, NULL), 1);
	ok = X509_verify_cert(ctx);
	if (ok != 1)
		print_error("verify: %s\n",
		    X509_verify_cert_error_string(
			X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok == 1;
}

static int
is_lower_hex(const char *s, size_t len)
{
	return strlen(s) == len && strspn(s, "0123456789abcdef") == len;
}

static void
test_pki_serial_canonical(void **state)
{
	char out[PKI_SERIAL_HEX_MAX], too_long[PKI_SERIAL_HEX_MAX + 2];
	struct cerr err;

	(void)state;
	assert_int_equal(pki_serial_canonical("00E5ec0A", out, &err), 0);
	assert_string_equal(out, "e5ec0a");
	assert_int_equal(pki_serial_canonical("e5:EC:0a", out, &err), 0);
	assert_string_equal(out, "e5ec0a");
	assert_int_equal(pki_serial_canonical("000", out, &err), 0);
	assert_string_equal(out, "0");
	for (const char *bad[] = {"", ":", "0x12", "12 34", "-12", "g1", NULL},
			**b = bad;
	     *b != NULL; b++) {
		if (pki_serial_canonical(*b, out, &err) == 0)
			fail_msg("'%s' taken as a serial", *b);
		assert_int_equal(err.code, CERR_INVALID);
	}
	memset(too_long, '1', sizeof(too_long) - 1);
	too_long[sizeof(too_long) - 1] = '\0';
	assert_int_equal(pki_serial_canonical(too_long, out, &err), -1);
}

static void
test_pki_ca(void **state)
{
	struct fixture *f = *state;
	struct pki_identity id;
	struct cerr err;
	ASN1_BIT_STRING *ku;
	BASIC_CONSTRAINTS *bc;
	int crit = -1;
	long long now = (long long)time(NULL);

	assert_int_equal(X509_verify(f->ca, f->ca_key), 1);
	assert_true(chain_verifies(f->ca, f->ca));
	assert_int_equal(X509_check_ca(f->ca), 1);
	assert_int_equal(X509_get_version(f->ca), X509_VERSION_3);
	bc = X509_get_ext_d2i(f->ca, NID_basic_constraints, &crit, NULL);
	assert_non_null(bc);
	assert_true(bc->ca);
	assert_int_equal(crit, 1);
	BASIC_CONSTRAINTS_free(bc);
	ku = X509_get_ext_d2i(f->ca, NID_key_usage, &crit, NULL);
	assert_non_null(ku);
	assert_int_equal(crit, 1);
	assert_true(ASN1_BIT_STRING_get_bit(ku, 5)); /* keyCertSign */
	assert_true(ASN1_BIT_STRING_get_bit(ku, 6)); /* cRLSign */
	assert_false(ASN1_BIT_STRING_get_bit(ku, 0));
	ASN1_BIT_STRING_free(ku);
	assert_non_null(X509_get0_subject_key_id(f->ca));
	assert_int_equal(pki_cert_identity(f->ca, &id, &err), 0);
	assert_string_equal(id.name, "cohort test CA");
	assert_string_equal(id.role, "");
	assert_true(id.not_after > now + 3649LL * 86400);
	assert_true(id.not_after < now + 3651LL * 86400);
	/* not before: five minutes in the past, for clock skew */
	assert_true(X509_cmp_time(X509_get0_notBefore(f->ca), NULL) < 0);
}

static void
test_pki_server_cert(void **state)
{
	struct fixture *f = *state;
	const char *sans[] = {
	    "127.0.0.1", "::1", "master.example", "localhost", "*.web.example"};
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	struct pki_identity id;
	struct cerr err;
	long long now = (long long)time(NULL);

	assert_int_equal(pki_key_new(&key, &err), 0);
	assert_int_equal(pki_cert_issue(f->ca, f->ca_key, key, "m1", "master",
			     PKI_USAGE_SERVER, sans, 5, DAYS, &cert, &err),
	    0);
	assert_true(chain_verifies(f->ca, cert));
	assert_int_equal(
	    X509_check_host(cert, "master.example", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(cert, "localhost", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(cert, "a.web.example", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(cert, "other.example", 0, 0, NULL), 0);
	assert_int_equal(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_ip_asc(cert, "::1", 0), 1);
	assert_int_equal(X509_check_ip_asc(cert, "10.0.0.1", 0), 0);
	assert_int_equal(
	    X509_check_purpose(cert, X509_PURPOSE_SSL_SERVER, 0), 1);
	assert_int_equal(
	    X509_check_purpose(cert, X509_PURPOSE_SSL_CLIENT, 0), 1);
	assert_int_equal(X509_check_ca(cert), 0);
	assert_int_equal(pki_cert_identity(cert, &id, &err), 0);
	assert_string_equal(id.name, "m1");
	assert_string_equal(id.role, "master");
	assert_true(id.not_after > now + (DAYS - 1) * 86400LL);
	assert_true(id.not_after <= now + DAYS * 86400LL + 5);
	X509_free(cert);
	EVP_PKEY_free(key);
}

static void
test_pki_server_no_sans(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	struct cerr err;

	assert_int_equal(pki_key_new(&key, &err), 0);
	assert_int_equal(pki_cert_issue(f->ca, f->ca_key, key, "m1", "master",
			     PKI_USAGE_SERVER, NULL, 0, DAYS, &cert, &err),
	    0);
	assert_true(X509_get_ext_by_NID(cert, NID_subject_alt_name, -1) < 0);
	assert_true(chain_verifies(f->ca, cert));
	X509_free(cert);
	EVP_PKEY_free(key);
}

static void
test_pki_client_roles(void **state)
{
	static const char *const roles[] = {
	    "admin", "operator", "viewer", "target"};
	struct fixture *f = *state;
	EVP_PKEY *key = NULL;
	struct cerr err;
	char last_serial[PKI_SERIAL_HEX_MAX] = "";

	assert_int_equal(pki_key_new(&key, &err), 0);
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		struct pki_identity id;
		X509 *cert = NULL;

		assert_int_equal(
		    pki_cert_issue(f->ca, f->ca_key, key, "web-1", roles[i],
			PKI_USAGE_CLIENT, NULL, 0, DAYS, &cert, &err),
		    0);
		assert_true(chain_verifies(f->ca, cert));
		assert_int_equal(
		    X509_check_purpose(cert, X509_PURPOSE_SSL_CLIENT, 0), 1);
		assert_int_equal(
		    X509_check_purpose(cert, X509_PURPOSE_SSL_SERVER, 0), 0);
		assert_int_equal(pki_cert_identity(cert, &id, &err), 0);
		assert_string_equal(id.name, "web-1");
		assert_string_equal(id.role, roles[i]);
		/* 128 random bits: 32 hex digits, or 30 when the top byte
		 * happens to be zero (1 in 256) */
		assert_true(is_lower_hex(id.serial_hex, 32) ||
		    is_lower_hex(id.serial_hex, 30));
		assert_string_not_equal(id.serial_hex, last_serial);
		strcpy(last_serial, id.serial_hex);
		X509_free(cert);
	}
	EVP_PKEY_free(key);
}

static const struct {
	const char *name;
	const char *role;
	enum pki_usage usage;
	const char *san; /* NULL: none */
	int days;
	const char *expect;
} issue_bad_cases[] = {
    {"", "admin", PKI_USAGE_CLIENT, NULL, DAYS, "name: empty"},
    {"a\nb", "admin", PKI_USAGE_CLIENT, NULL, DAYS, "control character"},
    {"web", "", PKI_USAGE_CLIENT, NULL, DAYS, "role: empty"},
    {"web", "Admin", PKI_USAGE_CLIENT, NULL, DAYS, "role 'Admin'"},
    {"web", "administrator-xx", PKI_USAGE_CLIENT, NULL, DAYS,
	"role: longer than 15"},
    {"web", "admin", PKI_USAGE_CLIENT, NULL, 0, "out of range"},
    {"web", "admin", PKI_USAGE_CLIENT, NULL, 40000, "out of range"},
    {"web", "admin", PKI_USAGE_CLIENT, "h.example", DAYS,
	"only server certificates"},
    {"m", "master", PKI_USAGE_SERVER, "", DAYS, "san: empty"},
    {"m", "master", PKI_USAGE_SERVER, "two words", DAYS, "san 'two words'"},
    {"m", "master", PKI_USAGE_SERVER, "a,DNS:evil", DAYS, "san 'a,DNS"},
    {"m", "master", PKI_USAGE_SERVER, "tab\there", DAYS, "control character"},
    {"m", "master", PKI_USAGE_SERVER, "fe80::1%eth0", DAYS, "san 'fe80"},
    {"m", "master", PKI_USAGE_SERVER, ".lead", DAYS, "san '.lead'"},
    {"m", "master", PKI_USAGE_SERVER, "a..b", DAYS, "san 'a..b'"},
    {"m", "master", PKI_USAGE_SERVER, "300.1.1.1", DAYS, "san '300"},
    {"m", "master", PKI_USAGE_SERVER, "10.0.0", DAYS, "san '10.0.0'"},
};

static void
test_pki_issue_refusals(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *key = NULL;
	char long_name[300];
	struct cerr err;

	assert_int_equal(pki_key_new(&key, &err), 0);
	for (size_t i = 0;
	     i < sizeof(issue_bad_cases) / sizeof(issue_bad_cases[0]); i++) {
		const char *san = issue_bad_cases[i].san;
		X509 *cert = (X509 *)1;

		if (pki_cert_issue(f->ca, f->ca_key, key,
			issue_bad_cases[i].name, issue_bad_cases[i].role,
			issue_bad_cases[i].usage, &san, san != NULL ? 1 : 0,
			issue_bad_cases[i].days, &cert, &err) == 0)
			fail_msg("case %zu accepted", i);
		assert_null(cert);
		assert_int_equal(err.code, CERR_INVALID);
		if (strstr(err.msg, issue_bad_cases[i].expect) == NULL)
			fail_msg("case %zu: '%s' not in '%s'", i,
			    issue_bad_cases[i].expect, err.msg);
	}
	memset(long_name, 'n', 129);
	long_name[129] = '\0';
	assert_int_equal(
	    pki_cert_issue(f->ca, f->ca_key, key, long_name, "admin",
		PKI_USAGE_CLIENT, NULL, 0, DAYS, &(X509 *){0}, &err),
	    -1);
	assert_non_null(strstr(err.msg, "longer than 128"));
	memset(long_name, 'd', 199);
	long_name[199] = '\0';
	{
		const char *san = long_name;
		X509 *cert = NULL;

		long_name[100] = '.';
		assert_int_equal(
		    pki_cert_issue(f->ca, f->ca_key, key, "m", "master",
			PKI_USAGE_SERVER, &san, 1, DAYS, &cert, &err),
		    0);
		X509_free(cert);
		memset(long_name, 'd', 199);
		long_name[100] = '.';
		long_name[160] = '.';
		long_name[199] = '\0';
		memset(long_name + 199, 'e', 55); /* 254 bytes */
		long_name[254] = '\0';
		assert_int_equal(
		    pki_cert_issue(f->ca, f->ca_key, key, "m", "master",
			PKI_USAGE_SERVER, &san, 1, DAYS, &cert, &err),
		    -1);
		assert_non_null(strstr(err.msg, "san: longer than 253"));
	}
	/* the CA key must belong to the CA certificate */
	assert_int_equal(
	    pki_cert_issue(f->ca, key, key, "web", "admin", PKI_USAGE_CLIENT,
		NULL, 0, DAYS, &(X509 *){0}, &err),
	    -1);
	assert_non_null(strstr(err.msg, "does not match"));
	EVP_PKEY_free(key);
}

static char *
pem_of_der_req(const unsigned char *der, long len)
{
	BIO *mem = BIO_new(BIO_s_mem());
	char *data = NULL, *s;
	long n;

	assert_true(
	    PEM_write_bio(mem, "CERTIFICATE REQUEST", "", der, len) > 0);
	n = BIO_get_mem_data(mem, &data);
	s = strndup(data, (size_t)n);
	BIO_free(mem);
	return s;
}

/* A request signed by key with the subject given as field=value pairs
 * (NULL-terminated) and, when sneaky, extensions asking for SANs and a CA
 * bit. */
static char *
csr_custom(EVP_PKEY *key, const char *const *fields, int sneaky)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	unsigned char *der = NULL;
	char *pem;
	int len;

	for (size_t i = 0; fields[i] != NULL; i += 2)
		assert_int_equal(
		    X509_NAME_add_entry_by_txt(n, fields[i], MBSTRING_UTF8,
			(const unsigned char *)fields[i + 1], -1, -1, 0),
		    1);
	assert_int_equal(X509_REQ_set_subject_name(req, n), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
	if (sneaky) {
		STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
		X509V3_CTX ctx;

		X509V3_set_ctx(&ctx, NULL, NULL, req, NULL, 0);
		sk_X509_EXTENSION_push(exts,
		    X509V3_EXT_nconf_nid(NULL, &ctx, NID_subject_alt_name,
			"DNS:evil.example,IP:10.9.9.9"));
		sk_X509_EXTENSION_push(exts,
		    X509V3_EXT_nconf_nid(
			NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE"));
		assert_int_equal(X509_REQ_add_extensions(req, exts), 1);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	assert_true(X509_REQ_sign(req, key, EVP_sha256()) > 0);
	len = i2d_X509_REQ(req, &der);
	assert_true(len > 0);
	pem = pem_of_der_req(der, len);
	OPENSSL_free(der);
	X509_NAME_free(n);
	X509_REQ_free(req);
	return pem;
}

/* A CSR made for key is signed into a client certificate for it. */
static void
csr_roundtrip(struct fixture *f, EVP_PKEY *key)
{
	X509 *cert = NULL;
	char *pem = NULL;
	struct pki_identity id;
	struct cerr err;

	assert_int_equal(pki_csr_new(key, "web-1", &pem, &err), 0);
	assert_non_null(strstr(pem, "BEGIN CERTIFICATE REQUEST"));
	assert_int_equal(pki_csr_sign(f->ca, f->ca_key, pem, strlen(pem),
			     "web-1", "target", DAYS, &cert, &err),
	    0);
	assert_int_equal(pki_cert_identity(cert, &id, &err), 0);
	assert_string_equal(id.name, "web-1");
	assert_string_equal(id.role, "target");
	assert_true(chain_verifies(f->ca, cert));
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(cert), key), 1);
	assert_int_equal(X509_check_private_key(cert, key), 1);
	assert_int_equal(
	    X509_check_purpose(cert, X509_PURPOSE_SSL_CLIENT, 0), 1);
	X509_free(cert);
	free(pem);
	assert_int_equal(pki_csr_new(key, "bad\x01name", &pem, &err), -1);
	assert_null(pem);
}

static void
test_pki_csr_roundtrip(void **state)
{
	EVP_PKEY *p256 = NULL, *ed25519 = NULL;
	struct cerr err;

	assert_int_equal(pki_key_new(&p256, &err), 0);
	assert_true(EVP_PKEY_is_a(p256, "EC"));
	csr_roundtrip(*state, p256);
	assert_int_equal(pki_target_key_new(&ed25519, &err), 0);
	assert_true(EVP_PKEY_is_a(ed25519, "ED25519"));
	csr_roundtrip(*state, ed25519);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(ed25519);
}

static void
test_pki_csr_rsa_2048(void **state)
{
	static const char *const subject[] = {"CN", "rsa-host", NULL};
	struct fixture *f = *state;
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	X509 *cert = NULL;
	char *pem = csr_custom(rsa, subject, 0);
	struct cerr err;

	assert_int_equal(pki_csr_sign(f->ca, f->ca_key, pem, strlen(pem),
			     "rsa-host", "target", DAYS, &cert, &err),
	    0);
	assert_true(chain_verifies(f->ca, cert));
	X509_free(cert);
	free(pem);
	EVP_PKEY_free(rsa);
}

/* An OU, an O, SANs and a CA bit asked for in the request are ignored. */
static void
test_pki_csr_sneaky(void **state)
{
	static const char *const subject[] = {
	    "O", "evil", "OU", "admin", "CN", "web-2", NULL};
	struct fixture *f = *state;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	char *pem;
	char org[64];
	struct pki_identity id;
	struct cerr err;

	assert_int_equal(pki_key_new(&key, &err), 0);
	pem = csr_custom(key, subject, 1);
	assert_int_equal(pki_csr_sign(f->ca, f->ca_key, pem, strlen(pem),
			     "web-2", "target", DAYS, &cert, &err),
	    0);
	assert_int_equal(pki_cert_identity(cert, &id, &err), 0);
	assert_string_equal(id.role, "target");
	assert_true(X509_get_ext_by_NID(cert, NID_subject_alt_name, -1) < 0);
	assert_int_equal(X509_check_ca(cert), 0);
	assert_int_equal(X509_check_host(cert, "evil.example", 0, 0, NULL), 0);
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(cert)), 3);
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
			NID_organizationName, org, sizeof(org)) > 0);
	assert_string_equal(org, "cohort");
	assert_true(chain_verifies(f->ca, cert));
	X509_free(cert);
	free(pem);
	EVP_PKEY_free(key);
}

enum csr_kind {
	CSR_WRONG_CN,
	CSR_NO_CN,
	CSR_TWO_CN,
	CSR_GARBAGE,
	CSR_TRUNCATED,
	CSR_EMPTY,
	CSR_OVERLONG,
	CSR_BAD_SIG,
	CSR_RSA_1024,
	CSR_P384
};

static const struct {
	enum csr_kind kind;
	const char *expect;
} csr_bad_cases[] = {
    {CSR_WRONG_CN, "CN is not 'web-1'"},
    {CSR_NO_CN, "CN is not 'web-1'"},
    {CSR_TWO_CN, "CN is not 'web-1'"},
    {CSR_GARBAGE, "not a PEM certificate request"},
    {CSR_TRUNCATED, "not a PEM certificate request"},
    {CSR_EMPTY, "certificate request: empty"},
    {CSR_OVERLONG, "longer than 16384 bytes"},
    {CSR_BAD_SIG, "signature does not verify"},
    {CSR_RSA_1024, "key is not EC P-256, Ed25519 or RSA of at least 2048 bits"},
    {CSR_P384, "key is not EC P-256, Ed25519"},
};

/* The request text for a refusal case; caller frees. */
static char *
csr_bad_make(enum csr_kind kind, EVP_PKEY *key)
{
	static const char *const other[] = {"CN", "web-2", NULL};
	static const char *const none[] = {"O", "cohort", NULL};
	static const char *const two[] = {"CN", "web-1", "CN", "web-1", NULL};
	static const char *const right[] = {"CN", "web-1", NULL};
	EVP_PKEY *k = NULL;
	char *pem = NULL;
	X509_REQ *req;
	BIO *bio;
	unsigned char *der = NULL;
	int len;

	switch (kind) {
	case CSR_WRONG_CN:
		return csr_custom(key, other, 0);
	case CSR_NO_CN:
		return csr_custom(key, none, 0);
	case CSR_TWO_CN:
		return csr_custom(key, two, 0);
	case CSR_GARBAGE:
		return strdup("-----BEGIN CERTIFICATE REQUEST-----\nnot base64"
			      "!!\n-----END CERTIFICATE REQUEST-----\n");
	case CSR_TRUNCATED:
		pem = csr_custom(key, right, 0);
		pem[strlen(pem) / 2] = '\0';
		return pem;
	case CSR_EMPTY:
		return strdup("");
	case CSR_OVERLONG:
		pem = calloc(1, 16386);
		memset(pem, ' ', 16385);
		return pem;
	case CSR_BAD_SIG:
		pem = csr_custom(key, right, 0);
		bio = BIO_new_mem_buf(pem, -1);
		req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
		len = i2d_X509_REQ(req, &der);
		der[len - 1] ^= 0x01; /* the last byte of the signature */
		free(pem);
		pem = pem_of_der_req(der, len);
		OPENSSL_free(der);
		X509_REQ_free(req);
		BIO_free(bio);
		return pem;
	case CSR_RSA_1024:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
		break;
	case CSR_P384:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	}
	assert_non_null(k);
	pem = csr_custom(k, right, 0);
	EVP_PKEY_free(k);
	return pem;
}

static void
test_pki_csr_refusals(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *key = NULL;
	struct cerr err;

	assert_int_equal(pki_key_new(&key, &err), 0);
	for (size_t i = 0; i < sizeof(csr_bad_cases) / sizeof(csr_bad_cases[0]);
	     i++) {
		char *pem = csr_bad_make(csr_bad_cases[i].kind, key);
		size_t len =
		    csr_bad_cases[i].kind == CSR_OVERLONG ? 16385 : strlen(pem);
		X509 *cert = (X509 *)1;

		if (pki_csr_sign(f->ca, f->ca_key, pem, len, "web-1", "target",
			DAYS, &cert, &err) == 0)
			fail_msg("case %zu accepted", i);
		assert_null(cert);
		assert_int_equal(err.code, CERR_INVALID);
		if (strncmp(err.msg, "certificate request: ", 21) != 0 ||
		    strstr(err.msg, csr_bad_cases[i].expect) == NULL)
			fail_msg("case %zu: '%s' not in '%s'", i,
			    csr_bad_cases[i].expect, err.msg);
		free(pem);
	}
	EVP_PKEY_free(key);
}

static int
dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
test_pki_files(void **state)
{
	struct fixture *f = *state;
	char dir[] = "/tmp/cohort-pki-XXXXXX";
	char key_path[64], cert_path[64], bad_path[80];
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	struct stat st;
	struct cerr err;

	assert_non_null(mkdtemp(dir));
	snprintf(key_path, sizeof(key_path), "%s/key.pem", dir);
	snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", dir);
	snprintf(bad_path, sizeof(bad_path), "%s/missing/key.pem", dir);
	for (int round = 0; round < 2; round++) { /* the second replaces */
		assert_int_equal(pki_key_write(key_path, f->ca_key, &err), 0);
		assert_int_equal(pki_cert_write(cert_path, f->ca, &err), 0);
	}
	assert_int_equal(stat(key_path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(cert_path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(dir_entries(dir), 2); /* no temporary files left */
	assert_int_equal(pki_key_read(key_path, &key, &err), 0);
	assert_int_equal(EVP_PKEY_eq(key, f->ca_key), 1);
	assert_int_equal(pki_cert_read(cert_path, &cert, &err), 0);
	assert_int_equal(X509_cmp(cert, f->ca), 0);
	X509_free(cert);
	EVP_PKEY_free(key);

	/* refusals: missing file, wrong content, unwritable place */
	assert_int_equal(pki_key_read(bad_path, &key, &err), -1);
	assert_int_equal(err.code, CERR_IO);
	assert_null(key);
	assert_int_equal(pki_key_read(cert_path, &key, &err), -1);
	assert_int_equal(err.code, CERR_TLS);
	assert_int_equal(pki_cert_read(key_path, &cert, &err), -1);
	assert_null(cert);
	assert_int_equal(pki_cert_read(dir, &cert, &err), -1);
	assert_int_equal(err.code, CERR_IO);
	assert_int_equal(pki_key_write(bad_path, f->ca_key, &err), -1);
	assert_int_equal(err.code, CERR_IO);
	assert_non_null(strstr(err.msg, "missing/key.pem"));
	assert_int_equal(dir_entries(dir), 2);

	unlink(key_path);
	unlink(cert_path);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_pki_pem_and_fingerprint(void **state)
{
	struct fixture *f = *state;
	char fp1[PKI_FINGERPRINT_HEX], fp2[PKI_FINGERPRINT_HEX];
	char fp3[PKI_FINGERPRINT_HEX];
	EVP_PKEY *key = NULL;
	X509 *copy = NULL, *leaf = NULL;
	char *pem = NULL;
	struct cerr err;

	assert_int_equal(pki_cert_to_pem(f->ca, &pem, &err), 0);
	assert_int_equal(pki_cert_from_pem(pem, strlen(pem), &copy, &err), 0);
	assert_int_equal(X509_cmp(copy, f->ca), 0);
	assert_int_equal(pki_cert_fingerprint(f->ca, fp1, &err), 0);
	assert_int_equal(pki_cert_fingerprint(copy, fp2, &err), 0);
	assert_true(is_lower_hex(fp1, 64));
	assert_string_equal(fp1, fp2);
	assert_int_equal(pki_key_new(&key, &err), 0);
	assert_int_equal(pki_cert_issue(f->ca, f->ca_key, key, "x", "viewer",
			     PKI_USAGE_CLIENT, NULL, 0, DAYS, &leaf, &err),
	    0);
	assert_int_equal(pki_cert_fingerprint(leaf, fp3, &err), 0);
	assert_string_not_equal(fp1, fp3);
	X509_free(leaf);
	leaf = NULL;

	assert_int_equal(
	    pki_cert_from_pem(pem, strlen(pem) / 2, &leaf, &err), -1);
	assert_int_equal(err.code, CERR_INVALID);
	assert_null(leaf);
	assert_int_equal(pki_cert_from_pem("junk", 4, &leaf, &err), -1);
	assert_int_equal(pki_cert_from_pem(pem, 0, &leaf, &err), -1);
	free(pem);
	X509_free(copy);
	EVP_PKEY_free(key);
}

/* A person's certificate for a browser: PKCS#12 that OpenSSL reads back
 * with the empty password as the same key, certificate and CA. */
static void
test_pki_p12(void **state)
{
	struct fixture *f = *state;
	char dir[] = "/tmp/cohort-p12-XXXXXX";
	char path[64], bad_path[80];
	EVP_PKEY *key = NULL, *got_key = NULL;
	X509 *leaf = NULL, *got_cert = NULL;
	STACK_OF(X509) *got_ca = NULL;
	char *leaf_pem = NULL, *ca_pem = NULL;
	PKCS12 *p12 = NULL;
	struct stat st;
	struct cerr err;
	FILE *fp;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/browser.p12", dir);
	snprintf(bad_path, sizeof(bad_path), "%s/missing/browser.p12", dir);
	assert_int_equal(pki_key_new(&key, &err), 0);
	assert_int_equal(
	    pki_cert_issue(f->ca, f->ca_key, key, "alice", "viewer",
		PKI_USAGE_CLIENT, NULL, 0, DAYS, &leaf, &err),
	    0);
	assert_int_equal(pki_cert_to_pem(leaf, &leaf_pem, &err), 0);
	assert_int_equal(pki_cert_to_pem(f->ca, &ca_pem, &err), 0);
	assert_int_equal(
	    pki_p12_write(path, key, leaf_pem, ca_pem, "cohort alice", &err),
	    0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(dir_entries(dir), 1);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	p12 = d2i_PKCS12_fp(fp, NULL);
	fclose(fp);
	assert_non_null(p12);
	assert_int_equal(
	    PKCS12_parse(p12, "", &got_key, &got_cert, &got_ca), 1);
	assert_int_equal(EVP_PKEY_eq(got_key, key), 1);
	assert_int_equal(X509_cmp(got_cert, leaf), 0);
	assert_int_equal(sk_X509_num(got_ca), 1);
	assert_int_equal(X509_cmp(sk_X509_value(got_ca, 0), f->ca), 0);

	/* refusals: a certificate that is not PEM, an unwritable place;
	 * neither leaves a file */
	assert_int_equal(
	    pki_p12_write(bad_path, key, leaf_pem, ca_pem, "x", &err), -1);
	assert_int_equal(err.code, CERR_IO);
	assert_int_equal(
	    pki_p12_write(path, key, "junk", ca_pem, "x", &err), -1);
	assert_int_equal(err.code, CERR_INVALID);
	assert_int_equal(dir_entries(dir), 1);

	PKCS12_free(p12);
	EVP_PKEY_free(got_key);
	X509_free(got_cert);
	sk_X509_pop_free(got_ca, X509_free);
	free(leaf_pem);
	free(ca_pem);
	X509_free(leaf);
	EVP_PKEY_free(key);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_pki_random_and_sha256(void **state)
{
	static const size_t sizes[] = {0, 1, 16, 32, 64, 65, 200};
	char a[401], b[401], h[PKI_FINGERPRINT_HEX];
	struct cerr err;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(pki_random_hex(a, sizes[i], &err), 0);
		assert_int_equal(pki_random_hex(b, sizes[i], &err), 0);
		assert_true(is_lower_hex(a, 2 * sizes[i]));
		if (sizes[i] >= 16)
			assert_string_not_equal(a, b);
	}
	pki_sha256_hex("abc", 3, h);
	assert_string_equal(h,
	    "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	pki_sha256_hex("", 0, h);
	assert_string_equal(h,
	    "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pki_serial_canonical),
	    cmocka_unit_test(test_pki_ca),
	    cmocka_unit_test(test_pki_server_cert),
	    cmocka_unit_test(test_pki_server_no_sans),
	    cmocka_unit_test(test_pki_client_roles),
	    cmocka_unit_test(test_pki_issue_refusals),
	    cmocka_unit_test(test_pki_csr_roundtrip),
	    cmocka_unit_test(test_pki_csr_rsa_2048),
	    cmocka_unit_test(test_pki_csr_sneaky),
	    cmocka_unit_test(test_pki_csr_refusals),
	    cmocka_unit_test(test_pki_files),
	    cmocka_unit_test(test_pki_pem_and_fingerprint),
	    cmocka_unit_test(test_pki_p12),
	    cmocka_unit_test(test_pki_random_and_sha256),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
