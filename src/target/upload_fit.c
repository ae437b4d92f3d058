/*
 * upload_fit: run records cut to fit the master's request limit (see
 * upload_fit.h).
 */
#include "target/upload_fit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

/* Rounds of cutting: each halves the share a step may keep. */
#define FIT_ROUNDS 16
#define FIT_MARKER_MAX 160
/* Both markers end alike: whoever reads a cut output learns where the
 * whole one is. */
#define FIT_MARKER_END "; the target's history has it whole]\n"

size_t
upload_json_size(const json_t *v)
{
	char *text = json_dump_compact(v);
	size_t n = text != NULL ? strlen(text) : 0;

	free(text);
	return n;
}

/* Sets step's output to original's last keep bytes (from a UTF-8
 * character's start) after a marker naming both sizes, or to original
 * when it is no longer; 0, or -1 on out-of-memory. */
static int
cut_output(json_t *step, json_t *original, size_t keep)
{
	const char *s = json_string_value(original);
	size_t len = s != NULL ? json_string_length(original) : 0, from;
	char marker[FIT_MARKER_MAX], *cut;
	int n, rc;

	if (s == NULL || len <= keep)
		return 0;
	from = len - keep;
	while (from < len && ((unsigned char)s[from] & 0xC0) == 0x80)
		from++;
	n = snprintf(marker, sizeof(marker),
	    "[cohort: output cut to its last %zu of %zu bytes to fit the "
	    "master's upload limit" FIT_MARKER_END,
	    len - from, len);
	cut = malloc((size_t)n + (len - from) + 1);
	if (cut == NULL)
		return -1;
	memcpy(cut, marker, (size_t)n);
	memcpy(cut + n, s + from, len - from);
	cut[(size_t)n + (len - from)] = '\0';
	rc = json_object_set_new(step, "output", json_string(cut));
	free(cut);
	return rc;
}

size_t
upload_fit_run(json_t *body, size_t budget)
{
	json_t *steps = json_object_get(body, "steps"), *originals;
	size_t size = upload_json_size(body), nsteps = json_array_size(steps);
	size_t keep = budget;

	if (size <= budget || nsteps == 0)
		return size;
	originals = json_array();
	for (size_t i = 0; originals != NULL && i < nsteps; i++) {
		json_t *out =
		    json_object_get(json_array_get(steps, i), "output");

		if (json_array_append_new(originals,
			out != NULL ? json_incref(out) : json_null()) < 0)
			size = 0;
	}
	/* Each round halves what the steps may keep together, shared
	 * evenly: escaping can make one kept byte cost six. */
	for (int round = 0;
	     originals != NULL && size > budget && round < FIT_ROUNDS;
	     round++) {
		keep /= 2;
		for (size_t i = 0; i < nsteps && size != 0; i++)
			if (cut_output(json_array_get(steps, i),
				json_array_get(originals, i),
				keep / nsteps) < 0)
				size = 0;
		if (size != 0)
			size = upload_json_size(body);
	}
	if (originals == NULL)
		size = 0;
	json_decref(originals);
	return size;
}

int
upload_fit_drop_outputs(json_t *body)
{
	json_t *steps = json_object_get(body, "steps"), *step;
	char marker[FIT_MARKER_MAX];
	size_t i;
	int dropped = 0;

	json_array_foreach(steps, i, step)
	{
		json_t *out = json_object_get(step, "output");
		size_t len = json_string_length(out);
		int n;

		if (!json_is_string(out) ||
		    strncmp(json_string_value(out), UPLOAD_FIT_DROPPED,
			strlen(UPLOAD_FIT_DROPPED)) == 0)
			continue;
		n = snprintf(marker, sizeof(marker),
		    UPLOAD_FIT_DROPPED " %zu bytes, as the outbox went over "
				       "outbox_max_bytes" FIT_MARKER_END,
		    len);
		/* a marker no shorter than the output would free nothing */
		if (n < 0 || len <= (size_t)n)
			continue;
		if (json_object_set_new(step, "output", json_string(marker)) <
		    0)
			return -1;
		dropped++;
	}
	return dropped;
}
