/*
 * log: one line per event, "ts=... level=... event=... key=value ...", to
 * stderr (or syslog). Callers pass the key=value tail as a printf format;
 * values that may hold spaces go through %s with log_quote(). Control
 * characters in the finished line are replaced, so outside bytes cannot
 * forge log lines. Secrets must never be passed here.
 */
#ifndef COHORT_LOG_H
#define COHORT_LOG_H

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };

/* Process-wide settings: the one piece of global state besides signal
 * flags, set once at start-up before any other thread could exist. */
void log_setup(const char *prog, enum log_level min_level, int use_syslog);
int log_level_parse(const char *name, enum log_level *out);

void log_event(enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(ev, ...) log_event(LOG_LVL_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...) log_event(LOG_LVL_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_event(LOG_LVL_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_event(LOG_LVL_ERROR, ev, __VA_ARGS__)

/* Formats s as a log value: bare if it has no spaces, quotes or '=',
 * else in double quotes with '"' and '\' escaped. Writes into buf (always
 * terminated, truncated to size) and returns buf. */
const char *log_quote(char *buf, unsigned long size, const char *s);

#endif
