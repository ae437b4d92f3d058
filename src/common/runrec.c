/*
 * runrec: the record of one job run, its JSON form and the strict reader
 * the master applies to uploads (see runrec.h). Text that came from a
 * process (output, messages quoting paths) is made valid UTF-8 when it
 * enters a report, because JSON cannot carry arbitrary bytes and a report
 * that cannot be written would never leave the target's outbox.
 */
#include "common/runrec.h"
#include "common/jobdoc.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "common/timefmt.h"
#include "common/utf8.h"

#define RUNREC_NAME_MAX 128 /* JOB_NAME_MAX */
#define RUNREC_STEP_MAX 100 /* JOB_MAX_STEPS */
/* A step row's JSON besides its output: message and name, each byte
 * escaped at worst as "\u00XX", and the keys, numbers and outcome. */
#define RUNREC_ROW_JSON_MAX (6 * (RUNREC_MESSAGE_MAX + RUNREC_NAME_MAX) + 512)

/* A report at its limits is a value SQLite takes (runrec.h): outputs at
 * worst 6 times as long in JSON, and every row with its message, name
 * and the marker of a dropped output, plus the job row. */
_Static_assert(6 * (long long)RUNREC_REPORT_OUTPUT_MAX +
	    (long long)RUNREC_MAX_STEP_ROWS *
		(RUNREC_ROW_JSON_MAX + sizeof(RUNREC_OVER_BUDGET)) +
	    RUNREC_ROW_JSON_MAX <
	1000000000LL,
    "a report at its limits would be over SQLite's limit");
_Static_assert(RUNREC_OUTPUT_MAX <= RUNREC_REPORT_OUTPUT_MAX,
    "one step's output must fit the report's budget");
_Static_assert(RUNREC_REPORT_OUTPUT_MAX == 64 * 1024 * 1024,
    "RUNREC_OVER_BUDGET names the budget");

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

/* Walks data once; with out == NULL only measures. */
static size_t
clean_copy(const char *data, size_t len, size_t max, char *out)
{
	const unsigned char *p = (const unsigned char *)data;
	size_t i = 0, o = 0;

	while (i < len) {
		size_t n = utf8_seq(p + i, len - i);
		const char *src = n ? data + i : replacement;
		size_t w = n ? n : sizeof(replacement) - 1;

		if (o + w > max)
			break;
		if (out != NULL)
			memcpy(out + o, src, w);
		o += w;
		i += n ? n : 1;
	}
	return o;
}

char *
runrec_clean_text(const char *data, size_t len, size_t max)
{
	size_t n = clean_copy(data, len, max, NULL);
	char *out = malloc(n + 1);

	if (out == NULL)
		return NULL;
	clean_copy(data, len, max, out);
	out[n] = '\0';
	return out;
}

static char *
clean_str(const char *s, size_t max)
{
	return runrec_clean_text(s ? s : "", s ? strlen(s) : 0, max);
}

struct run_report *
run_report_new(int64_t target_run_id, const char *job, int64_t instr_id,
    int64_t started_ms, int32_t tz_offset_s)
{
	struct run_report *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->target_run_id = target_run_id;
	r->instr_id = instr_id;
	r->outcome = OUTCOME_RUNNING;
	r->exit_code = -1;
	r->started_ms = started_ms;
	r->tz_offset_s = tz_offset_s;
	r->job = clean_str(job, RUNREC_NAME_MAX);
	r->message = strdup("");
	if (r->job == NULL || r->message == NULL) {
		run_report_free(r);
		return NULL;
	}
	return r;
}

static void
step_rec_cleanup(struct run_step_rec *s)
{
	free(s->step_name);
	free(s->message);
	free(s->output);
}

void
run_report_free(struct run_report *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nsteps; i++)
		step_rec_cleanup(&r->steps[i]);
	free(r->steps);
	free(r->job);
	free(r->message);
	free(r);
}

/* Replaces s's output with why; short of memory for the copy, with ""
 * (the output goes either way: the bound on what a report holds stands). */
static void
replace_output(struct run_step_rec *s, const char *why)
{
	char *note = strdup(why), *shrunk;

	if (note != NULL) {
		free(s->output);
		s->output = note;
		return;
	}
	shrunk = realloc(s->output, 1);
	if (shrunk != NULL)
		s->output = shrunk;
	s->output[0] = '\0';
}

void
run_report_drop_outputs(struct run_report *r, const char *why)
{
	for (size_t i = 0; i < r->nsteps; i++) {
		replace_output(&r->steps[i], why);
		r->steps[i].over_budget = 0;
	}
	r->over_budget = r->output_bytes = 0;
	r->kept_from = r->nsteps;
}

