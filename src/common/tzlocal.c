/*
 * tzlocal: the machine's zone as glibc's localtime() finds it (see
 * tzlocal.h). What it reads is small and read once, when a target's
 * scheduler starts; the zone is then plain data like any other (tz.h).
 */
#include "common/tzlocal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZONEINFO "zoneinfo/"

/* The part of path after its first "zoneinfo/", into buf; NULL when
 * there is none or it does not fit. */
static const char *
after_zoneinfo(const char *path, char *buf, size_t size)
{
	const char *rest = strstr(path, ZONEINFO);

	if (rest == NULL || strlen(rest + strlen(ZONEINFO)) >= size)
		return NULL;
	snprintf(buf, size, "%s", rest + strlen(ZONEINFO));
	return buf;
}

/* The zone name in path's symlink target, as systemd's timedatectl reads
 * it; NULL when path is no symlink or points elsewhere. */
static const char *
link_zone(const char *path, char *buf, size_t size)
{
	char target[512];
	ssize_t n = readlink(path, target, sizeof(target) - 1);

	if (n <= 0)
		return NULL;
	target[n] = '\0';
	return after_zoneinfo(target, buf, size);
}

/* The first line of the timezone file without surrounding blanks, into
 * buf; NULL when there is no such file or the line is empty or too long.
 * Only a name: whether it loads, and is the same zone, is checked later. */
static const char *
timezone_zone(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	char line[TZ_NAME_MAX + 3];
	size_t a = 0, b;

	if (f == NULL)
		return NULL;
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	b = strlen(line);
	while (b > 0 && isspace((unsigned char)line[b - 1]))
		b--;
	while (a < b && isspace((unsigned char)line[a]))
		a++;
	if (a == b || b - a >= size)
		return NULL;
	memcpy(buf, line + a, b - a);
	buf[b - a] = '\0';
	return buf;
}

/* Replaces *file by the zone called name when that is the same zone;
 * 1 then, else 0 (name NULL, unknown or another zone). */
static int
named_as(struct tz **file, const char *name)
{
	struct tz *named = NULL;

	if (name == NULL || tz_load(name, &named, NULL) == -1)
		return 0;
	if (!tz_same(*file, named)) {
		tz_free(named);
		return 0;
	}
	tz_free(*file);
	*file = named;
	return 1;
}

/* The zone in the TZif file at path, named as tzlocal.h says. */
static int
zone_of_file(
    const char *path, const char *tzfile, struct tz **out, struct cerr *err)
{
	char a[TZ_NAME_MAX + 1], b[TZ_NAME_MAX + 1], c[TZ_NAME_MAX + 1];
	struct tz *file = NULL;

	if (tz_load_file(path, TZLOCAL_NAME, &file, err) == -1)
		return -1;
	if (!named_as(&file, after_zoneinfo(path, a, sizeof(a))) &&
	    !named_as(&file, link_zone(path, b, sizeof(b))))
		named_as(&file, timezone_zone(tzfile, c, sizeof(c)));
	*out = file;
	return 0;
}

/* The zone $TZ gives (tzlocal.h, step 1) into *out: 1, or 0 when it
 * gives none and the localtime file decides. */
static int
env_zone(const char *env, const char *tzfile, struct tz **out)
{
	if (*env == '\0') /* glibc: an empty TZ is UTC */
		return tz_load("UTC", out, NULL) == 0;
	/* glibc drops a leading ':' and reads the rest as any other value:
	 * a file first, then a rule, so ":JST-9" is a rule there too */
	if (*env == ':')
		env++;
	if (*env == '\0')
		return 0;
	if (*env == '/')
		return zone_of_file(env, tzfile, out, NULL) == 0;
	/* "EST5EDT" is a file under TZ_DIR as well as a rule: the file wins */
	if (tz_load(env, out, NULL) == 0)
		return 1;
	return tz_load_rule(env, out, NULL) == 0;
}

int
tzlocal_load(
    const struct tzlocal_paths *paths, struct tz **out, struct cerr *err)
{
	const char *lt_path = paths != NULL && paths->localtime != NULL
	    ? paths->localtime
	    : TZLOCAL_LOCALTIME;
	const char *tzfile = paths != NULL && paths->timezone != NULL
	    ? paths->timezone
	    : TZLOCAL_TIMEZONE;
	const char *env = getenv("TZ");
	struct stat st;

	if (env != NULL && env_zone(env, tzfile, out))
		return 0;
	/* lstat: a dangling symlink is a broken set-up, not "no zone" */
	if (lstat(lt_path, &st) == -1 && errno == ENOENT)
		return tz_load("UTC", out, err);
	return zone_of_file(lt_path, tzfile, out, err);
}
