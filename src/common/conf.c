/*
 * conf: loading and checking the daemon configuration against the key
 * table in conf_keys.c (see conf.h).
 */
#include "common/conf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ini.h"
#include "common/log.h"

static const struct conf_key *
key_find(const char *name)
{
	for (const struct conf_key *k = conf_keys; k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

static int
parse_bool(const char *v, int *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1", NULL};
	static const char *const no[] = {"no", "false", "off", "0", NULL};

	for (int i = 0; yes[i] != NULL; i++) {
		if (strcmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int
set_int(const struct conf_key *k, void *field, const char *v, struct cerr *err)
{
	char *end = NULL;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0)
		return cerr_set(
		    err, CERR_INVALID, "%s: '%s' is not a number", k->name, v);
	if (n < k->min || n > k->max)
		return cerr_set(err, CERR_INVALID,
		    "%s: %lld is out of range %" PRId64 "..%" PRId64, k->name,
		    n, k->min, k->max);
	*(int64_t *)field = n;
	return 0;
}

static int
set_enum(const struct conf_key *k, void *field, const char *v, struct cerr *err)
{
	for (int i = 0; k->choices[i] != NULL; i++) {
		if (strcmp(k->choices[i], v) == 0) {
			*(int *)field = k->enum_first + i;
			return 0;
		}
	}
	return cerr_set(err, CERR_INVALID, "%s: '%s' is not one of the choices",
	    k->name, v);
}

/* "proxy NAME = user[:group]": the one key family with a name inside. */
static int
set_proxy(struct conf *c, const char *key, const char *v, struct cerr *err)
{
	struct conf_proxy *p;
	const char *name = key + strlen("proxy");
	const char *colon;

	while (*name == ' ' || *name == '\t')
		name++;
	if (*name == '\0' || strlen(name) > NAME_MAX_LEN ||
	    strpbrk(name, " \t") != NULL)
		return cerr_set(err, CERR_INVALID,
		    "proxy: expected 'proxy NAME = user[:group]'");
	if (conf_proxy_find(c, name) != NULL)
		return cerr_set(
		    err, CERR_INVALID, "proxy %s: defined twice", name);
	if (c->proxy_count >= CONF_PROXY_MAX)
		return cerr_set(err, CERR_INVALID,
		    "proxy %s: more than %d proxies", name, CONF_PROXY_MAX);
	colon = strchr(v, ':');
	if (*v == '\0' || colon == v ||
	    (colon ? (size_t)(colon - v) : strlen(v)) > NAME_MAX_LEN ||
	    (colon && (colon[1] == '\0' || strlen(colon + 1) > NAME_MAX_LEN)))
		return cerr_set(
		    err, CERR_INVALID, "proxy %s: expected user[:group]", name);
	p = &c->proxies[c->proxy_count++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->user, sizeof(p->user), "%.*s",
	    (int)(colon ? (size_t)(colon - v) : strlen(v)), v);
	if (colon)
		snprintf(p->group, sizeof(p->group), "%s", colon + 1);
	return 0;
}

/* "map NAME = ROLE": a certificate name from the external CA and the
 * role it has (security). */
static int
set_map(struct conf *c, const char *key, const char *v, struct cerr *err)
{
	static const char *const roles[] = {
	    "admin", "operator", "viewer", "target", NULL};
	const char *name = key + strlen("map");
	struct conf_map *m;
	int ok = 0;

	while (*name == ' ' || *name == '\t')
		name++;
	if (*name == '\0' || strlen(name) > CONF_MAP_NAME_MAX ||
	    strpbrk(name, " \t") != NULL)
		return cerr_set(err, CERR_INVALID,
		    "map: expected 'map NAME = admin|operator|viewer|target'");
	for (int i = 0; roles[i] != NULL; i++)
		ok |= strcmp(v, roles[i]) == 0;
	if (!ok)
		return cerr_set(err, CERR_INVALID,
		    "map %s: '%s' is not admin, "
		    "operator, viewer or target",
		    name, v);
	if (conf_map_find(c, name) != NULL)
		return cerr_set(
		    err, CERR_INVALID, "map %s: defined twice", name);
	if (c->map_count >= CONF_MAP_MAX)
		return cerr_set(err, CERR_INVALID, "map %s: more than %d maps",
		    name, CONF_MAP_MAX);
	m = &c->maps[c->map_count++];
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->role, sizeof(m->role), "%s", v);
	return 0;
}

const struct conf_map *
conf_map_find(const struct conf *c, const char *name)
{
	for (int i = 0; i < c->map_count; i++)
		if (strcmp(c->maps[i].name, name) == 0)
			return &c->maps[i];
	return NULL;
}

int
conf_set(struct conf *c, const char *key, const char *value, struct cerr *err)
{
	const struct conf_key *k;
	void *field;
	int b;

	if (strncmp(key, "proxy", 5) == 0 && (key[5] == ' ' || key[5] == '\t'))
		return set_proxy(c, key, value, err);
	if (strncmp(key, "map", 3) == 0 && (key[3] == ' ' || key[3] == '\t'))
		return set_map(c, key, value, err);
	k = key_find(key);
	if (k == NULL)
		return cerr_set(err, CERR_INVALID, "%s: unknown key", key);
	field = (char *)c + k->offset;
	switch (k->type) {
	case CONF_T_STRING:
		if (strlen(value) >= k->size)
			return cerr_set(err, CERR_INVALID,
			    "%s: longer than %zu characters", k->name,
			    k->size - 1);
		memcpy(field, value, strlen(value) + 1);
		return 0;
	case CONF_T_INT:
		return set_int(k, field, value, err);
	case CONF_T_BOOL:
		if (parse_bool(value, &b) < 0)
			return cerr_set(err, CERR_INVALID,
			    "%s: '%s' is not yes or no", k->name, value);
		*(int *)field = b;
		return 0;
	case CONF_T_ENUM:
		return set_enum(k, field, value, err);
	}
	return cerr_set(err, CERR_INTERNAL, "%s: bad key type", k->name);
}

void
conf_defaults(struct conf *c)
{
	struct cerr err;

	memset(c, 0, sizeof(*c));
	for (const struct conf_key *k = conf_keys; k->name != NULL; k++)
		if (k->default_value != NULL &&
		    conf_set(c, k->name, k->default_value, &err) < 0)
			abort(); /* the table itself is wrong */
}

static int
conf_file_cb(void *arg, const char *key, const char *value, struct cerr *err)
{
	return conf_set(arg, key, value, err);
}

/* Where the checks after parsing put their problems: into report as
 * "file:line: key: message" (the line that sets key, when one does),
 * except for a key whose line had a problem already; the first into
 * *err. */
struct conf_check {
	const struct conf *c;
	char *report; /* may be NULL */
	unsigned long report_size;
	struct cerr *err;
	int bad;
};

/* Whether a "--key=value" flag sets key (the flags win over the file). */
static int
conf_flag_sets(const struct conf *c, const char *key)
{
	size_t n = strlen(key);

	for (int i = 0; i < c->nflags; i++) {
		const char *f = c->flags[i];

		f += strncmp(f, "--", 2) == 0 ? 2 : 0;
		if (strncmp(f, key, n) == 0 &&
		    (f[n] == '=' || f[n] == ' ' || f[n] == '\t'))
			return 1;
	}
	return 0;
}

static void conf_problem(struct conf_check *chk, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
conf_problem(struct conf_check *chk, const char *key, const char *fmt, ...)
{
	char msg[CERR_MSG_MAX], seen[80];
	size_t used;
	int line;
	va_list ap;

	snprintf(seen, sizeof(seen), ": %s: ", key);
	if (chk->report != NULL && strstr(chk->report, seen) != NULL)
		return; /* its line's own problem says enough */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (chk->bad++ == 0)
		cerr_set(chk->err, CERR_INVALID, "%s: %s", key, msg);
	if (chk->report == NULL)
		return;
	used = strlen(chk->report);
	line = chk->c->path[0] != '\0' ? ini_key_line(chk->c->path, key) : 0;
	if (used + 1 >= chk->report_size)
		return;
	if (conf_flag_sets(chk->c, key))
		snprintf(chk->report + used, chk->report_size - used,
		    "command line: %s: %s\n", key, msg);
	else if (line > 0)
		snprintf(chk->report + used, chk->report_size - used,
		    "%s:%d: %s: %s\n", chk->c->path, line, key, msg);
	else
		snprintf(chk->report + used, chk->report_size - used,
		    "%s: %s: %s\n",
		    chk->c->path[0] != '\0' ? chk->c->path : "-", key, msg);
}

/* Every cross-key rule (role set, the role's required keys, values
 * checked only once all are read); 0, or -1 with each problem told. */
static int
conf_check_all(struct conf_check *chk)
{
	const struct conf *c = chk->c;
	enum log_level level;

	if (c->role == ROLE_NONE)
		conf_problem(chk, "role", "not set (master or target)");
	if (c->state_dir[0] == '\0')
		conf_problem(chk, "state_dir", "not set");
	if (log_level_parse(c->log_level, &level) < 0)
		conf_problem(chk, "log_level",
		    "'%s' is not debug, info, warn or error", c->log_level);
	if (c->role == ROLE_TARGET && c->name[0] == '\0')
		conf_problem(chk, "name", "not set (role = target)");
	if (c->role == ROLE_TARGET && c->master[0] == '\0')
		conf_problem(chk, "master", "not set (role = target)");
	if (c->role == ROLE_MASTER && c->listen[0] == '\0')
		conf_problem(chk, "listen", "not set (role = master)");
	if (c->lease_renew_ms >= c->lease_ttl_s * 1000)
		conf_problem(chk, "lease_renew_ms",
		    "%lld is not less than lease_ttl_s (%lld s)",
		    (long long)c->lease_renew_ms, (long long)c->lease_ttl_s);
	if (c->advertise_url[0] != '\0' &&
	    strncmp(c->advertise_url, "https://", 8) != 0)
		conf_problem(chk, "advertise_url",
		    "'%s' is not an https:// URL", c->advertise_url);
	return chk->bad > 0 ? -1 : 0;
}

int
conf_validate(const struct conf *c, struct cerr *err)
{
	struct conf_check chk = {c, NULL, 0, err, 0};

	return conf_check_all(&chk);
}

int
conf_load(struct conf *c, const char *path, char *const *flags, int nflags,
    char *report, unsigned long report_size, struct cerr *err)
{
	struct conf_check chk = {c, report, report_size, NULL, 0};
	struct cerr check_err;
	int bad = 0;

	conf_defaults(c);
	if (strlen(path) >= sizeof(c->path))
		return cerr_set(err, CERR_INVALID, "config path too long");
	strcpy(c->path, path);
	c->flags = flags;
	c->nflags = nflags;
	if (ini_parse_file(path, conf_file_cb, c, report, report_size, err) < 0)
		bad = 1;
	for (int i = 0; i < nflags; i++) {
		struct cerr ferr;
		const char *f = flags[i];
		size_t used = strlen(report);

		if (strncmp(f, "--", 2) == 0)
			f += 2;
		if (ini_parse_line(f, conf_file_cb, c, &ferr) == 0)
			continue;
		if (used + 1 < report_size)
			snprintf(report + used, report_size - used,
			    "command line: %s\n", ferr.msg);
		if (!bad++)
			cerr_set(err, ferr.code, "command line: %s", ferr.msg);
	}
	/* An unreadable file: nothing more to say about its keys. */
	if (bad && err->code == CERR_IO)
		return -1;
	chk.err = bad ? &check_err : err;
	if (conf_check_all(&chk) < 0 || bad)
		return -1;
	return 0;
}

int
conf_state_path(const struct conf *c, const char *p, char *out,
    unsigned long out_size, struct cerr *err)
{
	int n;

	if (p[0] == '/')
		n = snprintf(out, out_size, "%s", p);
	else
		n = snprintf(out, out_size, "%s/%s", c->state_dir, p);
	if (n < 0 || (unsigned long)n >= out_size)
		return cerr_set(err, CERR_INVALID, "path too long: %s", p);
	return 0;
}

const struct conf_proxy *
conf_proxy_find(const struct conf *c, const char *name)
{
	for (int i = 0; i < c->proxy_count; i++)
		if (strcmp(c->proxies[i].name, name) == 0)
			return &c->proxies[i];
	return NULL;
}

/* What a SIGHUP may change without a restart. Everything that names a
 * socket, a file, an identity or the role stays as the daemon started:
 * changing those under open connections and stores would be a restart
 * in disguise. */
static const char *const live_keys[] = {"log_level", "log_syslog",
    "max_body_bytes", "max_json_depth", "longpoll_max_s", "token_ttl_s",
    "cert_days", "request_timeout_s", "downloadlist_keep_applied",
    "history_max_rows", "history_max_rows_per_job", "poll_interval_s",
    "outbox_max_items", "outbox_max_bytes", "max_output_bytes", NULL};

int
conf_key_is_live(const char *key)
{
	for (int i = 0; live_keys[i] != NULL; i++)
		if (strcmp(live_keys[i], key) == 0)
			return 1;
	return 0;
}

static size_t
key_size(const struct conf_key *k)
{
	switch (k->type) {
	case CONF_T_STRING:
		return k->size;
	case CONF_T_INT:
		return sizeof(int64_t);
	default:
		return sizeof(int);
	}
}

static void
report_line(char *report, unsigned long size, const char *key, const char *what)
{
	size_t used = strlen(report);

	if (used + 1 < size)
		snprintf(report + used, size - used, "%s: %s\n", key, what);
}

/* Copies the live keys that differ; names the others in report. */
static int
reload_keys(struct conf *live, const struct conf *fresh, char *report,
    unsigned long report_size)
{
	int applied = 0;

	for (const struct conf_key *k = conf_keys; k->name != NULL; k++) {
		char *dst = (char *)live + k->offset;
		const char *src = (const char *)fresh + k->offset;
		size_t n = key_size(k);

		if (k->type == CONF_T_STRING ? strcmp(dst, src) == 0
					     : memcmp(dst, src, n) == 0)
			continue;
		if (!conf_key_is_live(k->name)) {
			report_line(report, report_size, k->name,
			    "changed; "
			    "takes effect at the next start");
			continue;
		}
		memcpy(dst, src, n);
		applied++;
	}
	/* Proxies are looked up at each step start: live too. */
	if (live->proxy_count != fresh->proxy_count ||
	    memcmp(live->proxies, fresh->proxies, sizeof(live->proxies)) != 0) {
		memcpy(live->proxies, fresh->proxies, sizeof(live->proxies));
		live->proxy_count = fresh->proxy_count;
		applied++;
	}
	return applied;
}

int
conf_reload(struct conf *live, char *report, unsigned long report_size,
    int *applied_out, struct cerr *err)
{
	struct conf *fresh = calloc(1, sizeof(*fresh));
	int rc = -1;

	*applied_out = 0;
	if (report_size > 0)
		report[0] = '\0';
	if (fresh == NULL)
		return cerr_set(err, CERR_INTERNAL, "reload: out of memory");
	if (conf_load(fresh, live->path, live->flags, live->nflags, report,
		report_size, err) < 0)
		goto out;
	if (fresh->role != live->role) {
		cerr_set(err, CERR_INVALID,
		    "role: changed; a daemon cannot "
		    "change its role without a restart");
		snprintf(report, report_size, "%s: %s\n", live->path, err->msg);
		goto out;
	}
	*applied_out = reload_keys(live, fresh, report, report_size);
	rc = 0;
out:
	free(fresh);
	return rc;
}
