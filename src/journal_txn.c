/*
 * journal_txn.c - the journal's transactions, once for every store
 * (journal_txn.h): begin, finish, acted, undelivered, settle, lookup,
 * find_gc, query, check and prune.  Each reads and writes through the
 * store's SQL driver (j->ops->sql): SQLite's (journal_sqlite.c) or
 * PostgreSQL's (journal_pg.c).  The statements are written once, in the
 * SQL both read ($N parameters, IS [NOT] DISTINCT FROM, RETURNING, ON
 * CONFLICT); what differs (the claim-code column count, SQLite's own
 * integrity check) is the driver's.  Every state decision is
 * journal_state.c's.
 *
 * Two tables.  `requests`: one row each time a request is sent, committed
 * durably as "pending" before it leaves the machine, then given the
 * evidence its answer carries; the journal, not the caller, decides what
 * that proves (succeeded, failed, unknown, not sent, cancelled), knowing
 * from the `acted` column whether an earlier attempt of the id may have
 * acted.  `objects`: one row per money object - a card (create/cancel), a
 * balance load (load/void), a physical card (activate/deactivate) - with
 * its current state, moved only by journal_next_state() on evidence, so a
 * refused request never changes the state of what it referred to.  One
 * open record per request id (a unique index); a record stops being open
 * only by its own decided outcome (finish_locked) or close_requests(), and
 * nothing opens it again.  Request ids, amounts and gc ids only:
 * never a claim code, a secret or a derived key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bsd/string.h>

#include "buf.h"
#include "journal.h"
#include "journal_state.h"
#include "journal_store.h"
#include "journal_txn.h"

/* a write transaction run again at most this many times (a serialization
 * failure, a deadlock, a session lost and restored) */
#define AGAIN	3

#define SQL(j)	((j)->ops->sql)

/* ---- the schema ---- */

/*
 * Version 1.  `open` is 1 while a request's outcome is not known and no
 * later request with its id has taken the question over: what reconcile
 * and `history --pending` read, through a partial index, so they cost the
 * same at a million requests as at ten.  ID and INT: the dialect's row id
 * and integer (SQLite's INTEGER PRIMARY KEY is its row id).
 */
#define SCHEMA_V1(ID, INT) \
    "CREATE TABLE requests (" \
    " id " ID "," \
    " time TEXT NOT NULL, updated TEXT, state TEXT NOT NULL," \
    " operation TEXT NOT NULL, request_id TEXT NOT NULL," \
    " profile TEXT, partner TEXT, environment TEXT, endpoint TEXT," \
    " amount TEXT, currency TEXT, gc_id TEXT, card_number TEXT," \
    " account TEXT, account_type TEXT, source_id TEXT," \
    " external_reference TEXT, program_id TEXT, product_type TEXT," \
    " batch TEXT, amazon_request_id TEXT, http_status " INT "," \
    " error_code TEXT, error_type TEXT, error TEXT, diagnosis TEXT," \
    " clock_skew_s " INT ", attempts " INT ", delivered " INT "," \
    " settled TEXT, settle_reason TEXT, settled_time TEXT," \
    " pid " INT ", open INTEGER NOT NULL DEFAULT 1);" \
    "CREATE INDEX requests_id ON requests (operation, request_id);" \
    "CREATE INDEX requests_open ON requests (open) WHERE open = 1;" \
    "CREATE INDEX requests_time ON requests (time);" \
    "CREATE INDEX requests_extref ON requests (external_reference)" \
    " WHERE external_reference IS NOT NULL;" \
    "CREATE TABLE objects (" \
    " id " ID "," \
    " kind TEXT NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL," \
    " time TEXT NOT NULL, updated TEXT NOT NULL, operation TEXT," \
    " request_id TEXT, profile TEXT, partner TEXT, environment TEXT," \
    " endpoint TEXT, amount TEXT, currency TEXT, gc_id TEXT," \
    " card_number TEXT, account TEXT, account_type TEXT, source_id TEXT," \
    " external_reference TEXT, program_id TEXT, product_type TEXT," \
    " batch TEXT, error_code TEXT, error_type TEXT," \
    " last_request " INT ", UNIQUE (kind, key));" \
    "CREATE INDEX objects_rid ON objects (request_id);" \
    "CREATE INDEX objects_time ON objects (time);" \
    "CREATE INDEX objects_extref ON objects (external_reference)" \
    " WHERE external_reference IS NOT NULL;"

/*
 * Version 2: the rule lives in the journal.  `acted`: an attempt of the
 * record may have acted (durable before a retry, or when a later send
 * finds the record left pending or unknown).  `body_sha`: the SHA-256 of
 * the body sent, so that an F2xx refusal proves something only of the
 * body every earlier attempt sent.  `pid_start`: with `pid`, the process
 * that writes a pending record, so that a live one is told from one that
 * died.  `reserved`: the object holds its external reference; one live
 * object (pending, unknown, issued) per reference of a partner and
 * environment.  One open record per request id.  `pruned`: what `journal
 * prune` keeps of a card (its id, state and time) for the batch guards.
 * `objects_gcid`: cancel --gc-id finds its card by the gcId it was given
 * (journal_find_gc).  Journals that broke the rules before are mended
 * first: older open records of an id are closed as retried, and reserved
 * stays unset.
 */
#define SCHEMA_V2(INT) \
    "ALTER TABLE requests ADD COLUMN acted INTEGER NOT NULL DEFAULT 0;" \
    "ALTER TABLE requests ADD COLUMN body_sha TEXT;" \
    "ALTER TABLE requests ADD COLUMN pid_start " INT ";" \
    "ALTER TABLE requests ADD COLUMN reserved INTEGER;" \
    "ALTER TABLE objects ADD COLUMN reserved INTEGER;" \
    "UPDATE requests SET acted = 1 WHERE state IN ('unknown', 'succeeded'," \
    " 'cancelled') OR (state = 'pending' AND open = 0);" \
    "UPDATE requests SET open = 0, settled = 'retried', acted = 1" \
    " WHERE open = 1 AND id NOT IN (SELECT max(id) FROM requests" \
    " WHERE open = 1 GROUP BY operation, request_id);" \
    "CREATE UNIQUE INDEX requests_one_open ON requests" \
    " (operation, request_id) WHERE open = 1;" \
    "CREATE UNIQUE INDEX objects_live_ref ON objects" \
    " (partner, environment, external_reference) WHERE reserved = 1 AND" \
    " state IN ('pending', 'unknown', 'issued');" \
    "CREATE TABLE pruned (kind TEXT NOT NULL, key TEXT NOT NULL," \
    " operation TEXT, state TEXT NOT NULL, time TEXT, updated TEXT," \
    " UNIQUE (kind, key));" \
    "CREATE INDEX objects_gcid ON objects (gc_id) WHERE gc_id IS NOT NULL;"

/* SQLite keeps its version in user_version, and `meta` in the schema;
 * PostgreSQL creates `meta` first, to read its version there */
