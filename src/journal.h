/* journal.h - the write-ahead journal of requests (never claim codes) */
#ifndef AGCOD_JOURNAL_H
#define AGCOD_JOURNAL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "statedir.h"

#define JOURNAL_DB	"journal.db"
#define JOURNAL_LEGACY	"journal.jsonl"	/* agcod 0.1's, imported once */

struct sqlite3;
struct sqlite3_stmt;

#define JOURNAL_STMTS	24

struct journal {
	struct sqlite3	*db;		/* NULL: closed, or no journal yet */
	char		 path[PATH_MAX];
	char		 err[600];	/* the last failure, for a message */
	/* what opening it imported from journal.jsonl, if anything */
	long		 imported, import_bad;
	int		 import_torn;
	int		 import_before;	/* found imported already */
	char		 import_renamed[PATH_MAX + 64];
	/* prepared statements, kept while it is open */
	struct sqlite3_stmt *stmt[JOURNAL_STMTS];
	char		*stmt_sql[JOURNAL_STMTS];
};

enum journal_mode {
	JOURNAL_READ,	/* no journal yet is an empty one */
	JOURNAL_WRITE,	/* create the state directory and journal */
};

/*
 * Open STATE_DIR/journal.db (WAL, synchronous=FULL, a busy timeout, the
 * schema migrated to the current version).  A journal.jsonl left by agcod
 * 0.1 is imported once, then renamed.  -1 with j->err set.
 */
int	journal_open(struct journal *, const char *state_dir, enum journal_mode);
void	journal_close(struct journal *);

/*
 * A request about to be sent: the pending record (members as in
 * journal_columns) is committed durably before this returns; older open
 * records of the same operation and request id are closed by it.
 * Returns the record's id, or -1 with j->err.
 */
int64_t	journal_begin(struct journal *, json_t *pending);
/* its outcome: state succeeded|failed|unknown|not sent|cancelled, ... */
int	journal_finish(struct journal *, int64_t id, json_t *outcome);
/* the result could not be handed to the operator (stdout failed) */
int	journal_undelivered(struct journal *, int64_t id);
/* an unknown outcome settled by hand, after confirming with Amazon */
int	journal_settle(struct journal *, const char *op, const char *rid,
	    const char *state, const char *gc_id, const char *reason);

/*
 * The latest record of an operation's request id, with the first time it
 * was sent as "time", and from its money object, if it has one, the
 * object's state as "object_state" and the gc_id, amount and currency it
 * was settled with; a new reference, or NULL (not found, or an error in
 * j->err).
 */
json_t	*journal_lookup(struct journal *, const char *op, const char *rid);

/*
 * The request id of the money object of `kind` (card, ...) that the
 * service named gc_id, of this partner and environment, in rid: the newest
 * if several.  Returns how many there are (0, 1, or 2 for more than one),
 * or -1 with j->err.
 */
int	journal_find_gc(struct journal *, const char *kind, const char *gc_id,
	    const char *partner, const char *environment, char *rid,
	    size_t len);

enum journal_view {
	VIEW_OBJECTS,	/* one row per card, load or physical card */
	VIEW_REQUESTS,	/* every request with its own outcome */
	VIEW_OPEN,	/* requests whose outcome is not known yet */
};

struct journal_query {
	enum journal_view view;
	const char	*state;
	const char	*operation;	/* CreateGiftCard, ... */
	const char	*request_id;
	const char	*extref;
	const char	*partner;	/* NULL: every partner */
	const char	*environment;	/* sandbox|production; NULL: both */
	const char	*since;		/* journal times, inclusive */
	const char	*until;		/* exclusive */
	long		 limit;		/* 0: all */
	int		 problems;	/* failed, unknown or pending only */
	int		 newest_first;
};

/* each matching row as a JSON object (borrowed); fn returning non-zero
 * stops; -1 with j->err on a journal error, else fn's last result */
int	journal_query(struct journal *, const struct journal_query *,
	    int (*fn)(json_t *row, void *), void *);

/* SQLite's own check and agcod's invariants; problems go to fn */
int	journal_check(struct journal *, void (*fn)(const char *, void *),
	    void *);
/* delete settled requests and objects last changed before the time;
 * never a pending or unknown one; returns how many rows, -1 on error */
long	journal_prune(struct journal *, const char *before, int dry_run);

/*
 * The state a money object is in after a request's outcome (pure).
 * cur: the object's state, NULL if it has none; origin: the request is
 * the one that makes the object (create, load, activate) rather than one
 * that refers to it; same: it asked what the object's request asked.
 * Returns the new state, or cur (possibly NULL) for no change.
 */
const char *journal_next_state(const char *op, const char *cur,
	    const char *outcome, int same);
/* card, load or physical, by operation name; NULL if not journaled */
const char *journal_kind(const char *op);

void	journal_time(time_t, char out[32]);
/* 2026-11-22, 2026-11-22T10:00:00Z, or an age before now: 90m, 12h, 7d */
int	journal_parse_time(const char *, time_t now, char out[32]);

/*
 * Import agcod 0.1's JSON-lines journal text (pure but for the database):
 * every record in order; lines that are not records are counted in *bad;
 * a last line without a newline (a crash mid-write) sets *torn.
 */
int	journal_import_text(struct journal *, const char *text, size_t len,
	    long *records, long *bad, int *torn);

#endif
