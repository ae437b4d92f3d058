/*
 * eventrec: an event on a target (a job that failed, a step that timed
 * out, a daemon error, or one raised with `cohortctl event raise`), with
 * its severity. A target forwards the events at or above its
 * event_forward_level through its outbox (kind "event"); the master reads
 * the uploaded JSON with eventrec_from_json(), which refuses anything but
 * the exact form, before storing it.
 *
 * Each event carries an id made on the target (random, 32 hex digits):
 * an outbox may upload a record twice, and the master keeps one event
 * per (target, id).
 *
 * struct eventrec holds everything inline: no allocations, nothing to
 * free.
 */
#ifndef COHORT_EVENTREC_H
#define COHORT_EVENTREC_H

#include <stdint.h>

#include <jansson.h>

#include "common/cerr.h"

#define EVENTREC_ID_LEN 32 /* hex digits */
#define EVENTREC_JOB_MAX 128 /* JOB_NAME_MAX */
#define EVENTREC_MESSAGE_MAX 1024

/* In rising order: "at or above" compares these values. The names are
 * stable wire names (API, stores, configuration). */
enum event_severity {
	EVENT_INFO,
	EVENT_WARNING,
	EVENT_ERROR,
	EVENT_CRITICAL,
	EVENT_SEVERITY_COUNT
};

enum event_kind {
	EVENT_JOB_FAILED, /* a job run ended failed */
	EVENT_STEP_TIMEOUT, /* a step attempt ran into its timeout */
	EVENT_DAEMON_ERROR, /* the target daemon itself failed */
	EVENT_USER, /* cohortctl event raise */
	/* appended: the target's wall clock jumped against its monotonic
	 * clock (a master from before it refuses the record) */
	EVENT_CLOCK_JUMP,
	EVENT_KIND_COUNT
};

struct eventrec {
	char id[EVENTREC_ID_LEN + 1];
	int64_t time_ms; /* UTC, the target's clock */
	enum event_severity severity;
	enum event_kind kind;
	char job[EVENTREC_JOB_MAX + 1]; /* "" when none */
	int64_t run_id; /* the target's run id, 0 when none */
	char message[EVENTREC_MESSAGE_MAX + 1];
};

/* "info", "warning", "error", "critical" / "job_failed", "step_timeout",
 * "daemon_error", "user", "clock_jump". */
const char *eventrec_severity_name(enum event_severity s);
int eventrec_severity_parse(const char *name, enum event_severity *out);
const char *eventrec_kind_name(enum event_kind k);
int eventrec_kind_parse(const char *name, enum event_kind *out);

/* A new event with a fresh id and the current time. message is made
 * valid UTF-8 without control characters (each becomes a space) and cut
 * to EVENTREC_MESSAGE_MAX bytes; job (may be NULL) must be a valid name
 * or empty. CERR_INVALID for a bad job name or enum, CERR_INTERNAL when
 * no random id can be made. */
int eventrec_init(struct eventrec *ev, enum event_severity severity,
    enum event_kind kind, const char *job, int64_t run_id, const char *message,
    struct cerr *err);

/* {"id", "time_ms", "severity", "kind", "job" (null when none),
 * "run_id" (null when none), "message"}. New reference, NULL on
 * out-of-memory. */
json_t *eventrec_to_json(const struct eventrec *ev);
/* Validates every field (types, ranges, names, lengths, no control
 * characters); unknown or missing fields are refused with the field
 * named. */
int eventrec_from_json(const json_t *v, struct eventrec *out, struct cerr *err);

#endif
