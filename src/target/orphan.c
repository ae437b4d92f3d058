/*
 * orphan: finding and killing step process groups that a dead daemon left
 * behind (see orphan.h).
 */
#include "target/orphan.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define STAT_MAX 1024
#define FIELD_PGRP 5
#define FIELD_START 22

/* The next space-separated number of [*p, end); advances *p. */
static int
next_field(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int digits = 0, neg = 0;

	while (s < end && *s == ' ')
		s++;
	if (s < end && *s == '-') {
		neg = 1;
		s++;
	}
	for (; s < end && *s >= '0' && *s <= '9'; s++, digits++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (digits == 0 || (s < end && *s != ' ' && *s != '\n'))
		return -1;
	*p = s;
	*out = neg ? 0 : v;
	return 0;
}

int
orphan_parse_stat(
    const char *text, size_t len, struct orphan_stat *out, struct cerr *err)
{
	const char *end = text + len, *p = NULL;
	uint64_t v = 0;

	memset(out, 0, sizeof(*out));
	for (const char *q = text; q < end; q++)
		if (*q == ')')
			p = q;
	/* ") S " at least: the state is one character after a space */
	if (p == NULL || end - p < 4 || p[1] != ' ' || p[3] != ' ')
		return cerr_set(err, CERR_INVALID, "proc stat: no state field");
	out->state = p[2];
	p += 3;
	/* fields 4 .. 22, after the state (field 3) */
	for (int field = 4; field <= FIELD_START; field++) {
		if (next_field(&p, end, &v) < 0)
			return cerr_set(err, CERR_INVALID,
			    "proc stat: field %d "
			    "is not a number",
			    field);
		if (field == FIELD_PGRP) {
			if (v == 0 || v > INT32_MAX)
				return cerr_set(err, CERR_INVALID,
				    "proc stat: "
				    "bad process group");
			out->pgrp = (pid_t)v;
		}
	}
	out->start_ticks = v;
	return 0;
}

int
orphan_read_stat(pid_t pid, struct orphan_stat *out, struct cerr *err)
{
	char path[64], text[STAT_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && (errno == ENOENT || errno == ESRCH))
		return cerr_set(err, CERR_NOT_FOUND, "no process %d", (int)pid);
	if (fd < 0)
		return cerr_set(err, CERR_IO, "%s: %s", path, strerror(errno));
	do
		n = read(fd, text, sizeof(text));
	while (n < 0 && errno == EINTR);
	close(fd);
	/* The process may end between open and read. */
	if (n < 0 && errno == ESRCH)
		return cerr_set(err, CERR_NOT_FOUND, "no process %d", (int)pid);
	if (n < 0)
		return cerr_set(err, CERR_IO, "%s: %s", path, strerror(errno));
	return orphan_parse_stat(text, (size_t)n, out, err);
}

int
orphan_kill(pid_t pgid, uint64_t start_ticks, struct cerr *err)
{
	struct orphan_stat st;

	if (pgid <= 1)
		return cerr_set(err, CERR_INVALID,
		    "orphan: bad process group "
		    "%d",
		    (int)pgid);
	if (kill(-pgid, 0) < 0)
		return errno == ESRCH
		    ? 0
		    : cerr_set(err, CERR_IO, "orphan: process group %d: %s",
			  (int)pgid, strerror(errno));
	/* A group without its leader cannot be told from a stranger's: it
	 * is left alone. */
	if (orphan_read_stat(pgid, &st, err) < 0)
		return err->code == CERR_NOT_FOUND ? 0 : -1;
	if (st.pgrp != pgid || st.start_ticks != start_ticks)
		return 0;
	if (kill(-pgid, SIGKILL) < 0)
		return errno == ESRCH ? 0
				      : cerr_set(err, CERR_IO,
					    "orphan: kill process group %d: %s",
					    (int)pgid, strerror(errno));
	return 1;
}