const char *const journal_schema_sqlite[JOURNAL_SCHEMA] = {
	SCHEMA_V1("INTEGER PRIMARY KEY", "INTEGER")
	    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);",
	SCHEMA_V2("INTEGER"),
};
const char *const journal_schema_pg[JOURNAL_SCHEMA] = {
	SCHEMA_V1("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "BIGINT"),
	SCHEMA_V2("BIGINT"),
};

/* ---- parameters ---- */

void
jp_text(struct jparams *p, const char *v)
{
	if (p->n < JMAXP) {
		p->v[p->n].type = JP_TEXT;
		p->v[p->n].s = v;
		p->n++;
	}
}

void
jp_int(struct jparams *p, int64_t v)
{
	if (p->n < JMAXP) {
		p->v[p->n].type = JP_INT;
		p->v[p->n].s = NULL;
		p->v[p->n].i = v;
		p->n++;
	}
}

void
jp_member(struct jparams *p, json_t *rec, const struct column *c)
{
	json_t *v = json_object_get(rec, c->name);

	if (c->type == C_INT && json_is_integer(v))
		jp_int(p, json_integer_value(v));
	else if (json_is_string(v))
		jp_text(p, json_string_value(v));
	else if (json_is_boolean(v))
		jp_int(p, json_is_true(v));
	else
		jp_text(p, NULL);
}

/* shorthands: a statement's rows (first in *row), or what it changed */
static long
run(struct journal *j, const char *what, const char *sql,
    const struct jparams *p, json_t **row)
{
	return SQL(j)->run(j, what, sql, p, row, 0);
}

/* a SELECT of one integer (a count, EXISTS): it, or -1 */
static int64_t
run_int(struct journal *j, const char *sql, const struct jparams *p)
{
	json_t *row = NULL;
	int64_t v = -1;
	const char *k;
	json_t *x;

	if (run(j, "cannot read the journal", sql, p, &row) < 0)
		return -1;
	if (row && (k = json_object_iter_key(json_object_iter(row))) &&
	    json_is_integer(x = json_object_get(row, k)))
		v = json_integer_value(x);
	else
		snprintf(j->err, sizeof(j->err), "cannot read the journal: "
		    "no count");
	json_decref(row);
	return v;
}

static int
not_open(struct journal *j)
{
	snprintf(j->err, sizeof(j->err), "the journal is not open");
	return -1;
}

/* ---- what the transactions read ---- */

/* the money object a request row belongs to: its kind and key */
static int
object_key(json_t *row, const struct kind **k, int *origin, const char **key)
{
	if ((*k = kind_of(member(row, "operation"), origin)) == NULL)
		return -1;
	*key = member(row, (*k)->by_card ? "card_number" : "request_id");
	return *key ? 0 : -1;
}

static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/*
 * Request record id, as the transactions below read it: the columns its
 * object takes, and what the state rule looks at.  Not SELECT *, which
 * costs twice as much to prepare, at every send.
 */
static json_t *
row_by_id(struct journal *j, int64_t id)
{
	static const char *const rule[] = { "operation", "time", "updated",
	    "error_code", "error_type", "body_sha" };
	struct buf sql = BUF_INIT(1024);
	struct jparams p = { .n = 0 };
	json_t *r = NULL;
	size_t i;
	long n = -1;

	for (i = 0; i < sizeof(rule) / sizeof(rule[0]); i++)
		if (buf_printf(&sql, "%s%s", i ? ", " : "SELECT ", rule[i]) == -1)
			goto done;
	for (i = 0; i < NRCOLS; i++)
		if (journal_columns[i].object && buf_printf(&sql, ", %s",
		    journal_columns[i].name) == -1)
			goto done;
	if (buf_adds(&sql, " FROM requests WHERE id = $1") == -1)
		goto done;
	jp_int(&p, id);
	if ((n = run(j, "cannot read the journal", buf_str(&sql), &p, &r)) == 0)
		snprintf(j->err, sizeof(j->err), "the journal has no request "
		    "record %lld", (long long)id);
done:
	if (n == -1 && j->err[0] == '\0')
		snprintf(j->err, sizeof(j->err), "out of memory");
	buf_free(&sql);
	return n > 0 ? r : NULL;
}

/*
 * An attempt of operation op whose column col is key may have acted: one
 * was marked so and not proved refused since (failed: an F2xx of its body,
 * or settled), or a pending record other than `self` was left by a
 * process that ended.  By card, the attempts of request id `proved` do not
 * count: an F2xx of the body they all sent proved none of them acted.
 * 1, 0, or -1 on an error.
 */
static int
acted_before(struct journal *j, const char *op, int by_card, const char *key,
    int64_t self, const char *proved)
{
	struct jparams p = { .n = 0 };

	jp_text(&p, op);
	jp_text(&p, key);
	jp_int(&p, self);
	jp_text(&p, by_card ? proved : journal_kind(op));
	if (by_card)	/* (PostgreSQL types only the parameters it reads) */
		jp_text(&p, journal_kind(op));
	/* a pruned object that was not proved refused: its requests acted
	 * (a physical card: one of its activations, under any id) */
	return (int)run_int(j, by_card ? "SELECT EXISTS (SELECT 1 FROM "
	    "requests WHERE operation = $1 AND card_number = $2 AND (CAST($4 "
	    "AS TEXT) IS NULL OR request_id <> $4) AND ((acted = 1 AND state "
	    "<> 'failed') OR (state = 'pending' AND id <> $3))) OR EXISTS "
	    "(SELECT 1 FROM pruned WHERE kind = $5 AND key = $2 AND state "
	    "NOT IN ('failed', 'not sent'))" :
	    "SELECT EXISTS (SELECT 1 FROM requests WHERE operation = $1 AND "
	    "request_id = $2 AND ((acted = 1 AND state <> 'failed') OR "
	    "(state = 'pending' AND id <> $3))) OR EXISTS "
	    "(SELECT 1 FROM pruned WHERE kind = $4 AND key = $2 AND state "
	    "NOT IN ('failed', 'not sent'))", &p);
}

/* every attempt of the id that may have acted sent this body: 1, 0, -1 */
static int
same_body(struct journal *j, json_t *row, int64_t self)
{
	struct jparams p = { .n = 0 };
	int r;

	jp_text(&p, member(row, "operation"));
	jp_text(&p, member(row, "request_id"));
	jp_text(&p, member(row, "body_sha"));
	jp_int(&p, self);
	r = (int)run_int(j, "SELECT NOT EXISTS (SELECT 1 FROM requests WHERE "
	    "operation = $1 AND request_id = $2 AND id <> $4 AND ((acted = 1 "
	    "AND state <> 'failed') OR state = 'pending') AND (body_sha IS "
	    "NULL OR CAST($3 AS TEXT) IS NULL OR body_sha <> $3))", &p);
	if (r == 1 && member(row, "body_sha") == NULL)
		r = 0;
	return r;
}

/* a reserved reference is taken: say by which request */
static int
ref_taken(struct journal *j, json_t *row)
{
	struct jparams p = { .n = 0 };
	const char *ref = member(row, "external_reference");
	char held[128] = "another request";
	json_t *o = NULL;

	jp_text(&p, member(row, "partner"));
	jp_text(&p, member(row, "environment"));
	jp_text(&p, ref);
	if (run(j, "journal", "SELECT request_id, state FROM objects WHERE "
	    "reserved = 1 AND partner IS NOT DISTINCT FROM $1 AND environment "
	    "IS NOT DISTINCT FROM $2 AND external_reference = $3 AND state IN "
	    "('pending', 'unknown', 'issued')", &p, &o) > 0 &&
	    member(o, "request_id"))
		snprintf(held, sizeof(held), "request id %.40s, %s",
		    member(o, "request_id"), member(o, "state") ?
		    member(o, "state") : "?");
	json_decref(o);
	snprintf(j->err, sizeof(j->err), "external reference '%.100s' already "
	    "has a live card (%s); --allow-reused-reference issues another",
	    ref ? ref : "", held);
	return JOURNAL_REF_TAKEN;
}

/* a statement on objects: a reserved reference's unique index refusing it
 * is JOURNAL_REF_TAKEN */
static int
object_do(struct journal *j, const char *sql, const struct jparams *p,
    json_t *row)
{
	long r = SQL(j)->run(j, "journal", sql, p, NULL, JQ_MAY_CONFLICT);

	if (r == JQ_UNIQUE && member(row, "external_reference"))
		return ref_taken(j, row);
	return r < 0 ? -1 : 0;
}

/* ---- recording ---- */

/*
 * Move the object of request row `row` (a JSON of its columns) on the
 * evidence ev, creating it when the request makes one.  The one caller of
 * journal_next_state: nothing else moves an object.
 */
/* a new object of kind k and key, in state next, made by request rid */
static int
object_insert(struct journal *j, json_t *row, int64_t rid,
    const struct kind *k, const char *key, const char *next)
{
	struct jparams p = { .n = 0 };
	struct buf sql = BUF_INIT(4096);
	int n = 9, rc = -1;
	size_t i;

	if (buf_adds(&sql, "INSERT INTO objects (kind, key, state, "
	    "time, updated, operation, last_request, error_code, "
	    "error_type") == -1)
		goto done;
	for (i = 0; i < NRCOLS; i++)
		if (journal_columns[i].object && (buf_adds(&sql, ", ") == -1 ||
		    buf_adds(&sql, journal_columns[i].name) == -1))
			goto done;
	if (buf_adds(&sql, ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
	    "$9") == -1)
		goto done;
	for (i = 0; i < NRCOLS; i++)
		if (journal_columns[i].object &&
		    buf_printf(&sql, ", $%d", ++n) == -1)
			goto done;
	if (buf_adds(&sql, ")") == -1)
		goto done;
	jp_text(&p, k->name);
	jp_text(&p, key);
	jp_text(&p, next);
	jp_text(&p, member(row, "time"));
	jp_text(&p, member(row, "updated") ? member(row, "updated") :
	    member(row, "time"));
	jp_text(&p, k->origin);
	jp_int(&p, rid);
	jp_text(&p, is(next, "failed") ? member(row, "error_code") : NULL);
	jp_text(&p, is(next, "failed") ? member(row, "error_type") : NULL);
	for (i = 0; i < NRCOLS; i++)
		if (journal_columns[i].object)
			jp_member(&p, row, &journal_columns[i]);
	rc = object_do(j, buf_str(&sql), &p, row);
done:
	if (rc == -1 && j->err[0] == '\0')
		snprintf(j->err, sizeof(j->err), "out of memory");
	buf_free(&sql);
	return rc;
}

/*
 * The object moved from cur to next by request rid.  An object whose
 * outcome was open takes the fields of the request that settles it; a
 * settled one keeps what it was made with.  And the reference it
 * reserves, checked at this pending commit (a re-send of the same
 * reference, as reconcile's, keeps it reserved).
 */
static int
object_update(struct journal *j, json_t *row, int64_t rid,
    const struct kind *k, const char *key, int origin, const char *cur,
    const char *next)
{
	struct jparams p = { .n = 0 };

	jp_text(&p, next);
	jp_text(&p, member(row, "updated") ? member(row, "updated") :
	    member(row, "time"));
	jp_int(&p, rid);
	jp_text(&p, is(next, "failed") ? member(row, "error_code") : NULL);
	jp_text(&p, is(next, "failed") ? member(row, "error_type") : NULL);
	jp_text(&p, origin ? member(row, "gc_id") : NULL);
	jp_int(&p, origin && (unsettled(cur) || is(cur, "failed")));
	jp_text(&p, member(row, "amount"));
	jp_text(&p, member(row, "currency"));
	jp_text(&p, k->name);
	jp_text(&p, key);
	jp_text(&p, member(row, "external_reference"));
	if (json_integer_value(json_object_get(row, "reserved")))
		jp_int(&p, 1);
	else
		jp_text(&p, NULL);
	return object_do(j, "UPDATE objects SET state = $1, updated = $2, "
	    "last_request = $3, error_code = $4, error_type = $5, "
	    "gc_id = coalesce($6, gc_id), "
	    "amount = CASE WHEN $7 = 1 THEN coalesce($8, amount) "
	    "ELSE amount END, "
	    "currency = CASE WHEN $7 = 1 THEN coalesce($9, currency) "
	    "ELSE currency END, "
	    "external_reference = CASE WHEN $7 = 1 THEN $12 "
	    "ELSE external_reference END, "
	    "reserved = CASE WHEN $7 = 1 AND $12 IS DISTINCT FROM "
	    "external_reference THEN CAST($13 AS INTEGER) "
	    "ELSE coalesce(reserved, CAST($13 AS INTEGER)) END "
	    "WHERE kind = $10 AND key = $11", &p, row);
}

/*
 * A physical card's requests in flight together (attack22): the service
 * may have acted on them in either order, and the journal hears their
 * answers in the order they come back.  A success moves the card only if
 * no request of the other direction (an activation against a
 * deactivation) that may have acted began while it was in flight, nor
 * began before the card was last found so.  Otherwise the card is unknown
 * (error_type CARD_UNORDERED, last_request the card's newest request at
 * the time) until ActivationStatusCheck says what it is
 * (journal_card_status, which reconcile calls).  The mark holds against
 * every request begun before it was set: the later of two successes in
 * flight together does not undo it; a request begun after moves the card
 * as always.  1: the card stays unknown (*newest: mark it so, 0: it is
 * already), 0: the success moves it, -1 on an error.
 */
static int
in_flight_together(struct journal *j, json_t *row, const struct kind *k,
    const char *key, json_t *obj, int64_t *newest)
{
	struct jparams p = { .n = 0 };
	int64_t first, n, mark = 0;

	*newest = 0;
	jp_text(&p, key);
	jp_text(&p, member(row, "operation"));
	jp_text(&p, member(row, "request_id"));
	/* a re-send answers for its request's first attempt */
	if ((first = run_int(j, "SELECT coalesce(min(id), 0) FROM requests "
	    "WHERE card_number = $1 AND operation = $2 AND request_id = $3",
	    &p)) < 0)
		return -1;
	if (is(member(obj, "state"), "unknown") &&
	    is(member(obj, "error_type"), CARD_UNORDERED) && first <=
	    json_integer_value(json_object_get(obj, "last_request")))
		mark = json_integer_value(json_object_get(obj, "last_request"));
	p.n = 0;
	jp_text(&p, key);
	jp_text(&p, k->origin);
	jp_text(&p, k->refer);
	jp_text(&p, member(row, "operation"));
	jp_int(&p, first);
	/* what began since: by id (SQLite would read every activation by
	 * the operation's index; "|| ''" keeps it off it) */
	if ((n = run_int(j, "SELECT CASE WHEN EXISTS (SELECT 1 FROM requests "
	    "WHERE id > $5 AND card_number = $1 AND operation || '' IN ($2, "
	    "$3) AND operation <> $4 AND state NOT IN ('failed', 'not sent')) "
	    "THEN (SELECT max(id) FROM requests WHERE id > $5 AND card_number "
	    "= $1 AND operation || '' IN ($2, $3)) ELSE 0 END", &p)) < 0)
		return -1;
	/*
	 * Held by the mark, it moves nothing; but it may have been done after
	 * a request of the other direction begun since the mark, which then
	 * must not move the card either: the mark reaches it (attack23)
	 */
	if (mark > 0) {
		*newest = n > mark ? n : 0;
		return 1;
	}
	*newest = n;
	return n > 0;
}

/*
 * A deactivation names one activation, by its request id.  Its success
 * says that activation is undone, not that the card is dead: another
 * activation of the card, under another id, that may have acted and that
 * no deactivation of its own undid, may still stand (Amazon's RESEND
 * procedure deactivates an id the service never activated, a no-op while
 * the card is live under another; the simulation's seed 1216).  Then the
 * card is unknown, for ActivationStatusCheck.  1 (*newest: the card's
 * newest request), 0, or -1 on an error.
 */
static int
another_stands(struct journal *j, json_t *row, const struct kind *k,
    const char *key, int64_t *newest)
{
	struct jparams p = { .n = 0 };
	int64_t n;

	jp_text(&p, key);
	jp_text(&p, k->origin);
	jp_text(&p, k->refer);
	jp_text(&p, member(row, "request_id"));
	if ((n = run_int(j, "SELECT CASE WHEN EXISTS (SELECT 1 FROM requests a "
	    "WHERE a.operation = $2 AND a.card_number = $1 AND a.request_id "
	    "<> $4 AND (a.state IN ('succeeded', 'pending', 'unknown') OR "
	    "(a.acted = 1 AND a.state <> 'failed')) AND NOT EXISTS (SELECT 1 "
	    "FROM requests d WHERE d.operation = $3 AND d.request_id = "
	    "a.request_id AND d.card_number = $1 AND d.state = 'succeeded')) "
	    "THEN (SELECT max(id) FROM requests WHERE card_number = $1 AND "
	    "operation IN ($2, $3)) ELSE 0 END", &p)) < 0)
		return -1;
	*newest = n;
	return n > 0;
}

/* the card is unknown: its requests up to newest may have acted in
 * either order */
static int
card_unordered(struct journal *j, json_t *row, const struct kind *k,
    const char *key, int64_t newest)
{
	struct jparams p = { .n = 0 };

	jp_text(&p, member(row, "updated") ? member(row, "updated") :
	    member(row, "time"));
	jp_int(&p, newest);
	jp_text(&p, CARD_UNORDERED);
	jp_text(&p, k->name);
	jp_text(&p, key);
	return object_do(j, "UPDATE objects SET state = 'unknown', updated = "
	    "$1, last_request = $2, error_code = NULL, error_type = $3 WHERE "
	    "kind = $4 AND key = $5", &p, row);
}

static int
apply_object(struct journal *j, json_t *row, int64_t rid,
    enum journal_evidence ev)
{
	const struct kind *k;
	const char *key, *next, *cur = NULL, *proved = NULL;
	struct jparams p = { .n = 0 };
	json_t *obj = NULL;
	int64_t newest = 0;
	int origin, rc = 0, acted = 0;

	if (object_key(row, &k, &origin, &key) == -1)
		return 0;
	jp_text(&p, k->name);
	jp_text(&p, key);
	/* an error is not "no object" (the store may have ended the
	 * transaction) */
	if (run(j, "cannot read the journal", "SELECT state, amount, "
	    "currency, time, last_request, error_type FROM objects WHERE "
	    "kind = $1 AND key = $2", &p, &obj) < 0)
		return -1;
	cur = member(obj, "state");
	if (ev == EV_SEND) {
		strlcpy(j->prior, cur ? cur : "", sizeof(j->prior));
		strlcpy(j->prior_time, member(obj, "time") ? member(obj, "time") :
		    "", sizeof(j->prior_time));
	}
	/*
	 * A physical card is one object for all its activations: an F2xx
	 * proves only that this request id did nothing, not another's.
	 */
	if (k->by_card && ev == EV_REFUSED_SAME) {
		proved = member(row, "request_id");
		ev = EV_REFUSED;
	}
	/* a refusal, or a retry not sent, proves nothing once an attempt that
	 * made it may have acted */
	if (origin && (ev == EV_REFUSED || ev == EV_NOT_SENT) &&
	    (acted = acted_before(j, k->origin, k->by_card, key, 0,
	    proved)) == -1)
		rc = -1;
	else if ((next = journal_next_state(member(row, "operation"), cur, ev,
	    acted)) == NULL)
		rc = 0;
	/* also when the success leaves the card as the journal has it: an
	 * activation answered while the card still reads activated may have
	 * been done after a deactivation begun later (attack23) */
	else if (obj && k->by_card && ev == EV_SUCCESS &&
	    (rc = in_flight_together(j, row, k, key, obj, &newest)) != 0)
		rc = rc == -1 ? -1 : newest == 0 ? 0 :
		    card_unordered(j, row, k, key, newest);
	else if (obj && k->by_card && !origin && ev == EV_SUCCESS &&
	    (rc = another_stands(j, row, k, key, &newest)) != 0)
		rc = rc == -1 ? -1 : card_unordered(j, row, k, key, newest);
	else if (same_str(next, cur))
		rc = 0;
	else
		rc = obj == NULL ? object_insert(j, row, rid, k, key, next) :
		    object_update(j, row, rid, k, key, origin, cur, next);
	json_decref(obj);
	return rc;
}

/*
 * How a request's record stops being open, but for its own decided
 * outcome (finish_locked's UPDATE): record `id`, or every open record of
 * an operation's request id, saying how (NULL: its own outcome did).  A
 * record left pending or unknown may have acted, and says so from now on.
 * Nothing sets open again: a late outcome of a closed record is recorded,
 * but it stays closed.
 */
static int
close_requests(struct journal *j, int64_t id, const char *op, const char *rid,
    const char *how)
{
	struct jparams p = { .n = 0 };
	char now[32];

	journal_time(time(NULL), now);
	jp_text(&p, how);
	jp_text(&p, now);
	jp_int(&p, id);
	jp_text(&p, op);
	jp_text(&p, rid);
	return run(j, "journal", "UPDATE requests SET open = 0, acted = CASE "
	    "WHEN state IN ('pending', 'unknown') THEN 1 ELSE acted END, "
	    "settled = coalesce(CAST($1 AS TEXT), settled), settled_time = "
	    "CASE WHEN CAST($1 AS TEXT) IS NULL THEN settled_time ELSE $2 END "
	    "WHERE open = 1 AND (id = $3 OR (operation = $4 AND request_id = "
	    "$5))", &p, NULL) < 0 ? -1 : 0;
}

/*
 * The open record of an operation's request id, if a live process has it.
 * A pending record's writer runs on this host to be judged so; one
 * written elsewhere (another pid namespace) cannot be told here.  *open
 * (when not NULL) says whether the id has an open record at all.
 */
static int
held(struct journal *j, const char *op, const char *rid, int *open)
{
	struct jparams p = { .n = 0 };
	json_t *row = NULL;
	int rc = 0;

	jp_text(&p, op);
	jp_text(&p, rid);
	/* what journal_row_live reads: naming the columns halves the
	 * statement's preparation, which every send pays */
	if (run(j, "cannot read the journal", "SELECT state, pid, pid_start, "
	    "time FROM requests WHERE operation = $1 AND request_id = $2 AND "
	    "open = 1", &p, &row) < 0)
		return -1;
	if (open)
		*open = row != NULL;
	if (row && journal_row_live(j, row)) {
		snprintf(j->err, sizeof(j->err), "%s %.64s is being sent by "
		    "another agcod process (pid %lld) right now: its outcome "
		    "will be in the journal ('agcod history --request-id %.64s')",
		    op, rid, (long long)json_integer_value(json_object_get(row,
		    "pid")), rid);
		rc = JOURNAL_HELD;
	}
	json_decref(row);
	return rc;
}

/*
 * The journal keys a request by its operation and id, and a card or load
 * by its id: an id of another partner or environment (another service,
 * another card) must not close, settle or take the fields of this one's.
 */
static int
id_elsewhere(struct journal *j, json_t *rec)
{
	const struct kind *k = kind_of(member(rec, "operation"), NULL);
	struct jparams p = { .n = 0 };
	json_t *row = NULL;

	jp_text(&p, member(rec, "operation"));
	jp_text(&p, k ? k->origin : NULL);
	jp_text(&p, k ? k->refer : NULL);
	jp_text(&p, member(rec, "request_id"));
	jp_text(&p, member(rec, "partner"));
	jp_text(&p, member(rec, "environment"));
	/* NULL: not known */
	if (run(j, "cannot read the journal", "SELECT partner, environment "
	    "FROM requests WHERE operation IN ($1, $2, $3) AND request_id = $4 "
	    "AND (partner <> $5 OR environment <> $6) LIMIT 1", &p, &row) < 0)
		return -1;
	if (row == NULL)
		return 0;
	snprintf(j->err, sizeof(j->err), "request id '%.64s' was used "
	    "for partner %.40s in %.20s, and this journal keeps one "
	    "request per id: use another request id here",
	    member(rec, "request_id"), member(row, "partner") ?
	    member(row, "partner") : "?", member(row, "environment") ?
	    member(row, "environment") : "?");
	json_decref(row);
	return JOURNAL_ID_ELSEWHERE;
}

/*
 * An open attempt of the id that may have acted sent another body: the
 * service answers a repeat with the first one's result, so these terms
 * could never settle it.  JOURNAL_OTHER_TERMS, 0, -1.
 */
static int
other_terms(struct journal *j, json_t *rec)
{
	struct jparams p = { .n = 0 };
	const char *rid = member(rec, "request_id");
	int r;

	if (member(rec, "body_sha") == NULL)
		return 0;
	jp_text(&p, member(rec, "operation"));
	jp_text(&p, rid);
	jp_text(&p, member(rec, "body_sha"));
	if ((r = (int)run_int(j, "SELECT EXISTS (SELECT 1 FROM requests WHERE "
	    "operation = $1 AND request_id = $2 AND open = 1 AND (acted = 1 "
	    "OR state IN ('pending', 'unknown')) AND body_sha IS NOT NULL AND "
	    "body_sha <> $3)", &p)) != 1)
		return r;
	snprintf(j->err, sizeof(j->err), "request id %.64s was sent with other "
	    "terms and may have acted; its outcome is unknown: 'agcod "
	    "reconcile' settles it ('agcod history --request-id %.64s'); "
	    "these terms need another request id", rid, rid);
	return JOURNAL_OTHER_TERMS;
}

/*
 * A column the pending record sets: the request's own terms, and the gc_id
 * a cancel is sent with, so that reconcile re-sends it byte for byte.
 */
static int
at_begin(const struct column *c)
{
	return !c->outcome || strcmp(c->name, "gc_id") == 0;
}

int
begin_locked(struct journal *j, json_t *rec, int64_t *id, int live)
{
	struct buf sql = BUF_INIT(4096);
	const char *op = member(rec, "operation"), *rid = member(rec,
	    "request_id");
	struct jparams p = { .n = 0 };
	char now[32];
	json_t *row = NULL;
	size_t i;
	int n = 2, rc = -1, open = 1;

	if (op == NULL || rid == NULL) {
		snprintf(j->err, sizeof(j->err), "a record without operation "
		    "or request id");
		return -1;
	}
	if ((rc = id_elsewhere(j, rec)) != 0)
		return rc;
	/* one open record per id: a live process's is not taken over */
	if (live && (rc = held(j, op, rid, &open)) != 0)
		return rc;
	/* nor by other terms, which no answer could settle it with */
	if (live && open && (rc = other_terms(j, rec)) != 0)
		return rc;
	rc = -1;
	/* a later send of the same id takes the open question over (a new
	 * id, or one settled, has none: two statements fewer to prepare) */
	journal_time(time(NULL), now);
	if (open && close_requests(j, 0, op, rid, "retried") == -1)
		return -1;

	if (buf_adds(&sql, "INSERT INTO requests (pid, pid_start, open") == -1)
		goto done;
	for (i = 0; i < NRCOLS; i++)
		if (at_begin(&journal_columns[i]) && (buf_adds(&sql, ", ") == -1 ||
		    buf_adds(&sql, journal_columns[i].name) == -1))
			goto done;
	if (buf_adds(&sql, ", state) VALUES ($1, $2, 1") == -1)
		goto done;
	for (i = 0; i < NRCOLS; i++)
		if (at_begin(&journal_columns[i]) &&
		    buf_printf(&sql, ", $%d", ++n) == -1)
			goto done;
	if (buf_adds(&sql, ", 'pending') RETURNING id") == -1)
		goto done;
	if (live) {
		jp_int(&p, j->owner_pid);
		jp_int(&p, j->owner_start);
	} else {
		jp_text(&p, NULL);
		jp_text(&p, NULL);
	}
	for (i = 0; i < NRCOLS; i++) {
		if (!at_begin(&journal_columns[i]))
			continue;
		if (strcmp(journal_columns[i].name, "time") == 0 &&
		    !member(rec, "time"))
			jp_text(&p, now);
		else
			jp_member(&p, rec, &journal_columns[i]);
	}
	if (run(j, "cannot record the request in the journal", buf_str(&sql),
	    &p, &row) < 1 || !json_is_integer(json_object_get(row, "id")))
		goto done;
	*id = json_integer_value(json_object_get(row, "id"));
	json_decref(row);
	if ((row = row_by_id(j, *id)) == NULL)
		goto done;
	rc = apply_object(j, row, *id, EV_SEND);
done:
	json_decref(row);
	if (rc == -1 && j->err[0] == '\0')
		snprintf(j->err, sizeof(j->err), "out of memory");
	buf_free(&sql);
	return rc;
}

/*
 * A cancel, void or deactivate that succeeded (or was settled so) settles
 * an open request of the operation it undoes under the same id: whatever
 * that request did, it is undone now (after Amazon's activation recovery,
 * for one, the RESEND activation must never be sent again).
 */
static int
close_undone(struct journal *j, json_t *row, int64_t id)
{
	const struct kind *k;
	char how[64];
	int origin;

	if ((k = kind_of(member(row, "operation"), &origin)) == NULL || origin)
		return 0;
	snprintf(how, sizeof(how), "undone by request %lld", (long long)id);
	return close_requests(j, 0, k->origin, member(row, "request_id"), how);
}

/*
 * The question a request asks is answered already: the object it makes is
 * settled (made, undone, failed), or the object it undoes is undone.  A
 * refused repeat of an answered id is a refusal of its own.  But a made
 * object is answered only for an F2xx (this body is refused): any other
 * refusal of a repeat says nothing, and "refused" would send the operator
 * to issue again.  1, 0, -1.
 */
static int
answered(struct journal *j, json_t *row, int f2)
{
	const struct kind *k;
	const char *key, *st = NULL;
	struct jparams p = { .n = 0 };
	json_t *o = NULL;
	int origin, r;

	if (object_key(row, &k, &origin, &key) == -1)
		return 0;
	/*
	 * A physical card is one object for all its activations: only what
	 * this request id did to it answers this request.
	 */
	jp_text(&p, k->name);
	jp_text(&p, key);
	if (run(j, "cannot read the journal", "SELECT o.state, r.request_id "
	    "FROM objects o LEFT JOIN requests r ON r.id = o.last_request "
	    "WHERE o.kind = $1 AND o.key = $2", &p, &o) < 0)
		return -1;
	if (o && (!k->by_card || same_str(member(o, "request_id"),
	    member(row, "request_id"))))
		st = member(o, "state");
	r = origin ? !unsettled(st) && (f2 || !is(st, k->origin_state)) :
	    is(st, k->refer_state);
	json_decref(o);
	return r;
}

int
finish_locked(struct journal *j, int64_t id, json_t *rec)
{
	struct buf sql = BUF_INIT(4096);
	struct jparams p = { .n = 0 };
	const char *decided;
	char now[32];
	json_t *row;
	size_t i;
	int n = 2, rc = -1, ev, f2, acted = 0, same;

	if ((ev = evidence_of(rec, &f2)) == -1) {
		snprintf(j->err, sizeof(j->err), "an outcome without evidence");
		return -1;
	}
	if ((row = row_by_id(j, id)) == NULL)
		return -1;
	/* an F2xx proves a refusal only of the body every attempt sent */
	if (f2) {
		if ((same = same_body(j, row, id)) == -1)
			goto done;
		ev = same ? EV_REFUSED_SAME : EV_REFUSED;
	}
	/* whether an attempt may have acted decides only a refusal or a
	 * retry not sent (request_state) */
	if ((ev == EV_REFUSED || ev == EV_NOT_SENT) && (acted = acted_before(j,
	    member(row, "operation"), 0, member(row, "request_id"), id, NULL)) ==
	    -1)
		goto done;
	if (acted && (same = answered(j, row, f2)) != 0) {
		if (same == -1)
			goto done;
		acted = 0;
	}
	decided = request_state(ev, acted);
	json_decref(row);
	row = NULL;
	journal_time(time(NULL), now);
	/* a decided outcome closes its own record here, in the statement
	 * that records it (pending and unknown keep it open) */
	if (buf_adds(&sql, "UPDATE requests SET state = $1, acted = CASE WHEN "
	    "$2 = 1 THEN 1 ELSE acted END, open = CASE WHEN $1 IN ('pending', "
	    "'unknown') THEN open ELSE 0 END") == -1)
		goto done;
	for (i = 0; i < NRCOLS; i++)
		if (journal_columns[i].outcome &&
		    strcmp(journal_columns[i].name, "state") != 0 &&
		    buf_printf(&sql, ", %s = coalesce($%d, %s)",
		    journal_columns[i].name, ++n, journal_columns[i].name) == -1)
			goto done;
	if (buf_printf(&sql, " WHERE id = $%d", ++n) == -1)
		goto done;
	jp_text(&p, decided);
	jp_int(&p, ev == EV_NO_PROOF || ev == EV_SUCCESS || ev == EV_REFUNDED);
	for (i = 0; i < NRCOLS; i++) {
		if (!journal_columns[i].outcome ||
		    strcmp(journal_columns[i].name, "state") == 0)
			continue;
		if (strcmp(journal_columns[i].name, "updated") == 0)
			jp_text(&p, member(rec, "time") ? member(rec, "time") :
			    now);
		else
			jp_member(&p, rec, &journal_columns[i]);
	}
	jp_int(&p, id);
	if (run(j, "cannot record the outcome in the journal", buf_str(&sql),
	    &p, NULL) < 0)
		goto done;
	if ((row = row_by_id(j, id)) == NULL)
		goto done;
	rc = apply_object(j, row, id, (enum journal_evidence)ev);
	if (rc == 0 && ev == EV_SUCCESS)
		rc = close_undone(j, row, id);
	if (rc == 0)
		strlcpy(j->decided, decided, sizeof(j->decided));
done:
	json_decref(row);
	if (rc == -1 && j->err[0] == '\0')
		snprintf(j->err, sizeof(j->err), "out of memory");
	buf_free(&sql);
	return rc < 0 ? -1 : rc;
}

/* ---- the write transactions ---- */

/* run the failed transaction again: bounded, and only when it is safe */
static int
again(struct journal *j, int tries, int lost_ok)
{
	return tries < AGAIN && SQL(j)->again && SQL(j)->again(j, lost_ok);
}

/*
 * After a failed pending commit: an open record of the id (left by a
 * process that ended) may remain, which reconcile would send, or the id
 * may have made its object already.  1 when so or the journal cannot
 * tell, 0 when neither; j->err is kept.
 */
static int
open_left(struct journal *j, json_t *pending)
{
	const char *op = member(pending, "operation"),
	    *rid = member(pending, "request_id"), *key = NULL;
	const struct kind *k = NULL;
	struct jparams p = { .n = 0 };
	char err[sizeof(j->err)];
	int origin;
	int64_t r = 1;

	strlcpy(err, j->err, sizeof(err));
	if (object_key(pending, &k, &origin, &key) == -1)
		k = NULL;
	jp_text(&p, op);
	jp_text(&p, rid);
	jp_text(&p, k ? k->name : NULL);
	jp_text(&p, key);
	if (op && rid && (r = run_int(j, "SELECT EXISTS (SELECT 1 FROM "
	    "requests WHERE operation = $1 AND request_id = $2 AND open = 1) "
	    "OR EXISTS (SELECT 1 FROM objects WHERE kind = $3 AND key = $4 AND "
	    "state NOT IN ('failed', 'not sent'))", &p)) == -1)
		r = 1;
	if (r)
		snprintf(j->err, sizeof(j->err), "%.300s; an earlier attempt of "
		    "%.64s may have acted (or the journal cannot tell): 'agcod "
		    "history --request-id %.64s' says how it ended, 'agcod "
		    "reconcile' settles it", err, rid ? rid : "this id",
		    rid ? rid : "ID");
	else
		strlcpy(j->err, err, sizeof(j->err));
	return (int)r;
}

/* record id is in the journal: 1, 0, -1 (j->err kept) */
static int64_t
written(struct journal *j, int64_t id)
{
	struct jparams p = { .n = 0 };
	char keep[sizeof(j->err)];
	int64_t r;

	strlcpy(keep, j->err, sizeof(keep));
	jp_int(&p, id);
	r = run_int(j, "SELECT EXISTS (SELECT 1 FROM requests WHERE id = $1)",
	    &p);
	if (r != 1)
		strlcpy(j->err, keep, sizeof(j->err));
	else
		j->err[0] = '\0';
	return r;
}

int64_t
txn_begin(struct journal *j, json_t *pending)
{
	const char *rid = member(pending, "request_id");
	char err[sizeof(j->err)];
	int64_t id = 0, found;
	int rc, tries = 0, committing;

	j->prior[0] = j->prior_time[0] = '\0';
	if (!journal_is_open(j))
		return not_open(j);
	for (;;) {
		j->err[0] = '\0';
		committing = 0;
		if ((rc = SQL(j)->begin(j)) == 0 &&
		    (rc = begin_locked(j, pending, &id, 1)) >= 0) {
			if ((rc = SQL(j)->commit(j)) == 0)
				return id;
			committing = 1;
		}
		SQL(j)->rollback(j);
		if (rc < -1)
			return rc;
		/* before its COMMIT, a session lost took the transaction with
		 * it: nothing was written, so it is tried on a new one too */
		if (again(j, ++tries, !committing))
			continue;
		/*
		 * A COMMIT whose answer was lost with the session: on a new
		 * one, the record is there (committed: sent as such) or not
		 * (nothing done: tried again).
		 */
		if (!committing || !again(j, tries, 1))
			break;
		if ((found = written(j, id)) == 1)
			return id;
		if (found == -1)
			break;
	}
	if (committing) {
		/*
		 * A failed COMMIT (an fsync's EIO, a session lost while
		 * committing) may still have written the record: the next
		 * process can find it, and reconcile would send it.  Never
		 * "nothing sent" then.
		 */
		strlcpy(err, j->err, sizeof(err));
		snprintf(j->err, sizeof(j->err), "%.300s; the pending record of "
		    "%.64s may have been written all the same: 'agcod history "
		    "--request-id %.64s' says, 'agcod reconcile' sends it if it "
		    "was", err, rid ? rid : "this id", rid ? rid : "ID");
		return JOURNAL_MAYBE_OPEN;
	}
	/* "nothing sent" only if no open record of the id remains */
	return open_left(j, pending) ? JOURNAL_MAYBE_OPEN : -1;
}

/*
 * The outcome of a request sent: a failure is retried a bounded number of
 * times (a serialization failure, a deadlock, a session lost and made
 * again); the pending record stays open if it still fails, for reconcile.
 */
int
txn_finish(struct journal *j, int64_t id, json_t *outcome)
{
	int tries = 0;

	j->decided[0] = '\0';
	if (!journal_is_open(j) || id <= 0)
		return not_open(j);
	do {
		j->err[0] = '\0';
		if (SQL(j)->begin(j) == 0 && finish_locked(j, id, outcome) == 0
		    && SQL(j)->commit(j) == 0)
			return 0;
		SQL(j)->rollback(j);
		j->decided[0] = '\0';
	} while (again(j, ++tries, 1));
	return -1;
}

/* one statement, committed on its own (durably) */
static int
update_id(struct journal *j, const char *sql, int64_t id)
{
	struct jparams p = { .n = 0 };

	if (!journal_is_open(j))
		return not_open(j);
	jp_int(&p, id);
	return run(j, "journal", sql, &p, NULL) < 0 ? -1 : 0;
}

int
txn_acted(struct journal *j, int64_t id)
{
	return update_id(j, "UPDATE requests SET acted = 1 WHERE id = $1", id);
}

int
txn_undelivered(struct journal *j, int64_t id)
{
	return update_id(j, "UPDATE requests SET delivered = 0 WHERE id = $1",
	    id);
}

static int
settle_locked(struct journal *j, const char *op, const char *rid,
    const char *state, const char *gc_id, const char *reason)
{
	struct jparams p = { .n = 0 };
	char now[32];
	json_t *row = NULL;
	int64_t id;
	int rc;

	if ((rc = held(j, op, rid, NULL)) != 0)
		return rc;
	jp_text(&p, op);
	jp_text(&p, rid);
	if (run(j, "cannot read the journal", "SELECT id FROM requests WHERE "
	    "operation = $1 AND request_id = $2 AND open = 1 ORDER BY id DESC "
	    "LIMIT 1", &p, &row) < 0)
		return -1;
	id = json_integer_value(json_object_get(row, "id"));
	json_decref(row);
	row = NULL;
	if (id == 0) {
		snprintf(j->err, sizeof(j->err), "%s '%.200s' has no pending or "
		    "unknown outcome to settle", op, rid);
		return -1;
	}
	journal_time(time(NULL), now);
	p.n = 0;
	jp_text(&p, state);
	jp_text(&p, reason);
	jp_text(&p, now);
	jp_text(&p, gc_id);
	jp_int(&p, id);
	rc = run(j, "journal", "UPDATE requests SET state = $1, settled = "
	    "'manual', settle_reason = $2, settled_time = $3, updated = $3, "
	    "gc_id = coalesce($4, gc_id) WHERE id = $5", &p, NULL) < 0 ? -1 : 0;
	/* the same ending, and the same undo, as an outcome from the service */
	if (rc == 0 && (close_requests(j, id, NULL, NULL, NULL) == -1 ||
	    (row = row_by_id(j, id)) == NULL || apply_object(j, row, id,
	    is(state, "succeeded") ? EV_SETTLED_OK : EV_SETTLED_FAILED) < 0 ||
	    (is(state, "succeeded") && close_undone(j, row, id) == -1)))
		rc = -1;
	json_decref(row);
	return rc;
}

int
txn_settle(struct journal *j, const char *op, const char *rid,
    const char *state, const char *gc_id, const char *reason)
{
	int rc, tries = 0;

	if (!journal_is_open(j)) {
		snprintf(j->err, sizeof(j->err), "the journal is empty");
		return -1;
	}
	do {
		j->err[0] = '\0';
		if ((rc = SQL(j)->begin(j)) == 0 &&
		    (rc = settle_locked(j, op, rid, state, gc_id, reason)) == 0
		    && (rc = SQL(j)->commit(j)) == 0)
			return 0;
		SQL(j)->rollback(j);
		if (rc < -1)	/* held by a live process: j->err says so */
			return -1;
	} while (again(j, ++tries, 0));
	return -1;
}

/*
 * A physical card left unknown with nothing open (requests in flight
 * together), and what ActivationStatusCheck says it is now: its origin's
 * state or its undo's.  Only if nothing that may have acted began on the
 * card since record `since` (the newest before the status was asked),
 * and nothing is open: an answer while a request was in flight says
 * nothing.  Not since the mark: a re-send of a request begun before it,
 * done before the status was asked, is in the answer (attack23).  1
 * settled, 0 not (the card moved, or is not unknown), -1 on an error.
 */
static int
card_status_locked(struct journal *j, const struct kind *k, const char *card,
    int made, int64_t since)
{
	struct jparams p = { .n = 0 };
	char now[32];
	long n;

	journal_time(time(NULL), now);
	jp_text(&p, made ? k->origin_state : k->refer_state);
	jp_text(&p, now);
	jp_text(&p, card);
	jp_text(&p, made ? k->origin : k->refer);
	jp_text(&p, k->name);
	jp_text(&p, k->origin);
	jp_text(&p, k->refer);
	jp_int(&p, since);
	n = run(j, "journal", "UPDATE objects SET state = $1, updated = $2, "
	    "error_code = NULL, error_type = NULL, last_request = (SELECT "
	    "max(id) FROM requests WHERE card_number = $3 AND operation = $4 "
	    "AND state = 'succeeded') WHERE kind = $5 AND key = $3 AND state "
	    "= 'unknown' AND NOT EXISTS (SELECT 1 FROM requests r WHERE "
	    "r.open = 1 AND r.card_number = $3 AND r.operation IN ($6, $7)) "
	    "AND NOT EXISTS (SELECT 1 FROM requests r WHERE r.id > $8 AND "
	    "r.card_number = $3 AND r.operation || '' IN ($6, $7) AND "
	    "r.state NOT IN ('failed', 'not sent'))", &p, NULL);
	return n < 0 ? -1 : n > 0;
}

int64_t
txn_newest_request(struct journal *j)
{
	struct jparams p = { .n = 0 };

	return run_int(j, "SELECT coalesce(max(id), 0) FROM requests", &p);
}

int
txn_card_status(struct journal *j, const char *op, const char *card,
    int made, int64_t since)
{
	const struct kind *k = kind_of(op, NULL);
	int rc, tries = 0;

	if (!journal_is_open(j) || k == NULL || !k->by_card) {
		snprintf(j->err, sizeof(j->err), "no physical card %.40s in "
		    "the journal", card);
		return -1;
	}
	do {
		j->err[0] = '\0';
		if (SQL(j)->begin(j) == 0 &&
		    (rc = card_status_locked(j, k, card, made, since)) >= 0 &&
		    SQL(j)->commit(j) == 0)
			return rc;
		SQL(j)->rollback(j);
	} while (again(j, ++tries, 0));
	return -1;
}

/* ---- reading ---- */

/* what journal prune kept of a card: its id, state and time */
static json_t *
pruned_lookup(struct journal *j, const char *op, const char *rid)
{
	const struct kind *k;
	struct jparams p = { .n = 0 };
	json_t *o = NULL, *r = NULL;
	const char *st;
	int origin;

	if ((k = kind_of(op, &origin)) == NULL || !origin || k->by_card)
		return NULL;
	jp_text(&p, k->name);
	jp_text(&p, rid);
	if (run(j, "cannot read the journal", "SELECT state, time, updated "
	    "FROM pruned WHERE kind = $1 AND key = $2", &p, &o) < 1)
		return NULL;
	st = member(o, "state");
	r = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:i}",
	    "operation", op, "request_id", rid, "state",
	    is(st, k->origin_state) ? "succeeded" : st ? st : "unknown",
	    "object_state", st ? st : "unknown",
	    "time", member(o, "time"), "updated", member(o, "updated"),
	    "pruned", 1);
	json_decref(o);
	return r;
}

