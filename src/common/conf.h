/*
 * conf: the daemon's configuration. Every key is declared once, in the
 * table in conf_keys.c (name, type, default, bounds, doc line); the INI file
 * and --key=value flags both go through it, so they cannot drift apart, and
 * a test checks that every key is documented in cohortd.conf(5).
 */
#ifndef COHORT_CONF_H
#define COHORT_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "common/cerr.h"

#define CONF_STR_MAX 1024
#define CONF_PROXY_MAX 32
#define NAME_MAX_LEN 64

enum conf_role { ROLE_NONE, ROLE_MASTER, ROLE_TARGET };
enum conf_tls { TLS_VERIFY, TLS_ENCRYPT_ONLY };

/* "map NAME = ROLE": the role a certificate from the external CA
 * (client_ca) named NAME has. */
#define CONF_MAP_MAX 128
#define CONF_MAP_NAME_MAX 128

struct conf_map {
	char name[CONF_MAP_NAME_MAX + 1];
	char role[16]; /* admin, operator, viewer, target */
};

struct conf_proxy {
	char name[NAME_MAX_LEN + 1];
	char user[NAME_MAX_LEN + 1];
	char group[NAME_MAX_LEN + 1]; /* "" = the user's primary group */
};

struct conf {
	/* both roles */
	int role; /* enum conf_role */
	char state_dir[CONF_STR_MAX];
	char log_level[16];
	int log_syslog;
	int tls; /* enum conf_tls */

	/* master */
	char listen[CONF_STR_MAX];
	char store[CONF_STR_MAX];
	int64_t max_body_bytes;
	int64_t max_json_depth;
	int64_t longpoll_max_s;
	int64_t token_ttl_s;
	int64_t cert_days;
	int64_t request_timeout_s;
	int64_t downloadlist_keep_applied;
	int64_t history_max_rows;
	int64_t history_max_rows_per_job;
	/* master: events and notifications */
	int64_t events_max_rows;
	int64_t notifications_max_rows;
	int64_t notify_retry_base_s;
	int64_t notify_retry_max_s;
	int64_t notify_max_attempts;
	int64_t notify_timeout_s;
	char sendmail[CONF_STR_MAX];
	/* master, high availability (docs/ha.md) */
	int64_t lease_ttl_s;
	int64_t lease_renew_ms;
	char advertise_url[CONF_STR_MAX];
	/* master, scale-out (scaleout.h) */
	int64_t worker_lease_s;

	/* target */
	char name[NAME_MAX_LEN + 1];
	char master[CONF_STR_MAX]; /* one or more URLs, space separated */
	int64_t poll_interval_s;
	int64_t outbox_max_items;
	int64_t outbox_max_bytes; /* of the outbox's record bodies */
	int64_t max_output_bytes;
	char socket[CONF_STR_MAX];
	int64_t misfire_grace_s;
	int worker; /* a scale-out worker */
	int64_t max_tasks;
	struct conf_proxy proxies[CONF_PROXY_MAX];
	int proxy_count;
	int event_forward_level; /* enum event_severity */

	/* security (master): slow clients, request rates, the audit log,
	 * an external CA for client certificates and its name mapping */
	int64_t header_timeout_s;
	int64_t rate_limit_per_s;
	int64_t rate_limit_burst;
	int64_t audit_max_rows;
	char client_ca[CONF_STR_MAX];
	struct conf_map maps[CONF_MAP_MAX];
	int map_count;
	/* security (target): certificate renewal, the unprivileged user */
	int64_t cert_renew_before_s;
	char user[NAME_MAX_LEN + 1];

	/* the file the configuration came from, for relative paths */
	char path[CONF_STR_MAX];
	/* the --key=value flags it was loaded with (borrowed from argv, which
	 * outlives the daemon), so a reload applies them again */
	char *const *flags;
	int nflags;
};

enum conf_type { CONF_T_STRING, CONF_T_INT, CONF_T_BOOL, CONF_T_ENUM };

struct conf_key {
	const char *name;
	enum conf_type type;
	const char *default_value; /* parsed like a config line */
	int64_t min, max; /* CONF_T_INT bounds */
	const char *const *choices; /* CONF_T_ENUM values, NULL-ended */
	int enum_first; /* CONF_T_ENUM: value of choices[0] */
	const char *doc;
	size_t offset; /* into struct conf */
	size_t size; /* of the field, for strings */
};

/* The key table, ended by a zero entry. */
extern const struct conf_key conf_keys[];

/* Fills c with every default. */
void conf_defaults(struct conf *c);

/* Sets one key from its text form; fails with a message naming the key. */
int conf_set(
    struct conf *c, const char *key, const char *value, struct cerr *err);

/* Defaults, then the file, then each "--key=value" in flags (may be
 * NULL). Every problem is reported in report ("file:line: key: message"
 * lines); then checks what the role requires. */
int conf_load(struct conf *c, const char *path, char *const *flags, int nflags,
    char *report, unsigned long report_size, struct cerr *err);

/* Checks cross-key rules (role set, role's required keys). */
int conf_validate(const struct conf *c, struct cerr *err);

/* Resolves p against the state dir when relative; out has size out_size. */
int conf_state_path(const struct conf *c, const char *p, char *out,
    unsigned long out_size, struct cerr *err);

/* The mapping for a certificate name from the external CA, or NULL. */
const struct conf_map *conf_map_find(const struct conf *c, const char *name);

/* The proxy of that name, or NULL. */
const struct conf_proxy *conf_proxy_find(
    const struct conf *c, const char *name);

/* ---- reloading (SIGHUP) ----
 * Reads the file (and the flags of the first load) again into a new
 * configuration. Keys that a running daemon takes over live (conf.c names
 * them: log level, limits, retention, the target's poll interval default,
 * outbox bound, output limit and proxies) are copied into *live; any
 * other key whose value changed is named in report ("key: changed; takes
 * effect at the next start") and keeps its running value. A file with
 * errors changes nothing: -1, every problem in report. *applied_out counts
 * the keys copied. */
int conf_reload(struct conf *live, char *report, unsigned long report_size,
    int *applied_out, struct cerr *err);
/* 1 when a running daemon takes over a new value of key on reload. */
int conf_key_is_live(const char *key);

#endif
