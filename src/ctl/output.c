/*
 * output: tables and JSON for cohortctl (see output.h).
 */
#include "ctl/output.h"

#include <stdlib.h>
#include <string.h>

#define CELL_MAX 512

const char *
output_field(const json_t *row, const char *field, char *buf, size_t size)
{
	json_t *v = json_object_get(row, field);

	if (v == NULL || json_is_null(v))
		snprintf(buf, size, "-");
	else if (json_is_string(v))
		snprintf(buf, size, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, size, "%s", json_is_true(v) ? "yes" : "no");
	else if (json_is_real(v))
		snprintf(buf, size, "%g", json_real_value(v));
	else {
		char *text = json_dumps(v, JSON_COMPACT);

		snprintf(buf, size, "%s", text ? text : "?");
		free(text);
	}
	for (char *p = buf; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return buf;
}

static void
cell(const json_t *row, const struct output_col *c, char *buf)
{
	size_t len;

	output_field(row, c->field, buf, CELL_MAX);
	len = strlen(buf);
	if (c->max_width > 3 && len > (size_t)c->max_width)
		strcpy(buf + c->max_width - 3, "...");
}

void
output_table(
    FILE *f, const struct output_col *cols, size_t ncols, const json_t *rows)
{
	size_t *width = calloc(ncols, sizeof(*width));
	char buf[CELL_MAX];
	size_t i, c;
	json_t *row;

	if (width == NULL)
		return;
	for (c = 0; c < ncols; c++)
		width[c] = strlen(cols[c].header);
	json_array_foreach(rows, i, row) for (c = 0; c < ncols; c++)
	{
		cell(row, &cols[c], buf);
		if (strlen(buf) > width[c])
			width[c] = strlen(buf);
	}
	for (c = 0; c < ncols; c++)
		fprintf(f, "%-*s%s", c + 1 < ncols ? (int)width[c] : 0,
		    cols[c].header, c + 1 < ncols ? "  " : "\n");
	json_array_foreach(rows, i, row) for (c = 0; c < ncols; c++)
	{
		cell(row, &cols[c], buf);
		fprintf(f, "%-*s%s", c + 1 < ncols ? (int)width[c] : 0, buf,
		    c + 1 < ncols ? "  " : "\n");
	}
	free(width);
}

void
output_json(FILE *f, const json_t *v)
{
	json_dumpf(v, f, JSON_INDENT(2) | JSON_ENCODE_ANY);
	fputc('\n', f);
}

void
output_text(FILE *f, const char *text)
{
	size_t len = strlen(text);

	for (const char *p = text; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		int control = (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f;

		fputc(control ? '?' : c, f);
	}
	if (len == 0 || text[len - 1] != '\n')
		fputc('\n', f);
}
