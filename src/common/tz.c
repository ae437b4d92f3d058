/*
 * tz: civil date arithmetic, a TZif reader (its POSIX TZ footer rule is
 * tz_rule.c's), zones on a bare rule, and the UTC <-> wall-clock
 * conversions the schedules use (see tz.h).
 *
 * Why not localtime_r() with TZ set: switching $TZ means setenv(), which
 * races with any thread reading the environment (libcurl's resolver), and
 * restoring it after every use makes glibc re-read the zone file twice per
 * call. A zone here is read once into memory and is then plain data.
 */
#include "common/tz.h"
#include "common/tz_rule.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct tz {
	char name[TZ_NAME_MAX + 1];
	int64_t *times; /* transitions, ascending */
	uint8_t *types; /* the type each transition switches to */
	size_t ntimes;
	int32_t *offsets; /* UTC offset of each type */
	size_t ntypes;
	int has_rule; /* rule applies from the last transition on */
	struct tz_rule rule;
};

/* ---- civil dates (Howard Hinnant's algorithms) ---- */

int64_t
tz_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && a < 0) ? q - 1 : q;
}

int64_t
tz_days_from_civil(int64_t year, int month, int day)
{
	int64_t y = month <= 2 ? year - 1 : year;
	int64_t era = tz_floor_div(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void
tz_civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
	int64_t z = days + 719468;
	int64_t era = tz_floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);

	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = m;
	*year = yoe + era * 400 + (m <= 2);
}

int
tz_weekday(int64_t days)
{
	/* 1970-01-01 was a Thursday (3 when Monday is 0). */
	return (int)((days + 3) - tz_floor_div(days + 3, 7) * 7);
}

int
tz_is_leap(int64_t year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int
tz_month_days(int64_t year, int month)
{
	static const int days[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (month == 2 && tz_is_leap(year))
		return 29;
	return days[month - 1];
}

/* Exactly n digits at s. */
static int
digits(const char *s, int n, int *out)
{
	*out = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*out = *out * 10 + (s[i] - '0');
	}
	return 0;
}

int
tz_parse_date(const char *s, int64_t *day)
{
	int y, m, d;

	if (strlen(s) != 10 || digits(s, 4, &y) == -1 || s[4] != '-' ||
	    digits(s + 5, 2, &m) == -1 || s[7] != '-' ||
	    digits(s + 8, 2, &d) == -1 || y < 1970 || m < 1 || m > 12 ||
	    d < 1 || d > tz_month_days(y, m))
		return -1;
	*day = tz_days_from_civil(y, m, d);
	return 0;
}

int
tz_parse_time(const char *s, int *sec)
{
	size_t len = strlen(s);
	int h, m, x = 0;

	if ((len != 5 && len != 8) || digits(s, 2, &h) == -1 || s[2] != ':' ||
	    digits(s + 3, 2, &m) == -1 || h > 23 || m > 59)
		return -1;
	if (len == 8 && (s[5] != ':' || digits(s + 6, 2, &x) == -1 || x > 59))
		return -1;
	*sec = h * 3600 + m * 60 + x;
	return 0;
}

int
tz_parse_local(const char *s, int64_t *local_s)
{
	char date[11];
	int64_t day;
	int sec;

	if (strlen(s) < 16 || s[10] != 'T')
		return -1;
	memcpy(date, s, 10);
	date[10] = '\0';
	if (tz_parse_date(date, &day) == -1 ||
	    tz_parse_time(s + 11, &sec) == -1)
		return -1;
	*local_s = day * 86400 + sec;
	return 0;
}

const char *
tz_format_local(int64_t local_s, char *buf, size_t size)
{
	int64_t day = tz_floor_div(local_s, 86400), year;
	int sec = (int)(local_s - day * 86400), month, mday;

	tz_civil_from_days(day, &year, &month, &mday);
	snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)year,
	    month, mday, sec / 3600, sec / 60 % 60, sec % 60);
	return buf;
}

/* ---- reading TZif (RFC 8536) ---- */

