/*
 * json: limited parsing and typed field access over jansson (see json.h).
 */
#include "common/json.h"

#include <inttypes.h>
#include <string.h>

#include "common/timefmt.h"

int
json_text_depth(const char *text, size_t len, int limit)
{
	int depth = 0, deepest = 0, in_string = 0, escaped = 0;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (in_string) {
			if (escaped)
				escaped = 0;
			else if (c == '\\')
				escaped = 1;
			else if (c == '"')
				in_string = 0;
			continue;
		}
		if (c == '"') {
			in_string = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > deepest)
				deepest = depth;
			if (deepest > limit)
				return limit + 1;
		} else if ((c == '}' || c == ']') && depth > 0) {
			depth--;
		}
	}
	return deepest;
}

const char *
json_error_scrubbed(json_error_t *jerr)
{
	/* jansson quotes the text it stopped at ("... near 'TEXT'"), which
	 * may be part of a secret value; line and column must do. */
	char *near = strstr(jerr->text, " near '");

	if (near != NULL)
		*near = '\0';
	return jerr->text;
}

json_t *
json_parse_limited(const char *text, size_t len, size_t max_bytes,
    int max_depth, struct cerr *err)
{
	json_error_t jerr;
	json_t *v;

	if (len > max_bytes) {
		cerr_set(err, CERR_TOO_LARGE,
		    "JSON text of %zu bytes is over the limit of %zu", len,
		    max_bytes);
		return NULL;
	}
	if (json_text_depth(text, len, max_depth) > max_depth) {
		cerr_set(err, CERR_INVALID,
		    "JSON nesting deeper than %d levels", max_depth);
		return NULL;
	}
	v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (v == NULL)
		cerr_set(err, CERR_INVALID, "bad JSON at line %d column %d: %s",
		    jerr.line, jerr.column, json_error_scrubbed(&jerr));
	return v;
}

int
json_check_keys(const json_t *obj, const char *const *allowed, const char *path,
    struct cerr *err)
{
	const char *key;
	json_t *value;

	if (!json_is_object(obj))
		return cerr_set(err, CERR_INVALID, "%s: must be an object",
		    *path ? path : "document");
	json_object_foreach((json_t *)obj, key, value)
	{
		int known = 0;

		(void)value;
		for (int i = 0; allowed[i] != NULL && !known; i++)
			known = strcmp(allowed[i], key) == 0;
		if (!known)
			return cerr_set(err, CERR_INVALID,
			    "%s%s%.64s: unknown field", path, *path ? "." : "",
			    key);
	}
	return 0;
}

int
json_get_string(const json_t *obj, const char *key, const char *path,
    size_t max_len, int allow_ctl, const char **out, struct cerr *err)
{
	json_t *v = json_object_get(obj, key);
	const char *s;
	size_t len;

	if (v == NULL || json_is_null(v))
		return 1;
	if (!json_is_string(v))
		return cerr_set(err, CERR_INVALID, "%s%s%s: must be a string",
		    path, *path ? "." : "", key);
	s = json_string_value(v);
	len = json_string_length(v);
	if (len > max_len)
		return cerr_set(err, CERR_INVALID,
		    "%s%s%s: longer than %zu bytes", path, *path ? "." : "",
		    key, max_len);
	if (strlen(s) != len)
		return cerr_set(err, CERR_INVALID,
		    "%s%s%s: contains a NUL byte", path, *path ? "." : "", key);
	for (size_t i = 0; i < len && !allow_ctl; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return cerr_set(err, CERR_INVALID,
			    "%s%s%s: contains a control character", path,
			    *path ? "." : "", key);
	*out = s;
	return 0;
}

int
json_get_int(const json_t *obj, const char *key, const char *path, int64_t min,
    int64_t max, int64_t *out, struct cerr *err)
{
	json_t *v = json_object_get(obj, key);
	json_int_t n;

	if (v == NULL || json_is_null(v))
		return 1;
	if (!json_is_integer(v))
		return cerr_set(err, CERR_INVALID, "%s%s%s: must be an integer",
		    path, *path ? "." : "", key);
	n = json_integer_value(v);
	if (n < min || n > max)
		return cerr_set(err, CERR_INVALID,
		    "%s%s%s: %" PRId64 " is out of range %" PRId64 "..%" PRId64,
		    path, *path ? "." : "", key, (int64_t)n, min, max);
	*out = n;
	return 0;
}

int
json_get_bool(const json_t *obj, const char *key, const char *path, int *out,
    struct cerr *err)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return 1;
	if (!json_is_boolean(v))
		return cerr_set(err, CERR_INVALID,
		    "%s%s%s: must be true or false", path, *path ? "." : "",
		    key);
	*out = json_is_true(v);
	return 0;
}

char *
json_dump_compact(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

json_t *
json_utc_or_null(int64_t unix_s)
{
	char buf[TIMEFMT_MAX];

	return unix_s > 0 ? json_string(timefmt_utc(unix_s, buf)) : json_null();
}
