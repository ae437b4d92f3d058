/*
 * tzlocal: the machine's own time zone, the one a schedule without a
 * time_zone runs in. It is found the way glibc's localtime() finds it, so
 * that the schedules follow the wall clock the rest of the machine shows,
 * and the UTC offset a target reports (localtime_r) is the offset its
 * schedules use.
 *
 * The zone is loaded from the bytes localtime() reads, never looked up
 * again by a name: /etc/localtime is often a copy of a zone file
 * (Alpine's documented set-up, "cp /usr/share/zoneinfo/X /etc/localtime")
 * or a bind mount of the host's (containers), with no name to find.
 */
#ifndef COHORT_TZLOCAL_H
#define COHORT_TZLOCAL_H

#include "common/cerr.h"
#include "common/tz.h"

#define TZLOCAL_LOCALTIME "/etc/localtime"
#define TZLOCAL_TIMEZONE "/etc/timezone"
/* The name of a zone read from the localtime file that no zone name
 * under TZ_DIR is known to match. */
#define TZLOCAL_NAME "localtime"

/* Where tzlocal_load looks; a NULL member (or paths) takes the default.
 * Tests point them into a scratch directory. */
struct tzlocal_paths {
	const char *localtime; /* TZLOCAL_LOCALTIME */
	const char *timezone; /* TZLOCAL_TIMEZONE */
};

/* Loads the zone glibc's localtime() uses in this process, in its order:
 *  1. $TZ, with any leading ':' dropped: "" is UTC. "X" naming a zone
 *     under TZ_DIR is that zone ("EST5EDT" too, a file as well as a
 *     rule); an absolute path is read like the localtime file below.
 *     Else a POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3", "JST-9") is
 *     a zone following it, named by the rule (tz_load_rule). Anything
 *     else (an unknown name, a malformed rule, a path that cannot be
 *     read, ":" alone) is passed over, to the next step, where glibc
 *     would use UTC (":" alone: the localtime file, as here).
 *  2. The localtime file's TZif data, through any symlinks. It is named
 *     by the zone under TZ_DIR that it is the same zone as (tz_same):
 *     the name after "zoneinfo/" in the file's path or symlink target,
 *     else the one in the timezone file (Debian, Alpine); with neither,
 *     it is named TZLOCAL_NAME. So a name other than TZLOCAL_NAME always
 *     loads (tz_load) the very zone the file holds.
 *  3. "UTC" when there is no localtime file.
 * Caller frees *out with tz_free. -1 with err when the localtime file is
 * there but cannot be used (a dangling symlink, not TZif): glibc then
 * uses UTC, and the caller should say so. */
int tzlocal_load(
    const struct tzlocal_paths *paths, struct tz **out, struct cerr *err);

#endif
