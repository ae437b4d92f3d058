/*
 * scrub: hides the values of a job's secret environment entries in what
 * its steps print (see scrub.h). Split from jobrun.c, which calls it on
 * every attempt's output.
 */
#include "target/scrub.h"

#include <stdlib.h>
#include <string.h>

/* Replaces every occurrence of secret in *data (*len bytes) by the mask.
 * -1 on out-of-memory, *data unchanged. */
static int
scrub_one(char **data, size_t *len, const char *secret, size_t slen)
{
	const char *p = *data, *end = *data + *len, *hit;
	size_t count = 0, o = 0, newlen;
	char *out;

	for (hit = memmem(p, *len, secret, slen); hit != NULL;
	     hit = memmem(hit + slen, (size_t)(end - hit) - slen, secret, slen))
		count++;
	if (count == 0)
		return 0;
	newlen = *len - count * slen + count * (sizeof(JOB_SECRET_MASK) - 1);
	out = malloc(newlen + 1);
	if (out == NULL)
		return -1;
	while ((hit = memmem(p, (size_t)(end - p), secret, slen)) != NULL) {
		memcpy(out + o, p, (size_t)(hit - p));
		o += (size_t)(hit - p);
		memcpy(out + o, JOB_SECRET_MASK, sizeof(JOB_SECRET_MASK) - 1);
		o += sizeof(JOB_SECRET_MASK) - 1;
		p = hit + slen;
	}
	memcpy(out + o, p, (size_t)(end - p));
	out[newlen] = '\0';
	free(*data);
	*data = out;
	*len = newlen;
	return 0;
}

/* Output cut at the limit may end with the start of a secret; that tail
 * is dropped too. */
static void
scrub_tail(char *data, size_t *len, const char *secret, size_t slen)
{
	for (size_t k = slen - 1; k > 0; k--) {
		if (k <= *len && memcmp(data + *len - k, secret, k) == 0) {
			*len -= k;
			data[*len] = '\0';
			return;
		}
	}
}

static int
longer_first(const void *a, const void *b)
{
	size_t la = strlen(*(const char *const *)a);
	size_t lb = strlen(*(const char *const *)b);

	return la < lb ? 1 : la > lb ? -1 : 0;
}

int
scrub_secrets(const struct job *job, char **data, size_t *len, int truncated)
{
	const char **secrets = NULL;
	size_t n = 0, cap = 0;
	int rc = -1;

	for (size_t i = 0; i < job->nsteps; i++)
		cap += job->steps[i].nenv;
	secrets = calloc(cap + 1, sizeof(*secrets));
	if (secrets == NULL)
		return -1;
	for (size_t i = 0; i < job->nsteps; i++)
		for (size_t j = 0; j < job->steps[i].nenv; j++) {
			const struct job_env *e = &job->steps[i].env[j];

			if (e->secret && e->value != NULL &&
			    e->value[0] != '\0')
				secrets[n++] = e->value;
		}
	qsort(secrets, n, sizeof(*secrets), longer_first);
	for (size_t i = 0; i < n; i++) {
		if (scrub_one(data, len, secrets[i], strlen(secrets[i])) < 0)
			goto out;
		if (truncated)
			scrub_tail(*data, len, secrets[i], strlen(secrets[i]));
	}
	rc = 0;
out:
	free(secrets);
	return rc;
}