json_t *
txn_lookup(struct journal *j, const char *op, const char *rid)
{
	static const char *const from[] = { "state", "gc_id", "amount",
	    "currency" };
	static const char *const to[] = { "object_state", "gc_id", "amount",
	    "currency" };
	const struct kind *k;
	const char *key;
	struct jparams p = { .n = 0 };
	json_t *r = NULL, *o = NULL;
	int origin, i;

	j->err[0] = '\0';
	if (!journal_is_open(j))
		return NULL;
	jp_text(&p, op);
	jp_text(&p, rid);
	/*
	 * A new id, what most sends have, is told by one small statement:
	 * the record's (SELECT *, costly to prepare) is asked for only when
	 * there is one.  A prune between the two finds it pruned.
	 */
	if (run(j, "cannot read the journal", "SELECT min(time) AS first FROM "
	    "requests WHERE operation = $1 AND request_id = $2", &p, &o) < 0)
		return NULL;
	if (o == NULL || member(o, "first") == NULL ||
	    run(j, "cannot read the journal", "SELECT * FROM requests WHERE "
	    "operation = $1 AND request_id = $2 ORDER BY id DESC LIMIT 1", &p,
	    &r) < 0 || r == NULL) {
		json_decref(o);
		return j->err[0] ? NULL : pruned_lookup(j, op, rid);
	}
	/* the time of the first attempt */
	json_object_set(r, "time", json_object_get(o, "first"));
	json_decref(o);
	o = NULL;
	if (object_key(r, &k, &origin, &key) == -1)
		return r;
	/* the object's state and gc id: what cancel and void need */
	p.n = 0;
	jp_text(&p, k->name);
	jp_text(&p, key);
	if (run(j, "cannot read the journal", "SELECT state, gc_id, amount, "
	    "currency FROM objects WHERE kind = $1 AND key = $2", &p, &o) < 0) {
		json_decref(r);
		return NULL;
	}
	/* the terms the object was settled with, not a refused repeat's */
	for (i = 0; o && i < 4; i++)
		if (member(o, from[i]))
			json_object_set_new(r, to[i],
			    json_string(member(o, from[i])));
	json_decref(o);
	return r;
}

