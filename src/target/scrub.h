/*
 * scrub: what a step prints may contain the values of its job's secret
 * environment entries (a step may print what an earlier one saved);
 * they are replaced by JOB_SECRET_MASK before the output goes into the
 * report or the output file.
 */
#ifndef COHORT_SCRUB_H
#define COHORT_SCRUB_H

#include <stddef.h>

#include "common/jobdoc.h"

/* Replaces every secret value of job in *data (*len bytes; *data is
 * replaced by a new allocation when anything is hidden, the caller
 * keeps owning it), longest first so that a secret containing another
 * is hidden whole. truncated: the output was cut at its limit, so a
 * tail that begins a secret is dropped too. -1 on out-of-memory,
 * *data unchanged. */
int scrub_secrets(
    const struct job *job, char **data, size_t *len, int truncated);

#endif
