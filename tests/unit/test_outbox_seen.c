/*
 * test_outbox_seen: when the master takes a target's history as complete
 * (its start refusals depend on it): the last poll's report against the
 * uploads since, in either order, forgotten with a new life of the name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "master/master.h"
#include "master/outbox_seen.h"

static void
poll(struct master *m, const char *t, int64_t upto)
{
	struct cerr err;

	assert_int_equal(outbox_seen_poll(m, t, upto, &err), 0);
}

static void
upload(struct master *m, const char *t, int64_t upto)
{
	struct cerr err;

	assert_int_equal(outbox_seen_upload(m, t, upto, &err), 0);
}

static void
test_report_against_uploads(void **state)
{
	struct master m;

	(void)state;
	memset(&m, 0, sizeof(m));
	strmap_init(&m.outbox_seen);
	assert_false(outbox_seen_complete(&m, "web-1")); /* nothing said */
	poll(&m, "web-1", 0);
	assert_true(outbox_seen_complete(&m, "web-1")); /* empty outbox */
	poll(&m, "web-1", 5);
	assert_false(outbox_seen_complete(&m, "web-1"));
	upload(&m, "web-1", 4);
	assert_false(outbox_seen_complete(&m, "web-1"));
	upload(&m, "web-1", 5);
	assert_true(outbox_seen_complete(&m, "web-1"));
	/* an upload ahead of a poll built before it */
	upload(&m, "web-1", 7);
	poll(&m, "web-1", 6);
	assert_true(outbox_seen_complete(&m, "web-1"));
	/* an older target says nothing: forgotten */
	poll(&m, "web-1", -1);
	assert_false(outbox_seen_complete(&m, "web-1"));
	/* one target's uploads say nothing of another's */
	poll(&m, "web-2", 3);
	assert_false(outbox_seen_complete(&m, "web-2"));
	outbox_seen_clear(&m);
}

/* A name enlisted again starts its seqs over: what the old life's uploads
 * reached says nothing of the new one's. */
static void
test_a_new_life_starts_over(void **state)
{
	struct master m;

	(void)state;
	memset(&m, 0, sizeof(m));
	strmap_init(&m.outbox_seen);
	poll(&m, "web-1", 5000);
	upload(&m, "web-1", 5000);
	outbox_seen_forget(&m, "web-1");
	poll(&m, "web-1", 3);
	assert_false(outbox_seen_complete(&m, "web-1"));
	upload(&m, "web-1", 3);
	assert_true(outbox_seen_complete(&m, "web-1"));
	/* becoming active forgets everyone */
	outbox_seen_clear(&m);
	assert_false(outbox_seen_complete(&m, "web-1"));
	outbox_seen_clear(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_report_against_uploads),
	    cmocka_unit_test(test_a_new_life_starts_over),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
