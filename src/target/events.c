/*
 * events: the target's events into its outbox (see events.h), and the
 * daemon's own events (events_raise() in target.h): a failed run, a step
 * that timed out, and the daemon's errors, which are rate-limited so that
 * a failing disk does not flood the outbox it is failing to write.
 */
#include "target/events.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/json.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "target/outbox_bound.h"
#include "target/target.h"
#include "target/tstore.h"

#define DAEMON_ERROR_EVERY_S 60 /* at most one daemon_error per minute */

int
events_forwarded(const struct conf *conf, const struct eventrec *ev)
{
	return (int)ev->severity >= conf->event_forward_level;
}

int
events_queue(struct tstore *s, const struct conf *conf,
    const struct eventrec *ev, int *queued_out, struct cerr *err)
{
	struct tstore_outbox_bounds bounds;
	json_t *v;
	char *text;
	int rc;

	if (queued_out != NULL)
		*queued_out = 0;
	if (!events_forwarded(conf, ev))
		return 0;
	v = eventrec_to_json(ev);
	text = v ? json_dump_compact(v) : NULL;
	json_decref(v);
	if (text == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	bounds = outbox_bound_get(conf);
	rc = tstore_outbox_add(s, "event", text, &bounds, timefmt_now_s(), err);
	free(text);
	if (rc == 0 && queued_out != NULL)
		*queued_out = 1;
	return rc;
}

void
events_raise(struct target *t, enum event_severity severity,
    enum event_kind kind, const char *job, int64_t run_id, const char *fmt, ...)
{
	char msg[EVENTREC_MESSAGE_MAX + 1], q[EVENTREC_MESSAGE_MAX + 8];
	struct eventrec ev;
	struct cerr err;
	int queued = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (eventrec_init(&ev, severity, kind, job, run_id, msg, &err) < 0 ||
	    events_queue(t->store, t->conf, &ev, &queued, &err) < 0) {
		/* Not events_daemon_error(): that reports through here. */
		log_error("event", "kind=%s msg=%s", eventrec_kind_name(kind),
		    LOG_TEXT(err.msg));
		return;
	}
	if (!queued) {
		/* below event_forward_level: the log keeps it */
		log_info("event_not_forwarded", "severity=%s kind=%s msg=%s",
		    eventrec_severity_name(severity), eventrec_kind_name(kind),
		    log_quote(q, sizeof(q), ev.message));
		return;
	}
	log_info("event_queued", "severity=%s kind=%s msg=%s",
	    eventrec_severity_name(severity), eventrec_kind_name(kind),
	    log_quote(q, sizeof(q), ev.message));
	upload_kick(t);
}

void
events_daemon_error(struct target *t, const char *what, const char *msg)
{
	int64_t now = timefmt_now_s();

	if (t->daemon_error_at != 0 &&
	    now - t->daemon_error_at < DAEMON_ERROR_EVERY_S) {
		t->daemon_errors_held++;
		return;
	}
	t->daemon_error_at = now;
	if (t->daemon_errors_held > 0)
		events_raise(t, EVENT_ERROR, EVENT_DAEMON_ERROR, NULL, 0,
		    "%s: %s (and %d more daemon errors since the last "
		    "report)",
		    what, msg, t->daemon_errors_held);
	else
		events_raise(t, EVENT_ERROR, EVENT_DAEMON_ERROR, NULL, 0,
		    "%s: %s", what, msg);
	t->daemon_errors_held = 0;
}
