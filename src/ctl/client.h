/*
 * client: cohortctl's synchronous HTTPS client (libcurl easy). A client is
 * made from a profile (master URL, CA, certificate, key) or, for enlisting,
 * anonymously with just a CA file (or, for the very first call that fetches
 * the CA, with no verification at all: the caller then checks what it got
 * against the fingerprint in the token).
 */
#ifndef COHORT_CLIENT_H
#define COHORT_CLIENT_H

#include <jansson.h>

#include "common/cerr.h"
#include "common/conf.h"

#define CLIENT_MAX_URLS 8

struct client {
	/* base URL(s), space separated: the masters of a pair, tried in
	 * order (client_call) */
	char url[CONF_STR_MAX];
	char ca[CONF_STR_MAX]; /* "" with verify = 0 */
	char cert[CONF_STR_MAX]; /* "" for anonymous */
	char key[CONF_STR_MAX];
	int verify;
	/* Set: plain HTTP to a target's local control socket at this path
	 * (url is then "http://localhost"); no TLS. */
	char unix_socket[CONF_STR_MAX];
	/* A call's limit; 0: CLIENT_TIMEOUT_MS (client.c). */
	long timeout_ms;
};

/* Reads a profile: keys master, ca, cert, key (paths relative to the
 * profile's folder). master may list several URLs, space separated (the
 * masters of an active/standby pair). A lone master URL with port 0 takes
 * its port from the file "port" beside the profile (a master listening on
 * port 0 writes it). */
int client_from_profile(const char *path, struct client *out, struct cerr *err);

/* Checks a list of master URLs (space separated, 1..CLIENT_MAX_URLS,
 * each https://); what names it in the message. */
int client_check_urls(const char *list, const char *what, struct cerr *err);

/* Calls method on path (e.g. "/v1/targets") with an optional JSON body.
 * On 2xx, *out (may be NULL) gets the parsed reply (new reference, NULL for
 * an empty body). Otherwise err carries the master's error code and
 * message, or CERR_UNAVAILABLE when the master could not be reached.
 * With several URLs, one that cannot be reached or is a standby (503
 * not_active) passes the call on: to the active master the standby names
 * when it is listed, else to the next URL; the error, when all fail, is
 * a standby's (it names the active master) or else the last one. */
int client_call(const struct client *c, const char *method, const char *path,
    const json_t *body, json_t **out, struct cerr *err);

/* GET path on the one master c->url names, whatever the HTTP status
 * (*status); *out as for client_call(). CERR_UNAVAILABLE when it cannot
 * be reached. */
int client_get_status(const struct client *c, const char *path, long *status,
    json_t **out, struct cerr *err);

/* Escapes a path segment (a name) for a URL; out has size out_size. */
void client_escape(const char *s, char *out, size_t out_size);

#endif
