/*
 * strmap: string-keyed open-addressing hash map (see strmap.h).
 */
#include "common/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char tombstone_mark;
#define STRMAP_TOMBSTONE (&tombstone_mark)

/* FNV-1a: short keys, no adversary can choose many (they come from our
 * own store or from certificates we issued). */
static uint64_t
hash_key(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void
strmap_init(struct strmap *m)
{
	memset(m, 0, sizeof(*m));
}

void
strmap_cleanup(struct strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key != NULL &&
		    m->slots[i].key != STRMAP_TOMBSTONE)
			free(m->slots[i].key);
	free(m->slots);
	strmap_init(m);
}

static struct strmap_slot *
find_slot(const struct strmap *m, const char *key)
{
	size_t mask, i;

	if (m->cap == 0)
		return NULL;
	mask = m->cap - 1;
	for (i = hash_key(key) & mask;; i = (i + 1) & mask) {
		struct strmap_slot *s = &m->slots[i];

		if (s->key == NULL)
			return NULL;
		if (s->key != STRMAP_TOMBSTONE && strcmp(s->key, key) == 0)
			return s;
	}
}

static int
grow(struct strmap *m, struct cerr *err)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	struct strmap_slot *old = m->slots;
	size_t old_cap = m->cap;

	/* Mostly tombstones: rehash at the same size. */
	if (m->cap && m->count * 4 < m->cap)
		cap = m->cap;
	m->slots = calloc(cap, sizeof(*m->slots));
	if (m->slots == NULL) {
		m->slots = old;
		return cerr_set(err, CERR_INTERNAL, "strmap: out of memory");
	}
	m->cap = cap;
	m->used = m->count;
	for (size_t i = 0; i < old_cap; i++) {
		size_t j;

		if (old[i].key == NULL || old[i].key == STRMAP_TOMBSTONE)
			continue;
		for (j = hash_key(old[i].key) & (cap - 1); m->slots[j].key;
		     j = (j + 1) & (cap - 1))
			;
		m->slots[j] = old[i];
	}
	free(old);
	return 0;
}

int
strmap_put(struct strmap *m, const char *key, void *value, void **old_out,
    struct cerr *err)
{
	struct strmap_slot *s = find_slot(m, key);
	size_t i, mask;
	char *copy;

	if (old_out != NULL)
		*old_out = NULL;
	if (s != NULL) {
		if (old_out != NULL)
			*old_out = s->value;
		s->value = value;
		return 0;
	}
	if ((m->used + 1) * 4 > m->cap * 3 && grow(m, err) < 0)
		return -1;
	copy = strdup(key);
	if (copy == NULL)
		return cerr_set(err, CERR_INTERNAL, "strmap: out of memory");
	mask = m->cap - 1;
	for (i = hash_key(key) & mask;
	     m->slots[i].key != NULL && m->slots[i].key != STRMAP_TOMBSTONE;
	     i = (i + 1) & mask)
		;
	if (m->slots[i].key == NULL)
		m->used++;
	m->slots[i].key = copy;
	m->slots[i].value = value;
	m->count++;
	return 0;
}

void *
strmap_get(const struct strmap *m, const char *key)
{
	struct strmap_slot *s = find_slot(m, key);

	return s ? s->value : NULL;
}

int
strmap_has(const struct strmap *m, const char *key)
{
	return find_slot(m, key) != NULL;
}

void *
strmap_del(struct strmap *m, const char *key)
{
	struct strmap_slot *s = find_slot(m, key);
	void *value;

	if (s == NULL)
		return NULL;
	value = s->value;
	free(s->key);
	s->key = STRMAP_TOMBSTONE;
	s->value = NULL;
	m->count--;
	return value;
}

void
strmap_foreach(const struct strmap *m, strmap_cb cb, void *arg)
{
	for (size_t i = 0; i < m->cap; i++) {
		struct strmap_slot *s = &m->slots[i];

		if (s->key != NULL && s->key != STRMAP_TOMBSTONE &&
		    cb(arg, s->key, s->value) != 0)
			return;
	}
}
