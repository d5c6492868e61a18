/*
 * journal_txn.h - the journal's transactions, once, for every store
 * (journal_txn.c): what a request's record and its money object become,
 * read and written through a store's SQL driver (struct journal_sql), so
 * that SQLite's store and PostgreSQL's make the same decisions with the
 * same statements.  A store supplies the driver; its table of operations
 * (journal_store.h) points at the txn_* functions below.
 */
#ifndef AGCOD_JOURNAL_TXN_H
#define AGCOD_JOURNAL_TXN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "journal.h"
#include "journal_state.h"

/*
 * A statement's parameters, $1 to $n in its text (both SQLite and
 * PostgreSQL read $N; SQLite binds them by name).  Text NULL is SQL NULL.
 * Where PostgreSQL cannot infer a parameter's type from its use (only
 * `$N IS NULL`), the text says CAST($N AS TEXT), which SQLite reads too.
 */
enum { JP_TEXT, JP_INT };
#define JMAXP	64
struct jparams {
	struct {
		int		 type;
		const char	*s;
		int64_t		 i;
	}	v[JMAXP];
	int	n;
};
void	jp_text(struct jparams *, const char *);
void	jp_int(struct jparams *, int64_t);
/* a member of a record, as the column wants it */
void	jp_member(struct jparams *, json_t *rec, const struct column *);

/* run's flag: a unique index's refusal is JQ_UNIQUE, the transaction
 * still usable */
#define JQ_MAY_CONFLICT	1
#define JQ_UNIQUE	(-100)

/* a store's SQL: what journal_txn.c needs of it */
struct journal_sql {
	/* a write transaction, one writer at a time (0, or -1 with j->err) */
	int	(*begin)(struct journal *);
	int	(*commit)(struct journal *);
	void	(*rollback)(struct journal *);
	/*
	 * Run sql with p (may be NULL).  The rows it returns: their count,
	 * the first as JSON in *row (when row is not NULL; NULL if none,
	 * integers and booleans as integers); a statement that returns none:
	 * the rows it changed.  -1 with j->err ("what: reason"); JQ_UNIQUE
	 * (j->err set too) with JQ_MAY_CONFLICT.
	 */
	long	(*run)(struct journal *, const char *what, const char *sql,
		    const struct jparams *p, json_t **row, int flags);
	/* every row, as JSON, to fn until it returns nonzero (that, 0, -1) */
	int	(*each)(struct journal *, const char *what, const char *sql,
		    const struct jparams *p, int (*fn)(json_t *, void *),
		    void *arg);
	/*
	 * After a failed transaction: 1 when running it again may succeed
	 * and cannot do it twice (a serialization failure, a deadlock; a
	 * lost session restored, when lost_ok), else 0.  NULL: never.
	 */
	int	(*again)(struct journal *, int lost_ok);
	/* the store's own check before agcod's (SQLite's integrity_check):
	 * problems, or -1 (reported through fn); NULL: none */
	int	(*own_check)(struct journal *, void (*fn)(const char *, void *),
		    void *);
	/* a statement counting the columns that could hold a claim code */
	const char *claim_columns;
	/* after a prune that wrote much (NULL: nothing to do) */
	void	(*wrote_much)(struct journal *);
};

/* the schema, version by version: [i] takes it from i to i + 1 */
extern const char *const journal_schema_sqlite[JOURNAL_SCHEMA];
extern const char *const journal_schema_pg[JOURNAL_SCHEMA];

/* the transactions (journal.c calls them) */
int64_t	txn_begin(struct journal *, json_t *pending);
int	txn_finish(struct journal *, int64_t id, json_t *outcome);
int	txn_acted(struct journal *, int64_t id);
int	txn_undelivered(struct journal *, int64_t id);
int	txn_settle(struct journal *, const char *op, const char *rid,
	    const char *state, const char *gc_id, const char *reason);
int	txn_card_status(struct journal *, const char *op, const char *card,
	    int made, int64_t asked);
int64_t	txn_card_asked(struct journal *, const char *op, const char *card);
json_t	*txn_lookup(struct journal *, const char *op, const char *rid);
int	txn_find_gc(struct journal *, const char *kind, const char *gc_id,
	    const char *partner, const char *environment, char *rid,
	    size_t len);
int	txn_query(struct journal *, const struct journal_query *,
	    int (*fn)(json_t *, void *), void *);
int	txn_check(struct journal *, void (*fn)(const char *, void *), void *);
long	txn_prune(struct journal *, const char *before, int dry_run);
/*
 * journal copy (journal_copy.c).  txn_rows: every row of table
 * ("requests", "objects", "pruned") as stored, oldest first, to fn
 * (borrowed); -1 with j->err.  Into another store, in one write
 * transaction (txn_restore_begin; txn_restore_end commits or rolls back),
 * txn_restore puts one row as it was ("id" not kept; the new one in *id):
 * 1 copied, 0 there already (*id the copy's), JOURNAL_CONFLICT with
 * j->err when the store has it with other terms, -1 on an error.
 */
int	txn_rows(struct journal *, const char *table,
	    int (*fn)(json_t *, void *), void *);
int	txn_restore_begin(struct journal *);
int	txn_restore(struct journal *, const char *table, json_t *row,
	    int64_t *id);
int	txn_restore_end(struct journal *, int commit);

/* inside a write transaction: record a pending request (live: by this
 * process, which the held and other-terms rules apply to; 0 for an
 * import), or an outcome */
int	begin_locked(struct journal *, json_t *, int64_t *id, int live);
int	finish_locked(struct journal *, int64_t, json_t *);

/* the states a request row may have */
#define REQUEST_STATES	6
extern const char *const request_states[REQUEST_STATES];
int	one_of(const char *s, const char *const *set, size_t n);

#endif
