/*
 * outbox_bound: the outbox's bounds from the configuration, and the strip
 * the byte bound applies (see outbox_bound.h).
 */
#include "target/outbox_bound.h"

#include <string.h>

#include <jansson.h>

#include "common/json.h"
#include "target/upload_fit.h"

struct tstore_outbox_bounds
outbox_bound_get(const struct conf *conf)
{
	struct tstore_outbox_bounds b = {
	    conf->outbox_max_items, conf->outbox_max_bytes, outbox_bound_strip};

	return b;
}

int
outbox_bound_strip(
    const char *kind, const char *body, char **out, struct cerr *err)
{
	json_error_t jerr;
	json_t *v;
	int dropped;

	*out = NULL;
	if (strcmp(kind, "run") != 0)
		return 0;
	v = json_loads(body, 0, &jerr);
	if (v == NULL && json_error_code(&jerr) == json_error_out_of_memory)
		return cerr_set(err, CERR_INTERNAL,
		    "outbox: read a run record: out of memory");
	/* Not a run report: the master will reject it (acknowledged with
	 * its reason); until then it stays as it is. */
	if (v == NULL || !json_is_object(v)) {
		json_decref(v);
		return 0;
	}
	dropped = upload_fit_drop_outputs(v);
	if (dropped > 0)
		*out = json_dump_compact(v);
	json_decref(v);
	if (dropped < 0 || (dropped > 0 && *out == NULL))
		return cerr_set(err, CERR_INTERNAL,
		    "outbox: drop a run record's outputs: out of memory");
	return 0;
}
