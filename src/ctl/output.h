/*
 * output: how cohortctl prints. Listings are tables with aligned columns
 * for people, or with --json the API's JSON (an array of objects) for
 * programs. Control characters in values are shown as '?' so a hostile
 * job name cannot rewrite the terminal.
 */
#ifndef COHORT_OUTPUT_H
#define COHORT_OUTPUT_H

#include <stdio.h>

#include <jansson.h>

struct output_col {
	const char *header;
	const char *field; /* member of each row object */
	int max_width; /* longer values are cut with "..."; 0 = none */
};

/* Prints rows (an array of objects) as a table; a missing or null field
 * prints as "-". */
void output_table(
    FILE *f, const struct output_col *cols, size_t ncols, const json_t *rows);

/* Pretty JSON with a trailing newline. */
void output_json(FILE *f, const json_t *v);
/* Text from a target (a job's output) for a terminal: control characters
 * but newline and tab shown as '?', so no escape sequence reaches it;
 * ends with a newline. */
void output_text(FILE *f, const char *text);

/* A member as text ("-" when absent or null); buf holds size bytes. */
const char *output_field(
    const json_t *row, const char *field, char *buf, size_t size);

#endif
