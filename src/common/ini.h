/*
 * ini: reads "key = value" files (the daemon config and client profiles).
 * '#' and ';' start comment lines; blank lines are skipped; values may be
 * double-quoted to keep leading or trailing blanks. Lines over INI_LINE_MAX
 * are refused rather than cut.
 */
#ifndef COHORT_INI_H
#define COHORT_INI_H

#include "common/cerr.h"

#define INI_LINE_MAX 4096

/* Called once per key. Returns 0, or -1 with err filled to report the line
 * (parsing goes on so every bad line is reported). */
typedef int (*ini_key_cb)(
    void *arg, const char *key, const char *value, struct cerr *err);

/* Parses the file at path, calling cb per key. Every problem is written to
 * report (one "path:line: message" per line, as many as fit) and the call
 * fails if there was any; err then holds the first. */
int ini_parse_file(const char *path, ini_key_cb cb, void *arg, char *report,
    unsigned long report_size, struct cerr *err);

/* Parses one "key=value" text (a --key=value flag without the dashes),
 * using the same trimming and quoting rules. */
int ini_parse_line(
    const char *line, ini_key_cb cb, void *arg, struct cerr *err);

/* The line of path that last sets key (the one in force), or 0 when
 * none does or path cannot be read: for a problem found after parsing,
 * such as two keys that disagree. */
int ini_key_line(const char *path, const char *key);

#endif
