/*
 * cohortctl: the command-line client. main() picks the command from the
 * table below; each command lives in a cmd_<noun>.c file.
 */
#include <stdio.h>
#include <string.h>

#include "common/version.h"

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("cohortctl %s\n", version_string());
		return 0;
	}
	fprintf(stderr, "usage: cohortctl [-c PROFILE] COMMAND ...\n");
	return 2;
}
