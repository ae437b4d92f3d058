/*
 * cmd_event: events. "event raise" runs on a target: it writes the event
 * into the target's outbox (the daemon's SQLite store, WAL mode, so a
 * second writer is fine) if it is at or above the target's
 * event_forward_level, then tells a running daemon to upload it now
 * through the target's control socket (POST /v1/local/upload), since
 * events go as they happen (PRODUCT.md section 3) and the daemon does
 * not watch its store for writes from outside. The socket keeps its own
 * rules (root and the daemon's user only); a daemon that is not running
 * uploads the record when it starts.
 * "event list" asks the master for the events targets forwarded.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/eventrec.h"
#include "common/paths.h"
#include "ctl/ctl.h"
#include "ctl/output.h"
#include "ctl/statedir.h"
#include "target/events.h"
#include "target/tstore.h"

#define MAX_WORDS 64
/* The nudge is a courtesy: a wedged daemon must not hold the command. */
#define EVENT_KICK_TIMEOUT_MS 5000L

/* The message: the words, joined by spaces (as logger(1) does). */
static int
join_words(
    const char *const *words, int n, char *out, size_t size, struct cerr *err)
{
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		int w = snprintf(
		    out + used, size - used, "%s%s", i ? " " : "", words[i]);

		if (w < 0 || (size_t)w >= size - used)
			return cerr_set(err, CERR_TOO_LARGE,
			    "MESSAGE: longer "
			    "than %d bytes",
			    EVENTREC_MESSAGE_MAX);
		used += (size_t)w;
	}
	if (used == 0)
		return cerr_set(err, CERR_INVALID, "MESSAGE: empty");
	return 0;
}

/* Writes ev into the outbox of the target whose state dir is dir. */
static int
queue_on_target(const char *dir, const struct eventrec *ev, int *queued,
    const struct conf **conf_out, struct cerr *err)
{
	static struct conf conf;
	char path[PATH_MAX], db[PATH_MAX], report[4096];
	struct tstore *s = NULL;
	int rc;

	if (statedir_path(dir, PATH_CONF, path, sizeof(path), err) < 0 ||
	    conf_load(&conf, path, NULL, 0, report, sizeof(report), err) < 0)
		return -1;
	if (conf.role != ROLE_TARGET)
		return cerr_set(err, CERR_INVALID,
		    "%s is not a target's "
		    "configuration",
		    path);
	*conf_out = &conf;
	if (!events_forwarded(&conf, ev)) {
		*queued = 0;
		return 0;
	}
	if (conf_state_path(&conf, PATH_TARGET_STORE, db, sizeof(db), err) <
		0 ||
	    tstore_open(db, &s, err) < 0)
		return -1;
	rc = events_queue(s, &conf, ev, queued, err);
	tstore_close(s);
	return rc;
}

/* Tells a running daemon to upload its outbox now. Not running (no
 * control socket) is no error: the record waits for it, as every record
 * does. Any other failure (no permission, a daemon that does not answer)
 * is a note, since the event is queued either way. */
static void
tell_daemon(const struct conf *conf)
{
	struct client c;
	struct cerr err;

	if (local_client_conf(conf, &c, &err) == 0) {
		if (access(c.unix_socket, F_OK) != 0 && errno == ENOENT)
			return;
		c.timeout_ms = EVENT_KICK_TIMEOUT_MS;
		if (client_call(
			&c, "POST", "/v1/local/upload", NULL, NULL, &err) == 0)
			return;
	}
	fprintf(stderr,
	    "cohortctl: note: the daemon was not told to upload the event "
	    "now (%s); it goes with the daemon's next upload\n",
	    err.msg);
}

/* --severity, named as cohortctl's option (the master would name its
 * query parameter). */
static int
severity_check(const char *severity, enum event_severity *sev, struct cerr *err)
{
	if (eventrec_severity_parse(severity, sev) == 0)
		return 0;
	return cerr_set(err, CERR_INVALID,
	    "--severity: '%.40s' is not one of info, warning, error, critical",
	    severity);
}

