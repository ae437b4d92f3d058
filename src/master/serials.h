/*
 * serials: the certificate serials a transaction revokes, kept until it
 * commits; only then do they join the in-memory set every request is
 * checked against (a rolled-back revocation must revoke nothing).
 */
#ifndef COHORT_MASTER_SERIALS_H
#define COHORT_MASTER_SERIALS_H

#include "common/cerr.h"
#include "common/pki.h"

struct master;

struct serial_list {
	char (*v)[PKI_SERIAL_HEX_MAX];
	int n, cap;
};

/* Adds serial unless it is there already. */
int serial_list_add(
    struct serial_list *l, const char *serial, struct cerr *err);
/* After the commit: every serial joins m->revoked (failures are logged
 * under event). */
void serial_list_apply(
    struct master *m, const struct serial_list *l, const char *event);
void serial_list_clear(struct serial_list *l);

#endif
