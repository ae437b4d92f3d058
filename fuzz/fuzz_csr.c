/*
 * fuzz_csr: pki_csr_sign, which reads the certificate request an
 * anonymous enlisting machine sends. The CA is made once; every input is
 * a request for the name "web-1".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "common/pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static EVP_PKEY *ca_key;
static X509 *ca_cert;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct cerr err;

	if (pki_key_new(&ca_key, &err) < 0 ||
	    pki_ca_new(ca_key, "fuzz CA", 30, &ca_cert, &err) < 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pki_identity id;
	struct cerr err;
	X509 *cert = NULL;

	if (pki_csr_sign(ca_cert, ca_key, (const char *)data, size, "web-1",
		"target", 30, &cert, &err) == 0) {
		if (pki_cert_identity(cert, &id, &err) < 0 ||
		    strcmp(id.name, "web-1") != 0 ||
		    strcmp(id.role, "target") != 0)
			abort(); /* the request chose its own subject */
		X509_free(cert);
	}
	return 0;
}
