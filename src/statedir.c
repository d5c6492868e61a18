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

#ifndef O_PATH
#define O_PATH	0
#endif
#define MAX_LINKS	40

/* the state directory this process checked, and its descriptor */
static int held_fd = -1;
static char held_path[PATH_MAX];

/*
 * A directory on the way: root's or the user's, and nobody else can write
 * to it (or it is sticky, like /tmp: others cannot rename what is not theirs)
 */
static int
safe_parent(int fd, const char *shown, char *why, size_t n)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return fail_errno(why, n, errno, "'%s': %s", shown,
		    strerror(errno));
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return fail_errno(why, n, EPERM, "'%s' is owned by uid %u, "
		    "not by you or root", shown, (unsigned)st.st_uid);
	if ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))
		return fail_errno(why, n, EPERM, "others can write to '%s' "
		    "(mode %03o): run 'chmod go-w' on it", shown,
		    st.st_mode & 0777);
	return 0;
}

/* the state directory itself: the user's alone */
static int
safe_last(int fd, char *why, size_t n)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
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

/* the next component of *path into comp: 1, 0 at the end, -1 too long */
static int
next_component(char **path, char *comp, size_t n)
{
	char *s = *path, *e;

	while (*s == '/')
		s++;
	if (*s == '\0')
		return 0;
	if ((e = strchr(s, '/')) == NULL)
		e = s + strlen(s);
	if ((size_t)(e - s) >= n)
		return -1;
	memcpy(comp, s, e - s);
	comp[e - s] = '\0';
	*path = e;
	return 1;
}

/* a link in a checked directory: rest becomes its target, then left */
static int
splice_link(int fd, const char *comp, char *rest, size_t rn,
    const char *left, char *why, size_t n)
{
	char target[PATH_MAX], tmp[PATH_MAX];
	struct stat st;
	ssize_t len;

	if (fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return fail_errno(why, n, errno, "%s", strerror(errno));
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return fail_errno(why, n, EPERM, "the link '%s' is owned by "
		    "uid %u, not by you or root", comp, (unsigned)st.st_uid);
	if ((len = readlinkat(fd, comp, target, sizeof(target) - 1)) == -1)
		return fail_errno(why, n, errno, "%s", strerror(errno));
	target[len] = '\0';
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/%s", target, left) >=
	    sizeof(tmp) || strlcpy(rest, tmp, rn) >= rn)
		return fail_errno(why, n, ENAMETOOLONG, "the path is too long");
	return 0;
}

/* one step down from fd, made with mode 0700 if it is not there */
static int
step(int fd, const char *comp, int last, int make, const char *shown,
    char *why, size_t n)
{
	int nfd;

	nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (nfd == -1 && errno == ENOENT && make) {
		if (mkdirat(fd, comp, 0700) == -1 && errno != EEXIST)
			return last ? fail_errno(why, n, errno, "cannot create "
			    "it: %s", strerror(errno)) : fail_errno(why, n,
			    errno, "cannot create '%s': %s", shown,
			    strerror(errno));
		nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	}
	if (nfd == -1 && (errno == ENOTDIR || errno == ELOOP))
		return last ? fail_errno(why, n, ENOTDIR, "it is not a "
		    "directory") : fail_errno(why, n, ENOTDIR, "'%s' is not "
		    "a directory", shown);
	if (nfd == -1)
		return fail_errno(why, n, errno, "'%s': %s", shown,
		    strerror(errno));
	if ((last ? safe_last(nfd, why, n) : safe_parent(nfd, shown, why, n))
	    == -1) {
		close(nfd);
		return -1;
	}
	return nfd;
}

/* shown, the directory walked so far, after comp ("..": one up) */
static void
shown_step(char *shown, size_t n, const char *comp)
{
	char *s;

	if (strcmp(comp, "..") != 0) {
		strlcat(shown, "/", n);
		strlcat(shown, comp, n);
	} else if ((s = strrchr(shown, '/')) != NULL)
		*s = '\0';
}

