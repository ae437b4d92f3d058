/*
 * store_target: the fleet's part of the store interface (see store.h):
 * targets, the groups they are put in, and what lets a target in or
 * shuts it out (enlistment tokens, issued certificates, revoked
 * serials). Like the rest of the facade (store.c) it checks what does
 * not depend on the backend, then calls through s->ops.
 */
#include <ctype.h>
#include <string.h>

#include "store/store_backend.h"
#include "store/store_check.h"

#define HASH_HEX_LEN 64 /* SHA-256 */

/* Copies a SHA-256 hex digest into out (lowercase), refusing anything
 * else. The digest is never echoed back in the message. */
static int
check_hash(const char *hash_hex, char out[HASH_HEX_LEN + 1], struct cerr *err)
{
	if (hash_hex == NULL || strlen(hash_hex) != HASH_HEX_LEN)
		return cerr_set(err, CERR_INVALID,
		    "token hash: not %d hex digits", HASH_HEX_LEN);
	for (size_t i = 0; i < HASH_HEX_LEN; i++) {
		if (!isxdigit((unsigned char)hash_hex[i]))
			return cerr_set(err, CERR_INVALID,
			    "token hash: not %d hex digits", HASH_HEX_LEN);
		out[i] = (char)tolower((unsigned char)hash_hex[i]);
	}
	out[HASH_HEX_LEN] = '\0';
	return 0;
}

/* ---- targets ------------------------------------------------------- */

int
store_target_add(
    struct store *s, const struct store_target *t, struct cerr *err)
{
	if (store_check_name("add target", t->name, err) < 0)
		return -1;
	if (t->poll_interval_s <= 0)
		return cerr_set(err, CERR_INVALID,
		    "add target %s: poll interval must be positive", t->name);
	return s->ops->target_add(s->be, t, err);
}

int
store_target_get(struct store *s, const char *name, struct store_target *out,
    struct cerr *err)
{
	if (store_check_name("get target", name, err) < 0)
		return -1;
	return s->ops->target_get(s->be, name, out, err);
}

int
store_target_list(
    struct store *s, store_target_cb cb, void *arg, struct cerr *err)
{
	return s->ops->target_list(s->be, cb, arg, err);
}

int
store_target_polled(struct store *s, const char *name,
    const struct store_poll *p, struct cerr *err)
{
	if (store_check_name("record poll", name, err) < 0 ||
	    store_check_text("record poll: version", p->version,
		sizeof(((struct store_target *)0)->version), err) < 0)
		return -1;
	if (p->poll_interval_s <= 0)
		return cerr_set(err, CERR_INVALID,
		    "record poll %s: poll interval must be positive", name);
	return s->ops->target_polled(s->be, name, p, err);
}

int
store_target_set_defected(
    struct store *s, const char *name, int64_t now, struct cerr *err)
{
	if (store_check_name("defect target", name, err) < 0)
		return -1;
	return s->ops->target_set_defected(s->be, name, now, err);
}

int
store_target_set_location(
    struct store *s, const char *name, const char *location, struct cerr *err)
{
	if (store_check_name("set location", name, err) < 0 ||
	    store_check_text("set location", location, STORE_TEXT_MAX, err) < 0)
		return -1;
	return s->ops->target_set_location(
	    s->be, name, store_or_empty(location), err);
}

int
store_target_delete(struct store *s, const char *name, struct cerr *err)
{
	if (store_check_name("delete target", name, err) < 0)
		return -1;
	return s->ops->target_delete(s->be, name, err);
}

/* ---- enlistment tokens, revocation ----------------------------------- */

int
store_token_add(struct store *s, const char *target, const char *hash_hex,
    int64_t now, int64_t expires_at, struct cerr *err)
{
	char hash[HASH_HEX_LEN + 1];

	if (store_check_name("add token", target, err) < 0 ||
	    check_hash(hash_hex, hash, err) < 0)
		return -1;
	if (expires_at <= now)
		return cerr_set(err, CERR_INVALID,
		    "add token for %s: expiry is not in the future", target);
	return s->ops->token_add(s->be, target, hash, now, expires_at, err);
}

int
store_token_use(struct store *s, const char *target, const char *hash_hex,
    int64_t now, struct cerr *err)
{
	char hash[HASH_HEX_LEN + 1];

	if (store_check_name("use token", target, err) < 0 ||
	    check_hash(hash_hex, hash, err) < 0)
		return -1;
	return s->ops->token_use(s->be, target, hash, now, err);
}

