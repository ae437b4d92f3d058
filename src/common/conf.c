/*
 * conf: loading and checking the daemon configuration against the key
 * table in conf_keys.c (see conf.h).
 */
#include "common/conf.h"

#include <errno.h>
#include <inttypes.h>
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
set_int(const struct conf_key *k, void *field, const char *v,
    struct cerr *err)
{
	char *end = NULL;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0)
		return cerr_set(err, CERR_INVALID, "%s: '%s' is not a number",
		    k->name, v);
	if (n < k->min || n > k->max)
		return cerr_set(err, CERR_INVALID,
		    "%s: %lld is out of range %" PRId64 "..%" PRId64, k->name,
		    n, k->min, k->max);
	*(int64_t *)field = n;
	return 0;
}

static int
set_enum(const struct conf_key *k, void *field, const char *v,
    struct cerr *err)
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
		return cerr_set(err, CERR_INVALID, "proxy %s: defined twice",
		    name);
	if (c->proxy_count >= CONF_PROXY_MAX)
		return cerr_set(err, CERR_INVALID, "proxy %s: more than %d proxies",
		    name, CONF_PROXY_MAX);
	colon = strchr(v, ':');
	if (*v == '\0' || colon == v ||
	    (colon ? (size_t)(colon - v) : strlen(v)) > NAME_MAX_LEN ||
	    (colon && (colon[1] == '\0' || strlen(colon + 1) > NAME_MAX_LEN)))
		return cerr_set(err, CERR_INVALID, "proxy %s: expected user[:group]",
		    name);
	p = &c->proxies[c->proxy_count++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->user, sizeof(p->user), "%.*s",
	    (int)(colon ? (size_t)(colon - v) : strlen(v)), v);
	if (colon)
		snprintf(p->group, sizeof(p->group), "%s", colon + 1);
	return 0;
}

int
conf_set(struct conf *c, const char *key, const char *value, struct cerr *err)
{
	const struct conf_key *k;
	void *field;
	int b;

	if (strncmp(key, "proxy", 5) == 0 && (key[5] == ' ' || key[5] == '\t'))
		return set_proxy(c, key, value, err);
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

int
conf_validate(const struct conf *c, struct cerr *err)
{
	enum log_level level;

	if (c->role == ROLE_NONE)
		return cerr_set(err, CERR_INVALID, "role: not set (master or target)");
	if (c->state_dir[0] == '\0')
		return cerr_set(err, CERR_INVALID, "state_dir: not set");
	if (log_level_parse(c->log_level, &level) < 0)
		return cerr_set(err, CERR_INVALID,
		    "log_level: '%s' is not debug, info, warn or error",
		    c->log_level);
	if (c->role == ROLE_TARGET && c->name[0] == '\0')
		return cerr_set(err, CERR_INVALID, "name: not set (role = target)");
	if (c->role == ROLE_TARGET && c->master[0] == '\0')
		return cerr_set(err, CERR_INVALID, "master: not set (role = target)");
	if (c->role == ROLE_MASTER && c->listen[0] == '\0')
		return cerr_set(err, CERR_INVALID, "listen: not set (role = master)");
	if (c->lease_renew_ms >= c->lease_ttl_s * 1000)
		return cerr_set(err, CERR_INVALID, "lease_renew_ms: %lld is not "
		    "less than lease_ttl_s (%lld s)", (long long)c->lease_renew_ms,
		    (long long)c->lease_ttl_s);
	if (c->advertise_url[0] != '\0' &&
	    strncmp(c->advertise_url, "https://", 8) != 0)
		return cerr_set(err, CERR_INVALID, "advertise_url: '%s' is not "
		    "an https:// URL", c->advertise_url);
	return 0;
}

int
conf_load(struct conf *c, const char *path, char *const *flags, int nflags,
    char *report, unsigned long report_size, struct cerr *err)
{
	int bad = 0;

	conf_defaults(c);
	if (strlen(path) >= sizeof(c->path))
		return cerr_set(err, CERR_INVALID, "config path too long");
	strcpy(c->path, path);
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
	if (bad)
		return -1;
	if (conf_validate(c, err) < 0) {
		snprintf(report, report_size, "%s: %s\n", path, err->msg);
		return -1;
	}
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