struct tzif_header {
	int version; /* 0 for version 1, else '2', '3', '4' */
	uint32_t isut, isstd, leap, times, types, chars;
};

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int
tzif_header(const unsigned char *p, size_t len, struct tzif_header *h)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return -1;
	h->version = p[4];
	h->isut = be32(p + 20);
	h->isstd = be32(p + 24);
	h->leap = be32(p + 28);
	h->times = be32(p + 32);
	h->types = be32(p + 36);
	h->chars = be32(p + 40);
	if (h->types == 0 || h->types > 256 || h->times > 100000 ||
	    h->chars == 0 || h->leap > 10000 || h->chars > 10000 ||
	    (h->isut != 0 && h->isut != h->types) ||
	    (h->isstd != 0 && h->isstd != h->types))
		return -1;
	return 0;
}

static size_t
tzif_block_size(const struct tzif_header *h, size_t tsize)
{
	return h->times * tsize + h->times + h->types * 6 + h->chars +
	    h->leap * (tsize + 4) + h->isstd + h->isut;
}

/* Fills tz from one data block whose size the caller checked. */
static int
tzif_block(struct tz *tz, const unsigned char *p, const struct tzif_header *h,
    size_t tsize)
{
	const unsigned char *idx = p + h->times * tsize;
	const unsigned char *info = idx + h->times;

	if (h->leap != 0)
		return -1; /* "right/" zones count leap seconds: refused */
	tz->ntimes = h->times;
	tz->ntypes = h->types;
	tz->times = calloc(h->times + 1, sizeof(*tz->times));
	tz->types = calloc(h->times + 1, sizeof(*tz->types));
	tz->offsets = calloc(h->types, sizeof(*tz->offsets));
	if (tz->times == NULL || tz->types == NULL || tz->offsets == NULL)
		return -1;
	for (size_t i = 0; i < h->times; i++) {
		tz->times[i] =
		    tsize == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
		tz->types[i] = idx[i];
		if (idx[i] >= h->types ||
		    (i > 0 && tz->times[i] <= tz->times[i - 1]))
			return -1;
	}
	for (size_t i = 0; i < h->types; i++) {
		int32_t off = (int32_t)be32(info + i * 6);

		if (off < -89999 || off > 93599)
			return -1;
		tz->offsets[i] = off;
	}
	return 0;
}

static int
tzif_parse(struct tz *tz, const unsigned char *p, size_t len)
{
	struct tzif_header h;
	char footer[128];
	size_t size, flen;
	const unsigned char *nl;

	if (tzif_header(p, len, &h) == -1)
		return -1;
	size = tzif_block_size(&h, 4);
	if (h.version == 0)
		return len - 44 >= size ? tzif_block(tz, p + 44, &h, 4) : -1;
	if (len - 44 < size)
		return -1;
	p += 44 + size;
	len -= 44 + size;
	if (tzif_header(p, len, &h) == -1)
		return -1;
	size = tzif_block_size(&h, 8);
	if (len - 44 < size || tzif_block(tz, p + 44, &h, 8) == -1)
		return -1;
	p += 44 + size;
	len -= 44 + size;
	if (len < 2 || p[0] != '\n')
		return -1;
	nl = memchr(p + 1, '\n', len - 1);
	flen = nl == NULL ? 0 : (size_t)(nl - p - 1);
	if (nl == NULL || flen >= sizeof(footer))
		return -1;
	if (flen == 0)
		return 0;
	memcpy(footer, p + 1, flen);
	footer[flen] = '\0';
	tz->has_rule = 1;
	return tz_rule_parse(footer, &tz->rule);
}

static int
tz_syntax(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > TZ_NAME_MAX || name[0] == '/' ||
	    name[len - 1] == '/' || strstr(name, "..") != NULL ||
	    strstr(name, "//") != NULL)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) &&
		    strchr("/_+-.", name[i]) == NULL)
			return -1;
	return 0;
}

/* Reads the regular file at path whole; caller frees *out. label names it
 * in errors: a zone name ("'X' is not a known time zone") or, when NULL,
 * the path itself (with the system's reason). */
