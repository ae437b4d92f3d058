/*
 * pki: keys, certificates and certificate requests (see pki.h).
 *
 * Everything the CA signs is built here from values the caller checked:
 * a CSR contributes only its public key (after its self-signature, key type
 * and CN have been checked); its other subject fields and its requested
 * extensions are ignored, so a request cannot ask for a role, a CA bit or
 * extra names. Extensions come from fixed tables, SANs are built as
 * GENERAL_NAMEs directly (never through OpenSSL's "IP:..,DNS:.." text, which
 * a comma in a name could subvert). OpenSSL's error queue is drained into
 * the error message of every failure, so no stale error leaks into an
 * unrelated later call.
 */
#include "common/pki.h"

#include <ctype.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define PKI_NAME_MAX 128 /* CN bytes; struct pki_identity.name */
#define PKI_ROLE_MAX 15 /* OU bytes; struct pki_identity.role */
#define PKI_DAYS_MAX 36500 /* a hundred years */
#define PKI_SANS_MAX 64
#define PKI_DNS_MAX 253
#define PKI_CSR_MAX_BYTES 16384 /* an RSA-8192 request is ~3.3 KB */
#define PKI_PEM_MAX_BYTES 1048576 /* certificates and key files */
#define PKI_CLOCK_SKEW_S 300
#define PKI_SERIAL_BYTES 16
#define PKI_RSA_MIN_BITS 2048

struct ext_spec {
	int nid;
	const char *value;
};

