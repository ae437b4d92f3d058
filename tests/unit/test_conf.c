/*
 * Unit tests for the configuration: ini reading, the key table, every
 * refusal naming its file, line and key, flags overriding the file.
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

#include "common/conf.h"

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const struct {
	const char *text; /* the config file */
	int ok;
	const char *expect; /* substring of the report, when !ok */
} file_cases[] = {
    {"role = master\nstate_dir = /tmp/x\n", 1, NULL},
    {"# comment\n; other\n\nrole=target\nstate_dir=/s\nname=web-1\n"
     "master = https://m:1\n",
	1, NULL},
    {"role = master\n", 0, "state_dir: not set"},
    {"state_dir = /x\n", 0, "role: not set"},
    {"role = boss\nstate_dir=/x\n", 0, ":1: role: 'boss' is not one"},
    {"role = master\nstate_dir=/x\nbogus = 1\n", 0, ":3: bogus: unknown key"},
    {"role = master\nstate_dir=/x\npoll_interval_s = 0\n", 0,
	":3: poll_interval_s: 0 is out of range 1..28800"},
    {"role = master\nstate_dir=/x\npoll_interval_s = 28801\n", 0,
	"out of range"},
    {"role = master\nstate_dir=/x\npoll_interval_s = 12abc\n", 0,
	"is not a number"},
    {"role = master\nstate_dir=/x\nlog_syslog = maybe\n", 0,
	"log_syslog: 'maybe' is not yes or no"},
    {"role = master\nstate_dir=/x\njust a line\n", 0,
	":3: expected 'key = value'"},
    {"role = master\nstate_dir=/x\nlog_level = loud\n", 0, "log_level"},
    {"role = target\nstate_dir=/x\nmaster=https://m\n", 0, "name: not set"},
    {"role = target\nstate_dir=/x\nname=t\n", 0, "master: not set"},
    {"role = master\nstate_dir=/x\nproxy backup = bk:disk\n", 1, NULL},
    {"role = master\nstate_dir=/x\nproxy backup = :disk\n", 0,
	"proxy backup: expected user[:group]"},
    {"role = master\nstate_dir=/x\nproxy b = u\nproxy b = v\n", 0,
	":4: proxy b: defined twice"},
    {"role = master\nstate_dir=/x\nmap alice = operator\n", 1, NULL},
    {"role = master\nstate_dir=/x\nmap alice = root\n", 0,
	":3: map alice: 'root' is not admin, operator, viewer or target"},
    {"role = master\nstate_dir=/x\nmap a = viewer\nmap a = admin\n", 0,
	":4: map a: defined twice"},
    {"role = master\nstate_dir=/x\nmap = admin\n", 0, "map: unknown key"},
    {"role = master\nstate_dir=/x\nheader_timeout_s = 0\n", 0,
	"header_timeout_s: 0 is out of range"},
    /* the outbox's bytes: 1 MiB to 1 TiB, past 32 bits */
    {"role = master\nstate_dir=/x\noutbox_max_bytes = 1099511627776\n", 1,
	NULL},
    {"role = master\nstate_dir=/x\noutbox_max_bytes = 1048575\n", 0,
	":3: outbox_max_bytes: 1048575 is out of range "
	"1048576..1099511627776"},
    /* every bad line is reported, not only the first */
    {"role = master\nstate_dir=/x\nx1 = 1\nx2 = 2\n", 0, ":4: x2: unknown"},
    /* and the checks made once all is read, with the line that sets the
     * key, beside a bad line */
    {"role = master\nstate_dir=/x\nx1 = 1\nlog_level = loud\n", 0,
	":4: log_level: 'loud' is not"},
    {"role = master\nstate_dir=/x\nlease_renew_ms = 5000\nx1 = 1\n"
     "log_level = loud\n",
	0, ":3: lease_renew_ms: 5000 is not less than lease_ttl_s"},
    {"role = master\nstate_dir=/x\nlease_renew_ms = 5000\nx1 = 1\n"
     "log_level = loud\n",
	0, ":5: log_level: 'loud'"},
    {"role = bogus\n", 0, "state_dir: not set"},
};

