/*
 * scaleout_pick: the choice of a worker (see scaleout_pick.h).
 */
#include "master/scaleout_pick.h"

#include <stdio.h>
#include <string.h>

/* Names shown in a waiting execution's reason before "and N more". */
#define WHY_NAMES 6

static const char *
refusal(const struct scaleout_candidate *c, char *buf, size_t size)
{
	if (!c->enabled)
		return "disabled";
	if (!c->alive)
		return c->last_poll > 0 ? "offline" : "never polled";
	if (c->blocked)
		return "blocked by a failed instruction";
	if (c->runs_job)
		return "runs this job now";
	if (c->active >= c->max_tasks) {
		snprintf(buf, size, "busy (%lld of %lld tasks)",
		    (long long)c->active, (long long)c->max_tasks);
		return buf;
	}
	return NULL;
}

int
scaleout_pick(
    const struct scaleout_candidate *c, size_t n, char *why, size_t size)
{
	char state[64];
	size_t len, shown = 0;
	int best = -1;

	for (size_t i = 0; i < n; i++) {
		if (refusal(&c[i], state, sizeof(state)) != NULL)
			continue;
		if (best < 0 || c[i].holding > c[best].holding ||
		    (c[i].holding == c[best].holding &&
			c[i].active < c[best].active))
			best = (int)i;
	}
	if (best >= 0)
		return best;
	if (n == 0) {
		snprintf(why, size,
		    "waiting: no eligible worker (a worker is a target with "
		    "worker = yes, aimed at by the job, in the execution's "
		    "group or list)");
		return -1;
	}
	len = (size_t)snprintf(
	    why, size, "waiting: no eligible worker can take it:");
	for (size_t i = 0; i < n && len < size; i++) {
		if (shown == WHY_NAMES) {
			len += (size_t)snprintf(
			    why + len, size - len, " and %zu more", n - i);
			break;
		}
		len += (size_t)snprintf(why + len, size - len, "%s %s %s",
		    shown ? ";" : "", c[i].name,
		    refusal(&c[i], state, sizeof(state)));
		shown++;
	}
	return -1;
}