static int
tz_read_file(const char *path, const char *label, unsigned char **out,
    size_t *len, struct cerr *err)
{
	const char *what = label != NULL ? label : path;
	unsigned char *data = NULL;
	struct stat st;
	size_t got = 0;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		if (label != NULL)
			cerr_set(err, CERR_INVALID,
			    "'%s' is not a known time zone", label);
		else
			cerr_set(err, CERR_IO, "%s: %s", path,
			    fd == -1 ? strerror(errno) : "not a regular file");
		goto out;
	}
	if (st.st_size > TZ_FILE_MAX) {
		cerr_set(err, CERR_INVALID, "'%s': zone file too large", what);
		goto out;
	}
	data = malloc(st.st_size + 1);
	if (data == NULL) {
		cerr_set(err, CERR_INTERNAL, "'%s': out of memory", what);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, st.st_size - got);

		if (n <= 0) {
			cerr_set(err, CERR_IO, "'%s': read: %s", what,
			    n == 0 ? "short file" : strerror(errno));
			goto out;
		}
		got += n;
	}
	*out = data;
	*len = got;
	data = NULL;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	free(data);
	return rc;
}

/* A zone named name from the TZif file at path, or when path is NULL from
 * TZ_DIR/name ("UTC" is built in, so the default zone works without
 * tzdata); what prefixes every error message. */
static int
tz_read_zone(const char *name, const char *path, const char *what,
    struct tz **out, struct cerr *err)
{
	char zpath[sizeof(TZ_DIR) + TZ_NAME_MAX + 2];
	unsigned char *data = NULL;
	struct tz *tz = calloc(1, sizeof(*tz));
	size_t len = 0;
	int rc = -1;

	if (tz == NULL)
		return cerr_set(err, CERR_INTERNAL, "%s: out of memory", what);
	snprintf(tz->name, sizeof(tz->name), "%s", name);
	snprintf(zpath, sizeof(zpath), "%s/%s", TZ_DIR, name);
	if (path == NULL && strcmp(name, "UTC") == 0) {
		tz->ntypes = 1;
		tz->offsets = calloc(1, sizeof(*tz->offsets));
		if (tz->offsets == NULL) {
			cerr_set(err, CERR_INTERNAL, "%s: out of memory", what);
			goto out;
		}
	} else if (path != NULL
		? tz_read_file(path, NULL, &data, &len, err) == -1
		: tz_read_file(zpath, name, &data, &len, err) == -1) {
		cerr_wrap(err, "%s", what);
		goto out;
	} else if (tzif_parse(tz, data, len) == -1) {
		cerr_set(err, CERR_INVALID,
		    "%s: '%s' is not a usable TZif file", what,
		    path != NULL ? path : name);
		goto out;
	}
	*out = tz;
	tz = NULL;
	rc = 0;
out:
	free(data);
	tz_free(tz);
	return rc;
}

/* Loads a zone by name; what prefixes every error message. */
static int
tz_open(const char *name, const char *what, struct tz **out, struct cerr *err)
{
	if (tz_syntax(name) == -1)
		return cerr_set(err, CERR_INVALID,
		    "%s: not a zone name (letters, digits and /_+-. only, no '..', at most %d bytes)",
		    what, TZ_NAME_MAX);
	return tz_read_zone(name, NULL, what, out, err);
}

int
tz_load(const char *name, struct tz **out, struct cerr *err)
{
	return tz_open(name == NULL ? "UTC" : name, "time zone", out, err);
}

int
tz_check_name(const char *name, const char *what, struct cerr *err)
{
	struct tz *tz = NULL;

	if (tz_open(name, what, &tz, err) == -1)
		return -1;
	tz_free(tz);
	return 0;
}

int
tz_load_file(
    const char *path, const char *name, struct tz **out, struct cerr *err)
{
	if (strlen(name) > TZ_NAME_MAX)
		return cerr_set(err, CERR_INVALID, "time zone: name too long");
	return tz_read_zone(name, path, "time zone", out, err);
}

