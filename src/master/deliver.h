/*
 * deliver: sends the notifications queued in the store (notify.c) to
 * their operators, on the master's libevent loop, without ever waiting
 * for one: a webhook is a POST through the asynchronous HTTP client
 * (common/hclient.h), an e-mail and a command are child processes of the
 * runner (common/runner.h) with a time limit, a log operator is a line in
 * the master's log. At most DELIVER_MAX_IN_FLIGHT attempts run at once.
 *
 * Each attempt is recorded on the notification's row: delivered; or
 * pending again with its error and the next attempt due after a backoff
 * (notify_retry_base_s, doubling, at most notify_retry_max_s); or failed
 * after notify_max_attempts. Before an attempt starts its row is claimed
 * (its next_at moved past the attempt's time limit), so an attempt cut
 * off by a crash is simply made again later: delivery is at least once.
 *
 * Children get the notification in their environment, never on a command
 * line: COHORT_NOTIFY_OPERATOR, COHORT_NOTIFY_SUBJECT, COHORT_NOTIFY_JSON
 * (and for e-mail COHORT_NOTIFY_MAIL, the whole message, and
 * COHORT_SENDMAIL). Their stdin is /dev/null.
 */
#ifndef COHORT_DELIVER_H
#define COHORT_DELIVER_H

#include <stdint.h>

#include "common/cerr.h"
#include "common/conf.h"
#include "store/store.h"

#define DELIVER_MAX_IN_FLIGHT 16

struct event_base;
struct deliver;

/* Says whether this master may send now: only the active master of a
 * pair delivers (a standby's writes would be fenced anyway). */
typedef int (*deliver_gate_fn)(const void *arg);

/* Borrows base, s, conf and gate_arg, which must outlive it. */
struct deliver *deliver_new(struct event_base *base, struct store *s,
    const struct conf *conf, deliver_gate_fn gate, const void *gate_arg,
    struct cerr *err);
/* Cancels attempts in flight (their rows stay claimed and are tried again
 * after the claim runs out) and kills their children. */
void deliver_free(struct deliver *d);

/* Looks for due notifications at once: call after queueing some. */
void deliver_kick(struct deliver *d);

/* The wait after `attempts` failed attempts: base_s * 2^(attempts - 1),
 * at most max_s. */
int64_t deliver_backoff_s(int attempts, int64_t base_s, int64_t max_s);

/* Checks an operator's address for its kind: an http(s) URL for a
 * webhook, one plain address for e-mail, a command for a command, none
 * for log. CERR_INVALID names what is wrong. */
int deliver_check_address(
    enum operator_kind kind, const char *address, struct cerr *err);

#endif
