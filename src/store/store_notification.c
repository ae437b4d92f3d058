/*
 * store_notification: telling people, in the store interface (see
 * store.h): the operators notifications go to, with the wire names of
 * their kinds, and the notifications themselves with their delivery
 * record. Like the rest of the facade (store.c) it checks what does not
 * depend on the backend, then calls through s->ops.
 */
#include "store/store_backend.h"
#include "store/store_check.h"

/* ---- operators ------------------------------------------------------------ */

static const char *const operator_kind_names[OPERATOR_KIND_COUNT] = {
    "log",
    "webhook",
    "email",
    "command",
};
static const char *const delivery_status_names[DELIVERY_STATUS_COUNT] = {
    "pending",
    "delivered",
    "failed",
};

const char *
store_operator_kind_name(enum operator_kind k)
{
	return (int)k >= 0 && k < OPERATOR_KIND_COUNT ? operator_kind_names[k]
						      : "unknown";
}

int
store_operator_kind_parse(const char *name, enum operator_kind *out)
{
	int i = wire_name_index(operator_kind_names, OPERATOR_KIND_COUNT, name);

	if (i < 0)
		return -1;
	*out = (enum operator_kind)i;
	return 0;
}

const char *
store_delivery_status_name(enum delivery_status st)
{
	return (int)st >= 0 && st < DELIVERY_STATUS_COUNT
	    ? delivery_status_names[st]
	    : "unknown";
}

int
store_delivery_status_parse(const char *name, enum delivery_status *out)
{
	int i =
	    wire_name_index(delivery_status_names, DELIVERY_STATUS_COUNT, name);

	if (i < 0)
		return -1;
	*out = (enum delivery_status)i;
	return 0;
}

int
store_operator_add(
    struct store *s, const struct store_operator *op, struct cerr *err)
{
	struct store_operator copy = *op;

	if (store_check_name("add operator", op->name, err) < 0 ||
	    store_check_text("add operator: address", op->address,
		STORE_ADDRESS_MAX + 1, err) < 0)
		return -1;
	if ((int)op->kind < 0 || op->kind >= OPERATOR_KIND_COUNT)
		return cerr_set(err, CERR_INVALID,
		    "add operator %s: unknown kind %d", op->name,
		    (int)op->kind);
	copy.address = store_or_empty(op->address);
	copy.is_default = op->is_default != 0;
	return s->ops->operator_add(s->be, &copy, err);
}

int
store_operator_get(struct store *s, const char *name, store_operator_cb cb,
    void *arg, struct cerr *err)
{
	if (store_check_name("get operator", name, err) < 0)
		return -1;
	return s->ops->operator_get(s->be, name, cb, arg, err);
}

int
store_operator_get_default(
    struct store *s, store_operator_cb cb, void *arg, struct cerr *err)
{
	return s->ops->operator_get_default(s->be, cb, arg, err);
}

int
store_operator_list(
    struct store *s, store_operator_cb cb, void *arg, struct cerr *err)
{
	return s->ops->operator_list(s->be, cb, arg, err);
}

int
store_operator_set_default(struct store *s, const char *name, struct cerr *err)
{
	if (store_check_name("set default operator", name, err) < 0)
		return -1;
	return s->ops->operator_set_default(s->be, name, err);
}

int
store_operator_delete(struct store *s, const char *name, struct cerr *err)
{
	if (store_check_name("delete operator", name, err) < 0)
		return -1;
	return s->ops->operator_delete(s->be, name, err);
}

/* ---- notifications ---------------------------------------------------------- */

int
store_notification_add(struct store *s, const struct store_notification *n,
    int *added_out, struct cerr *err)
{
	struct store_notification copy = *n;
	int added = 0;

	if (n->key[0] == '\0')
		return cerr_set(
		    err, CERR_INVALID, "add notification: empty key");
	if (store_check_text(
		"add notification: key", n->key, STORE_KEY_MAX + 1, err) < 0 ||
	    store_check_name(
		"add notification: operator", n->operator_name, err) < 0 ||
	    store_check_text("add notification: subject", n->subject,
		STORE_TEXT_MAX, err) < 0)
		return -1;
	copy.payload = store_or_empty(n->payload);
	copy.last_error = "";
	copy.status = DELIVERY_PENDING;
	copy.attempts = 0;
	if (s->ops->notification_add(s->be, &copy, &added, err) < 0)
		return -1;
	if (added_out != NULL)
		*added_out = added;
	return 0;
}

int
store_notification_due(struct store *s, int64_t now, int limit,
    store_notification_cb cb, void *arg, struct cerr *err)
{
	if (limit <= 0)
		return cerr_set(err, CERR_INVALID,
		    "due notifications: limit must be positive");
	return s->ops->notification_due(s->be, now, limit, cb, arg, err);
}

int
store_notification_next_due(
    struct store *s, int64_t *next_at_out, int *found_out, struct cerr *err)
{
	*next_at_out = 0;
	*found_out = 0;
	return s->ops->notification_next_due(
	    s->be, next_at_out, found_out, err);
}

int
store_notification_update(struct store *s, int64_t id,
    enum delivery_status status, int attempts, int64_t next_at,
    const char *last_error, int64_t now, struct cerr *err)
{
	if ((int)status < 0 || status >= DELIVERY_STATUS_COUNT || attempts < 0)
		return cerr_set(err, CERR_INVALID,
		    "update notification %lld: bad status or attempts",
		    (long long)id);
	if (store_check_text("update notification: error", last_error,
		STORE_TEXT_MAX, err) < 0)
		return -1;
	return s->ops->notification_update(s->be, id, status, attempts, next_at,
	    store_or_empty(last_error), now, err);
}

int
store_notification_list(struct store *s,
    const struct store_notification_filter *f, store_notification_cb cb,
    void *arg, struct cerr *err)
{
	if (f->operator_name != NULL &&
	    store_check_name(
		"list notifications: operator", f->operator_name, err) < 0)
		return -1;
	if (f->status < -1 || f->status >= DELIVERY_STATUS_COUNT)
		return cerr_set(err, CERR_INVALID,
		    "list notifications: unknown status %d", f->status);
	if (f->limit < 0)
		return cerr_set(
		    err, CERR_INVALID, "list notifications: negative limit");
	return s->ops->notification_list(s->be, f, cb, arg, err);
}

int
store_notification_trim(struct store *s, int64_t keep, struct cerr *err)
{
	if (keep < 0)
		return cerr_set(err, CERR_INVALID,
		    "trim notifications: negative count to keep");
	return s->ops->notification_trim(s->be, keep, err);
}
