/*
 * cohortd: the one daemon. Reads its configuration (-c FILE plus any
 * --key=value flags), then runs as a master or a target as the
 * configuration's role says, in the foreground until SIGTERM or SIGINT.
 * -n only checks the configuration and prints every problem at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/conf.h"
#include "common/log.h"
#include "common/version.h"
#include "master/master.h"
#include "target/target.h"

#define MAX_FLAGS 64

static void
usage(void)
{
	fprintf(stderr,
	    "usage: cohortd -c FILE [-n] [--key=value ...]\n"
	    "       cohortd --version\n");
}

int
main(int argc, char **argv)
{
	static struct conf conf; /* large; kept off the stack */
	char report[8192];
	char *flags[MAX_FLAGS];
	const char *path = NULL;
	int nflags = 0, check_only = 0;
	enum log_level level;
	struct cerr err;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strcmp(argv[i], "-n") == 0) {
			check_only = 1;
		} else if (strcmp(argv[i], "--version") == 0 ||
		    strcmp(argv[i], "-V") == 0) {
			printf("cohortd %s\n", version_string());
			return 0;
		} else if (strncmp(argv[i], "--", 2) == 0 &&
		    strchr(argv[i], '=') != NULL && nflags < MAX_FLAGS) {
			flags[nflags++] = argv[i];
		} else {
			usage();
			return 2;
		}
	}
	if (path == NULL) {
		usage();
		return 2;
	}
	if (conf_load(
		&conf, path, flags, nflags, report, sizeof(report), &err) < 0) {
		fputs(report, stderr);
		return 1;
	}
	if (check_only) {
		printf("%s: configuration ok\n", path);
		return 0;
	}
	log_level_parse(conf.log_level, &level);
	log_setup(
	    conf.role == ROLE_MASTER ? "cohortd-master" : "cohortd-target",
	    level, conf.log_syslog);
	if ((conf.role == ROLE_MASTER ? master_run(&conf, &err)
				      : target_run(&conf, &err)) < 0) {
		log_error("exit", "code=%s msg=%s", cerr_code_name(err.code),
		    LOG_TEXT(err.msg));
		fprintf(stderr, "cohortd: %s\n", err.msg);
		return 1;
	}
	return 0;
}
