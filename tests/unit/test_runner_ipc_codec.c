/*
 * Unit tests for the frames between a target's network side and its
 * runner process: round trips of every frame type, frames split across
 * reads, and a table of malformed frames (short, over-long lengths, lying
 * string and list lengths, bad fields, trailing bytes), each refused with
 * an error naming what is wrong and nothing changed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "target/runner_ipc_codec.h"

/* ---- building payloads by hand ------------------------------------------ */

static void
p_bytes(struct buf *b, const void *p, size_t n)
{
	assert_int_equal(buf_append(b, p, n, NULL), 0);
}

static void
p32(struct buf *b, uint32_t v)
{
	p_bytes(b, &v, sizeof(v));
}

static void
p64(struct buf *b, uint64_t v)
{
	p_bytes(b, &v, sizeof(v));
}

static void
pstr(struct buf *b, const char *s)
{
	p32(b, (uint32_t)strlen(s) + 1);
	p_bytes(b, s, strlen(s) + 1);
}

/* How a start frame's payload is spoiled. */
enum spoil {
	SP_NONE,
	SP_SHORT_HEAD, /* cut inside the fixed fields */
	SP_STR_LIES, /* user's length runs past the end */
	SP_STR_NO_NUL, /* cwd not NUL-terminated */
	SP_STR_INNER_NUL, /* cwd with a NUL inside */
	SP_STR_ZERO, /* output file of length 0 */
	SP_ARGV_HUGE, /* argv count over the maximum */
	SP_ARGV_ABSENT, /* no argv at all */
	SP_ARGV_EMPTY, /* argv with no entries */
	SP_ARGV_NULL, /* an argv entry that is absent */
	SP_ENV_SHORT, /* environment count beyond what is left */
	SP_TRAILING, /* a byte after the last field */
};

static void
spec_payload(struct buf *b, enum spoil sp)
{
	p64(b, 7); /* id */
	p64(b, 1000); /* timeout */
	p64(b, 0); /* grace */
	p64(b, 0); /* not before */
	p64(b, 4096); /* max output */
	p32(b, 1001); /* uid */
	if (sp == SP_SHORT_HEAD)
		return;
	p32(b, 1002); /* gid */
	p_bytes(b, "\1\1", 2);
	if (sp == SP_STR_LIES) {
		p32(b, 1000);
		p_bytes(b, "bob", 4);
		return;
	}
	pstr(b, "bob");
	if (sp == SP_STR_NO_NUL) {
		p32(b, 4);
		p_bytes(b, "/tmp", 4);
	} else if (sp == SP_STR_INNER_NUL) {
		p32(b, 5);
		p_bytes(b, "/t\0p", 5);
	} else {
		pstr(b, "/tmp");
	}
	if (sp == SP_STR_ZERO)
		p32(b, 0);
	else
		p32(b, 0xffffffffu); /* no output file */
	if (sp == SP_ARGV_HUGE)
		p32(b, RUNNER_IPC_LIST_MAX + 1);
	else if (sp == SP_ARGV_ABSENT)
		p32(b, 0xffffffffu);
	else if (sp == SP_ARGV_EMPTY)
		p32(b, 0);
	else if (sp == SP_ARGV_NULL) {
		p32(b, 2);
		pstr(b, "/bin/true");
		p32(b, 0xffffffffu);
	} else {
		p32(b, 2);
		pstr(b, "/bin/echo");
		pstr(b, "hi");
	}
	if (sp == SP_ENV_SHORT) {
		p32(b, 9);
		pstr(b, "A=1");
		return;
	}
	p32(b, 1);
	pstr(b, "A=1");
	if (sp == SP_TRAILING)
		p_bytes(b, "x", 1);
}

static unsigned char *
copy_payload(const struct buf *b)
{
	unsigned char *p = malloc(b->len + 1);

	assert_non_null(p);
	memcpy(p, b->data, b->len);
	return p;
}

/* ---- round trips --------------------------------------------------------- */

static int
no_spawn(void *arg, pid_t pid, struct cerr *err)
{
	return 0;
}

/* Puts one frame into an evbuffer and takes it out again whole. */
static unsigned char *
through_frame(const struct buf *b, uint8_t want_type, size_t *len)
{
	struct evbuffer *in = evbuffer_new();
	unsigned char *payload = NULL;
	struct cerr err;
	uint8_t type = 0;

	assert_non_null(in);
	/* byte by byte: never whole before the last one */
	for (size_t i = 0; i < b->len; i++) {
		assert_int_equal(
		    runner_ipc_frame(in, &type, &payload, len, &err), 0);
		evbuffer_add(in, b->data + i, 1);
	}
	assert_int_equal(runner_ipc_frame(in, &type, &payload, len, &err), 1);
	assert_int_equal(type, want_type);
	assert_int_equal(evbuffer_get_length(in), 0);
	evbuffer_free(in);
	return payload;
}

