/*
 * listing: the GET that most read commands are, printed as a table or,
 * with --json, as the master sent it.
 */
#include <stdio.h>

#include "ctl/ctl.h"
#include "ctl/output.h"

int
ctl_get_and_print(struct ctl *ctl, const char *path, int json,
    const struct output_col *cols, size_t ncols)
{
	struct client *c;
	json_t *out = NULL;
	struct cerr err;

	if (ctl_client(ctl, &c, &err) < 0 ||
	    client_call(c, "GET", path, NULL, &out, &err) < 0)
		return ctl_fail(&err);
	if (json || cols == NULL)
		output_json(stdout, out);
	else
		output_table(stdout, cols, ncols, out);
	json_decref(out);
	return 0;
}
