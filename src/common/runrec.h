/*
 * runrec: the record of one job run on a target: the job's own row and one
 * row per step attempt. The target builds it while the run goes, stores it
 * in its outbox as JSON, and uploads it; the master validates the JSON it
 * receives with run_report_from_json() before storing a single row.
 *
 * Ownership: struct run_report owns all its strings and its step array;
 * run_report_free() releases them.
 */
#ifndef COHORT_RUNREC_H
#define COHORT_RUNREC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/cerr.h"
#include "common/wire.h"

#define RUNREC_MESSAGE_MAX 1024
/* The widest UTC offset a peer may report (ISO 8601's +-18:00). */
#define RUNREC_TZ_MAX_S (18 * 3600)
#define RUNREC_MAX_STEP_ROWS 10000 /* steps x attempts in one report */
#define RUNREC_OUTPUT_MAX (64 * 1024 * 1024) /* one step row's output */
/*
 * The outputs of all a report's step rows together. A report is stored
 * whole, as one JSON text, in the target's outbox and again in its
 * history, and SQLite refuses a value over 1,000,000,000 bytes
 * (SQLITE_TOOBIG): without a bound, 10,000 rows of up to 64 MiB each
 * could never be stored. The master never receives more than an upload
 * batch of it (768 KiB, under its max_body_bytes of 1 MiB: upload_fit.h
 * cuts the upload copy), so the budget serves the target's own history
 * and is set to what one step may keep: a single step's output is never
 * cut by it. Its JSON is at most 6 times as long (a control byte becomes
 * "\u0001"), and with every row's message and name at their limits, also
 * escaped, a report stays under 480 MB, below SQLite's limit (checked in
 * runrec.c). Over the budget, the oldest rows lose their outputs first
 * (run_report_add_step): a run's last outputs say most about how it
 * ended.
 */
#define RUNREC_REPORT_OUTPUT_MAX RUNREC_OUTPUT_MAX
/* What stands in a row's output dropped for the budget. */
#define RUNREC_OVER_BUDGET                                                     \
	"(output not kept: the run's step outputs went over 64 MiB in all, "   \
	"and the newest were kept)"

struct run_step_rec {
	int step; /* 1-based */
	int attempt; /* 1-based: the step's executions in the run so far,
			revisits included (target/jobflow.h) */
	char *step_name;
	enum run_outcome outcome; /* succeeded, failed, retrying, canceled,
					   interrupted */
	int exit_code; /* -1: none (signal, spawn failure) */
	int64_t started_ms;
	int64_t duration_ms;
	char *message; /* why, for people ("" when none) */
	char *output; /* captured output ("" when none) */
	/* The attempt ran into its step's timeout: for the target's own
	 * events only, not part of the JSON form. */
	int timed_out;
	/* The output is RUNREC_OVER_BUDGET (set by run_report_add_step). */
	int over_budget;
};

struct run_report {
	int64_t target_run_id; /* the target's id of this run */
	char *job;
	int64_t instr_id; /* START instruction, 0 for scheduled */
	enum run_outcome outcome; /* running while in progress */
	int exit_code; /* of the last step run, -1 if none */
	int64_t started_ms;
	int64_t duration_ms;
	int32_t tz_offset_s;
	char *message;
	struct run_step_rec *steps;
	size_t nsteps;
	size_t output_bytes; /* the steps' outputs kept, in all */
	size_t over_budget; /* rows whose output is RUNREC_OVER_BUDGET */
	size_t kept_from; /* rows before it keep no output */
};

/* A new empty report for a run; NULL on out-of-memory. */
struct run_report *run_report_new(int64_t target_run_id, const char *job,
    int64_t instr_id, int64_t started_ms, int32_t tz_offset_s);
/* Appends a step row (copies the strings); -1 on out-of-memory or when
 * RUNREC_MAX_STEP_ROWS is reached. The copies are made valid UTF-8 (see
 * runrec_clean_text) and cut to RUNREC_MESSAGE_MAX / RUNREC_OUTPUT_MAX.
 * When the outputs would go over RUNREC_REPORT_OUTPUT_MAX in all, the
 * oldest rows' outputs become RUNREC_OVER_BUDGET until the new one fits
 * (counted in r->over_budget, for the job row's message). A row read
 * back with that marker counts as dropped, not as output, so a report
 * read back from its JSON is the report that was written. */
int run_report_add_step(
    struct run_report *r, const struct run_step_rec *s, struct cerr *err);
/* Replaces r->message with a copy of msg (made valid UTF-8, cut to
 * RUNREC_MESSAGE_MAX). */
int run_report_set_message(
    struct run_report *r, const char *msg, struct cerr *err);
/* Appends "; note" to r->message, cutting the message (not the note) to
 * stay within RUNREC_MESSAGE_MAX. */
int run_report_add_note(
    struct run_report *r, const char *note, struct cerr *err);
void run_report_free(struct run_report *r);
/* Replaces each step row's output with why (memory is short, or the
 * report is too big to store: the rest of the report is kept). */
void run_report_drop_outputs(struct run_report *r, const char *why);
/* Removes every step row (the report is too big to store even without
 * its outputs: the job row is kept). */
void run_report_drop_steps(struct run_report *r);

/* A copy of len bytes of data as text JSON can carry: NUL bytes and
 * invalid UTF-8 become U+FFFD, and the text is cut to at most max bytes on
 * a character boundary. Caller frees; NULL on out-of-memory. */
char *runrec_clean_text(const char *data, size_t len, size_t max);

/* JSON form: {"target_run_id", "job", "instr_id", "outcome", "exit_code",
 * "started_ms", "duration_ms", "tz_offset_s", "message", "steps": [{"step",
 * "attempt", "step_name", "outcome", "exit_code", "started_ms",
 * "duration_ms", "message", "output"}]}. New reference. */
json_t *run_report_to_json(const struct run_report *r);
/* Validates every field (types, ranges, names, lengths); unknown fields
 * are refused. *out is new on success. */
int run_report_from_json(
    const json_t *v, struct run_report **out, struct cerr *err);

/* A job run's name as listings give it, "TARGET:N" (the target's run id,
 * N > 0; the last colon splits, and the target is at most
 * target_size - 1 bytes): 0 with target and *n filled, -1 when text is
 * not one. It sets no error: the master names its query parameter, and
 * cohortctl its option. */
int run_id_parse(
    const char *text, char *target, size_t target_size, int64_t *n);

#endif
