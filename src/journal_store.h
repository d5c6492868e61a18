/*
 * journal_store.h - what a journal store implements: one table of
 * operations (opening, migrating, what a host does not keep) and its SQL
 * driver.  SQLite's (journal_sqlite.c, STATE_DIR/journal.db) by default,
 * PostgreSQL's (journal_pg.c) when the profile's journal = or
 * AGCOD_JOURNAL names a database; journal_open_at picks one.  The
 * transactions that record and read are
 * journal_txn.c's, run through the driver, and the rule that moves money
 * objects journal_state.c's, so every store makes the same decisions.
 * Commands see journal.h only: a second store is a new table and driver
 * here and a line in journal_open, and nothing else changes.
 */
#ifndef AGCOD_JOURNAL_STORE_H
#define AGCOD_JOURNAL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "journal.h"

struct journal_sql;

struct journal_store {
	const char	*name;
	/*
	 * Open (JOURNAL_WRITE: create) the journal of the state directory,
	 * migrated to JOURNAL_SCHEMA and with agcod 0.1's journal imported;
	 * JOURNAL_READ with no journal yet leaves it closed (is_open 0), an
	 * empty one.  journal_open_at's result, with j->err.
	 */
	enum agcod_result (*open)(struct journal *, const char *dir,
		    enum journal_mode);
	/* bring the schema to JOURNAL_SCHEMA; a newer one is refused (open
	 * runs it) */
	int	(*migrate)(struct journal *);
	void	(*close)(struct journal *);
	/* at the process's end: close, or leave to the exit what it would
	 * only free (NULL: close) */
	void	(*leave)(struct journal *);
	int	(*is_open)(const struct journal *);
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
	 * The store's SQL.  journal.h's journal_begin, finish, acted,
	 * undelivered, settle, lookup, find_gc, query, check and prune are
	 * journal_txn.c's, once for every store, run through it.
	 */
	const struct journal_sql *sql;
};

/* the stores */
extern const struct journal_store journal_sqlite;
/* journal =, AGCOD_JOURNAL: open's dir is its connection string */
extern const struct journal_store journal_pg;

#endif
