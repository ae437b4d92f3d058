/*
 * eventrec: events, their names, their JSON form and the strict reader
 * the master applies to uploads (see eventrec.h). Messages are cleaned
 * where an event is made, on the target, because the master refuses
 * control characters and invalid UTF-8 rather than repairing them.
 */
#include "common/eventrec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "common/jobdoc.h"
#include "common/json.h"
#include "common/runrec.h"
#include "common/timefmt.h"
#include "common/wire.h"

static const char *const severity_names[EVENT_SEVERITY_COUNT] = {
    "info",
    "warning",
    "error",
    "critical",
};
static const char *const kind_names[EVENT_KIND_COUNT] = {
    "job_failed",
    "step_timeout",
    "daemon_error",
    "user",
    "clock_jump",
};

const char *
eventrec_severity_name(enum event_severity s)
{
	return (int)s >= 0 && s < EVENT_SEVERITY_COUNT ? severity_names[s]
						       : "unknown";
}

int
eventrec_severity_parse(const char *name, enum event_severity *out)
{
	int i = wire_name_index(severity_names, EVENT_SEVERITY_COUNT, name);

	if (i < 0)
		return -1;
	*out = (enum event_severity)i;
	return 0;
}

const char *
eventrec_kind_name(enum event_kind k)
{
	return (int)k >= 0 && k < EVENT_KIND_COUNT ? kind_names[k] : "unknown";
}

int
eventrec_kind_parse(const char *name, enum event_kind *out)
{
	int i = wire_name_index(kind_names, EVENT_KIND_COUNT, name);

	if (i < 0)
		return -1;
	*out = (enum event_kind)i;
	return 0;
}

/* Copies text as valid UTF-8 without control characters, cut to fit. */
static int
set_message(struct eventrec *ev, const char *text, struct cerr *err)
{
	char *clean = runrec_clean_text(
	    text ? text : "", text ? strlen(text) : 0, EVENTREC_MESSAGE_MAX);

	if (clean == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	for (char *p = clean; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	snprintf(ev->message, sizeof(ev->message), "%s", clean);
	free(clean);
	return 0;
}

int
eventrec_init(struct eventrec *ev, enum event_severity severity,
    enum event_kind kind, const char *job, int64_t run_id, const char *message,
    struct cerr *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[EVENTREC_ID_LEN / 2];

	memset(ev, 0, sizeof(*ev));
	if ((int)severity < 0 || severity >= EVENT_SEVERITY_COUNT ||
	    (int)kind < 0 || kind >= EVENT_KIND_COUNT || run_id < 0)
		return cerr_set(err, CERR_INVALID,
		    "event: bad severity, kind "
		    "or run id");
	if (job != NULL && job[0] != '\0' &&
	    jobdoc_check_name(job, EVENTREC_JOB_MAX, "event: job", err) < 0)
		return -1;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return cerr_set(err, CERR_INTERNAL, "event: no random id");
	for (size_t i = 0; i < sizeof(rnd); i++) {
		ev->id[2 * i] = hex[rnd[i] >> 4];
		ev->id[2 * i + 1] = hex[rnd[i] & 0xf];
	}
	ev->time_ms = timefmt_now_ms();
	ev->severity = severity;
	ev->kind = kind;
	snprintf(ev->job, sizeof(ev->job), "%s", job ? job : "");
	ev->run_id = run_id;
	return set_message(ev, message, err);
}

json_t *
eventrec_to_json(const struct eventrec *ev)
{
	return json_pack("{s:s,s:I,s:s,s:s,s:o,s:o,s:s}", "id", ev->id,
	    "time_ms", (json_int_t)ev->time_ms, "severity",
	    eventrec_severity_name(ev->severity), "kind",
	    eventrec_kind_name(ev->kind), "job",
	    ev->job[0] ? json_string(ev->job) : json_null(), "run_id",
	    ev->run_id > 0 ? json_integer(ev->run_id) : json_null(), "message",
	    ev->message);
}

/* A field reader's result for a required member: absent is an error. */
static int
required(int rc, const char *key, struct cerr *err)
{
	if (rc == 1)
		return cerr_set(err, CERR_INVALID, "event.%s: missing", key);
	return rc;
}

static int
read_id(const json_t *v, struct eventrec *out, struct cerr *err)
{
	const char *id = NULL;

	if (required(
		json_get_string(v, "id", "event", EVENTREC_ID_LEN, 0, &id, err),
		"id", err) < 0)
		return -1;
	if (strlen(id) != EVENTREC_ID_LEN ||
	    strspn(id, "0123456789abcdef") != EVENTREC_ID_LEN)
		return cerr_set(err, CERR_INVALID,
		    "event.id: not %d lowercase "
		    "hex digits",
		    EVENTREC_ID_LEN);
	memcpy(out->id, id, EVENTREC_ID_LEN + 1);
	return 0;
}

/* A required enum member, by its names. */
static int
read_enum(const json_t *v, const char *key, int (*parse)(const char *, int *),
    int *out, struct cerr *err)
{
	const char *name = NULL;

	if (required(json_get_string(v, key, "event", 32, 0, &name, err), key,
		err) < 0)
		return -1;
	if (parse(name, out) < 0)
		return cerr_set(
		    err, CERR_INVALID, "event.%s: '%s' is unknown", key, name);
	return 0;
}

static int
parse_severity(const char *name, int *out)
{
	enum event_severity s;

	if (eventrec_severity_parse(name, &s) < 0)
		return -1;
	*out = (int)s;
	return 0;
}

static int
parse_kind(const char *name, int *out)
{
	enum event_kind k;

	if (eventrec_kind_parse(name, &k) < 0)
		return -1;
	*out = (int)k;
	return 0;
}

static int
read_job(const json_t *v, struct eventrec *out, struct cerr *err)
{
	const char *job = NULL;
	int rc =
	    json_get_string(v, "job", "event", EVENTREC_JOB_MAX, 0, &job, err);

	if (rc < 0)
		return -1;
	if (rc == 1)
		return 0;
	if (jobdoc_check_name(job, EVENTREC_JOB_MAX, "event.job", err) < 0)
		return -1;
	snprintf(out->job, sizeof(out->job), "%s", job);
	return 0;
}

int
eventrec_from_json(const json_t *v, struct eventrec *out, struct cerr *err)
{
	static const char *const keys[] = {"id", "time_ms", "severity", "kind",
	    "job", "run_id", "message", NULL};
	const char *message = NULL;
	int severity = 0, kind = 0;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(v))
		return cerr_set(err, CERR_INVALID, "event: must be an object");
	if (json_check_keys(v, keys, "event", err) < 0 ||
	    read_id(v, out, err) < 0 ||
	    required(json_get_int(v, "time_ms", "event", 1, TIMEFMT_MS_MAX,
			 &out->time_ms, err),
		"time_ms", err) < 0 ||
	    read_enum(v, "severity", parse_severity, &severity, err) < 0 ||
	    read_enum(v, "kind", parse_kind, &kind, err) < 0 ||
	    read_job(v, out, err) < 0 ||
	    json_get_int(
		v, "run_id", "event", 1, INT64_MAX, &out->run_id, err) < 0 ||
	    required(json_get_string(v, "message", "event",
			 EVENTREC_MESSAGE_MAX, 0, &message, err),
		"message", err) < 0)
		return -1;
	out->severity = (enum event_severity)severity;
	out->kind = (enum event_kind)kind;
	snprintf(out->message, sizeof(out->message), "%s", message);
	return 0;
}
