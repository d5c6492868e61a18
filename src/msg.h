/* msg.h - the one path for messages to stderr */
#ifndef AGCOD_MSG_H
#define AGCOD_MSG_H

#include <stddef.h>
#include <stdio.h>

extern int msg_verbosity;	/* -1 quiet, 0 normal, 1+ verbose */

void	msg_err(const char *, ...) __attribute__((format(printf, 1, 2)));
void	msg_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	msg_note(const char *, ...) __attribute__((format(printf, 1, 2)));
void	msg_verbose(const char *, ...) __attribute__((format(printf, 1, 2)));
/* copy untrusted text (server messages) with control characters replaced */
void	msg_sanitize(char *dst, size_t dstlen, const char *src, size_t srclen);
/*
 * Write bytes from a request or a server for a person to read: control
 * characters other than newline, tab and CR before LF as \xNN, so that a
 * hostile answer cannot drive the terminal.
 */
void	msg_put_shown(FILE *, const char *, size_t);

#endif