int
txn_find_gc(struct journal *j, const char *kind, const char *gc_id,
    const char *partner, const char *environment, char *rid, size_t len)
{
	struct jparams p = { .n = 0 };
	json_t *o = NULL;
	long n;

	j->err[0] = '\0';
	rid[0] = '\0';
	if (!journal_is_open(j))
		return 0;
	jp_text(&p, gc_id);
	jp_text(&p, kind);
	jp_text(&p, partner);
	jp_text(&p, environment);
	/* objects_gcid makes this one index probe at a million cards */
	if ((n = run(j, "cannot read the journal", "SELECT request_id FROM "
	    "objects WHERE gc_id = $1 AND kind = $2 AND partner = $3 AND "
	    "environment = $4 ORDER BY id DESC LIMIT 2", &p, &o)) > 0 &&
	    member(o, "request_id"))
		strlcpy(rid, member(o, "request_id"), len);
	json_decref(o);
	return n < 0 ? -1 : (int)n;
}

static int
add_where(struct buf *sql, int *first, const char *cond)
{
	if (buf_adds(sql, *first ? " WHERE " : " AND ") == -1 ||
	    buf_adds(sql, cond) == -1)
		return -1;
	*first = 0;
	return 0;
}

int
txn_query(struct journal *j, const struct journal_query *q,
    int (*fn)(json_t *, void *), void *arg)
{
	const struct { const char *col, *val; } f[] = {
		{ "state", q->state },
		{ "request_id", q->request_id },
		{ "external_reference", q->extref },
		{ "partner", q->partner },
		{ "environment", q->environment },
		{ "time >=", q->since },
		{ "time <", q->until },
	};
	struct buf sql = BUF_INIT(4096);
	struct jparams p = { .n = 0 };
	const char *opcol = "operation";
	int first = 1, rc;
	size_t k;

	j->err[0] = '\0';
	if (!journal_is_open(j))
		return 0;
	if (q->view == VIEW_OBJECTS) {
		if (buf_adds(&sql, "SELECT kind, state, time, updated, "
		    "operation, request_id, profile, partner, environment, "
		    "endpoint, amount, currency, gc_id, card_number, account, "
		    "account_type, source_id, external_reference, program_id, "
		    "product_type, batch, error_code, error_type FROM objects")
		    == -1)
			goto oom;
		/* an object answers to the operations that move it */
		opcol = "kind";
	} else if (buf_adds(&sql, "SELECT * FROM requests") == -1)
		goto oom;
	if (q->view == VIEW_OPEN && add_where(&sql, &first, "open = 1") == -1)
		goto oom;
	if (q->problems && add_where(&sql, &first, "state IN ('failed', "
	    "'unknown', 'pending')") == -1)
		goto oom;
	if (q->live && add_where(&sql, &first, "state IN ('pending', "
	    "'unknown', 'issued')") == -1)
		goto oom;
	/* the operation names a kind for objects; the rest is the same */
	if (q->operation) {
		const char *v = q->view == VIEW_OBJECTS ?
		    journal_kind(q->operation) : q->operation;

		if (add_where(&sql, &first, opcol) == -1 ||
		    buf_printf(&sql, " = $%d", p.n + 1) == -1)
			goto oom;
		jp_text(&p, v ? v : "");
	}
	for (k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
		if (f[k].val == NULL)
			continue;
		if (add_where(&sql, &first, f[k].col) == -1 ||
		    buf_printf(&sql, "%s $%d", strchr(f[k].col, ' ') ? "" :
		    " =", p.n + 1) == -1)
			goto oom;
		jp_text(&p, f[k].val);
	}
	if (buf_adds(&sql, q->newest_first ? " ORDER BY id DESC" :
	    " ORDER BY id") == -1 ||
	    (q->limit > 0 && buf_printf(&sql, " LIMIT %ld", q->limit) == -1))
		goto oom;
	rc = SQL(j)->each(j, "cannot read the journal", buf_str(&sql), &p, fn,
	    arg);
	buf_free(&sql);
	return rc;
oom:
	buf_free(&sql);
	snprintf(j->err, sizeof(j->err), "out of memory");
	return -1;
}

