/*
 * privdrop: the network side of a target started as root gives root up
 * (after runner_ipc_fork(), which keeps it in the runner process only).
 * The daemon's own files in its state dir (the state dir itself, tls/
 * and the key, certificates and renewal files in it, the local store) are
 * handed to the user first, because the network side reads its key and
 * certificate on every connection and writes its store and renewed
 * certificates. The configuration file is not handed over: the user must
 * not be able to widen the proxies the next start gives the runner
 * process. Then supplementary groups, group and user are set, and getting
 * root back is checked to fail.
 */
#ifndef COHORT_PRIVDROP_H
#define COHORT_PRIVDROP_H

#include "common/cerr.h"
#include "common/conf.h"

int privdrop_to_user(const struct conf *conf, struct cerr *err);

#endif
