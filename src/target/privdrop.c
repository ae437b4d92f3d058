/*
 * privdrop: dropping root on the network side (see privdrop.h).
 */
#include "target/privdrop.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/paths.h"

/* Files the network side reads or rewrites; symbolic links are not
 * followed (the link itself changes owner), absent files are fine. */
static const char *const owned[] = {"", PATH_TLS_DIR, PATH_TLS_CERT,
    PATH_TLS_KEY, PATH_TLS_CA, PATH_TLS_CERT ".new", PATH_TLS_KEY ".new",
    PATH_TARGET_STORE, PATH_TARGET_STORE "-wal", PATH_TARGET_STORE "-shm",
    PATH_TARGET_STORE "-journal", NULL};

static int
hand_over(const struct conf *conf, uid_t uid, gid_t gid, struct cerr *err)
{
	char path[CONF_STR_MAX + 64];

	for (int i = 0; owned[i] != NULL; i++) {
		if (owned[i][0] == '\0')
			snprintf(path, sizeof(path), "%s", conf->state_dir);
		else if (conf_state_path(
			     conf, owned[i], path, sizeof(path), err) < 0)
			return -1;
		if (fchownat(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW) <
			0 &&
		    errno != ENOENT)
			return cerr_set(err, CERR_IO,
			    "user %s: cannot hand %s over: %s", conf->user,
			    path, strerror(errno));
	}
	return 0;
}

int
privdrop_to_user(const struct conf *conf, struct cerr *err)
{
	struct passwd *pw = getpwnam(conf->user);

	if (pw == NULL || pw->pw_uid == 0)
		return cerr_set(err, CERR_INVALID, "user: '%s' %s", conf->user,
		    pw == NULL ? "does not exist" : "is root");
	if (hand_over(conf, pw->pw_uid, pw->pw_gid, err) < 0)
		return -1;
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
		return cerr_set(err, CERR_IO, "dropping to user %s: %s",
		    conf->user, strerror(errno));
	if (setuid(0) == 0 || seteuid(0) == 0)
		return cerr_set(err, CERR_INTERNAL,
		    "dropping to user %s: root could be regained", conf->user);
	/* chown cannot help with the directories above it */
	if (access(conf->state_dir, R_OK | W_OK | X_OK) < 0)
		return cerr_set(err, CERR_IO,
		    "user %s cannot use state_dir %s: %s (check the "
		    "directories above it)",
		    conf->user, conf->state_dir, strerror(errno));
	log_info("privsep", "network_user=%s uid=%u gid=%u", conf->user,
	    (unsigned)pw->pw_uid, (unsigned)pw->pw_gid);
	return 0;
}
