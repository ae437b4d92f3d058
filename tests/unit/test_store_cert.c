/*
 * Unit tests for the security tables of the store: issued certificates
 * (recorded, listed in issue order, shown revoked through the revocation
 * table, refused when malformed or twice), a target's serial after
 * rotation, and the audit log (newest first, since, limit, trim).
 */
#include "test_store.h"

struct certs {
	struct store_cert v[8];
	int n;
};

static int
collect_cert(void *arg, const struct store_cert *c)
{
	struct certs *cs = arg;

	cs->v[cs->n++] = *c;
	return cs->n >= 8;
}

static void
put_cert(struct store *s, const char *serial, const char *name,
    const char *role, int64_t at)
{
	struct store_cert c;
	struct cerr err;

	memset(&c, 0, sizeof(c));
	snprintf(c.serial_hex, sizeof(c.serial_hex), "%s", serial);
	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(c.role, sizeof(c.role), "%s", role);
	c.issued_at = at;
	c.not_after = at + 86400;
	if (store_cert_add(s, &c, &err) < 0)
		fail_msg("add cert %s: %s", serial, err.msg);
}

static void
test_cert_record_list_revoke(void **state)
{
	struct fx *fx = *state;
	struct store_cert c;
	struct certs cs;
	struct cerr err;

	put_cert(fx->s, "0b", "alice", "operator", 20);
	put_cert(fx->s, "0a", "admin", "admin", 10);
	put_cert(fx->s, "0c", "alice", "viewer", 30);
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(
	    store_cert_list(fx->s, NULL, collect_cert, &cs, &err), 0);
	assert_int_equal(cs.n, 3);
	assert_string_equal(cs.v[0].serial_hex, "0a");
	assert_string_equal(cs.v[1].role, "operator");
	assert_int_equal(cs.v[2].not_after, 30 + 86400);
	assert_int_equal(cs.v[2].revoked_at, 0);
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(
	    store_cert_list(fx->s, "alice", collect_cert, &cs, &err), 0);
	assert_int_equal(cs.n, 2);
	assert_int_equal(store_revoke(fx->s, "0b", "alice", 99, &err), 0);
	assert_int_equal(store_cert_get(fx->s, "0b", &c, &err), 0);
	assert_string_equal(c.name, "alice");
	assert_int_equal(c.revoked_at, 99);
	expect_err(
	    store_cert_get(fx->s, "ff", &c, &err), &err, CERR_NOT_FOUND, "ff");
}

static const struct {
	const char *serial, *name, *role;
	enum cerr_code code;
	const char *msg;
} bad_certs[] = {
    {"0a", "admin", "admin", CERR_CONFLICT, "recorded already"},
    {"", "x", "admin", CERR_INVALID, "serial"},
    {"zz", "x", "admin", CERR_INVALID, "hexadecimal"},
    {"0d", "", "admin", CERR_INVALID, "empty name"},
    {"0d", "bad\001", "admin", CERR_INVALID, "control"},
    {"0d", "x", "", CERR_INVALID, "role"},
};

static void
test_cert_refusals(void **state)
{
	struct fx *fx = *state;
	struct certs cs;
	struct cerr err;

	put_cert(fx->s, "0a", "admin", "admin", 10);
	for (size_t i = 0; i < sizeof(bad_certs) / sizeof(bad_certs[0]); i++) {
		struct store_cert c;

		memset(&c, 0, sizeof(c));
		snprintf(c.serial_hex, sizeof(c.serial_hex), "%s",
		    bad_certs[i].serial);
		snprintf(c.name, sizeof(c.name), "%s", bad_certs[i].name);
		snprintf(c.role, sizeof(c.role), "%s", bad_certs[i].role);
		expect_err(store_cert_add(fx->s, &c, &err), &err,
		    bad_certs[i].code, bad_certs[i].msg);
	}
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(
	    store_cert_list(fx->s, NULL, collect_cert, &cs, &err), 0);
	assert_int_equal(cs.n, 1);
}

