/*
 * fuzz_schedule: one schedule object of a job document
 * (schedule_from_json), its canonical form, and its next due times. An
 * accepted schedule's canonical form must parse again to the same thing,
 * and the next-run search must end and move forward.
 */
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "common/json.h"
#include "common/schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define START_S 1700000000 /* 2023-11-14 */

static void
check_next(const struct schedule *s)
{
	static const char *const zones[] = {
	    NULL, "America/New_York", "Australia/Lord_Howe"};
	struct cerr err;
	int64_t after = START_S, next = 0;

	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		after = START_S;
		for (int n = 0; n < 3; n++) {
			if (schedule_next(s, zones[i], after, &next, &err) < 0)
				abort(); /* every zone here exists */
			if (next == 0)
				break;
			if (next <= after)
				abort(); /* must move forward */
			after = next;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct schedule *s = NULL, *again = NULL;
	json_t *v, *canon = NULL, *canon2 = NULL;
	struct cerr err;

	v = json_parse_limited((const char *)data, size, 65536, 8, &err);
	if (v == NULL)
		return 0;
	if (schedule_from_json(v, "schedules[1]", &s, &err) == 0) {
		canon = schedule_to_json(s);
		if (canon == NULL ||
		    schedule_from_json(canon, "canonical", &again, &err) < 0)
			abort();
		canon2 = schedule_to_json(again);
		if (canon2 == NULL || !json_equal(canon, canon2))
			abort();
		check_next(s);
	}
	json_decref(v);
	json_decref(canon);
	json_decref(canon2);
	schedule_free(s);
	schedule_free(again);
	return 0;
}
