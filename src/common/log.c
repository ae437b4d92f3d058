/*
 * log: key=value event lines (see log.h).
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static struct {
	const char *prog;
	enum log_level min_level;
	int use_syslog;
} log_cfg = {"cohort", LOG_LVL_INFO, 0};

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
log_setup(const char *prog, enum log_level min_level, int use_syslog)
{
	log_cfg.prog = prog;
	log_cfg.min_level = min_level;
	log_cfg.use_syslog = use_syslog;
	if (use_syslog)
		openlog(prog, LOG_PID, LOG_DAEMON);
}

int
log_level_parse(const char *name, enum log_level *out)
{
	for (int i = 0; i < 4; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *
log_quote(char *buf, unsigned long size, const char *s)
{
	if (size > 0 && s != NULL && *s != '\0' &&
	    strpbrk(s, " \t\"=\\") == NULL) {
		snprintf(buf, size, "%s", s);
		return buf;
	}
	return log_text(buf, size, s);
}

const char *
log_text(char *buf, unsigned long size, const char *s)
{
	size_t o = 0;

	if (size < 3) { /* no room for even "" */
		if (size > 0)
			buf[0] = '\0';
		return buf;
	}
	if (s == NULL)
		s = "";
	buf[o++] = '"';
	for (; *s != '\0' && o + 3 < size; s++) {
		if (*s == '"' || *s == '\\')
			buf[o++] = '\\';
		buf[o++] = *s;
	}
	if (o + 1 < size)
		buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

const char *
log_one_line(char *buf, unsigned long size, const char *text)
{
	size_t o = 0;

	if (size == 0)
		return buf;
	for (; text != NULL && *text != '\0' && o + 3 < size; text++) {
		if (*text != '\n') {
			buf[o++] = *text;
		} else if (text[1] != '\0') {
			buf[o++] = ';';
			buf[o++] = ' ';
		}
	}
	buf[o] = '\0';
	return buf;
}

static int
syslog_priority(enum log_level level)
{
	switch (level) {
	case LOG_LVL_DEBUG:
		return LOG_DEBUG;
	case LOG_LVL_INFO:
		return LOG_INFO;
	case LOG_LVL_WARN:
		return LOG_WARNING;
	default:
		return LOG_ERR;
	}
}

static void log_vevent(enum log_level level, const char *event,
    const char *suffix, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

void
log_event(enum log_level level, const char *event, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vevent(level, event, "", fmt, ap);
	va_end(ap);
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
log_limited(struct log_limit *l, enum log_level level, const char *event,
    const char *fmt, ...)
{
	int64_t now = mono_ms();
	char suffix[48] = "";
	va_list ap;

	l->streak++;
	if (l->last_ms != 0 &&
	    now - l->last_ms < (int64_t)LOG_LIMIT_INTERVAL_S * 1000) {
		l->repeats++;
		return;
	}
	if (l->repeats > 0)
		snprintf(suffix, sizeof(suffix), " repeats=%lld",
		    (long long)l->repeats);
	l->last_ms = now;
	l->repeats = 0;
	l->logged = 1;
	va_start(ap, fmt);
	log_vevent(level, event, suffix, fmt, ap);
	va_end(ap);
}

void
log_limit_ok(struct log_limit *l, const char *event_ok)
{
	if (l->streak == 0)
		return;
	/* The recovery line accounts for the repeats held back so far. */
	if (l->logged) {
		log_event(LOG_LVL_INFO, event_ok, "failures=%lld",
		    (long long)l->streak);
		l->repeats = 0;
	}
	l->streak = 0;
	l->logged = 0;
}

static void
log_vevent(enum log_level level, const char *event, const char *suffix,
    const char *fmt, va_list ap)
{
	char line[2048];
	char ts[40];
	struct timespec now;
	struct tm tm;
	size_t used;
	int n;

	if (level < log_cfg.min_level)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line),
	    "ts=%s.%03ldZ level=%s prog=%s event=%s ", ts,
	    now.tv_nsec / 1000000, level_names[level], log_cfg.prog, event);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	used = strlen(line);
	snprintf(line + used, sizeof(line) - used, "%s", suffix);
	for (char *p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (log_cfg.use_syslog)
		syslog(syslog_priority(level), "%s", line);
	else
		fprintf(stderr, "%s\n", line);
}
