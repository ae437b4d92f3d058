/*
 * api_events: the events targets forwarded, newest first, filtered by
 * target and by severity (at or above).
 */
#include <stdio.h>
#include <string.h>

#include "common/timefmt.h"
#include "master/api.h"
#include "master/master.h"
#include "store/store.h"

#define DEFAULT_LIMIT 100
#define MAX_LIMIT 100000

static int
event_cb(void *arg, const struct store_event *e)
{
	char at[TIMEFMT_MAX], received[TIMEFMT_MAX];
	char run_id[STORE_NAME_MAX + 24];

	snprintf(run_id, sizeof(run_id), "%s:%lld", e->target,
	    (long long)e->target_run_id);
	return json_array_append_new(arg,
	    json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:s}", "id",
		(json_int_t)e->id, "target", e->target, "time",
		timefmt_utc_ms(e->time_ms, at), "severity",
		eventrec_severity_name(e->severity), "kind",
		eventrec_kind_name(e->kind), "job",
		e->job[0] ? json_string(e->job) : json_null(), "run_id",
		e->target_run_id > 0 ? json_string(run_id) : json_null(),
		"message", e->message, "received_at",
		timefmt_utc(e->received_at, received)));
}

void
api_events_list(struct http_req *r)
{
	struct store_event_filter f = {
	    http_query(r, "target"), -1, DEFAULT_LIMIT};
	const char *severity = http_query(r, "severity");
	json_t *list = json_array();
	enum event_severity sev;
	struct cerr err;

	if (severity != NULL) {
		if (eventrec_severity_parse(severity, &sev) < 0) {
			cerr_set(&err, CERR_INVALID,
			    "query parameter severity: "
			    "'%.40s' is not one of info, warning, error, "
			    "critical",
			    severity);
			goto fail;
		}
		f.min_severity = (int)sev;
	}
	if (http_query_int(r, "limit", 1, MAX_LIMIT, &f.limit, &err) < 0 ||
	    store_event_list(r->m->store, &f, event_cb, list, &err) < 0)
		goto fail;
	http_reply_json(r, 200, list);
	return;
fail:
	json_decref(list);
	http_reply_error(r, &err);
}
