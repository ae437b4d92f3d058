/*
 * cohortctl: the command-line client. main() reads the global options
 * (-c PROFILE, or $COHORT_PROFILE) and picks the command from the table
 * below; each command lives in a cmd_<noun>.c file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common/version.h"
#include "ctl/ctl.h"

struct command {
	const char *noun;
	const char *verb; /* NULL: the noun alone is the command; may be
				   two words ("job list") */
	int (*run)(struct ctl *ctl, int argc, char **argv);
	const char *usage;
};

static const struct command commands[] = {
    {"master", "init", cmd_master_init,
	"master init --state-dir D "
	"--listen HOST:PORT [--san NAME_OR_IP ...] [--store URL] "
	"[--join FIRST_MASTER_STATE_DIR]"},
    {"master", "dismantle", cmd_master_dismantle,
	"master dismantle --state-dir D"},
    {"enlist", NULL, cmd_enlist,
	"enlist --state-dir T --name NAME "
	"--master URL --token TOKEN [--poll-interval S]"},
    {"defect", NULL, cmd_defect, "defect --state-dir T [--force]"},
    {"whoami", NULL, cmd_whoami, "whoami [--json]"},
    {"target", "token", cmd_target_token,
	"target token NAME "
	"[--ttl SECONDS]"},
    {"target", "list", cmd_target_list, "target list [--json]"},
    {"target", "delete", cmd_target_delete, "target delete NAME"},
    {"target", "resync", cmd_target_resync, "target resync NAME"},
    {"target", "defect", cmd_target_defect, "target defect NAME"},
    {"target", "set", cmd_target_set,
	"target set NAME [--location TEXT] "
	"[--poll-interval S]"},
    {"job", "apply", cmd_job_apply, "job apply FILE.json"},
    {"job", "list", cmd_job_list, "job list [--json]"},
    {"job", "show", cmd_job_show, "job show NAME [--json]"},
    {"job", "delete", cmd_job_delete, "job delete NAME"},
    {"job", "start", cmd_job_start, "job start NAME [--target T]"},
    {"job", "stop", cmd_job_stop, "job stop NAME [--target T]"},
    {"job", "next", cmd_job_next, "job next NAME [--count N] [--json]"},
    {"job", "why", cmd_job_why, "job why NAME [--target T] [--json]"},
    {"history", "purge", cmd_history_purge,
	"history purge [--job NAME] "
	"[--older-than DURATION]"},
    {"history", NULL, cmd_history,
	"history [--job NAME] [--target T] "
	"[--outcome O] [--since TIME] [--until TIME] [--run TARGET:N] "
	"[--limit N] [--json]"},
    {"downloadlist", "clear", cmd_downloadlist_clear, "downloadlist clear ID"},
    {"downloadlist", NULL, cmd_downloadlist,
	"downloadlist [--target T] "
	"[--status S] [--limit N] [--json]"},
    {"group", "create", cmd_group_create, "group create G"},
    {"group", "delete", cmd_group_delete, "group delete G"},
    {"group", "add", cmd_group_add, "group add G TARGET"},
    {"group", "remove", cmd_group_remove, "group remove G TARGET"},
    {"group", "list", cmd_group_list, "group list [--json]"},
    /* scale-out */
    {"exec", "submit", cmd_exec_submit,
	"exec submit JOB [--group G | --workers w1,w2] [--retries N]"},
    {"exec", "list", cmd_exec_list,
	"exec list [--status S] [--limit N] [--json]"},
    {"exec", "show", cmd_exec_show, "exec show ID [--json]"},
    {"worker", "list", cmd_worker_list, "worker list [--json]"},
    {"worker", "enable", cmd_worker_enable, "worker enable NAME"},
    {"worker", "disable", cmd_worker_disable, "worker disable NAME"},
    /* the target's local control socket */
    {"local", "job apply", cmd_local_job_apply,
	"local job apply "
	"FILE.json --state-dir T"},
    {"local", "job list", cmd_local_job_list,
	"local job list "
	"--state-dir T [--json]"},
    {"local", "job show", cmd_local_job_show,
	"local job show NAME "
	"--state-dir T"},
    {"local", "job delete", cmd_local_job_delete,
	"local job delete NAME "
	"--state-dir T"},
    {"local", "job start", cmd_local_job_start,
	"local job start NAME "
	"--state-dir T"},
    {"local", "job stop", cmd_local_job_stop,
	"local job stop NAME "
	"--state-dir T"},
    {"local", "history", cmd_local_history,
	"local history --state-dir T "
	"[--job NAME] [--limit N] [--json]"},
    {"cert", "issue", cmd_cert_issue,
	"cert issue --role "
	"admin|operator|viewer NAME [--out DIR] [--p12]"},
    {"cert", "revoke", cmd_cert_revoke, "cert revoke SERIAL | --name NAME"},
    {"cert", "list", cmd_cert_list, "cert list [--json]"},
    {"audit", NULL, cmd_audit, "audit [--since TIME] [--limit N] [--json]"},
    {"event", "raise", cmd_event_raise,
	"event raise --state-dir T "
	"[--severity info|warning|error|critical] MESSAGE"},
    {"event", "list", cmd_event_list,
	"event list [--target T] "
	"[--severity S] [--limit N] [--json]"},
    {"operator", "create", cmd_operator_create,
	"operator create NAME "
	"--webhook URL | --email ADDRESS | --command CMD | --log "
	"[--default]"},
    {"operator", "list", cmd_operator_list, "operator list [--json]"},
    {"operator", "delete", cmd_operator_delete, "operator delete NAME"},
    {"operator", "default", cmd_operator_default, "operator default NAME"},
    {"operator", "deliveries", cmd_operator_deliveries,
	"operator deliveries [--operator O] [--status S] [--limit N] "
	"[--json]"},
    {"drill", "failover", cmd_drill_failover,
	"drill failover [--json]   "
	"(a profile listing every master of a PostgreSQL pair)"},
    {NULL, NULL, NULL, NULL},
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: cohortctl [-c PROFILE] COMMAND ...\n\ncommands:\n");
	for (const struct command *c = commands; c->noun != NULL; c++)
		fprintf(f, "  cohortctl %s\n", c->usage);
	fprintf(f,
	    "\nPROFILE (or $COHORT_PROFILE) is a client profile such "
	    "as STATE_DIR/admin.conf.\n");
}

