/*
 * serials: revoked serials held until their transaction commits (see
 * serials.h).
 */
#include "master/serials.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "master/master.h"

int
serial_list_add(struct serial_list *l, const char *serial, struct cerr *err)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->v[i], serial) == 0)
			return 0;
	if (l->n == l->cap) {
		int cap = l->cap ? 2 * l->cap : 4;
		char(*grown)[PKI_SERIAL_HEX_MAX] =
		    realloc(l->v, (size_t)cap * sizeof(*grown));

		if (grown == NULL)
			return cerr_set(err, CERR_INTERNAL, "out of memory");
		l->v = grown;
		l->cap = cap;
	}
	snprintf(l->v[l->n++], PKI_SERIAL_HEX_MAX, "%s", serial);
	return 0;
}

void
serial_list_apply(
    struct master *m, const struct serial_list *l, const char *event)
{
	struct cerr err;

	for (int i = 0; i < l->n; i++)
		if (strmap_put(&m->revoked, l->v[i], NULL, NULL, &err) < 0)
			log_error(event, "serial=%s msg=%s", l->v[i],
			    LOG_TEXT(err.msg));
}

void
serial_list_clear(struct serial_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}
