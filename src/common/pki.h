/*
 * pki: keys, certificates and certificate requests with OpenSSL 3.
 * ECDSA P-256 keys, Ed25519 for targets; the master's CA signs every
 * certificate. A
 * certificate's subject is O=cohort, OU=<role>, CN=<name>: the role
 * (admin, operator, viewer, target, master) travels in the certificate, so
 * the master never needs a table to know who a caller is. Only the CA
 * writes OU: when signing a CSR, the subject is built by the master from
 * the enlistment, never copied from the request.
 *
 * Ownership: functions returning EVP_PKEY / X509 / char* hand them to the
 * caller (EVP_PKEY_free, X509_free, free). Key material in memory is wiped
 * by OpenSSL on free; PEM buffers holding private keys are wiped with
 * OPENSSL_cleanse by the functions that create them before they are freed.
 */
#ifndef COHORT_PKI_H
#define COHORT_PKI_H

#include <stddef.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/cerr.h"

#define PKI_SERIAL_HEX_MAX 80 /* a 159-bit serial in hex, plus NUL */
#define PKI_FINGERPRINT_HEX 65 /* SHA-256 in hex, plus NUL */

enum pki_usage { PKI_USAGE_CLIENT, PKI_USAGE_SERVER };

struct pki_identity {
	char name[129]; /* CN */
	char role[16]; /* OU */
	char serial_hex[PKI_SERIAL_HEX_MAX];
	long long not_after; /* Unix seconds */
};

/* A new ECDSA P-256 key: the CA's, the master's and people's (every TLS
 * client and browser takes P-256). */
int pki_key_new(EVP_PKEY **out, struct cerr *err);

/* A new Ed25519 key: a target's. The master keeps each connected
 * target's certificate with its key decoded for as long as the
 * connection lives; decoded, an Ed25519 key is about 1.8 KiB smaller than
 * a P-256 one, which carries its own copy of the curve. */
int pki_target_key_new(EVP_PKEY **out, struct cerr *err);

/* A self-signed CA certificate (CA:TRUE, keyCertSign, cRLSign) for key. */
int pki_ca_new(EVP_PKEY *key, const char *common_name, int days, X509 **out,
    struct cerr *err);

/* A certificate for pubkey signed by the CA: subject O=cohort, OU=role,
 * CN=name; a random 128-bit serial; extended key usage per usage; for
 * PKI_USAGE_SERVER, subjectAltName from sans (each an IP address or DNS
 * name; may be empty). */
int pki_cert_issue(X509 *ca_cert, EVP_PKEY *ca_key, EVP_PKEY *pubkey,
    const char *name, const char *role, enum pki_usage usage,
    const char *const *sans, size_t nsans, int days, X509 **out,
    struct cerr *err);

/* A PEM certificate request for key with CN=name. Caller frees *pem_out. */
int pki_csr_new(
    EVP_PKEY *key, const char *name, char **pem_out, struct cerr *err);

/* Checks a PEM CSR (at most max_len bytes, signature valid, an EC P-256,
 * Ed25519 or RSA >= 2048 key, CN equal to expected_name) and issues a client
 * certificate for its key with the given role. CERR_INVALID with the
 * reason when the CSR is refused. */
int pki_csr_sign(X509 *ca_cert, EVP_PKEY *ca_key, const char *csr_pem,
    size_t len, const char *expected_name, const char *role, int days,
    X509 **out, struct cerr *err);

/* Files. Keys are written mode 0600 and certificates 0644, through a
 * temporary file renamed into place so a crash never leaves half a file. */
int pki_key_write(const char *path, EVP_PKEY *key, struct cerr *err);
int pki_cert_write(const char *path, X509 *cert, struct cerr *err);
int pki_key_read(const char *path, EVP_PKEY **out, struct cerr *err);
/* The key, its certificate and the CA (both PEM) as one PKCS#12 file with
 * an empty password, mode 0600: what a browser imports as a person's
 * certificate. */
int pki_p12_write(const char *path, EVP_PKEY *key, const char *cert_pem,
    const char *ca_pem, const char *friendly_name, struct cerr *err);
int pki_cert_read(const char *path, X509 **out, struct cerr *err);

/* PEM text of a certificate; caller frees. */
int pki_cert_to_pem(X509 *cert, char **pem_out, struct cerr *err);
/* Parses a PEM certificate of at most len bytes. */
int pki_cert_from_pem(
    const char *pem, size_t len, X509 **out, struct cerr *err);

/* Name, role, serial and expiry of a certificate. */
int pki_cert_identity(X509 *cert, struct pki_identity *out, struct cerr *err);

/* A serial as a person may type it (upper or lower case, leading zeros,
 * colons between bytes) in the spelling pki_cert_identity() gives: lower
 * case without leading zeros. -1 with CERR_INVALID when in is not hex. */
int pki_serial_canonical(
    const char *in, char out[PKI_SERIAL_HEX_MAX], struct cerr *err);

/* SHA-256 of the certificate's DER encoding, lowercase hex. */
int pki_cert_fingerprint(
    X509 *cert, char out[PKI_FINGERPRINT_HEX], struct cerr *err);

/* nbytes of cryptographic randomness as lowercase hex (out holds
 * 2*nbytes+1). */
int pki_random_hex(char *out, size_t nbytes, struct cerr *err);
/* SHA-256 of data, lowercase hex. */
void pki_sha256_hex(
    const void *data, size_t len, char out[PKI_FINGERPRINT_HEX]);

/* The reason of the newest queued OpenSSL error, emptying the queue; a
 * static string (shared by the pki files; reporting never allocates). */
const char *pki_ossl_reason(void);
/* The bytes of a memory BIO as a new C string (caller frees); NULL on
 * out-of-memory. Shared by the pki files. */
char *pki_bio_to_string(BIO *mem);

#endif
