/*
 * pki_file: keys and certificates in files and PEM text (see pki.h).
 * Writes go through a temporary file in the same folder, made with the
 * final mode (0600 for keys, 0644 for certificates), fsynced and renamed,
 * so a crash never leaves half a key or a key readable by others.
 */
#include "common/pki.h"

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
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define PKI_PEM_MAX_BYTES 1048576 /* certificates and key files */

typedef int (*pem_write_fn)(BIO *bio, void *obj);

static int
pem_write_key(BIO *bio, void *obj)
{
	return PEM_write_bio_PrivateKey(bio, obj, NULL, NULL, 0, NULL, NULL);
}

static int
pem_write_cert(BIO *bio, void *obj)
{
	return PEM_write_bio_X509(bio, obj);
}

/* Makes the rename durable. Best effort: some file systems refuse fsync on
 * a directory, and the file itself is complete either way. */
static void
dir_sync(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	(void)fsync(fd);
	close(fd);
}

/* Writes obj as PEM to a temporary file beside path (mode set before any
 * byte is written), syncs it and renames it over path. The PEM goes
 * straight from OpenSSL to the file descriptor: no copy of a key stays in
 * our memory. */
static int
file_write_atomic(
    const char *path, mode_t mode, pem_write_fn fn, void *obj, struct cerr *err)
{
	char tmp[PATH_MAX];
	BIO *bio = NULL;
	int fd = -1, close_rc, rc = -1;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return cerr_set(err, CERR_INVALID, "%s: path too long", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return cerr_set(err, CERR_IO, "%s: create temporary file: %s",
		    path, strerror(errno));
	if (fchmod(fd, mode) < 0) {
		cerr_set(err, CERR_IO, "%s: chmod: %s", tmp, strerror(errno));
		goto out;
	}
	bio = BIO_new_fd(fd, BIO_NOCLOSE);
	errno = 0;
	if (bio == NULL || fn(bio, obj) != 1 || BIO_flush(bio) != 1) {
		cerr_set(err, CERR_IO, "%s: write: %s", tmp,
		    errno != 0 ? strerror(errno) : pki_ossl_reason());
		goto out;
	}
	if (fsync(fd) < 0) {
		cerr_set(err, CERR_IO, "%s: sync: %s", tmp, strerror(errno));
		goto out;
	}
	close_rc = close(fd);
	fd = -1;
	if (close_rc < 0) {
		cerr_set(err, CERR_IO, "%s: close: %s", tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, path) < 0) {
		cerr_set(err, CERR_IO, "%s: rename: %s", path, strerror(errno));
		goto out;
	}
	dir_sync(path);
	rc = 0;
out:
	BIO_free(bio);
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	ERR_clear_error();
	return rc;
}

int
pki_key_write(const char *path, EVP_PKEY *key, struct cerr *err)
{
	return file_write_atomic(path, 0600, pem_write_key, key, err);
}

int
pki_cert_write(const char *path, X509 *cert, struct cerr *err)
{
	return file_write_atomic(path, 0644, pem_write_cert, cert, err);
}

static int
der_write_p12(BIO *bio, void *obj)
{
	return i2d_PKCS12_bio(bio, obj);
}

int
pki_p12_write(const char *path, EVP_PKEY *key, const char *cert_pem,
    const char *ca_pem, const char *friendly_name, struct cerr *err)
{
	X509 *cert = NULL, *ca = NULL;
	STACK_OF(X509) *chain = sk_X509_new_null();
	PKCS12 *p12 = NULL;
	int rc = -1;

	if (chain == NULL) {
		cerr_set(err, CERR_INTERNAL, "out of memory");
		goto out;
	}
	if (pki_cert_from_pem(cert_pem, strlen(cert_pem), &cert, err) < 0 ||
	    pki_cert_from_pem(ca_pem, strlen(ca_pem), &ca, err) < 0)
		goto out;
	if (sk_X509_push(chain, ca) <= 0) {
		cerr_set(err, CERR_INTERNAL, "out of memory");
		goto out;
	}
	ca = NULL; /* the chain owns it */
	/* OpenSSL 3's defaults: AES-256-CBC under PBKDF2 and a SHA-256 MAC,
	 * which Chromium and Firefox import. The password is empty: the file
	 * guards the key by its mode, as key.pem beside it does. */
	p12 = PKCS12_create("", friendly_name, key, cert, chain, 0, 0, 0, 0, 0);
	if (p12 == NULL) {
		cerr_set(err, CERR_INTERNAL, "%s: PKCS#12: %s", path,
		    pki_ossl_reason());
		goto out;
	}
	rc = file_write_atomic(path, 0600, der_write_p12, p12, err);
out:
	PKCS12_free(p12);
	X509_free(cert);
	X509_free(ca);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

/* A key file is never encrypted in cohort; refusing a passphrase keeps
 * OpenSSL from prompting on the terminal of a daemon. */
static int
no_passphrase_cb(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

typedef void *(*pem_read_fn)(BIO *bio);

static void *
pem_read_key(BIO *bio)
{
	return PEM_read_bio_PrivateKey(bio, NULL, no_passphrase_cb, NULL);
}

static void *
pem_read_cert(BIO *bio)
{
	return PEM_read_bio_X509(bio, NULL, NULL, NULL);
}

/* The first PEM object fn finds in the regular file path (at most
 * PKI_PEM_MAX_BYTES long); NULL with err filled when there is none. */
static void *
file_read_pem(
    const char *path, pem_read_fn fn, const char *what, struct cerr *err)
{
	struct stat st;
	BIO *bio = NULL;
	void *obj = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		cerr_set(err, CERR_IO, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > PKI_PEM_MAX_BYTES) {
		cerr_set(err, CERR_IO,
		    "%s: not a regular file of at most %d bytes", path,
		    PKI_PEM_MAX_BYTES);
		goto out;
	}
	bio = BIO_new_fd(fd, BIO_NOCLOSE);
	if (bio != NULL)
		obj = fn(bio);
	if (obj == NULL)
		cerr_set(err, CERR_TLS, "%s: not %s (%s)", path, what,
		    pki_ossl_reason());
out:
	BIO_free(bio);
	close(fd);
	return obj;
}

int
pki_key_read(const char *path, EVP_PKEY **out, struct cerr *err)
{
	*out = file_read_pem(
	    path, pem_read_key, "an unencrypted PEM private key", err);
	return *out != NULL ? 0 : -1;
}

int
pki_cert_read(const char *path, X509 **out, struct cerr *err)
{
	*out = file_read_pem(path, pem_read_cert, "a PEM certificate", err);
	return *out != NULL ? 0 : -1;
}

int
pki_cert_to_pem(X509 *cert, char **pem_out, struct cerr *err)
{
	BIO *mem = BIO_new(BIO_s_mem());
	int rc = -1;

	*pem_out = NULL;
	if (mem == NULL || PEM_write_bio_X509(mem, cert) != 1) {
		cerr_set(
		    err, CERR_TLS, "certificate to PEM: %s", pki_ossl_reason());
		goto out;
	}
	*pem_out = pki_bio_to_string(mem);
	if (*pem_out == NULL) {
		cerr_set(
		    err, CERR_INTERNAL, "certificate to PEM: out of memory");
		goto out;
	}
	rc = 0;
out:
	BIO_free(mem);
	return rc;
}

int
pki_cert_from_pem(const char *pem, size_t len, X509 **out, struct cerr *err)
{
	BIO *bio;

	*out = NULL;
	if (pem == NULL || len == 0)
		return cerr_set(err, CERR_INVALID, "certificate: empty");
	if (len > PKI_PEM_MAX_BYTES)
		return cerr_set(err, CERR_TOO_LARGE,
		    "certificate: longer than %d bytes", PKI_PEM_MAX_BYTES);
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio != NULL)
		*out = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (*out == NULL)
		return cerr_set(err, CERR_INVALID,
		    "certificate: not a PEM certificate (%s)",
		    pki_ossl_reason());
	return 0;
}