/* pathlen:0: the cohort CA signs leaves only, never another CA. */
static const struct ext_spec ca_exts[] = {
    {NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
    {NID_key_usage, "critical,keyCertSign,cRLSign"},
    {NID_subject_key_identifier, "hash"},
    {NID_authority_key_identifier, "keyid:always"},
};

/* digitalSignature only: cohort's keys are ECDSA (keyEncipherment is not
 * an EC key usage, RFC 5480) and its TLS always uses ephemeral ECDHE. */
static const struct ext_spec leaf_exts[] = {
    {NID_basic_constraints, "critical,CA:FALSE"},
    {NID_key_usage, "critical,digitalSignature"},
    {NID_subject_key_identifier, "hash"},
    {NID_authority_key_identifier, "keyid:always"},
};

/* The reason of the newest queued OpenSSL error; empties the queue.
 * Returns a static string, so reporting never allocates. */
const char *
pki_ossl_reason(void)
{
	unsigned long e, last = 0;
	const char *r;

	while ((e = ERR_get_error()) != 0)
		last = e;
	r = last != 0 ? ERR_reason_error_string(last) : NULL;
	return r != NULL ? r : "unknown OpenSSL error";
}

static void
hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

/* A name or role: 1..max bytes, no control characters. UTF-8 beyond ASCII
 * is checked by OpenSSL when the name entry is built. */
static int
text_check(const char *what, const char *s, size_t max, struct cerr *err)
{
	size_t len;

	if (s == NULL || s[0] == '\0')
		return cerr_set(err, CERR_INVALID, "%s: empty", what);
	len = strlen(s);
	if (len > max)
		return cerr_set(
		    err, CERR_INVALID, "%s: longer than %zu bytes", what, max);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return cerr_set(err, CERR_INVALID,
			    "%s: contains a control character", what);
	return 0;
}

static int
role_check(const char *role, struct cerr *err)
{
	if (text_check("role", role, PKI_ROLE_MAX, err) < 0)
		return -1;
	if (strspn(role, "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
	    strlen(role))
		return cerr_set(err, CERR_INVALID,
		    "role '%s': only a-z, 0-9, '_' and '-' allowed", role);
	return 0;
}

static int
days_check(int days, struct cerr *err)
{
	if (days < 1 || days > PKI_DAYS_MAX)
		return cerr_set(err, CERR_INVALID,
		    "validity of %d days is out of range 1..%d", days,
		    PKI_DAYS_MAX);
	return 0;
}

/* O=cohort[, OU=role], CN=cn into a new X509_NAME (NULL on failure). */
static X509_NAME *
subject_new(const char *org, const char *role, const char *cn)
{
	const char *fields[] = {"O", "OU", "CN"};
	const char *values[] = {org, role, cn};
	X509_NAME *n = X509_NAME_new();

	for (size_t i = 0; n != NULL && i < 3; i++) {
		if (values[i] == NULL)
			continue;
		if (X509_NAME_add_entry_by_txt(n, fields[i], MBSTRING_UTF8,
			(const unsigned char *)values[i], -1, -1, 0) != 1) {
			X509_NAME_free(n);
			n = NULL;
		}
	}
	return n;
}

/* A random positive 128-bit serial (zero, which RFC 5280 forbids, is drawn
 * again; it has probability 2^-128). */
static int
serial_set(X509 *x)
{
	unsigned char b[PKI_SERIAL_BYTES];
	BIGNUM *bn = NULL;
	int rc = -1;

	do {
		BN_free(bn);
		bn = NULL;
		if (RAND_bytes(b, sizeof(b)) != 1)
			goto out;
		bn = BN_bin2bn(b, sizeof(b), NULL);
		if (bn == NULL)
			goto out;
	} while (BN_is_zero(bn));
	if (BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto out;
	rc = 0;
out:
	BN_free(bn);
	return rc;
}

/* Adds the extensions of table to x. issuer may be x itself (the CA). */
static int
exts_add(X509 *x, X509 *issuer, const struct ext_spec *table, size_t n)
{
	X509V3_CTX ctx;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	for (size_t i = 0; i < n; i++) {
		X509_EXTENSION *ext = X509V3_EXT_nconf_nid(
		    NULL, &ctx, table[i].nid, table[i].value);
		int ok;

		if (ext == NULL)
			return -1;
		ok = X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
		if (ok != 1)
			return -1;
	}
	return 0;
}

/* An unsigned version-3 certificate: serial, subject, issuer (NULL: the
 * subject itself), validity from now - skew to now + days, public key. */
static X509 *
cert_skeleton(const X509_NAME *issuer, const char *role, const char *cn,
    EVP_PKEY *pubkey, int days)
{
	X509 *x = X509_new();
	X509_NAME *subject = subject_new("cohort", role, cn);
	int ok;

	ok = x != NULL && subject != NULL &&
	    X509_set_version(x, X509_VERSION_3) == 1 && serial_set(x) == 0 &&
	    X509_set_subject_name(x, subject) == 1 &&
	    X509_set_issuer_name(x, issuer != NULL ? issuer : subject) == 1 &&
	    X509_gmtime_adj(X509_getm_notBefore(x), -PKI_CLOCK_SKEW_S) !=
		NULL &&
	    X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) != NULL &&
	    X509_set_pubkey(x, pubkey) == 1;
	X509_NAME_free(subject);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* *out = key, made by OpenSSL; the reason when it could not make one. */
static int
key_made(EVP_PKEY *key, const char *kind, EVP_PKEY **out, struct cerr *err)
{
	*out = key;
	if (key == NULL)
		return cerr_set(
		    err, CERR_TLS, "make %s key: %s", kind, pki_ossl_reason());
	return 0;
}

int
pki_key_new(EVP_PKEY **out, struct cerr *err)
{
	return key_made(
	    EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), "P-256", out, err);
}

int
pki_target_key_new(EVP_PKEY **out, struct cerr *err)
{
	return key_made(
	    EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), "Ed25519", out, err);
}

/* Ed25519 signs the message itself: no digest may be named. */
static const EVP_MD *
sign_digest(EVP_PKEY *key)
{
	return EVP_PKEY_is_a(key, "ED25519") ? NULL : EVP_sha256();
}

int
pki_ca_new(EVP_PKEY *key, const char *common_name, int days, X509 **out,
    struct cerr *err)
{
	X509 *x = NULL;
	int rc = -1;

	*out = NULL;
	if (text_check("CA name", common_name, PKI_NAME_MAX, err) < 0 ||
	    days_check(days, err) < 0)
		return -1;
	/* The CA has no OU: it is not a role anybody can act as. */
	x = cert_skeleton(NULL, NULL, common_name, key, days);
	if (x == NULL ||
	    exts_add(x, x, ca_exts, sizeof(ca_exts) / sizeof(ca_exts[0])) < 0 ||
	    X509_sign(x, key, sign_digest(key)) <= 0) {
		cerr_set(err, CERR_TLS, "make CA certificate: %s",
		    pki_ossl_reason());
		goto out;
	}
	*out = x;
	x = NULL;
	rc = 0;
out:
	X509_free(x);
	return rc;
}

/* A DNS name of letters, digits, '.', '-', '_' and '*'. All digits and
 * dots is refused: that is a mistyped IPv4 address, not a host name. */
static int
dns_check(const char *san, struct cerr *err)
{
	size_t len = strlen(san);

	if (text_check("san", san, PKI_DNS_MAX, err) < 0)
		return -1;
	if (strspn(san,
		"abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_*") != len ||
	    san[0] == '.' || san[0] == '-' || strstr(san, "..") != NULL ||
	    strspn(san, "0123456789.") == len)
		return cerr_set(err, CERR_INVALID,
		    "san '%s': not an IP address or DNS name", san);
	return 0;
}

/* Appends san to gens: an IP address when inet_pton takes it (v4 or v6),
 * else a checked DNS name. */
static int
san_push(GENERAL_NAMES *gens, const char *san, struct cerr *err)
{
	unsigned char ip[16];
	int iplen = 0;
	ASN1_STRING *value = NULL;
	GENERAL_NAME *gen = NULL;
	int rc = -1;

	if (san != NULL && inet_pton(AF_INET, san, ip) == 1)
		iplen = 4;
	else if (san != NULL && inet_pton(AF_INET6, san, ip) == 1)
		iplen = 16;
	else if (dns_check(san, err) < 0)
		return -1;
	value = iplen > 0 ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
	gen = GENERAL_NAME_new();
	if (value == NULL || gen == NULL ||
	    (iplen > 0 ? ASN1_OCTET_STRING_set(value, ip, iplen)
		       : ASN1_STRING_set(value, san, -1)) != 1) {
		cerr_set(err, CERR_TLS, "san '%s': %s", san, pki_ossl_reason());
		goto out;
	}
	GENERAL_NAME_set0_value(gen, iplen > 0 ? GEN_IPADD : GEN_DNS, value);
	value = NULL;
	if (sk_GENERAL_NAME_push(gens, gen) <= 0) {
		cerr_set(err, CERR_TLS, "san '%s': out of memory", san);
		goto out;
	}
	gen = NULL;
	rc = 0;
out:
	ASN1_STRING_free(value);
	GENERAL_NAME_free(gen);
	return rc;
}

static int
sans_add(X509 *x, const char *const *sans, size_t nsans, struct cerr *err)
{
	GENERAL_NAMES *gens = NULL;
	int rc = -1;

	if (nsans == 0)
		return 0;
	gens = sk_GENERAL_NAME_new_null();
	if (gens == NULL)
		return cerr_set(err, CERR_TLS, "san: out of memory");
	for (size_t i = 0; i < nsans; i++)
		if (san_push(gens, sans[i], err) < 0)
			goto out;
	if (X509_add1_ext_i2d(
		x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) != 1) {
		cerr_set(err, CERR_TLS, "san: %s", pki_ossl_reason());
		goto out;
	}
	rc = 0;
out:
	GENERAL_NAMES_free(gens);
	return rc;
}

static int
issue_check(X509 *ca_cert, EVP_PKEY *ca_key, EVP_PKEY *pubkey, const char *name,
    const char *role, enum pki_usage usage, size_t nsans, int days,
    struct cerr *err)
{
	if (ca_cert == NULL || ca_key == NULL || pubkey == NULL)
		return cerr_set(err, CERR_INTERNAL, "issue: missing CA or key");
	if (text_check("name", name, PKI_NAME_MAX, err) < 0 ||
	    role_check(role, err) < 0 || days_check(days, err) < 0)
		return -1;
	if (usage != PKI_USAGE_SERVER && nsans > 0)
		return cerr_set(err, CERR_INVALID,
		    "san: only server certificates carry names");
	if (nsans > PKI_SANS_MAX)
		return cerr_set(
		    err, CERR_INVALID, "san: more than %d names", PKI_SANS_MAX);
	if (X509_check_private_key(ca_cert, ca_key) != 1)
		return cerr_set(err, CERR_TLS,
		    "issue: the CA key does not match the CA certificate (%s)",
		    pki_ossl_reason());
	return 0;
}

int
pki_cert_issue(X509 *ca_cert, EVP_PKEY *ca_key, EVP_PKEY *pubkey,
    const char *name, const char *role, enum pki_usage usage,
    const char *const *sans, size_t nsans, int days, X509 **out,
    struct cerr *err)
{
	const struct ext_spec eku = {NID_ext_key_usage,
	    usage == PKI_USAGE_SERVER ? "serverAuth,clientAuth" : "clientAuth"};
	X509 *x = NULL;
	int rc = -1;

	*out = NULL;
	if (issue_check(ca_cert, ca_key, pubkey, name, role, usage, nsans, days,
		err) < 0)
		return -1;
	x = cert_skeleton(
	    X509_get_subject_name(ca_cert), role, name, pubkey, days);
	if (x == NULL ||
	    exts_add(x, ca_cert, leaf_exts,
		sizeof(leaf_exts) / sizeof(leaf_exts[0])) < 0 ||
	    exts_add(x, ca_cert, &eku, 1) < 0) {
		cerr_set(
		    err, CERR_TLS, "issue %s: %s", name, pki_ossl_reason());
		goto out;
	}
	if (sans_add(x, sans, nsans, err) < 0)
		goto out;
	if (X509_sign(x, ca_key, sign_digest(ca_key)) <= 0) {
		cerr_set(err, CERR_TLS, "issue %s: sign: %s", name,
		    pki_ossl_reason());
		goto out;
	}
	*out = x;
	x = NULL;
	rc = 0;
out:
	X509_free(x);
	return rc;
}

/* The content of a memory BIO as a new C string (caller frees). */
char *
pki_bio_to_string(BIO *mem)
{
	char *data = NULL;
	long len = BIO_get_mem_data(mem, &data);
	char *s;

	if (len < 0)
		return NULL;
	s = malloc((size_t)len + 1);
	if (s == NULL)
		return NULL;
	memcpy(s, data, (size_t)len);
	s[len] = '\0';
	return s;
}

int
pki_csr_new(EVP_PKEY *key, const char *name, char **pem_out, struct cerr *err)
{
	X509_REQ *req = NULL;
	X509_NAME *subject = NULL;
	BIO *mem = NULL;
	int rc = -1;

	*pem_out = NULL;
	if (text_check("name", name, PKI_NAME_MAX, err) < 0)
		return -1;
	req = X509_REQ_new();
	subject = subject_new(NULL, NULL, name);
	mem = BIO_new(BIO_s_mem());
	if (req == NULL || subject == NULL || mem == NULL ||
	    X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
	    X509_REQ_set_subject_name(req, subject) != 1 ||
	    X509_REQ_set_pubkey(req, key) != 1 ||
	    X509_REQ_sign(req, key, sign_digest(key)) <= 0 ||
	    PEM_write_bio_X509_REQ(mem, req) != 1) {
		cerr_set(err, CERR_TLS, "certificate request for %s: %s", name,
		    pki_ossl_reason());
		goto out;
	}
	*pem_out = pki_bio_to_string(mem);
	if (*pem_out == NULL) {
		cerr_set(
		    err, CERR_INTERNAL, "certificate request: out of memory");
		goto out;
	}
	rc = 0;
out:
	BIO_free(mem);
	X509_NAME_free(subject);
	X509_REQ_free(req);
	return rc;
}

/* The one entry of nid in n as UTF-8 into out. *count_out is how many such
 * entries n has; out is "" unless there is exactly one. -1 when that entry
 * does not fit, is not valid text, or holds a NUL or control character. */
static int
name_entry_get(
    const X509_NAME *n, int nid, char *out, size_t size, int *count_out)
{
	unsigned char *utf8 = NULL;
	int idx = -1, count = 0, first = -1, len, rc = -1;

	out[0] = '\0';
	while ((idx = X509_NAME_get_index_by_NID(n, nid, idx)) >= 0)
		if (count++ == 0)
			first = idx;
	*count_out = count;
	if (count != 1)
		return 0;
	len = ASN1_STRING_to_UTF8(
	    &utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, first)));
	if (len < 0 || (size_t)len >= size)
		goto out;
	for (int i = 0; i < len; i++)
		if (utf8[i] < 0x20 || utf8[i] == 0x7f)
			goto out;
	memcpy(out, utf8, (size_t)len);
	out[len] = '\0';
	rc = 0;
