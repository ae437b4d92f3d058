/*
 * caller: who is calling the master. The identity comes from the TLS
 * session only, never from anything the request says: the certificate's
 * name (CN), its serial, and its role. A certificate of the master's own
 * CA carries its role in OU (only that CA writes it); a certificate from
 * the external CA a master may trust as well (client_ca) gets its role
 * from the configuration's "map NAME = ROLE" lines and none otherwise, so
 * an outside CA can never mint an admin by writing OU=admin.
 */
#ifndef COHORT_CALLER_H
#define COHORT_CALLER_H

#include <openssl/ssl.h>

#include "master/http.h"

struct master;

/* Fills c from the session on ssl (NULL: not TLS). When the caller may
 * not use the API at all, c->authenticated is 0 and c->why says why:
 * CERR_UNAUTHENTICATED (no, foreign, expired or revoked certificate) or
 * CERR_FORBIDDEN (an external certificate without a mapping). The
 * identity is parsed on a connection's first request and kept with its
 * SSL object (*conn, NULL when there is none); revocation is checked
 * every time. */
void caller_identify(
    struct master *m, SSL *ssl, struct http_caller *c, struct http_conn **conn);

/* The role bit of a role name, 0 for none. */
enum http_role caller_role(const char *name);

#endif
