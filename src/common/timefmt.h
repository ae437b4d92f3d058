/*
 * timefmt: the time formats of the API: RFC 3339 in UTC ("2026-11-23T
 * 08:30:00Z", with milliseconds where a value is in ms) and with a UTC
 * offset for a target's local time ("2026-11-23T09:30:00+01:00").
 */
#ifndef COHORT_TIMEFMT_H
#define COHORT_TIMEFMT_H

#include <stdint.h>

#define TIMEFMT_MAX 40
/* The last instant RFC 3339 can write, 9999-12-31T23:59:59.999Z: the
 * bound of every time (and duration) a peer sends in milliseconds. */
#define TIMEFMT_MS_MAX 253402300799999LL

int64_t timefmt_now_s(void);
int64_t timefmt_now_ms(void);

/* Buffers hold TIMEFMT_MAX bytes; each returns its buffer. */
const char *timefmt_utc(int64_t unix_s, char *buf);
const char *timefmt_utc_ms(int64_t unix_ms, char *buf);
const char *timefmt_offset(int64_t unix_s, int32_t offset_s, char *buf);

/* Parses RFC 3339 ("Z" or "+hh:mm"/"-hh:mm", optional fraction) into Unix
 * milliseconds; -1 when malformed or NULL. */
int timefmt_parse(const char *text, int64_t *unix_ms_out);

/* The current UTC offset of this machine's local time, in seconds. */
int32_t timefmt_local_offset(int64_t unix_s);

#endif
