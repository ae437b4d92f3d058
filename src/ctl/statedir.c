/*
 * statedir: state dir creation helpers (see statedir.h).
 */
#include "ctl/statedir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
statedir_mkdir(const char *dir, struct cerr *err)
{
	char path[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path))
		return cerr_set(err, CERR_INVALID, "bad directory '%s'", dir);
	memcpy(path, dir, n + 1);
	for (char *p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return cerr_set(err, CERR_IO, "mkdir %s: %s", path,
			    strerror(errno));
		*p = '/';
	}
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return cerr_set(
		    err, CERR_IO, "mkdir %s: %s", path, strerror(errno));
	return 0;
}

int
statedir_path(const char *dir, const char *rel, char *out, size_t out_size,
    struct cerr *err)
{
	int n = snprintf(out, out_size, "%s/%s", dir, rel);

	if (n < 0 || (size_t)n >= out_size)
		return cerr_set(
		    err, CERR_INVALID, "path too long: %s/%s", dir, rel);
	return 0;
}

int
statedir_write(const char *dir, const char *rel, const char *text, int mode,
    struct cerr *err)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	size_t len = strlen(text);
	int fd;

	if (statedir_path(dir, rel, path, sizeof(path), err) < 0)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return cerr_set(err, CERR_IO, "%s: %s", tmp, strerror(errno));
	if (fchmod(fd, (mode_t)mode) != 0 ||
	    write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
		cerr_set(err, CERR_IO, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		return cerr_set(err, CERR_IO, "%s: %s", path, strerror(errno));
	}
	return 0;
}

int
statedir_absolute(const char *dir, char *out, size_t out_size, struct cerr *err)
{
	char *real = realpath(dir, NULL);

	if (real == NULL)
		return cerr_set(err, CERR_IO, "%s: %s", dir, strerror(errno));
	if (strlen(real) >= out_size) {
		free(real);
		return cerr_set(err, CERR_INVALID, "%s: path too long", dir);
	}
	strcpy(out, real);
	free(real);
	return 0;
}

void
statedir_remove(const char *dir, const char *const *rels)
{
	char path[PATH_MAX];

	for (; *rels != NULL; rels++)
		if (statedir_path(dir, *rels, path, sizeof(path), NULL) == 0)
			unlink(path);
}

void
statedir_undo(const char *dir, const char *const *rels, int dir_existed)
{
	char path[PATH_MAX];

	statedir_remove(dir, rels);
	/* rmdir() takes only an empty directory: what was there stays. */
	for (; *rels != NULL; rels++) {
		char *slash;

		if (statedir_path(dir, *rels, path, sizeof(path), NULL) < 0)
			continue;
		slash = strrchr(path, '/');
		if (slash != NULL && (size_t)(slash - path) > strlen(dir)) {
			*slash = '\0';
			rmdir(path);
		}
	}
	if (!dir_existed)
		rmdir(dir);
}
