/*
 * store_check: what the files of the store's facade (store.c and
 * store_<area>.c) share: the argument checks behind what a backend may
 * assume of its inputs (store_backend.h).
 */
#ifndef COHORT_STORE_CHECK_H
#define COHORT_STORE_CHECK_H

#include <stddef.h>

#include "common/cerr.h"

/* A name: 1..STORE_NAME_MAX bytes, no control characters (names end up
 * in logs and listings). */
int store_check_name(const char *what, const char *name, struct cerr *err);
/* A text field that must fit a fixed array of size bytes (with its NUL);
 * NULL counts as "". */
int store_check_text(
    const char *what, const char *s, size_t size, struct cerr *err);
/* s, or "" for NULL: a backend never sees a NULL text. */
const char *store_or_empty(const char *s);

#endif