/* ---- upkeep ---- */

const char *const request_states[REQUEST_STATES] = { "pending", "succeeded",
    "failed", "unknown", "not sent", "cancelled" };
static const char *const object_states[] = { "pending", "unknown",
    "failed", "not sent", "issued", "cancelled", "loaded", "voided",
    "activated", "deactivated" };

int
one_of(const char *s, const char *const *set, size_t n)
{
	size_t i;

	for (i = 0; s && i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return 1;
	return 0;
}

static const struct {
	const char	*sql;
	const char	*what;
} counted[] = {
	/* one open question per request id */
	{ "SELECT count(*) FROM (SELECT 1 FROM requests WHERE open = 1 "
	  "GROUP BY operation, request_id HAVING count(*) > 1) t",
	  "request ids have more than one open record" },
	/* a settled object was settled by a request that says so */
	{ "SELECT count(*) FROM objects o WHERE o.state IN ('issued', "
	  "'loaded', 'activated', 'cancelled', 'voided', 'deactivated') AND "
	  "EXISTS (SELECT 1 FROM requests r WHERE r.id = o.last_request) AND "
	  "NOT EXISTS (SELECT 1 FROM requests r WHERE r.id = o.last_request "
	  "AND r.state IN ('succeeded', 'cancelled'))",
	  "money objects are in a state no successful request put them in" },
	/* nothing stays unknown without a request reconcile will ask again
	 * (a physical card: reconcile asks ActivationStatusCheck) */
	{ "SELECT count(*) FROM objects o WHERE o.state IN ('pending', "
	  "'unknown') AND NOT (o.kind = 'physical' AND o.state = "
	  "'unknown') AND NOT EXISTS (SELECT 1 FROM requests r WHERE "
	  "r.open = 1 "
	  "AND r.operation = o.operation AND (r.request_id = o.key OR "
	  "r.card_number = o.key))",
	  "money objects are unknown with no open request to settle them" },
	/* nothing that could hold a claim code: the driver's statement */
	{ NULL, "journal columns could hold a claim code" },
};

struct checking {
	void	(*fn)(const char *, void *);
	void	*arg;
	int	 problems;
};

static int
check_request(json_t *row, void *arg)
{
	struct checking *c = arg;
	const char *s = member(row, "state");
	char m[512];

	if (!one_of(s, request_states, REQUEST_STATES)) {
		snprintf(m, sizeof(m), "request %lld has state '%s'",
		    (long long)json_integer_value(json_object_get(row, "id")),
		    s ? s : "");
		c->fn(m, c->arg);
		c->problems++;
	} else if (json_integer_value(json_object_get(row, "open")) &&
	    !is(s, "pending") && !is(s, "unknown")) {
		snprintf(m, sizeof(m), "request %lld is open but %s",
		    (long long)json_integer_value(json_object_get(row, "id")),
		    s);
		c->fn(m, c->arg);
		c->problems++;
	}
	return 0;
}

static int
check_object(json_t *row, void *arg)
{
	struct checking *c = arg;
	char m[512];

	if (!one_of(member(row, "state"), object_states,
	    sizeof(object_states) / sizeof(object_states[0]))) {
		snprintf(m, sizeof(m), "%s '%s' has state '%s'",
		    member(row, "kind") ? member(row, "kind") : "",
		    member(row, "key") ? member(row, "key") : "",
		    member(row, "state") ? member(row, "state") : "");
		c->fn(m, c->arg);
		c->problems++;
	}
	return 0;
}

static void
no_report(const char *m, void *arg)
{
	(void)m;
	(void)arg;
}

int
txn_check(struct journal *j, void (*fn)(const char *, void *), void *arg)
{
	struct checking c = { fn ? fn : no_report, arg, 0 };
	char m[700];
	size_t i;
	int64_t n;

	if (!journal_is_open(j))
		return 0;
	/* the store's own check of its pages and indexes */
	if (SQL(j)->own_check &&
	    (c.problems = SQL(j)->own_check(j, c.fn, arg)) < 0)
		return -1;
	/* every state is one agcod writes */
	if (SQL(j)->each(j, "cannot read the journal", "SELECT id, state, open "
	    "FROM requests ORDER BY id", NULL, check_request, &c) < 0 ||
	    SQL(j)->each(j, "cannot read the journal", "SELECT kind, key, state "
	    "FROM objects ORDER BY id", NULL, check_object, &c) < 0) {
		snprintf(m, sizeof(m), "%s", j->err);
		c.fn(m, arg);
		return -1;
	}
	/* agcod's invariants that a count tells */
	for (i = 0; i < sizeof(counted) / sizeof(counted[0]); i++) {
		if ((n = run_int(j, counted[i].sql ? counted[i].sql :
		    SQL(j)->claim_columns, NULL)) == 0)
			continue;
		if (n < 0) {
			snprintf(m, sizeof(m), "cannot count %s: %.400s",
			    counted[i].what, j->err);
			c.fn(m, arg);
			return -1;
		}
		snprintf(m, sizeof(m), "%lld %s", (long long)n, counted[i].what);
		c.fn(m, arg);
		c.problems++;
	}
	return c.problems;
}

long
txn_prune(struct journal *j, const char *before, int dry_run)
{
	/*
	 * A settled object goes, but not one with an open request, nor a live
	 * card that holds its external reference (what reserves it); what the
	 * batch guards read of it outlives it.  Then the settled requests no
	 * kept object points to (a row id must not be taken again by another).
	 * A dry run does the same and rolls it back.
	 */
#define PRUNABLE_OBJECT "updated < $1 AND state NOT IN ('pending', " \
	"'unknown') AND NOT (reserved IS NOT DISTINCT FROM 1 AND state = " \
	"'issued') AND NOT EXISTS (SELECT 1 FROM requests r WHERE r.open = 1 " \
	"AND r.request_id = objects.request_id)"
	static const char *const del[3] = {
	    "INSERT INTO pruned (kind, key, operation, state, time, updated) "
	    "SELECT kind, key, operation, state, time, updated FROM objects "
	    "WHERE " PRUNABLE_OBJECT " ON CONFLICT (kind, key) DO UPDATE SET "
	    "operation = excluded.operation, state = excluded.state, time = "
	    "excluded.time, updated = excluded.updated",
	    "DELETE FROM objects WHERE " PRUNABLE_OBJECT,
	    "DELETE FROM requests WHERE time < $1 AND open = 0 AND "
	    "state NOT IN ('pending', 'unknown') AND id NOT IN (SELECT "
	    "last_request FROM objects WHERE last_request IS NOT NULL)" };
#undef PRUNABLE_OBJECT
	struct jparams p = { .n = 0 };
	long total, n;
	int i, tries = 0;

	if (!journal_is_open(j))
		return 0;
	jp_text(&p, before);
	do {
		j->err[0] = '\0';
		total = 0;
		if (SQL(j)->begin(j) == -1)
			goto failed;
		for (i = 0; i < 3; i++) {
			if ((n = run(j, "cannot prune the journal", del[i], &p,
			    NULL)) < 0)
				goto failed;
			if (i > 0)
				total += n;
		}
		if (dry_run) {
			SQL(j)->rollback(j);
			return total;
		}
		if (SQL(j)->commit(j) == 0) {
			if (SQL(j)->wrote_much)
				SQL(j)->wrote_much(j);
			return total;
		}
failed:
		SQL(j)->rollback(j);
	} while (again(j, ++tries, 0));
	return -1;
}

/* ---- journal copy: rows as stored, restored into another store ---- */

int
txn_rows(struct journal *j, const char *table, int (*fn)(json_t *, void *),
    void *arg)
{
	static const char *const sql[] = {
		"SELECT * FROM requests ORDER BY id",
		"SELECT * FROM objects ORDER BY id",
		"SELECT * FROM pruned ORDER BY kind, key",
	};
	int i = strcmp(table, "requests") == 0 ? 0 :
	    strcmp(table, "objects") == 0 ? 1 : 2;

	if (!journal_is_open(j))
		return 0;	/* none yet: no rows */
	return SQL(j)->each(j, "cannot read the journal", sql[i], NULL, fn,
	    arg);
}

int
txn_restore_begin(struct journal *j)
{
	return journal_is_open(j) ? SQL(j)->begin(j) : not_open(j);
}

int
txn_restore_end(struct journal *j, int commit)
{
	if (commit)
		return SQL(j)->commit(j);
	SQL(j)->rollback(j);
	return 0;
}

/* what makes a record the same request, or the same money object */
static const char *const request_terms[] = { "partner", "environment",
    "amount", "currency", "external_reference", "card_number", "source_id",
    "account", "body_sha" };
static const char *const object_terms[] = { "operation", "request_id",
    "partner", "environment", "amount", "currency", "external_reference" };
#define NTERMS(t)	(sizeof(t) / sizeof((t)[0]))

/* a value as stored: a number, a text, or NULL */
static void
jp_json(struct jparams *p, json_t *v)
{
	if (json_is_integer(v))
		jp_int(p, json_integer_value(v));
	else
		jp_text(p, json_string_value(v));
}

/* the first of terms a and b differ in, or NULL: the same */
static const char *
differs(json_t *a, json_t *b, const char *const *terms, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		json_t *x = json_object_get(a, terms[i]);
		json_t *y = json_object_get(b, terms[i]);

		/* a body hash agcod 0.1 did not keep proves nothing */
		if (strcmp(terms[i], "body_sha") == 0 && (!x || !y))
			continue;
		if ((x || y) && !json_equal(x, y))
			return terms[i];
	}
	return NULL;
}

