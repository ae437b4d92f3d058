/*
 * longpoll: polls held open until an instruction is posted for their
 * target or the hold time ends. One waiter per target (a newer poll from
 * the same target answers the older one empty). A posted instruction wakes
 * its target's waiter at once: delivery is immediate, not at the next poll.
 *
 * A reply carries instructions with id > the poll's `after`, in order, at
 * most LONGPOLL_BATCH; the target acknowledges them in its next poll. If a
 * reply is lost, the target polls again with the same `after` and gets the
 * same instructions: delivery is at-least-once, and applying is idempotent
 * on the target, so the effect is exactly once.
 */
#ifndef COHORT_LONGPOLL_H
#define COHORT_LONGPOLL_H

#include <stdint.h>

#include <event2/http.h>
#include <jansson.h>

#include "common/cerr.h"

#define LONGPOLL_BATCH 100

struct master;

/* The reply for target: {"instructions": [...]}, new reference; *count
 * says how many. Marks them downloaded. */
int longpoll_collect(struct master *m, const char *target, int64_t after,
    json_t **out, int *count, struct cerr *err);

/* Holds req (taken over) for up to wait_s seconds. */
int longpoll_hold(struct master *m, struct evhttp_request *req,
    const char *target, int64_t after, int wait_s, struct cerr *err);

/* Answers target's waiting poll if there is something to deliver. */
void longpoll_wake(struct master *m, const char *target);

/* Answers target's waiting poll with an error (the target was deleted). */
void longpoll_refuse(struct master *m, const char *target,
    const struct cerr *why);

int longpoll_is_waiting(struct master *m, const char *target);

/* Answers every waiting poll empty and frees them (shutdown). */
void longpoll_release_all(struct master *m);

/* Answers every waiting poll with status and a copy of body (borrowed)
 * and frees them: a master that became a standby sends its targets on
 * to the active one. */
void longpoll_refuse_all(struct master *m, int status, const json_t *body);

#endif
