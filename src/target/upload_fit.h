/*
 * upload_fit: a run record cut to fit what the master takes in one
 * request. A step keeps up to max_output_bytes of output (1 MiB by
 * default) and the master reads at most max_body_bytes per request (also
 * 1 MiB by default): an upload over that limit is refused every time,
 * and would hold back every record behind it. The upload copy of such a
 * record has its outputs cut, each to its last bytes (where a failure's
 * message usually is), with a line saying so; the target's own history
 * keeps them whole. The outbox itself, over outbox_max_bytes, drops the
 * oldest records' outputs with a line of the same kind.
 */
#ifndef COHORT_UPLOAD_FIT_H
#define COHORT_UPLOAD_FIT_H

#include <stddef.h>

#include <jansson.h>

/* Cuts the "output" of each step of run body (a run report, as uploaded)
 * until its compact JSON is at most budget bytes, or the outputs are
 * down to their markers. Returns the size reached (0 on out-of-memory). */
size_t upload_fit_run(json_t *body, size_t budget);

/* How an output dropped from the outbox starts; the line goes on with
 * its size and where the whole output is. */
#define UPLOAD_FIT_DROPPED "[cohort: output dropped from the target's outbox:"

/* The outbox's copy of a run record over outbox_max_bytes
 * (outbox_bound.h): replaces the "output" of each step of run body with
 * a line saying so, but an output no longer than that line, or dropped
 * already. Returns how many were replaced, -1 on out-of-memory (body is
 * then partly done). */
int upload_fit_drop_outputs(json_t *body);

/* The compact JSON size of v (0 on out-of-memory). */
size_t upload_json_size(const json_t *v);

#endif
