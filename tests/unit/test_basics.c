/*
 * Unit tests for the small common pieces: bounded buffers, error codes,
 * version acceptance, log value quoting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/cerr.h"
#include "common/log.h"
#include "common/version.h"

static void
test_buf_limit(void **state)
{
	struct buf b;
	struct cerr err;

	buf_init(&b, 10);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_puts(&b, "hello", &err), 0);
	assert_int_equal(buf_printf(&b, &err, "%d", 1234), 0);
	assert_string_equal(buf_str(&b), "hello1234");
	assert_int_equal(buf_puts(&b, "ab", &err), -1);
	assert_int_equal(err.code, CERR_TOO_LARGE);
	assert_string_equal(buf_str(&b), "hello1234"); /* unchanged */
	assert_int_equal(buf_puts(&b, "z", &err), 0);
	assert_int_equal(b.len, 10);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	buf_cleanup(&b);
}

static void
test_buf_take(void **state)
{
	struct buf b;
	struct cerr err;
	char *s;

	buf_init(&b, 1 << 20);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_puts(&b, "0123456789", &err), 0);
	s = buf_take(&b);
	assert_int_equal(strlen(s), 10000);
	assert_null(b.data);
	free(s);
	s = buf_take(&b);
	assert_string_equal(s, "");
	free(s);
}

static void
test_cerr_codes(void **state)
{
	struct cerr err;

	for (int c = 0; c < CERR_CODE_COUNT; c++) {
		const char *name = cerr_code_name((enum cerr_code)c);

		assert_int_equal(cerr_code_from_name(name), c);
		assert_true(cerr_http_status((enum cerr_code)c) >= 200);
	}
	assert_int_equal(cerr_set(&err, CERR_IO, "open %s", "x"), -1);
	cerr_wrap(&err, "outbox: insert run %d", 42);
	assert_string_equal(err.msg, "outbox: insert run 42: open x");
	assert_int_equal(cerr_http_status(CERR_NOT_FOUND), 404);
	assert_int_equal(cerr_http_status(CERR_UNAUTHENTICATED), 401);
}

static const struct {
	const char *master, *peer;
	int ok;
} version_cases[] = {
	{"0.5.0", "0.5.0", 1},
	{"0.5.0", "0.5.9", 1},
	{"0.5.0", "0.4.3", 1},
	{"0.5.0", "0.3.0", 1},
	{"0.5.0", "0.2.9", 0},
	{"0.5.0", "0.6.0", 0},
	{"0.5.0", "1.0.0", 0},
	{"1.0.0", "0.9.0", 1},
	{"1.4.0", "0.9.0", 0},
	{"0.5.0", "banana", 0},
	{"0.5.0", "0.5", 0},
	{"0.5.0", "0.5.0x", 0},
};

static void
test_version_rule(void **state)
{
	struct cerr err;

	for (size_t i = 0; i < sizeof(version_cases) / sizeof(version_cases[0]);
	    i++) {
		int rc = version_check_peer(version_cases[i].master,
		    version_cases[i].peer, &err);

		if (version_cases[i].ok && rc != 0)
			fail_msg("case %zu refused: %s", i, err.msg);
		if (!version_cases[i].ok) {
			if (rc == 0)
				fail_msg("case %zu accepted", i);
			assert_int_equal(err.code, CERR_VERSION);
		}
	}
	/* the refusal names both versions */
	assert_int_equal(version_check_peer("0.5.0", "0.6.1", &err), -1);
	assert_non_null(strstr(err.msg, "0.5.0"));
	assert_non_null(strstr(err.msg, "0.6.1"));
}

static void
test_log_quote(void **state)
{
	char b[32];

	assert_string_equal(log_quote(b, sizeof(b), "plain"), "plain");
	assert_string_equal(log_quote(b, sizeof(b), "two words"),
	    "\"two words\"");
	assert_string_equal(log_quote(b, sizeof(b), "a\"b"), "\"a\\\"b\"");
	assert_string_equal(log_quote(b, sizeof(b), ""), "\"\"");
	log_quote(b, 8, "a long value with spaces");
	assert_true(strlen(b) < 8);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_limit),
		cmocka_unit_test(test_buf_take),
		cmocka_unit_test(test_cerr_codes),
		cmocka_unit_test(test_version_rule),
		cmocka_unit_test(test_log_quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
