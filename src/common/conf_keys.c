/*
 * conf_keys: the table of every configuration key. Adding a key means one
 * line here, a field in struct conf, and a paragraph in cohortd.conf.5 (a
 * unit test fails until the man page has it).
 */
#include "common/conf.h"

#include <stddef.h>

static const char *const role_choices[] = {"master", "target", NULL};
static const char *const tls_choices[] = {"verify", "encrypt-only", NULL};
/* The order of enum event_severity (eventrec.h). */
static const char *const severity_choices[] = {
    "info", "warning", "error", "critical", NULL};

#define STR(field, def, doc)                                                   \
	{                                                                      \
#field, CONF_T_STRING, def, 0, 0, NULL, 0, doc,                \
		    offsetof(struct conf, field),                              \
		    sizeof(((struct conf *)0)->field)                          \
	}
#define INT(field, def, lo, hi, doc)                                           \
	{                                                                      \
#field, CONF_T_INT, def, lo, hi, NULL, 0, doc,                 \
		    offsetof(struct conf, field), sizeof(int64_t)              \
	}
#define BOOL(field, def, doc)                                                  \
	{                                                                      \
#field, CONF_T_BOOL, def, 0, 1, NULL, 0, doc,                  \
		    offsetof(struct conf, field), sizeof(int)                  \
	}
#define ENUM(field, def, choices, first, doc)                                  \
	{                                                                      \
#field, CONF_T_ENUM, def, 0, 0, choices, first, doc,           \
		    offsetof(struct conf, field), sizeof(int)                  \
	}

const struct conf_key conf_keys[] = {
    ENUM(role, NULL, role_choices, ROLE_MASTER, "master or target"),
    STR(state_dir, "", "folder with the store, keys and certificates"),
    STR(log_level, "info", "debug, info, warn or error"),
    BOOL(log_syslog, "no", "log to syslog instead of stderr"),
    ENUM(tls, "verify", tls_choices, TLS_VERIFY,
	"verify: check the master's certificate and name; encrypt-only: "
	"do not (logged as a warning at every start)"),

    STR(listen, "127.0.0.1:8443",
	"master: HOST:PORT to serve HTTPS on; "
	"port 0 picks a free port and writes it to STATE_DIR/port"),
    STR(store, "cohort.db",
	"master: SQLite file (relative to state_dir) "
	"or postgresql:// URL"),
    INT(max_body_bytes, "1048576", 1024, 67108864,
	"master: largest request body accepted"),
    INT(max_json_depth, "32", 4, 1024, "master: deepest JSON nesting accepted"),
    INT(longpoll_max_s, "50", 1, 300,
	"master: longest time a poll is held open waiting for instructions"),
    INT(token_ttl_s, "3600", 10, 604800,
	"master: default lifetime of an enlistment token"),
    INT(cert_days, "365", 1, 3650, "master: validity of issued certificates"),
    INT(request_timeout_s, "30", 1, 3600,
	"master: time a client may take to send a request"),
    INT(downloadlist_keep_applied, "100", 0, 1000000,
	"master: applied instructions kept per target"),
    INT(history_max_rows, "1000", 10, 100000000,
	"history rows kept in all (master: rows; target: runs in its "
	"local history)"),
    INT(history_max_rows_per_job, "100", 1, 100000000,
	"job runs kept per job unless the job sets history_max_rows"),
    INT(events_max_rows, "10000", 10, 100000000,
	"master: forwarded events kept"),
    INT(notifications_max_rows, "10000", 10, 100000000,
	"master: delivered or failed notifications kept"),
    INT(notify_retry_base_s, "5", 1, 3600,
	"master: wait before a failed notification is tried again; "
	"doubles after each attempt"),
    INT(notify_retry_max_s, "3600", 1, 86400,
	"master: longest wait between attempts of a notification"),
    INT(notify_max_attempts, "10", 1, 1000,
	"master: attempts before a notification is recorded failed"),
    INT(notify_timeout_s, "30", 1, 3600,
	"master: time a webhook, e-mail or command may take per attempt"),
    STR(sendmail, "/usr/sbin/sendmail",
	"master: the program e-mail "
	"operators use (run as PROGRAM -t, the message on stdin)"),
    INT(lease_ttl_s, "3", 1, 600,
	"master (PostgreSQL store): how long the active master's lease "
	"lasts unless renewed; a standby takes over after it runs out"),
    INT(lease_renew_ms, "1000", 100, 60000,
	"master: how often the active master renews its lease and a "
	"standby checks it (less than lease_ttl_s)"),
    STR(advertise_url, "",
	"master: the https:// URL targets and "
	"clients reach this master by, named to them by a standby; "
	"default https://HOST:PORT of listen"),

    INT(worker_lease_s, "30", 2, 3600,
	"master: a scale-out worker that has neither held a poll nor "
	"polled for this long loses its executions (retried or failed)"),

    STR(name, "", "target: this target's name (fixed by its certificate)"),
    STR(master, "", "target: master URL(s), space separated"),
    INT(poll_interval_s, "60", 1, 28800,
	"target: longest wait before asking the master again"),
    INT(outbox_max_items, "10000", 10, 10000000,
	"target: outcomes and events held while the master is away"),
    INT(outbox_max_bytes, "268435456", 1048576, 1099511627776LL,
	"target: bytes of those records in all; over it the oldest "
	"records lose their outputs first, then go whole"),
    INT(max_output_bytes, "1048576", 0, 67108864,
	"target: default limit of captured output per step"),
    STR(socket, "cohortd.sock",
	"target: local control socket "
	"(relative to state_dir)"),
    BOOL(worker, "no",
	"target: a scale-out worker, taking single executions "
	"(cohortctl exec submit) once an administrator enables it"),
    INT(max_tasks, "10", 1, 10000,
	"target (worker): executions it runs at once"),
    INT(misfire_grace_s, "60", 0, 86400,
	"target: a due instant found "
	"at most this late still runs as scheduled; a later one follows "
	"the job's misfire policy"),

    /* security */
    INT(header_timeout_s, "10", 1, 300,
	"master: time a client may take "
	"from connecting (or from the first byte of a request) to the end "
	"of the request's headers; slower clients get 408 timeout"),
    INT(rate_limit_per_s, "50", 0, 1000000,
	"master: requests per second "
	"allowed per client certificate (anonymous calls: per address); "
	"0 turns the limit off"),
    INT(rate_limit_burst, "200", 1, 10000000,
	"master: requests a client "
	"may make at once above rate_limit_per_s"),
    INT(audit_max_rows, "100000", 100, 100000000,
	"master: audit log entries kept"),
    STR(client_ca, "",
	"master: a PEM bundle of an external CA whose "
	"client certificates are trusted too; their roles come from "
	"'map NAME = ROLE' lines"),
    INT(cert_renew_before_s, "2592000", 0, 315360000,
	"target: renew the "
	"certificate when less than this is left of it (0: never)"),
    STR(user, "",
	"target: started as root, the network side drops to this "
	"user; steps still run as their proxy users"),
    ENUM(event_forward_level, "warning", severity_choices, 0,
	"target: events at or above this severity (info, warning, error, "
	"critical) are forwarded to the master"),
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, 0},
};
