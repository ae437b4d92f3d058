/*
 * version: cohort's release and the rule for which peers it accepts.
 * A master accepts targets of its own release line (major.minor) and the
 * two lines before it, never a newer one. Within a major the line before
 * M.m is M.(m-1); before M.0 it is the last line of major M-1, which only
 * a table of ended majors can say (version.c): a build whose previous
 * major is not in that table accepts no peer of that major.
 */
#ifndef COHORT_VERSION_H
#define COHORT_VERSION_H

#include <stddef.h>

#include "common/cerr.h"

struct version {
	int major, minor, patch;
};

/* The last release line of a major that has ended, e.g. {0, 9} once 1.0
 * follows 0.9. */
struct version_major_end {
	int major, last_minor;
};

/* The version this binary reports: COHORT_VERSION, unless the environment
 * variable COHORT_TEST_VERSION overrides it (used by the system tests to
 * play an older or newer peer; documented as test-only). */
const char *version_string(void);

int version_parse(const char *s, struct version *out);

/* 0 when a master at master_version accepts a peer at peer_version, by
 * this build's table of ended majors; else -1 with CERR_VERSION and a
 * message naming both versions. */
int version_check_peer(
    const char *master_version, const char *peer_version, struct cerr *err);

/* The same rule with the table given: ends[0..n) (for the unit tests). */
int version_check_peer_with(const char *master_version,
    const char *peer_version, const struct version_major_end *ends, size_t n,
    struct cerr *err);

/* Sets *prev to the release line (patch 0) before line's, by this build's
 * table; -1 when there is none known (line is 0.0, or M.0 with major M-1
 * missing from the table). */
int version_line_before(const struct version *line, struct version *prev);

#endif