int
store_revoke(struct store *s, const char *serial_hex, const char *name,
    int64_t now, struct cerr *err)
{
	if (serial_hex == NULL || serial_hex[0] == '\0')
		return cerr_set(err, CERR_INVALID, "revoke: empty serial");
	if (store_check_text("revoke: serial", serial_hex,
		sizeof(((struct store_target *)0)->cert_serial), err) < 0 ||
	    store_check_name("revoke", name, err) < 0)
		return -1;
	return s->ops->revoke(s->be, serial_hex, name, now, err);
}

int
store_revoked_list(
    struct store *s, store_serial_cb cb, void *arg, struct cerr *err)
{
	return s->ops->revoked_list(s->be, cb, arg, err);
}

/* ---- target groups ----------------------------------------------------- */

int
store_group_create(
    struct store *s, const char *name, int64_t now, struct cerr *err)
{
	if (store_check_name("create group", name, err) < 0)
		return -1;
	return s->ops->group_create(s->be, name, now, err);
}

int
store_group_delete(struct store *s, const char *name, struct cerr *err)
{
	if (store_check_name("delete group", name, err) < 0)
		return -1;
	return s->ops->group_delete(s->be, name, err);
}

int
store_group_add(struct store *s, const char *group, const char *target,
    int *added_out, struct cerr *err)
{
	int added;

	if (store_check_name("add to group", group, err) < 0 ||
	    store_check_name("add to group: target", target, err) < 0)
		return -1;
	return s->ops->group_add(
	    s->be, group, target, added_out ? added_out : &added, err);
}

int
store_group_remove(
    struct store *s, const char *group, const char *target, struct cerr *err)
{
	if (store_check_name("remove from group", group, err) < 0 ||
	    store_check_name("remove from group: target", target, err) < 0)
		return -1;
	return s->ops->group_remove(s->be, group, target, err);
}

int
store_group_list(struct store *s, store_name_cb cb, void *arg, struct cerr *err)
{
	return s->ops->group_list(s->be, cb, arg, err);
}

int
store_group_members(struct store *s, const char *group, store_name_cb cb,
    void *arg, struct cerr *err)
{
	if (store_check_name("list group members", group, err) < 0)
		return -1;
	return s->ops->group_members(s->be, group, cb, arg, err);
}

/* ---- issued certificates (security) ----------------------------------- */

/* A serial: 1..79 hex digits (pki.h's form). */
static int
check_serial(const char *what, const char *serial_hex, struct cerr *err)
{
	size_t len = serial_hex != NULL ? strlen(serial_hex) : 0;

	if (len == 0 || len >= sizeof(((struct store_cert *)0)->serial_hex))
		return cerr_set(err, CERR_INVALID,
		    "%s: serial must be 1..%zu hex digits", what,
		    sizeof(((struct store_cert *)0)->serial_hex) - 1);
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)serial_hex[i]))
			return cerr_set(err, CERR_INVALID,
			    "%s: serial is not hexadecimal", what);
	return 0;
}

int
store_cert_add(struct store *s, const struct store_cert *c, struct cerr *err)
{
	if (check_serial("record certificate", c->serial_hex, err) < 0 ||
	    store_check_name("record certificate", c->name, err) < 0 ||
	    store_check_name("record certificate: role", c->role, err) < 0 ||
	    store_check_text(
		"record certificate: role", c->role, sizeof(c->role), err) < 0)
		return -1;
	return s->ops->cert_add(s->be, c, err);
}

int
store_cert_get(struct store *s, const char *serial_hex, struct store_cert *out,
    struct cerr *err)
{
	if (check_serial("get certificate", serial_hex, err) < 0)
		return -1;
	return s->ops->cert_get(s->be, serial_hex, out, err);
}

int
store_cert_list(struct store *s, const char *name, store_cert_cb cb, void *arg,
    struct cerr *err)
{
	if (name != NULL &&
	    store_check_name("list certificates", name, err) < 0)
		return -1;
	return s->ops->cert_list(s->be, name, cb, arg, err);
}

int
store_target_set_serial(
    struct store *s, const char *name, const char *serial_hex, struct cerr *err)
{
	if (store_check_name("set serial", name, err) < 0 ||
	    check_serial("set serial", serial_hex, err) < 0)
		return -1;
	return s->ops->target_set_serial(s->be, name, serial_hex, err);
}
