/*
 * args: cohortctl's option parsing and shared helpers (see ctl.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/jobdoc.h"
#include "common/json.h"
#include "ctl/ctl.h"

#define MAX_VALUE_OPTS 64 /* options of one command */

static const struct ctl_opt *
find_opt(const struct ctl_opt *opts, const char *name, size_t len)
{
	for (; opts->name != NULL; opts++)
		if (strlen(opts->name) == len &&
		    strncmp(opts->name, name, len) == 0)
			return opts;
	return NULL;
}

static int
take_value(const struct ctl_opt *o, const char *v, struct cerr *err)
{
	if (o->kind == OPT_VALUE) {
		*o->value = v;
		return 0;
	}
	if (*o->nlist >= o->list_max)
		return cerr_set(err, CERR_INVALID, "%s: at most %d values",
		    o->name, o->list_max);
	o->list[(*o->nlist)++] = v;
	return 0;
}

/* An option that takes one value, given twice: refused, not the last
 * one kept ("--target a --target b" would act on b alone). */
static int
given_before(
    const struct ctl_opt *o, const char **seen, int *nseen, struct cerr *err)
{
	for (int i = 0; i < *nseen; i++)
		if (seen[i] == o->name)
			return cerr_set(
			    err, CERR_INVALID, "%s given twice", o->name);
	if (*nseen < MAX_VALUE_OPTS)
		seen[(*nseen)++] = o->name;
	return 0;
}

int
ctl_parse(int argc, char **argv, const struct ctl_opt *opts, const char **pos,
    int min_pos, int max_pos, int *npos, struct cerr *err)
{
	const char *seen[MAX_VALUE_OPTS];
	int nseen = 0;

	int options_end = 0;

	*npos = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *eq = strchr(a, '=');
		const struct ctl_opt *o;

		/* "--" ends the options: a message may start with "--". */
		if (!options_end && strcmp(a, "--") == 0) {
			options_end = 1;
			continue;
		}
		if (options_end || strncmp(a, "--", 2) != 0) {
			if (*npos >= max_pos)
				return cerr_set(err, CERR_INVALID,
				    "unexpected argument '%s'", a);
			pos[(*npos)++] = a;
			continue;
		}
		o = find_opt(opts, a, eq ? (size_t)(eq - a) : strlen(a));
		if (o == NULL)
			return cerr_set(err, CERR_INVALID,
			    "unknown option %.*s",
			    (int)(eq ? eq - a : (long)strlen(a)), a);
		if (o->kind == OPT_FLAG) {
			if (eq != NULL)
				return cerr_set(err, CERR_INVALID,
				    "%s takes no value", o->name);
			*o->flag = 1;
			continue;
		}
		if (eq == NULL && i + 1 >= argc)
			return cerr_set(
			    err, CERR_INVALID, "%s needs a value", o->name);
		if (o->kind == OPT_VALUE &&
		    given_before(o, seen, &nseen, err) < 0)
			return -1;
		if (take_value(o, eq ? eq + 1 : argv[++i], err) < 0)
			return -1;
	}
	if (*npos < min_pos)
		return cerr_set(err, CERR_INVALID, "missing argument");
	return 0;
}

int
ctl_int(const char *text, const char *what, long long min, long long max,
    long long *out, struct cerr *err)
{
	char *end = NULL;
	long long n;

	errno = 0;
	n = strtoll(text, &end, 10);
	if (*text == '\0' || *end != '\0' || errno != 0 || n < min || n > max)
		return cerr_set(err, CERR_INVALID,
		    "%s: '%s' is not a number "
		    "in %lld..%lld",
		    what, text, min, max);
	*out = n;
	return 0;
}

int
ctl_duration(const char *text, const char *what, long long *seconds_out,
    struct cerr *err)
{
	static const struct {
		char unit;
		long long seconds;
	} units[] = {
	    {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};
	char *end = NULL;
	long long n, mult = 0;

	errno = 0;
	n = strtoll(text, &end, 10);
	if (end != text && *end == '\0')
		mult = 1;
	for (size_t i = 0; end != text && end[0] != '\0' && end[1] == '\0' &&
	     i < sizeof(units) / sizeof(units[0]);
	     i++)
		if (end[0] == units[i].unit)
			mult = units[i].seconds;
	if (mult == 0 || errno != 0 || n < 1 || n > CTL_DURATION_MAX / mult)
		return cerr_set(err, CERR_INVALID,
		    "%s: '%s' is not a duration "
		    "(a positive number with s, m, h, d or w, e.g. 30d)",
		    what, text);
	*seconds_out = n * mult;
	return 0;
}

int
ctl_client(struct ctl *ctl, struct client **out, struct cerr *err)
{
	if (!ctl->have_client) {
		if (ctl->profile == NULL)
			return cerr_set(err, CERR_INVALID,
			    "no profile: use -c "
			    "PROFILE or set COHORT_PROFILE");
		if (client_from_profile(ctl->profile, &ctl->client, err) < 0)
			return -1;
		ctl->have_client = 1;
	}
	*out = &ctl->client;
	return 0;
}

int
ctl_fail(const struct cerr *err)
{
	fprintf(stderr, "cohortctl: %s\n", err->msg);
	return err->code == CERR_INVALID || err->code == CERR_TOO_LARGE ? 2 : 1;
}

json_t *
ctl_json_file(const char *path, struct cerr *err)
{
	json_error_t jerr;
	struct stat st;
	json_t *doc;

	/* A file that cannot be read is not bad input (exit 1); one larger
	 * than any job document is (exit 2), said before it is sent. */
	if (stat(path, &st) < 0) {
		cerr_set(err, CERR_IO, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		cerr_set(err, CERR_IO, "%s: is a directory", path);
		return NULL;
	}
	if (st.st_size > JOB_DOC_MAX_BYTES) {
		cerr_set(err, CERR_TOO_LARGE,
		    "%s: %lld bytes, more than a job document may have (%d)",
		    path, (long long)st.st_size, JOB_DOC_MAX_BYTES);
		return NULL;
	}
	doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (doc != NULL)
		return doc;
	/* jansson says line -1 when the file could not be read at all */
	if (jerr.line < 0)
		cerr_set(err, CERR_IO, "%s", jerr.text);
	else
		cerr_set(err, CERR_INVALID, "%s: line %d column %d: %s", path,
		    jerr.line, jerr.column, json_error_scrubbed(&jerr));
	return NULL;
}
