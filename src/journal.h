/* journal.h - the write-ahead journal of requests (never claim codes) */
#ifndef AGCOD_JOURNAL_H
#define AGCOD_JOURNAL_H

#include <limits.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#define JOURNAL_NAME	"journal.jsonl"

struct journal {
	int	fd;
	char	path[PATH_MAX];
};

/* STATE_DIR from --state-dir, AGCOD_STATE_DIR, XDG_STATE_HOME or HOME */
int	state_dir_resolve(const char *opt, char *out, size_t outlen);
/* mkdir -p with mode 0700; -1 with errno */
int	state_dir_make(const char *dir);

int	journal_open(struct journal *, const char *state_dir);
void	journal_close(struct journal *);
/*
 * One line, under flock, written with one write(2); with durable, flushed
 * with fdatasync before returning.  A pending record must be durable before
 * its request is sent.  A final record need not be: if a crash loses it,
 * the entry reads as pending and reconcile re-sends the same request id,
 * which Amazon answers with the original result.
 */
int	journal_append(struct journal *, json_t *record, int durable);

/*
 * Fold journal text into entries: one object per (operation, request_id),
 * later records' members over earlier ones', in order of first appearance.
 * Lines that are not JSON objects are counted in *bad; a torn last line (no
 * newline, as a crash leaves it) sets *torn.  Pure: no I/O.
 */
json_t	*journal_fold(const char *text, size_t len, int *bad, int *torn);
/* read and fold the journal at STATE_DIR; NULL with errno on error */
json_t	*journal_read(const char *state_dir, int *bad, int *torn);
/* the latest entry of an operation and request id, or NULL (borrowed) */
json_t	*journal_find(json_t *entries, const char *op, const char *rid);
void	journal_time(time_t, char out[32]);

#endif
