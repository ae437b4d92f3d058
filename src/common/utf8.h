/*
 * utf8: validity of UTF-8 text (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF).
 */
#ifndef COHORT_UTF8_H
#define COHORT_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at p (left bytes from p), or 0; NUL
 * counts as invalid. */
size_t utf8_seq(const unsigned char *p, size_t left);

/* Whether the len bytes at s are valid UTF-8 without NUL. */
int utf8_valid(const char *s, size_t len);

#endif