out:
	OPENSSL_free(utf8);
	ERR_clear_error();
	return rc;
}

/* EC P-256, Ed25519, or RSA of at least 2048 bits: what the CA will
 * certify. */
static int
csr_key_acceptable(EVP_PKEY *pk)
{
	char group[64];

	if (EVP_PKEY_is_a(pk, "ED25519"))
		return 1;
	if (EVP_PKEY_is_a(pk, "RSA"))
		return EVP_PKEY_get_bits(pk) >= PKI_RSA_MIN_BITS;
	if (!EVP_PKEY_is_a(pk, "EC"))
		return 0;
	if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME,
		group, sizeof(group), NULL) != 1)
		return 0;
	return OBJ_sn2nid(group) == NID_X9_62_prime256v1 ||
	    strcmp(group, "P-256") == 0;
}

/* Parses and checks a CSR; on success *req_out is the caller's. */
static int
csr_check(const char *csr_pem, size_t len, const char *expected_name,
    X509_REQ **req_out, struct cerr *err)
{
	X509_REQ *req = NULL;
	BIO *bio = NULL;
	EVP_PKEY *pk;
	char cn[PKI_NAME_MAX + 1];
	int ncn, rc = -1;

	if (csr_pem == NULL || len == 0)
		return cerr_set(
		    err, CERR_INVALID, "certificate request: empty");
	if (len > PKI_CSR_MAX_BYTES)
		return cerr_set(err, CERR_INVALID,
		    "certificate request: longer than %d bytes",
		    PKI_CSR_MAX_BYTES);
	bio = BIO_new_mem_buf(csr_pem, (int)len);
	if (bio != NULL)
		req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
	if (req == NULL) {
		cerr_set(err, CERR_INVALID,
		    "certificate request: not a PEM certificate request (%s)",
		    pki_ossl_reason());
		goto out;
	}
	pk = X509_REQ_get0_pubkey(req);
	if (pk == NULL || X509_REQ_verify(req, pk) != 1) {
		ERR_clear_error();
		cerr_set(err, CERR_INVALID,
		    "certificate request: signature does not verify");
		goto out;
	}
	if (!csr_key_acceptable(pk)) {
		ERR_clear_error();
		cerr_set(err, CERR_INVALID,
		    "certificate request: key is not EC P-256, Ed25519 or RSA of at least %d bits",
		    PKI_RSA_MIN_BITS);
		goto out;
	}
	/* The request's CN is not echoed: it is outside text. */
	if (name_entry_get(X509_REQ_get_subject_name(req), NID_commonName, cn,
		sizeof(cn), &ncn) < 0 ||
	    ncn != 1 || strcmp(cn, expected_name) != 0) {
		cerr_set(err, CERR_INVALID,
		    "certificate request: CN is not '%s'", expected_name);
		goto out;
	}
	*req_out = req;
	req = NULL;
	rc = 0;
out:
	X509_REQ_free(req);
	BIO_free(bio);
	return rc;
}

