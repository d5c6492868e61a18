/* trace.h - redacted dumps of HTTP exchanges, for support cases */
#ifndef AGCOD_TRACE_H
#define AGCOD_TRACE_H

#include <stddef.h>

struct cmd_ctx;
struct op;
struct api_result;

#define TRACE_FAILURES	"failures.trace"	/* in STATE_DIR */
#define TRACE_MARK	"### agcod exchange "

/*
 * After each attempt: append the exchange to --trace FILE, and when it did
 * not succeed, to STATE_DIR/failures.trace (kept for support-draft).
 */
void	trace_attempt(struct cmd_ctx *, const struct op *, const char *body,
	    size_t len, const struct api_result *);
/*
 * Open a file for appending: a regular file of ours, mode 0600, never through
 * a symlink, never a FIFO or device; -1 with the reason in *why.
 */
int	trace_open(const char *path, const char **why);
/*
 * Before anything is sent: open --trace FILE, or say why not (0, or the
 * exit code EX_IOERR after the message).
 */
int	trace_prepare(struct cmd_ctx *);

#endif
