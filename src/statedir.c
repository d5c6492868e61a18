/*
 * statedir.c - STATE_DIR: where it is, that it is the user's alone, and
 * the one way to open a file in it (the journal, the rate limit, the key
 * reminder, a batch's lock): never through a link, never blocking on a
 * FIFO or device, only a regular file of the user's with no other name.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "statedir.h"

int
state_dir_resolve(const char *opt, char *out, size_t n)
{
	const char *v;
	int r;

	if (opt && *opt)
		r = snprintf(out, n, "%s", opt);
	else if ((v = getenv("AGCOD_STATE_DIR")) && *v)
		r = snprintf(out, n, "%s", v);
	else if ((v = getenv("XDG_STATE_HOME")) && *v)
		r = snprintf(out, n, "%s/agcod", v);
	else
		r = snprintf(out, n, "%s/.local/state/agcod",
		    (v = getenv("HOME")) && *v ? v : "/");
	return r < 0 || (size_t)r >= n ? -1 : 0;
}

static int
fail_errno(char *why, size_t n, int e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail_errno(char *why, size_t n, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}

int
state_dir_make(const char *dir, char *why, size_t n)
{
	char p[PATH_MAX], *s;
	struct stat st;

	if (strlcpy(p, dir, sizeof(p)) >= sizeof(p))
		return fail_errno(why, n, ENAMETOOLONG, "the path is too long");
	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) == -1 && errno != EEXIST)
			return fail_errno(why, n, errno, "cannot create '%s': %s",
			    p, strerror(errno));
		*s = '/';
	}
	if (mkdir(p, 0700) == -1 && errno != EEXIST)
		return fail_errno(why, n, errno, "cannot create it: %s",
		    strerror(errno));
	if (lstat(p, &st) == -1)
		return fail_errno(why, n, errno, "%s", strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail_errno(why, n, ENOTDIR, "it is not a directory");
	if (st.st_uid != geteuid())
		return fail_errno(why, n, EPERM, "it is owned by uid %u, not "
		    "by you", (unsigned)st.st_uid);
	if (st.st_mode & 022)
		return fail_errno(why, n, EPERM, "others can write to it "
		    "(mode %03o): run 'chmod go-w' on it", st.st_mode & 0777);
	return 0;
}

int
state_file_open(const char *path, int flags)
{
	struct stat st;
	int fd, e;

	fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY,
	    0600);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto bad;
	/* a second name (a hard link) would let us write where it points */
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_nlink != 1) {
		errno = S_ISREG(st.st_mode) ? EPERM : EINVAL;
		goto bad;
	}
	if ((st.st_mode & 077) && fchmod(fd, 0600) == -1)
		goto bad;
	/* a regular file: blocking reads and writes from here on */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == -1)
		goto bad;
	return fd;
bad:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

