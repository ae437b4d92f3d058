/*
 * Unit tests for events: names, making one (fresh id, cleaned message),
 * the JSON round trip, and every refusal of the strict reader the master
 * applies to uploads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/eventrec.h"
#include "common/json.h"

static void
test_names(void **state)
{
	enum event_severity s;
	enum event_kind k;

	for (int i = 0; i < EVENT_SEVERITY_COUNT; i++) {
		assert_int_equal(
		    eventrec_severity_parse(eventrec_severity_name(i), &s), 0);
		assert_int_equal(s, i);
	}
	for (int i = 0; i < EVENT_KIND_COUNT; i++) {
		assert_int_equal(
		    eventrec_kind_parse(eventrec_kind_name(i), &k), 0);
		assert_int_equal(k, i);
	}
	assert_int_equal(eventrec_severity_parse("loud", &s), -1);
	assert_int_equal(eventrec_kind_parse(NULL, &k), -1);
	assert_string_equal(
	    eventrec_severity_name(EVENT_SEVERITY_COUNT), "unknown");
	assert_true(EVENT_INFO < EVENT_WARNING && EVENT_ERROR < EVENT_CRITICAL);
}

static void
test_init_and_round_trip(void **state)
{
	struct eventrec a, b, c;
	struct cerr err;
	json_t *v;

	assert_int_equal(eventrec_init(&a, EVENT_WARNING, EVENT_STEP_TIMEOUT,
			     "backup", 7, "line one\nline\ttwo \xff", &err),
	    0);
	assert_int_equal(strlen(a.id), EVENTREC_ID_LEN);
	assert_true(a.time_ms > 1700000000000);
	/* control characters become spaces, bad bytes U+FFFD */
	assert_string_equal(a.message, "line one line two \xef\xbf\xbd");
	assert_int_equal(
	    eventrec_init(&b, EVENT_INFO, EVENT_USER, NULL, 0, "x", &err), 0);
	assert_string_not_equal(a.id, b.id);
	v = eventrec_to_json(&a);
	assert_non_null(v);
	assert_int_equal(eventrec_from_json(v, &c, &err), 0);
	json_decref(v);
	assert_memory_equal(&a, &c, sizeof(a));
	v = eventrec_to_json(&b);
	assert_true(json_is_null(json_object_get(v, "job")));
	assert_true(json_is_null(json_object_get(v, "run_id")));
	assert_int_equal(eventrec_from_json(v, &c, &err), 0);
	json_decref(v);
	assert_string_equal(c.job, "");
	assert_int_equal(c.run_id, 0);
	/* a long message is cut */
	{
		char big[3000];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(eventrec_init(&a, EVENT_INFO, EVENT_USER, NULL,
				     0, big, &err),
		    0);
		assert_int_equal(strlen(a.message), EVENTREC_MESSAGE_MAX);
	}
	assert_int_equal(
	    eventrec_init(&a, EVENT_INFO, EVENT_USER, "bad name", 0, "x", &err),
	    -1);
	assert_int_equal(eventrec_init(&a, EVENT_SEVERITY_COUNT, EVENT_USER,
			     NULL, 0, "x", &err),
	    -1);
}

#define GOOD_ID "0123456789abcdef0123456789abcdef"
#define BASE                                                                   \
	"'id':'" GOOD_ID "','time_ms':1700000000000,'severity':'error',"       \
	"'kind':'user','message':'m'"

static const struct {
	const char *body;
	const char *error; /* NULL: accepted */
} reader_cases[] = {
    {"{" BASE "}", NULL},
    {"{" BASE ",'job':'backup','run_id':3}", NULL},
    {"{" BASE ",'job':null,'run_id':null}", NULL},
    {"[]", "event: must be an object"},
    {"{" BASE ",'extra':1}", "extra"},
    {"{'time_ms':1,'severity':'error','kind':'user','message':'m'}",
	"event.id: missing"},
    {"{'id':'ABCDEF0123456789abcdef0123456789','time_ms':1,"
     "'severity':'error','kind':'user','message':'m'}",
	"event.id: not 32 lowercase hex digits"},
    {"{'id':'abc','time_ms':1,'severity':'error','kind':'user',"
     "'message':'m'}",
	"event.id"},
    {"{'id':'" GOOD_ID "','severity':'error','kind':'user','message':'m'}",
	"event.time_ms: missing"},
    {"{'id':'" GOOD_ID "','time_ms':0,'severity':'error','kind':'user',"
     "'message':'m'}",
	"event.time_ms"},
    {"{'id':'" GOOD_ID "','time_ms':1,'severity':'loud','kind':'user',"
     "'message':'m'}",
	"event.severity: 'loud' is unknown"},
    {"{'id':'" GOOD_ID "','time_ms':1,'severity':'error','kind':'boom',"
     "'message':'m'}",
	"event.kind: 'boom' is unknown"},
    {"{'id':'" GOOD_ID "','time_ms':1,'severity':'error','kind':'user'}",
	"event.message: missing"},
    {"{" BASE ",'job':'a b'}", "event.job"},
    {"{" BASE ",'job':7}", "event.job"},
    {"{" BASE ",'run_id':0}", "event.run_id"},
    {"{" BASE ",'run_id':'7'}", "event.run_id"},
    {"{'id':'" GOOD_ID "','time_ms':1,'severity':'error','kind':'user',"
     "'message':'a\\nb'}",
	"event.message"},
};

/* The cases are written with ' for readability. */
static json_t *
parse_quoted(const char *text)
{
	char buf[1024];
	size_t i;

	for (i = 0; text[i] != '\0' && i + 1 < sizeof(buf); i++)
		buf[i] = text[i] == '\'' ? '"' : text[i];
	buf[i] = '\0';
	return json_loads(buf, 0, NULL);
}

static void
test_reader(void **state)
{
	for (size_t i = 0; i < sizeof(reader_cases) / sizeof(reader_cases[0]);
	     i++) {
		json_t *v = parse_quoted(reader_cases[i].body);
		struct eventrec ev;
		struct cerr err;
		int rc;

		if (v == NULL)
			fail_msg("case %zu: bad JSON in the test", i);
		cerr_clear(&err);
		rc = eventrec_from_json(v, &ev, &err);
		json_decref(v);
		if (reader_cases[i].error == NULL) {
			if (rc != 0)
				fail_msg("case %zu: refused: %s", i, err.msg);
			continue;
		}
		if (rc == 0)
			fail_msg("case %zu: accepted", i);
		if (err.code != CERR_INVALID ||
		    strstr(err.msg, reader_cases[i].error) == NULL)
			fail_msg("case %zu: '%s' not in '%s'", i,
			    reader_cases[i].error, err.msg);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_init_and_round_trip),
	    cmocka_unit_test(test_reader),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
