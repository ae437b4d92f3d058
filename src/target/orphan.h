/*
 * orphan: step process groups left behind by a daemon that died. Each
 * step leads its own process group; when the step starts, the target
 * records the group id and the leader's start time (from /proc) in its
 * store. A daemon that is killed outright leaves those groups running; the
 * next start finds the run still "running" in the ledger and kills its
 * recorded group, but only when the group's leader is still the very
 * process that was recorded (same pid, leading that group, same start
 * time), so a pid the kernel has since handed to someone else is never
 * signalled.
 */
#ifndef COHORT_ORPHAN_H
#define COHORT_ORPHAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/cerr.h"

/* What orphan_parse_stat() reads from one /proc/<pid>/stat line. */
struct orphan_stat {
	char state; /* 'R', 'S', 'Z', ... */
	pid_t pgrp; /* field 5 */
	uint64_t start_ticks; /* field 22: clock ticks after boot */
};

/* Parses the text of /proc/<pid>/stat (len bytes, need not end in NUL).
 * The command name (field 2) may hold spaces and parentheses: the fields
 * after it are found from its last ')'. CERR_INVALID when malformed. */
int orphan_parse_stat(
    const char *text, size_t len, struct orphan_stat *out, struct cerr *err);

/* Reads /proc/<pid>/stat. CERR_NOT_FOUND when there is no such process. */
int orphan_read_stat(pid_t pid, struct orphan_stat *out, struct cerr *err);

/* Kills (SIGKILL) process group pgid when its leader is still the process
 * recorded with start_ticks. Returns 1 when killed, 0 when left alone
 * (the group is gone, or pid pgid is now another process), -1 on error. */
int orphan_kill(pid_t pgid, uint64_t start_ticks, struct cerr *err);

#endif