void
run_report_drop_steps(struct run_report *r)
{
	for (size_t i = 0; i < r->nsteps; i++)
		step_rec_cleanup(&r->steps[i]);
	free(r->steps);
	r->steps = NULL;
	r->nsteps = r->output_bytes = r->kept_from = r->over_budget = 0;
}

/* Drops the oldest kept outputs until len more bytes fit the budget.
 * len is at most RUNREC_OUTPUT_MAX, so dropping them all makes room. */
static void
make_room(struct run_report *r, size_t len)
{
	while (r->output_bytes + len > RUNREC_REPORT_OUTPUT_MAX &&
	    r->kept_from < r->nsteps) {
		struct run_step_rec *s = &r->steps[r->kept_from++];
		size_t had = strlen(s->output);

		if (had == 0 || s->over_budget)
			continue;
		replace_output(s, RUNREC_OVER_BUDGET);
		s->over_budget = 1;
		r->output_bytes -= had;
		r->over_budget++;
	}
}

int
run_report_add_step(
    struct run_report *r, const struct run_step_rec *s, struct cerr *err)
{
	struct run_step_rec *row, *grown;
	size_t len;

	if (r->nsteps >= RUNREC_MAX_STEP_ROWS)
		return cerr_set(err, CERR_TOO_LARGE,
		    "run report: more than %d step rows", RUNREC_MAX_STEP_ROWS);
	/* The capacity is implicit: 8, then doubling, so the array is full
	 * exactly when nsteps is 0 or a power of two from 8 on. */
	if (r->nsteps == 0 ||
	    (r->nsteps >= 8 && (r->nsteps & (r->nsteps - 1)) == 0)) {
		grown = realloc(
		    r->steps, (r->nsteps ? r->nsteps * 2 : 8) * sizeof(*grown));
		if (grown == NULL)
			return cerr_set(err, CERR_INTERNAL, "out of memory");
		r->steps = grown;
	}
	row = &r->steps[r->nsteps];
	*row = *s;
	row->step_name = clean_str(s->step_name, RUNREC_NAME_MAX);
	row->message = clean_str(s->message, RUNREC_MESSAGE_MAX);
	row->output = clean_str(s->output, RUNREC_OUTPUT_MAX);
	if (row->step_name == NULL || row->message == NULL ||
	    row->output == NULL) {
		step_rec_cleanup(row);
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	}
	row->over_budget = strcmp(row->output, RUNREC_OVER_BUDGET) == 0;
	len = row->over_budget ? 0 : strlen(row->output);
	make_room(r, len);
	r->output_bytes += len;
	r->over_budget += row->over_budget != 0;
	r->nsteps++;
	return 0;
}