static void
test_target_serial(void **state)
{
	struct fx *fx = *state;
	struct store_target t;
	struct cerr err;

	add_target(fx->s, "web-1");
	assert_int_equal(
	    store_target_set_serial(fx->s, "web-1", "beef", &err), 0);
	assert_int_equal(store_target_get(fx->s, "web-1", &t, &err), 0);
	assert_string_equal(t.cert_serial, "beef");
	expect_err(store_target_set_serial(fx->s, "ghost", "beef", &err), &err,
	    CERR_NOT_FOUND, "ghost");
	expect_err(store_target_set_serial(fx->s, "web-1", "", &err), &err,
	    CERR_INVALID, "serial");
}

struct audits {
	struct store_audit v[8];
	int n;
};

static int
collect_audit(void *arg, const struct store_audit *a)
{
	struct audits *as = arg;

	as->v[as->n++] = *a;
	return as->n >= 8;
}

static void
put_audit(struct store *s, int64_t at_ms, const char *path, int status)
{
	struct store_audit a;
	struct cerr err;

	memset(&a, 0, sizeof(a));
	a.at_ms = at_ms;
	snprintf(a.who, sizeof(a.who), "admin");
	snprintf(a.role, sizeof(a.role), "admin");
	snprintf(a.serial_hex, sizeof(a.serial_hex), "0a");
	snprintf(a.method, sizeof(a.method), "PUT");
	snprintf(a.path, sizeof(a.path), "%s", path);
	snprintf(a.object, sizeof(a.object), "backup");
	a.status = status;
	snprintf(a.code, sizeof(a.code), "%s",
	    status == 200 ? "ok" : "invalid_request");
	if (store_audit_add(s, &a, &err) < 0)
		fail_msg("audit: %s", err.msg);
}

static void
test_audit(void **state)
{
	struct fx *fx = *state;
	struct store_audit_filter f = {0, 0};
	struct store_audit bad;
	struct audits as;
	struct cerr err;

	put_audit(fx->s, 1000, "/v1/jobs/a", 200);
	put_audit(fx->s, 2000, "/v1/jobs/b", 400);
	put_audit(fx->s, 3000, "/v1/jobs/c", 200);
	memset(&as, 0, sizeof(as));
	assert_int_equal(
	    store_audit_list(fx->s, &f, collect_audit, &as, &err), 0);
	assert_int_equal(as.n, 3);
	assert_string_equal(as.v[0].path, "/v1/jobs/c");
	assert_string_equal(as.v[1].code, "invalid_request");
	assert_int_equal(as.v[1].status, 400);
	assert_string_equal(as.v[2].object, "backup");
	assert_true(as.v[0].id > as.v[1].id);
	f.since_ms = 2000;
	memset(&as, 0, sizeof(as));
	assert_int_equal(
	    store_audit_list(fx->s, &f, collect_audit, &as, &err), 0);
	assert_int_equal(as.n, 2);
	f.since_ms = 0;
	f.limit = 1;
	memset(&as, 0, sizeof(as));
	assert_int_equal(
	    store_audit_list(fx->s, &f, collect_audit, &as, &err), 0);
	assert_int_equal(as.n, 1);
	assert_int_equal(store_audit_trim(fx->s, 2, &err), 0);
	f.limit = 0;
	memset(&as, 0, sizeof(as));
	assert_int_equal(
	    store_audit_list(fx->s, &f, collect_audit, &as, &err), 0);
	assert_int_equal(as.n, 2);
	assert_string_equal(as.v[1].path, "/v1/jobs/b");
	memset(&bad, 0, sizeof(bad));
	expect_err(
	    store_audit_add(fx->s, &bad, &err), &err, CERR_INVALID, "required");
	expect_err(store_audit_trim(fx->s, 0, &err), &err, CERR_INVALID, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_cert_record_list_revoke),
	    T(test_cert_refusals),
	    T(test_target_serial),
	    T(test_audit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
