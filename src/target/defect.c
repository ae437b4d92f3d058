/*
 * defect: a target leaving its master (see defect.h).
 */
#include "target/defect.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/paths.h"
#include "target/target.h"
#include "target/tstore.h"

#define DEFECT_WHY "stopped: the target defects from its master"

int
defect_apply(struct target *t, struct cerr *err)
{
	if (tstore_job_delete_origin(t->store, ORIGIN_MASTER, err) < 0 ||
	    tstore_meta_set_int(t->store, "defecting", 1, err) < 0)
		return -1;
	return 0;
}

void
defect_begin(struct target *t)
{
	t->defecting = 1;
	log_info("defecting",
	    "msg=\"on the master's instruction: multiserver jobs removed; "
	    "leaving once their runs have ended and the outbox is "
	    "uploaded\"");
	runs_stop_master(t, DEFECT_WHY);
	upload_kick(t);
}

int
defect_ready(struct target *t)
{
	int64_t queued = 0, dropped = 0;
	struct cerr err;
	int busy = runs_master_busy(t, &err);

	if (busy == 0 &&
	    tstore_outbox_stats(t->store, &queued, &dropped, &err) < 0)
		busy = -1;
	if (busy < 0) {
		target_store_failed(t, &err);
		return 0;
	}
	return busy == 0 && queued == 0;
}

static int
remove_file(const struct conf *conf, const char *rel, struct cerr *err)
{
	char path[PATH_MAX];

	if (conf_state_path(conf, rel, path, sizeof(path), err) < 0)
		return -1;
	if (unlink(path) != 0 && errno != ENOENT)
		return cerr_set(err, CERR_IO, "remove %s: %m", path);
	return 0;
}

int
defect_forget_master(const struct conf *conf, struct tstore *s,
    int64_t *outbox_left, struct cerr *err)
{
	static const char *const tls_files[] = {
	    PATH_TLS_CERT, PATH_TLS_KEY, PATH_TLS_CA};
	char from[PATH_MAX], to[PATH_MAX + 16];

	/* The files first: cut off here, the daemon cannot start as a
	 * defecting target of nobody, and enlisting again forgets what the
	 * store still holds (cmd_enlist.c). */
	*outbox_left = 0;
	if (conf_state_path(conf, PATH_CONF, from, sizeof(from), err) < 0)
		return -1;
	snprintf(to, sizeof(to), "%s.defected", from);
	if (rename(from, to) != 0 && errno != ENOENT)
		return cerr_set(err, CERR_IO, "rename %s: %m", from);
	for (size_t i = 0; i < sizeof(tls_files) / sizeof(tls_files[0]); i++)
		if (remove_file(conf, tls_files[i], err) < 0)
			return -1;
	if (s != NULL && tstore_forget_master(s, outbox_left, err) < 0)
		return -1;
	return 0;
}

void
defect_finish(struct target *t)
{
	int64_t left = 0;
	struct cerr err;

	if (defect_forget_master(t->conf, t->store, &left, &err) < 0) {
		/* Stopping anyway, with an error: the master has let this
		 * target go; `cohortctl defect --force` finishes the rest. */
		snprintf(t->defect_failed, sizeof(t->defect_failed),
		    "defected on the master, but forgetting it failed: %s",
		    err.msg);
	} else {
		log_info("defected",
		    "master=%s outbox_left=%lld msg=\"multiserver jobs "
		    "removed, local jobs kept; enlist again to rejoin\"",
		    t->masters[t->master_index], (long long)left);
	}
	t->stopped_polling = 1;
	event_base_loopbreak(t->base);
}
