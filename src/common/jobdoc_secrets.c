/*
 * jobdoc_secrets: a document applied as it was listed keeps its secrets.
 *
 * Listings show a secret environment value as JOB_SECRET_MASK. An
 * operator who saves `job show --json`, edits a schedule and applies it
 * again means "the password is unchanged", not "the password is eight
 * stars": the mask takes the stored value back, or is refused when there
 * is none to take.
 */
#include "common/jobdoc.h"

#include <stdlib.h>
#include <string.h>

static const struct job_step *
step_named(const struct job *job, const char *name)
{
	for (size_t i = 0; job != NULL && i < job->nsteps; i++)
		if (strcmp(job->steps[i].name, name) == 0)
			return &job->steps[i];
	return NULL;
}

static const struct job_env *
secret_named(const struct job_step *st, const char *name)
{
	for (size_t i = 0; st != NULL && i < st->nenv; i++)
		if (st->env[i].secret && strcmp(st->env[i].name, name) == 0)
			return &st->env[i];
	return NULL;
}

static int
masked(const struct job_env *e)
{
	return e->secret && strcmp(e->value, JOB_SECRET_MASK) == 0;
}

int
job_has_masked_secret(const struct job *job)
{
	for (size_t i = 0; i < job->nsteps; i++)
		for (size_t k = 0; k < job->steps[i].nenv; k++)
			if (masked(&job->steps[i].env[k]))
				return 1;
	return 0;
}

int
job_keep_secrets(struct job *job, const struct job *old, struct cerr *err)
{
	for (size_t i = 0; i < job->nsteps; i++) {
		struct job_step *st = &job->steps[i];

		for (size_t k = 0; k < st->nenv; k++) {
			struct job_env *e = &st->env[k];
			const struct job_env *was;
			char *value;

			if (!e->secret ||
			    strcmp(e->value, JOB_SECRET_MASK) != 0)
				continue;
			was = secret_named(step_named(old, st->name), e->name);
			if (was == NULL)
				return cerr_set(err, CERR_INVALID,
				    "steps[%zu].env.%s.value: '%s' is how "
				    "listings hide a secret, and the stored "
				    "job has no secret of that name in step "
				    "'%s' to keep; give the value itself",
				    i + 1, e->name, JOB_SECRET_MASK, st->name);
			value = strdup(was->value);
			if (value == NULL)
				return cerr_set(
				    err, CERR_INTERNAL, "out of memory");
			free(e->value);
			e->value = value;
		}
	}
	return 0;
}
