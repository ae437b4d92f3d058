/*
 * tls: server TLS context and peer identity (see tls.h).
 */
#include "common/tls.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/tls_suites.h"

/* Accept every chain at handshake time: the result stays available through
 * SSL_get_verify_result() and the HTTP layer refuses per request. */
static int
accept_any_cb(int preverify_ok, X509_STORE_CTX *ctx)
{
	(void)preverify_ok;
	(void)ctx;
	return 1;
}

static int
ssl_fail(struct cerr *err, const char *what)
{
	unsigned long e = ERR_get_error();
	char reason[256];

	ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	return cerr_set(err, CERR_TLS, "%s: %s", what, reason);
}

SSL_CTX *
tls_server_ctx_new(const char *cert_path, const char *key_path,
    const char *ca_path, struct cerr *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	STACK_OF(X509_NAME) *ca_names = NULL;

	if (ctx == NULL) {
		ssl_fail(err, "SSL_CTX_new");
		return NULL;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, TLS_SUITES_TLS12) ||
	    !SSL_CTX_set_ciphersuites(ctx, TLS_SUITES_TLS13)) {
		ssl_fail(err, "TLS settings");
		goto fail;
	}
	/* No resumption of any kind (TLS 1.2 tickets, session ids, TLS 1.3
	 * tickets below): a resumed session would bring back its old
	 * verification verdict without checking the certificate again. */
	SSL_CTX_set_options(ctx,
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
		SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET);
	/* Idle long-polls hold no read/write buffers this way. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_num_tickets(ctx, 0);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
		ssl_fail(err, cert_path);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ssl_fail(err, key_path);
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, ca_path, NULL) != 1) {
		ssl_fail(err, ca_path);
		goto fail;
	}
	ca_names = SSL_load_client_CA_file(ca_path);
	if (ca_names != NULL)
		SSL_CTX_set_client_CA_list(ctx, ca_names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any_cb);
	SSL_CTX_set_verify_depth(ctx, 4);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"cohort", 6);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int
tls_peer_identity(SSL *ssl, struct pki_identity *out, struct cerr *err)
{
	X509 *peer = SSL_get1_peer_certificate(ssl);
	long verdict;
	int rc;

	if (peer == NULL)
		return cerr_set(
		    err, CERR_UNAUTHENTICATED, "no client certificate");
	verdict = SSL_get_verify_result(ssl);
	if (verdict != X509_V_OK) {
		X509_free(peer);
		return cerr_set(err, CERR_UNAUTHENTICATED,
		    "client certificate refused: %s",
		    X509_verify_cert_error_string(verdict));
	}
	rc = pki_cert_identity(peer, out, err);
	X509_free(peer);
	if (rc < 0)
		err->code = CERR_UNAUTHENTICATED;
	return rc;
}

void
tls_drop_peer_chain(SSL *ssl)
{
	/* On a server the stack never holds the peer's own certificate
	 * (SSL_get_peer_cert_chain(3)). Nothing reads it after the verdict:
	 * tickets are off, and a TLS 1.2 session resumed from the cache is
	 * judged by its own certificate and stored verify result alone. */
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);

	for (int n = chain ? sk_X509_num(chain) : 0; n > 0; n--)
		X509_free(sk_X509_pop(chain));
}

int
tls_server_ctx_trust(SSL_CTX *ctx, const char *ca_path, struct cerr *err)
{
	STACK_OF(X509_NAME) *names = SSL_CTX_get_client_CA_list(ctx);

	if (SSL_CTX_load_verify_locations(ctx, ca_path, NULL) != 1)
		return ssl_fail(err, ca_path);
	/* Clients choosing a certificate by issuer see both CAs. */
	if (names != NULL)
		SSL_add_file_cert_subjects_to_stack(names, ca_path);
	ERR_clear_error();
	return 0;
}

int
tls_issued_by(X509 *cert, X509 *ca)
{
	EVP_PKEY *key = X509_get0_pubkey(ca);
	int ok;

	if (key == NULL || X509_check_issued(ca, cert) != X509_V_OK)
		return 0;
	ok = X509_verify(cert, key) == 1;
	ERR_clear_error();
	return ok;
}
