/*
 * upload_fit: a run record cut to fit what the master takes in one
 * request. A step keeps up to max_output_bytes of output (1 MiB by
 * default) and the master reads at most max_body_bytes per request (also
 * 1 MiB by default): an upload over that limit is refused every time,
 * and would hold back every record behind it. The upload copy of such a
 * record has its outputs cut, each to its last bytes (where a failure's
 * message usually is), with a line saying so; the target's own history
 * keeps them whole.
 */
#ifndef COHORT_UPLOAD_FIT_H
#define COHORT_UPLOAD_FIT_H

#include <stddef.h>

#include <jansson.h>

/* Cuts the "output" of each step of run body (a run report, as uploaded)
 * until its compact JSON is at most budget bytes, or the outputs are
 * down to their markers. Returns the size reached (0 on out-of-memory). */
size_t upload_fit_run(json_t *body, size_t budget);

/* The compact JSON size of v (0 on out-of-memory). */
size_t upload_json_size(const json_t *v);

#endif
