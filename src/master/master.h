/*
 * master: the master role's context and entry point. master_run() owns
 * everything the master holds (event base, HTTPS server, store, waiting
 * polls) and returns when SIGTERM or SIGINT arrives.
 */
#ifndef COHORT_MASTER_H
#define COHORT_MASTER_H

#include "common/cerr.h"
#include "common/conf.h"

int master_run(const struct conf *conf, struct cerr *err);

#endif
