/*
 * fuzz_jobdoc: the job document validator (jobdoc_parse), which reads
 * every document an administrator applies. Besides not crashing, a
 * document it accepts must survive its own canonical form: the canonical
 * JSON parses again and comes out the same, or the master would deliver
 * to targets something they refuse.
 */
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "common/jobdoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job *job = NULL, *again = NULL;
	json_t *canon = NULL, *canon2 = NULL;
	struct cerr err;

	if (jobdoc_parse((const char *)data, size, &job, &err) < 0)
		return 0;
	canon = jobdoc_to_json(job, 0);
	if (canon == NULL)
		abort();
	if (jobdoc_from_json(canon, &again, &err) < 0)
		abort(); /* the canonical form of a valid job is refused */
	canon2 = jobdoc_to_json(again, 0);
	if (canon2 == NULL || !json_equal(canon, canon2))
		abort(); /* the canonical form is not stable */
	json_decref(jobdoc_to_json(job, 1));
	json_decref(canon);
	json_decref(canon2);
	job_free(job);
	job_free(again);
	return 0;
}
