/*
 * jobs: what changing a job means for the download lists. Applying a
 * document validates it completely, resolves its aim (targets, and the
 * members of its groups), and in one store transaction saves it and posts
 * insert / update / delete instructions to exactly the targets whose view
 * changes; re-applying an identical document posts nothing, except to a
 * target whose latest definition of the job failed there and was cleared
 * (failed_defs.h): it gets that definition again. After the commit, the
 * affected targets' held polls are woken.
 */
#ifndef COHORT_JOBS_H
#define COHORT_JOBS_H

#include <jansson.h>

#include "common/cerr.h"

struct job;
struct master;

/* doc is the job document; url_name the name in the request path (must
 * match). *result: {"name", "created", "changed", "posted": [{"target",
 * "op", "id", and "again": true for a failed definition posted again}]},
 * new reference. */
int jobs_apply(struct master *m, const json_t *doc, const char *url_name,
    json_t **result, struct cerr *err);
int jobs_delete(
    struct master *m, const char *name, json_t **result, struct cerr *err);
/* Posts START (or STOP) to the job's targets, or to target only (which
 * must be one of them). A START is not posted to a target whose latest
 * definition of the job failed, nor (overlap policy "refuse") where the
 * history shows the job running: *result: {"name", "posted": [...],
 * "refused": [{"target", "reason": "definition_failed", "instruction",
 * "cleared", "error"} or {"target", "reason": "running", "since"}]};
 * CERR_CONFLICT when every target was refused. */
int jobs_post_run_op(struct master *m, const char *name, const char *target,
    int stop, json_t **result, struct cerr *err);

/* Inside the caller's transaction: recomputes the aim of every job that
 * names group and posts insert/delete instructions for the targets that
 * joined or left it (appended to posted). */
int jobs_reaim_group(
    struct master *m, const char *group, json_t *posted, struct cerr *err);
/* 1 when a job names group (its name in first), 0 when none, -1 error. */
int jobs_naming_group(struct master *m, const char *group, char *first,
    size_t size, struct cerr *err);
/* The stored job name, parsed (the master's own text, so without the
 * size limit of a document sent to it): 0 with *out, or -1 with err
 * (CERR_NOT_FOUND when there is no such job). */
int jobs_stored(
    struct master *m, const char *name, struct job **out, struct cerr *err);
/* Inside the caller's transaction, for a target that defects or is
 * deleted: each job document naming it is saved without it (nothing is
 * posted; its other targets run the job the same), so a job shows what
 * it reaches and can be applied again as shown. A stored document that
 * cannot be read is left as it is, with a log line. */
int jobs_forget_target(struct master *m, const char *target, struct cerr *err);
/* Wakes the held polls of the targets in posted (after the commit). */
void jobs_wake(struct master *m, const json_t *posted);

#endif