/* a column name of the source's: never quoted SQL */
static int
column_name(const char *k)
{
	const char *c;

	for (c = k; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || *c == '_' ||
		    (*c >= '0' && *c <= '9')))
			return 0;
	return c != k;
}

/* INSERT the row's columns (not its id) into table; *id the new one's:
 * 1, JOURNAL_CONFLICT (a unique index), -1 */
static int
insert_row(struct journal *j, const char *table, json_t *row, int64_t *id)
{
	struct jparams p = { .n = 0 };
	struct buf sql, vals;
	const char *k;
	json_t *v, *got = NULL;
	long n;
	int rc = -1;

	buf_init(&sql, 8192);
	buf_init(&vals, 4096);
	if (buf_printf(&sql, "INSERT INTO %s (", table) == -1)
		goto oom;
	json_object_foreach(row, k, v) {
		if (strcmp(k, "id") == 0)
			continue;
		if (!column_name(k) || p.n >= JMAXP) {
			snprintf(j->err, sizeof(j->err), "the journal has a "
			    "column this agcod does not know");
			goto done;
		}
		jp_json(&p, v);
		if (buf_printf(&sql, "%s%s", p.n > 1 ? ", " : "", k) == -1 ||
		    buf_printf(&vals, "%s$%d", p.n > 1 ? ", " : "", p.n) == -1)
			goto oom;
	}
	if (buf_printf(&sql, ") VALUES (%s)%s", vals.data ? vals.data : "",
	    strcmp(table, "pruned") ? " RETURNING id" : "") == -1)
		goto oom;
	n = SQL(j)->run(j, "cannot copy into the journal", sql.data, &p, &got,
	    JQ_MAY_CONFLICT);
	if (n == JQ_UNIQUE)
		rc = JOURNAL_CONFLICT;
	else if (n >= 0) {
		if (got && json_is_integer(json_object_get(got, "id")))
			*id = json_integer_value(json_object_get(got, "id"));
		rc = 1;
	}
	json_decref(got);
	goto done;
oom:
	snprintf(j->err, sizeof(j->err), "out of memory");
done:
	buf_free(&sql);
	buf_free(&vals);
	return rc;
}

