/*
 * journal_sqlite_query.c - the SQLite store's reading and upkeep: history's
 * and export's queries, journal check (SQLite's own check and agcod's
 * invariants) and journal prune.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "buf.h"
#include "journal.h"
#include "journal_sqlite.h"
#include "journal_state.h"

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
sq_query(struct journal *j, const struct journal_query *q,
    int (*fn)(json_t *, void *), void *arg)
{
	struct buf sql = BUF_INIT(4096);
	const char *args[10];
	sqlite3_stmt *st;
	int first = 1, n = 0, rc = 0, i, step;
	const char *opcol = "operation";

	j->err[0] = '\0';
	if (j->db == NULL)
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
		if (add_where(&sql, &first, opcol) == -1 ||
		    buf_adds(&sql, " = ?") == -1)
			goto oom;
		args[n++] = q->view == VIEW_OBJECTS ?
		    journal_kind(q->operation) : q->operation;
		if (args[n - 1] == NULL)
			args[n - 1] = "";
	}
	{
		const struct { const char *cond, *val; } f[] = {
			{ "state = ?", q->state },
			{ "request_id = ?", q->request_id },
			{ "external_reference = ?", q->extref },
			{ "partner = ?", q->partner },
			{ "environment = ?", q->environment },
			{ "time >= ?", q->since },
			{ "time < ?", q->until },
		};
		size_t k;

		for (k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
			if (f[k].val == NULL)
				continue;
			if (add_where(&sql, &first, f[k].cond) == -1)
				goto oom;
			args[n++] = f[k].val;
		}
	}
	if (buf_adds(&sql, q->newest_first ? " ORDER BY id DESC" :
	    " ORDER BY id") == -1 ||
	    (q->limit > 0 && buf_printf(&sql, " LIMIT %ld", q->limit) == -1))
		goto oom;
	if ((st = prep(j, buf_str(&sql))) == NULL) {
		buf_free(&sql);
		return -1;
	}
	buf_free(&sql);
	for (i = 0; i < n; i++)
		bind_text(st, i + 1, args[i]);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *row = row_json(st);

		rc = fn(row, arg);
		json_decref(row);
		if (rc)
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = jfail(j, "cannot read the journal");
	unprep(j, st);
	return rc;
oom:
	buf_free(&sql);
	snprintf(j->err, sizeof(j->err), "out of memory");
	return -1;
}

/* ---- maintenance ---- */

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

static long
count(struct journal *j, const char *sql)
{
	sqlite3_stmt *st = prep(j, sql);
	long n = -1;

	if (st && sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	else if (st)
		jfail(j, "cannot read the journal");
	unprep(j, st);
	return n;
}

static const struct {
	const char	*sql;
	const char	*what;
} counted[] = {
	/* one open question per request id */
	{ "SELECT count(*) FROM (SELECT 1 FROM requests WHERE open = 1 "
	  "GROUP BY operation, request_id HAVING count(*) > 1)",
	  "request ids have more than one open record" },
	/* a settled object was settled by a request that says so */
	{ "SELECT count(*) FROM objects o WHERE o.state IN ('issued', "
	  "'loaded', 'activated', 'cancelled', 'voided', 'deactivated') AND "
	  "EXISTS (SELECT 1 FROM requests r WHERE r.id = o.last_request) AND "
	  "NOT EXISTS (SELECT 1 FROM requests r WHERE r.id = o.last_request "
	  "AND r.state IN ('succeeded', 'cancelled'))",
	  "money objects are in a state no successful request put them in" },
	/* nothing stays unknown without a request reconcile will ask again */
	{ "SELECT count(*) FROM objects o WHERE o.state IN ('pending', "
	  "'unknown') AND NOT EXISTS (SELECT 1 FROM requests r WHERE r.open = 1 "
	  "AND r.operation = o.operation AND (r.request_id = o.key OR "
	  "r.card_number = o.key))",
	  "money objects are unknown with no open request to settle them" },
	/* nothing that could hold a claim code */
	{ "SELECT (SELECT count(*) FROM pragma_table_info('requests') WHERE "
	  "name LIKE '%claim%') + (SELECT count(*) FROM "
	  "pragma_table_info('objects') WHERE name LIKE '%claim%')",
	  "journal columns could hold a claim code" },
};

static void
no_report(const char *m, void *arg)
{
	(void)m;
	(void)arg;
}

/* a step that ended in an error, not a row or the end: say so */
static int
step_failed(struct journal *j, int step, void (*fn)(const char *, void *),
    void *arg)
{
	char m[700];

	if (step == SQLITE_DONE)
		return 0;
	jfail(j, "cannot read the journal");
	snprintf(m, sizeof(m), "%s", j->err);
	fn(m, arg);
	return -1;
}

int
sq_check(struct journal *j, void (*fn)(const char *, void *), void *arg)
{
	sqlite3_stmt *st;
	char m[512];
	int problems = 0, step;
	size_t i;
	long n;

	if (fn == NULL)
		fn = no_report;
	if (j->db == NULL)
		return 0;
	/* SQLite's own check of every page, index and constraint */
	if ((st = prep(j, "PRAGMA integrity_check")) == NULL)
		return -1;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = col_text(st, 0);

		if (t && strcmp(t, "ok") != 0) {
			snprintf(m, sizeof(m), "sqlite: %s", t);
			fn(m, arg);
			problems++;
		}
	}
	unprep(j, st);
	if (step_failed(j, step, fn, arg) == -1)
		return -1;
	/* every state is one agcod writes */
	if ((st = prep(j, "SELECT id, state, open FROM requests")) == NULL)
		return -1;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *s = col_text(st, 1);
		int open = sqlite3_column_int(st, 2);

		if (!one_of(s, request_states, sizeof(request_states) /
		    sizeof(request_states[0]))) {
			snprintf(m, sizeof(m), "request %lld has state '%s'",
			    (long long)sqlite3_column_int64(st, 0), s ? s : "");
			fn(m, arg);
			problems++;
		} else if (open && !is(s, "pending") && !is(s, "unknown")) {
			snprintf(m, sizeof(m), "request %lld is open but %s",
			    (long long)sqlite3_column_int64(st, 0), s);
			fn(m, arg);
			problems++;
		}
	}
	unprep(j, st);
	if (step_failed(j, step, fn, arg) == -1)
		return -1;
	if ((st = prep(j, "SELECT kind, key, state FROM objects")) == NULL)
		return -1;
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		if (!one_of(col_text(st, 2), object_states,
		    sizeof(object_states) / sizeof(object_states[0]))) {
			snprintf(m, sizeof(m), "%s '%s' has state '%s'",
			    col_text(st, 0), col_text(st, 1),
			    col_text(st, 2) ? col_text(st, 2) : "");
			fn(m, arg);
			problems++;
		}
	unprep(j, st);
	if (step_failed(j, step, fn, arg) == -1)
		return -1;
	/* agcod's invariants that a count tells */
	for (i = 0; i < sizeof(counted) / sizeof(counted[0]); i++) {
		if ((n = count(j, counted[i].sql)) == 0)
			continue;
		if (n < 0) {
			snprintf(m, sizeof(m), "cannot count %s: %.400s",
			    counted[i].what, j->err);
			fn(m, arg);
			return -1;
		}
		snprintf(m, sizeof(m), "%ld %s", n, counted[i].what);
		fn(m, arg);
		problems++;
	}
	return problems;
}

