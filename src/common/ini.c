/*
 * ini: "key = value" reader (see ini.h).
 */
#include "common/ini.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s &&
	    (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' ||
		end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* Splits line in place into key and value; -1 when there is no '='. */
static int
split_line(char *line, char **key, char **value, struct cerr *err)
{
	char *eq = strchr(line, '=');
	char *v;
	size_t n;

	if (eq == NULL)
		return cerr_set(err, CERR_INVALID, "expected 'key = value'");
	*eq = '\0';
	*key = trim(line);
	v = trim(eq + 1);
	n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v[n - 1] = '\0';
		v++;
	}
	if (**key == '\0')
		return cerr_set(err, CERR_INVALID, "empty key");
	for (const char *p = v; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return cerr_set(err, CERR_INVALID,
			    "%s: control character in value", *key);
	*value = v;
	return 0;
}

int
ini_parse_line(const char *line, ini_key_cb cb, void *arg, struct cerr *err)
{
	char copy[INI_LINE_MAX];
	char *key, *value;

	if (strlen(line) >= sizeof(copy))
		return cerr_set(err, CERR_TOO_LARGE,
		    "line longer than %d bytes", INI_LINE_MAX - 1);
	strcpy(copy, line);
	if (split_line(copy, &key, &value, err) < 0)
		return -1;
	return cb(arg, key, value, err);
}

static void
report_add(char *report, unsigned long size, const char *path, int lineno,
    const char *msg)
{
	size_t used = strlen(report);

	if (used + 1 >= size)
		return;
	snprintf(report + used, size - used, "%s:%d: %s\n", path, lineno, msg);
}

int
ini_parse_file(const char *path, ini_key_cb cb, void *arg, char *report,
    unsigned long report_size, struct cerr *err)
{
	char line[INI_LINE_MAX + 1];
	struct cerr first = {CERR_OK, ""};
	struct cerr lerr;
	int lineno = 0, bad = 0;
	struct stat st;
	FILE *f;

	if (report_size > 0)
		report[0] = '\0';
	f = fopen(path, "r");
	if (f == NULL || fstat(fileno(f), &st) < 0) {
		cerr_set(&first, CERR_IO, "%s: %s", path, strerror(errno));
		goto unreadable;
	}
	/* glibc opens a directory for reading; its first read fails. */
	if (S_ISDIR(st.st_mode)) {
		cerr_set(&first, CERR_IO, "%s: is a directory", path);
		goto unreadable;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s, *key, *value;

		lineno++;
		cerr_clear(&lerr);
		if (strchr(line, '\n') == NULL && !feof(f)) {
			int c;

			cerr_set(&lerr, CERR_TOO_LARGE,
			    "line longer than %d bytes", INI_LINE_MAX - 1);
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
		} else {
			s = trim(line);
			if (*s == '\0' || *s == '#' || *s == ';')
				continue;
			if (split_line(s, &key, &value, &lerr) == 0)
				cb(arg, key, value, &lerr);
		}
		if (lerr.code != CERR_OK) {
			report_add(report, report_size, path, lineno, lerr.msg);
			if (bad++ == 0)
				cerr_set(&first, lerr.code, "%s:%d: %s", path,
				    lineno, lerr.msg);
		}
	}
	if (ferror(f)) {
		report_add(report, report_size, path, lineno, strerror(errno));
		if (bad++ == 0)
			cerr_set(&first, CERR_IO, "%s:%d: %s", path, lineno,
			    strerror(errno));
	}
	fclose(f);
	if (bad > 0) {
		if (err != NULL)
			*err = first;
		return -1;
	}
	return 0;
unreadable:
	if (f != NULL)
		fclose(f);
	if (report_size > 0)
		snprintf(report, report_size, "%s\n", first.msg);
	if (err != NULL)
		*err = first;
	return -1;
}

int
ini_key_line(const char *path, const char *key)
{
	char line[INI_LINE_MAX + 1];
	int lineno = 0, found = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s, *k, *v;
		struct cerr ignored;
		int c;

		lineno++;
		/* a line too long is one line, and no key's (as in
		 * ini_parse_file) */
		if (strchr(line, '\n') == NULL && !feof(f)) {
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		s = trim(line);
		if (*s != '\0' && *s != '#' && *s != ';' &&
		    split_line(s, &k, &v, &ignored) == 0 && strcmp(k, key) == 0)
			found = lineno;
	}
	fclose(f);
	return found;
}