static void
test_spec_round_trip(void **state)
{
	const char *argv[] = {"/bin/sh", "-c", "echo hi", NULL};
	const char *envp[] = {"PATH=/bin", "HOME=/", NULL};
	struct runner_spec in = {argv, envp, "/var/tmp", 5000, 200, 1 << 20,
	    1001, 1002, "bob", 1, no_spawn, NULL, "/tmp/out.log",
	    1700000000123};
	struct runner_ipc_spec out;
	unsigned char *payload;
	struct cerr err;
	struct buf b;
	size_t len;

	buf_init(&b, RUNNER_IPC_FRAME_MAX);
	assert_int_equal(runner_ipc_put_spec(&b, 42, &in, &err), 0);
	payload = through_frame(&b, RUNNER_IPC_START, &len);
	assert_int_equal(runner_ipc_get_spec(payload, len, &out, &err), 0);
	assert_int_equal(out.id, 42);
	assert_int_equal(out.hold, 1);
	assert_int_equal(out.spec.timeout_ms, 5000);
	assert_int_equal(out.spec.kill_grace_ms, 200);
	assert_int_equal(out.spec.not_before_ms, 1700000000123);
	assert_int_equal(out.spec.max_output_bytes, 1 << 20);
	assert_int_equal(out.spec.uid, 1001);
	assert_int_equal(out.spec.gid, 1002);
	assert_int_equal(out.spec.set_user, 1);
	assert_string_equal(out.spec.user, "bob");
	assert_string_equal(out.spec.cwd, "/var/tmp");
	assert_string_equal(out.spec.output_file, "/tmp/out.log");
	for (int i = 0; i < 3; i++)
		assert_string_equal(out.spec.argv[i], argv[i]);
	assert_null(out.spec.argv[3]);
	assert_string_equal(out.spec.envp[1], "HOME=/");
	assert_null(out.spec.envp[2]);
	assert_null(out.spec.on_spawn); /* never crosses the socket */
	runner_ipc_spec_free(&out);

	/* absent strings and environment stay absent */
	in.envp = NULL;
	in.cwd = in.user = in.output_file = NULL;
	in.on_spawn = NULL;
	buf_reset(&b);
	assert_int_equal(runner_ipc_put_spec(&b, 43, &in, &err), 0);
	payload = through_frame(&b, RUNNER_IPC_START, &len);
	assert_int_equal(runner_ipc_get_spec(payload, len, &out, &err), 0);
	assert_int_equal(out.hold, 0);
	assert_null(out.spec.envp);
	assert_null(out.spec.cwd);
	assert_null(out.spec.user);
	assert_null(out.spec.output_file);
	runner_ipc_spec_free(&out);
	buf_cleanup(&b);
}

static void
test_result_round_trip(void **state)
{
	struct runner_result in, out;
	unsigned char *payload;
	struct cerr err;
	struct buf b;
	uint64_t id;
	size_t len;
	int has_fd;

	memset(&in, 0, sizeof(in));
	in.pid = 4242;
	in.spawned = in.exited = in.canceled = 1;
	in.exit_code = 3;
	in.output = "a\0b\n";
	in.output_len = 4;
	in.output_dropped = 17;
	in.started_ms = 1700000000123;
	in.duration_ms = 55;
	snprintf(in.output_error, sizeof(in.output_error), "no room");
	buf_init(&b, RUNNER_IPC_FRAME_MAX);
	assert_int_equal(runner_ipc_put_result(&b, 9, &in, 1, &err), 0);
	payload = through_frame(&b, RUNNER_IPC_DONE, &len);
	assert_int_equal(
	    runner_ipc_get_result(payload, len, &id, &out, &has_fd, &err), 0);
	assert_int_equal(id, 9);
	assert_int_equal(has_fd, 1);
	assert_int_equal(out.pid, 4242);
	assert_true(out.spawned && out.exited && out.canceled);
	assert_false(out.timed_out);
	assert_int_equal(out.exit_code, 3);
	assert_int_equal(out.output_len, 4);
	assert_memory_equal(out.output, "a\0b\n", 5);
	assert_int_equal(out.output_dropped, 17);
	assert_int_equal(out.started_ms, 1700000000123);
	assert_int_equal(out.duration_ms, 55);
	assert_string_equal(out.error, "");
	assert_string_equal(out.output_error, "no room");
	assert_int_equal(out.output_fd, -1);
	free(payload);
	buf_cleanup(&b);
}

