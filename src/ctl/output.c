/*
 * output: tables and JSON for cohortctl (see output.h).
 */
#include "ctl/output.h"

#include <stdlib.h>
#include <string.h>

#define CELL_MAX 512

/* A list of names (a group's members, a job's targets) as "a, b"; "-"
 * when empty. Anything else in it is shown as JSON. */
static void
join_strings(const json_t *list, char *buf, size_t size)
{
	size_t i, used = 0;
	json_t *v;

	buf[0] = '\0';
	json_array_foreach(list, i, v)
	{
		char *text =
		    json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY);
		int n = snprintf(buf + used, size - used, "%s%s",
		    i > 0 ? ", " : "", text ? text : json_string_value(v));

		free(text);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
	if (used == 0)
		snprintf(buf, size, "-");
}

/* Columns are counted in characters, not bytes: a location in UTF-8
 * ("Zürich") must not push the rest of its row out of line. A
 * continuation byte (top bits 10) adds no character. */
static size_t
text_width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* The byte offset of character `chars` in s (its length when shorter). */
static size_t
char_offset(const char *s, size_t chars)
{
	size_t i = 0;

	for (; s[i] != '\0'; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80 && chars-- == 0)
			break;
	return i;
}

static void
pad_to(FILE *f, const char *text, size_t width)
{
	fputs(text, f);
	for (size_t n = text_width(text); n < width; n++)
		fputc(' ', f);
}

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
	else if (json_is_array(v))
		join_strings(v, buf, size);
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
	output_field(row, c->field, buf, CELL_MAX);
	if (c->max_width > 3 && text_width(buf) > (size_t)c->max_width)
		strcpy(buf + char_offset(buf, (size_t)c->max_width - 3), "...");
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
		width[c] = text_width(cols[c].header);
	json_array_foreach(rows, i, row) for (c = 0; c < ncols; c++)
	{
		cell(row, &cols[c], buf);
		if (text_width(buf) > width[c])
			width[c] = text_width(buf);
	}
	for (c = 0; c < ncols; c++) {
		pad_to(f, cols[c].header, c + 1 < ncols ? width[c] : 0);
		fputs(c + 1 < ncols ? "  " : "\n", f);
	}
	json_array_foreach(rows, i, row) for (c = 0; c < ncols; c++)
	{
		cell(row, &cols[c], buf);
		pad_to(f, buf, c + 1 < ncols ? width[c] : 0);
		fputs(c + 1 < ncols ? "  " : "\n", f);
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
