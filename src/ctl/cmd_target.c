/*
 * cmd_target: target token / list / delete, and whoami.
 */
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"
#include "ctl/output.h"

int
cmd_whoami(struct ctl *ctl, int argc, char **argv)
{
	int json = 0, npos;
	const struct ctl_opt opts[] = {CTL_FLAG("--json", &json), CTL_END};
	struct client *c;
	json_t *out = NULL;
	struct cerr err;
	char n[256], r[64];

	if (ctl_parse(argc, argv, opts, NULL, 0, 0, &npos, &err) < 0 ||
	    ctl_client(ctl, &c, &err) < 0 ||
	    client_call(c, "GET", "/v1/whoami", NULL, &out, &err) < 0)
		return ctl_fail(&err);
	if (json)
		output_json(stdout, out);
	else
		printf("%s (%s)\n", output_field(out, "name", n, sizeof(n)),
		    output_field(out, "role", r, sizeof(r)));
	json_decref(out);
	return 0;
}

int
cmd_target_token(struct ctl *ctl, int argc, char **argv)
{
	const char *ttl = NULL, *pos[1];
	const struct ctl_opt opts[] = {CTL_VALUE("--ttl", &ttl), CTL_END};
	char path[512], name[300], tok[256];
	json_t *body = NULL, *out = NULL;
	struct client *c;
	struct cerr err;
	long long ttl_s = 0;
	int npos, rc;

	if (ctl_parse(argc, argv, opts, pos, 1, 1, &npos, &err) < 0 ||
	    (ttl != NULL &&
		ctl_int(ttl, "--ttl", 10, 604800, &ttl_s, &err) < 0) ||
	    ctl_client(ctl, &c, &err) < 0)
		return ctl_fail(&err);
	client_escape(pos[0], name, sizeof(name));
	snprintf(path, sizeof(path), "/v1/targets/%s/token", name);
	if (ttl != NULL)
		body = json_pack("{s:I}", "ttl_s", (json_int_t)ttl_s);
	rc = client_call(c, "POST", path, body, &out, &err);
	json_decref(body);
	if (rc < 0)
		return ctl_fail(&err);
	printf("%s\n", output_field(out, "token", tok, sizeof(tok)));
	json_decref(out);
	return 0;
}

/* OFFSET as an operator reads a zone's: "-05:00", not -18000 (--json
 * keeps time_zone_offset_s in seconds). */
static void
add_offsets(json_t *rows)
{
	size_t i;
	json_t *r, *v;

	json_array_foreach(rows, i, r)
	{
		char text[16];
		json_int_t s;

		v = json_object_get(r, "time_zone_offset_s");
		if (!json_is_integer(v))
			continue;
		s = json_integer_value(v);
		snprintf(text, sizeof(text), "%c%02lld:%02lld",
		    s < 0 ? '-' : '+', (long long)((s < 0 ? -s : s) / 3600),
		    (long long)((s < 0 ? -s : s) % 3600 / 60));
		json_object_set_new(r, "offset_shown", json_string(text));
	}
}

int
cmd_target_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct output_col cols[] = {
	    {"NAME", "name", 0},
	    {"STATUS", "status", 0},
	    {"LAST POLL", "last_poll", 0},
	    {"UNREAD", "unread_instructions", 0},
	    {"LOCAL TIME", "local_time", 0},
	    {"OFFSET", "offset_shown", 0},
	    {"VERSION", "version", 0},
	    {"POLL S", "poll_interval_s", 0},
	    {"LOCATION", "location", 30},
	    {"ENLISTED", "enlisted_at", 0},
	    {"DROPPED", "outbox_dropped", 0},
	};
	int json = 0, npos;
	const struct ctl_opt opts[] = {CTL_FLAG("--json", &json), CTL_END};
	struct client *c;
	json_t *out = NULL;
	struct cerr err;

	if (ctl_parse(argc, argv, opts, NULL, 0, 0, &npos, &err) < 0 ||
	    ctl_client(ctl, &c, &err) < 0 ||
	    client_call(c, "GET", "/v1/targets", NULL, &out, &err) < 0)
		return ctl_fail(&err);
	if (json) {
		output_json(stdout, out);
	} else {
		add_offsets(out);
		output_table(stdout, cols, sizeof(cols) / sizeof(cols[0]), out);
	}
	json_decref(out);
	return 0;
}

