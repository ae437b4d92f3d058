/*
 * defect: a target leaving this master (see defect.h).
 */
#include "master/defect.h"

#include <string.h>

#include "common/log.h"
#include "master/api.h"
#include "master/jobs.h"
#include "master/master.h"
#include "master/outbox_seen.h"
#include "master/scaleout.h"
#include "store/store.h"

static int
open_defect_cb(void *arg, const struct store_instr *in)
{
	int64_t *id = arg;

	if (in->op != INSTR_DEFECT ||
	    (in->status != INSTR_PENDING && in->status != INSTR_DOWNLOADED))
		return 0;
	*id = in->id;
	return 1;
}

int
defect_open(
    struct master *m, const char *name, int64_t *id_out, struct cerr *err)
{
	struct store_instr_filter f = {name, -1, 0};

	*id_out = 0;
	return store_instr_list(m->store, &f, open_defect_cb, id_out, err);
}

static int
revoke_one(struct master *m, const char *name, const char *serial,
    struct serial_list *out, struct cerr *err)
{
	if (serial == NULL || serial[0] == '\0')
		return 0;
	if (store_revoke(m->store, serial, name, master_now(), err) < 0)
		return -1;
	return serial_list_add(out, serial, err);
}

int
defect_in_tx(struct master *m, const char *name, const char *caller_serial,
    struct serial_list *out, struct cerr *err)
{
	struct store_target t;

	if (store_target_get(m->store, name, &t, err) < 0 ||
	    store_instr_drop_pending(m->store, name, err) < 0 ||
	    jobs_forget_target(m, name, err) < 0 ||
	    store_target_set_defected(m->store, name, master_now(), err) < 0 ||
	    revoke_one(m, name, caller_serial, out, err) < 0 ||
	    revoke_one(m, name, t.cert_serial, out, err) < 0)
		return -1;
	/* Every other certificate issued to it (one it renewed to, or from,
	 * and has not stopped using). */
	return api_certs_revoke_target(m, name, out, err);
}

void
defect_committed(struct master *m, const char *name,
    const struct serial_list *rv, const char *by)
{
	serial_list_apply(m, rv, "defected");
	scaleout_resynced(m, name);
	outbox_seen_forget(m, name);
	log_info("defected", "target=%s by=%s revoked=%d", name, by, rv->n);
}