int
cmd_event_raise(struct ctl *ctl, int argc, char **argv)
{
	const char *dir = NULL, *severity = "warning", *words[MAX_WORDS];
	const struct ctl_opt opts[] = {CTL_VALUE("--state-dir", &dir),
	    CTL_VALUE("--severity", &severity), CTL_END};
	char message[EVENTREC_MESSAGE_MAX + 1];
	const struct conf *conf = NULL;
	enum event_severity sev;
	struct eventrec ev;
	struct cerr err;
	int npos, queued = 0;

	if (ctl_parse(argc, argv, opts, words, 1, MAX_WORDS, &npos, &err) < 0)
		return ctl_fail(&err);
	if (dir == NULL) {
		cerr_set(&err, CERR_INVALID, "event raise needs --state-dir");
		return ctl_fail(&err);
	}
	if (severity_check(severity, &sev, &err) < 0)
		return ctl_fail(&err);
	if (join_words(words, npos, message, sizeof(message), &err) < 0 ||
	    eventrec_init(&ev, sev, EVENT_USER, NULL, 0, message, &err) < 0 ||
	    queue_on_target(dir, &ev, &queued, &conf, &err) < 0)
		return ctl_fail(&err);
	if (queued) {
		printf(
		    "event %s queued for the master (%s)\n", ev.id, severity);
		fflush(stdout);
		tell_daemon(conf);
	} else
		printf("event not forwarded: %s is below this target's "
		       "event_forward_level (%s)\n",
		    severity,
		    eventrec_severity_name(
			(enum event_severity)conf->event_forward_level));
	return 0;
}

/* Appends "&name=value" (escaped) when value is set. */
static int
add_param(struct buf *q, const char *name, const char *value, struct cerr *err)
{
	char esc[1024];

	if (value == NULL)
		return 0;
	client_escape(value, esc, sizeof(esc));
	return buf_printf(q, err, "%c%s=%s", q->len ? '&' : '?', name, esc);
}

int
cmd_event_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct output_col cols[] = {
	    {"ID", "id", 0},
	    {"TIME", "time", 0},
	    {"TARGET", "target", 0},
	    {"SEVERITY", "severity", 0},
	    {"KIND", "kind", 0},
	    {"JOB", "job", 24},
	    {"MESSAGE", "message", 60},
	};
	const char *target = NULL, *severity = NULL, *limit = NULL;
	int json = 0, npos;
	const struct ctl_opt opts[] = {CTL_VALUE("--target", &target),
	    CTL_VALUE("--severity", &severity), CTL_VALUE("--limit", &limit),
	    CTL_FLAG("--json", &json), CTL_END};
	enum event_severity sev;
	char path[2048];
	struct client *c;
	json_t *out = NULL;
	long long n;
	struct buf q;
	struct cerr err;

	buf_init(&q, 1024);
	if (ctl_parse(argc, argv, opts, NULL, 0, 0, &npos, &err) < 0 ||
	    (limit != NULL &&
		ctl_int(limit, "--limit", 1, 100000, &n, &err) < 0) ||
	    (severity != NULL && severity_check(severity, &sev, &err) < 0) ||
	    add_param(&q, "target", target, &err) < 0 ||
	    add_param(&q, "severity", severity, &err) < 0 ||
	    add_param(&q, "limit", limit, &err) < 0) {
		buf_cleanup(&q);
		return ctl_fail(&err);
	}
	snprintf(path, sizeof(path), "/v1/events%s", buf_str(&q));
	buf_cleanup(&q);
	if (ctl_client(ctl, &c, &err) < 0 ||
	    client_call(c, "GET", path, NULL, &out, &err) < 0)
		return ctl_fail(&err);
	if (json)
		output_json(stdout, out);
	else
		output_table(stdout, cols, sizeof(cols) / sizeof(cols[0]), out);
	json_decref(out);
	return 0;
}
