/*
 * status: derived target status and its JSON view (see status.h).
 */
#include "master/status.h"

#include "common/json.h"
#include "common/timefmt.h"
#include "master/longpoll.h"
#include "master/master.h"
#include "store/store.h"

#define OFFLINE_INTERVALS 3

const char *
status_of_target(struct master *m, const struct store_target *t, int64_t now)
{
	int64_t seen = t->last_poll ? t->last_poll : t->enlisted_at;

	if (t->defected)
		return "defected";
	if (t->failed > 0)
		return "blocked";
	if (!longpoll_is_waiting(m, t->name) &&
	    now - seen > (int64_t)OFFLINE_INTERVALS * t->poll_interval_s)
		return "suspected offline";
	return "normal";
}

json_t *
status_target_json(struct master *m, const struct store_target *t, int64_t now)
{
	char local[TIMEFMT_MAX];
	json_t *local_time = json_null();

	/* The target's clock at its last poll, advanced by the time since. */
	if (t->last_poll > 0)
		local_time = json_string(
		    timefmt_offset(t->local_time + (now - t->last_poll),
			t->tz_offset_s, local));
	return json_pack("{s:s,s:s,s:o,s:I,s:s,s:s,s:o,s:i,s:i,s:o,s:I,s:I}",
	    "name", t->name, "status", status_of_target(m, t, now), "last_poll",
	    json_utc_or_null(t->last_poll), "unread_instructions",
	    (json_int_t)t->unread, "version", t->version, "location",
	    t->location, "enlisted_at", json_utc_or_null(t->enlisted_at),
	    "poll_interval_s", (int)t->poll_interval_s, "time_zone_offset_s",
	    (int)t->tz_offset_s, "local_time", local_time,
	    "failed_instructions", (json_int_t)t->failed, "outbox_dropped",
	    (json_int_t)t->outbox_dropped);
}