/* the row of sql (parameters p) as JSON, NULL when none; -1 in *rc */
static json_t *
one_row(struct journal *j, const char *sql, const struct jparams *p, int *rc)
{
	json_t *o = NULL;

	*rc = run(j, "cannot read the journal", sql, p, &o) < 0 ? -1 : 0;
	return o;
}

static int
restore_request(struct journal *j, json_t *row, int64_t *id)
{
	const char *op = member(row, "operation"), *rid = member(row,
	    "request_id"), *d;
	struct jparams p = { .n = 0 };
	json_t *have;
	int rc;

	jp_text(&p, op);
	jp_text(&p, rid);
	jp_text(&p, member(row, "time"));
	jp_json(&p, json_object_get(row, "pid"));
	jp_json(&p, json_object_get(row, "pid_start"));
	/* the same attempt, copied before */
	have = one_row(j, "SELECT * FROM requests WHERE operation = $1 AND "
	    "request_id = $2 AND time = $3 AND pid IS NOT DISTINCT FROM "
	    "CAST($4 AS BIGINT) AND pid_start IS NOT DISTINCT FROM "
	    "CAST($5 AS BIGINT) ORDER BY id LIMIT 1", &p, &rc);
	if (rc == -1)
		return -1;
	if (have) {
		d = differs(row, have, request_terms, NTERMS(request_terms));
		if (d == NULL && json_integer_value(json_object_get(have,
		    "open")) == 1 && json_integer_value(json_object_get(row,
		    "open")) == 0)
			d = "state";
		if (d) {
			snprintf(j->err, sizeof(j->err), "%s %s of %s is in the "
			    "target journal already, with another %s "
			    "(settled in journal.db after it was copied?)", op,
			    rid, member(row, "time"), d);
			json_decref(have);
			return JOURNAL_CONFLICT;
		}
		*id = json_integer_value(json_object_get(have, "id"));
		json_decref(have);
		return 0;
	}
	/* another attempt of the id: the same terms, or a conflict */
	p.n = 2;
	have = one_row(j, "SELECT * FROM requests WHERE operation = $1 AND "
	    "request_id = $2 ORDER BY id", &p, &rc);
	if (rc == -1)
		return -1;
	if (have && (d = differs(row, have, request_terms,
	    NTERMS(request_terms))) != NULL) {
		snprintf(j->err, sizeof(j->err), "%s %s is in the target "
		    "journal already, with other terms (its %s differs): "
		    "nothing was copied; is it another journal's request id?",
		    op, rid, d);
		json_decref(have);
		return JOURNAL_CONFLICT;
	}
	json_decref(have);
	if ((rc = insert_row(j, "requests", row, id)) == JOURNAL_CONFLICT)
		snprintf(j->err, sizeof(j->err), "%s %s has an open record in "
		    "the target journal already: settle or reconcile it "
		    "there, then copy again", op, rid);
	return rc;
}

