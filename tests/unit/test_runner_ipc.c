/*
 * Unit tests for runner_ipc end to end, without needing root: a real
 * runner process on a socketpair, allowed to run steps as one identity
 * (this test's own user, or nobody when the test runs as root). A table
 * of steps checks results, the process group reported before exec, a
 * refusal by on_spawn (the step never runs), specs for root or for a user
 * outside the configuration (refused), supplementary groups taken from
 * the configured user whatever name a spec gives, and the output file's
 * descriptor
 * coming back. Then: freeing the runner (EOF) kills a running step, and
 * a runner process that dies fails its waiting steps. Every loop has a
 * 20 s safety timer that fails the test instead of hanging it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <dirent.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "target/runner_ipc.h"

#define SAFETY_S 20

struct loop {
	struct event_base *base;
	struct runner *runner;
	pid_t runner_pid;
	struct event *safety;
	int expired;
	struct runner_ipc_ident ident; /* what steps may run as */
	char dir[64]; /* for output files */
	/* one step at a time */
	int done;
	struct runner_result res;
	char output[256];
	pid_t spawned_pid;
	int refuse; /* on_spawn fails */
};

static void
safety_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loop *l = arg;

	l->expired = 1;
	event_base_loopbreak(l->base);
}

static int
loop_setup(void **state)
{
	struct loop *l = calloc(1, sizeof(*l));
	struct runner_ipc *ipc = NULL;
	struct passwd *pw;
	struct cerr err;

	if (l == NULL)
		return -1;
	*state = l;
	l->ident.uid = getuid();
	l->ident.gid = getgid();
	if (getuid() == 0) {
		pw = getpwnam("nobody");
		if (pw == NULL)
			return -1;
		l->ident.uid = pw->pw_uid;
		l->ident.gid = pw->pw_gid;
		snprintf(l->ident.user, sizeof(l->ident.user), "nobody");
	}
	snprintf(l->dir, sizeof(l->dir), "/tmp/test_runner_ipc_XXXXXX");
	if (mkdtemp(l->dir) == NULL || chmod(l->dir, 0777) < 0)
		return -1;
	l->base = event_base_new();
	l->safety = evtimer_new(l->base, safety_cb, l);
	if (runner_ipc_spawn(&l->ident, 1, &ipc, &err) < 0)
		return -1;
	l->runner_pid = runner_ipc_pid(ipc);
	l->runner = runner_ipc_runner(ipc, l->base, &err);
	return l->runner != NULL && l->safety != NULL ? 0 : -1;
}

