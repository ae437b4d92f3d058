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

struct conf_proxy {
	char name[NAME_MAX_LEN + 1];
	char user[NAME_MAX_LEN + 1];
	char group[NAME_MAX_LEN + 1];	/* "" = the user's primary group */
};

struct conf {
	/* both roles */
	int role;			/* enum conf_role */
	char state_dir[CONF_STR_MAX];
	char log_level[16];
	int log_syslog;
	int tls;			/* enum conf_tls */

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
	/* master, high availability (docs/ha.md) */
	int64_t lease_ttl_s;
	int64_t lease_renew_ms;
	char advertise_url[CONF_STR_MAX];

	/* target */
	char name[NAME_MAX_LEN + 1];
	char master[CONF_STR_MAX];	/* one or more URLs, space separated */
	int64_t poll_interval_s;
	int64_t outbox_max_items;
	int64_t max_output_bytes;
	char socket[CONF_STR_MAX];
	struct conf_proxy proxies[CONF_PROXY_MAX];
	int proxy_count;

	/* the file the configuration came from, for relative paths */
	char path[CONF_STR_MAX];
};

enum conf_type { CONF_T_STRING, CONF_T_INT, CONF_T_BOOL, CONF_T_ENUM };

struct conf_key {
	const char *name;
	enum conf_type type;
	const char *default_value;	/* parsed like a config line */
	int64_t min, max;		/* CONF_T_INT bounds */
	const char *const *choices;	/* CONF_T_ENUM values, NULL-ended */
	int enum_first;			/* CONF_T_ENUM: value of choices[0] */
	const char *doc;
	size_t offset;			/* into struct conf */
	size_t size;			/* of the field, for strings */
};

/* The key table, ended by a zero entry. */
extern const struct conf_key conf_keys[];

/* Fills c with every default. */
void conf_defaults(struct conf *c);

/* Sets one key from its text form; fails with a message naming the key. */
int conf_set(struct conf *c, const char *key, const char *value,
    struct cerr *err);

/* Defaults, then the file, then each "--key=value" in flags (may be
 * NULL). Every problem is reported in report ("file:line: key: message"
 * lines); then checks what the role requires. */
int conf_load(struct conf *c, const char *path, char *const *flags,
    int nflags, char *report, unsigned long report_size, struct cerr *err);

/* Checks cross-key rules (role set, role's required keys). */
int conf_validate(const struct conf *c, struct cerr *err);

/* Resolves p against the state dir when relative; out has size out_size. */
int conf_state_path(const struct conf *c, const char *p, char *out,
    unsigned long out_size, struct cerr *err);

/* The proxy of that name, or NULL. */
const struct conf_proxy *conf_proxy_find(const struct conf *c,
    const char *name);

#endif
