/*
 * token: enlistment token format (see token.h).
 */
#include "master/token.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#define TOKEN_PREFIX "ct1."

static int
is_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
			(s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

void
token_hash(const char *secret, char out[PKI_FINGERPRINT_HEX])
{
	pki_sha256_hex(secret, strlen(secret), out);
}

int
token_new(const char *ca_fingerprint, char *out,
    char hash_out[PKI_FINGERPRINT_HEX], struct cerr *err)
{
	char secret[TOKEN_SECRET_HEX + 1];

	if (pki_random_hex(secret, TOKEN_SECRET_HEX / 2, err) < 0)
		return -1;
	token_hash(secret, hash_out);
	snprintf(out, TOKEN_MAX, TOKEN_PREFIX "%s.%s", secret, ca_fingerprint);
	OPENSSL_cleanse(secret, sizeof(secret));
	return 0;
}

int
token_parse(const char *token, struct token_parts *out, struct cerr *err)
{
	size_t plen = strlen(TOKEN_PREFIX);
	const char *secret, *fp;

	if (token == NULL ||
	    strlen(token) !=
		plen + TOKEN_SECRET_HEX + 1 + PKI_FINGERPRINT_HEX - 1 ||
	    strncmp(token, TOKEN_PREFIX, plen) != 0)
		return cerr_set(err, CERR_TOKEN,
		    "token: malformed (expected "
		    "the whole text printed by 'cohortctl target token')");
	secret = token + plen;
	fp = secret + TOKEN_SECRET_HEX + 1;
	if (secret[TOKEN_SECRET_HEX] != '.' ||
	    !is_hex(secret, TOKEN_SECRET_HEX) ||
	    !is_hex(fp, PKI_FINGERPRINT_HEX - 1))
		return cerr_set(err, CERR_TOKEN, "token: malformed");
	memcpy(out->secret, secret, TOKEN_SECRET_HEX);
	out->secret[TOKEN_SECRET_HEX] = '\0';
	memcpy(out->ca_fingerprint, fp, PKI_FINGERPRINT_HEX - 1);
	out->ca_fingerprint[PKI_FINGERPRINT_HEX - 1] = '\0';
	return 0;
}
