/*
 * Unit tests for the job document: a table of bad documents, each refused
 * with a message naming the field by its path (1-based indexes), generated
 * over-limit documents, good documents that survive the canonical round
 * trip, defaults, deduplication and secret redaction.
 *
 * Documents are written with single quotes for readability; jq() turns
 * them into JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/jobdoc.h"
#include "common/schedule.h"

#define NCASES(t) (sizeof(t) / sizeof((t)[0]))

/* A copy of s with every ' made a ", so tables stay readable. */
static char *
jq(const char *s)
{
	char *copy = strdup(s);

	assert_non_null(copy);
	for (char *p = copy; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return copy;
}

/* One-step document around the given step members. */
#define STEP1(members) "{'name':'j','steps':[{" members "}]}"
#define TOP(members) "{'name':'j','steps':[{'command':'true'}]," members "}"
#define SCHED(members) TOP("'schedules':[{" members "}]")

static const struct {
	const char *doc;
	const char *expect; /* substring of the message */
} bad_cases[] = {
    /* the document itself */
    {"{", "bad JSON"},
    {STEP1("'command':'a\\u0000b'"), "bad JSON"},
    {"[]", "document: must be an object"},
    {"{'name':'j','name':'k','steps':[{'command':'x'}]}", "bad JSON"},
    {"{'steps':[{'command':'true'}]}", "name: required"},
    {"{'name':'','steps':[{'command':'true'}]}", "name: must not be empty"},
    {"{'name':'a b','steps':[{'command':'true'}]}", "name: byte 2 is not"},
    {"{'name':'a\\u0001','steps':[{'command':'true'}]}",
	"name: contains a control character"},
    {"{'name':'a/b','steps':[{'command':'true'}]}", "name: byte 2"},
    {"{'name':'-a','steps':[{'command':'true'}]}", "name: must not start with"},
    {"{'name':'.a','steps':[{'command':'true'}]}", "name: must not start with"},
    {"{'name':5,'steps':[{'command':'true'}]}", "name: must be a string"},
    {TOP("'nmae':'x'"), "nmae: unknown field"},
    {TOP("'description':'a\\nb'"), "description: contains a control character"},
    {TOP("'category':7"), "category: must be a string"},
    {TOP("'owner':'a\\u007f'"), "owner: contains a control character"},
    {TOP("'enabled':'yes'"), "enabled: must be true or false"},
    {TOP("'start_step':0"), "start_step: 0 is out of range 1..1"},
    {TOP("'start_step':2"), "start_step: 2 is out of range 1..1"},
    {TOP("'history_max_rows':-1"), "history_max_rows: -1 is out of range"},
    {TOP("'history_max_age_s':'1d'"), "history_max_age_s: must be an integer"},
    {TOP("'overlap':'allow'"), "overlap: 'allow' is not one of refuse, queue"},
    {TOP("'misfire':'later'"), "misfire: 'later' is not one of run_once, skip"},
    /* steps */
    {"{'name':'j'}", "steps: required"},
    {"{'name':'j','steps':[]}", "steps: must be an array of 1 to 100"},
    {"{'name':'j','steps':{}}", "steps: must be an array"},
    {"{'name':'j','steps':['true']}", "steps[1]: must be an object"},
    {"{'name':'j','steps':[{'command':'a'},{'command':'b','tmeout_s':1}]}",
	"steps[2].tmeout_s: unknown field"},
    {STEP1("'name':'s'"), "steps[1].command: required"},
    {STEP1("'command':''"), "steps[1].command: must not be empty"},
    {STEP1("'command':['ls']"),
	"steps[1].command: a shell step needs a string"},
    {STEP1("'subsystem':'exec','command':'ls'"),
	"steps[1].command: an exec step needs an array of 1 to 256"},
    {STEP1("'subsystem':'exec','command':[]"),
	"steps[1].command: an exec step needs an array"},
    {STEP1("'subsystem':'exec','command':['/bin/echo',1]"),
	"steps[1].command[2]: must be a string"},
    {STEP1("'subsystem':'exec','command':['']"),
	"steps[1].command[1]: the program must not be empty"},
    {STEP1("'subsystem':'bash','command':'x'"),
	"steps[1].subsystem: 'bash' is not one of shell, exec"},
    {STEP1("'command':'x','name':'a b'"), "steps[1].name: byte 2"},
    {STEP1("'command':'x','cwd':'tmp'"),
	"steps[1].cwd: must be an absolute path"},
    {STEP1("'command':'x','cwd':'/a/../b'"),
	"steps[1].cwd: empty, '.' or '..' path component"},
    {STEP1("'command':'x','cwd':'/a/./b'"), "steps[1].cwd: empty, '.'"},
    {STEP1("'command':'x','env':[]"), "steps[1].env: must be an object"},
    {STEP1("'command':'x','env':{'1X':'v'}"),
	"steps[1].env: '1X' is not a variable name"},
    {STEP1("'command':'x','env':{'A-B':'v'}"),
	"steps[1].env: 'A-B' is not a variable name"},
    {STEP1("'command':'x','env':{'':'v'}"),
	"steps[1].env: '' is not a variable name"},
    {STEP1("'command':'x','env':{'A\\u0001':'v'}"),
	"steps[1].env: '(unprintable)' is not a variable name"},
    {STEP1("'command':'x','env':{'A':5}"),
	"steps[1].env.A: must be a string or"},
    {STEP1("'command':'x','env':{'A':{'secret':true}}"),
	"steps[1].env.A.value: required"},
    {STEP1("'command':'x','env':{'A':{'value':'hunter2','secrit':true}}"),
	"steps[1].env.A.secrit: unknown field"},
    {STEP1("'command':'x','env':{'A':{'value':'hunter2','secret':1}}"),
	"steps[1].env.A.secret: must be true or false"},
    {STEP1("'command':'x','proxy':'a b'"), "steps[1].proxy: byte 2"},
    {STEP1("'command':'x','proxy':7"), "steps[1].proxy: must be a string"},
    {STEP1("'command':'x','timeout_s':-1"),
	"steps[1].timeout_s: -1 is out of range 0..2592000"},
    {STEP1("'command':'x','timeout_s':2592001"),
	"steps[1].timeout_s: 2592001 is out of range"},
    {STEP1("'command':'x','timeout_s':'10'"),
	"steps[1].timeout_s: must be an integer"},
    {STEP1("'command':'x','timeout_s':1.5"),
	"steps[1].timeout_s: must be an integer"},
    {STEP1("'command':'x','retry_attempts':101"),
	"steps[1].retry_attempts: 101 is out of range 0..100"},
    {STEP1("'command':'x','retry_interval_s':86401"),
	"steps[1].retry_interval_s: 86401 is out of range 0..86400"},
    {"{'name':'j','steps':[{'command':'a','on_success':'step:3'},"
     "{'command':'b'}]}",
	"steps[1].on_success: step:3 names no step (the job has 2)"},
    {STEP1("'command':'x','on_failure':'step:0'"),
	"steps[1].on_failure: step:0 names no step"},
    {STEP1("'command':'x','on_failure':'goto'"),
	"steps[1].on_failure: 'goto' is not next, quit_success"},
    {STEP1("'command':'x','on_failure':'step:x'"),
	"steps[1].on_failure: 'step:x' is not"},
    {STEP1("'command':'x','on_failure':'step:1x'"),
	"steps[1].on_failure: 'step:1x' is not"},
    {STEP1("'command':'x','on_failure':'step:-1'"),
	"steps[1].on_failure: 'step:-1' is not"},
    {STEP1("'command':'x','max_output_bytes':67108865"),
	"steps[1].max_output_bytes: 67108865 is out of range -1..67108864"},
    {STEP1("'command':'x','max_output_bytes':-2"),
	"steps[1].max_output_bytes: -2 is out of range"},
    {STEP1("'command':'x','output_file':'out.log'"),
	"steps[1].output_file: must be an absolute path"},
    {STEP1("'command':'x','output_file':'/var/log/../../etc/passwd'"),
	"steps[1].output_file: empty, '.' or '..' path component"},
    {STEP1("'command':'x','output_file':'/var//log/x'"),
	"steps[1].output_file: empty"},
    {STEP1("'command':'x','output_file':'/var/log/'"),
	"steps[1].output_file: empty"},
    {STEP1("'command':'x','output_file':'/'"),
	"steps[1].output_file: must name a file"},
    {STEP1("'command':'x','output_file':'/var/log/x\\u0007'"),
	"steps[1].output_file: contains a control character"},
    {STEP1("'command':'x','output_file':'/var/log/..'"),
	"steps[1].output_file: empty, '.' or '..'"},
    {"{'name':'j','steps':[{'name':'a','command':'x'},"
     "{'name':'a','command':'y'}]}",
	"steps[2].name: 'a' is also the name of steps[1]"},
    {"{'name':'j','steps':[{'name':'step-2','command':'x'},"
     "{'command':'y'}]}",
	"steps[2].name: 'step-2' is also the name of steps[1]"},
    /* schedules (their own table lives in test_schedule.c) */
    {TOP("'schedules':{}"), "schedules: must be an array"},
    {TOP("'schedules':[5]"), "schedules[1]: must be an object"},
    {SCHED("'name':'s','kind':'daily','evry_days':2"),
	"schedules[1].evry_days: unknown field"},
    {SCHED("'kind':'daily'"), "schedules[1].name: required"},
    {TOP("'schedules':[{'name':'a','kind':'start'},"
	 "{'name':'a','kind':'start'}]"),
	"schedules[2].name: 'a' is also the name of schedules[1]"},
    {SCHED("'name':'s','kind':'hourly'"),
	"schedules[1].kind: 'hourly' is not one of once"},
    {SCHED("'name':'s','kind':'daily','time_zone':'Mars/Base'"),
	"schedules[1].time_zone: 'Mars/Base' is not a known time zone"},
    {SCHED("'name':'s','kind':'daily','time_zone':'../etc/passwd'"),
	"schedules[1].time_zone: not a zone name"},
    {SCHED("'name':'s','cron':'0 24 * * *'"),
	"schedules[1].cron: hour: 24 is out of range 0..23"},
    /* targets and groups */
    {TOP("'targets':'web'"), "targets: must be an array of names"},
    {TOP("'targets':['a',2]"), "targets[2]: must be a string"},
    {TOP("'targets':['a\\u0001']"), "targets[1]: byte 2"},
    {TOP("'groups':['-web']"), "groups[1]: must not start with"},
    {TOP("'groups':['']"), "groups[1]: must not be empty"},
    /* notify */
    {TOP("'notify':'ops'"), "notify: must be an object"},
    {TOP("'notify':{'when':'failure'}"), "notify.when: unknown field"},
    {TOP("'notify':{'on':'always'}"),
	"notify.on: 'always' is not one of never, failure, success, "
	"completion"},
    {TOP("'notify':{'operator':'o p'}"), "notify.operator: byte 2"},
};

/* NUL bytes: jansson refuses them in text, but a document built in
 * memory (jobdoc_from_json) can hold them. */
static const struct {
	const char *doc;
	const char *expect;
} nul_cases[] = {
    {STEP1("'subsystem':'exec','command':['/bin/echo','a\\u0000b']"),
	"steps[1].command[2]: contains a NUL byte"},
    {STEP1("'command':'a\\u0000b'"), "steps[1].command: contains a NUL"},
    {STEP1("'command':'x','env':{'A':{'value':'hunt\\u0000er2',"
	   "'secret':true}}"),
	"steps[1].env.A.value: contains a NUL byte"},
    {TOP("'targets':['a\\u0000b']"), "targets[1]: contains a NUL byte"},
    {STEP1("'command':'x','output_file':'/a\\u0000b'"),
	"steps[1].output_file: contains a NUL byte"},
    {TOP("'notify':{'operator':'o\\u0000'}"),
	"notify.operator: contains a NUL byte"},
    {TOP("'groups':['g\\u0000']"), "groups[1]: contains a NUL byte"},
};

static void
test_jobdoc_nul_cases(void **state)
{
	for (size_t i = 0; i < NCASES(nul_cases); i++) {
		char *doc = jq(nul_cases[i].doc);
		json_t *j = json_loads(doc, JSON_ALLOW_NUL, NULL);
		struct job *job = NULL;
		struct cerr err;

		assert_non_null(j);
		if (jobdoc_from_json(j, &job, &err) == 0)
			fail_msg("case %zu accepted", i);
		if (strstr(err.msg, nul_cases[i].expect) == NULL)
			fail_msg("case %zu: '%s' not in '%s'", i,
			    nul_cases[i].expect, err.msg);
		assert_null(strstr(err.msg, "hunt"));
		json_decref(j);
		free(doc);
	}
}

static void
test_jobdoc_bad_cases(void **state)
{
	for (size_t i = 0; i < NCASES(bad_cases); i++) {
		char *doc = jq(bad_cases[i].doc);
		struct job *job = NULL;
		struct cerr err;

		cerr_clear(&err);
		if (jobdoc_parse(doc, strlen(doc), &job, &err) == 0)
			fail_msg("case %zu accepted: %s", i, doc);
		assert_null(job);
		if (strstr(err.msg, bad_cases[i].expect) == NULL)
			fail_msg("case %zu: '%s' not in '%s'", i,
			    bad_cases[i].expect, err.msg);
		if (strstr(err.msg, "hunter2") != NULL ||
		    strstr(err.msg, "hunt") != NULL)
			fail_msg("case %zu: secret in '%s'", i, err.msg);
		if (err.code != CERR_INVALID)
			fail_msg("case %zu: code %d", i, err.code);
		free(doc);
	}
}

/* Documents over a limit, built here because they are long. */
enum gen_kind {
	GEN_NAME,
	GEN_DESCRIPTION,
	GEN_STEPS,
	GEN_ARGS,
	GEN_ARG_LEN,
	GEN_SHELL_LEN,
	GEN_ENV,
	GEN_ENV_NAME,
	GEN_SCHEDULES,
	GEN_AIMS,
	GEN_DOC_SIZE,
	GEN_DEPTH,
	GEN_STEP_NAME,
	GEN_OUTPUT_FILE
};

static const struct {
	enum gen_kind kind;
	enum cerr_code code;
	const char *expect;
} gen_cases[] = {
    {GEN_NAME, CERR_INVALID, "name: longer than 128 bytes"},
    {GEN_DESCRIPTION, CERR_INVALID, "description: longer than 4096 bytes"},
    {GEN_STEPS, CERR_INVALID, "steps: must be an array of 1 to 100 steps"},
    {GEN_ARGS, CERR_INVALID,
	"steps[1].command: an exec step needs an array of 1 to 256"},
    {GEN_ARG_LEN, CERR_INVALID, "steps[1].command[2]: longer than 65536 bytes"},
    {GEN_SHELL_LEN, CERR_INVALID, "steps[1].command: longer than 65536 bytes"},
    {GEN_ENV, CERR_INVALID, "steps[1].env: more than 128 entries"},
    {GEN_ENV_NAME, CERR_INVALID,
	"steps[1].env: '(too long)' is not a variable name"},
    {GEN_SCHEDULES, CERR_INVALID,
	"schedules: must be an array of at most 32 schedules"},
    {GEN_AIMS, CERR_INVALID,
	"groups: more than 10000 targets and groups in all"},
    {GEN_DOC_SIZE, CERR_TOO_LARGE, "over the limit"},
    {GEN_DEPTH, CERR_INVALID, "nesting deeper than"},
    {GEN_STEP_NAME, CERR_INVALID, "steps[1].name: longer than 128 bytes"},
    {GEN_OUTPUT_FILE, CERR_INVALID,
	"steps[1].output_file: longer than 4096 bytes"},
};

static void
put_repeat(struct buf *b, const char *s, size_t n)
{
	struct cerr err;

	for (size_t i = 0; i < n; i++)
		assert_int_equal(buf_puts(b, s, &err), 0);
}

static void
gen_doc(enum gen_kind kind, struct buf *b)
{
	struct cerr err;
	const char *head = "{\"name\":\"j\",\"steps\":[{\"command\":\"x\"}]";

#define P(s) assert_int_equal(buf_puts(b, s, &err), 0)
	switch (kind) {
	case GEN_NAME:
		P("{\"steps\":[{\"command\":\"x\"}],\"name\":\"");
		put_repeat(b, "n", 129);
		P("\"}");
		break;
	case GEN_DESCRIPTION:
		P(head);
		P(",\"description\":\"");
		put_repeat(b, "d", 4097);
		P("\"}");
		break;
	case GEN_STEPS:
		P("{\"name\":\"j\",\"steps\":[{\"command\":\"x\"}");
		put_repeat(b, ",{\"command\":\"x\"}", 100);
		P("]}");
		break;
	case GEN_ARGS:
		P("{\"name\":\"j\",\"steps\":[{\"subsystem\":\"exec\","
		  "\"command\":[\"/bin/true\"");
		put_repeat(b, ",\"a\"", 256);
		P("]}]}");
		break;
	case GEN_ARG_LEN:
		P("{\"name\":\"j\",\"steps\":[{\"subsystem\":\"exec\","
		  "\"command\":[\"/bin/echo\",\"");
		put_repeat(b, "a", 65537);
		P("\"]}]}");
		break;
	case GEN_SHELL_LEN:
		P("{\"name\":\"j\",\"steps\":[{\"command\":\"");
		put_repeat(b, "a", 65537);
		P("\"}]}");
		break;
	case GEN_ENV:
		P("{\"name\":\"j\",\"steps\":[{\"command\":\"x\",\"env\":{");
		for (int i = 0; i < 129; i++)
			assert_int_equal(buf_printf(b, &err, "%s\"V%d\":\"x\"",
					     i ? "," : "", i),
			    0);
		P("}}]}");
		break;
	case GEN_ENV_NAME:
		P("{\"name\":\"j\",\"steps\":[{\"command\":\"x\",\"env\":{\"");
		put_repeat(b, "V", 129);
		P("\":\"x\"}}]}");
		break;
	case GEN_SCHEDULES:
		P(head);
		P(",\"schedules\":[");
		for (int i = 0; i < 33; i++)
			assert_int_equal(buf_printf(b, &err,
					     "%s{\"name\":\"s%d\","
					     "\"kind\":\"start\"}",
					     i ? "," : "", i),
			    0);
		P("]}");
		break;
	case GEN_AIMS:
		P(head);
		P(",\"targets\":[\"t\"");
		put_repeat(b, ",\"t\"", 4999);
		P("],\"groups\":[\"g\"");
		put_repeat(b, ",\"g\"", 5000);
		P("]}");
		break;
	case GEN_DOC_SIZE:
		P(head);
		P(",\"description\":\"");
		put_repeat(b, "0123456789abcdef", 4 * 1024 * 1024 / 16);
		P("\"}");
		break;
	case GEN_DEPTH:
		P(head);
		P(",\"notify\":");
		put_repeat(b, "[", 40);
		put_repeat(b, "]", 40);
		P("}");
		break;
	case GEN_STEP_NAME:
		P("{\"name\":\"j\",\"steps\":[{\"command\":\"x\",\"name\":\"");
		put_repeat(b, "s", 129);
		P("\"}]}");
		break;
	case GEN_OUTPUT_FILE:
		P("{\"name\":\"j\",\"steps\":[{\"command\":\"x\","
		  "\"output_file\":\"");
		put_repeat(b, "/a", 2049);
		P("\"}]}");
		break;
	}
#undef P
}

static void
test_jobdoc_generated_cases(void **state)
{
	for (size_t i = 0; i < NCASES(gen_cases); i++) {
		struct job *job = NULL;
		struct cerr err;
		struct buf b;

		buf_init(&b, 8 * 1024 * 1024);
		gen_doc(gen_cases[i].kind, &b);
		cerr_clear(&err);
		if (jobdoc_parse(buf_str(&b), b.len, &job, &err) == 0)
			fail_msg("case %zu accepted", i);
		if (strstr(err.msg, gen_cases[i].expect) == NULL)
			fail_msg("case %zu: '%s' not in '%s'", i,
			    gen_cases[i].expect, err.msg);
		if (err.code != gen_cases[i].code)
			fail_msg("case %zu: code %d", i, err.code);
		buf_cleanup(&b);
	}
}

/* The limits themselves are allowed. */
static void
test_jobdoc_at_limits(void **state)
{
	struct job *job = NULL;
	struct cerr err;
	struct buf b;

	buf_init(&b, 1024 * 1024);
	assert_int_equal(buf_puts(&b, "{\"name\":\"", &err), 0);
	put_repeat(&b, "n", JOB_NAME_MAX);
	assert_int_equal(
	    buf_puts(&b, "\",\"steps\":[{\"command\":\"x\"}", &err), 0);
	put_repeat(&b, ",{\"command\":\"x\"}", JOB_MAX_STEPS - 1);
	assert_int_equal(buf_puts(&b, "],\"targets\":[\"t0\"", &err), 0);
	for (int i = 1; i < JOB_MAX_AIMS; i++)
		assert_int_equal(buf_printf(&b, &err, ",\"t%d\"", i), 0);
	assert_int_equal(buf_puts(&b, "]}", &err), 0);
	if (jobdoc_parse(buf_str(&b), b.len, &job, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(job->nsteps, JOB_MAX_STEPS);
	assert_int_equal(job->ntargets, JOB_MAX_AIMS);
	assert_string_equal(job->steps[99].name, "step-100");
	assert_string_equal(job->targets[9999], "t9999");
	job_free(job);
	buf_cleanup(&b);
}

static const char *const good_docs[] = {
    /* PRODUCT.md section 9 */
    "{'name':'rotate-logs','description':'compress yesterday logs',"
    "'enabled':true,'steps':["
    "{'name':'compress','subsystem':'shell',"
    "'command':'gzip -9 /var/log/app/*.1','on_success':'next',"
    "'on_failure':'quit_failure','retry_attempts':2,"
    "'retry_interval_s':30,'timeout_s':600,'proxy':null},"
    "{'name':'report','subsystem':'exec',"
    "'command':['/usr/bin/logger','rotated']}],"
    "'schedules':["
    "{'name':'nightly','kind':'daily','every_days':1,'at':'02:30',"
    "'time_zone':'Europe/Berlin'},"
    "{'name':'pulse','kind':'daily','every_days':1,'repeat_every_s':10},"
    "{'name':'cron','cron':'*/5 * * * *'}],"
    "'targets':['web-1'],'groups':['web'],"
    "'notify':{'operator':'ops','on':'failure'}}",
    "{'name':'j','steps':[{'command':'true'}]}",
    /* every member given */
    "{'name':'all.fields_1','description':'d','category':'c','owner':'o',"
    "'enabled':false,'start_step':2,'steps':["
    "{'name':'a','subsystem':'shell','command':'echo a\\necho b',"
    "'cwd':'/','env':{'A':'1','_b2':{'value':'s3cr3t','secret':true},"
    "'C':{'value':'','secret':false}},'proxy':'backup','timeout_s':2592000,"
    "'retry_attempts':100,'retry_interval_s':86400,"
    "'on_success':'step:2','on_failure':'step:1',"
    "'max_output_bytes':67108864,'output_file':'/var/log/a.log'},"
    "{'name':'b','subsystem':'exec','command':['/bin/echo','x y',''],"
    "'cwd':'/tmp','on_success':'quit_success','on_failure':'next',"
    "'max_output_bytes':0}],"
    "'schedules':[{'name':'s1','kind':'weekly','weekdays':['fri','mon'],"
    "'at':'06:00:30','start_date':'2026-01-01','end_date':'2026-12-31'},"
    "{'name':'s2','kind':'monthly_relative','which':'last','day':'weekday',"
    "'every_months':3,'repeat_every_s':900,'repeat_start':'08:00',"
    "'repeat_end':'18:00','enabled':false},"
    "{'name':'s3','kind':'once','at':'2027-03-28T02:30',"
    "'time_zone':'Australia/Lord_Howe'},"
    "{'name':'s4','kind':'idle','idle_load':0.5,'idle_for_s':600},"
    "{'name':'s5','kind':'start'},"
    "{'name':'s6','kind':'monthly','day':31,'every_months':1},"
    "{'name':'s7','kind':'cron','cron':'0 30 2 * * mon-fri',"
    "'time_zone':'America/New_York'}],"
    "'targets':['b','a','b','c','a'],'groups':['g1','g1'],"
    "'notify':{'operator':null,'on':'completion'},'overlap':'queue',"
    "'misfire':'skip','history_max_rows':500,"
    "'history_max_age_s':2592000}",
    /* nulls read as absent */
    "{'name':'n','description':null,'steps':[{'command':'x','cwd':null,"
    "'env':null,'output_file':null,'timeout_s':null}],'schedules':null,"
    "'targets':null,'notify':null}",
    /* unicode text is fine outside names */
    "{'name':'u','description':'caf\\u00e9 \\u2713','owner':'J\\u00fcrgen',"
    "'steps':[{'command':'echo \\u00e9'}]}",
};

static json_t *
canonical(const char *text, int redact)
{
	struct job *job = NULL;
	struct cerr err;
	json_t *j;

	if (jobdoc_parse(text, strlen(text), &job, &err) != 0)
		fail_msg("refused: %s: %s", err.msg, text);
	j = jobdoc_to_json(job, redact);
	assert_non_null(j);
	job_free(job);
	return j;
}

static void
test_jobdoc_round_trip(void **state)
{
	for (size_t i = 0; i < NCASES(good_docs); i++) {
		char *doc = jq(good_docs[i]);
		json_t *first = canonical(doc, 0), *second;
		char *text = json_dumps(first, JSON_COMPACT);

		second = canonical(text, 0);
		if (!json_equal(first, second))
			fail_msg("case %zu: round trip differs:\n%s", i, text);
		json_decref(first);
		json_decref(second);
		free(text);
		free(doc);
	}
}

static void
test_jobdoc_defaults(void **state)
{
	char *doc = jq("{'name':'j','steps':[{'command':'true'}]}");
	char *want = jq(
	    "{'name':'j','description':'','category':'',"
	    "'owner':'','enabled':true,'start_step':1,'steps':[{'name':'step-1',"
	    "'subsystem':'shell','command':'true','cwd':null,'env':{},"
	    "'proxy':null,'timeout_s':0,'retry_attempts':0,'retry_interval_s':0,"
	    "'on_success':'next','on_failure':'quit_failure',"
	    "'max_output_bytes':-1,'output_file':null}],'schedules':[],"
	    "'targets':[],'groups':[],'notify':{'operator':null,"
	    "'on':'failure'},'overlap':'refuse','misfire':'run_once',"
	    "'history_max_rows':0,'history_max_age_s':0}");
	json_t *got = canonical(doc, 0);
	json_t *expected = json_loads(want, 0, NULL);

	assert_non_null(expected);
	if (!json_equal(got, expected)) {
		char *text = json_dumps(got, JSON_COMPACT);

		fail_msg("canonical form: %s", text);
	}
	json_decref(got);
	json_decref(expected);
	free(doc);
	free(want);
}

static void
test_jobdoc_fields(void **state)
{
	char *doc = jq(good_docs[2]);
	struct job *job = NULL;
	struct cerr err;
	char buf[32];

	assert_int_equal(jobdoc_parse(doc, strlen(doc), &job, &err), 0);
	assert_false(job->enabled);
	assert_int_equal(job->start_step, 2);
	assert_int_equal(job->nsteps, 2);
	assert_int_equal(job->steps[0].on_success.kind, ACTION_GOTO);
	assert_int_equal(job->steps[0].on_success.step, 2);
	assert_string_equal(
	    step_action_name(&job->steps[0].on_failure, buf, sizeof(buf)),
	    "step:1");
	assert_int_equal(job->steps[0].nenv, 3);
	assert_string_equal(job->steps[0].env[1].name, "_b2");
	assert_true(job->steps[0].env[1].secret);
	assert_string_equal(job->steps[0].env[1].value, "s3cr3t");
	assert_string_equal(job->steps[0].proxy, "backup");
	assert_int_equal(job->steps[1].subsystem, STEP_EXEC);
	assert_int_equal(job->steps[1].argc, 3);
	assert_string_equal(job->steps[1].argv[1], "x y");
	assert_null(job->steps[1].argv[3]);
	assert_int_equal(job->steps[1].max_output_bytes, 0);
	assert_int_equal(job->nschedules, 7);
	assert_int_equal(schedule_kind(job->schedules[4]), SCHED_START);
	/* repeats dropped, first-seen order kept */
	assert_int_equal(job->ntargets, 3);
	assert_string_equal(job->targets[0], "b");
	assert_string_equal(job->targets[1], "a");
	assert_string_equal(job->targets[2], "c");
	assert_int_equal(job->ngroups, 1);
	assert_null(job->notify_operator);
	assert_int_equal(job->notify_on, NOTIFY_COMPLETION);
	assert_int_equal(job->overlap, OVERLAP_QUEUE);
	assert_int_equal(job->misfire, MISFIRE_SKIP);
	assert_int_equal(job->history_max_rows, 500);
	job_free(job);
	free(doc);
}

static void
test_jobdoc_secrets(void **state)
{
	char *doc = jq(good_docs[2]);
	json_t *open = canonical(doc, 0), *redacted = canonical(doc, 1);
	char *open_text = json_dumps(open, JSON_COMPACT);
	char *red_text = json_dumps(redacted, JSON_COMPACT);
	json_t *env = json_object_get(
	    json_array_get(json_object_get(redacted, "steps"), 0), "env");

	assert_non_null(strstr(open_text, "s3cr3t"));
	assert_null(strstr(red_text, "s3cr3t"));
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(env, "_b2"), "value")),
	    "********");
	/* plain values stay */
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(env, "A"), "value")),
	    "1");
	json_decref(open);
	json_decref(redacted);
	free(open_text);
	free(red_text);
	free(doc);
}