static void
test_conf_file_cases(void **state)
{
	char path[] = "/tmp/cohort-conf-XXXXXX";
	char report[4096];
	struct conf c;
	struct cerr err;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	for (size_t i = 0; i < sizeof(file_cases) / sizeof(file_cases[0]);
	     i++) {
		int rc;

		write_file(path, file_cases[i].text);
		rc = conf_load(&c, path, NULL, 0, report, sizeof(report), &err);
		if (file_cases[i].ok) {
			if (rc != 0)
				fail_msg("case %zu: %s", i, report);
		} else {
			if (rc == 0)
				fail_msg("case %zu accepted", i);
			if (strstr(report, file_cases[i].expect) == NULL)
				fail_msg("case %zu: '%s' not in '%s'", i,
				    file_cases[i].expect, report);
		}
	}
	unlink(path);
}

/* A key never set is named without a line; a key whose line was bad is
 * not told again by the checks made once all is read. */
static void
test_conf_problems_told_once(void **state)
{
	char path[] = "/tmp/cohort-conf-XXXXXX";
	char report[4096], want[128];
	struct conf c;
	struct cerr err;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_file(path,
	    "role = target\nstate_dir=/x\nmaster=https://m\n"
	    "x1 = 1\n");
	assert_int_equal(
	    conf_load(&c, path, NULL, 0, report, sizeof(report), &err), -1);
	snprintf(want, sizeof(want), "%s: name: not set", path);
	assert_non_null(strstr(report, want));
	assert_non_null(strstr(report, ":4: x1: unknown key"));
	write_file(path, "role = bogus\nstate_dir=/x\n");
	assert_int_equal(
	    conf_load(&c, path, NULL, 0, report, sizeof(report), &err), -1);
	assert_non_null(strstr(report, ":1: role: 'bogus'"));
	assert_null(strstr(report, "role: not set"));
	/* a line longer than the reader takes counts once */
	{
		char text[6000];
		int n = snprintf(text, sizeof(text),
		    "role = master\nstate_dir=/x\nlease_renew_ms = 5000\n#");

		memset(text + n, 'x', 4200);
		snprintf(text + n + 4200, sizeof(text) - (size_t)n - 4200,
		    "\nlog_level = loud\n");
		write_file(path, text);
	}
	assert_int_equal(
	    conf_load(&c, path, NULL, 0, report, sizeof(report), &err), -1);
	assert_non_null(strstr(report, ":3: lease_renew_ms: 5000"));
	assert_non_null(strstr(report, ":5: log_level: 'loud'"));
	unlink(path);
}

static void
test_conf_defaults_and_flags(void **state)
{
	char path[] = "/tmp/cohort-conf-XXXXXX";
	char report[1024];
	char *flags[] = {"--poll_interval_s=5", "--name=t1"};
	char *bad_flags[] = {"--nope=1"};
	struct conf c;
	struct cerr err;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	write_file(path,
	    "role = target\nstate_dir = /s\nmaster = https://m\n"
	    "name = t0\nproxy bk = backup:disk\n");
	assert_int_equal(
	    conf_load(&c, path, flags, 2, report, sizeof(report), &err), 0);
	assert_int_equal(c.role, ROLE_TARGET);
	assert_int_equal(c.poll_interval_s, 5);
	assert_string_equal(c.name, "t1");
	assert_int_equal(c.max_body_bytes, 1048576);
	assert_int_equal(c.outbox_max_bytes, 268435456);
	assert_int_equal(c.tls, TLS_VERIFY);
	assert_non_null(conf_proxy_find(&c, "bk"));
	assert_string_equal(conf_proxy_find(&c, "bk")->user, "backup");
	assert_string_equal(conf_proxy_find(&c, "bk")->group, "disk");
	assert_null(conf_proxy_find(&c, "other"));

	assert_int_equal(
	    conf_load(&c, path, bad_flags, 1, report, sizeof(report), &err),
	    -1);
	assert_non_null(strstr(report, "command line: nope: unknown key"));
	unlink(path);
}

static void
test_conf_missing_file(void **state)
{
	char report[256];
	struct conf c;
	struct cerr err;

	assert_int_equal(conf_load(&c, "/nonexistent/cohortd.conf", NULL, 0,
			     report, sizeof(report), &err),
	    -1);
	assert_int_equal(err.code, CERR_IO);
	assert_non_null(strstr(err.msg, "/nonexistent/cohortd.conf"));
}

static void
test_conf_long_line(void **state)
{
	char path[] = "/tmp/cohort-conf-XXXXXX";
	char report[512];
	struct conf c;
	struct cerr err;
	char *text = malloc(10000);
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	strcpy(text, "role = master\nstate_dir = ");
	memset(text + strlen(text), 'a', 6000);
	strcpy(text + 26 + 6000, "\nlisten = 127.0.0.1:1\n");
	write_file(path, text);
	assert_int_equal(
	    conf_load(&c, path, NULL, 0, report, sizeof(report), &err), -1);
	assert_non_null(strstr(report, ":2: line longer than"));
	free(text);
	unlink(path);
}

