/*
 * cmd_group: target groups: create, delete, add, remove, list.
 */
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"
#include "ctl/output.h"

static void
group_path(const char *group, const char *target, char *out, size_t size)
{
	char g[400], t[400];

	client_escape(group, g, sizeof(g));
	if (target == NULL) {
		snprintf(out, size, "/v1/groups/%s", g);
		return;
	}
	client_escape(target, t, sizeof(t));
	snprintf(out, size, "/v1/groups/%s/members/%s", g, t);
}

static void
print_posted(const json_t *out)
{
	size_t i;
	json_t *p;

	json_array_foreach(json_object_get(out, "posted"), i, p)
	    printf("  posted %s of job %s to %s (instruction %lld)\n",
		json_string_value(json_object_get(p, "op")),
		json_string_value(json_object_get(p, "object")),
		json_string_value(json_object_get(p, "target")),
		(long long)json_integer_value(json_object_get(p, "id")));
}

/* Parses exactly npos words and gets the client. */
static int
words(struct ctl *ctl, int argc, char **argv, const char **pos, int npos,
    struct client **c, struct cerr *err)
{
	const struct ctl_opt opts[] = {CTL_END};
	int n;

	if (ctl_parse(argc, argv, opts, pos, npos, npos, &n, err) < 0)
		return -1;
	return ctl_client(ctl, c, err);
}

int
cmd_group_create(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1];
	struct client *c;
	struct cerr err;
	json_t *body;
	int rc;

	if (words(ctl, argc, argv, pos, 1, &c, &err) < 0)
		return ctl_fail(&err);
	body = json_pack("{s:s}", "name", pos[0]);
	rc = client_call(c, "POST", "/v1/groups", body, NULL, &err);
	json_decref(body);
	if (rc < 0)
		return ctl_fail(&err);
	printf("group %s created\n", pos[0]);
	return 0;
}

int
cmd_group_delete(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1];
	char path[1024];
	struct client *c;
	struct cerr err;

	if (words(ctl, argc, argv, pos, 1, &c, &err) < 0)
		return ctl_fail(&err);
	group_path(pos[0], NULL, path, sizeof(path));
	if (client_call(c, "DELETE", path, NULL, NULL, &err) < 0)
		return ctl_fail(&err);
	printf("group %s deleted\n", pos[0]);
	return 0;
}

int
cmd_group_add(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[2];
	char path[1024];
	struct client *c;
	json_t *body, *out = NULL;
	struct cerr err;
	int rc;

	if (words(ctl, argc, argv, pos, 2, &c, &err) < 0)
		return ctl_fail(&err);
	group_path(pos[0], NULL, path, sizeof(path) - 16);
	strcat(path, "/members");
	body = json_pack("{s:s}", "target", pos[1]);
	rc = client_call(c, "POST", path, body, &out, &err);
	json_decref(body);
	if (rc < 0)
		return ctl_fail(&err);
	if (json_is_false(json_object_get(out, "changed")))
		printf("%s is in group %s already\n", pos[1], pos[0]);
	else
		printf("%s added to group %s\n", pos[1], pos[0]);
	print_posted(out);
	json_decref(out);
	return 0;
}

int
cmd_group_remove(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[2];
	char path[1024];
	struct client *c;
	json_t *out = NULL;
	struct cerr err;

	if (words(ctl, argc, argv, pos, 2, &c, &err) < 0)
		return ctl_fail(&err);
	group_path(pos[0], pos[1], path, sizeof(path));
	if (client_call(c, "DELETE", path, NULL, &out, &err) < 0)
		return ctl_fail(&err);
	printf("%s removed from group %s\n", pos[1], pos[0]);
	print_posted(out);
	json_decref(out);
	return 0;
}

int
cmd_group_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct output_col cols[] = {
	    {"GROUP", "name", 0},
	    {"MEMBERS", "members", 80},
	};
	int json = 0, n;
	const struct ctl_opt opts[] = {CTL_FLAG("--json", &json), CTL_END};
	struct client *c;
	json_t *out = NULL;
	struct cerr err;

	if (ctl_parse(argc, argv, opts, NULL, 0, 0, &n, &err) < 0 ||
	    ctl_client(ctl, &c, &err) < 0 ||
	    client_call(c, "GET", "/v1/groups", NULL, &out, &err) < 0)
		return ctl_fail(&err);
	if (json)
		output_json(stdout, out);
	else
		output_table(stdout, cols, sizeof(cols) / sizeof(cols[0]), out);
	json_decref(out);
	return 0;
}
