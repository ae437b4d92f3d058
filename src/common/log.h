/*
 * log: one line per event, "ts=... level=... event=... key=value ...", to
 * stderr (or syslog). Callers pass the key=value tail as a printf format;
 * values that may hold spaces go through %s with log_quote(). Control
 * characters in the finished line are replaced, so outside bytes cannot
 * forge log lines. Secrets must never be passed here.
 */
#ifndef COHORT_LOG_H
#define COHORT_LOG_H

#include <stdint.h>

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

/* A failure that repeats (a full disk fails every request) is logged
 * once per interval, not once per occurrence: the first time at once, the
 * repeats counted and reported as "repeats=N" on the next line the
 * interval lets through. Owned by whoever reports the failure, zeroed to
 * start; log_limit_ok() ends a failure streak with one line (event_ok),
 * so the log shows when the condition went away. A condition that flaps
 * (a nearly full disk lets some writes through) is still one failure line
 * and one recovery line per interval: the interval runs on across a
 * success. */
struct log_limit {
	int64_t last_ms; /* monotonic time of the last line, 0: none */
	int64_t repeats; /* occurrences not logged since then */
	int64_t streak; /* occurrences since the last success */
	int logged; /* this streak's failure line was written */
};

#define LOG_LIMIT_INTERVAL_S 60

void log_limited(struct log_limit *l, enum log_level level, const char *event,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void log_limit_ok(struct log_limit *l, const char *event_ok);

/* Formats s as a log value: bare if it has no spaces, quotes or '=',
 * else in double quotes with '"' and '\' escaped. Writes into buf (always
 * terminated, truncated to size) and returns buf. */
const char *log_quote(char *buf, unsigned long size, const char *s);

/* As log_quote, but always in double quotes: for free text (an error's
 * message, which may quote a name itself), so the value reads alike
 * whatever it holds. */
const char *log_text(char *buf, unsigned long size, const char *s);

/* log_text into a buffer of the calling block (a compound literal), for
 * a log call's argument: log_warn("x", "msg=%s", LOG_TEXT(err.msg)).
 * Room for a whole cerr message with every byte escaped. */
#define LOG_TEXT_MAX 1040
#define LOG_TEXT(s) log_text((char[LOG_TEXT_MAX]){0}, LOG_TEXT_MAX, (s))

/* Lines of text (a reload's report) as one log value: each line break
 * becomes "; ", a last one is dropped (a log line is one line; a raw
 * break would show as '?'). Writes into buf, as log_quote. */
const char *log_one_line(char *buf, unsigned long size, const char *text);

#endif
