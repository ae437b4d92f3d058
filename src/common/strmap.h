/*
 * strmap: a string-keyed hash map (open addressing, linear probing) for
 * in-memory indexes such as revoked certificate serials and the waiting
 * polls by target name. The map owns copies of its keys; values are the
 * caller's (the map never frees them).
 */
#ifndef COHORT_STRMAP_H
#define COHORT_STRMAP_H

#include <stddef.h>

#include "common/cerr.h"

struct strmap_slot {
	char *key; /* NULL: empty; STRMAP_TOMBSTONE: deleted */
	void *value;
};

struct strmap {
	struct strmap_slot *slots;
	size_t cap; /* a power of two, or 0 */
	size_t count; /* live keys */
	size_t used; /* live keys + tombstones */
};

void strmap_init(struct strmap *m);
/* Frees the keys and the table, not the values. */
void strmap_cleanup(struct strmap *m);

/* Adds or replaces; *old_out (may be NULL) receives the replaced value or
 * NULL. -1 only on out-of-memory. */
int strmap_put(struct strmap *m, const char *key, void *value, void **old_out,
    struct cerr *err);
/* The value, or NULL when absent. */
void *strmap_get(const struct strmap *m, const char *key);
int strmap_has(const struct strmap *m, const char *key);
/* Removes the key; returns its value, or NULL when absent. */
void *strmap_del(struct strmap *m, const char *key);

/* Iterates live entries; cb returning non-zero stops. The map must not
 * change during iteration. */
typedef int (*strmap_cb)(void *arg, const char *key, void *value);
void strmap_foreach(const struct strmap *m, strmap_cb cb, void *arg);

#endif
