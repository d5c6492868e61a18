/*
 * journal_copy.c - journal copy: every record of one store into another
 * (journal.db into PostgreSQL), through journal_txn.c's rows and restore,
 * which every store runs: what no one store owns.  One transaction of the
 * target's: a copy stopped half way leaves nothing, and a record the
 * target has already is skipped, so a copy can be run again.  The source
 * is read in one write transaction of its own, rolled back at the end: one
 * snapshot of its three tables, and no writer beside it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "journal.h"
#include "journal_state.h"
#include "journal_store.h"
#include "journal_txn.h"

static const char *const tables[3] = { "requests", "objects", "pruned" };

struct copy {
	struct journal		*dst, *src;
	struct journal_copied	*n;
	json_t			*ids;	/* src request id -> dst's */
	int			 table;
	int			 rc;
	int			 live;
	int			 src_open;
};

static void
end_src(struct copy *c)
{
	if (c->src_open)
		txn_restore_end(c->src, 0);
}

/* an open record of a process that still runs: it may be sending now */
static int
live_open(json_t *row, void *arg)
{
	struct copy *c = arg;

	if (journal_row_live(c->src, row)) {
		snprintf(c->src->err, sizeof(c->src->err), "%s %s is being "
		    "sent by agcod process %" JSON_INTEGER_FORMAT " now: copy "
		    "after it ends", member(row, "operation"),
		    member(row, "request_id"),
		    json_integer_value(json_object_get(row, "pid")));
		c->live = 1;
		return 1;
	}
	return 0;
}

static int
one(json_t *row, void *arg)
{
	struct copy *c = arg;
	json_t *r, *last;
	char key[32];
	int64_t id = 0;
	int rc;

	if ((r = json_deep_copy(row)) == NULL) {
		snprintf(c->dst->err, sizeof(c->dst->err), "out of memory");
		return c->rc = -1;
	}
	/* a money object points at its request's new id (none if pruned) */
	if (c->table == 1 && (last = json_object_get(r, "last_request"))) {
		snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(last));
		if ((last = json_object_get(c->ids, key)) != NULL)
			json_object_set(r, "last_request", last);
		else
			json_object_del(r, "last_request");
	}
	rc = txn_restore(c->dst, tables[c->table], r, &id);
	if (rc >= 0 && c->table == 0) {
		snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(json_object_get(row, "id")));
		json_object_set_new(c->ids, key, json_integer(id));
	}
	json_decref(r);
	if (rc < 0)
		return c->rc = rc;
	if (rc == 1)
		c->n->copied[c->table]++;
	else
		c->n->skipped[c->table]++;
	return 0;
}

int
journal_copy(struct journal *dst, struct journal *src,
    struct journal_copied *n, struct journal **failed)
{
	struct journal_query q;
	struct copy c;
	int rc;

	memset(n, 0, sizeof(*n));
	memset(&c, 0, sizeof(c));
	c.dst = dst;
	c.src = src;
	c.n = n;
	*failed = src;
	/* one snapshot of the source, and no writer beside the copy (none
	 * yet: nothing to copy) */
	if ((c.src_open = journal_is_open(src)) && txn_restore_begin(src) == -1)
		return -1;
	memset(&q, 0, sizeof(q));
	q.view = VIEW_OPEN;
	if (journal_query(src, &q, live_open, &c) < 0 || c.live) {
		end_src(&c);
		return c.live ? JOURNAL_HELD : -1;
	}
	*failed = dst;
	if ((c.ids = json_object()) == NULL) {
		snprintf(dst->err, sizeof(dst->err), "out of memory");
		end_src(&c);
		return -1;
	}
	if (txn_restore_begin(dst) == -1) {
		json_decref(c.ids);
		end_src(&c);
		return -1;
	}
	for (c.table = 0; c.table < 3 && c.rc == 0; c.table++) {
		rc = txn_rows(src, tables[c.table], one, &c);
		if (rc < 0 && c.rc == 0) {	/* the source failed */
			*failed = src;
			c.rc = -1;
		}
	}
	json_decref(c.ids);
	if (txn_restore_end(dst, c.rc == 0) == -1 && c.rc == 0) {
		*failed = dst;
		c.rc = -1;
	}
	end_src(&c);	/* read only: rolled back */
	if (c.rc != 0)
		memset(n, 0, sizeof(*n));	/* rolled back: none copied */
	return c.rc;
}
