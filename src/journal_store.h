/*
 * journal_store.h - what a journal store implements: one table of
 * operations.  SQLite's (journal_sqlite.c, STATE_DIR/journal.db) by
 * default, PostgreSQL's (journal_pg.c) when the profile's journal = or
 * AGCOD_JOURNAL names a database; journal_open_at picks one.  A store records and reads; the rule
 * that moves money objects is journal_state.c's, so every store applies
 * the same one.  Commands see journal.h only: a second store is a new
 * table here and a line in journal_open, and nothing else changes.
 */
#ifndef AGCOD_JOURNAL_STORE_H
#define AGCOD_JOURNAL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "journal.h"

struct journal_store {
	const char	*name;
	/*
	 * Open (JOURNAL_WRITE: create) the journal of the state directory,
	 * migrated to JOURNAL_SCHEMA and with agcod 0.1's journal imported;
	 * JOURNAL_READ with no journal yet leaves it closed (is_open 0), an
	 * empty one.  -1 with j->err.
	 */
	int	(*open)(struct journal *, const char *dir, enum journal_mode);
	/* bring the schema to JOURNAL_SCHEMA; a newer one is refused (open
	 * runs it) */
	int	(*migrate)(struct journal *);
	void	(*close)(struct journal *);
	int	(*is_open)(const struct journal *);
	/* journal.h's journal_* of the same names, one transaction each */
	int64_t	(*begin)(struct journal *, json_t *pending);
	int	(*finish)(struct journal *, int64_t id, json_t *outcome);
	int	(*acted)(struct journal *, int64_t id);
	int	(*undelivered)(struct journal *, int64_t id);
	int	(*settle)(struct journal *, const char *op, const char *rid,
		    const char *state, const char *gc_id, const char *reason);
	json_t	*(*lookup)(struct journal *, const char *op, const char *rid);
	int	(*find_gc)(struct journal *, const char *kind,
		    const char *gc_id, const char *partner,
		    const char *environment, char *rid, size_t len);
	int	(*query)(struct journal *, const struct journal_query *,
		    int (*fn)(json_t *, void *), void *);
	int	(*check)(struct journal *, void (*fn)(const char *, void *),
		    void *);
	long	(*prune)(struct journal *, const char *before, int dry_run);
	int	(*import_text)(struct journal *, const char *text, size_t len,
		    long *records, long *bad, int *torn);
	/*
	 * What a store shared by several hosts must also keep.
	 * NULL: the state directory keeps it, as it does for SQLite today:
	 * the batch lock is cmd_batch.c's flock on STATE_DIR/batch-ID.lock,
	 * the rate slots ratelimit.c's STATE_DIR/ratelimit-PARTNER.
	 * batch_lock: 0 held until the store closes, 1 held by another run,
	 * -1 with why.  rate_reserve: journal_rate_reserve's.
	 */
	int	(*batch_lock)(struct journal *, const char *batch, char *why,
		    size_t len);
	int	(*rate_reserve)(struct journal *, const char *partner,
		    const char *environment, int cls, int max_rps,
		    int64_t max_wait_ns, int64_t *wait_ns);
	/*
	 * journal copy (journal_copy.c).  rows: every row of table
	 * ("requests", "objects", "pruned") as stored, oldest first, to fn
	 * (borrowed); -1 with j->err.  Into another store, in one write
	 * transaction (restore_begin; restore_end commits or rolls back):
	 * restore one row as it was ("id" not kept; the new one in *id):
	 * 1 copied, 0 there already (*id the copy's), JOURNAL_CONFLICT
	 * with j->err when the store has it with other terms, -1 on an
	 * error.  NULL: the store cannot be copied from, or into.
	 */
	int	(*rows)(struct journal *, const char *table,
		    int (*fn)(json_t *, void *), void *);
	int	(*restore_begin)(struct journal *);
	int	(*restore)(struct journal *, const char *table, json_t *row,
		    int64_t *id);
	int	(*restore_end)(struct journal *, int commit);
};

/* the stores */
extern const struct journal_store journal_sqlite;
/* journal =, AGCOD_JOURNAL: open's dir is its connection string */
extern const struct journal_store journal_pg;

#endif
