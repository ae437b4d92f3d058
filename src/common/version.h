/*
 * version: cohort's release and the rule for which peers it accepts.
 * A master accepts targets of its own release line (major.minor) and the
 * two lines before it, never a newer one.
 */
#ifndef COHORT_VERSION_H
#define COHORT_VERSION_H

#include "common/cerr.h"

struct version {
	int major, minor, patch;
};

/* The version this binary reports: COHORT_VERSION, unless the environment
 * variable COHORT_TEST_VERSION overrides it (used by the system tests to
 * play an older or newer peer; documented as test-only). */
const char *version_string(void);

int version_parse(const char *s, struct version *out);

/* 0 when a master at master_version accepts a peer at peer_version; else
 * -1 with CERR_VERSION and a message naming both versions. */
int version_check_peer(
    const char *master_version, const char *peer_version, struct cerr *err);

#endif
