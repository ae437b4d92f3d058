/*
 * fuzz_token: token_parse, which reads the enlistment token an enlisting
 * machine sends (and cohortctl enlist reads from its command line).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "master/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct token_parts tp;
	struct cerr err;
	char *text;

	if (size > 4096)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (token_parse(text, &tp, &err) == 0 &&
	    (strlen(tp.secret) != TOKEN_SECRET_HEX ||
		strlen(tp.ca_fingerprint) != PKI_FINGERPRINT_HEX - 1))
		abort();
	free(text);
	return 0;
}
