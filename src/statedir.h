/* statedir.h - STATE_DIR and the one safe way to open a file in it */
#ifndef AGCOD_STATEDIR_H
#define AGCOD_STATEDIR_H

#include <stddef.h>

/* STATE_DIR from --state-dir, AGCOD_STATE_DIR, XDG_STATE_HOME or HOME */
int	state_dir_resolve(const char *opt, char *out, size_t outlen);
/*
 * The state directory, checked once from / down (every directory on the
 * way root's or the user's, not writable by others; links followed only
 * from such directories; missing ones made with mode 0700), then held: a
 * descriptor this process keeps (do not close it), or -1 with errno (EPERM
 * for a wrong owner or mode, ENOTDIR) and the reason in why.  The same
 * dir again returns the same descriptor, without walking again.
 */
int	state_dir_fd(const char *dir, char *why, size_t whylen);
/* state_dir_fd for a directory that is there: never made (ENOENT) */
int	state_dir_find(const char *dir, char *why, size_t whylen);
/* state_dir_fd, for who needs only to know that the directory is usable */
int	state_dir_make(const char *dir, char *why, size_t whylen);
/*
 * The one way to open a file in the state directory: name relative to the
 * held descriptor dfd, without following a link and without blocking on a
 * FIFO or device: a regular file owned by this user with no other name (no
 * hard link), mode 0600 (loosened modes are tightened); -1 with errno
 * (ELOOP for a link, EPERM, or EINVAL for what is not a file).
 */
int	state_file_openat(int dfd, const char *name, int flags);
/* state_file_openat in path's directory, held (or checked, never made) */
int	state_file_open(const char *path, int flags);

#endif
