/* journal.h - the write-ahead journal of requests (never claim codes) */
#ifndef AGCOD_JOURNAL_H
#define AGCOD_JOURNAL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "result.h"
#include "statedir.h"

#define JOURNAL_DB	"journal.db"
#define JOURNAL_LEGACY	"journal.jsonl"	/* agcod 0.1's, imported once */

struct sqlite3;
struct sqlite3_stmt;
struct journal_store;

#define JOURNAL_STMTS	40

/*
 * The handle commands use.  Its store (journal_store.h) is picked by
 * journal_open; commands never reach past journal.h into it.
 */
struct journal {
	const struct journal_store *ops;
	/* the SQLite store's own (journal_sqlite.c) */
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
	void		*impl;		/* another store's own state */
	/*
	 * Who writes pending records: this process (its pid and start time,
	 * set by journal_open), and how another's liveness is judged.  A
	 * simulation of several processes in one sets its own.
	 */
	long long	 owner_pid, owner_start;
	int		(*alive)(long long pid, long long start);
	/* journal_begin: the money object's state before it (or "") */
	char		 prior[16], prior_time[32];
	/* journal_finish: the state it left the request in */
	char		 decided[16];
};

/* the schema version this agcod writes; a newer journal is refused */
#define JOURNAL_SCHEMA	2

/* journal_begin's refusals, apart from -1 (an error) */
#define JOURNAL_HELD	(-2)	/* a live process is sending this id now */
#define JOURNAL_REF_TAKEN (-3)	/* its external reference has a live card */
#define JOURNAL_ID_ELSEWHERE (-4) /* its id is another environment's */
/* a physical card's error_type while requests that were in flight together
 * leave its state to ActivationStatusCheck (journal_card_status) */
#define CARD_UNORDERED	"InFlightTogether"
#define JOURNAL_OTHER_TERMS (-5) /* an attempt with other terms may have acted */
#define JOURNAL_MAYBE_OPEN (-6) /* not recorded, but the id has an open record */
#define JOURNAL_CONFLICT (-7)	/* journal copy: the target has it otherwise */

enum journal_mode {
	JOURNAL_READ,	/* no journal yet is an empty one */
	JOURNAL_WRITE,	/* create the state directory and journal */
};

/*
 * Open STATE_DIR/journal.db (WAL, synchronous=FULL, a busy timeout, the
 * schema migrated to the current version).  A journal.jsonl left by agcod
 * 0.1 is imported once, then renamed.  AGCOD_OK, or with j->err set:
 * AGCOD_E_JOURNAL_IO, the journal cannot be used (nothing was sent).
 */
enum agcod_result journal_open(struct journal *, const char *state_dir,
	    enum journal_mode);
/*
 * journal_open, with where the journal is: a PostgreSQL connection string
 * (a libpq URI, key=value string or service name: the profile's journal =
 * or AGCOD_JOURNAL), or NULL or "" for state_dir's journal.db.  Also
 * AGCOD_E_CONFIG: the connection string cannot name a journal agcod may
 * use (libpq cannot read it, a server over a network without
 * sslmode=verify-full); a server that cannot be reached is
 * AGCOD_E_JOURNAL_IO.
 */
enum agcod_result journal_open_at(struct journal *, const char *state_dir,
	    const char *where, enum journal_mode);
/* a connection string that holds a password (a secret) */
int	journal_where_password(const char *where);	/* 1, 0, -1: cannot tell */
/* it, for a message or a listing: never its password */
void	journal_where_shown(const char *where, char *out, size_t len);
void	journal_close(struct journal *);
/* journal_close at the process's end: a SQLite journal without a
 * checkpoint due is left to the exit (its commits are durable already) */
void	journal_leave(struct journal *);
/* there is a journal (JOURNAL_READ finds none before the first request) */
int	journal_is_open(const struct journal *);

/*
 * A request about to be sent: the pending record (members as in
 * journal_columns) is committed durably before this returns; older open
 * records of the same operation and request id, left by processes that
 * ended, are closed by it ("retried").  Returns the record's id, or with
 * j->err: JOURNAL_HELD when a live process has this id's pending record,
 * JOURNAL_REF_TAKEN when the record reserves its external reference
 * ("reserved": 1) and a live object of the partner and environment has
 * it, JOURNAL_ID_ELSEWHERE when the journal has the request id (or the
 * money object it refers to) for another partner or environment,
 * JOURNAL_OTHER_TERMS when an attempt of the id with another body may
 * have acted and its outcome is open, JOURNAL_MAYBE_OPEN when it failed
 * (j->err) and an open record of the id, which reconcile sends, remains or
 * cannot be ruled out, -1 on an error that leaves none.
 */
int64_t	journal_begin(struct journal *, json_t *pending);
/*
 * Its outcome: "evidence" (success, refunded, refused, refused-f2,
 * no-proof, not-sent; without it, "state" succeeded|failed|unknown|not
 * sent|cancelled stands for one), the answer's fields.  The journal, not
 * the caller, decides the request's state (j->decided) and its object's:
 * a refusal after an attempt that may have acted leaves both unknown.
 * A closed record is never opened again.
 */
