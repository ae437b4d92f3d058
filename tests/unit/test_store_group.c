/*
 * Unit tests for target groups in the store: create, membership,
 * listings, refusals, and memberships going with their target.
 */
#include "test_store.h"

static void
test_group_lifecycle(void **state)
{
	struct fx *fx = *state;
	struct names n;
	struct cerr err;
	int added = -1;

	add_target(fx->s, "web-1");
	add_target(fx->s, "web-2");
	assert_int_equal(store_group_create(fx->s, "web", 1, &err), 0);
	assert_int_equal(store_group_create(fx->s, "db", 1, &err), 0);
	expect_err(store_group_create(fx->s, "web", 2, &err), &err,
	    CERR_CONFLICT, "exists");
	assert_int_equal(
	    store_group_add(fx->s, "web", "web-2", &added, &err), 0);
	assert_int_equal(added, 1);
	assert_int_equal(
	    store_group_add(fx->s, "web", "web-1", &added, &err), 0);
	/* twice is harmless and says so */
	assert_int_equal(
	    store_group_add(fx->s, "web", "web-1", &added, &err), 0);
	assert_int_equal(added, 0);
	memset(&n, 0, sizeof(n));
	assert_int_equal(
	    store_group_members(fx->s, "web", collect_name, &n, &err), 0);
	assert_int_equal(n.n, 2);
	assert_string_equal(n.v[0], "web-1");
	assert_string_equal(n.v[1], "web-2");
	memset(&n, 0, sizeof(n));
	assert_int_equal(store_group_list(fx->s, collect_name, &n, &err), 0);
	assert_int_equal(n.n, 2);
	assert_string_equal(n.v[0], "db");
	assert_string_equal(n.v[1], "web");
	assert_int_equal(store_group_remove(fx->s, "web", "web-1", &err), 0);
	expect_err(store_group_remove(fx->s, "web", "web-1", &err), &err,
	    CERR_NOT_FOUND, "not in group");
	expect_err(store_group_remove(fx->s, "nogroup", "web-1", &err), &err,
	    CERR_NOT_FOUND, "no group 'nogroup'");
	assert_int_equal(store_group_delete(fx->s, "db", &err), 0);
	expect_err(store_group_delete(fx->s, "db", &err), &err, CERR_NOT_FOUND,
	    "no group");
}

static void
test_group_refusals(void **state)
{
	struct fx *fx = *state;
	struct names n;
	struct cerr err;

	add_target(fx->s, "web-1");
	expect_err(store_group_add(fx->s, "nope", "web-1", NULL, &err), &err,
	    CERR_NOT_FOUND, "no group 'nope'");
	assert_int_equal(store_group_create(fx->s, "web", 1, &err), 0);
	expect_err(store_group_add(fx->s, "web", "ghost", NULL, &err), &err,
	    CERR_NOT_FOUND, "no target 'ghost'");
	expect_err(store_group_members(fx->s, "nope", collect_name, &n, &err),
	    &err, CERR_NOT_FOUND, "no group");
	expect_err(store_group_create(fx->s, "bad\001name", 1, &err), &err,
	    CERR_INVALID, "");
	memset(&n, 0, sizeof(n));
	assert_int_equal(
	    store_group_members(fx->s, "web", collect_name, &n, &err), 0);
	assert_int_equal(n.n, 0);
}

static void
test_group_member_deleted_with_target(void **state)
{
	struct fx *fx = *state;
	struct names n;
	struct cerr err;

	add_target(fx->s, "web-1");
	assert_int_equal(store_group_create(fx->s, "web", 1, &err), 0);
	assert_int_equal(store_group_add(fx->s, "web", "web-1", NULL, &err), 0);
	assert_int_equal(store_target_delete(fx->s, "web-1", &err), 0);
	memset(&n, 0, sizeof(n));
	assert_int_equal(
	    store_group_members(fx->s, "web", collect_name, &n, &err), 0);
	assert_int_equal(n.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_group_lifecycle, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
		test_group_refusals, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(
		test_group_member_deleted_with_target, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
