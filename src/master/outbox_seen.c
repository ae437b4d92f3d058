/*
 * outbox_seen: the master's view of its targets' outboxes (see
 * outbox_seen.h).
 */
#include "master/outbox_seen.h"

#include <stdlib.h>

#include "master/master.h"

struct outbox_seen {
	int64_t reported_upto; /* the last poll's pending_upto; -1: none */
	int64_t received_upto; /* the highest seq uploaded since */
};

static struct outbox_seen *
seen_get(struct master *m, const char *target, struct cerr *err)
{
	struct outbox_seen *s = strmap_get(&m->outbox_seen, target);

	if (s != NULL)
		return s;
	s = malloc(sizeof(*s));
	if (s == NULL) {
		cerr_set(err, CERR_INTERNAL, "out of memory");
		return NULL;
	}
	s->reported_upto = -1;
	s->received_upto = 0;
	if (strmap_put(&m->outbox_seen, target, s, NULL, err) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

int
outbox_seen_poll(struct master *m, const char *target, int64_t pending_upto,
    struct cerr *err)
{
	struct outbox_seen *s;

	if (pending_upto < 0) {
		outbox_seen_forget(m, target);
		return 0;
	}
	s = seen_get(m, target, err);
	if (s == NULL)
		return -1;
	s->reported_upto = pending_upto;
	return 0;
}

int
outbox_seen_upload(
    struct master *m, const char *target, int64_t upto, struct cerr *err)
{
	struct outbox_seen *s = seen_get(m, target, err);

	if (s == NULL)
		return -1;
	if (upto > s->received_upto)
		s->received_upto = upto;
	return 0;
}

int
outbox_seen_complete(const struct master *m, const char *target)
{
	const struct outbox_seen *s = strmap_get(&m->outbox_seen, target);

	return s != NULL && s->reported_upto >= 0 &&
	    s->received_upto >= s->reported_upto;
}

void
outbox_seen_forget(struct master *m, const char *target)
{
	free(strmap_del(&m->outbox_seen, target));
}

static int
free_seen(void *arg, const char *key, void *value)
{
	(void)arg;
	(void)key;
	free(value);
	return 0;
}

void
outbox_seen_clear(struct master *m)
{
	strmap_foreach(&m->outbox_seen, free_seen, NULL);
	strmap_cleanup(&m->outbox_seen);
	strmap_init(&m->outbox_seen);
}