/* where every walk starts, checked as every directory on the way is */
static int
open_root(char *why, size_t n)
{
	int fd;

	if ((fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return fail_errno(why, n, errno, "/: %s", strerror(errno));
	if (safe_parent(fd, "/", why, n) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Down from / one component at a time, as OpenSSH's safe_path() checks:
 * every directory on the way is root's or the user's and others cannot
 * write to it, so nobody else can swap a component or a link in it.  A
 * link is followed only from such a directory and only if it is root's
 * or the user's; the state directory itself must not be a link.  With
 * make, missing directories are made with mode 0700.  The descriptor
 * (O_PATH), or -1.
 */
static int
walk(const char *abs, int make, char *why, size_t n)
{
	char rest[PATH_MAX], left[PATH_MAX], comp[NAME_MAX + 1];
	char shown[PATH_MAX] = "", *cur;
	struct stat st;
	int fd, nfd, r, last, links = 0, any = 0;

	if (strlcpy(rest, abs, sizeof(rest)) >= sizeof(rest))
		return fail_errno(why, n, ENAMETOOLONG, "the path is too long");
	if ((fd = open_root(why, n)) == -1)
		return -1;
	cur = rest;
	while ((r = next_component(&cur, comp, sizeof(comp))) == 1) {
		if (strcmp(comp, ".") == 0)
			continue;
		last = cur[strspn(cur, "/")] == '\0';
		if (!last && fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode)) {
			strlcpy(left, cur, sizeof(left));
			if (++links > MAX_LINKS) {
				fail_errno(why, n, ELOOP, "too many links");
				goto bad;
			}
			if (splice_link(fd, comp, rest, sizeof(rest), left,
			    why, n) == -1)
				goto bad;
			if (rest[0] == '/') {
				close(fd);
				if ((fd = open_root(why, n)) == -1)
					return -1;
				shown[0] = '\0';
			}
			cur = rest;
			continue;
		}
		shown_step(shown, sizeof(shown), comp);
		nfd = step(fd, comp, last, make, shown, why, n);
		close(fd);
		if ((fd = nfd) == -1)
			return -1;
		any = 1;
	}
	if (r == -1)
		fail_errno(why, n, ENAMETOOLONG, "the path is too long");
	else if (any || safe_last(fd, why, n) == 0)	/* "/" itself */
		return fd;
bad:
	close(fd);
	return -1;
}

static int
hold(const char *dir, int make, char *why, size_t n)
{
	char abs[PATH_MAX], cwd[PATH_MAX];
	struct stat a, b;
	int pfd, fd;

	/*
	 * Checked once: the same directory again is the held descriptor.  Had
	 * the path come to name another (removed and made again, as a test
	 * does), that one is walked and checked in its turn.
	 */
	if (held_fd != -1 && strcmp(held_path, dir) == 0 &&
	    stat(dir, &a) == 0 && fstat(held_fd, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return held_fd;
	if (strlen(dir) >= sizeof(held_path))
		return fail_errno(why, n, ENAMETOOLONG, "the path is too long");
	if (dir[0] == '/')
		strlcpy(abs, dir, sizeof(abs));
	else if (getcwd(cwd, sizeof(cwd)) == NULL)
		return fail_errno(why, n, errno, "%s", strerror(errno));
	else if ((size_t)snprintf(abs, sizeof(abs), "%s/%s", cwd, dir) >=
	    sizeof(abs))
		return fail_errno(why, n, ENAMETOOLONG, "the path is too long");
	if ((pfd = walk(abs, make, why, n)) == -1)
		return -1;
	/* a descriptor that can be read and locked, not only walked */
	fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(pfd);
	if (fd == -1)
		return fail_errno(why, n, errno, "%s", strerror(errno));
	if (held_fd != -1)
		close(held_fd);
	held_fd = fd;
	strlcpy(held_path, dir, sizeof(held_path));
	return fd;
}

int
state_dir_fd(const char *dir, char *why, size_t n)
{
	return hold(dir, 1, why, n);
}

int
state_dir_find(const char *dir, char *why, size_t n)
{
	return hold(dir, 0, why, n);
}

int
state_dir_make(const char *dir, char *why, size_t n)
{
	return state_dir_fd(dir, why, n) == -1 ? -1 : 0;
}

int
state_file_open(const char *path, int flags)
{
	char dir[PATH_MAX], why[200];
	const char *slash = strrchr(path, '/');
	int dfd;

	if (slash == NULL || (size_t)(slash - path) >= sizeof(dir)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(dir, path, slash - path);
	dir[slash - path] = '\0';
	/* the directory held, or checked now; never made here */
	if ((dfd = hold(dir[0] ? dir : "/", 0, why, sizeof(why))) == -1)
		return -1;
	return state_file_openat(dfd, slash + 1, flags);
}

int
state_file_openat(int dfd, const char *name, int flags)
{
	struct stat st;
	int fd, e;

	if (strchr(name, '/') != NULL || *name == '\0') {
		errno = EINVAL;
		return -1;
	}
	fd = openat(dfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
	    O_NOCTTY, 0600);
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

