#include "target/target.h"

int
target_run(const struct conf *conf, struct cerr *err)
{
	(void)conf;
	return cerr_set(err, CERR_INTERNAL, "target role: under construction");
}