int
run_report_set_message(struct run_report *r, const char *msg, struct cerr *err)
{
	char *copy = clean_str(msg, RUNREC_MESSAGE_MAX);

	if (copy == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	free(r->message);
	r->message = copy;
	return 0;
}

int
run_report_add_note(struct run_report *r, const char *note, struct cerr *err)
{
	size_t nlen = strnlen(note, RUNREC_MESSAGE_MAX / 2);
	size_t mlen = strlen(r->message);
	char *text;
	int rc;

	/* The message is cut on a character boundary to leave room. */
	if (mlen > RUNREC_MESSAGE_MAX - nlen - 2)
		mlen = clean_copy(
		    r->message, mlen, RUNREC_MESSAGE_MAX - nlen - 2, NULL);
	text = malloc(mlen + nlen + 3);
	if (text == NULL)
		return cerr_set(err, CERR_INTERNAL, "out of memory");
	snprintf(text, mlen + nlen + 3, "%.*s%s%.*s", (int)mlen, r->message,
	    mlen > 0 ? "; " : "", (int)nlen, note);
	rc = run_report_set_message(r, text, err);
	free(text);
	return rc;
}

/* Sets key to a string, or fails on out-of-memory (the text is valid
 * UTF-8 when it came through this file; if not, it is cleaned here). */
static int
set_str(json_t *obj, const char *key, const char *s)
{
	json_t *v = json_string(s ? s : "");
	char *clean = NULL;

	if (v == NULL && s != NULL) {
		clean = runrec_clean_text(s, strlen(s), SIZE_MAX);
		v = clean ? json_string(clean) : NULL;
		free(clean);
	}
	return json_object_set_new(obj, key, v);
}

static int
set_int(json_t *obj, const char *key, int64_t n)
{
	return json_object_set_new(obj, key, json_integer(n));
}

static json_t *
step_to_json(const struct run_step_rec *s)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	if (set_int(o, "step", s->step) < 0 ||
	    set_int(o, "attempt", s->attempt) < 0 ||
	    set_str(o, "step_name", s->step_name) < 0 ||
	    set_str(o, "outcome", run_outcome_name(s->outcome)) < 0 ||
	    set_int(o, "exit_code", s->exit_code) < 0 ||
	    set_int(o, "started_ms", s->started_ms) < 0 ||
	    set_int(o, "duration_ms", s->duration_ms) < 0 ||
	    set_str(o, "message", s->message) < 0 ||
	    set_str(o, "output", s->output) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
run_report_to_json(const struct run_report *r)
{
	json_t *o = json_object(), *steps = json_array();

	if (o == NULL || steps == NULL)
		goto fail;
	for (size_t i = 0; i < r->nsteps; i++)
		if (json_array_append_new(steps, step_to_json(&r->steps[i])) <
		    0)
			goto fail;
	if (set_int(o, "target_run_id", r->target_run_id) < 0 ||
	    set_str(o, "job", r->job) < 0 ||
	    set_int(o, "instr_id", r->instr_id) < 0 ||
	    set_str(o, "outcome", run_outcome_name(r->outcome)) < 0 ||
	    set_int(o, "exit_code", r->exit_code) < 0 ||
	    set_int(o, "started_ms", r->started_ms) < 0 ||
	    set_int(o, "duration_ms", r->duration_ms) < 0 ||
	    set_int(o, "tz_offset_s", r->tz_offset_s) < 0 ||
	    set_str(o, "message", r->message) < 0)
		goto fail;
	if (json_object_set_new(o, "steps", steps) < 0) {
		steps = NULL; /* the failed set released it */
		goto fail;
	}
	return o;
fail:
	json_decref(steps);
	json_decref(o);
	return NULL;
}

/* Job and step names follow the job document's rule. */
static int
check_name(const char *s, const char *path, const char *key, struct cerr *err)
{
	char what[96];

	snprintf(what, sizeof(what), "%s%s%s", path, *path ? "." : "", key);
	return jobdoc_check_name(s, JOB_NAME_MAX, what, err);
}

/* Reads a required member; absent or null is an error. */
static int
need_int(const json_t *o, const char *key, const char *path, int64_t min,
    int64_t max, int64_t *out, struct cerr *err)
{
	int rc = json_get_int(o, key, path, min, max, out, err);

	if (rc == 1)
		return cerr_set(err, CERR_INVALID, "%s%s%s: missing", path,
		    *path ? "." : "", key);
	return rc;
}

static int
need_str(const json_t *o, const char *key, const char *path, size_t max_len,
    int allow_ctl, const char **out, struct cerr *err)
{
	int rc = json_get_string(o, key, path, max_len, allow_ctl, out, err);

	if (rc == 1)
		return cerr_set(err, CERR_INVALID, "%s%s%s: missing", path,
		    *path ? "." : "", key);
	return rc;
}

static int
need_outcome(const json_t *o, const char *path, int step_row,
    enum run_outcome *out, struct cerr *err)
{
	const char *name;

	if (need_str(o, "outcome", path, 32, 0, &name, err) < 0)
		return -1;
	if (run_outcome_parse(name, out) < 0 ||
	    (step_row && (*out == OUTCOME_RUNNING || *out == OUTCOME_MISSED)))
		return cerr_set(err, CERR_INVALID,
		    "%s%soutcome: '%s' is not a %s outcome", path,
		    *path ? "." : "", name, step_row ? "step" : "run");
	return 0;
}

static int
step_from_json(
    const json_t *o, const char *path, struct run_step_rec *s, struct cerr *err)
{
	static const char *const keys[] = {"step", "attempt", "step_name",
	    "outcome", "exit_code", "started_ms", "duration_ms", "message",
	    "output", NULL};
	const char *name, *message, *output;
	int64_t step, attempt, code;

	if (json_check_keys(o, keys, path, err) < 0 ||
	    need_int(o, "step", path, 1, RUNREC_STEP_MAX, &step, err) < 0 ||
	    need_int(o, "attempt", path, 1, INT_MAX, &attempt, err) < 0 ||
	    need_str(o, "step_name", path, RUNREC_NAME_MAX, 0, &name, err) <
		0 ||
	    check_name(name, path, "step_name", err) < 0 ||
	    need_outcome(o, path, 1, &s->outcome, err) < 0 ||
	    need_int(o, "exit_code", path, -1, 255, &code, err) < 0 ||
	    need_int(o, "started_ms", path, 0, TIMEFMT_MS_MAX, &s->started_ms,
		err) < 0 ||
	    need_int(o, "duration_ms", path, 0, TIMEFMT_MS_MAX, &s->duration_ms,
		err) < 0 ||
	    need_str(o, "message", path, RUNREC_MESSAGE_MAX, 1, &message, err) <
		0 ||
	    need_str(o, "output", path, RUNREC_OUTPUT_MAX, 1, &output, err) < 0)
		return -1;
	/* borrowed from o until run_report_add_step() copies them */
	s->step_name = (char *)name;
	s->message = (char *)message;
	s->output = (char *)output;
	s->step = (int)step;
	s->attempt = (int)attempt;
	s->exit_code = (int)code;
	return 0;
}

/* The job's own row; the strings are borrowed from v. */
static int
row_from_json(const json_t *v, struct run_report *r, const char **job,
    const char **message, struct cerr *err)
{
	static const char *const keys[] = {"target_run_id", "job", "instr_id",
	    "outcome", "exit_code", "started_ms", "duration_ms", "tz_offset_s",
	    "message", "steps", NULL};
	int64_t code, tz;

	if (json_check_keys(v, keys, "", err) < 0 ||
	    need_int(v, "target_run_id", "", 1, INT64_MAX, &r->target_run_id,
		err) < 0 ||
	    need_str(v, "job", "", RUNREC_NAME_MAX, 0, job, err) < 0 ||
	    check_name(*job, "", "job", err) < 0 ||
	    need_int(v, "instr_id", "", 0, INT64_MAX, &r->instr_id, err) < 0 ||
	    need_outcome(v, "", 0, &r->outcome, err) < 0 ||
	    need_int(v, "exit_code", "", -1, 255, &code, err) < 0 ||
	    need_int(v, "started_ms", "", 0, TIMEFMT_MS_MAX, &r->started_ms,
		err) < 0 ||
	    need_int(v, "duration_ms", "", 0, TIMEFMT_MS_MAX, &r->duration_ms,
		err) < 0 ||
	    need_int(v, "tz_offset_s", "", -RUNREC_TZ_MAX_S, RUNREC_TZ_MAX_S,
		&tz, err) < 0 ||
	    need_str(v, "message", "", RUNREC_MESSAGE_MAX, 1, message, err) < 0)
		return -1;
	r->exit_code = (int)code;
	r->tz_offset_s = (int32_t)tz;
	return 0;
}

int
run_report_from_json(const json_t *v, struct run_report **out, struct cerr *err)
{
	struct run_report row, *r = NULL;
	const char *job, *message;
	const json_t *steps, *item;
	struct run_step_rec s;
	char path[32];
	size_t i;

	memset(&row, 0, sizeof(row));
	if (row_from_json(v, &row, &job, &message, err) < 0)
		return -1;
	steps = json_object_get(v, "steps");
	if (!json_is_array(steps))
		return cerr_set(err, CERR_INVALID, "steps: must be an array");
	if (json_array_size(steps) > RUNREC_MAX_STEP_ROWS)
		return cerr_set(err, CERR_TOO_LARGE, "steps: more than %d rows",
		    RUNREC_MAX_STEP_ROWS);
	r = run_report_new(row.target_run_id, job, row.instr_id, row.started_ms,
	    row.tz_offset_s);
	if (r == NULL) {
		cerr_set(err, CERR_INTERNAL, "out of memory");
		goto fail;
	}
	if (run_report_set_message(r, message, err) < 0)
		goto fail;
	r->outcome = row.outcome;
	r->exit_code = row.exit_code;
	r->duration_ms = row.duration_ms;
	json_array_foreach(steps, i, item)
	{
		memset(&s, 0, sizeof(s));
		snprintf(path, sizeof(path), "steps[%zu]", i);
		if (step_from_json(item, path, &s, err) < 0)
			goto fail;
		if (run_report_add_step(r, &s, err) < 0)
			goto fail;
	}
	*out = r;
	return 0;
fail:
	run_report_free(r);
	return -1;
}

int
run_id_parse(const char *text, char *target, size_t target_size, int64_t *n)
{
	const char *colon = text ? strrchr(text, ':') : NULL;
	char *end = NULL;
	long long id;

	if (colon == NULL || colon == text ||
	    (size_t)(colon - text) >= target_size || colon[1] < '0' ||
	    colon[1] > '9')
		return -1;
	errno = 0;
	id = strtoll(colon + 1, &end, 10);
	if (*end != '\0' || id <= 0 || errno == ERANGE)
		return -1;
	snprintf(target, target_size, "%.*s", (int)(colon - text), text);
	*n = id;
	return 0;
}
