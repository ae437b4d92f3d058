/*
 * Unit tests for the small common pieces: bounded buffers, error codes,
 * version acceptance, log value quoting, rate-limited logging.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    {"1.0.0", "0.8.3", 1},
    {"1.0.0", "0.7.0", 0},
    {"1.1.0", "0.9.9", 1},
    {"1.1.0", "0.8.0", 0},
    {"1.2.0", "1.0.0", 1},
    {"1.2.0", "0.9.0", 0},
    {"1.4.0", "0.9.0", 0},
    {"2.0.0", "1.4.0", 1},
    {"2.0.0", "1.3.0", 1},
    {"2.0.0", "1.2.0", 0},
    {"2.0.0", "0.9.0", 0},
    {"3.1.0", "3.0.0", 1},
    {"3.1.0", "2.0.0", 0},
    {"3.1.0", "1.4.0", 0},
    {"0.5.0", "banana", 0},
    {"0.5.0", "0.5", 0},
    {"0.5.0", "0.5.0x", 0},
};

/* An example history of ended majors: 0.9 and 1.4 were their majors' last
 * release lines; 2.x has not ended, so 3.0 knows of no line before it. */
static const struct version_major_end version_ends[] = {{0, 9}, {1, 4}};

static void
test_version_rule(void **state)
{
	struct cerr err;

	for (size_t i = 0; i < sizeof(version_cases) / sizeof(version_cases[0]);
	     i++) {
		int rc = version_check_peer_with(version_cases[i].master,
		    version_cases[i].peer, version_ends, 2, &err);

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
	/* a major whose predecessor's last line is unknown says so */
	assert_int_equal(
	    version_check_peer_with("3.0.0", "2.5.0", version_ends, 2, &err),
	    -1);
	assert_non_null(strstr(err.msg, "does not know"));
	assert_int_equal(
	    version_check_peer_with("3.0.0", "3.0.1", version_ends, 2, &err),
	    0);
}

/* This build's own table must know the line before its major's first one,
 * or a master of a new major would refuse every target of the last. */
static void
test_version_table_covers_own_major(void **state)
{
	struct version own, first, prev;

	(void)state;
	assert_int_equal(version_parse(COHORT_VERSION, &own), 0);
	first = (struct version){own.major, 0, 0};
	if (own.major > 0 && version_line_before(&first, &prev) < 0)
		fail_msg("version.c's major_ends has no entry for major %d: "
			 "add its last minor before releasing %d.x",
		    own.major - 1, own.major);
	assert_int_equal(version_line_before(&own, &prev),
	    own.major == 0 && own.minor == 0 ? -1 : 0);
}

static void
test_log_quote(void **state)
{
	char b[32];

	assert_string_equal(log_quote(b, sizeof(b), "plain"), "plain");
	assert_string_equal(
	    log_quote(b, sizeof(b), "two words"), "\"two words\"");
	assert_string_equal(log_quote(b, sizeof(b), "a\"b"), "\"a\\\"b\"");
	assert_string_equal(log_quote(b, sizeof(b), ""), "\"\"");
	log_quote(b, 8, "a long value with spaces");
	assert_true(strlen(b) < 8);
	/* free text is always quoted, its own quotes escaped (libpq's
	 * messages quote names) */
	assert_string_equal(log_text(b, sizeof(b), "plain"), "\"plain\"");
	assert_string_equal(LOG_TEXT("relation \"runs\" does not exist"),
	    "\"relation \\\"runs\\\" does not exist\"");
	assert_string_equal(LOG_TEXT(NULL), "\"\"");
	/* cut short, it still ends in a quote; too small a buffer is empty */
	assert_string_equal(log_text(b, 6, "a\"bcdef"), "\"a\\\"\"");
	assert_string_equal(log_text(b, 2, "x"), "");
	b[0] = 'x';
	assert_ptr_equal(log_text(b, 0, "x"), b);
	assert_int_equal(b[0], 'x');
}

static void
test_log_one_line(void **state)
{
	char b[64];

	(void)state;
	assert_string_equal(
	    log_one_line(b, sizeof(b), "a: unknown key\nb: bad value\n"),
	    "a: unknown key; b: bad value");
	assert_string_equal(log_one_line(b, sizeof(b), "one"), "one");
	assert_string_equal(log_one_line(b, sizeof(b), ""), "");
	assert_string_equal(log_one_line(b, sizeof(b), NULL), "");
	log_one_line(b, 8, "a long\nvalue\nwith breaks");
	assert_true(strlen(b) < 8);
}

/* Counts the lines of f that contain needle. */
static int
count_lines(FILE *f, const char *needle)
{
	char line[2048];
	int n = 0;

	rewind(f);
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, needle) != NULL;
	return n;
}

/* A failure repeated a thousand times is one line; success ends the
 * streak with one line; failures and successes that alternate within the
 * interval add nothing; the next line after the interval carries the
 * count of what was held back. */
static void
test_log_limited(void **state)
{
	struct log_limit l;
	FILE *f = tmpfile();
	int saved = dup(2);

	assert_non_null(f);
	memset(&l, 0, sizeof(l));
	assert_int_equal(dup2(fileno(f), 2), 2);
	for (int i = 0; i < 1000; i++)
		log_limited(&l, LOG_LVL_ERROR, "store_failing", "n=%d", i);
	log_limit_ok(&l, "store_recovered");
	log_limit_ok(&l, "store_recovered"); /* no streak: silent */
	for (int i = 0; i < 5; i++) { /* flapping */
		log_limited(&l, LOG_LVL_ERROR, "store_failing", "n=hidden");
		log_limit_ok(&l, "store_recovered");
	}
	log_limited(&l, LOG_LVL_ERROR, "store_failing", "n=hidden");
	/* as if the interval had passed */
	l.last_ms -= (int64_t)LOG_LIMIT_INTERVAL_S * 1000 + 1;
	log_limited(&l, LOG_LVL_ERROR, "store_failing", "n=later");
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	assert_int_equal(count_lines(f, "event=store_failing"), 2);
	assert_int_equal(count_lines(f, "n=0"), 1);
	assert_int_equal(count_lines(f, "failures=1000"), 1);
	assert_int_equal(count_lines(f, "event=store_recovered"), 1);
	assert_int_equal(count_lines(f, "n=hidden"), 0);
	assert_int_equal(count_lines(f, "n=later repeats=6"), 1);
	fclose(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf_limit),
	    cmocka_unit_test(test_buf_take),
	    cmocka_unit_test(test_cerr_codes),
	    cmocka_unit_test(test_version_rule),
	    cmocka_unit_test(test_version_table_covers_own_major),
	    cmocka_unit_test(test_log_quote),
	    cmocka_unit_test(test_log_one_line),
	    cmocka_unit_test(test_log_limited),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
