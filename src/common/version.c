/*
 * version: release parsing and the peer acceptance rule (see version.h).
 */
#include "common/version.h"

#include <stdio.h>
#include <stdlib.h>

/* Every major release line that has ended, oldest first, with its last
 * minor. When a release starts a new major X (X.0.0), add {X-1, the last
 * minor of X-1} here: test_basics fails a build whose major has no entry
 * for the one before it. Empty while cohort is at 0.x. */
static const struct version_major_end major_ends[] = {
    {-1, -1}, /* the end of the table */
};
static const size_t major_ends_n =
    sizeof(major_ends) / sizeof(major_ends[0]) - 1;

const char *
version_string(void)
{
	const char *v = getenv("COHORT_TEST_VERSION");
	struct version parsed;

	if (v != NULL && version_parse(v, &parsed) == 0)
		return v;
	return COHORT_VERSION;
}

int
version_parse(const char *s, struct version *out)
{
	int used = 0;

	if (s == NULL ||
	    sscanf(s, "%d.%d.%d%n", &out->major, &out->minor, &out->patch,
		&used) != 3 ||
	    s[used] != '\0' || out->major < 0 || out->minor < 0 ||
	    out->patch < 0)
		return -1;
	return 0;
}

static int
line_before(const struct version *line, const struct version_major_end *ends,
    size_t n, struct version *prev)
{
	if (line->minor > 0) {
		*prev = (struct version){line->major, line->minor - 1, 0};
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (ends[i].major == line->major - 1) {
			*prev = (struct version){
			    ends[i].major, ends[i].last_minor, 0};
			return 0;
		}
	return -1;
}

int
version_line_before(const struct version *line, struct version *prev)
{
	return line_before(line, major_ends, major_ends_n, prev);
}

static int
line_cmp(const struct version *a, const struct version *b)
{
	if (a->major != b->major)
		return a->major < b->major ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	return 0;
}

int
version_check_peer_with(const char *master_version, const char *peer_version,
    const struct version_major_end *ends, size_t n, struct cerr *err)
{
	struct version m, p, line, prev;
	int unknown = 0;

	if (version_parse(master_version, &m) < 0)
		return cerr_set(
		    err, CERR_INTERNAL, "bad own version '%s'", master_version);
	if (version_parse(peer_version, &p) < 0)
		return cerr_set(err, CERR_VERSION,
		    "version '%.40s' is not MAJOR.MINOR.PATCH (master is %s)",
		    peer_version, master_version);
	if (line_cmp(&p, &m) > 0)
		return cerr_set(err, CERR_VERSION,
		    "peer version %s is newer than master version %s; "
		    "upgrade the master first",
		    peer_version, master_version);
	/* the peer is no newer: walk back from the master's line */
	line = m;
	for (int back = 0; back <= 2; back++) {
		if (line_cmp(&p, &line) == 0)
			return 0;
		if (back == 2)
			break;
		if (line_before(&line, ends, n, &prev) < 0) {
			unknown = line.major > 0; /* 0.0 has none */
			break;
		}
		line = prev;
	}
	if (unknown)
		return cerr_set(err, CERR_VERSION,
		    "peer version %s is of an older major than master version "
		    "%s, whose build does not know that major's last release "
		    "line; upgrade the peer",
		    peer_version, master_version);
	return cerr_set(err, CERR_VERSION,
	    "peer version %s is more than two release lines older than "
	    "master version %s; upgrade the peer",
	    peer_version, master_version);
}

int
version_check_peer(
    const char *master_version, const char *peer_version, struct cerr *err)
{
	return version_check_peer_with(
	    master_version, peer_version, major_ends, major_ends_n, err);
}