/* SIGHUP's reload: each case rewrites the file the running configuration
 * came from and checks what was taken over and what waits for a restart;
 * a broken file changes nothing. The flags of the first load count again. */
static const struct {
	const char *text; /* the file at reload */
	int rc;
	int applied;
	const char *report; /* substring, or NULL for an empty report */
	int64_t poll_interval_s; /* afterwards */
	const char *log_level;
	const char *listen;
} reload_cases[] = {
    {"role = master\nstate_dir = /s\n", 0, 0, NULL, 60, "info",
	"127.0.0.1:8443"},
    {"role = master\nstate_dir = /s\nlog_level = debug\n"
     "poll_interval_s = 7\nhistory_max_rows = 50\n",
	0, 3, NULL, 7, "debug", "127.0.0.1:8443"},
    {"role = master\nstate_dir = /s\nlisten = 0.0.0.0:1\n", 0, 0,
	"listen: changed; takes effect at the next start", 60, "info",
	"127.0.0.1:8443"},
    {"role = master\nstate_dir = /other\nlog_level = warn\n", 0, 1,
	"state_dir: changed", 60, "warn", "127.0.0.1:8443"},
    {"role = master\nstate_dir = /s\nproxy bk = backup\n", 0, 1, NULL, 60,
	"info", "127.0.0.1:8443"},
    {"role = master\nstate_dir = /s\nlog_level = loud\n", -1, 0, "log_level",
	60, "info", "127.0.0.1:8443"},
    {"role = master\nstate_dir = /s\nbogus = 1\n", -1, 0,
	":3: bogus: unknown key", 60, "info", "127.0.0.1:8443"},
    {"role = target\nstate_dir = /s\nname = t\nmaster = https://m\n", -1, 0,
	"role: changed", 60, "info", "127.0.0.1:8443"},
};

static void
test_conf_reload(void **state)
{
	char path[] = "/tmp/cohort-conf-XXXXXX";
	char *flags[] = {"--max_body_bytes=2048"};
	char report[1024];
	struct conf c;
	struct cerr err;
	int fd = mkstemp(path), applied;

	assert_true(fd >= 0);
	close(fd);
	for (size_t i = 0; i < sizeof(reload_cases) / sizeof(reload_cases[0]);
	     i++) {
		write_file(path, "role = master\nstate_dir = /s\n");
		assert_int_equal(
		    conf_load(&c, path, flags, 1, report, sizeof(report), &err),
		    0);
		write_file(path, reload_cases[i].text);
		if (conf_reload(&c, report, sizeof(report), &applied, &err) !=
		    reload_cases[i].rc)
			fail_msg("case %zu: %s", i, report);
		assert_int_equal(applied, reload_cases[i].applied);
		if (reload_cases[i].report == NULL)
			assert_string_equal(report, "");
		else if (strstr(report, reload_cases[i].report) == NULL)
			fail_msg("case %zu: report '%s'", i, report);
		assert_int_equal(
		    c.poll_interval_s, reload_cases[i].poll_interval_s);
		assert_string_equal(c.log_level, reload_cases[i].log_level);
		assert_string_equal(c.listen, reload_cases[i].listen);
		assert_string_equal(c.state_dir, "/s");
		assert_int_equal(c.max_body_bytes, 2048);
	}
	unlink(path);
}

/* The live list names real keys, and the keys that hold sockets, files
 * and identities are not in it. */
static void
test_conf_live_keys(void **state)
{
	static const char *const fixed[] = {"role", "state_dir", "tls",
	    "listen", "store", "name", "master", "socket", NULL};
	int live = 0;

	for (const struct conf_key *k = conf_keys; k->name != NULL; k++)
		live += conf_key_is_live(k->name);
	assert_int_equal(live, 15);
	assert_false(conf_key_is_live("nonsense"));
	for (int i = 0; fixed[i] != NULL; i++)
		assert_false(conf_key_is_live(fixed[i]));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_conf_file_cases),
	    cmocka_unit_test(test_conf_problems_told_once),
	    cmocka_unit_test(test_conf_defaults_and_flags),
	    cmocka_unit_test(test_conf_missing_file),
	    cmocka_unit_test(test_conf_long_line),
	    cmocka_unit_test(test_conf_reload),
	    cmocka_unit_test(test_conf_live_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