int
pki_csr_sign(X509 *ca_cert, EVP_PKEY *ca_key, const char *csr_pem, size_t len,
    const char *expected_name, const char *role, int days, X509 **out,
    struct cerr *err)
{
	X509_REQ *req = NULL;
	int rc;

	*out = NULL;
	if (text_check("name", expected_name, PKI_NAME_MAX, err) < 0)
		return -1;
	if (csr_check(csr_pem, len, expected_name, &req, err) < 0)
		return -1;
	/* Only the key travels from the request into the certificate. */
	rc = pki_cert_issue(ca_cert, ca_key, X509_REQ_get0_pubkey(req),
	    expected_name, role, PKI_USAGE_CLIENT, NULL, 0, days, out, err);
	X509_REQ_free(req);
	return rc;
}

/* A serial's one spelling, as every list and lookup keeps it: lower-case
 * hex without leading zeros. Frees bn. */
static int
bn_hex_lower(BIGNUM *bn, char *out, size_t size)
{
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	int rc = -1;

	if (hex == NULL || strlen(hex) >= size)
		goto out;
	for (size_t i = 0; hex[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)hex[i]);
	out[strlen(hex)] = '\0';
	rc = 0;
out:
	OPENSSL_free(hex);
	BN_free(bn);
	return rc;
}

