/*
 * failed_defs: the targets where a job's latest definition failed (see
 * failed_defs.h).
 */
#include "master/failed_defs.h"

#include <string.h>

#include "common/wire.h"
#include "store/store.h"

struct failed_scan {
	const char *job;
	json_t *map; /* target -> its newest failed definition */
	int oom; /* a callback's stop is not an error to the store */
};

static int
is_definition_of(const struct store_instr *in, const char *job)
{
	return (in->op == INSTR_INSERT || in->op == INSTR_UPDATE) &&
	    strcmp(in->object, job) == 0;
}

/* Newest first: the first failed definition of a target is its newest. */
static int
failed_cb(void *arg, const struct store_instr *in)
{
	struct failed_scan *fs = arg;
	json_t *entry;

	if (!is_definition_of(in, fs->job) ||
	    json_object_get(fs->map, in->target) != NULL)
		return 0;
	entry = json_pack("{s:I,s:s,s:b,s:s}", "id", (json_int_t)in->id, "op",
	    instr_op_name(in->op), "cleared", in->cleared, "error",
	    in->error ? in->error : "");
	if (entry == NULL ||
	    json_object_set_new(fs->map, in->target, entry) < 0) {
		fs->oom = 1;
		return 1;
	}
	return 0;
}

struct newest_def {
	const char *job;
	int64_t id; /* 0: none found */
};

static int
newest_def_cb(void *arg, const struct store_instr *in)
{
	struct newest_def *nd = arg;

	if (!is_definition_of(in, nd->job))
		return 0;
	nd->id = in->id;
	return 1;
}

/* Keeps in fs->map only the targets whose failed definition is still the
 * job's newest there (a later apply may have posted another). */
static int
drop_superseded(struct store *s, struct failed_scan *fs, struct cerr *err)
{
	const char *target;
	json_t *entry;
	void *tmp;

	json_object_foreach_safe(fs->map, tmp, target, entry)
	{
		struct store_instr_filter f = {target, -1, 0};
		struct newest_def nd = {fs->job, 0};

		if (store_instr_list(s, &f, newest_def_cb, &nd, err) < 0)
			return -1;
		if (nd.id !=
		    (int64_t)json_integer_value(json_object_get(entry, "id")))
			json_object_del(fs->map, target);
	}
	return 0;
}

int
failed_defs_find(
    struct store *s, const char *job, json_t **out, struct cerr *err)
{
	struct store_instr_filter failed = {NULL, INSTR_FAILED, 0};
	struct failed_scan fs = {job, json_object(), 0};
	int rc = -1;

	if (fs.map == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	if (store_instr_list(s, &failed, failed_cb, &fs, err) < 0)
		goto out;
	if (fs.oom) {
		cerr_set(err, CERR_INTERNAL, "out of memory");
		goto out;
	}
	if (drop_superseded(s, &fs, err) < 0)
		goto out;
	*out = fs.map;
	fs.map = NULL;
	rc = 0;
out:
	if (rc < 0)
		cerr_wrap(err, "job '%s': its failed definitions", job);
	json_decref(fs.map);
	return rc;
}