int	journal_finish(struct journal *, int64_t id, json_t *outcome);
/* an attempt of the record may have acted (durable before it returns) */
int	journal_acted(struct journal *, int64_t id);
/* the result could not be handed to the operator (stdout failed) */
int	journal_undelivered(struct journal *, int64_t id);
/* an unknown outcome settled by hand, after confirming with Amazon */
int	journal_settle(struct journal *, const char *op, const char *rid,
	    const char *state, const char *gc_id, const char *reason);
/*
 * A physical card left unknown (CARD_UNORDERED) with nothing open takes
 * the state ActivationStatusCheck gave: made 1 its activation's (op: one
 * that moves the card), 0 its deactivation's.  Only when no request on
 * the card is open, and none that may have acted has a row newer than
 * asked (journal_card_asked, read before the question was sent): 1
 * settled, 0 not, -1 error.
 */
int	journal_card_status(struct journal *, const char *op,
	    const char *card, int made, int64_t asked);
/* the newest request row on the card, 0 if one is open (do not ask), -1 */
int64_t	journal_card_asked(struct journal *, const char *op, const char *card);

/*
 * The latest record of an operation's request id, with the first time it
 * was sent as "time", and from its money object, if it has one, the
 * object's state as "object_state" and the gc_id, amount and currency it
 * was settled with; a new reference, or NULL: not found with j->err
 * empty, an error with j->err set.  A card pruned from the journal is
 * still found, with "pruned": 1, its state and time only.
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
	int		 live;		/* objects pending, unknown or issued */
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
 * Evidence about a money object: the only things that move it.
 */
enum journal_evidence {
	EV_SEND,		/* an attempt is about to leave (pending) */
	EV_NOT_SENT,		/* it provably never left */
	EV_NO_PROOF,		/* it may have acted: timeout, 5xx, RESEND, an
				 * unreadable answer, a process that died */
	EV_REFUSED,		/* this attempt was refused: F1xx-F3xx, F500,
				 * 401/403, throttling */
	EV_REFUSED_SAME,	/* an F2xx refusal of the very body every
				 * earlier attempt of its id sent */
	EV_SUCCESS,		/* SUCCESS for its id, with what it must carry */
	EV_REFUNDED,		/* a create's SUCCESS: RefundedToPurchaser */
	EV_SETTLED_OK,		/* journal settle --state succeeded */
	EV_SETTLED_FAILED,	/* journal settle --state failed */
	EV_COUNT
};

/*
 * The one rule (pure): the state a money object moves to on evidence
 * from a request of operation op (the one that makes the object, or its
 * undo).  cur: the object's state, NULL if none; acted: an earlier
 * attempt that made it may have acted, so a refusal, or a retry not sent,
 * proves nothing.
 * Returns the new state, or cur (possibly NULL) for no change.
 */
const char *journal_next_state(const char *op, const char *cur,
	    enum journal_evidence, int acted);
/* its table, as agcod-journal(5) prints it: row r (JT_ROWS evidence
 * columns), column c (JT_COLS object states); names for both */
#define JT_ROWS	11
#define JT_COLS	7
const char *journal_table(int row, int col);
const char *journal_table_row(int row);
const char *journal_table_col(int col);
/* a pending record of a live process other than this one */
int	journal_row_live(struct journal *, json_t *row);
/*
 * The lock of a batch id held by this process until the journal closes,
 * where the store keeps it (PostgreSQL: across hosts): 0 taken, 1 held by
 * another run, -1 with why; JOURNAL_LOCK_LOCAL: the state directory keeps
 * it (cmd_batch.c's flock).
 */
#define JOURNAL_LOCK_LOCAL	2
int	journal_batch_lock(struct journal *, const char *batch, char *why,
	    size_t len);
/*
 * Copy every record of src (its requests, money objects and pruned rows)
 * into dst, in one transaction of dst's: a record dst has already is
 * skipped, so a second copy copies nothing and an interrupted one is
 * done again whole.  Counts in n (copied, skipped: [0] requests, [1]
 * objects, [2] pruned).  0; JOURNAL_HELD when a live process is sending
 * from src; JOURNAL_CONFLICT when dst has a record of the same id with
 * other terms (nothing copied); -1 on an error; j->err of the one that
 * failed in *failed.
 */
struct journal_copied {
	long	copied[3], skipped[3];
};
int	journal_copy(struct journal *dst, struct journal *src,
	    struct journal_copied *n, struct journal **failed);
/*
 * A slot of the partner's rate in an environment (ratelimit.h's class
 * cls, max_rps a second), where the store keeps it (PostgreSQL: one
 * schedule for every host, on the server's clock), taken atomically: 0
 * with *wait_ns until it; 1 when it is more than max_wait_ns away
 * (*wait_ns: how far; nothing reserved); -1 with j->err;
 * JOURNAL_LOCK_LOCAL: the state directory keeps it (ratelimit.c's file).
 */
int	journal_rate_reserve(struct journal *, const char *partner,
	    const char *environment, int cls, int max_rps,
	    int64_t max_wait_ns, int64_t *wait_ns);
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
