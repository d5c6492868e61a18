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
/* open a file for appending: mode 0600, never through a symlink */
int	trace_open(const char *path);

#endif