static struct job *
job_of(const char *text)
{
	struct job *job = NULL;
	struct cerr err;

	if (jobdoc_parse(text, strlen(text), &job, &err) < 0)
		fail_msg("%s", err.msg);
	return job;
}

/* A document applied as it was listed keeps its stored secrets. */
static void
test_jobdoc_keep_secrets(void **state)
{
	struct job *old = job_of(
	    "{\"name\":\"j\",\"steps\":[{\"name\":\"a\",\"command\":\"true\","
	    "\"env\":{\"PW\":{\"value\":\"s3cr3t\",\"secret\":true},"
	    "\"PLAIN\":{\"value\":\"p\"}}}]}");
	struct job *job = job_of(
	    "{\"name\":\"j\",\"steps\":[{\"name\":\"a\",\"command\":\"true\","
	    "\"env\":{\"PW\":{\"value\":\"********\",\"secret\":true},"
	    "\"STARS\":{\"value\":\"********\"}}}]}");
	struct cerr err;

	(void)state;
	assert_int_equal(job_keep_secrets(job, old, &err), 0);
	assert_string_equal(job->steps[0].env[0].value, "s3cr3t");
	/* not secret: eight stars are a value like any other */
	assert_string_equal(job->steps[0].env[1].value, "********");
	job_free(job);
	/* the mask for a name that was plain, in another step, or with no
	 * stored job: refused, naming the entry */
	for (const char *bad[] =
		 {"{\"name\":\"j\",\"steps\":[{\"name\":\"a\",\"command\":"
		  "\"true\",\"env\":{\"PLAIN\":{\"value\":\"********\","
		  "\"secret\":true}}}]}",
		     "{\"name\":\"j\",\"steps\":[{\"name\":\"b\",\"command\":"
		     "\"true\",\"env\":{\"PW\":{\"value\":\"********\","
		     "\"secret\":true}}}]}",
		     NULL},
			**b = bad;
	     *b != NULL; b++) {
		job = job_of(*b);
		assert_int_equal(job_keep_secrets(job, old, &err), -1);
		assert_non_null(strstr(err.msg, "steps[1].env."));
		assert_string_equal(job->steps[0].env[0].value, "********");
		job_free(job);
	}
	job = job_of("{\"name\":\"j\",\"steps\":[{\"name\":\"a\","
		     "\"command\":\"true\",\"env\":{\"PW\":{\"value\":"
		     "\"********\",\"secret\":true}}}]}");
	assert_int_equal(job_keep_secrets(job, NULL, &err), -1);
	job_free(job);
	job_free(old);
}

