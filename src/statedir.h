/* statedir.h - STATE_DIR and the one safe way to open a file in it */
#ifndef AGCOD_STATEDIR_H
#define AGCOD_STATEDIR_H

#include <stddef.h>

/* STATE_DIR from --state-dir, AGCOD_STATE_DIR, XDG_STATE_HOME or HOME */
int	state_dir_resolve(const char *opt, char *out, size_t outlen);
/*
 * mkdir -p with mode 0700, then insist on a directory owned by this user
 * that nobody else can write to; -1 with errno (EPERM for a wrong owner or
 * mode, ENOTDIR) and the reason in why
 */
int	state_dir_make(const char *dir, char *why, size_t whylen);
/*
 * Open a path inside the state directory without following a link and
 * without blocking on a FIFO or device: a regular file owned by this user
 * with no other name (no hard link), mode 0600 (loosened modes are
 * tightened); -1 with errno (EPERM, or EINVAL for what is not a file).
 */
int	state_file_open(const char *path, int flags);

#endif
