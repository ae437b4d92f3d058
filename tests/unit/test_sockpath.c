/*
 * Unit tests for sockpath: unix socket paths of every length bind and
 * connect, a deep one through its folder's descriptor, and the socket file
 * lands at the real path; what cannot work is refused with a message.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/sockpath.h"

/* Total path lengths to try; the folder is padded to reach them. */
static const size_t lengths[] = {40, 107, 108, 109, 300, 900};

static void
make_dirs(char *path, size_t want, const char *base)
{
	size_t len;

	snprintf(path, 1024, "%s", base);
	/* nested folders of up to 200 bytes keep each name legal */
	while ((len = strlen(path)) + 1 + 8 < want) {
		size_t n = want - len - 1 - 8;

		if (n > 200)
			n = 200;
		path[len] = '/';
		memset(path + len + 1, 'd', n);
		path[len + 1 + n] = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			fail_msg("mkdir %s failed", path);
	}
	len = strlen(path);
	snprintf(path + len, 1024 - len, "/%.*s", (int)(want - len - 1),
	    "s.sockxxxxxxxxxxxxxxxxxxxxxxxxx");
}

static void
test_lengths(void **state)
{
	char base[] = "/tmp/cohort-sockpath-XXXXXX", path[1024], cmd[64];

	assert_non_null(mkdtemp(base));
	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		struct sockaddr_un sa = {AF_UNIX, ""};
		struct sockpath sp;
		struct stat st;
		struct cerr err;
		int s, c;

		make_dirs(path, lengths[i], base);
		assert_int_equal(strlen(path), lengths[i]);
		if (sockpath_open(path, &sp, &err) < 0)
			fail_msg("%zu: %s", lengths[i], err.msg);
		assert_true(strlen(sp.path) < sizeof(sa.sun_path));
		assert_int_equal(sp.dirfd >= 0, lengths[i] >= SOCKPATH_MAX);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sp.path);
		s = socket(AF_UNIX, SOCK_STREAM, 0);
		c = socket(AF_UNIX, SOCK_STREAM, 0);
		assert_int_equal(
		    bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
		assert_int_equal(listen(s, 1), 0);
		assert_int_equal(
		    connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
		assert_int_equal(stat(path, &st), 0);
		assert_true(S_ISSOCK(st.st_mode));
		close(c);
		close(s);
		assert_int_equal(unlink(path), 0);
		sockpath_close(&sp);
		assert_int_equal(sp.dirfd, -1);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	assert_int_equal(system(cmd), 0);
}

static void
test_refusals(void **state)
{
	char name[200];
	struct sockpath sp;
	struct cerr err;

	memset(name, 'n', sizeof(name) - 1);
	name[0] = '/';
	name[sizeof(name) - 1] = '\0';
	/* a file name alone longer than sun_path can hold */
	assert_int_equal(sockpath_open(name, &sp, &err), -1);
	assert_non_null(strstr(err.msg, "too long"));
	assert_int_equal(
	    sockpath_open(
		"/no/such/folder/at/all/"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx/s.sock",
		&sp, &err),
	    -1);
	assert_int_equal(err.code, CERR_IO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lengths),
	    cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
