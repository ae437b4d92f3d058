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
 *
 * Batching: polls that arrive and waiters that are woken (or whose hold
 * time ends) during one turn of the event loop are served together at the
 * end of that turn, in one store transaction: each new poll's status and
 * acknowledgements are recorded, each poll's instructions are fetched (and
 * marked downloaded), the transaction commits, and only then are the
 * replies sent. A job started on 10,000 targets is thus one transaction
 * for its posting and one for its delivery, and 1,000 polls arriving
 * together cost one commit, not 1,000. A store failure fails the whole
 * batch: new polls get the error, woken waiters keep waiting. The replies
 * go out a slice per loop turn, so the first are on the wire while the
 * rest are built; polls that arrive meanwhile are batched after the last.
 */
#ifndef COHORT_LONGPOLL_H
#define COHORT_LONGPOLL_H

#include <stddef.h>
#include <stdint.h>

#include <event2/http.h>
#include <jansson.h>

#include "common/cerr.h"
#include "store/store.h"

#define LONGPOLL_BATCH 100

struct master;

struct longpoll_ack {
	int64_t id;
	int ok;
	char *error; /* owned; NULL when ok */
};

/* A poll as api_poll read and checked it. */
struct longpoll_req {
	const char *target; /* the certificate's name */
	int64_t after;
	int wait_s; /* already capped by longpoll_max_s */
	int64_t local_time;
	int32_t tz_offset_s;
	int32_t poll_interval_s;
	const char *version;
	int64_t outbox_dropped; /* the target's outbox overflow count */
	int worker; /* the poll said max_tasks (worker = yes) */
	struct longpoll_ack *acks; /* owned by the caller until queued */
	size_t nacks;
};

/* Creates the batch machinery on m->base; longpoll_release_all undoes it. */
int longpoll_init(struct master *m, struct cerr *err);

/* Takes over req and p->acks (p->acks becomes NULL): the poll is recorded
 * and answered (or held) at the end of this turn of the loop. On failure
 * nothing is taken over. */
int longpoll_queue(struct master *m, struct evhttp_request *req,
    struct longpoll_req *p, struct cerr *err);

/* Frees an ack array (the caller's, when it was not queued). */
void longpoll_acks_free(struct longpoll_ack *acks, size_t n);

/* Answers target's waiting poll if there is something to deliver (at the
 * end of this turn of the loop). */
void longpoll_wake(struct master *m, const char *target);

/* Answers target's waiting poll with an error (the target was deleted). */
void longpoll_refuse(
    struct master *m, const char *target, const struct cerr *why);

/* Answers target's waiting poll 401 when its connection's certificate
 * is in the revoked set (a poll held with a revoked certificate would
 * otherwise be answered with what is posted next). */
void longpoll_revoked(struct master *m, const char *target);

int longpoll_is_waiting(struct master *m, const char *target);
/* 1 when target holds a poll that said it is a scale-out worker. */
int longpoll_waiting_worker(struct master *m, const char *target);

/* Answers every waiting and queued poll empty and frees them and the
 * batch machinery (shutdown). */
void longpoll_release_all(struct master *m);

/* Answers every waiting poll with status and a copy of body (borrowed)
 * and frees them: a master that became a standby sends its targets on
 * to the active one. */
void longpoll_refuse_all(struct master *m, int status, const json_t *body);

#endif
