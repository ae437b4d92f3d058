#include "master/master.h"

int
master_run(const struct conf *conf, struct cerr *err)
{
	(void)conf;
	return cerr_set(err, CERR_INTERNAL, "master role: under construction");
}
