/*
 * version: release parsing and the peer acceptance rule (see version.h).
 */
#include "common/version.h"

#include <stdio.h>
#include <stdlib.h>

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

int
version_check_peer(
    const char *master_version, const char *peer_version, struct cerr *err)
{
	struct version m, p;
	long mline, pline;

	if (version_parse(master_version, &m) < 0)
		return cerr_set(
		    err, CERR_INTERNAL, "bad own version '%s'", master_version);
	if (version_parse(peer_version, &p) < 0)
		return cerr_set(err, CERR_VERSION,
		    "version '%.40s' is not MAJOR.MINOR.PATCH (master is %s)",
		    peer_version, master_version);
	/* Release lines are ordered by (major, minor); a major bump resets
	 * minor, so count lines as major*1000+minor. */
	mline = m.major * 1000L + m.minor;
	pline = p.major * 1000L + p.minor;
	if (pline > mline)
		return cerr_set(err, CERR_VERSION,
		    "peer version %s is newer than master version %s; "
		    "upgrade the master first",
		    peer_version, master_version);
	if (m.major == p.major && mline - pline > 2)
		return cerr_set(err, CERR_VERSION,
		    "peer version %s is more than two release lines older "
		    "than master version %s; upgrade the peer",
		    peer_version, master_version);
	if (m.major != p.major && !(m.minor <= 1 && p.major == m.major - 1))
		return cerr_set(err, CERR_VERSION,
		    "peer version %s is too old for master version %s; "
		    "upgrade the peer",
		    peer_version, master_version);
	return 0;
}