static int
serial_hex(X509 *cert, char *out, size_t size)
{
	return bn_hex_lower(
	    ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL), out, size);
}

int
pki_serial_canonical(
    const char *in, char out[PKI_SERIAL_HEX_MAX], struct cerr *err)
{
	char digits[PKI_SERIAL_HEX_MAX];
	size_t n = 0;
	BIGNUM *bn = NULL;

	for (const char *c = in; *c != '\0'; c++) {
		if (*c == ':')
			continue;
		if (!isxdigit((unsigned char)*c) || n + 1 >= sizeof(digits))
			return cerr_set(err, CERR_INVALID,
			    "serial: '%.80s' is not a hexadecimal serial "
			    "number (as openssl x509 -serial prints it)",
			    in);
		digits[n++] = *c;
	}
	digits[n] = '\0';
	if (n == 0 || BN_hex2bn(&bn, digits) != (int)n) {
		BN_free(bn);
		return cerr_set(err, CERR_INVALID,
		    "serial: '%.80s' is not a hexadecimal serial number", in);
	}
	if (bn_hex_lower(bn, out, PKI_SERIAL_HEX_MAX) < 0)
		return cerr_set(err, CERR_INTERNAL, "serial: out of memory");
	return 0;
}

/* The role is the one OU; a certificate with none, several, or one that
 * cannot be a role (foreign CAs) gets role "", which grants nothing. */
