/* t_statedir.c - the state directory: checked from / down, then held */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../src/statedir.h"
#include "unit.h"

static void
rm_rf(const char *p)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", p);
}

void
test_statedir(void)
{
	char base[] = "/tmp/agcod-t-statedir-XXXXXX";
	char p[PATH_MAX], q[PATH_MAX], why[200];
	struct stat st;
	int dfd, fd;

	if (mkdtemp(base) == NULL) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	/* a group-writable parent: refused, and nothing made under it */
	snprintf(p, sizeof(p), "%s/g", base);
	mkdir(p, 0700);
	chmod(p, 0770);
	snprintf(p, sizeof(p), "%s/g/state", base);
	CHECK(state_dir_fd(p, why, sizeof(why)) == -1 && errno == EPERM,
	    "group-writable parent refused");
	CHECK(lstat(p, &st) == -1, "nothing created under it");

	/* a link in a world-writable directory: refused */
	snprintf(p, sizeof(p), "%s/real", base);
	mkdir(p, 0700);
	snprintf(q, sizeof(q), "%s/w", base);
	mkdir(q, 0700);
	chmod(q, 0777);
	snprintf(q, sizeof(q), "%s/w/link", base);
	CHECK(symlink(p, q) == 0, "symlink");
	snprintf(q, sizeof(q), "%s/w/link/state", base);
	CHECK(state_dir_fd(q, why, sizeof(why)) == -1 && errno == EPERM,
	    "link others could swap refused");

	/*
	 * The held descriptor: the directory renamed away and another put
	 * in its place after the check, files still go where was checked.
	 */
	snprintf(p, sizeof(p), "%s/s", base);
	dfd = state_dir_fd(p, why, sizeof(why));
	CHECK(dfd != -1, "state dir made: %s", why);
	snprintf(q, sizeof(q), "%s/moved", base);
	CHECK(rename(p, q) == 0, "rename");
	CHECK(symlink(base, p) == 0, "a link put in its place");
	fd = state_file_openat(dfd, "f", O_RDWR | O_CREAT);
	CHECK(fd != -1, "opened by descriptor");
	if (fd != -1)
		close(fd);
	snprintf(q, sizeof(q), "%s/moved/f", base);
	CHECK(lstat(q, &st) == 0, "created in the checked directory");
	snprintf(q, sizeof(q), "%s/f", base);
	CHECK(lstat(q, &st) == -1, "not through the link put in its place");

	/* a file replaced by a link after the check is not followed */
	snprintf(q, sizeof(q), "%s/moved/g", base);
	CHECK(symlink("/etc/passwd", q) == 0, "symlink");
	errno = 0;
	CHECK(state_file_openat(dfd, "g", O_RDONLY) == -1 && errno == ELOOP,
	    "a link is not followed");
	/* the same path made again (a test's fresh directory): walked anew */
	snprintf(p, sizeof(p), "%s/again", base);
	dfd = state_dir_fd(p, why, sizeof(why));
	CHECK(dfd != -1 && state_dir_fd(p, why, sizeof(why)) == dfd,
	    "the same directory: the held descriptor");
	rm_rf(p);
	CHECK(mkdir(p, 0700) == 0, "made again");
	fd = state_file_openat(state_dir_fd(p, why, sizeof(why)), "f",
	    O_RDWR | O_CREAT);
	CHECK(fd != -1, "opened in the new one");
	if (fd != -1)
		close(fd);
	snprintf(q, sizeof(q), "%s/again/f", base);
	CHECK(lstat(q, &st) == 0, "the file is where the path now leads");
	rm_rf(base);
}