int
cmd_target_delete(struct ctl *ctl, int argc, char **argv)
{
	const struct ctl_opt opts[] = {CTL_END};
	const char *pos[1], *note;
	char path[512], name[300];
	struct client *c;
	json_t *out = NULL;
	struct cerr err;
	int npos;

	if (ctl_parse(argc, argv, opts, pos, 1, 1, &npos, &err) < 0 ||
	    ctl_client(ctl, &c, &err) < 0)
		return ctl_fail(&err);
	client_escape(pos[0], name, sizeof(name));
	snprintf(path, sizeof(path), "/v1/targets/%s", name);
	if (client_call(c, "DELETE", path, NULL, &out, &err) < 0)
		return ctl_fail(&err);
	printf("deleted target %s (its certificate is revoked)\n", pos[0]);
	note = json_string_value(json_object_get(out, "note"));
	if (note != NULL)
		fprintf(stderr, "cohortctl: note: %s\n", note);
	json_decref(out);
	return 0;
}

static void
print_posted(const json_t *out)
{
	size_t i;
	json_t *p;

	json_array_foreach(json_object_get(out, "posted"), i, p)
	    printf("  posted %s to %s (instruction %lld)\n",
		json_string_value(json_object_get(p, "op")),
		json_string_value(json_object_get(p, "target")),
		(long long)json_integer_value(json_object_get(p, "id")));
}

/* POST /v1/targets/NAME/ACTION with no body; the answer goes to out. */
static int
post_to_target(struct ctl *ctl, int argc, char **argv, const char *action,
    const char **target, json_t **out, struct cerr *err)
{
	const struct ctl_opt opts[] = {CTL_END};
	char path[512], name[300];
	struct client *c;
	int npos;

	if (ctl_parse(argc, argv, opts, target, 1, 1, &npos, err) < 0 ||
	    ctl_client(ctl, &c, err) < 0)
		return -1;
	client_escape(target[0], name, sizeof(name));
	snprintf(path, sizeof(path), "/v1/targets/%s/%s", name, action);
	return client_call(c, "POST", path, NULL, out, err);
}

int
cmd_target_resync(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1];
	json_t *out = NULL;
	struct cerr err;

	if (post_to_target(ctl, argc, argv, "resync", pos, &out, &err) < 0)
		return ctl_fail(&err);
	printf("resync of %s posted\n", pos[0]);
	print_posted(out);
	json_decref(out);
	return 0;
}

int
cmd_target_defect(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *status;
	json_t *out = NULL;
	struct cerr err;

	if (post_to_target(ctl, argc, argv, "defect", pos, &out, &err) < 0)
		return ctl_fail(&err);
	printf("defect of %s %s (instruction %lld): it removes its "
	       "multiserver jobs, uploads what it holds and stops\n",
	    pos[0],
	    json_is_true(json_object_get(out, "posted_before"))
		? "was posted before"
		: "posted",
	    (long long)json_integer_value(json_object_get(out, "id")));
	status = json_string_value(json_object_get(out, "status"));
	if (status != NULL && strcmp(status, "blocked") == 0)
		fprintf(stderr,
		    "warning: %s is blocked: it applies the defect only "
		    "after its failed instruction is cleared (downloadlist "
		    "clear ID); target delete removes it at once\n",
		    pos[0]);
	json_decref(out);
	return 0;
}

int
cmd_target_set(struct ctl *ctl, int argc, char **argv)
{
	const char *location = NULL, *poll = NULL, *pos[1];
	const struct ctl_opt opts[] = {CTL_VALUE("--location", &location),
	    CTL_VALUE("--poll-interval", &poll), CTL_END};
	char path[512], name[300];
	json_t *body, *out = NULL;
	struct client *c;
	struct cerr err;
	long long poll_s = 0;
	int npos, rc;

	if (ctl_parse(argc, argv, opts, pos, 1, 1, &npos, &err) < 0 ||
	    (poll != NULL &&
		ctl_int(poll, "--poll-interval", 1, 28800, &poll_s, &err) < 0))
		return ctl_fail(&err);
	if (location == NULL && poll == NULL) {
		cerr_set(&err, CERR_INVALID,
		    "target set needs --location or "
		    "--poll-interval");
		return ctl_fail(&err);
	}
	if (ctl_client(ctl, &c, &err) < 0)
		return ctl_fail(&err);
	body = json_object();
	if (location != NULL)
		json_object_set_new(body, "location", json_string(location));
	if (poll != NULL)
		json_object_set_new(
		    body, "poll_interval_s", json_integer(poll_s));
	client_escape(pos[0], name, sizeof(name));
	snprintf(path, sizeof(path), "/v1/targets/%s/settings", name);
	rc = client_call(c, "POST", path, body, &out, &err);
	json_decref(body);
	if (rc < 0)
		return ctl_fail(&err);
	printf("target %s updated\n", pos[0]);
	print_posted(out);
	json_decref(out);
	return 0;
}
