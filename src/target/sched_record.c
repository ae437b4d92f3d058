/*
 * sched_record: what an evaluation of the scheduler writes (sched_int.h):
 * a due run claimed in the run ledger, or refused under the job's overlap
 * policy and held until the blocking run ends, and missed-run records.
 */
#include "target/sched_int.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "target/runlog.h"

int
sched_write_miss(struct scheduler *sc, const struct sched_entry *e,
    const struct schedplan_miss *m, int catch_up, struct cerr *err)
{
	char msg[RUNREC_MESSAGE_MAX];

	schedplan_miss_text(m, e->tz != NULL ? e->tz : sc->utc, e->job->misfire,
	    catch_up, msg, sizeof(msg));
	snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
	    " [schedule %s, reason: %s]", e->s->name,
	    schedplan_reason_name(m->reason));
	sc->upload = 1;
	return runlog_missed(
	    sc->t, e->job->name, e->local, e->job, m->first * 1000, msg, err);
}

int
sched_flush_overlap(struct scheduler *sc, const struct sched_entry *e,
    struct tstore_sched *row, struct cerr *err)
{
	struct schedplan_miss m = {SCHEDPLAN_OVERLAP, row->miss_first,
	    row->miss_last, 0, 0, row->miss_count, 0, 0};

	if (row->miss_count == 0)
		return 0;
	row->miss_first = row->miss_last = row->miss_count = 0;
	return sched_write_miss(sc, e, &m, 0, err);
}

/* Whether a due run of e's job must not be added: refuse while a run is
 * queued or running; queue while one already waits behind a running one
 * (the queue holds one run, not a backlog). */
static int
overlap_refused(
    struct scheduler *sc, const struct sched_entry *e, struct cerr *err)
{
	int64_t active = 0;

	if (tstore_run_count_active(sc->t->store, e->job->name, &active, err) <
	    0)
		return -1;
	if (e->job->overlap == OVERLAP_REFUSE)
		return active > 0;
	return active - runs_running(sc->t, e->job->name) > 0;
}

/* A due run refused by the overlap policy: held in row (the schedule's
 * state) until the blocking run ends, or, for "start" and "idle"
 * schedules (row NULL), recorded at once. */
static int
refuse_due_run(struct scheduler *sc, const struct sched_entry *e, int64_t due,
    struct tstore_sched *row, struct cerr *err)
{
	struct schedplan_miss m = {SCHEDPLAN_OVERLAP, due, due, 0, 0, 1, 0, 0};

	if (row == NULL)
		return sched_write_miss(sc, e, &m, 0, err);
	if (row->miss_count++ == 0)
		row->miss_first = due;
	row->miss_last = due;
	log_info("run_refused", "job=%s schedule=%s due=%lld why=overlap",
	    e->job->name, e->s->name, (long long)due);
	return 0;
}

int
sched_add_due_run(struct scheduler *sc, const struct sched_entry *e,
    int64_t due, struct tstore_sched *row, struct cerr *err)
{
	int64_t run_id = 0;
	int existed, refused;

	/* Another schedule of the job due at the same instant (or this one,
	 * evaluated again after a lost cursor) holds the run: this instant
	 * is that run, by the (job, due instant) key. Asked before the
	 * overlap rule, which would count that very run as the one this
	 * instant overlaps and record a refusal of a run that happens. */
	if (tstore_run_by_due(sc->t->store, e->job->name, due, &run_id, err) <
	    0)
		return -1;
	if (run_id != 0)
		return 1;
	refused = overlap_refused(sc, e, err);
	if (refused < 0)
		return -1;
	if (refused)
		return refuse_due_run(sc, e, due, row, err) < 0 ? -1 : 0;
	if ((row != NULL && sched_flush_overlap(sc, e, row, err) < 0) ||
	    tstore_run_add(sc->t->store, e->job->name, e->local, 0, due,
		timefmt_now_s(), &run_id, &existed, err) < 0)
		return -1;
	if (!existed) {
		sc->kick = 1;
		log_info("run_due", "run=%lld job=%s schedule=%s due=%lld",
		    (long long)run_id, e->job->name, e->s->name,
		    (long long)due);
	}
	return 1;
}
