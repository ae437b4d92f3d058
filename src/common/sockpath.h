/*
 * sockpath: a unix socket path that fits in sun_path (108 bytes on
 * Linux). A state dir may be deeper than that; such a path is reached
 * through its directory, opened as a descriptor: "/proc/self/fd/N/NAME"
 * names the same file in bind() and connect(). The daemon (binding its
 * control socket) and cohortctl (connecting to it) both use this.
 */
#ifndef COHORT_SOCKPATH_H
#define COHORT_SOCKPATH_H

#include <stddef.h>

#include "common/cerr.h"

#define SOCKPATH_MAX 108

struct sockpath {
	char path[SOCKPATH_MAX]; /* what to bind or connect to */
	int dirfd; /* -1, or the open directory */
};

/* Fills sp for path; sp->path stays valid while sp is open. */
int sockpath_open(const char *path, struct sockpath *sp, struct cerr *err);
void sockpath_close(struct sockpath *sp);

#endif
