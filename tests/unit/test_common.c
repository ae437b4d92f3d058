/*
 * Unit tests for strmap, the JSON limits and field readers, RFC 3339
 * times and enlistment tokens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "common/strmap.h"
#include "common/timefmt.h"
#include "master/token.h"

static void
test_strmap_grow_delete(void **state)
{
	struct strmap m;
	char key[32];
	void *old;

	strmap_init(&m);
	for (long i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%ld", i);
		assert_int_equal(
		    strmap_put(&m, key, (void *)(i + 1), NULL, NULL), 0);
	}
	assert_int_equal(m.count, 5000);
	for (long i = 0; i < 5000; i += 2) {
		snprintf(key, sizeof(key), "k%ld", i);
		assert_ptr_equal(strmap_del(&m, key), (void *)(i + 1));
	}
	for (long i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%ld", i);
		assert_int_equal(strmap_has(&m, key), i % 2);
	}
	/* churn through tombstones without growing without bound */
	for (long i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "t%ld", i);
		strmap_put(&m, key, (void *)1, NULL, NULL);
		strmap_del(&m, key);
	}
	assert_int_equal(m.count, 2500);
	assert_true(m.cap <= 16384);
	assert_int_equal(strmap_put(&m, "k1", (void *)7, &old, NULL), 0);
	assert_ptr_equal(old, (void *)2);
	assert_null(strmap_get(&m, "absent"));
	strmap_cleanup(&m);
}

static const struct {
	const char *text;
	int depth_limit;
	int ok;
	const char *expect;
} json_cases[] = {
    {"{\"a\": [1, 2, {\"b\": null}]}", 8, 1, NULL},
    {"[[[[[[[[[[1]]]]]]]]]]", 5, 0, "deeper than 5"},
    {"[[[[[1]]]]]", 5, 1, NULL},
    {"[\"[[[[[[[[[[[[[[\"]", 2, 1, NULL}, /* brackets in a string */
    {"[\"\\\"[[[[\"]", 2, 1, NULL}, /* escaped quote */
    {"{\"a\": 1,}", 8, 0, "bad JSON at line 1"},
    {"{\"a\": 1, \"a\": 2}", 8, 0, "duplicate"},
    {"", 8, 0, "bad JSON"},
};

static void
test_json_limits(void **state)
{
	struct cerr err;

	for (size_t i = 0; i < sizeof(json_cases) / sizeof(json_cases[0]);
	     i++) {
		json_t *v = json_parse_limited(json_cases[i].text,
		    strlen(json_cases[i].text), 1 << 20,
		    json_cases[i].depth_limit, &err);

		if (json_cases[i].ok && v == NULL)
			fail_msg("case %zu refused: %s", i, err.msg);
		if (!json_cases[i].ok) {
			if (v != NULL)
				fail_msg("case %zu accepted", i);
			if (strstr(err.msg, json_cases[i].expect) == NULL)
				fail_msg("case %zu: '%s' not in '%s'", i,
				    json_cases[i].expect, err.msg);
		}
		json_decref(v);
	}
	assert_null(json_parse_limited("[1,2,3]", 7, 6, 8, &err));
	assert_int_equal(err.code, CERR_TOO_LARGE);
}

