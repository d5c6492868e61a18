/* msg.h - the one path for messages to stderr, and how outside text is shown */
#ifndef AGCOD_MSG_H
#define AGCOD_MSG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

extern int msg_verbosity;	/* -1 quiet, 0 normal, 1+ verbose */

/*
 * Every message passes here, and here only are control characters replaced
 * (as git's vreportf does): a server's errorCode, a CSV cell or an option
 * value in a message is shown, never obeyed by the terminal.
 */
void	msg_err(const char *, ...) __attribute__((format(printf, 1, 2)));
void	msg_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	msg_note(const char *, ...) __attribute__((format(printf, 1, 2)));
void	msg_verbose(const char *, ...) __attribute__((format(printf, 1, 2)));

/*
 * Showing text from outside (server, files, options).  Replaced with \xNN:
 * C0 controls and DEL, the C1 controls U+0080-U+009F (as UTF-8: each of their
 * two bytes) and the bytes 0x80-0x9F outside a valid UTF-8 sequence (8-bit
 * CSI and friends).  With SHOW_LINES, newline, tab and CR before LF stay, for
 * multi-line bodies; without it (one message, one table cell) they go too.
 */
#define SHOW_LINES	1
void	msg_show(FILE *, const char *, size_t, int flags);
/* the width msg_show gives the text */
size_t	msg_shown_len(const char *, size_t, int flags);
/* the columns it takes on a terminal (wcwidth: 2 for CJK, 0 combining) */
size_t	msg_shown_width(const char *, size_t, int flags);
/* msg_show into dst, whole replacements only, always NUL-terminated */
void	msg_sanitize(char *dst, size_t dstlen, const char *src, size_t srclen);
/* fprintf, then the whole text through msg_show with SHOW_LINES */
int	msg_fprintf(FILE *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	msg_vfprintf(FILE *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
/* msg_show with SHOW_LINES */
void	msg_put_shown(FILE *, const char *, size_t);

#endif
