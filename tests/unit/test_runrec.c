/*
 * Unit tests for run reports: building one, the JSON round trip, making
 * process output into valid UTF-8, every refusal of the strict reader
 * the master applies to uploads, and the budget that keeps a report of
 * many big outputs storable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "common/runrec.h"

static struct run_report *
sample(void)
{
	struct run_report *r =
	    run_report_new(42, "rotate-logs", 7, 1700000000000, 3600);
	struct run_step_rec s = {1, 1, "compress", OUTCOME_RETRYING, 1,
	    1700000000001, 12, "exit code 1", "gzip: x\n", 0, 0};
	struct cerr err;

	assert_non_null(r);
	assert_int_equal(run_report_add_step(r, &s, &err), 0);
	s.attempt = 2;
	s.outcome = OUTCOME_SUCCEEDED;
	s.exit_code = 0;
	s.message = "";
	s.output = "ok \xc3\xa9\n";
	assert_int_equal(run_report_add_step(r, &s, &err), 0);
	s.step = 2;
	s.attempt = 1;
	s.step_name = "report";
	s.outcome = OUTCOME_FAILED;
	s.exit_code = -1;
	s.message = "killed by signal 9";
	s.output = "";
	assert_int_equal(run_report_add_step(r, &s, &err), 0);
	r->outcome = OUTCOME_FAILED;
	r->exit_code = -1;
	r->duration_ms = 99;
	assert_int_equal(
	    run_report_set_message(
		r, "step 2 (report) failed: killed by signal 9", &err),
	    0);
	return r;
}

static void
test_runrec_new_defaults(void **state)
{
	struct run_report *r = run_report_new(1, "j", 0, 5, -18000);

	assert_non_null(r);
	assert_string_equal(r->job, "j");
	assert_int_equal(r->outcome, OUTCOME_RUNNING);
	assert_int_equal(r->exit_code, -1);
	assert_string_equal(r->message, "");
	assert_int_equal(r->nsteps, 0);
	assert_int_equal(r->tz_offset_s, -18000);
	run_report_free(r);
	run_report_free(NULL);
}

static void
test_runrec_round_trip(void **state)
{
	struct run_report *r = sample(), *back = NULL;
	json_t *v = run_report_to_json(r), *again;
	char *text, *text2;
	struct cerr err;

	assert_non_null(v);
	text = json_dump_compact(v);
	if (run_report_from_json(v, &back, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(back->target_run_id, 42);
	assert_string_equal(back->job, "rotate-logs");
	assert_int_equal(back->instr_id, 7);
	assert_int_equal(back->outcome, OUTCOME_FAILED);
	assert_int_equal(back->tz_offset_s, 3600);
	assert_int_equal(back->nsteps, 3);
	assert_int_equal(back->steps[0].outcome, OUTCOME_RETRYING);
	assert_string_equal(back->steps[1].output, "ok \xc3\xa9\n");
	assert_string_equal(back->steps[2].step_name, "report");
	assert_int_equal(back->steps[2].exit_code, -1);
	again = run_report_to_json(back);
	text2 = json_dump_compact(again);
	assert_string_equal(text, text2);
	free(text);
	free(text2);
	json_decref(v);
	json_decref(again);
	run_report_free(r);
	run_report_free(back);
}

static const struct {
	const char *in;
	size_t len; /* 0: strlen */
	size_t max;
	const char *out;
} clean_cases[] = {
    {"plain", 0, 100, "plain"},
    {"caf\xc3\xa9", 0, 100, "caf\xc3\xa9"},
    {"a\0b", 3, 100,
	"a\xef\xbf\xbd"
	"b"},
    {"\xff\xfe", 0, 100, "\xef\xbf\xbd\xef\xbf\xbd"},
    {"\xc0\xaf", 0, 100, "\xef\xbf\xbd\xef\xbf\xbd"}, /* overlong */
    {"\xed\xa0\x80", 0, 100, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
    {"\xf4\x90\x80\x80", 0, 100,
	"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
    {"\xf0\x9f\x98\x80!", 0, 100, "\xf0\x9f\x98\x80!"},
    {"ab\xc3", 0, 100, "ab\xef\xbf\xbd"}, /* cut sequence */
    {"abcdef", 0, 4, "abcd"},
    {"ab\xc3\xa9", 0, 3, "ab"}, /* not inside a character */
    {"", 0, 100, ""},
};

static void
test_runrec_clean_text(void **state)
{
	for (size_t i = 0; i < sizeof(clean_cases) / sizeof(clean_cases[0]);
	     i++) {
		size_t len = clean_cases[i].len ? clean_cases[i].len
						: strlen(clean_cases[i].in);
		char *s = runrec_clean_text(
		    clean_cases[i].in, len, clean_cases[i].max);

		if (strcmp(s, clean_cases[i].out) != 0)
			fail_msg("case %zu: got '%s'", i, s);
		free(s);
	}
}

/* Strings that enter a report are cleaned and cut, so it can always be
 * written as JSON. */
static void
test_runrec_add_cleans(void **state)
{
	struct run_report *r = run_report_new(1, "j", 0, 0, 0);
	char longmsg[RUNREC_MESSAGE_MAX + 50];
	struct run_step_rec s = {
	    1, 1, "s", OUTCOME_FAILED, 1, 0, 0, longmsg, "bad \xff byte", 0, 0};
	struct cerr err;
	json_t *v;

	memset(longmsg, 'm', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	assert_int_equal(run_report_add_step(r, &s, &err), 0);
	assert_int_equal(strlen(r->steps[0].message), RUNREC_MESSAGE_MAX);
	assert_string_equal(r->steps[0].output, "bad \xef\xbf\xbd byte");
	assert_int_equal(run_report_set_message(r, longmsg, &err), 0);
	assert_int_equal(strlen(r->message), RUNREC_MESSAGE_MAX);
	v = run_report_to_json(r);
	assert_non_null(v);
	json_decref(v);
	run_report_free(r);
}

static void
test_runrec_row_limit(void **state)
{
	struct run_report *r = run_report_new(1, "j", 0, 0, 0);
	struct run_step_rec s = {
	    1, 1, "s", OUTCOME_RETRYING, 1, 0, 0, "", "", 0, 0};
	struct cerr err;

	for (int i = 0; i < RUNREC_MAX_STEP_ROWS; i++) {
		s.attempt = i + 1;
		assert_int_equal(run_report_add_step(r, &s, &err), 0);
	}
	assert_int_equal(run_report_add_step(r, &s, &err), -1);
	assert_int_equal(err.code, CERR_TOO_LARGE);
	assert_int_equal(r->nsteps, RUNREC_MAX_STEP_ROWS);
	run_report_free(r);
}

#define ROW                                                                    \
	"\"target_run_id\":1,\"job\":\"j\",\"instr_id\":0,"                    \
	"\"outcome\":\"succeeded\",\"exit_code\":0,\"started_ms\":1,"          \
	"\"duration_ms\":2,\"tz_offset_s\":0,\"message\":\"\""
#define STEP                                                                   \
	"\"step\":1,\"attempt\":1,\"step_name\":\"s\",\"outcome\":"            \
	"\"succeeded\",\"exit_code\":0,\"started_ms\":1,\"duration_ms\":1,"    \
	"\"message\":\"\""

static const struct {
	const char *json;
	const char *error; /* NULL: accepted */
} bad_cases[] = {
    {"{" ROW ",\"steps\":[]}", NULL},
    {"{" ROW ",\"steps\":[{" STEP ",\"output\":\"x\\ny\"}]}", NULL},
    {"[]", "document: must be an object"},
    {"{" ROW ",\"steps\":[],\"extra\":1}", "extra: unknown field"},
    {"{" ROW "}", "steps: must be an array"},
    {"{" ROW ",\"steps\":{}}", "steps: must be an array"},
    {"{\"job\":\"j\",\"steps\":[]}", "target_run_id: missing"},
    {"{" ROW ",\"steps\":[{" STEP "}]}", "steps[0].output: missing"},
    {"{" ROW ",\"steps\":[{" STEP ",\"output\":\"\",\"more\":1}]}",
	"steps[0].more: unknown field"},
    {"{" ROW ",\"steps\":[{" STEP ",\"output\":null}]}",
	"steps[0].output: missing"},
    {"{" ROW ",\"steps\":[{" STEP ",\"output\":5}]}",
	"steps[0].output: must be a string"},
    {"{" ROW ",\"steps\":[{" STEP ",\"output\":\"a\\u0000b\"}]}",
	"steps[0].output: contains a NUL byte"},
    {"{" ROW ",\"steps\":[1]}", "steps[0]: must be an object"},
};

/* The same report with one field of the job row replaced. */
static const struct {
	const char *field, *value, *error;
} field_cases[] = {
    {"target_run_id", "0", "target_run_id: 0 is out of range"},
    {"target_run_id", "\"1\"", "target_run_id: must be an integer"},
    {"job", "\"\"", "job: must not be empty"},
    {"job", "\"-x\"", "job: must not start with"},
    {"job", "\"a b\"", "job: byte 2 is not a letter"},
    {"job", "\"a\\nb\"", "job: contains a control character"},
    {"instr_id", "-1", "instr_id: -1 is out of range"},
    {"outcome", "\"won\"", "outcome: 'won' is not a run outcome"},
    {"outcome", "1", "outcome: must be a string"},
    {"exit_code", "256", "exit_code: 256 is out of range"},
    {"exit_code", "-2", "exit_code: -2 is out of range"},
    {"started_ms", "-5", "started_ms: -5 is out of range"},
    {"started_ms", "9223372036854775807",
	"started_ms: 9223372036854775807 is out of range"},
    {"started_ms", "253402300800000",
	"started_ms: 253402300800000 is out of range"},
    {"duration_ms", "9223372036854775807",
	"duration_ms: 9223372036854775807 is out of range"},
    {"duration_ms", "1.5", "duration_ms: must be an integer"},
    {"tz_offset_s", "90000", "tz_offset_s: 90000 is out of range"},
    {"message", "null", "message: missing"},
    {"steps", "[{\"step\":1}]", "steps[0].attempt: missing"},
};

static void
check_json(const char *text, const char *want, const char *what)
{
	struct run_report *r = NULL;
	struct cerr err;
	json_t *v = json_loads(text, JSON_ALLOW_NUL, NULL);
	int rc;

	if (v == NULL)
		fail_msg("%s: test JSON does not parse: %s", what, text);
	rc = run_report_from_json(v, &r, &err);
	if (want == NULL && rc != 0)
		fail_msg("%s: refused: %s", what, err.msg);
	if (want != NULL && rc == 0)
		fail_msg("%s: accepted", what);
	if (want != NULL && strstr(err.msg, want) == NULL)
		fail_msg("%s: '%s' not in '%s'", what, want, err.msg);
	if (want != NULL)
		assert_null(r);
	run_report_free(r);
	json_decref(v);
}

static void
test_runrec_from_json_refusals(void **state)
{
	char text[1024], what[64];

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		snprintf(what, sizeof(what), "case %zu", i);
		check_json(bad_cases[i].json, bad_cases[i].error, what);
	}
	for (size_t i = 0; i < sizeof(field_cases) / sizeof(field_cases[0]);
	     i++) {
		json_t *v = json_loads("{" ROW ",\"steps\":[]}", 0, NULL);
		json_t *val =
		    json_loads(field_cases[i].value, JSON_DECODE_ANY, NULL);
		char *dump;

		assert_non_null(val);
		json_object_set_new(v, field_cases[i].field, val);
		dump = json_dumps(v, JSON_COMPACT);
		snprintf(text, sizeof(text), "%s", dump);
		free(dump);
		json_decref(v);
		snprintf(what, sizeof(what), "field case %zu (%s)", i,
		    field_cases[i].field);
		check_json(text, field_cases[i].error, what);
	}
}

/* Step rows: outcome "running" is for the job row only; ranges. */
static const struct {
	const char *field, *value, *error;
} step_cases[] = {
    {"outcome", "\"running\"", "steps[0].outcome: 'running' is not a step"},
    {"outcome", "\"interrupted\"", NULL},
    {"step", "0", "steps[0].step: 0 is out of range"},
    {"step", "101", "steps[0].step: 101 is out of range"},
    {"attempt", "0", "steps[0].attempt: 0 is out of range"},
    {"step_name", "\".x\"", "steps[0].step_name: must not start with"},
    {"exit_code", "-1", NULL},
    {"duration_ms", "-1", "steps[0].duration_ms: -1 is out of range"},
    {"message", "\"line\\nline\"", NULL},
};

static void
test_runrec_step_fields(void **state)
{
	char what[64];

	for (size_t i = 0; i < sizeof(step_cases) / sizeof(step_cases[0]);
	     i++) {
		json_t *v = json_loads("{" ROW ",\"steps\":[{" STEP
				       ",\"output\":\"\"}]}",
		    0, NULL);
		json_t *st = json_array_get(json_object_get(v, "steps"), 0);
		char *dump;

		assert_non_null(v);
		json_object_set_new(st, step_cases[i].field,
		    json_loads(step_cases[i].value, JSON_DECODE_ANY, NULL));
		dump = json_dumps(v, JSON_COMPACT);
		snprintf(what, sizeof(what), "step case %zu", i);
		check_json(dump, step_cases[i].error, what);
		free(dump);
		json_decref(v);
	}
}

static void
test_runrec_too_many_rows(void **state)
{
	json_t *v = json_loads("{" ROW ",\"steps\":[]}", 0, NULL);
	json_t *steps = json_object_get(v, "steps");
	struct run_report *r = NULL;
	struct cerr err;

	for (int i = 0; i <= RUNREC_MAX_STEP_ROWS; i++)
		json_array_append_new(steps, json_integer(1));
	assert_int_equal(run_report_from_json(v, &r, &err), -1);
	assert_int_equal(err.code, CERR_TOO_LARGE);
	assert_string_equal(err.msg, "steps: more than 10000 rows");
	json_decref(v);
}

static void
test_runrec_long_message(void **state)
{
	json_t *v = json_loads("{" ROW ",\"steps\":[]}", 0, NULL);
	char text[RUNREC_MESSAGE_MAX + 2];
	struct run_report *r = NULL;
	struct cerr err;

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	json_object_set_new(v, "message", json_string(text));
	assert_int_equal(run_report_from_json(v, &r, &err), -1);
	assert_string_equal(err.msg, "message: longer than 1024 bytes");
	text[RUNREC_MESSAGE_MAX] = '\0';
	json_object_set_new(v, "message", json_string(text));
	assert_int_equal(run_report_from_json(v, &r, &err), 0);
	assert_int_equal(strlen(r->message), RUNREC_MESSAGE_MAX);
	run_report_free(r);
	json_decref(v);
}

/* Memory short (outcomes waiting for the store): every step row's output
 * becomes the note, the rest of the report stays as it was. */
static void
test_runrec_drop_outputs(void **state)
{
	struct run_report *r = sample();

	run_report_drop_outputs(r, "(output not kept)");
	assert_int_equal(r->nsteps, 3);
	for (size_t i = 0; i < r->nsteps; i++)
		assert_string_equal(r->steps[i].output, "(output not kept)");
	assert_string_equal(r->steps[0].message, "exit code 1");
	assert_string_equal(
	    r->message, "step 2 (report) failed: killed by signal 9");
	assert_int_equal(r->outcome, OUTCOME_FAILED);
	run_report_free(r);
}

#define MIB (1024 * 1024)

/* Rows added in groups: count rows of bytes of output each. */
static const struct budget_case {
	const char *name;
	struct {
		int count;
		int bytes;
	} groups[3];
	size_t want_dropped; /* the oldest rows with output lose it */
	size_t want_bytes; /* output kept in all */
	int read_back; /* also through its JSON */
} budget_cases[] = {
    {"many big rows", {{100, MIB}}, 36, 64 * (size_t)MIB, 1},
    {"many small rows", {{3000, 1024}}, 0, 3000 * 1024, 0},
    {"one full row after others", {{2, MIB}, {1, 64 * MIB}}, 2,
	64 * (size_t)MIB, 0},
    {"empty outputs are not dropped", {{1, 64 * MIB}, {2, 0}, {1, MIB}}, 1, MIB,
	0},
};

static void
budget_run(const struct budget_case *c, char *big)
{
	struct run_report *r = run_report_new(1, "j", 0, 0, 0), *back = NULL;
	struct run_step_rec s = {
	    1, 1, "s", OUTCOME_RETRYING, 1, 0, 0, "", "", 0, 0};
	size_t rows = 0, with_output = 0, total = 0;
	struct cerr err;
	json_t *v;

	assert_non_null(r);
	for (int g = 0; g < 3; g++)
		for (int i = 0; i < c->groups[g].count; i++) {
			s.attempt = (int)++rows;
			s.output = big + 64 * MIB - c->groups[g].bytes;
			if (run_report_add_step(r, &s, &err) < 0)
				fail_msg("%s: %s", c->name, err.msg);
			assert_true(
			    r->output_bytes <= RUNREC_REPORT_OUTPUT_MAX);
		}
	if (r->over_budget != c->want_dropped ||
	    r->output_bytes != c->want_bytes)
		fail_msg("%s: dropped %zu, kept %zu bytes", c->name,
		    r->over_budget, r->output_bytes);
	for (size_t i = 0; i < r->nsteps; i++) {
		const struct run_step_rec *row = &r->steps[i];
		int dropped = with_output < c->want_dropped && row->output[0];

		with_output += row->output[0] != '\0';
		if (dropped != row->over_budget ||
		    (dropped && strcmp(row->output, RUNREC_OVER_BUDGET) != 0))
			fail_msg("%s: row %zu: over_budget %d", c->name, i,
			    row->over_budget);
		total += dropped ? 0 : strlen(row->output);
	}
	assert_int_equal(total, r->output_bytes);
	if (!c->read_back) {
		run_report_free(r);
		return;
	}
	/* what a reader of its JSON gets is the report that was written */
	v = run_report_to_json(r);
	assert_non_null(v);
	if (run_report_from_json(v, &back, &err) < 0)
		fail_msg("%s: read back: %s", c->name, err.msg);
	assert_int_equal(back->over_budget, r->over_budget);
	assert_int_equal(back->output_bytes, r->output_bytes);
	json_decref(v);
	run_report_free(back);
	run_report_free(r);
}

/* A report's outputs stay within RUNREC_REPORT_OUTPUT_MAX in all, the
 * oldest dropped first with a marker; a single step's output never is. */
static void
test_runrec_output_budget(void **state)
{
	char *big = malloc(64 * MIB + 1);

	assert_non_null(big);
	memset(big, 'a', 64 * MIB);
	big[64 * MIB] = '\0';
	for (size_t i = 0; i < sizeof(budget_cases) / sizeof(budget_cases[0]);
	     i++)
		budget_run(&budget_cases[i], big);
	free(big);
}

/* A note goes whole at the end of the job row's message, which is cut on
 * a character boundary to make room. */
static void
test_runrec_add_note(void **state)
{
	static const struct {
		const char *message;
		int repeat; /* the message, so many times */
		const char *note;
		const char *want_end;
		size_t want_len;
	} cases[] = {
	    {"", 1, "note", "note", 4},
	    {"step 1 (a) failed", 1, "note", "failed; note", 23},
	    {"x", 1024, "a note", "xx; a note", 1024},
	    {"\xc3\xa9", 512, "abc", "\xc3\xa9; abc", 1023},
	};
	char msg[2048];
	struct cerr err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run_report *r = run_report_new(1, "j", 0, 0, 0);
		size_t len, end;

		assert_non_null(r);
		msg[0] = '\0';
		for (int k = 0; k < cases[i].repeat; k++)
			strcat(msg, cases[i].message);
		assert_int_equal(run_report_set_message(r, msg, &err), 0);
		assert_int_equal(
		    run_report_add_note(r, cases[i].note, &err), 0);
		len = strlen(r->message);
		end = strlen(cases[i].want_end);
		if (len != cases[i].want_len ||
		    strcmp(r->message + len - end, cases[i].want_end) != 0)
			fail_msg("case %zu: '%s'", i, r->message);
		run_report_free(r);
	}
}

/* Too big to store even without outputs: the job row stays alone. */
static void
test_runrec_drop_steps(void **state)
{
	struct run_report *r = sample();
	json_t *v;

	run_report_drop_steps(r);
	assert_int_equal(r->nsteps, 0);
	assert_int_equal(r->output_bytes, 0);
	v = run_report_to_json(r);
	assert_non_null(v);
	assert_int_equal(json_array_size(json_object_get(v, "steps")), 0);
	assert_string_equal(json_string_value(json_object_get(v, "message")),
	    "step 2 (report) failed: killed by signal 9");
	json_decref(v);
	run_report_free(r);
}

/* A run's name, TARGET:N, as listings give it and cohortctl --run and
 * the master's run_id take it. */
static void
test_run_id_parse(void **state)
{
	static const struct {
		const char *text;
		const char *target; /* NULL: refused */
		int64_t n;
	} cases[] = {
	    {"web-1:3", "web-1", 3},
	    {"a:b:42", "a:b", 42}, /* the last colon splits */
	    {"bogus", NULL, 0}, {":3", NULL, 0}, {"web-1:", NULL, 0},
	    {"web-1:0", NULL, 0}, {"web-1:-3", NULL, 0}, {"web-1:+3", NULL, 0},
	    {"web-1:3x", NULL, 0}, {"web-1:99999999999999999999", NULL, 0},
	    {"abcdefgh:1", NULL, 0}, /* a target longer than the buffer */
	};
	char target[8];
	int64_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc =
		    run_id_parse(cases[i].text, target, sizeof(target), &n);

		if (cases[i].target == NULL) {
			if (rc != -1)
				fail_msg("'%s': accepted", cases[i].text);
			continue;
		}
		if (rc != 0 || strcmp(target, cases[i].target) != 0 ||
		    n != cases[i].n)
			fail_msg("'%s': rc %d, '%s', %lld", cases[i].text, rc,
			    target, (long long)n);
	}
	assert_int_equal(run_id_parse(NULL, target, sizeof(target), &n), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_runrec_new_defaults),
	    cmocka_unit_test(test_runrec_round_trip),
	    cmocka_unit_test(test_runrec_clean_text),
	    cmocka_unit_test(test_runrec_add_cleans),
	    cmocka_unit_test(test_runrec_row_limit),
	    cmocka_unit_test(test_runrec_from_json_refusals),
	    cmocka_unit_test(test_runrec_step_fields),
	    cmocka_unit_test(test_runrec_too_many_rows),
	    cmocka_unit_test(test_runrec_long_message),
	    cmocka_unit_test(test_runrec_drop_outputs),
	    cmocka_unit_test(test_runrec_output_budget),
	    cmocka_unit_test(test_runrec_add_note),
	    cmocka_unit_test(test_runrec_drop_steps),
	    cmocka_unit_test(test_run_id_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
