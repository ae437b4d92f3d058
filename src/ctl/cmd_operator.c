/*
 * cmd_operator: operators (create, list, delete, default) and the record
 * of notification deliveries. An operator is a webhook URL, an e-mail
 * address (through the master's sendmail), a command (run by /bin/sh on
 * the master), or the master's log.
 */
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "ctl/ctl.h"
#include "ctl/output.h"

static void
operator_path(const char *name, const char *suffix, char *out, size_t size)
{
	char esc[400];

	client_escape(name, esc, sizeof(esc));
	snprintf(out, size, "/v1/operators/%s%s", esc, suffix);
}

/* The kind and address from exactly one of the kind options. */
static int
pick_kind(const char *webhook, const char *email, const char *command, int log,
    const char **kind, const char **address, struct cerr *err)
{
	int n = (webhook != NULL) + (email != NULL) + (command != NULL) + log;

	if (n != 1)
		return cerr_set(err, CERR_INVALID,
		    "operator create needs "
		    "exactly one of --webhook URL, --email ADDRESS, --command "
		    "CMD, --log");
	*kind = webhook ? "webhook"
	    : email     ? "email"
	    : command   ? "command"
			: "log";
	*address = webhook ? webhook : email ? email : command ? command : "";
	return 0;
}

int
cmd_operator_create(struct ctl *ctl, int argc, char **argv)
{
	const char *webhook = NULL, *email = NULL, *command = NULL, *pos[1];
	const char *kind = NULL, *address = NULL;
	int log = 0, is_default = 0, npos, rc;
	const struct ctl_opt opts[] = {CTL_VALUE("--webhook", &webhook),
	    CTL_VALUE("--email", &email), CTL_VALUE("--command", &command),
	    CTL_FLAG("--log", &log), CTL_FLAG("--default", &is_default),
	    CTL_END};
	struct client *c;
	json_t *body;
	struct cerr err;

	if (ctl_parse(argc, argv, opts, pos, 1, 1, &npos, &err) < 0 ||
	    pick_kind(webhook, email, command, log, &kind, &address, &err) <
		0 ||
	    ctl_client(ctl, &c, &err) < 0)
		return ctl_fail(&err);
	body = json_pack("{s:s,s:s,s:s,s:b}", "name", pos[0], "kind", kind,
	    "address", address, "default", is_default);
	rc = client_call(c, "POST", "/v1/operators", body, NULL, &err);
	json_decref(body);
	if (rc < 0)
		return ctl_fail(&err);
	printf("operator %s created (%s)%s\n", pos[0], kind,
	    is_default ? ", the default operator" : "");
	return 0;
}

static int
one_name(struct ctl *ctl, int argc, char **argv, const char **name,
    struct client **c, struct cerr *err)
{
	const struct ctl_opt opts[] = {CTL_END};
	int npos;

	if (ctl_parse(argc, argv, opts, name, 1, 1, &npos, err) < 0)
		return -1;
	return ctl_client(ctl, c, err);
}

int
cmd_operator_delete(struct ctl *ctl, int argc, char **argv)
{
	const char *name[1];
	char path[512];
	struct client *c;
	struct cerr err;

	if (one_name(ctl, argc, argv, name, &c, &err) < 0)
		return ctl_fail(&err);
	operator_path(name[0], "", path, sizeof(path));
	if (client_call(c, "DELETE", path, NULL, NULL, &err) < 0)
		return ctl_fail(&err);
	printf("operator %s deleted\n", name[0]);
	return 0;
}

int
cmd_operator_default(struct ctl *ctl, int argc, char **argv)
{
	const char *name[1];
	char path[512];
	struct client *c;
	struct cerr err;

	if (one_name(ctl, argc, argv, name, &c, &err) < 0)
		return ctl_fail(&err);
	operator_path(name[0], "/default", path, sizeof(path));
	if (client_call(c, "POST", path, NULL, NULL, &err) < 0)
		return ctl_fail(&err);
	printf("operator %s is the default operator\n", name[0]);
	return 0;
}

int
cmd_operator_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct output_col cols[] = {
	    {"NAME", "name", 0},
	    {"KIND", "kind", 0},
	    {"DEFAULT", "default", 0},
	    {"ADDRESS", "address", 60},
	    {"CREATED", "created_at", 0},
	};
	int json = 0, npos;
	const struct ctl_opt opts[] = {CTL_FLAG("--json", &json), CTL_END};
	struct cerr err;

	if (ctl_parse(argc, argv, opts, NULL, 0, 0, &npos, &err) < 0)
		return ctl_fail(&err);
	return ctl_get_and_print(
	    ctl, "/v1/operators", json, cols, sizeof(cols) / sizeof(cols[0]));
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
cmd_operator_deliveries(struct ctl *ctl, int argc, char **argv)
{
	static const struct output_col cols[] = {
	    {"ID", "id", 0},
	    {"OPERATOR", "operator", 0},
	    {"STATUS", "status", 0},
	    {"TRIES", "attempts", 0},
	    {"SUBJECT", "subject", 50},
	    {"LAST ERROR", "last_error", 40},
	    {"UPDATED", "updated_at", 0},
	};
	const char *op = NULL, *status = NULL, *limit = NULL;
	int json = 0, npos, rc;
	const struct ctl_opt opts[] = {CTL_VALUE("--operator", &op),
	    CTL_VALUE("--status", &status), CTL_VALUE("--limit", &limit),
	    CTL_FLAG("--json", &json), CTL_END};
	char path[2048];
	long long n;
	struct buf q;
	struct cerr err;

	buf_init(&q, 1024);
	if (ctl_parse(argc, argv, opts, NULL, 0, 0, &npos, &err) < 0 ||
	    (limit != NULL &&
		ctl_int(limit, "--limit", 1, 100000, &n, &err) < 0) ||
	    add_param(&q, "operator", op, &err) < 0 ||
	    add_param(&q, "status", status, &err) < 0 ||
	    add_param(&q, "limit", limit, &err) < 0) {
		buf_cleanup(&q);
		return ctl_fail(&err);
	}
	snprintf(path, sizeof(path), "/v1/notifications%s", buf_str(&q));
	buf_cleanup(&q);
	rc = ctl_get_and_print(
	    ctl, path, json, cols, sizeof(cols) / sizeof(cols[0]));
	return rc;
}
