/*
 * Unit tests for orphan.c: /proc/<pid>/stat lines (good ones with awkward
 * command names, malformed ones), and killing a leftover process group
 * only when its leader is still the recorded process: a live group with
 * the right start time is killed, one with another start time (a recycled
 * pid) and a vanished one are left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "target/orphan.h"

struct stat_case {
	const char *text;
	int ok;
	char state;
	pid_t pgrp;
	uint64_t start;
};

/* Fields 1..22 of real lines; the command name may hold anything. */
static const struct stat_case stat_cases[] = {
    {"4242 (sleep) S 1 4242 4242 0 -1 4194560 110 0 0 0 0 0 0 0 20 0 1 0 "
     "987654 8286208 130 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 "
     "1 0 0 0 0 0\n",
	1, 'S', 4242, 987654},
    {"7 (a b) c) (d) R 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 55\n", 1, 'R', 7,
	55},
    {"9 ()) Z 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 -2 -5 1 0 1", 1, 'Z', 9, 1},
    {"", 0, 0, 0, 0},
    {"12 (x)", 0, 0, 0, 0},
    {"12 (x) S", 0, 0, 0, 0},
    {"12 (x) S 1 12 12 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0", 0, 0, 0, 0},
    {"12 (x) S 1 0 12 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5", 0, 0, 0, 0},
    {"12 (x) S 1 12 12 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5x", 0, 0, 0, 0},
    {"12 (x) S 1 99999999999 12 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5", 0, 0, 0, 0},
    {"12 (x) S 1 12 12 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 "
     "99999999999999999999999",
	0, 0, 0, 0},
    {"12 x) S 1 12 12 0 - 0 0 0 0 0 0 0 0 0 20 0 1 0 5", 0, 0, 0, 0},
};

static void
test_orphan_parse(void **state)
{
	for (size_t i = 0; i < sizeof(stat_cases) / sizeof(stat_cases[0]);
	     i++) {
		const struct stat_case *c = &stat_cases[i];
		struct orphan_stat st;
		struct cerr err;
		int rc = orphan_parse_stat(c->text, strlen(c->text), &st, &err);

		if (rc != (c->ok ? 0 : -1))
			fail_msg("case %zu (%s): rc %d", i, c->text, rc);
		if (!c->ok) {
			assert_int_equal(err.code, CERR_INVALID);
			continue;
		}
		assert_int_equal(st.state, c->state);
		assert_int_equal(st.pgrp, c->pgrp);
		assert_int_equal(st.start_ticks, c->start);
	}
}

/* A child that leads its own group and sleeps, with a grandchild in the
 * group: what a step leaves when its daemon dies. */
static pid_t
spawn_group(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		setpgid(0, 0);
		execl(
		    "/bin/sh", "sh", "-c", "sleep 60 & sleep 60", (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	return pid;
}

static void
test_orphan_kill(void **state)
{
	struct orphan_stat st;
	struct cerr err;
	int status;
	pid_t pid = spawn_group();

	assert_int_equal(orphan_read_stat(pid, &st, &err), 0);
	assert_int_equal(st.pgrp, pid);
	/* a recycled pid: another start time is never signalled */
	assert_int_equal(orphan_kill(pid, st.start_ticks + 1, &err), 0);
	assert_int_equal(kill(pid, 0), 0);
	assert_int_equal(orphan_kill(pid, st.start_ticks, &err), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	/* the grandchild went with the group */
	for (int i = 0; i < 200 && kill(-pid, 0) == 0; i++)
		usleep(10000);
	assert_int_equal(kill(-pid, 0), -1);
	/* gone now: left alone, no error */
	assert_int_equal(orphan_kill(pid, st.start_ticks, &err), 0);
	assert_int_equal(orphan_read_stat(pid, &st, &err), -1);
	assert_int_equal(err.code, CERR_NOT_FOUND);
	assert_int_equal(orphan_kill(1, 1, &err), -1);
	assert_int_equal(err.code, CERR_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_orphan_parse),
	    cmocka_unit_test(test_orphan_kill),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