static void
test_jobdoc_check_name(void **state)
{
	static const struct {
		const char *name;
		int ok;
	} cases[] = {
	    {"web-1", 1},
	    {"a", 1},
	    {"A.b_c-9", 1},
	    {"9lives", 1},
	    {"_x", 1},
	    {"", 0},
	    {"-x", 0},
	    {".x", 0},
	    {"a b", 0},
	    {"a\tb", 0},
	    {"a/b", 0},
	    {"caf\xc3\xa9", 0},
	    {"a:b", 0},
	    {"x\x7f", 0},
	};
	struct cerr err;

	for (size_t i = 0; i < NCASES(cases); i++)
		if ((jobdoc_check_name(cases[i].name, 16, "what", &err) == 0) !=
		    cases[i].ok)
			fail_msg("case %zu: %s", i, cases[i].name);
	assert_int_equal(
	    jobdoc_check_name("abcdefghijklmnopq", 16, "what", &err), -1);
	assert_non_null(strstr(err.msg, "what: longer than 16 bytes"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_jobdoc_bad_cases),
	    cmocka_unit_test(test_jobdoc_nul_cases),
	    cmocka_unit_test(test_jobdoc_generated_cases),
	    cmocka_unit_test(test_jobdoc_at_limits),
	    cmocka_unit_test(test_jobdoc_round_trip),
	    cmocka_unit_test(test_jobdoc_defaults),
	    cmocka_unit_test(test_jobdoc_fields),
	    cmocka_unit_test(test_jobdoc_secrets),
	    cmocka_unit_test(test_jobdoc_keep_secrets),
	    cmocka_unit_test(test_jobdoc_check_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
