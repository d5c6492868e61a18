/*
 * journal_sqlite.h - shared by the SQLite store's files (journal_sqlite.c,
 * journal_sqlite_import.c) and nothing else.
 */
#ifndef AGCOD_JOURNAL_SQLITE_H
#define AGCOD_JOURNAL_SQLITE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "journal.h"
#include "journal_txn.h"

/* small SQLite helpers: errors go to j->err */
int	jfail(struct journal *, const char *what);
int	exec(struct journal *, const char *sql);
/* prepared once per open journal and kept (lazily, on first use) */
sqlite3_stmt *prep(struct journal *, const char *sql);
void	unprep(struct journal *, sqlite3_stmt *);
void	bind_text(sqlite3_stmt *, int i, const char *v);
json_t	*row_json(sqlite3_stmt *);
const char *col_text(sqlite3_stmt *, int i);

/* a command that wrote much checkpoints (and removes the WAL) as it closes */
void	wrote_much(struct journal *);

/* journal_sqlite_import.c: agcod 0.1's journal.jsonl in dir, once */
int	import_legacy(struct journal *, const char *dir);

/* the store's operations in the other files */
int	sq_import_text(struct journal *, const char *text, size_t len,
	    long *records, long *bad, int *torn);
int	sq_rows(struct journal *, const char *table,
	    int (*fn)(json_t *, void *), void *);

#endif
