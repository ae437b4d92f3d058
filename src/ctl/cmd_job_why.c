/*
 * cmd_job_why: `job why NAME [--target T] [--json]`, what a job does or
 * does not do on its targets, and why (the master explains: see
 * src/master/why.h).
 */
#include <stdio.h>
#include <string.h>

#include "common/jobdoc.h"
#include "common/json.h"
#include "ctl/ctl.h"
#include "ctl/output.h"

/* Room for an explanation or a missed record's message. */
#define WHY_LINE_MAX 2048

static void
print_definition(const json_t *d)
{
	char id[32], op[32], st[32], at[64];

	if (!json_is_object(d))
		return;
	printf("  definition: instruction %s (%s), %s",
	    output_field(d, "id", id, sizeof(id)),
	    output_field(d, "operation", op, sizeof(op)),
	    output_field(d, "status", st, sizeof(st)));
	if (json_is_string(json_object_get(d, "applied_at")))
		printf(" at %s", output_field(d, "applied_at", at, sizeof(at)));
	printf("\n");
}

static void
print_last(const json_t *last)
{
	char at[64], outcome[32], msg[WHY_LINE_MAX];

	if (!json_is_object(last)) {
		printf("  last record: none uploaded\n");
		return;
	}
	output_field(last, "message", msg, sizeof(msg));
	printf("  last record: %s %s%s%s\n",
	    output_field(last, "started_at", at, sizeof(at)),
	    output_field(last, "outcome", outcome, sizeof(outcome)),
	    strcmp(msg, "-") != 0 && msg[0] ? ": " : "",
	    strcmp(msg, "-") != 0 ? msg : "");
}

static void
print_target(const char *job, const json_t *t)
{
	char name[160], verdict[32], text[WHY_LINE_MAX], st[32], poll[64];

	printf("job %s on %s: %s\n", job,
	    output_field(t, "target", name, sizeof(name)),
	    output_field(t, "verdict", verdict, sizeof(verdict)));
	printf("  %s\n", output_field(t, "explanation", text, sizeof(text)));
	printf("  target: %s, last poll %s\n",
	    output_field(t, "status", st, sizeof(st)),
	    output_field(t, "last_poll", poll, sizeof(poll)));
	print_definition(json_object_get(t, "definition"));
	print_last(json_object_get(t, "last"));
}

static void
print_why(const json_t *out)
{
	const json_t *targets = json_object_get(out, "targets");
	char job[160];
	json_int_t more;
	size_t i;
	json_t *t;

	output_field(out, "job", job, sizeof(job));
	if (json_array_size(targets) == 0)
		printf("job %s is aimed at no target: name one in its "
		       "\"targets\", or a group with members in its "
		       "\"groups\"\n",
		    job);
	json_array_foreach(targets, i, t)
	{
		if (i > 0)
			printf("\n");
		print_target(job, t);
	}
	more = json_integer_value(json_object_get(out, "more_targets"));
	if (more > 0)
		printf("\n... and %lld more target%s: name one with --target\n",
		    (long long)more, more == 1 ? "" : "s");
}

int
cmd_job_why(struct ctl *ctl, int argc, char **argv)
{
	const char *target = NULL, *pos[1];
	int json = 0, npos;
	const struct ctl_opt opts[] = {
	    CTL_VALUE("--target", &target), CTL_FLAG("--json", &json), CTL_END};
	char esc_job[JOB_NAME_MAX * 3 + 1], esc_target[JOB_NAME_MAX * 3 + 1];
	char path[JOB_NAME_MAX * 6 + 64];
	struct client *c;
	json_t *out = NULL;
	struct cerr err;

	if (ctl_parse(argc, argv, opts, pos, 1, 1, &npos, &err) < 0 ||
	    jobdoc_check_name(pos[0], JOB_NAME_MAX, "job", &err) < 0 ||
	    (target != NULL &&
		jobdoc_check_name(target, JOB_NAME_MAX, "--target", &err) <
		    0) ||
	    ctl_client(ctl, &c, &err) < 0)
		return ctl_fail(&err);
	client_escape(pos[0], esc_job, sizeof(esc_job));
	snprintf(path, sizeof(path), "/v1/jobs/%s/why", esc_job);
	if (target != NULL) {
		client_escape(target, esc_target, sizeof(esc_target));
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
		    "?target=%s", esc_target);
	}
	if (client_call(c, "GET", path, NULL, &out, &err) < 0)
		return ctl_fail(&err);
	if (json)
		output_json(stdout, out);
	else
		print_why(out);
	json_decref(out);
	return 0;
}