static void
test_json_fields(void **state)
{
	static const char *const keys[] = {"a", "s", "b", NULL};
	json_t *o = json_pack("{s:i,s:s,s:b}", "a", 5, "s", "x\ty", "b", 1);
	json_t *bad = json_pack("{s:i,s:i}", "a", 5, "zzz", 1);
	const char *s = NULL;
	struct cerr err;
	int64_t n = 0;
	int b = 0;

	assert_int_equal(json_check_keys(o, keys, "", &err), 0);
	assert_int_equal(json_check_keys(bad, keys, "steps[2]", &err), -1);
	assert_string_equal(err.msg, "steps[2].zzz: unknown field");
	assert_int_equal(json_get_int(o, "a", "", 0, 10, &n, &err), 0);
	assert_int_equal(n, 5);
	assert_int_equal(json_get_int(o, "a", "p", 6, 10, &n, &err), -1);
	assert_string_equal(err.msg, "p.a: 5 is out of range 6..10");
	assert_int_equal(json_get_int(o, "missing", "", 0, 1, &n, &err), 1);
	assert_int_equal(json_get_int(o, "s", "", 0, 1, &n, &err), -1);
	assert_int_equal(json_get_string(o, "s", "", 10, 1, &s, &err), 0);
	assert_int_equal(json_get_string(o, "s", "", 10, 0, &s, &err), -1);
	assert_non_null(strstr(err.msg, "control character"));
	assert_int_equal(json_get_string(o, "s", "", 2, 1, &s, &err), -1);
	assert_int_equal(json_get_bool(o, "b", "", &b, &err), 0);
	assert_int_equal(b, 1);
	assert_int_equal(json_get_bool(o, "a", "", &b, &err), -1);
	json_decref(o);
	json_decref(bad);
}

static const struct {
	const char *text;
	int64_t ms; /* -1: refused */
} time_cases[] = {
    {NULL, -1},
    {"2026-11-23T08:30:00Z", 1795422600000LL},
    {"2026-11-23T08:30:00.250Z", 1795422600250LL},
    {"2026-11-23T09:30:00+01:00", 1795422600000LL},
    {"2026-11-23T03:00:00-05:30", 1795422600000LL},
    {"2024-02-29T00:00:00Z", 1709164800000LL},
    {"2026-11-23 08:30:00Z", -1},
    {"2026-13-01T00:00:00Z", -1},
    {"2026-11-23T08:30:00", -1},
    {"2026-11-23T08:30:00+1", -1},
    {"yesterday", -1},
};

static void
test_timefmt(void **state)
{
	char buf[TIMEFMT_MAX];
	int64_t ms;

	for (size_t i = 0; i < sizeof(time_cases) / sizeof(time_cases[0]);
	     i++) {
		int rc = timefmt_parse(time_cases[i].text, &ms);

		if (time_cases[i].ms < 0) {
			if (rc == 0)
				fail_msg("case %zu accepted", i);
		} else if (rc != 0 || ms != time_cases[i].ms) {
			fail_msg("case %zu: %s -> %lld", i, time_cases[i].text,
			    (long long)ms);
		}
	}
	assert_string_equal(
	    timefmt_utc(1795422600, buf), "2026-11-23T08:30:00Z");
	assert_string_equal(
	    timefmt_utc_ms(1795422600007LL, buf), "2026-11-23T08:30:00.007Z");
	assert_string_equal(
	    timefmt_offset(1795422600, 3600, buf), "2026-11-23T09:30:00+01:00");
	assert_string_equal(timefmt_offset(1795422600, -19800, buf),
	    "2026-11-23T03:00:00-05:30");
}

static void
test_token_format(void **state)
{
	char fp[PKI_FINGERPRINT_HEX], token[TOKEN_MAX],
	    hash[PKI_FINGERPRINT_HEX];
	char again[PKI_FINGERPRINT_HEX];
	struct token_parts tp;
	struct cerr err;

	memset(fp, 'a', 64);
	fp[64] = '\0';
	assert_int_equal(token_new(fp, token, hash, &err), 0);
	assert_int_equal(token_parse(token, &tp, &err), 0);
	assert_string_equal(tp.ca_fingerprint, fp);
	token_hash(tp.secret, again);
	assert_string_equal(hash, again);
	/* the hash is not the secret */
	assert_null(strstr(token, hash));
	token[10] = 'G';
	assert_int_equal(token_parse(token, &tp, &err), -1);
	assert_int_equal(err.code, CERR_TOKEN);
	assert_null(strstr(err.msg, token + 4));
	assert_int_equal(token_parse("ct1.short", &tp, &err), -1);
	assert_int_equal(token_parse(NULL, &tp, &err), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strmap_grow_delete),
	    cmocka_unit_test(test_json_limits),
	    cmocka_unit_test(test_json_fields),
	    cmocka_unit_test(test_timefmt),
	    cmocka_unit_test(test_token_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
