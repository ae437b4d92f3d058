/*
 * api_defect: the two ways a target leaves this master (master/defect.h).
 * POST /v1/defect is the target's own request, with its certificate.
 * POST /v1/targets/{name}/defect is an administrator's: it posts the
 * target a `defect` instruction, which takes effect when the target
 * acknowledges it (longpoll.c). Posting again while one is on its way
 * answers the same instruction, so a retried request posts nothing new.
 */
#include <string.h>

#include "common/log.h"
#include "master/api.h"
#include "master/defect.h"
#include "master/longpoll.h"
#include "master/master.h"
#include "master/status.h"
#include "store/store.h"

void
api_defect(struct http_req *r)
{
	const char *name = r->caller.id.name;
	struct serial_list rv = {0};
	struct cerr err;

	if (store_begin(r->m->store, &err) < 0)
		goto fail;
	if (defect_in_tx(r->m, name, r->caller.id.serial_hex, &rv, &err) < 0 ||
	    store_commit(r->m->store, &err) < 0) {
		store_rollback(r->m->store);
		goto fail;
	}
	defect_committed(r->m, name, &rv, name);
	serial_list_clear(&rv);
	http_reply_ok(r);
	return;
fail:
	serial_list_clear(&rv);
	http_reply_error(r, &err);
}

static void
reply_posted(
    struct http_req *r, const struct store_target *t, int64_t id, int again)
{
	const char *status = status_of_target(r->m, t, master_now());

	http_reply_json(r, 200,
	    json_pack("{s:s,s:I,s:s,s:b,s:[{s:s,s:s,s:I}]}", "target", t->name,
		"id", (json_int_t)id, "status", status, "posted_before", again,
		"posted", "target", t->name, "op", "defect", "id",
		(json_int_t)id));
}

/* The post, and a worker taking nothing new from now on: a disabled
 * worker finishes what it runs (the defect then stops it). */
static int
post_in_tx(struct http_req *r, const char *name, int64_t *id, struct cerr *err)
{
	if (store_instr_post(r->m->store, name, INSTR_DEFECT, "", "",
		master_now(), id, err) < 0)
		return -1;
	if (store_worker_set_enabled(r->m->store, name, 0, err) < 0 &&
	    err->code != CERR_NOT_FOUND)
		return -1;
	return 0;
}

void
api_target_defect(struct http_req *r)
{
	struct store_target t;
	struct cerr err;
	int64_t id = 0;

	if (store_target_get(r->m->store, r->args[0], &t, &err) < 0)
		goto fail;
	if (t.defected) {
		cerr_set(&err, CERR_CONFLICT,
		    "target '%s' has defected already", t.name);
		goto fail;
	}
	if (defect_open(r->m, t.name, &id, &err) < 0)
		goto fail;
	if (id > 0) {
		reply_posted(r, &t, id, 1);
		return;
	}
	if (store_begin(r->m->store, &err) < 0)
		goto fail;
	if (post_in_tx(r, t.name, &id, &err) < 0 ||
	    store_commit(r->m->store, &err) < 0) {
		store_rollback(r->m->store);
		goto fail;
	}
	log_info("defect_posted", "target=%s id=%lld by=%s", t.name,
	    (long long)id, r->caller.id.name);
	r->m->metrics.posted++;
	longpoll_wake(r->m, t.name);
	reply_posted(r, &t, id, 0);
	return;
fail:
	http_reply_error(r, &err);
}