/* Whether argv starts with the words of verb ("list", or "job list"). */
static int
verb_matches(const char *verb, int argc, char **argv, int *nwords)
{
	const char *space = strchr(verb, ' ');
	size_t len = space != NULL ? (size_t)(space - verb) : strlen(verb);

	if (argc < 1 || strlen(argv[0]) != len ||
	    strncmp(argv[0], verb, len) != 0)
		return 0;
	*nwords = 1;
	if (space == NULL)
		return 1;
	if (!verb_matches(space + 1, argc - 1, argv + 1, nwords))
		return 0;
	(*nwords)++;
	return 1;
}

/* Prints the commands of noun to f (NULL: only counts them), for
 * "cohortctl job" or a misspelt verb; 0 when noun is none of ours. */
static int
noun_usage(FILE *f, const char *noun)
{
	int n = 0;

	for (const struct command *c = commands; c->noun != NULL; c++) {
		if (strcmp(c->noun, noun) != 0)
			continue;
		if (f != NULL && n == 0)
			fprintf(f, "usage:\n");
		if (f != NULL)
			fprintf(f, "  cohortctl %s\n", c->usage);
		n++;
	}
	return n;
}

/* "--help" or "-h" anywhere after the command asks for its usage. */
static int
wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

static const struct command *
find_command(int argc, char **argv, int *used)
{
	int nwords;

	for (const struct command *c = commands; c->noun != NULL; c++) {
		if (argc < 1 || strcmp(argv[0], c->noun) != 0)
			continue;
		if (c->verb == NULL) {
			*used = 1;
			return c;
		}
		if (verb_matches(c->verb, argc - 1, argv + 1, &nwords)) {
			*used = 1 + nwords;
			return c;
		}
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	struct ctl ctl;
	const struct command *cmd;
	int i = 1, used = 0, rc;

	memset(&ctl, 0, sizeof(ctl));
	ctl.profile = getenv("COHORT_PROFILE");
	if (ctl.profile != NULL && ctl.profile[0] == '\0')
		ctl.profile = NULL;
	if (argc > 1 &&
	    (strcmp(argv[1], "--version") == 0 ||
		strcmp(argv[1], "version") == 0)) {
		printf("cohortctl %s\n", version_string());
		return 0;
	}
	if (argc > 1 &&
	    (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
		strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		ctl.profile = argv[2];
		i = 3;
	}
	if (argc > i && strcmp(argv[i], "-c") == 0) {
		fprintf(stderr, "cohortctl: -c %s\n",
		    i == 3 ? "given twice: one profile per call"
			   : "needs a profile file before the command");
		return 2;
	}
	cmd = find_command(argc - i, argv + i, &used);
	if (cmd == NULL) {
		int known = argc > i && noun_usage(NULL, argv[i]) > 0;

		/* "worker --help": the noun's commands, as asked */
		if (known && argc == i + 2 && wants_help(1, argv + i + 1)) {
			noun_usage(stdout, argv[i]);
			return 0;
		}
		if (argc > i && !known)
			fprintf(stderr, "cohortctl: unknown command '%s'\n",
			    argv[i]);
		else if (argc > i + 1)
			fprintf(stderr, "cohortctl: unknown command '%s %s'\n",
			    argv[i], argv[i + 1]);
		else if (argc > i)
			fprintf(stderr, "cohortctl: '%s' needs a command\n",
			    argv[i]);
		if (known)
			noun_usage(stderr, argv[i]);
		else
			usage(stderr);
		return 2;
	}
	if (wants_help(argc - i - used, argv + i + used)) {
		printf("usage: cohortctl %s\n", cmd->usage);
		return 0;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmd->run(&ctl, argc - i - used, argv + i + used);
	curl_global_cleanup();
	/* A command line it could not take (exit 2): its usage helps. */
	if (rc == 2)
		fprintf(stderr, "usage: cohortctl %s\n", cmd->usage);
	return rc;
}
