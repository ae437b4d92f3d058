/*
 * fuzz_runrec: run_report_from_json, the reader of every run outcome a
 * target uploads. An accepted report must survive its own JSON form, as
 * the target writes it and the master reads it back.
 */
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "common/json.h"
#include "common/runrec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run_report *rep = NULL, *again = NULL;
	json_t *v, *out = NULL, *out2 = NULL;
	struct cerr err;

	v = json_parse_limited((const char *)data, size, 1 << 20, 32, &err);
	if (v == NULL)
		return 0;
	if (run_report_from_json(v, &rep, &err) == 0) {
		out = run_report_to_json(rep);
		if (out == NULL || run_report_from_json(out, &again, &err) < 0)
			abort(); /* the report's own form is refused */
		out2 = run_report_to_json(again);
		if (out2 == NULL || !json_equal(out, out2))
			abort();
	}
	json_decref(v);
	json_decref(out);
	json_decref(out2);
	run_report_free(rep);
	run_report_free(again);
	return 0;
}
