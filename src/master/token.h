/*
 * token: enlistment tokens. A token is "ct1.<secret>.<ca-fingerprint>":
 * 32 random bytes in hex that the master keeps only as a SHA-256 hash, and
 * the SHA-256 of the master's CA certificate, so the enlisting target can
 * check it is talking to the right master before it trusts anything the
 * master sends (there is no CA on the target yet). Single use, expiring.
 */
#ifndef COHORT_TOKEN_H
#define COHORT_TOKEN_H

#include <stddef.h>

#include "common/cerr.h"
#include "common/pki.h"

#define TOKEN_SECRET_HEX 64
#define TOKEN_MAX 160

struct token_parts {
	char secret[TOKEN_SECRET_HEX + 1];
	char ca_fingerprint[PKI_FINGERPRINT_HEX];
};

/* Builds a new token for the CA fingerprint; out holds TOKEN_MAX bytes.
 * hash_out receives the hash to store. */
int token_new(const char *ca_fingerprint, char *out,
    char hash_out[PKI_FINGERPRINT_HEX], struct cerr *err);

/* Splits and checks the form of a token (CERR_TOKEN when malformed; the
 * message never repeats the token). */
int token_parse(const char *token, struct token_parts *out, struct cerr *err);

/* The hash the master keeps for a secret. */
void token_hash(const char *secret, char out[PKI_FINGERPRINT_HEX]);

#endif
