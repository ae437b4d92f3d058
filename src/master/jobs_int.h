/*
 * jobs_int: what jobs.c and jobs_run.c share and nothing else includes.
 * Not part of the interface.
 */
#ifndef COHORT_JOBS_INT_H
#define COHORT_JOBS_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/cerr.h"
#include "common/strmap.h"
#include "common/wire.h"

struct master;

/* A list of target names without repeats; owns the strings. The set
 * makes membership O(1): a job aimed at 10,000 targets would otherwise
 * cost 50 million comparisons to resolve. */
struct aim {
	char **names;
	size_t n;
	size_t cap;
	struct strmap set; /* names -> (unused) */
};

void jobs_aim_cleanup(struct aim *a);
int jobs_aim_has(const struct aim *a, const char *name);
/* Adds name once (a store listing callback: arg is the struct aim). */
int jobs_aim_add(void *arg, const char *name);

/* Posts one instruction in the caller's transaction and lists it in
 * posted ({target, op, object, id}). */
int jobs_post(struct master *m, json_t *posted, const char *target,
    enum instr_op op, const char *object, const char *payload,
    struct cerr *err);
/* After the commit: wakes the targets' held polls and counts the
 * instructions for the metrics. */
void jobs_wake_posted(struct master *m, const json_t *posted);

#endif
