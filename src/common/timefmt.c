/*
 * timefmt: RFC 3339 formatting and parsing (see timefmt.h).
 */
#include "common/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t
timefmt_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

int64_t
timefmt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
timefmt_utc(int64_t unix_s, char *buf)
{
	time_t t = (time_t)unix_s;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, TIMEFMT_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

const char *
timefmt_utc_ms(int64_t unix_ms, char *buf)
{
	time_t t = (time_t)(unix_ms / 1000);
	struct tm tm;
	char base[32];

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, TIMEFMT_MAX, "%s.%03dZ", base, (int)(unix_ms % 1000));
	return buf;
}

const char *
timefmt_offset(int64_t unix_s, int32_t offset_s, char *buf)
{
	time_t t = (time_t)(unix_s + offset_s);
	int32_t a = offset_s < 0 ? -offset_s : offset_s;
	struct tm tm;
	char base[32];

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, TIMEFMT_MAX, "%s%c%02d:%02d", base,
	    offset_s < 0 ? '-' : '+', (int)(a / 3600), (int)(a % 3600 / 60));
	return buf;
}

int
timefmt_parse(const char *text, int64_t *unix_ms_out)
{
	struct tm tm;
	int y, mo, d, h, mi, s, n = 0, ms = 0, oh = 0, om = 0, sign = 0;
	const char *p;

	memset(&tm, 0, sizeof(tm));
	if (text == NULL)
		return -1;
	if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s,
		&n) != 6 ||
	    n != 19)
		return -1;
	p = text + n;
	if (*p == '.') {
		int digits = 0;

		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*p - '0');
		if (digits == 0)
			return -1;
		for (; digits < 3; digits++)
			ms *= 10;
	}
	if (*p == 'Z' && p[1] == '\0') {
		sign = 0;
	} else if ((*p == '+' || *p == '-') &&
	    sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2 && n == 5 &&
	    p[6] == '\0') {
		sign = *p == '-' ? -1 : 1;
	} else {
		return -1;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    s > 60 || oh > 23 || om > 59)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	*unix_ms_out =
	    ((int64_t)timegm(&tm) - sign * (oh * 3600 + om * 60)) * 1000 + ms;
	return 0;
}

int32_t
timefmt_local_offset(int64_t unix_s)
{
	time_t t = (time_t)unix_s;
	struct tm tm;

	localtime_r(&t, &tm);
	return (int32_t)tm.tm_gmtoff;
}
