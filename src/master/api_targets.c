/*
 * api_targets: listing targets with their derived status, and deleting one
 * from the master's side (its certificate is revoked at once, so it can
 * no longer call in, and a poll it holds is answered "gone").
 */
#include <string.h>

#include "common/log.h"
#include "master/api.h"
#include "master/jobs.h"
#include "master/longpoll.h"
#include "master/master.h"
#include "master/outbox_seen.h"
#include "master/status.h"
#include "store/store.h"

struct list_ctx {
	struct master *m;
	json_t *list;
	int64_t now;
};

static int
list_cb(void *arg, const struct store_target *t)
{
	struct list_ctx *lc = arg;

	json_array_append_new(lc->list, status_target_json(lc->m, t, lc->now));
	return 0;
}

void
api_targets_list(struct http_req *r)
{
	struct list_ctx lc = {r->m, json_array(), master_now()};
	struct cerr err;

	if (store_target_list(r->m->store, list_cb, &lc, &err) < 0) {
		json_decref(lc.list);
		http_reply_error(r, &err);
		return;
	}
	http_reply_json(r, 200, lc.list);
}

void
api_target_get(struct http_req *r)
{
	struct store_target t;
	struct cerr err;

	if (store_target_get(r->m->store, r->args[0], &t, &err) < 0) {
		http_reply_error(r, &err);
		return;
	}
	http_reply_json(r, 200, status_target_json(r->m, &t, master_now()));
}

/* Revokes a serial in the store and in the in-memory set checked on
 * every request. */
int
master_revoke(
    struct master *m, const char *serial, const char *name, struct cerr *err)
{
	if (serial[0] == '\0')
		return 0;
	if (store_revoke(m->store, serial, name, master_now(), err) < 0)
		return -1;
	return strmap_put(&m->revoked, serial, NULL, NULL, err);
}

void
api_target_delete(struct http_req *r)
{
	struct serial_list revoked = {0};
	struct store_target t;
	struct store_cert issued;
	struct cerr err, gone;
	char note[512];
	int external = 0;

	if (store_target_get(r->m->store, r->args[0], &t, &err) < 0)
		goto fail;
	/* Not a certificate this master issued: the external CA's. */
	if (t.cert_serial[0] != '\0' &&
	    store_cert_get(r->m->store, t.cert_serial, &issued, &err) < 0) {
		if (err.code != CERR_NOT_FOUND)
			goto fail;
		external = 1;
	}
	if (store_begin(r->m->store, &err) < 0)
		goto fail;
	/* Every certificate it holds: the current one, and one it renewed
	 * from and has not yet stopped using. */
	if ((t.cert_serial[0] != '\0' &&
		(store_revoke(r->m->store, t.cert_serial, t.name, master_now(),
		     &err) < 0 ||
		    serial_list_add(&revoked, t.cert_serial, &err) < 0)) ||
	    api_certs_revoke_target(r->m, t.name, &revoked, &err) < 0 ||
	    jobs_forget_target(r->m, t.name, &err) < 0 ||
	    store_target_delete(r->m->store, t.name, &err) < 0 ||
	    store_commit(r->m->store, &err) < 0) {
		store_rollback(r->m->store);
		goto fail;
	}
	/* Only after the commit: a rolled-back delete revokes nothing. */
	serial_list_apply(r->m, &revoked, "target_deleted");
	serial_list_clear(&revoked);
	outbox_seen_forget(r->m, t.name);
	log_info("target_deleted", "target=%s by=%s serial=%s", t.name,
	    r->caller.id.name, t.cert_serial);
	cerr_set(
	    &gone, CERR_GONE, "target '%s' was deleted on the master", t.name);
	longpoll_refuse(r->m, t.name, &gone);
	/* Its CA issues it another certificate, and with that it enlists
	 * again on its next poll, for as long as the map line admits it. */
	if (external) {
		snprintf(note, sizeof(note),
		    "target '%s' has a certificate of the external CA: a new "
		    "one from that CA enlists it again; remove 'map %s = "
		    "target' from the master's configuration (and restart "
		    "it) to keep it out",
		    t.name, t.name);
		http_reply_json(
		    r, 200, json_pack("{s:b,s:s}", "ok", 1, "note", note));
		return;
	}
	http_reply_ok(r);
	return;
fail:
	serial_list_clear(&revoked);
	http_reply_error(r, &err);
}
