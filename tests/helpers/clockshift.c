/*
 * clockshift: a test-only LD_PRELOAD library. It moves CLOCK_REALTIME by
 * the milliseconds written in the file $COHORT_TEST_CLOCK_SHIFT_FILE
 * (read again at most every 50 ms; absent or empty: no shift), so a
 * system test can make a running daemon's wall clock jump, as `date -s`
 * or a stepping time sync would, without touching the machine's clock.
 * A second number in the file moves the monotonic clocks too, as a
 * suspended machine would see them: time passes without a jump. For the
 * single-threaded target: the shifts are kept in plain statics.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define REREAD_NS 50000000LL

static int64_t shift_ms, mono_shift_ms;
static int64_t read_at_ns = -1;

/* The kernel's clock, not libc's: libc's would be this file's again. */
static int
kernel_clock(clockid_t id, struct timespec *ts)
{
	return (int)syscall(SYS_clock_gettime, id, ts);
}

static void
shift_refresh(void)
{
	const char *path = getenv("COHORT_TEST_CLOCK_SHIFT_FILE");
	struct timespec now;
	char text[64], *end;
	int64_t now_ns;
	ssize_t n;
	int fd;

	if (path == NULL || kernel_clock(CLOCK_MONOTONIC, &now) != 0)
		return;
	now_ns = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
	if (read_at_ns >= 0 && now_ns - read_at_ns < REREAD_NS)
		return;
	read_at_ns = now_ns;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return;
	text[n] = '\0';
	shift_ms = strtoll(text, &end, 10);
	mono_shift_ms = strtoll(end, NULL, 10);
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	int saved_errno = errno; /* a missing file must not show */
	int rc = kernel_clock(id, ts);
	int wall = id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE;
	int mono = id == CLOCK_MONOTONIC || id == CLOCK_MONOTONIC_COARSE;
	int64_t ns;

	if (rc != 0 || (!wall && !mono))
		return rc;
	/* Read again on the wall clock only: a daemon that reads the wall
	 * clock and then the monotonic one sees both shifts of one file. */
	if (wall)
		shift_refresh();
	errno = saved_errno;
	ns = (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec +
	    (wall ? shift_ms : mono_shift_ms) * 1000000LL;
	ts->tv_sec = (time_t)(ns / 1000000000LL);
	ts->tv_nsec = (long)(ns % 1000000000LL);
	return 0;
}