static int
restore_object(struct journal *j, const char *table, json_t *row)
{
	struct jparams p = { .n = 0 };
	const char *d = NULL;
	json_t *have;
	int64_t id;
	int rc, objects = strcmp(table, "objects") == 0;

	jp_text(&p, member(row, "kind"));
	jp_text(&p, member(row, "key"));
	have = one_row(j, objects ? "SELECT * FROM objects WHERE kind = $1 "
	    "AND key = $2" : "SELECT * FROM pruned WHERE kind = $1 AND "
	    "key = $2", &p, &rc);
	if (rc == -1)
		return -1;
	if (have) {
		d = differs(row, have, object_terms, objects ?
		    NTERMS(object_terms) : 1);
		/* changed in journal.db after it was copied (a cancel, a
		 * void): the target's state would be an older one; in the
		 * same second (updated's unit), that cannot be told apart */
		if (d == NULL && objects && !same_str(member(row, "state"),
		    member(have, "state")) && member(row, "updated") &&
		    member(have, "updated") && strcmp(member(row, "updated"),
		    member(have, "updated")) >= 0)
			d = "state (changed in journal.db after it was copied?)";
		json_decref(have);
		if (d == NULL)
			return 0;
		snprintf(j->err, sizeof(j->err), "%s %s is in the target "
		    "journal already, with other terms (its %s differs): "
		    "nothing was copied", member(row, "kind"), member(row,
		    "key"), d);
		return JOURNAL_CONFLICT;
	}
	if ((rc = insert_row(j, table, row, &id)) == JOURNAL_CONFLICT)
		snprintf(j->err, sizeof(j->err), "%s %s: its external "
		    "reference '%s' has a live %s in the target journal "
		    "already: nothing was copied", member(row, "kind"),
		    member(row, "key"), member(row, "external_reference") ?
		    member(row, "external_reference") : "", member(row, "kind"));
	return rc;
}

int
txn_restore(struct journal *j, const char *table, json_t *row, int64_t *id)
{
	*id = 0;
	if (strcmp(table, "requests") == 0)
		return restore_request(j, row, id);
	return restore_object(j, table, row);
}