static int
loop_teardown(void **state)
{
	struct loop *l = *state;
	char path[128];

	runner_free(l->runner);
	if (l->safety != NULL)
		event_free(l->safety);
	if (l->base != NULL)
		event_base_free(l->base);
	snprintf(path, sizeof(path), "%s/out", l->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ran", l->dir);
	unlink(path);
	rmdir(l->dir);
	free(l);
	return 0;
}

/* Runs the loop until *flag is set, failing after SAFETY_S. */
static void
loop_until(struct loop *l, const int *flag)
{
	struct timeval tv = {SAFETY_S, 0};

	evtimer_add(l->safety, &tv);
	while (!*flag && !l->expired)
		event_base_loop(l->base, EVLOOP_ONCE);
	evtimer_del(l->safety);
	if (l->expired)
		fail_msg("event loop did not finish within %d s", SAFETY_S);
}

static void
done_cb(void *arg, const struct runner_result *res)
{
	struct loop *l = arg;

	assert_false(l->done); /* exactly once */
	l->done = 1;
	l->res = *res;
	snprintf(l->output, sizeof(l->output), "%s", res->output);
	l->res.output = NULL;
}

static int
spawned_cb(void *arg, pid_t pid, struct cerr *err)
{
	struct loop *l = arg;

	l->spawned_pid = pid;
	if (l->refuse)
		return cerr_set(err, CERR_STORE, "cannot record it: disk full");
	return 0;
}

enum who { AS_ALLOWED, AS_ROOT, AS_STRANGER };

static const struct step_case {
	const char *name;
	const char *script;
	enum who who;
	int refuse, output_file;
	int spawned, exit_code;
	const char *output, *error;
} step_cases[] = {
    {"runs and reports", "echo hi; exit 3", AS_ALLOWED, 0, 0, 1, 3, "hi\n", ""},
    {"refused by on_spawn", "touch ran", AS_ALLOWED, 1, 0, 0, -1, "",
	"disk full"},
    {"never as root", "touch ran", AS_ROOT, 0, 0, 0, -1, "",
	"runs nothing as root"},
    {"not configured", "touch ran", AS_STRANGER, 0, 0, 0, -1, "",
	"neither a proxy nor the daemon's user"},
    {"output file opened", "echo out", AS_ALLOWED, 0, 1, 1, 0, "out\n", ""},
};

static void
test_ipc_steps(void **state)
{
	struct loop *l = *state;
	char out_path[128], marker[128];
	struct stat st;

	snprintf(out_path, sizeof(out_path), "%s/out", l->dir);
	for (size_t i = 0; i < sizeof(step_cases) / sizeof(step_cases[0]);
	     i++) {
		const char *argv[] = {
		    "/bin/sh", "-c", step_cases[i].script, NULL};
		struct runner_spec spec;
		struct cerr err;
		uint64_t id;

		memset(&spec, 0, sizeof(spec));
		spec.argv = argv;
		spec.cwd = l->dir;
		spec.max_output_bytes = 1024;
		spec.set_user = step_cases[i].who != AS_ROOT;
		spec.uid =
		    step_cases[i].who == AS_STRANGER ? 54321 : l->ident.uid;
		spec.gid =
		    step_cases[i].who == AS_STRANGER ? 54321 : l->ident.gid;
		spec.user = "root"; /* a lie: the configured name wins */
		spec.on_spawn = spawned_cb;
		spec.on_spawn_arg = l;
		spec.output_file = step_cases[i].output_file ? out_path : NULL;
		l->done = 0;
		l->spawned_pid = 0;
		l->refuse = step_cases[i].refuse;
		assert_int_equal(
		    runner_start(l->runner, &spec, done_cb, l, &id, &err), 0);
		assert_int_equal(runner_active(l->runner), 1);
		loop_until(l, &l->done);
		if (l->res.spawned != step_cases[i].spawned ||
		    strstr(l->res.error, step_cases[i].error) == NULL ||
		    strcmp(l->output, step_cases[i].output) != 0)
			fail_msg("%s: spawned %d error '%s' output '%s'",
			    step_cases[i].name, l->res.spawned, l->res.error,
			    l->output);
		assert_int_equal(runner_active(l->runner), 0);
		if (step_cases[i].spawned) {
			assert_int_equal(
			    l->res.exit_code, step_cases[i].exit_code);
			assert_int_equal(l->res.pid, l->spawned_pid);
		}
		if (!step_cases[i].output_file) {
			assert_int_equal(l->res.output_fd, -1);
			continue;
		}
		assert_true(l->res.output_fd >= 0);
		assert_int_equal(write(l->res.output_fd, "x", 1), 1);
		close(l->res.output_fd);
		assert_int_equal(stat(out_path, &st), 0);
		assert_int_equal(st.st_uid, l->ident.uid);
		assert_int_equal(st.st_size, 1);
	}
	snprintf(marker, sizeof(marker), "%s/ran", l->dir);
	assert_int_equal(access(marker, F_OK), -1);
}

/* A spec that names another user (one listed in a group) still gets the
 * configured user's supplementary groups: the name picks them, so a
 * lying network side must not choose it. Needs root to switch users. */
static void
test_ipc_groups_configured(void **state)
{
	const char *argv[] = {"/bin/sh", "-c", "id -G", NULL};
	struct loop *l = *state;
	struct runner_spec spec;
	struct group *gr;
	char gid[32], lie[64] = "";
	struct cerr err;
	uint64_t id;

	if (getuid() != 0)
		skip();
	setgrent();
	while (lie[0] == '\0' && (gr = getgrent()) != NULL)
		if (gr->gr_mem[0] != NULL && gr->gr_gid != l->ident.gid) {
			snprintf(lie, sizeof(lie), "%s", gr->gr_mem[0]);
			snprintf(gid, sizeof(gid), "%u", (unsigned)gr->gr_gid);
		}
	endgrent();
	if (lie[0] == '\0')
		skip(); /* no group lists a member here */
	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	spec.max_output_bytes = 1024;
	spec.set_user = 1;
	spec.uid = l->ident.uid;
	spec.gid = l->ident.gid;
	spec.user = lie;
	assert_int_equal(
	    runner_start(l->runner, &spec, done_cb, l, &id, &err), 0);
	loop_until(l, &l->done);
	assert_true(l->res.spawned && l->res.exited);
	for (char *t = strtok(l->output, " \n"); t != NULL;
	     t = strtok(NULL, " \n"))
		if (strcmp(t, gid) == 0)
			fail_msg("step has group %s of '%s'", gid, lie);
}

/* Whether a live (not zombie) process is in group pgid. */
static int
group_alive(pid_t pgid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;

	assert_non_null(d);
	while (!found && (e = readdir(d)) != NULL) {
		char path[300], text[512], state;
		const char *p;
		int ppid, pgrp;
		FILE *f;
		size_t n;

		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[n] = '\0';
		p = strrchr(text, ')');
		if (p != NULL &&
		    sscanf(p + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 &&
		    pgrp == pgid && state != 'Z' && state != 'X')
			found = 1;
	}
	closedir(d);
	return found;
}

/* Polls until group pgid has no live process, up to 5 s. */
static int
group_gone_soon(pid_t pgid)
{
	struct timespec pause = {0, 10 * 1000 * 1000};

	for (int i = 0; i < 500 && group_alive(pgid); i++)
		nanosleep(&pause, NULL);
	return !group_alive(pgid);
}

/* Starts a long step and runs the loop until its group is reported. */
static pid_t
start_sleeper(struct loop *l)
{
	const char *argv[] = {
	    "/bin/sh", "-c", "sleep 30 & sleep 30; wait", NULL};
	struct runner_spec spec;
	struct cerr err;
	uint64_t id;

	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	spec.set_user = 1;
	spec.uid = l->ident.uid;
	spec.gid = l->ident.gid;
	spec.user = "root";
	spec.on_spawn = spawned_cb;
	spec.on_spawn_arg = l;
	l->done = 0;
	l->spawned_pid = 0;
	assert_int_equal(
	    runner_start(l->runner, &spec, done_cb, l, &id, &err), 0);
	while (l->spawned_pid == 0 && !l->expired) {
		struct timeval tv = {SAFETY_S, 0};

		evtimer_add(l->safety, &tv);
		event_base_loop(l->base, EVLOOP_ONCE);
	}
	evtimer_del(l->safety);
	assert_false(l->expired);
	assert_true(group_alive(l->spawned_pid));
	return l->spawned_pid;
}

static void
test_ipc_eof_kills_steps(void **state)
{
	struct loop *l = *state;
	pid_t pgid = start_sleeper(l);

	/* EOF on the socketpair: the runner process kills and ends */
	runner_free(l->runner);
	l->runner = NULL;
	assert_false(l->done); /* no callback after free */
	assert_true(group_gone_soon(pgid));
	assert_int_equal(kill(l->runner_pid, 0), -1);
}

static void
test_ipc_runner_dies(void **state)
{
	struct loop *l = *state;
	pid_t pgid = start_sleeper(l);
	struct runner_spec spec;
	const char *argv[] = {"/bin/true", NULL};
	struct cerr err;
	uint64_t id;

	kill(l->runner_pid, SIGKILL);
	loop_until(l, &l->done);
	assert_false(l->res.spawned);
	assert_non_null(strstr(l->res.error, "the runner process ended"));
	assert_int_equal(runner_active(l->runner), 0);
	/* new steps fail at once, with the reason */
	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	assert_int_equal(
	    runner_start(l->runner, &spec, done_cb, l, &id, &err), -1);
	assert_non_null(strstr(err.msg, "the runner process ended"));
	/* a SIGKILLed runner process could not kill its step: we do */
	kill(-pgid, SIGKILL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_ipc_steps, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(
		test_ipc_groups_configured, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(
		test_ipc_eof_kills_steps, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(
		test_ipc_runner_dies, loop_setup, loop_teardown),
	};

	/* as the daemon does (target_run): a write to a runner process that
	 * died must be an error, not the end of this process */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
