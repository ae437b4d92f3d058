/*
 * jobdoc: the job document (PRODUCT.md section 9) as C structures.
 * jobdoc_parse() validates a document completely and refuses it with a
 * message naming the field ("steps[2].on_failure: step:7 names no step")
 * before anything is stored; jobdoc_to_json() writes the canonical form
 * that the master stores and sends to targets (every field explicit, so a
 * target needs no knowledge of defaults that may change between versions).
 *
 * Ownership: struct job owns every string and array below it; job_free()
 * releases all of it.
 */
#ifndef COHORT_JOBDOC_H
#define COHORT_JOBDOC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/cerr.h"

#define JOB_NAME_MAX 128 /* job, step, schedule names */
#define JOB_TEXT_MAX 4096 /* description */
#define JOB_COMMAND_MAX 65536 /* shell command, each exec argument */
#define JOB_MAX_STEPS 100
#define JOB_MAX_SCHEDULES 32
#define JOB_MAX_AIMS 10000 /* targets + groups */
#define JOB_MAX_ARGS 256
#define JOB_MAX_ENV 128
#define JOB_DOC_MAX_BYTES (4 * 1024 * 1024)

enum step_subsystem { STEP_SHELL, STEP_EXEC };

enum step_action_kind {
	ACTION_NEXT, /* go to the next step; after the last step the job
				   ends with that step's own result */
	ACTION_QUIT_SUCCESS,
	ACTION_QUIT_FAILURE,
	ACTION_GOTO /* go to step .step (1-based) */
};

struct step_action {
	enum step_action_kind kind;
	int step; /* ACTION_GOTO only, 1-based */
};

struct job_env {
	char *name;
	char *value;
	int secret; /* never logged, listed or kept in history */
};

struct job_step {
	char *name;
	enum step_subsystem subsystem;
	char *command; /* STEP_SHELL: the /bin/sh -c text */
	char **argv; /* STEP_EXEC: NULL-terminated, argv[0] absolute
				   or found in PATH */
	size_t argc;
	char *cwd; /* NULL: the daemon's default */
	struct job_env *env;
	size_t nenv;
	char *proxy; /* NULL: run as the daemon's user */
	int64_t timeout_s; /* 0: none */
	int64_t retry_attempts; /* extra attempts after a failure */
	int64_t retry_interval_s;
	struct step_action on_success; /* default ACTION_NEXT */
	struct step_action on_failure; /* default ACTION_QUIT_FAILURE */
	int64_t max_output_bytes; /* -1: the target's max_output_bytes */
	char *output_file; /* NULL, or absolute path without ".." */
};

enum notify_on {
	NOTIFY_NEVER,
	NOTIFY_FAILURE,
	NOTIFY_SUCCESS,
	NOTIFY_COMPLETION
};

enum overlap_policy { OVERLAP_REFUSE, OVERLAP_QUEUE };
enum misfire_policy { MISFIRE_RUN_ONCE, MISFIRE_SKIP };

struct schedule; /* common/schedule.h */

struct job {
	char *name;
	char *description; /* "" when absent */
	char *category; /* "" when absent */
	char *owner; /* "" when absent */
	int enabled; /* default 1 */
	int start_step; /* 1-based, default 1 */
	struct job_step *steps;
	size_t nsteps;
	struct schedule **schedules;
	size_t nschedules;
	char **targets; /* names, as given (deduplicated) */
	size_t ntargets;
	char **groups;
	size_t ngroups;
	char *notify_operator; /* NULL: the default operator */
	enum notify_on notify_on; /* default NOTIFY_FAILURE */
	enum overlap_policy overlap; /* default OVERLAP_REFUSE */
	enum misfire_policy misfire; /* default MISFIRE_RUN_ONCE */
	int64_t history_max_rows; /* 0: the daemon's default */
	int64_t history_max_age_s; /* 0: no age limit */
};

/* Validates a name (job, target, group, step, proxy): 1..max bytes of
 * letters, digits, '.', '_', '-', not starting with '.' or '-'. what names
 * the field in the error. */
int jobdoc_check_name(
    const char *name, size_t max, const char *what, struct cerr *err);

/* Parses and validates a document. On success *out is a new job (caller
 * frees with job_free); on failure nothing is allocated and err names the
 * field (CERR_INVALID, or CERR_TOO_LARGE for an over-long text). */
int jobdoc_parse(
    const char *text, size_t len, struct job **out, struct cerr *err);
/* The same, from a parsed document (borrowed). */
int jobdoc_from_json(const json_t *doc, struct job **out, struct cerr *err);

/* What listings show in place of a secret environment value. */
#define JOB_SECRET_MASK "********"

/* Each secret entry of job whose value is JOB_SECRET_MASK (a document
 * applied as it was listed) takes the value of the secret of the same
 * name in the step of the same name in old, the stored job (NULL: none).
 * -1 with CERR_INVALID naming the entry when there is none to take. */
int job_keep_secrets(struct job *job, const struct job *old, struct cerr *err);
/* 1 when some secret entry of job has the value JOB_SECRET_MASK. */
int job_has_masked_secret(const struct job *job);

/* The canonical document: every field explicit. With redact_secrets, the
 * values of secret environment entries are replaced by JOB_SECRET_MASK (for
 * listings); without, they are kept (for delivery to targets). Returns a
 * new reference, NULL on out-of-memory. */
json_t *jobdoc_to_json(const struct job *job, int redact_secrets);

void job_free(struct job *job);

const char *step_action_name(
    const struct step_action *a, char *buf, size_t size);

#endif
