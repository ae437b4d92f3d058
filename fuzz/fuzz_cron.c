/*
 * fuzz_cron: cron_parse, and the next-run search over what it accepts, in
 * UTC and in a zone with daylight-saving gaps. An accepted expression can
 * always match (cron_parse refuses the ones that never can), so the
 * search must find a time after the start.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define START_S 1700000000 /* 2023-11-14 */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const zones[] = {
	    NULL, "Europe/Berlin", "Australia/Lord_Howe"};
	char expr[CRON_EXPR_MAX + 64];
	struct cron c;
	struct cerr err;
	int64_t next;

	if (size >= sizeof(expr))
		return 0;
	memcpy(expr, data, size);
	expr[size] = '\0';
	if (cron_parse(expr, &c, &err) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		if (cron_next(&c, zones[i], START_S, &next, &err) < 0)
			abort(); /* accepted, yet never runs */
		if (next <= START_S)
			abort();
	}
	return 0;
}
