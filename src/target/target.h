/*
 * target: the target role's context and entry point. target_run() owns the
 * event base, the local store, the poller and the runner, and returns when
 * SIGTERM or SIGINT arrives.
 */
#ifndef COHORT_TARGET_H
#define COHORT_TARGET_H

#include "common/cerr.h"
#include "common/conf.h"

int target_run(const struct conf *conf, struct cerr *err);

#endif
