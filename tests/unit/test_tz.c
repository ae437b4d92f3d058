/*
 * Unit tests for tz: the TZif reader checked against glibc's reading of the
 * same files, wall time to UTC under the DST rules (gap: the end of the
 * gap; repeat: the first occurrence), zone name checks, the machine's
 * zone as glibc's localtime() finds it (in a scratch directory standing
 * for /etc), and civil date arithmetic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/tz.h"
#include "common/tzlocal.h"

#define NCASES(t) (sizeof(t) / sizeof((t)[0]))

/* Offsets agree with glibc's own reading of the same files from 1901 to
 * 2100, past the last transition where the footer rule takes over. TZ is
 * set for glibc only and restored. */
static void
test_tz_matches_glibc(void **state)
{
	static const char *const zones[] = {"Europe/Berlin", "America/New_York",
	    "Australia/Lord_Howe", "UTC", "Pacific/Apia", "America/Santiago",
	    "Asia/Tehran", "Africa/Casablanca", "Europe/Dublin",
	    "Antarctica/Troll", "Pacific/Chatham", "Asia/Kolkata",
	    "America/St_Johns", "Europe/London", "Australia/Sydney"};
	const char *old = getenv("TZ");
	char *saved = old != NULL ? strdup(old) : NULL;

	for (size_t z = 0; z < NCASES(zones); z++) {
		struct tz *tz = NULL;
		struct cerr err;

		assert_int_equal(tz_load(zones[z], &tz, &err), 0);
		setenv("TZ", zones[z], 1);
		tzset();
		for (int64_t t = -2100000000LL; t < 4102444800LL;
		     t += 86400 * 3 + 3599) {
			time_t tt = (time_t)t;
			struct tm tm;

			localtime_r(&tt, &tm);
			if (tm.tm_gmtoff != tz_offset_at(tz, t))
				fail_msg("%s at %lld: glibc %ld, ours %d",
				    zones[z], (long long)t, tm.tm_gmtoff,
				    tz_offset_at(tz, t));
		}
		tz_free(tz);
	}
	if (saved != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

static const struct {
	const char *zone;
	const char *local;
	enum tz_local_kind kind;
	const char *utc_as_local; /* the instant chosen, with its offset */
} local_cases[] = {
    {"Europe/Berlin", "2024-03-31T01:59:59", TZ_LOCAL_UNIQUE,
	"2024-03-31T01:59:59+01:00"},
    {"Europe/Berlin", "2024-03-31T02:00:00", TZ_LOCAL_GAP,
	"2024-03-31T03:00:00+02:00"},
    {"Europe/Berlin", "2024-03-31T02:59:59", TZ_LOCAL_GAP,
	"2024-03-31T03:00:00+02:00"},
    {"Europe/Berlin", "2024-03-31T03:00:00", TZ_LOCAL_UNIQUE,
	"2024-03-31T03:00:00+02:00"},
    {"Europe/Berlin", "2024-10-27T01:59:59", TZ_LOCAL_UNIQUE,
	"2024-10-27T01:59:59+02:00"},
    {"Europe/Berlin", "2024-10-27T02:00:00", TZ_LOCAL_REPEATED,
	"2024-10-27T02:00:00+02:00"},
    {"Europe/Berlin", "2024-10-27T02:59:59", TZ_LOCAL_REPEATED,
	"2024-10-27T02:59:59+02:00"},
    {"Europe/Berlin", "2024-10-27T03:00:00", TZ_LOCAL_UNIQUE,
	"2024-10-27T03:00:00+01:00"},
    {"America/New_York", "2024-03-10T02:30:00", TZ_LOCAL_GAP,
	"2024-03-10T03:00:00-04:00"},
    {"America/New_York", "2024-11-03T01:30:00", TZ_LOCAL_REPEATED,
	"2024-11-03T01:30:00-04:00"},
    {"Australia/Lord_Howe", "2024-10-06T02:00:00", TZ_LOCAL_GAP,
	"2024-10-06T02:30:00+11:00"},
    {"Australia/Lord_Howe", "2024-10-06T02:29:00", TZ_LOCAL_GAP,
	"2024-10-06T02:30:00+11:00"},
    {"Australia/Lord_Howe", "2024-10-06T02:30:00", TZ_LOCAL_UNIQUE,
	"2024-10-06T02:30:00+11:00"},
    {"Australia/Lord_Howe", "2024-04-07T01:30:00", TZ_LOCAL_REPEATED,
	"2024-04-07T01:30:00+11:00"},
    {"Australia/Lord_Howe", "2024-04-07T01:59:59", TZ_LOCAL_REPEATED,
	"2024-04-07T01:59:59+11:00"},
    {"Australia/Lord_Howe", "2024-04-07T02:00:00", TZ_LOCAL_UNIQUE,
	"2024-04-07T02:00:00+10:30"},
    {"America/Santiago", "2024-09-08T00:30:00", TZ_LOCAL_GAP,
	"2024-09-08T01:00:00-03:00"},
    {"Antarctica/Troll", "2024-03-31T01:30:00", TZ_LOCAL_GAP,
	"2024-03-31T03:00:00+02:00"},
    {"Pacific/Apia", "2011-12-30T12:00:00", TZ_LOCAL_GAP,
	"2011-12-31T00:00:00+14:00"},
    {"UTC", "2024-03-31T02:30:00", TZ_LOCAL_UNIQUE,
	"2024-03-31T02:30:00+00:00"},
};

static void
test_tz_from_local(void **state)
{
	char got[64];

	for (size_t i = 0; i < NCASES(local_cases); i++) {
		struct tz *tz = NULL;
		struct cerr err;
		enum tz_local_kind kind;
		int64_t local, utc;

		assert_int_equal(tz_load(local_cases[i].zone, &tz, &err), 0);
		assert_int_equal(
		    tz_parse_local(local_cases[i].local, &local), 0);
		utc = tz_from_local(tz, local, &kind);
		tz_format_rfc3339(tz, utc, got, sizeof(got));
		if (kind != local_cases[i].kind ||
		    strcmp(got, local_cases[i].utc_as_local) != 0)
			fail_msg("case %zu %s %s: got %s kind %d", i,
			    local_cases[i].zone, local_cases[i].local, got,
			    kind);
		tz_free(tz);
	}
}

static void
test_tz_names(void **state)
{
	static const struct {
		const char *name;
		const char *expect; /* NULL: accepted */
	} cases[] = {
	    {"Europe/Berlin", NULL},
	    {"UTC", NULL},
	    {"Etc/GMT+5", NULL},
	    {"America/Argentina/Buenos_Aires", NULL},
	    {"", "not a zone name"},
	    {"/Europe/Berlin", "not a zone name"},
	    {"Europe/Berlin/", "not a zone name"},
	    {"../zoneinfo/UTC", "not a zone name"},
	    {"Europe/..", "not a zone name"},
	    {"Europe Berlin", "not a zone name"},
	    {"Europe/Berlin\n", "not a zone name"},
	    {"Europe/Nowhere", "'Europe/Nowhere' is not a known time zone"},
	    {"America", "'America' is not a known time zone"},
	    {"iso3166.tab", "is not a usable TZif file"},
	    {"posixrules-not-there", "not a known time zone"},
	    {"a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z/0/1/2/3/4/5/6",
		"not a zone name"},
	};
	struct cerr err;

	for (size_t i = 0; i < NCASES(cases); i++) {
		int rc = tz_check_name(cases[i].name, "tz", &err);

		if (cases[i].expect == NULL && rc != 0)
			fail_msg("case %zu refused: %s", i, err.msg);
		if (cases[i].expect != NULL &&
		    (rc == 0 || strstr(err.msg, cases[i].expect) == NULL ||
			strncmp(err.msg, "tz: ", 4) != 0))
			fail_msg("case %zu: '%s' not in '%s'", i,
			    cases[i].expect, rc == 0 ? "(accepted)" : err.msg);
	}
}

/* ---- the machine's zone (tzlocal.c) ---- */

#define SUMMER 1719835200LL /* 2024-07-01T12:00:00Z */
#define WINTER 1705320000LL /* 2024-01-15T12:00:00Z */

/* What stands at etc/localtime in the scratch directory. */
enum lt_kind {
	LT_NONE, /* nothing */
	LT_COPY, /* a copy of the zone file arg names (Alpine, bind mounts) */
	LT_LINK, /* a symlink to arg ("%s" is the scratch directory) */
	LT_JUNK /* a regular file that is not TZif */
};

struct local_case {
	const char *what;
	const char *tz_env; /* $TZ ("%s": scratch directory); NULL: unset */
	enum lt_kind lt;
	const char *arg;
	const char *timezone; /* etc/timezone's content; NULL: none */
	const char *extra, *extra_zone; /* a file made first: path under the
					 * scratch directory, zone copied */
	const char *want_name; /* NULL: refused */
	int32_t summer_s, winter_s; /* offsets at SUMMER and WINTER */
	const char *want_err; /* part of the message when refused */
};

static void
write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Copies TZ_DIR/zone to path, making path's directories. */
static void
copy_zone(const char *zone, const char *path)
{
	char src[256], buf[TZ_FILE_MAX], dir[512], *slash;
	FILE *f;
	size_t n;

	snprintf(dir, sizeof(dir), "%s", path);
	for (slash = strchr(dir + 1, '/'); slash != NULL;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(dir, 0755);
		*slash = '/';
	}
	snprintf(src, sizeof(src), "%s/%s", TZ_DIR, zone);
	f = fopen(src, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	write_file(path, buf, n);
}

/* in with its "%s" (if any) replaced by dir, into out. */
static const char *
expand(const char *in, const char *dir, char *out, size_t size)
{
	const char *at = strstr(in, "%s");

	if (at == NULL)
		snprintf(out, size, "%s", in);
	else
		snprintf(
		    out, size, "%.*s%s%s", (int)(at - in), in, dir, at + 2);
	return out;
}

/* Lays out c under dir and sets $TZ; fills paths. */
static void
local_setup(const struct local_case *c, const char *dir,
    struct tzlocal_paths *paths, char *lt, char *tzf, size_t size)
{
	char path[512], arg[512];

	snprintf(lt, size, "%s/etc/localtime", dir);
	snprintf(tzf, size, "%s/etc/timezone", dir);
	paths->localtime = lt;
	paths->timezone = tzf;
	snprintf(path, sizeof(path), "%s/etc", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	if (c->extra != NULL) {
		snprintf(path, sizeof(path), "%s/%s", dir, c->extra);
		copy_zone(c->extra_zone, path);
	}
	if (c->lt == LT_COPY)
		copy_zone(c->arg, lt);
	else if (c->lt == LT_LINK)
		assert_int_equal(
		    symlink(expand(c->arg, dir, arg, sizeof(arg)), lt), 0);
	else if (c->lt == LT_JUNK)
		write_file(lt, "not a zone\n", 11);
	if (c->timezone != NULL)
		write_file(tzf, c->timezone, strlen(c->timezone));
	if (c->tz_env != NULL)
		setenv("TZ", expand(c->tz_env, dir, arg, sizeof(arg)), 1);
	else
		unsetenv("TZ");
}

/* glibc's offset at utc with TZ=tz, TZ restored to unset after. */
static long
glibc_offset(const char *tz, int64_t utc)
{
	time_t t = (time_t)utc;
	struct tm tm;

	setenv("TZ", tz, 1);
	tzset();
	localtime_r(&t, &tm);
	unsetenv("TZ");
	tzset();
	return tm.tm_gmtoff;
}

static void
check_local(const struct local_case *c, const char *lt, int rc,
    const struct tz *tz, const struct cerr *err)
{
	char glibc_tz[600];

	if (c->want_name == NULL) {
		if (rc == 0 || strstr(err->msg, c->want_err) == NULL)
			fail_msg("%s: want refusal '%s', got %s", c->what,
			    c->want_err, rc == 0 ? tz_name(tz) : err->msg);
		return;
	}
	if (rc != 0)
		fail_msg("%s: %s", c->what, err->msg);
	if (strcmp(tz_name(tz), c->want_name) != 0 ||
	    tz_offset_at(tz, SUMMER) != c->summer_s ||
	    tz_offset_at(tz, WINTER) != c->winter_s)
		fail_msg("%s: got %s %d/%d, want %s %d/%d", c->what,
		    tz_name(tz), tz_offset_at(tz, SUMMER),
		    tz_offset_at(tz, WINTER), c->want_name, c->summer_s,
		    c->winter_s);
	/* with TZ unset, glibc reads the same localtime file */
	snprintf(glibc_tz, sizeof(glibc_tz), ":%s", lt);
	if (c->tz_env == NULL &&
	    (glibc_offset(glibc_tz, SUMMER) != c->summer_s ||
		glibc_offset(glibc_tz, WINTER) != c->winter_s))
		fail_msg("%s: glibc reads the file otherwise", c->what);
}

/* Runs each case in a scratch directory of its own, named after tag. */
static void
run_local_cases(const char *tag, const struct local_case *cases, size_t n)
{
	const char *old = getenv("TZ");
	char *saved = old != NULL ? strdup(old) : NULL;

	for (size_t i = 0; i < n; i++) {
		char dir[64], lt[256], tzf[256], cmd[96];
		struct tzlocal_paths paths;
		struct tz *tz = NULL;
		struct cerr err = {0};
		int rc;

		snprintf(dir, sizeof(dir), "/tmp/cohort-tz-%d-%s-%zu",
		    (int)getpid(), tag, i);
		assert_int_equal(mkdir(dir, 0700), 0);
		local_setup(&cases[i], dir, &paths, lt, tzf, sizeof(lt));
		rc = tzlocal_load(&paths, &tz, &err);
		check_local(&cases[i], lt, rc, tz, &err);
		tz_free(tz);
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
	if (saved != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

/* /etc/localtime a copy of a zone file, as Alpine documents and as a
 * bind mount of the host's file looks inside a container: the file's own
 * data, named "localtime" when nothing names it. */
static void
test_tzlocal_regular_file(void **state)
{
	static const struct local_case cases[] = {
	    {"copy of Berlin", NULL, LT_COPY, "Europe/Berlin", NULL, NULL, NULL,
		"localtime", 7200, 3600, NULL},
	    {"copy of New York", NULL, LT_COPY, "America/New_York", NULL, NULL,
		NULL, "localtime", -14400, -18000, NULL},
	    {"copy of Kolkata", NULL, LT_COPY, "Asia/Kolkata", NULL, NULL, NULL,
		"localtime", 19800, 19800, NULL},
	};

	run_local_cases("file", cases, NCASES(cases));
}

/* /etc/timezone names the copied zone only when it is that zone. */
static void
test_tzlocal_timezone_file(void **state)
{
	static const struct local_case cases[] = {
	    {"names it", NULL, LT_COPY, "Europe/Berlin", "Europe/Berlin\n",
		NULL, NULL, "Europe/Berlin", 7200, 3600, NULL},
	    {"blanks around", NULL, LT_COPY, "Europe/Berlin",
		"  Europe/Berlin \t\n", NULL, NULL, "Europe/Berlin", 7200, 3600,
		NULL},
	    {"no newline", NULL, LT_COPY, "America/New_York",
		"America/New_York", NULL, NULL, "America/New_York", -14400,
		-18000, NULL},
	    {"stale: another zone", NULL, LT_COPY, "Europe/Berlin",
		"Europe/Paris\n", NULL, NULL, "localtime", 7200, 3600, NULL},
	    {"unknown zone", NULL, LT_COPY, "Europe/Berlin", "Mars/Base\n",
		NULL, NULL, "localtime", 7200, 3600, NULL},
	    {"not a name", NULL, LT_COPY, "Europe/Berlin", "../../etc/passwd\n",
		NULL, NULL, "localtime", 7200, 3600, NULL},
	    {"empty", NULL, LT_COPY, "Europe/Berlin", "\n", NULL, NULL,
		"localtime", 7200, 3600, NULL},
	    {"UTC file named Etc/UTC", NULL, LT_COPY, "Etc/UTC", "Etc/UTC\n",
		NULL, NULL, "Etc/UTC", 0, 0, NULL},
	    {"the symlink's name wins", NULL, LT_LINK, TZ_DIR "/Europe/Berlin",
		"Asia/Tokyo\n", NULL, NULL, "Europe/Berlin", 7200, 3600, NULL},
	};

	run_local_cases("timezone", cases, NCASES(cases));
}

/* $TZ first, as glibc: a zone name or path, else a POSIX rule; "" is
 * UTC; what is none of these (":", unknown, a malformed rule) leaves it
 * to /etc/localtime. */
static void
test_tzlocal_tz_env(void **state)
{
	static const struct local_case cases[] = {
	    {"colon name", ":Europe/Berlin", LT_COPY, "America/New_York",
		"America/New_York\n", NULL, NULL, "Europe/Berlin", 7200, 3600,
		NULL},
	    {"bare name", "Asia/Tokyo", LT_COPY, "America/New_York", NULL, NULL,
		NULL, "Asia/Tokyo", 32400, 32400, NULL},
	    {"zoneinfo path", TZ_DIR "/Asia/Tokyo", LT_COPY, "America/New_York",
		NULL, NULL, NULL, "Asia/Tokyo", 32400, 32400, NULL},
	    {"colon zoneinfo path", ":" TZ_DIR "/Europe/Berlin", LT_NONE, NULL,
		NULL, NULL, NULL, "Europe/Berlin", 7200, 3600, NULL},
	    {"path of a copy", ":%s/zones/here", LT_NONE, NULL,
		"Europe/Berlin\n", "zones/here", "Europe/Berlin",
		"Europe/Berlin", 7200, 3600, NULL},
	    {"empty is UTC", "", LT_COPY, "America/New_York", NULL, NULL, NULL,
		"UTC", 0, 0, NULL},
	    {"POSIX rule", "CET-1CEST,M3.5.0,M10.5.0/3", LT_COPY,
		"America/New_York", "America/New_York\n", NULL, NULL,
		"CET-1CEST,M3.5.0,M10.5.0/3", 7200, 3600, NULL},
	    {"rule without dates", "CET-1CEST", LT_COPY, "America/New_York",
		"America/New_York\n", NULL, NULL, "CET-1CEST", 7200, 3600,
		NULL},
	    {"southern rule", "AEST-10AEDT,M10.1.0,M4.1.0/3", LT_COPY,
		"America/New_York", NULL, NULL, NULL,
		"AEST-10AEDT,M10.1.0,M4.1.0/3", 36000, 39600, NULL},
	    {"colon rule", ":JST-9", LT_COPY, "America/New_York", NULL, NULL,
		NULL, "JST-9", 32400, 32400, NULL},
	    {"quoted names", "<+0330>-3:30", LT_LINK, TZ_DIR "/Europe/Berlin",
		NULL, NULL, NULL, "<+0330>-3:30", 12600, 12600, NULL},
	    {"UTC0", "UTC0", LT_COPY, "America/New_York", NULL, NULL, NULL,
		"UTC0", 0, 0, NULL},
	    {"a zone file named like a rule", "EST5EDT", LT_COPY, "Asia/Tokyo",
		NULL, NULL, NULL, "EST5EDT", -14400, -18000, NULL},
	    {"rule without its end", "CET-1CEST,M3.5.0", LT_COPY,
		"America/New_York", "America/New_York\n", NULL, NULL,
		"America/New_York", -14400, -18000, NULL},
	    {"rule with month 13", "CET-1CEST,M13.5.0,M10.5.0", LT_COPY,
		"America/New_York", "America/New_York\n", NULL, NULL,
		"America/New_York", -14400, -18000, NULL},
	    {"offset past 24h", "JST-25", LT_LINK, TZ_DIR "/Europe/Berlin",
		NULL, NULL, NULL, "Europe/Berlin", 7200, 3600, NULL},
	    {"rule over 64 bytes",
		"<+0330>-3:30<+0430>,J79/24,J263/24<+0330>-3:30<+0430>,J79/24,J263",
		LT_LINK, TZ_DIR "/Europe/Berlin", NULL, NULL, NULL,
		"Europe/Berlin", 7200, 3600, NULL},
	    {"colon alone", ":", LT_COPY, "America/New_York",
		"America/New_York\n", NULL, NULL, "America/New_York", -14400,
		-18000, NULL},
	    {"unknown name", "Mars/Base", LT_LINK, TZ_DIR "/Europe/Berlin",
		NULL, NULL, NULL, "Europe/Berlin", 7200, 3600, NULL},
	    {"missing path", "/nowhere/zoneinfo/Asia/Tokyo", LT_LINK,
		TZ_DIR "/Europe/Berlin", NULL, NULL, NULL, "Europe/Berlin",
		7200, 3600, NULL},
	};

	run_local_cases("env", cases, NCASES(cases));
}

/* TZ=EST5EDT is a rule and a file under TZ_DIR: the file wins, in
 * glibc and here. They differ in 2000, before the US rules of 2007: on
 * 2000-04-01 the file (and glibc) has EST, the rule would have EDT. */
static void
test_tzlocal_file_before_rule(void **state)
{
	const int64_t april_2000 = 954590400; /* 2000-04-01T12:00:00Z */
	const struct tzlocal_paths no_etc = {
	    "/nonexistent-cohort-etc/localtime", NULL};
	const char *old = getenv("TZ");
	char *saved = old != NULL ? strdup(old) : NULL;
	struct tz *tz = NULL, *file = NULL;
	struct cerr err;

	setenv("TZ", "EST5EDT", 1);
	assert_int_equal(tzlocal_load(&no_etc, &tz, &err), 0);
	assert_int_equal(tz_load("EST5EDT", &file, &err), 0);
	assert_string_equal(tz_name(tz), "EST5EDT");
	assert_true(tz_same(tz, file));
	assert_int_equal(glibc_offset("EST5EDT", april_2000), -18000);
	assert_int_equal(tz_offset_at(tz, april_2000), -18000);
	tz_free(tz);
	tz_free(file);
	if (saved != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

/* /etc/localtime a symlink: the file it leads to, named after the link
 * when TZ_DIR has that zone and it is the same. */
static void
test_tzlocal_symlink(void **state)
{
	static const struct local_case cases[] = {
	    {"into TZ_DIR", NULL, LT_LINK, TZ_DIR "/Europe/Berlin", NULL, NULL,
		NULL, "Europe/Berlin", 7200, 3600, NULL},
	    {"UTC", NULL, LT_LINK, TZ_DIR "/Etc/UTC", NULL, NULL, NULL,
		"Etc/UTC", 0, 0, NULL},
	    {"relative", NULL, LT_LINK, "../usr/share/zoneinfo/Europe/Berlin",
		NULL, "usr/share/zoneinfo/Europe/Berlin", "Europe/Berlin",
		"Europe/Berlin", 7200, 3600, NULL},
	    {"a zoneinfo TZ_DIR lacks", NULL, LT_LINK,
		"%s/store/share/zoneinfo/America/Cohort_City", NULL,
		"store/share/zoneinfo/America/Cohort_City", "America/New_York",
		"localtime", -14400, -18000, NULL},
	    {"no zoneinfo in the path", NULL, LT_LINK, "%s/opt/berlin.tzif",
		"Europe/Berlin\n", "opt/berlin.tzif", "Europe/Berlin",
		"Europe/Berlin", 7200, 3600, NULL},
	};

	run_local_cases("symlink", cases, NCASES(cases));
}

/* UTC only when there is no /etc/localtime; one that is there but
 * unusable is an error to report (glibc uses UTC then too). */
static void
test_tzlocal_missing(void **state)
{
	static const struct local_case cases[] = {
	    {"nothing", NULL, LT_NONE, NULL, NULL, NULL, NULL, "UTC", 0, 0,
		NULL},
	    {"only /etc/timezone", NULL, LT_NONE, NULL, "Europe/Berlin\n", NULL,
		NULL, "UTC", 0, 0, NULL},
	    {"dangling symlink", NULL, LT_LINK, TZ_DIR "/Nowhere/Land", NULL,
		NULL, NULL, NULL, 0, 0, "No such file"},
	    {"not TZif", NULL, LT_JUNK, NULL, "Europe/Berlin\n", NULL, NULL,
		NULL, 0, 0, "not a usable TZif file"},
	};

	run_local_cases("missing", cases, NCASES(cases));
}

/* The zone read from a file compares equal to the one loaded by name,
 * and a copy is the same zone. */
static void
test_tz_same_copy(void **state)
{
	static const struct {
		const char *a, *b;
		int same;
	} cases[] = {
	    {"Europe/Berlin", TZ_DIR "/Europe/Berlin", 1},
	    {"Europe/Paris", TZ_DIR "/Europe/Berlin", 0},
	    {"UTC", TZ_DIR "/Etc/UTC", 1},
	    {"Etc/GMT-1", TZ_DIR "/Etc/UTC", 0},
	    {"Asia/Tokyo", TZ_DIR "/Asia/Tokyo", 1},
	};
	struct cerr err;

	for (size_t i = 0; i < NCASES(cases); i++) {
		struct tz *a = NULL, *b = NULL, *c = NULL;

		assert_int_equal(tz_load(cases[i].a, &a, &err), 0);
		assert_int_equal(tz_load_file(cases[i].b, "file", &b, &err), 0);
		assert_string_equal(tz_name(b), "file");
		if (tz_same(a, b) != cases[i].same)
			fail_msg(
			    "case %zu: %s vs %s", i, cases[i].a, cases[i].b);
		assert_int_equal(tz_copy(b, &c, &err), 0);
		assert_true(tz_same(b, c));
		assert_string_equal(tz_name(c), "file");
		assert_int_equal(
		    tz_offset_at(c, SUMMER), tz_offset_at(b, SUMMER));
		tz_free(a);
		tz_free(b);
		tz_free(c);
	}
}

/* The built-in UTC has no transitions to copy (under UBSan, no memcpy
 * from NULL): a schedule without a zone copies it on a machine without
 * /etc/localtime. */
static void
test_tz_copy_utc(void **state)
{
	struct tz *utc = NULL, *copy = NULL;
	struct cerr err;

	assert_int_equal(tz_load("UTC", &utc, &err), 0);
	assert_int_equal(tz_copy(utc, &copy, &err), 0);
	assert_true(tz_same(utc, copy));
	assert_string_equal(tz_name(copy), "UTC");
	tz_free(utc);
	tz_free(copy);
}

static void
test_tz_civil(void **state)
{
	int64_t day, local;
	int sec;
	char buf[32];

	for (int64_t d = -800000; d <= 3000000; d += 17) {
		int64_t y;
		int m, dd;

		tz_civil_from_days(d, &y, &m, &dd);
		assert_int_equal(tz_days_from_civil(y, m, dd), d);
		assert_true(dd >= 1 && dd <= tz_month_days(y, m));
	}
	assert_int_equal(tz_days_from_civil(2024, 1, 1), 19723);
	assert_int_equal(tz_weekday(0), 3); /* Thursday */
	assert_int_equal(tz_weekday(-3), 0); /* Monday 1969-12-29 */
	assert_int_equal(tz_weekday(19723), 0);
	assert_false(tz_is_leap(2100));
	assert_true(tz_is_leap(2000));
	assert_true(tz_is_leap(2028));
	assert_int_equal(tz_month_days(2100, 2), 28);
	assert_int_equal(tz_floor_div(-1, 7), -1);
	assert_int_equal(tz_floor_div(-7, 7), -1);
	assert_int_equal(tz_floor_div(6, 7), 0);
	assert_int_equal(tz_parse_date("2024-02-29", &day), 0);
	assert_int_equal(tz_parse_date("2100-02-29", &day), -1);
	assert_int_equal(tz_parse_date("2024-02-29x", &day), -1);
	assert_int_equal(tz_parse_date("+024-02-29", &day), -1);
	assert_int_equal(tz_parse_time("23:59:59", &sec), 0);
	assert_int_equal(sec, 86399);
	assert_int_equal(tz_parse_time("23:59:5", &sec), -1);
	assert_int_equal(tz_parse_time("-1:00", &sec), -1);
	assert_int_equal(tz_parse_local("9999-12-31T23:59:59", &local), 0);
	assert_string_equal(
	    tz_format_local(local, buf, sizeof(buf)), "9999-12-31T23:59:59");
	assert_int_equal(tz_parse_local("2024-01-01T00:00", &local), 0);
	assert_int_equal(local, 19723LL * 86400);
	assert_int_equal(tz_parse_local("2024-01-01T00:00:00:00", &local), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tz_matches_glibc),
	    cmocka_unit_test(test_tz_from_local),
	    cmocka_unit_test(test_tz_names),
	    cmocka_unit_test(test_tzlocal_regular_file),
	    cmocka_unit_test(test_tzlocal_timezone_file),
	    cmocka_unit_test(test_tzlocal_tz_env),
	    cmocka_unit_test(test_tzlocal_file_before_rule),
	    cmocka_unit_test(test_tzlocal_symlink),
	    cmocka_unit_test(test_tzlocal_missing),
	    cmocka_unit_test(test_tz_same_copy),
	    cmocka_unit_test(test_tz_copy_utc),
	    cmocka_unit_test(test_tz_civil),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
