/*
 * fuzz_conf: the daemon configuration (conf_load over ini.c): the bytes
 * are the file, read through a memfd so the real path code runs, and its
 * first line is also given as a --key=value flag. A reload of the same
 * file must succeed and change nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;

/* The first line as a flag ("--" + line), or NULL. Caller frees. */
static char *
first_line_flag(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t n = nl ? (size_t)(nl - data) : size;
	char *flag;

	if (memchr(data, '\0', n) != NULL || n > 8192)
		return NULL;
	flag = malloc(n + 3);
	if (flag == NULL)
		return NULL;
	memcpy(flag, "--", 2);
	memcpy(flag + 2, data, n);
	flag[n + 2] = '\0';
	return flag;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf c, before;
	char path[64], report[4096];
	char *flag;
	struct cerr err;
	int applied;

	if (memfd < 0)
		memfd = memfd_create("fuzz-conf", 0);
	if (memfd < 0 || size > 1 << 20 || ftruncate(memfd, 0) < 0 ||
	    pwrite(memfd, data, size, 0) != (ssize_t)size)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	flag = first_line_flag(data, size);
	if (conf_load(&c, path, &flag, flag ? 1 : 0, report, sizeof(report),
		&err) == 0) {
		before = c;
		if (conf_reload(&c, report, sizeof(report), &applied, &err) <
			0 ||
		    applied != 0 || report[0] != '\0' ||
		    memcmp(&before, &c, sizeof(c)) != 0)
			abort(); /* reloading the same file changed something */
	}
	free(flag);
	return 0;
}
