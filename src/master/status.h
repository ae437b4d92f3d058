/*
 * status: a target's status as the master sees it, derived (never stored)
 * from its row: defected, blocked (a failed instruction not cleared),
 * suspected offline (no poll for three poll intervals and no poll held
 * open now), else normal.
 */
#ifndef COHORT_STATUS_H
#define COHORT_STATUS_H

#include <stdint.h>

#include <jansson.h>

struct master;
struct store_target;

const char *status_of_target(
    struct master *m, const struct store_target *t, int64_t now);

/* The target as the API shows it (PRODUCT.md section 9 fields). */
json_t *status_target_json(
    struct master *m, const struct store_target *t, int64_t now);

#endif