int
tz_load_rule(const char *rule, struct tz **out, struct cerr *err)
{
	struct tz *tz = NULL;
	int rc = -1;

	if (strlen(rule) > TZ_NAME_MAX)
		return cerr_set(err, CERR_INVALID,
		    "time zone rule '%.*s...': longer than %d bytes", 16, rule,
		    TZ_NAME_MAX);
	tz = calloc(1, sizeof(*tz));
	if (tz != NULL)
		tz->offsets = calloc(1, sizeof(*tz->offsets));
	if (tz == NULL || tz->offsets == NULL) {
		cerr_set(err, CERR_INTERNAL, "time zone rule: out of memory");
		goto out;
	}
	if (tz_rule_parse(rule, &tz->rule) == -1) {
		cerr_set(err, CERR_INVALID,
		    "time zone rule '%s': not a POSIX TZ rule "
		    "(like CET-1CEST,M3.5.0,M10.5.0/3)",
		    rule);
		goto out;
	}
	snprintf(tz->name, sizeof(tz->name), "%s", rule);
	/* one type, so the code that looks at offsets[0] (tz_same) sees
	 * standard time, as in a TZif file */
	tz->ntypes = 1;
	tz->offsets[0] = tz->rule.std_off;
	tz->has_rule = 1;
	*out = tz;
	tz = NULL;
	rc = 0;
out:
	tz_free(tz);
	return rc;
}

int
tz_copy(const struct tz *tz, struct tz **out, struct cerr *err)
{
	struct tz *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return cerr_set(err, CERR_INTERNAL, "time zone: out of memory");
	*c = *tz;
	c->times = calloc(tz->ntimes + 1, sizeof(*c->times));
	c->types = calloc(tz->ntimes + 1, sizeof(*c->types));
	c->offsets = calloc(tz->ntypes, sizeof(*c->offsets));
	if (c->times == NULL || c->types == NULL || c->offsets == NULL) {
		tz_free(c);
		return cerr_set(err, CERR_INTERNAL, "time zone: out of memory");
	}
	/* the built-in UTC and a rule's zone have no transitions and no
	 * arrays for them: memcpy from NULL is undefined even for 0 bytes */
	if (tz->ntimes > 0) {
		memcpy(c->times, tz->times, tz->ntimes * sizeof(*c->times));
		memcpy(c->types, tz->types, tz->ntimes * sizeof(*c->types));
	}
	memcpy(c->offsets, tz->offsets, tz->ntypes * sizeof(*c->offsets));
	*out = c;
	return 0;
}

/* 1 with *off when tz has one offset for ever: the built-in UTC, or a
 * file like Etc/UTC with no transitions and a footer without DST. */
static int
fixed_offset(const struct tz *tz, int32_t *off)
{
	if (tz->ntimes != 0 || (tz->has_rule && tz->rule.has_dst))
		return 0;
	*off = tz->has_rule ? tz->rule.std_off : tz->offsets[0];
	return 1;
}

int
tz_same(const struct tz *a, const struct tz *b)
{
	int32_t off_a, off_b;

	if (fixed_offset(a, &off_a) && fixed_offset(b, &off_b))
		return off_a == off_b;
	if (a->ntimes != b->ntimes || a->offsets[0] != b->offsets[0] ||
	    a->has_rule != b->has_rule)
		return 0;
	for (size_t i = 0; i < a->ntimes; i++)
		if (a->times[i] != b->times[i] ||
		    a->offsets[a->types[i]] != b->offsets[b->types[i]])
			return 0;
	/* rules are zeroed before parsing (tz_rule_parse, calloc), so no
	 * padding byte differs */
	return !a->has_rule || memcmp(&a->rule, &b->rule, sizeof(a->rule)) == 0;
}

void
tz_free(struct tz *tz)
{
	if (tz == NULL)
		return;
	free(tz->times);
	free(tz->types);
	free(tz->offsets);
	free(tz);
}

const char *
tz_name(const struct tz *tz)
{
	return tz->name;
}

/* ---- conversions ---- */

int32_t
tz_offset_at(const struct tz *tz, int64_t utc)
{
	size_t lo = 0, hi = tz->ntimes;

	if (tz->ntimes == 0)
		return tz->has_rule ? tz_rule_offset(&tz->rule, utc)
				    : tz->offsets[0];
	if (utc < tz->times[0])
		return tz->offsets[0];
	if (utc >= tz->times[tz->ntimes - 1] && tz->has_rule)
		return tz_rule_offset(&tz->rule, utc);
	/* the last transition at or before utc */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (tz->times[mid] <= utc)
			lo = mid;
		else
			hi = mid;
	}
	return tz->offsets[tz->types[lo]];
}

