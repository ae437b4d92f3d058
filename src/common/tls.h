/*
 * tls: the master's server-side TLS settings. TLS 1.2 is the minimum and
 * 1.3 preferred; only AEAD cipher suites with forward secrecy. A client
 * certificate is requested on every connection but the handshake accepts
 * any (or none): the verdict is kept and every request is judged by the
 * HTTP layer, so a missing, foreign, expired or revoked certificate gets a
 * JSON 401 naming the reason instead of an opaque TLS alert, and the one
 * anonymous call (enlisting with a token) shares the port.
 */
#ifndef COHORT_TLS_H
#define COHORT_TLS_H

#include <openssl/ssl.h>

#include "common/cerr.h"
#include "common/pki.h"

/* Loads cert_path/key_path (the server's) and trusts ca_path for client
 * certificates. Caller frees with SSL_CTX_free. */
SSL_CTX *tls_server_ctx_new(const char *cert_path, const char *key_path,
    const char *ca_path, struct cerr *err);

/* Trusts the CA certificates in the PEM bundle ca_path for client
 * certificates too (an external CA; security). */
int tls_server_ctx_trust(SSL_CTX *ctx, const char *ca_path, struct cerr *err);

/* 1 when cert was signed by ca's key (and names ca as its issuer), else
 * 0: tells the master's own certificates from an external CA's. */
int tls_issued_by(X509 *cert, X509 *ca);

/* The verified identity of the peer on ssl. CERR_UNAUTHENTICATED when it
 * sent no certificate ("no client certificate") or one that failed
 * verification (the OpenSSL reason: "certificate has expired", "unable to
 * get local issuer certificate", ...). Revocation is the caller's check. */
int tls_peer_identity(SSL *ssl, struct pki_identity *out, struct cerr *err);

/* Frees the certificates the peer sent above its own (the chain it
 * proved itself with, usually a copy of our CA): about 4 KiB each that
 * OpenSSL keeps for the life of the connection. Call it once the verdict
 * has been taken; the peer's own certificate stays. */
void tls_drop_peer_chain(SSL *ssl);

#endif
