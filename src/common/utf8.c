/*
 * utf8: validity of UTF-8 text (see utf8.h).
 */
#include "common/utf8.h"

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF), or 0. NUL counts as invalid. */
size_t
utf8_seq(const unsigned char *p, size_t left)
{
	size_t n;
	unsigned min_second = 0x80, max_second = 0xbf;

	if (p[0] == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		min_second = 0xa0;
	else if (p[0] == 0xed)
		max_second = 0x9f;
	else if (p[0] == 0xf0)
		min_second = 0x90;
	else if (p[0] == 0xf4)
		max_second = 0x8f;
	if (left < n || p[1] < min_second || p[1] > max_second)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

int
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0, n; i < len; i += n) {
		n = utf8_seq(p + i, len - i);
		if (n == 0)
			return 0;
	}
	return 1;
}