long
sq_prune(struct journal *j, const char *before, int dry_run)
{
	/*
	 * A settled object goes, but not one with an open request, nor a live
	 * card that holds its external reference (what reserves it); what the
	 * batch guards read of it outlives it.  Then the settled requests no
	 * kept object points to (a row id must not be taken again by another).
	 * A dry run does the same and rolls it back.
	 */
#define PRUNABLE_OBJECT "updated < ?1 AND state NOT IN ('pending', " \
	"'unknown') AND NOT (reserved IS 1 AND state = 'issued') AND NOT " \
	"EXISTS (SELECT 1 FROM requests r WHERE r.open = 1 AND " \
	"r.request_id = objects.request_id)"
	static const char *const del[3] = {
	    "INSERT OR REPLACE INTO pruned (kind, key, operation, state, time, "
	    "updated) SELECT kind, key, operation, state, time, updated FROM "
	    "objects WHERE " PRUNABLE_OBJECT,
	    "DELETE FROM objects WHERE " PRUNABLE_OBJECT,
	    "DELETE FROM requests WHERE time < ?1 AND open = 0 AND "
	    "state NOT IN ('pending', 'unknown') AND id NOT IN (SELECT "
	    "last_request FROM objects WHERE last_request IS NOT NULL)" };
#undef PRUNABLE_OBJECT
	sqlite3_stmt *st;
	long total = 0;
	int i;

	if (j->db == NULL)
		return 0;
	if (exec(j, "BEGIN IMMEDIATE") == -1)
		return -1;
	for (i = 0; i < 3; i++) {
		if ((st = prep(j, del[i])) == NULL)
			goto fail;
		bind_text(st, 1, before);
		if (sqlite3_step(st) != SQLITE_DONE) {
			jfail(j, "cannot prune the journal");
			unprep(j, st);
			goto fail;
		}
		if (i > 0)
			total += sqlite3_changes(j->db);
		unprep(j, st);
	}
	if (exec(j, dry_run ? "ROLLBACK" : "COMMIT") == -1)
		goto fail;
	if (!dry_run)
		wrote_much(j);
	return total;
fail:
	sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}


/* ---- journal copy: every row, as stored ---- */

int
sq_rows(struct journal *j, const char *table, int (*fn)(json_t *, void *),
    void *arg)
{
	static const char *const sql[] = {
		"SELECT * FROM requests ORDER BY id",
		"SELECT * FROM objects ORDER BY id",
		"SELECT * FROM pruned ORDER BY rowid",
	};
	sqlite3_stmt *st;
	json_t *row;
	int i, rc = 0, step = SQLITE_DONE;

	i = strcmp(table, "requests") == 0 ? 0 : strcmp(table, "objects") ==
	    0 ? 1 : 2;
	if (j->db == NULL)
		return 0;	/* none yet: no rows */
	if (sqlite3_prepare_v2(j->db, sql[i], -1, &st, NULL) != SQLITE_OK)
		return jfail(j, "cannot read the journal");
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		row = row_json(st);
		rc = fn(row, arg);
		json_decref(row);
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = jfail(j, "cannot read the journal");
	sqlite3_finalize(st);
	return rc;
}
