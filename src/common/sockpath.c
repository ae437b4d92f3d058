/*
 * sockpath: unix socket paths of any length (see sockpath.h).
 */
#include "common/sockpath.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
sockpath_open(const char *path, struct sockpath *sp, struct cerr *err)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	size_t dlen;

	sp->dirfd = -1;
	if (strlen(path) < sizeof(sp->path)) {
		memcpy(sp->path, path, strlen(path) + 1);
		return 0;
	}
	dlen = slash != NULL ? (size_t)(slash - path) : 0;
	if (slash == NULL || dlen >= sizeof(dir) ||
	    strlen(slash + 1) + 32 >= sizeof(sp->path))
		return cerr_set(err, CERR_INVALID,
		    "socket path '%.200s' is "
		    "too long",
		    path);
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	sp->dirfd =
	    open(dlen > 0 ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (sp->dirfd < 0)
		return cerr_set(err, CERR_IO, "socket folder %.200s: %s", dir,
		    strerror(errno));
	snprintf(sp->path, sizeof(sp->path), "/proc/self/fd/%d/%s", sp->dirfd,
	    slash + 1);
	return 0;
}

void
sockpath_close(struct sockpath *sp)
{
	if (sp->dirfd >= 0)
		close(sp->dirfd);
	sp->dirfd = -1;
}
