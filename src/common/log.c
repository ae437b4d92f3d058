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
	size_t o = 0;

	if (size == 0)
		return buf;
	if (s == NULL)
		s = "";
	if (*s != '\0' && strpbrk(s, " \t\"=\\") == NULL) {
		snprintf(buf, size, "%s", s);
		return buf;
	}
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

void
log_event(enum log_level level, const char *event, const char *fmt, ...)
{
	char line[2048];
	char ts[40];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n;

	if (level < log_cfg.min_level)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "ts=%s.%03ldZ level=%s prog=%s event=%s ",
	    ts, now.tv_nsec / 1000000, level_names[level], log_cfg.prog, event);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	for (char *p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (log_cfg.use_syslog)
		syslog(syslog_priority(level), "%s", line);
	else
		fprintf(stderr, "%s\n", line);
}