int64_t
tz_to_local(const struct tz *tz, int64_t utc)
{
	return utc + tz_offset_at(tz, utc);
}

static void
offset_add(int32_t off, int32_t *out, size_t *count, size_t n)
{
	size_t i;

	for (i = 0; i < *count && out[i] != off; i++)
		;
	if (i == *count && *count < n)
		out[(*count)++] = off;
}

/* The index of the first transition after t (ntimes when none is). */
static size_t
transition_after(const struct tz *tz, int64_t t)
{
	size_t lo = 0, hi = tz->ntimes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (tz->times[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Every offset in force within a day and a half of utc (at most n): the
 * one at its start and the one after each change within it. Taken from
 * the changes themselves, not by sampling, so a summer time hours long
 * is not missed. */
static size_t
offsets_near(const struct tz *tz, int64_t utc, int32_t *out, size_t n)
{
	int64_t lo = utc - 129600, hi = utc + 129600;
	int64_t breaks[TZ_RULE_BREAKS_MAX];
	size_t count = 0, nbreaks = 0;

	offset_add(tz_offset_at(tz, lo), out, &count, n);
	for (size_t i = transition_after(tz, lo);
	     i < tz->ntimes && tz->times[i] <= hi; i++)
		offset_add(tz_offset_at(tz, tz->times[i]), out, &count, n);
	if (tz->has_rule)
		nbreaks = tz_rule_breaks(&tz->rule, utc, breaks);
	for (size_t i = 0; i < nbreaks; i++)
		if (breaks[i] > lo && breaks[i] <= hi)
			offset_add(tz_offset_at(tz, breaks[i]), out, &count, n);
	return count;
}

int64_t
tz_from_local(const struct tz *tz, int64_t local_s, enum tz_local_kind *kind)
{
	int32_t offs[25];
	size_t n =
	    offsets_near(tz, local_s - tz_offset_at(tz, local_s), offs, 25);
	int64_t best = INT64_MAX, lo = INT64_MAX, hi = INT64_MIN;
	int found = 0;

	for (size_t i = 0; i < n; i++) {
		int64_t u = local_s - offs[i];

		/* offsets are distinct, so each valid u is a distinct
		 * occurrence of the wall time */
		if (tz_offset_at(tz, u) == offs[i]) {
			found++;
			best = u < best ? u : best;
		}
		lo = u < lo ? u : lo;
		hi = u > hi ? u : hi;
	}
	if (kind != NULL)
		*kind = found > 1 ? TZ_LOCAL_REPEATED
		    : found == 1  ? TZ_LOCAL_UNIQUE
				  : TZ_LOCAL_GAP;
	if (found)
		return best;
	/* In a gap: the first instant whose wall time is past local_s. */
	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;

		if (tz_to_local(tz, mid) > local_s)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

const char *
tz_format_rfc3339(const struct tz *tz, int64_t utc, char *buf, size_t size)
{
	int32_t off = tz_offset_at(tz, utc);
	int32_t abs_off = off < 0 ? -off : off;
	char local[32];

	tz_format_local(utc + off, local, sizeof(local));
	if (abs_off % 60 != 0) /* historical offsets like +00:53:28 */
		snprintf(buf, size, "%s%c%02d:%02d:%02d", local,
		    off < 0 ? '-' : '+', abs_off / 3600, abs_off / 60 % 60,
		    abs_off % 60);
	else
		snprintf(buf, size, "%s%c%02d:%02d", local, off < 0 ? '-' : '+',
		    abs_off / 3600, abs_off / 60 % 60);
	return buf;
}

int64_t
tz_local_floor_after(const struct tz *tz, int64_t utc)
{
	int64_t lo = tz_to_local(tz, utc) - 2 * 86400;
	int64_t hi = tz_to_local(tz, utc) + 2 * 86400;
	int32_t offs[2];

	if (offsets_near(tz, utc, offs, 2) == 1)
		return utc + offs[0] + 1; /* no transition near */
	/* from_local is non-decreasing: find where it first passes utc */
	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;

		if (tz_from_local(tz, mid, NULL) > utc)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}
