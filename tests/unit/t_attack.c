/* t_attack.c - defects found by attacking agcod, one test each */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../../src/journal.h"
#include "unit.h"

static int
count_row(json_t *row, void *arg)
{
	(void)row;
	(*(int *)arg)++;
	return 0;
}

/*
 * More distinct statements than the journal keeps prepared (each LIMIT is
 * its own SQL text): the ones past the cache must be finalized, not
 * recursed on until the stack runs out.
 */
static void
test_statement_cache_full(void)
{
	char dir[] = "/tmp/agcod-unit-XXXXXX", path[64];
	struct journal_query q;
	struct journal j;
	sqlite3_stmt *st;
	json_t *rec;
	int64_t id;
	long i;
	int n, ok = 1;

	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return;
	}
	if (journal_open(&j, dir, JOURNAL_WRITE) != AGCOD_OK) {
		CHECK(0, "open: %s", j.err);
		return;
	}
	rec = json_pack("{s:s, s:s, s:s, s:s}", "operation", "CreateGiftCard",
	    "request_id", "A1", "amount", "1", "currency", "USD");
	id = journal_begin(&j, rec);
	json_decref(rec);
	CHECK(id > 0, "begin: %s", j.err);
	memset(&q, 0, sizeof(q));
	for (i = 1; i <= 3 * JOURNAL_STMTS; i++) {
		q.limit = i;
		n = 0;
		if (journal_query(&j, &q, count_row, &n) != 0 || n != 1)
			ok = 0;
	}
	CHECK(ok, "queries past the statement cache: %s", j.err);
	/* and none of them is left behind, unfinalized */
	n = 0;
	for (st = sqlite3_next_stmt(j.db, NULL); st; st = sqlite3_next_stmt(j.db,
	    st))
		n++;
	CHECK(n <= JOURNAL_STMTS, "%d statements alive, the cache keeps %d", n,
	    JOURNAL_STMTS);
	journal_close(&j);
	snprintf(path, sizeof(path), "%s/journal.db", dir);
	unlink(path);
	rmdir(dir);
}

void
test_attack(void)
{
	test_statement_cache_full();
}
