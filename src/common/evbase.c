#include "common/evbase.h"

struct event_base *
evbase_new(int flags)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base = NULL;

	if (cfg == NULL)
		return event_base_new();
	if (event_config_set_flag(cfg, flags) == 0)
		base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base != NULL ? base : event_base_new();
}