static void
test_small_frames_round_trip(void **state)
{
	struct {
		enum runner_ipc_type type;
		uint64_t id;
	} ids[] = {{RUNNER_IPC_CANCEL, 1}, {RUNNER_IPC_ABANDON, UINT64_MAX},
	    {RUNNER_IPC_RELEASE, 5}, {RUNNER_IPC_REFUSE, 6}};
	unsigned char *payload;
	struct cerr err;
	struct buf b;
	uint64_t id;
	pid_t pid;
	size_t len;

	buf_init(&b, 64);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		buf_reset(&b);
		assert_int_equal(
		    runner_ipc_put_id(&b, ids[i].type, ids[i].id, &err), 0);
		payload = through_frame(&b, (uint8_t)ids[i].type, &len);
		assert_int_equal(runner_ipc_get_id(payload, len, &id, &err), 0);
		assert_true(id == ids[i].id);
		free(payload);
	}
	buf_reset(&b);
	assert_int_equal(runner_ipc_put_spawned(&b, 8, 31337, &err), 0);
	payload = through_frame(&b, RUNNER_IPC_SPAWNED, &len);
	assert_int_equal(
	    runner_ipc_get_spawned(payload, len, &id, &pid, &err), 0);
	assert_int_equal(id, 8);
	assert_int_equal(pid, 31337);
	free(payload);
	buf_cleanup(&b);
}

/* ---- malformed frames ---------------------------------------------------- */

static void
test_bad_specs(void **state)
{
	static const struct {
		const char *name;
		enum spoil spoil;
		const char *want; /* in the error; NULL: accepted */
	} cases[] = {
	    {"valid", SP_NONE, NULL},
	    {"short", SP_SHORT_HEAD, "malformed start frame: bad gid"},
	    {"string length lies", SP_STR_LIES, "bad user"},
	    {"string without NUL", SP_STR_NO_NUL, "bad cwd"},
	    {"string with NUL inside", SP_STR_INNER_NUL, "bad cwd"},
	    {"string of length 0", SP_STR_ZERO, "bad output file"},
	    {"argv count over max", SP_ARGV_HUGE, "bad argv"},
	    {"argv absent", SP_ARGV_ABSENT, "bad argv"},
	    {"argv empty", SP_ARGV_EMPTY, "bad argv"},
	    {"argv entry absent", SP_ARGV_NULL, "bad argv"},
	    {"environment count lies", SP_ENV_SHORT, "bad environment"},
	    {"trailing byte", SP_TRAILING, "bad trailing bytes"},
	};
	struct runner_ipc_spec out;
	struct cerr err;
	struct buf b;
	int rc;

	buf_init(&b, 1 << 20);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		spec_payload(&b, cases[i].spoil);
		memset(&err, 0, sizeof(err));
		rc = runner_ipc_get_spec(copy_payload(&b), b.len, &out, &err);
		if (cases[i].want == NULL) {
			assert_int_equal(rc, 0);
			assert_string_equal(out.spec.argv[1], "hi");
			runner_ipc_spec_free(&out);
			continue;
		}
		if (rc != -1 || strstr(err.msg, cases[i].want) == NULL)
			fail_msg("%s: rc %d, error '%s', want '%s'",
			    cases[i].name, rc, err.msg, cases[i].want);
		assert_int_equal(err.code, CERR_INVALID);
		/* nothing kept: a failed decode owns nothing */
		assert_null(out.data);
		assert_null(out.argv);
		assert_null(out.envp);
	}
	buf_cleanup(&b);
}

static const struct small_case {
	const char *name;
	int kind; /* 0: id, 1: spawned, 2: result */
	size_t cut; /* bytes of the valid payload kept */
	const char *tail; /* then these bytes */
	size_t tail_len;
	const char *want;
} small_cases[] = {
    {"id short", 0, 7, "", 0, "malformed id frame: bad id"},
    {"id trailing", 0, 8, "x", 1, "bad trailing bytes"},
    {"spawned short", 1, 10, "", 0, "bad pid"},
    {"spawned pid 0", 1, 8, "\0\0\0\0", 4, "bad pid"},
    {"spawned pid negative", 1, 8, "\377\377\377\377", 4, "bad pid"},
    {"result without flags", 2, 8, "", 0,
	"malformed done frame: bad "
	"flags"},
    {"result output lies", 2, 59, "\377\0\0\0\0\0\0\0", 8, "bad output"},
    {"result output unterminated", 2, 69, "x", 1, "bad output"},
};