int
pki_cert_identity(X509 *cert, struct pki_identity *out, struct cerr *err)
{
	const X509_NAME *subject = X509_get_subject_name(cert);
	struct tm tm;
	int n;

	memset(out, 0, sizeof(*out));
	if (name_entry_get(subject, NID_commonName, out->name,
		sizeof(out->name), &n) < 0 ||
	    n != 1)
		return cerr_set(err, CERR_INVALID, "certificate: %s",
		    n == 1 ? "CN is not a valid name" : "needs exactly one CN");
	if (name_entry_get(subject, NID_organizationalUnitName, out->role,
		sizeof(out->role), &n) < 0)
		out->role[0] = '\0';
	if (serial_hex(cert, out->serial_hex, sizeof(out->serial_hex)) < 0)
		return cerr_set(err, CERR_INVALID,
		    "certificate: serial number unreadable or too long");
	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) {
		ERR_clear_error();
		return cerr_set(
		    err, CERR_INVALID, "certificate: notAfter unreadable");
	}
	out->not_after = (long long)timegm(&tm);
	return 0;
}

int
pki_cert_fingerprint(
    X509 *cert, char out[PKI_FINGERPRINT_HEX], struct cerr *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	out[0] = '\0';
	if (X509_digest(cert, EVP_sha256(), md, &n) != 1 || n != 32)
		return cerr_set(err, CERR_TLS, "certificate fingerprint: %s",
		    pki_ossl_reason());
	hex_encode(md, n, out);
	return 0;
}

int
pki_random_hex(char *out, size_t nbytes, struct cerr *err)
{
	unsigned char chunk[64];
	int rc = 0;

	for (size_t done = 0; done < nbytes; done += sizeof(chunk)) {
		size_t n = nbytes - done < sizeof(chunk) ? nbytes - done
							 : sizeof(chunk);

		if (RAND_bytes(chunk, (int)n) != 1) {
			rc = cerr_set(err, CERR_INTERNAL, "random bytes: %s",
			    pki_ossl_reason());
			break;
		}
		hex_encode(chunk, n, out + 2 * done);
	}
	OPENSSL_cleanse(chunk, sizeof(chunk));
	if (rc < 0)
		OPENSSL_cleanse(out, 2 * nbytes + 1);
	out[rc < 0 ? 0 : 2 * nbytes] = '\0';
	return rc;
}

void
pki_sha256_hex(const void *data, size_t len, char out[PKI_FINGERPRINT_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	/* Callers compare these hashes to authenticate (token hashes): a
	 * placeholder on failure could make two secrets equal, so a missing
	 * SHA-256 is a broken invariant. */
	if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		abort();
	hex_encode(md, n, out);
}
