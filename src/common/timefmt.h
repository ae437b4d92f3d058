/*
 * timefmt: the time formats of the API: RFC 3339 in UTC ("2026-11-23T
 * 08:30:00Z", with milliseconds where a value is in ms) and with a UTC
 * offset for a target's local time ("2026-11-23T09:30:00+01:00").
 */
#ifndef COHORT_TIMEFMT_H
#define COHORT_TIMEFMT_H

#include <stdint.h>

#define TIMEFMT_MAX 40

int64_t timefmt_now_s(void);
int64_t timefmt_now_ms(void);

/* Buffers hold TIMEFMT_MAX bytes; each returns its buffer. */
const char *timefmt_utc(int64_t unix_s, char *buf);
const char *timefmt_utc_ms(int64_t unix_ms, char *buf);
const char *timefmt_offset(int64_t unix_s, int32_t offset_s, char *buf);

/* Parses RFC 3339 ("Z" or "+hh:mm"/"-hh:mm", optional fraction) into Unix
 * milliseconds; -1 when malformed. */
int timefmt_parse(const char *text, int64_t *unix_ms_out);

/* The current UTC offset of this machine's local time, in seconds. */
int32_t timefmt_local_offset(int64_t unix_s);

#endif