static void
test_bad_small_frames(void **state)
{
	struct runner_result in, res, before;
	struct cerr err;
	struct buf b;
	uint64_t id;
	pid_t pid;
	int has_fd, rc;

	memset(&in, 0, sizeof(in));
	in.output = "ok";
	in.output_len = 2;
	buf_init(&b, 1024);
	for (size_t i = 0; i < sizeof(small_cases) / sizeof(small_cases[0]);
	     i++) {
		buf_reset(&b);
		if (small_cases[i].kind == 0)
			runner_ipc_put_id(&b, RUNNER_IPC_CANCEL, 5, &err);
		else if (small_cases[i].kind == 1)
			runner_ipc_put_spawned(&b, 5, 99, &err);
		else
			runner_ipc_put_result(&b, 5, &in, 0, &err);
		/* the payload after the 5-byte head, cut, plus the tail */
		assert_true(b.len >= 5 + small_cases[i].cut);
		memmove(b.data, b.data + 5, small_cases[i].cut);
		b.len = small_cases[i].cut;
		p_bytes(&b, small_cases[i].tail, small_cases[i].tail_len);
		id = 77;
		pid = 77;
		memset(&res, 0x5a, sizeof(res));
		before = res;
		memset(&err, 0, sizeof(err));
		if (small_cases[i].kind == 0)
			rc = runner_ipc_get_id(
			    (unsigned char *)b.data, b.len, &id, &err);
		else if (small_cases[i].kind == 1)
			rc = runner_ipc_get_spawned(
			    (unsigned char *)b.data, b.len, &id, &pid, &err);
		else
			rc = runner_ipc_get_result((unsigned char *)b.data,
			    b.len, &id, &res, &has_fd, &err);
		if (rc != -1 || strstr(err.msg, small_cases[i].want) == NULL)
			fail_msg("%s: rc %d, error '%s', want '%s'",
			    small_cases[i].name, rc, err.msg,
			    small_cases[i].want);
		assert_int_equal(id, 77);
		assert_int_equal(pid, 77);
		assert_memory_equal(&res, &before, sizeof(res));
	}
	buf_cleanup(&b);
}

static void
test_bad_frame_lengths(void **state)
{
	static const struct {
		const char *name;
		uint32_t len;
		int want; /* runner_ipc_frame's return */
	} cases[] = {
	    {"length 0", 0, -1},
	    {"length over the maximum", (uint32_t)RUNNER_IPC_FRAME_MAX + 1, -1},
	    {"length 0xffffffff", 0xffffffffu, -1},
	    {"length at the maximum, not all here", RUNNER_IPC_FRAME_MAX, 0},
	};
	struct evbuffer *in = evbuffer_new();
	unsigned char *payload = NULL;
	struct cerr err;
	uint8_t type;
	size_t len;
	int rc;

	assert_non_null(in);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		evbuffer_drain(in, evbuffer_get_length(in));
		evbuffer_add(in, &cases[i].len, sizeof(cases[i].len));
		evbuffer_add(in, "\1abc", 4);
		memset(&err, 0, sizeof(err));
		rc = runner_ipc_frame(in, &type, &payload, &len, &err);
		if (rc != cases[i].want)
			fail_msg("%s: rc %d, want %d", cases[i].name, rc,
			    cases[i].want);
		assert_null(payload);
		assert_int_equal(evbuffer_get_length(in), 8); /* untouched */
		if (rc < 0) {
			assert_int_equal(err.code, CERR_TOO_LARGE);
			assert_non_null(strstr(err.msg, "out of bounds"));
		}
	}
	evbuffer_free(in);
}

static void
test_put_too_large(void **state)
{
	size_t n = RUNNER_IPC_LIST_MAX + 2;
	const char **argv = calloc(n + 1, sizeof(*argv));
	struct runner_spec spec;
	struct cerr err;
	struct buf b;

	assert_non_null(argv);
	for (size_t i = 0; i < n; i++)
		argv[i] = "x";
	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	buf_init(&b, RUNNER_IPC_FRAME_MAX);
	assert_int_equal(runner_ipc_put_id(&b, RUNNER_IPC_CANCEL, 1, &err), 0);
	assert_int_equal(b.len, 13);
	assert_int_equal(runner_ipc_put_spec(&b, 2, &spec, &err), -1);
	assert_int_equal(err.code, CERR_TOO_LARGE);
	assert_int_equal(b.len, 13); /* the earlier frame is all there is */
	buf_cleanup(&b);
	free(argv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spec_round_trip),
	    cmocka_unit_test(test_result_round_trip),
	    cmocka_unit_test(test_small_frames_round_trip),
	    cmocka_unit_test(test_bad_specs),
	    cmocka_unit_test(test_bad_small_frames),
	    cmocka_unit_test(test_bad_frame_lengths),
	    cmocka_unit_test(test_put_too_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
