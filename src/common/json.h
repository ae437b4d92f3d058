/*
 * json: jansson with cohort's limits. Every JSON text from outside goes
 * through json_parse_limited(), which refuses over-long input and nesting
 * deeper than a limit before jansson allocates anything, and reports
 * errors as CERR_INVALID with the line and column.
 *
 * The field helpers read one member of an object with a type check and
 * name the full field path in their error ("steps[2].timeout_s: must be an
 * integer"); they are how document validators stay short and exact.
 */
#ifndef COHORT_JSON_H
#define COHORT_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/cerr.h"

/* jerr's text without the part jansson quotes from the input (which may
 * be a secret value): the line and column name the place. */
const char *json_error_scrubbed(json_error_t *jerr);

/* Parses text (len bytes, need not be NUL-terminated). Returns a new
 * reference (caller decrefs) or NULL with err set: CERR_TOO_LARGE beyond
 * max_bytes, CERR_INVALID for bad syntax or nesting beyond max_depth. */
json_t *json_parse_limited(const char *text, size_t len, size_t max_bytes,
    int max_depth, struct cerr *err);

/* Depth of the deepest array/object nesting in text, counting brackets
 * outside strings; stops counting past limit (returns limit + 1). */
int json_text_depth(const char *text, size_t len, int limit);

/* Refuses any member of obj whose key is not in allowed (NULL-ended);
 * path names obj in the message ("steps[1]", or "" for the top). */
int json_check_keys(const json_t *obj, const char *const *allowed,
    const char *path, struct cerr *err);

/* Field readers. Each returns 0 when the member is present and valid, 1
 * when it is absent or null (out left as the caller preset it), -1 with
 * err naming path.key when it has the wrong type or is out of bounds.
 * Strings are borrowed from obj; max_len counts bytes; control characters
 * are refused unless allow_ctl. */
int json_get_string(const json_t *obj, const char *key, const char *path,
    size_t max_len, int allow_ctl, const char **out, struct cerr *err);
int json_get_int(const json_t *obj, const char *key, const char *path,
    int64_t min, int64_t max, int64_t *out, struct cerr *err);
int json_get_bool(const json_t *obj, const char *key, const char *path,
    int *out, struct cerr *err);

/* unix_s as an RFC 3339 UTC string, or null when it is 0 or less (not
 * yet, never): how the API shows every time. */
json_t *json_utc_or_null(int64_t unix_s);

/* Serialises compactly; caller frees. NULL on out-of-memory. */
char *json_dump_compact(const json_t *v);

#endif
