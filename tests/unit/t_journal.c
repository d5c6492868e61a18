/* t_journal.c - journal folding, records, the state table */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../../src/journal.h"
#include "../../src/result.h"
#include "unit.h"

static const char *
member(json_t *e, const char *k)
{
	return json_string_value(json_object_get(e, k));
}

/* the man page's table, read from agcod-journal(5): row, column -> cell */
static int
man_table(char cells[JT_ROWS][JT_COLS][16], char names[JT_ROWS][32])
{
	char path[512], *text, *line, *save = NULL;
	int row = -1, in = 0;

	snprintf(path, sizeof(path), "%s/../../man/agcod-journal.5",
	    unit_data_dir);
	if ((text = unit_slurp(path, NULL)) == NULL)
		return -1;
	for (line = strtok_r(text, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		char *p, *cell;
		int col = -1;

		if (strstr(line, "state table:"))
			in = 1;
		else if (in && strcmp(line, ".El") == 0)
			break;
		if (!in || strncmp(line, ".It ", 4) != 0)
			continue;
		if (strncmp(line, ".It Em ", 7) == 0)
			continue;	/* the header */
		if (++row >= JT_ROWS)
			break;
		for (p = line + 4; p; col++) {
			cell = p;
			if ((p = strstr(p, " Ta ")) != NULL) {
				*p = '\0';
				p += 4;
			}
			if (strncmp(cell, "Sy ", 3) == 0)
				cell += 3;
			if (col == -1)
				snprintf(names[row], 32, "%s", cell);
			else if (col >= 0 && col < JT_COLS)
				snprintf(cells[row][col], 16, "%s", cell);
		}
	}
	free(text);
	return row + 1;
}

/* how evidence moves money objects: the one table of it */
static void
test_next_state(void)
{
	/* the reproductions, by hand, before the tables */
	static const struct {
		const char *op, *cur;
		enum journal_evidence ev;
		int acted;
		const char *want;
	} t[] = {
		{ "CreateGiftCard", NULL, EV_SEND, 0, "pending" },
		{ "CreateGiftCard", "pending", EV_SUCCESS, 0, "issued" },
		{ "CreateGiftCard", "pending", EV_REFUSED, 0, "failed" },
		{ "CreateGiftCard", "pending", EV_NO_PROOF, 0, "unknown" },
		{ "CreateGiftCard", "pending", EV_NOT_SENT, 0, "not sent" },
		/* a send over a pending record a dead process left */
		{ "CreateGiftCard", "pending", EV_SEND, 0, "unknown" },
		/* issue 18 defect 1: an unknown card stays unknown through a
		 * throttle, 403, F100 or F500 of a later send */
		{ "CreateGiftCard", "unknown", EV_REFUSED, 1, "unknown" },
		{ "CreateGiftCard", "pending", EV_REFUSED, 1, "unknown" },
		{ "CreateGiftCard", "unknown", EV_NOT_SENT, 1, "unknown" },
		/* a retry not sent (no rate slot) after an attempt that may
		 * have acted: the card is not 'not sent' (sim seed 618) */
		{ "CreateGiftCard", "pending", EV_NOT_SENT, 1, "unknown" },
		{ "LoadAmazonBalance", "pending", EV_NOT_SENT, 1, "unknown" },
		/* an F2xx of the same body proves it */
		{ "CreateGiftCard", "unknown", EV_REFUSED_SAME, 1, "failed" },
		{ "CreateGiftCard", "unknown", EV_SUCCESS, 1, "issued" },
		{ "CreateGiftCard", "failed", EV_SUCCESS, 0, "issued" },
		{ "CreateGiftCard", "failed", EV_SEND, 0, "pending" },
		{ "CreateGiftCard", "issued", EV_REFUSED, 0, "issued" },
		{ "CreateGiftCard", "issued", EV_NO_PROOF, 1, "issued" },
		{ "CreateGiftCard", "issued", EV_REFUNDED, 1, "cancelled" },
		{ "CreateGiftCard", "issued", EV_SETTLED_FAILED, 0, "issued" },
		{ "CreateGiftCard", "unknown", EV_SETTLED_OK, 1, "issued" },
		{ "CreateGiftCard", "cancelled", EV_SUCCESS, 1, "cancelled" },
		{ "CancelGiftCard", "issued", EV_SUCCESS, 0, "cancelled" },
		/* issue 18 defect 6: a settled cancel undoes its card */
		{ "CancelGiftCard", "unknown", EV_SETTLED_OK, 1, "cancelled" },
		{ "CancelGiftCard", "issued", EV_REFUSED, 0, "issued" },
		{ "CancelGiftCard", "issued", EV_NO_PROOF, 0, "issued" },
		{ "CancelGiftCard", "issued", EV_SETTLED_FAILED, 0, "issued" },
		{ "CancelGiftCard", NULL, EV_SUCCESS, 0, "cancelled" },
		{ "CancelGiftCard", NULL, EV_REFUSED, 0, NULL },
		{ "LoadAmazonBalance", NULL, EV_SEND, 0, "pending" },
		{ "LoadAmazonBalance", "pending", EV_SUCCESS, 0, "loaded" },
		{ "VoidAmazonBalanceLoad", "loaded", EV_SUCCESS, 0, "voided" },
		{ "VoidAmazonBalanceLoad", "loaded", EV_REFUSED, 0, "loaded" },
		{ "ActivateGiftCard", "pending", EV_SUCCESS, 0, "activated" },
		{ "DeactivateGiftCard", "activated", EV_SUCCESS, 0,
		    "deactivated" },
		{ "ActivateGiftCard", "deactivated", EV_SUCCESS, 0, "activated" },
		{ "ActivateGiftCard", "deactivated", EV_REFUSED, 0,
		    "deactivated" },
		{ "GetAvailableFunds", NULL, EV_SUCCESS, 0, NULL },
	};
	static const char *const origins[] = { "CreateGiftCard",
	    "LoadAmazonBalance", "ActivateGiftCard" };
	static const char *const undos[] = { "CancelGiftCard",
	    "VoidAmazonBalanceLoad", "DeactivateGiftCard" };
	static const char *const made[] = { "issued", "loaded", "activated" };
	static const char *const undone[] = { "cancelled", "voided",
	    "deactivated" };
	/* the table's rows, by evidence and whether an attempt acted */
	static const struct { enum journal_evidence ev; int acted; } rows[] = {
		{ EV_SEND, 0 }, { EV_NOT_SENT, 0 }, { EV_NO_PROOF, 0 },
		{ EV_REFUSED, 0 }, { EV_REFUSED, 1 }, { EV_REFUSED_SAME, 1 },
		{ EV_SUCCESS, 0 }, { EV_REFUNDED, 0 }, { EV_SUCCESS, 0 },
		{ EV_SETTLED_OK, 0 }, { EV_SETTLED_FAILED, 0 },
	};
	char cells[JT_ROWS][JT_COLS][16], names[JT_ROWS][32];
	size_t i, o;
	int r, c, n, acted;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *got = journal_next_state(t[i].op, t[i].cur,
		    t[i].ev, t[i].acted);

		CHECK((got == NULL && t[i].want == NULL) || (got && t[i].want &&
		    strcmp(got, t[i].want) == 0), "%s %s + evidence %d (acted "
		    "%d): %s, want %s", t[i].op, t[i].cur ? t[i].cur : "-",
		    t[i].ev, t[i].acted, got ? got : "-",
		    t[i].want ? t[i].want : "-");
	}
	CHECK_STR(journal_kind("VoidAmazonBalanceLoad"), "load", "kind");
	CHECK(journal_kind("ActivationStatusCheck") == NULL, "no kind");

	/* the man page prints the code's table, cell for cell */
	memset(cells, 0, sizeof(cells));
	memset(names, 0, sizeof(names));
	n = man_table(cells, names);
	CHECK(n == JT_ROWS, "agcod-journal(5) has the state table: %d rows", n);
	for (r = 0; r < JT_ROWS && n == JT_ROWS; r++) {
		CHECK_STR(names[r], journal_table_row(r), "row %d's name", r);
		for (c = 0; c < JT_COLS; c++) {
			const char *want = journal_table(r, c);

			/* the man page writes "not sent" as a state */
			CHECK(strcmp(cells[r][c], want) == 0,
			    "agcod-journal(5) %s x %s: '%s', the code: '%s'",
			    journal_table_row(r), journal_table_col(c),
			    cells[r][c], want);
		}
	}

	/* exhaustive: every kind, state and evidence, by the table */
	for (o = 0; o < 3; o++) {
		const char *states[JT_COLS] = { NULL, "pending", "unknown",
		    "not sent", "failed", made[o], undone[o] };

		for (r = 0; r < JT_ROWS; r++)
			for (c = 0; c < JT_COLS; c++) {
				const char *cell = journal_table(r, c), *want,
				    *got, *op = r == 8 ? undos[o] : origins[o];

				want = strcmp(cell, "=") == 0 ? states[c] :
				    strcmp(cell, "made") == 0 ? made[o] :
				    strcmp(cell, "undone") == 0 ? undone[o] :
				    cell;
				if (o == 2 && c == 6 && r == 6)
					want = made[o];	/* reactivated */
				got = journal_next_state(op, states[c],
				    rows[r].ev, rows[r].acted);
				CHECK((got == NULL && want == NULL) ||
				    (got && want && strcmp(got, want) == 0),
				    "%s %s + %s: %s, want %s", op,
				    states[c] ? states[c] : "-",
				    journal_table_row(r), got ? got : "-",
				    want ? want : "-");
			}
		/* an undo's other evidence never moves its object */
		for (r = 0; r < EV_COUNT; r++)
			for (c = 0; c < JT_COLS; c++)
				for (acted = 0; acted < 2; acted++) {
					const char *got = journal_next_state(
					    undos[o], states[c],
					    (enum journal_evidence)r, acted);
					int moves = r == EV_SUCCESS ||
					    r == EV_SETTLED_OK;

					if (moves)
						continue;
					CHECK((got == NULL && states[c] == NULL)
					    || (got && states[c] && strcmp(got,
					    states[c]) == 0), "%s %s + ev %d "
					    "moved it to %s", undos[o],
					    states[c] ? states[c] : "-", r,
					    got ? got : "-");
				}
	}
}

static int
count_row(json_t *row, void *arg)
{
	(void)row;
	(*(int *)arg)++;
	return 0;
}

static int
always_alive(long long pid, long long start)
{
	(void)pid; (void)start;
	return 1;
}

static int
never_alive(long long pid, long long start)
{
	(void)pid; (void)start;
	return 0;
}

static int
count_open(struct journal *j, const char *rid)
{
	struct journal_query q;
	int n = 0;

	memset(&q, 0, sizeof(q));
	q.view = VIEW_OPEN;
	q.request_id = rid;
	return journal_query(j, &q, count_row, &n) == 0 ? n : -1;
}

/* issue 18 defects 5 and 9: one open record per id, across processes */
static void
test_one_open_record(void)
{
	char dir[] = "/tmp/agcod-unit-XXXXXX", cmd[64];
	struct journal a, b;
	json_t *rec, *e;
	int64_t ia, ib;

	if (mkdtemp(dir) == NULL ||
	    journal_open(&a, dir, JOURNAL_WRITE) != AGCOD_OK ||
	    journal_open(&b, dir, JOURNAL_WRITE) != AGCOD_OK) {
		CHECK(0, "open two journals: %s", a.err);
		return;
	}
	b.owner_pid = a.owner_pid + 1;	/* another process */
	rec = json_pack("{s:s, s:s, s:s, s:s}", "operation", "CreateGiftCard",
	    "request_id", "R1", "amount", "5", "currency", "USD");
	ia = journal_begin(&a, rec);
	CHECK(ia > 0, "a begins: %s", a.err);
	/* a is alive: b must not take R1 over */
	a.alive = b.alive = always_alive;
	ib = journal_begin(&b, rec);
	CHECK(ib == JOURNAL_HELD && strstr(b.err, "another agcod process"),
	    "b is refused while a sends R1: %lld %s", (long long)ib, b.err);
	CHECK(count_open(&a, "R1") == 1, "one open record");
	/* a died: b takes the question over */
	b.alive = never_alive;
	ib = journal_begin(&b, rec);
	CHECK(ib > 0, "b takes over from a dead a: %s", b.err);
	CHECK(count_open(&a, "R1") == 1, "still one open record");
	json_decref(rec);
	rec = json_pack("{s:s, s:s, s:s}", "state", "succeeded", "evidence",
	    "success", "gc_id", "G1");
	CHECK(journal_finish(&b, ib, rec) == 0, "b succeeds: %s", b.err);
	json_decref(rec);
	/* a's late answer: recorded in its own record, which stays closed */
	rec = json_pack("{s:s, s:s}", "state", "unknown", "evidence",
	    "no-proof");
	CHECK(journal_finish(&a, ia, rec) == 0, "a's late finish: %s", a.err);
	json_decref(rec);
	CHECK(count_open(&a, "R1") == 0, "a late finish reopens nothing");
	e = journal_lookup(&a, "CreateGiftCard", "R1");
	CHECK(e && strcmp(member(e, "object_state"), "issued") == 0,
	    "the card stays issued");
	json_decref(e);
	CHECK(journal_check(&a, NULL, NULL) == 0, "consistent");
	journal_close(&a);
	journal_close(&b);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0, "cleanup");
}

/* issue 18 defect 2: one live card per reserved external reference */
static void
test_reserved_reference(void)
{
	char dir[] = "/tmp/agcod-unit-XXXXXX", cmd[64];
	struct journal j;
	json_t *rec;
	int64_t a, b;

	if (mkdtemp(dir) == NULL ||
	    journal_open(&j, dir, JOURNAL_WRITE) != AGCOD_OK) {
		CHECK(0, "open");
		return;
	}
	rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i}", "operation",
	    "CreateGiftCard", "request_id", "X1", "partner", "Acme1",
	    "environment", "sandbox", "external_reference", "order-1",
	    "amount", "1", "reserved", 1);
	a = journal_begin(&j, rec);
	CHECK(a > 0, "X1 reserves order-1: %s", j.err);
	json_object_set_new(rec, "request_id", json_string("X2"));
	b = journal_begin(&j, rec);
	CHECK(b == JOURNAL_REF_TAKEN && strstr(j.err, "X1"),
	    "X2 is refused while X1 is live: %lld %s", (long long)b, j.err);
	json_object_set_new(rec, "environment", json_string("production"));
	CHECK(journal_begin(&j, rec) > 0, "another environment: its own");
	json_object_set_new(rec, "environment", json_string("sandbox"));
	json_object_del(rec, "reserved");
	json_object_set_new(rec, "request_id", json_string("X3"));
	CHECK(journal_begin(&j, rec) > 0, "unreserved (--allow-reused-reference)");
	json_decref(rec);
	/* X1 proved refused: the reference is free again */
	rec = json_pack("{s:s, s:s, s:s}", "state", "failed", "evidence",
	    "refused-f2", "error_code", "F200");
	CHECK(journal_finish(&j, a, rec) == 0, "X1 fails: %s", j.err);
	json_decref(rec);
	rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i}", "operation",
	    "CreateGiftCard", "request_id", "X4", "partner", "Acme1",
	    "environment", "sandbox", "external_reference", "order-1",
	    "amount", "1", "reserved", 1);
	CHECK(journal_begin(&j, rec) > 0, "X4 takes the freed reference: %s",
	    j.err);
	/* sim 710: the failed X1 sent again with another reference holds it */
	json_object_set_new(rec, "request_id", json_string("X1"));
	json_object_set_new(rec, "external_reference", json_string("order-2"));
	CHECK(journal_begin(&j, rec) > 0, "X1 again, order-2: %s", j.err);
	json_object_set_new(rec, "request_id", json_string("X5"));
	CHECK(journal_begin(&j, rec) == JOURNAL_REF_TAKEN, "X5 may not take "
	    "order-2 from X1");
	/* sim 832: X1 re-sent unreserved, as reconcile does: still reserved */
	json_object_set_new(rec, "request_id", json_string("X1"));
	json_object_del(rec, "reserved");
	j.alive = never_alive;
	CHECK(journal_begin(&j, rec) > 0, "X1 re-sent: %s", j.err);
	json_object_set_new(rec, "request_id", json_string("X5"));
	json_object_set_new(rec, "reserved", json_integer(1));
	CHECK(journal_begin(&j, rec) == JOURNAL_REF_TAKEN, "X5 may still not "
	    "take order-2 from X1");
	json_decref(rec);
	journal_close(&j);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0, "cleanup");
}

/* begin op rid (with an external reference if ref) at t0, finish at t1 */
static int64_t
sent(struct journal *j, const char *rid, const char *ref, const char *t0,
    const char *t1, const char *evidence)
{
	json_t *rec;
	int64_t id;

	rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "operation",
	    "CreateGiftCard", "request_id", rid, "partner", "Acme1",
	    "environment", "sandbox", "amount", "1", "currency", "USD",
	    "time", t0);
	if (ref) {
		json_object_set_new(rec, "external_reference", json_string(ref));
		json_object_set_new(rec, "reserved", json_integer(1));
	}
	id = journal_begin(j, rec);
	json_decref(rec);
	if (id <= 0 || t1 == NULL)
		return id;
	rec = json_pack("{s:s, s:s, s:s}", "evidence", evidence, "time", t1,
	    "error_code", strcmp(evidence, "success") ? "F500" : "");
	if (journal_finish(j, id, rec) == -1)
		id = -1;
	json_decref(rec);
	return id;
}

/* what journal prune deletes must not break what it keeps (sim N3, N5, N7) */
static void
test_prune(void)
{
	char dir[] = "/tmp/agcod-unit-XXXXXX", cmd[64];
	struct journal j;
	json_t *e;
	int64_t id;

	if (mkdtemp(dir) == NULL ||
	    journal_open(&j, dir, JOURNAL_WRITE) != AGCOD_OK) {
		CHECK(0, "open");
		return;
	}
	/* N3: sent before the prune date, answered after it: the card stays,
	 * and so does the request that made it (its row id is not reused) */
	CHECK(sent(&j, "P1", NULL, "2020-01-01T00:00:00Z",
	    "2030-01-01T00:00:00Z", "success") > 0, "P1: %s", j.err);
	CHECK(journal_prune(&j, "2025-01-01T00:00:00Z", 0) >= 0, "prune: %s",
	    j.err);
	CHECK(sent(&j, "P2", NULL, "2031-01-01T00:00:00Z", NULL, NULL) > 0,
	    "P2: %s", j.err);
	CHECK(journal_check(&j, NULL, NULL) == 0, "consistent after the prune");
	/* N5: a pruned card keeps its reference reserved */
	CHECK(sent(&j, "P3", "order-9", "2020-01-01T00:00:00Z",
	    "2020-01-01T00:00:01Z", "success") > 0, "P3: %s", j.err);
	/* N7: a pruned card sent again meets F500: no evidence */
	CHECK(sent(&j, "P4", NULL, "2020-01-01T00:00:00Z",
	    "2020-01-01T00:00:01Z", "success") > 0, "P4: %s", j.err);
	CHECK(journal_prune(&j, "2025-01-01T00:00:00Z", 0) >= 0, "prune: %s",
	    j.err);
	id = sent(&j, "P5", "order-9", "2031-01-01T00:00:00Z", NULL, NULL);
	CHECK(id == JOURNAL_REF_TAKEN, "P5 may not take P3's reference: %lld",
	    (long long)id);
	CHECK(sent(&j, "P4", NULL, "2031-01-01T00:00:00Z",
	    "2031-01-01T00:00:01Z", "refused") > 0, "P4 again: %s", j.err);
	e = journal_lookup(&j, "CreateGiftCard", "P4");
	CHECK(e && strcmp(member(e, "state"), "unknown") == 0 &&
	    strcmp(member(e, "object_state"), "unknown") == 0,
	    "an F500 after a prune is no evidence: %s %s",
	    e ? member(e, "state") : "-", e ? member(e, "object_state") : "-");
	json_decref(e);
	CHECK(journal_check(&j, NULL, NULL) == 0, "consistent at the end");
	journal_close(&j);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0, "cleanup");
}

/* a physical card's activation or deactivation, sent at t0, answered at
 * t1 with evidence (F200 if it is not a success) */
static int64_t
card_sent(struct journal *j, const char *op, const char *rid, const char *t0,
    const char *t1, const char *evidence)
{
	json_t *rec;
	int64_t id;

	rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
	    "operation", op, "request_id", rid, "partner", "Acme1",
	    "environment", "sandbox", "amount", "5", "currency", "USD",
	    "card_number", "1234567890123456777", "time", t0);
	id = journal_begin(j, rec);
	json_decref(rec);
	if (id <= 0 || t1 == NULL)
		return id;
	rec = json_pack("{s:s, s:s, s:s}", "evidence", evidence, "time", t1,
	    "error_code", strcmp(evidence, "success") ? "F200" : "");
	if (journal_finish(j, id, rec) == -1)
		id = -1;
	json_decref(rec);
	return id;
}

/*
 * A physical card whose records were pruned, then an activation under
 * another id refused with F200 (the card is activated under the pruned
 * one): the refusal proves only that this id did nothing, so the card is
 * unknown (reconcile asks ActivationStatusCheck), not failed (the
 * simulation's failed-but-held, seed 164 --keep 0f,8d,9f,10,23f,33f)
 */
static void
test_prune_card(void)
{
	char dir[] = "/tmp/agcod-unit-XXXXXX", cmd[64];
	struct journal j;
	json_t *e;

	if (mkdtemp(dir) == NULL ||
	    journal_open(&j, dir, JOURNAL_WRITE) != AGCOD_OK) {
		CHECK(0, "open");
		return;
	}
	CHECK(card_sent(&j, "ActivateGiftCard", "A0", "2020-01-01T00:00:00Z",
	    "2020-01-01T00:00:01Z", "success") > 0, "A0: %s", j.err);
	CHECK(journal_prune(&j, "2025-01-01T00:00:00Z", 0) > 0, "prune: %s",
	    j.err);
	CHECK(card_sent(&j, "ActivateGiftCard", "A1", "2031-01-01T00:00:00Z",
	    "2031-01-01T00:00:01Z", "refused-f2") > 0, "A1: %s", j.err);
	e = journal_lookup(&j, "ActivateGiftCard", "A1");
	CHECK(e && strcmp(member(e, "state"), "failed") == 0 &&
	    member(e, "object_state") &&
	    strcmp(member(e, "object_state"), "unknown") == 0,
	    "an F200 of another id after the card was pruned: %s %s",
	    e ? member(e, "state") : "-", e && member(e, "object_state") ?
	    member(e, "object_state") : "-");
	json_decref(e);
	CHECK(journal_check(&j, NULL, NULL) == 0, "consistent at the end");
	journal_close(&j);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0, "cleanup");
}

/* sim N4: another body for an id whose acted attempt is unknown */
static void
test_other_terms(void)
{
	char dir[] = "/tmp/agcod-unit-XXXXXX", cmd[64];
	struct journal j;
	json_t *rec, *out;
	int64_t id;

	if (mkdtemp(dir) == NULL ||
	    journal_open(&j, dir, JOURNAL_WRITE) != AGCOD_OK) {
		CHECK(0, "open");
		return;
	}
	rec = json_pack("{s:s, s:s, s:s, s:s}", "operation", "CreateGiftCard",
	    "request_id", "T1", "amount", "5", "body_sha", "aaa");
	out = json_pack("{s:s}", "evidence", "no-proof");
	id = journal_begin(&j, rec);
	CHECK(id > 0 && journal_finish(&j, id, out) == 0, "T1 unknown: %s",
	    j.err);
	json_object_set_new(rec, "amount", json_string("6"));
	json_object_set_new(rec, "body_sha", json_string("bbb"));
	id = journal_begin(&j, rec);
	CHECK(id == JOURNAL_OTHER_TERMS && strstr(j.err, "other terms"),
	    "other terms are refused while T1 is unknown: %lld %s",
	    (long long)id, j.err);
	CHECK(count_open(&j, "T1") == 1, "the unknown record stays open");
	json_object_set_new(rec, "amount", json_string("5"));
	json_object_set_new(rec, "body_sha", json_string("aaa"));
	CHECK(journal_begin(&j, rec) > 0, "the same terms are sent again: %s",
	    j.err);
	json_decref(rec);
	json_decref(out);
	journal_close(&j);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0, "cleanup");
}

/* sim 818: a failed pending commit says whether an open record remains */
static void
test_begin_fails_over_open(void)
{
	char dir[] = "/tmp/agcod-unit-XXXXXX", cmd[64];
	struct journal w, r;
	json_t *rec, *out;
	int64_t id;

	if (mkdtemp(dir) == NULL ||
	    journal_open(&w, dir, JOURNAL_WRITE) != AGCOD_OK) {
		CHECK(0, "open");
		return;
	}
	rec = json_pack("{s:s, s:s, s:s}", "operation", "LoadAmazonBalance",
	    "request_id", "L1", "amount", "5");
	CHECK(journal_begin(&w, rec) > 0, "L1 pending: %s", w.err);
	json_object_set_new(rec, "request_id", json_string("L3"));
	out = json_pack("{s:s}", "evidence", "success");
	id = journal_begin(&w, rec);
	CHECK(id > 0 && journal_finish(&w, id, out) == 0, "L3 loaded: %s",
	    w.err);
	json_decref(out);
	json_object_set_new(rec, "request_id", json_string("L1"));
	journal_close(&w);
	/* a journal that cannot be written: the pending commit fails */
	if (journal_open(&r, dir, JOURNAL_READ) != AGCOD_OK) {
		CHECK(0, "open read-only: %s", r.err);
		return;
	}
	r.alive = never_alive;
	sqlite3_exec(r.db, "PRAGMA query_only = 1", NULL, NULL, NULL);
	CHECK(journal_begin(&r, rec) == JOURNAL_MAYBE_OPEN && strstr(r.err,
	    "reconcile"), "L1 has an open record reconcile sends: %s", r.err);
	json_object_set_new(rec, "request_id", json_string("L2"));
	CHECK(journal_begin(&r, rec) == -1, "L2 has none: nothing sent: %s",
	    r.err);
	/* sim 1685: an id that made its object already is not "nothing" */
	json_object_set_new(rec, "request_id", json_string("L3"));
	CHECK(journal_begin(&r, rec) == JOURNAL_MAYBE_OPEN, "L3 is loaded: %s",
	    r.err);
	json_decref(rec);
	journal_close(&r);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0, "cleanup");
}

/* sim 407: an attempt proved refused (F2xx of its body) has not acted */
static void
test_refused_has_not_acted(void)
{
	char dir[] = "/tmp/agcod-unit-XXXXXX", cmd[64];
	struct journal j;
	json_t *rec, *out, *e;
	int64_t id;

	if (mkdtemp(dir) == NULL ||
	    journal_open(&j, dir, JOURNAL_WRITE) != AGCOD_OK) {
		CHECK(0, "open");
		return;
	}
	rec = json_pack("{s:s, s:s, s:s}", "operation", "CancelGiftCard",
	    "request_id", "K1", "body_sha", "aaa");
	out = json_pack("{s:s, s:s}", "evidence", "refused-f2", "error_code",
	    "F200");
	id = journal_begin(&j, rec);
	/* a 503, then the retry of the same body is refused: F200 */
	CHECK(id > 0 && journal_acted(&j, id) == 0 &&
	    journal_finish(&j, id, out) == 0, "K1: %s", j.err);
	CHECK(strcmp(j.decided, "failed") == 0, "K1 failed: %s", j.decided);
	/* with its gcId now, too late: refused again */
	json_object_set_new(rec, "body_sha", json_string("bbb"));
	id = journal_begin(&j, rec);
	CHECK(id > 0 && journal_finish(&j, id, out) == 0, "K1 again: %s",
	    j.err);
	CHECK(strcmp(j.decided, "failed") == 0, "K1 again failed, not %s",
	    j.decided);
	e = journal_lookup(&j, "CancelGiftCard", "K1");
	CHECK(e && strcmp(member(e, "state"), "failed") == 0, "its record");
	json_decref(e);
	CHECK(count_open(&j, "K1") == 0, "nothing open");
	json_decref(rec);
	json_decref(out);
	journal_close(&j);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0, "cleanup");
}

/* a journal one version ahead is refused, not "migrated" */
static void
test_schema_ahead(void)
{
	char dir[] = "/tmp/agcod-unit-XXXXXX", cmd[128];
	struct journal j;

	if (mkdtemp(dir) == NULL ||
	    journal_open(&j, dir, JOURNAL_WRITE) != AGCOD_OK) {
		CHECK(0, "open");
		return;
	}
	snprintf(cmd, sizeof(cmd), "PRAGMA user_version = %d",
	    JOURNAL_SCHEMA + 1);
	CHECK(sqlite3_exec(j.db, cmd, NULL, NULL, NULL) == SQLITE_OK, "bump");
	journal_close(&j);
	CHECK(journal_open(&j, dir, JOURNAL_WRITE) == AGCOD_E_JOURNAL_IO &&
	    strstr(j.err, "newer than this agcod knows"),
	    "one version ahead is refused: %s", j.err);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0, "cleanup");
}

/* what put at STATE_DIR/journal.db before it is opened */
enum open_setup { AS_NONE, AS_DIR, AS_FIFO, AS_CORRUPT, AS_STATE_FILE,
    AS_SERVICE };

/*
 * What opening a journal comes to: a journal that cannot be used, or a
 * PostgreSQL one that cannot be reached, is the journal's (exit_code: 74);
 * a connection string that cannot be one is the configuration's (78).
 */
static void
test_open_results(void)
{
	static const struct {
		const char		*name;
		enum open_setup		 setup;
		const char		*where;
		enum journal_mode	 mode;
		enum agcod_result	 want;
		const char		*err;	/* in j.err, or NULL */
	} t[] = {
		/* AS_STATE_FILE: the state directory is journal.db, a file */
		{ "a new journal", AS_NONE, NULL, JOURNAL_WRITE, AGCOD_OK,
		    NULL },
		{ "none yet, read", AS_NONE, "", JOURNAL_READ, AGCOD_OK, NULL },
		{ "journal.db a directory", AS_DIR, NULL, JOURNAL_WRITE,
		    AGCOD_E_JOURNAL_IO, "Is a directory" },
		{ "journal.db a directory, read", AS_DIR, NULL, JOURNAL_READ,
		    AGCOD_E_JOURNAL_IO, "Is a directory" },
		{ "journal.db a FIFO", AS_FIFO, NULL, JOURNAL_WRITE,
		    AGCOD_E_JOURNAL_IO, "FIFO" },
		{ "journal.db not a database", AS_CORRUPT, NULL, JOURNAL_READ,
		    AGCOD_E_JOURNAL_IO, "not a database" },
		{ "the state directory a file", AS_STATE_FILE, NULL,
		    JOURNAL_WRITE, AGCOD_E_JOURNAL_IO, "not a directory" },
		{ "a string libpq cannot read", AS_NONE, "postgresql://[bad",
		    JOURNAL_WRITE, AGCOD_E_CONFIG, "not one libpq reads" },
		{ "unterminated quote", AS_NONE, "host='x", JOURNAL_READ,
		    AGCOD_E_CONFIG, "not one libpq reads" },
		{ "a remote server without verify-full", AS_NONE,
		    "host=db.example.com dbname=x", JOURNAL_WRITE,
		    AGCOD_E_CONFIG, "not on this machine" },
		{ "the service file's remote server", AS_SERVICE, "agcodsvc",
		    JOURNAL_WRITE, AGCOD_E_CONFIG, "not on this machine" },
		{ "no server on the socket", AS_NONE,
		    "host=/nonexistent dbname=x", JOURNAL_WRITE,
		    AGCOD_E_JOURNAL_IO, "cannot connect" },
		{ "no such service", AS_NONE, "agcod-no-such-service",
		    JOURNAL_READ, AGCOD_E_JOURNAL_IO, "cannot connect" },
	};
	char dir[] = "/tmp/agcod-unit-XXXXXX", path[128], cmd[128];
	struct journal j;
	enum agcod_result got;
	FILE *f;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(dir, sizeof(dir), "/tmp/agcod-unit-XXXXXX");
		if (mkdtemp(dir) == NULL) {
			CHECK(0, "mkdtemp");
			return;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, JOURNAL_DB);
		if (t[i].setup == AS_DIR)
			CHECK(mkdir(path, 0700) == 0, "mkdir %s", path);
		else if (t[i].setup == AS_FIFO)
			CHECK(mkfifo(path, 0600) == 0, "mkfifo %s", path);
		else if (t[i].setup == AS_CORRUPT &&
		    (f = fopen(path, "w")) != NULL) {
			fputs("not a database at all\n", f);
			CHECK(fclose(f) == 0, "write %s", path);
		} else if (t[i].setup == AS_STATE_FILE &&
		    (f = fopen(path, "w")) != NULL) {
			CHECK(fclose(f) == 0, "write %s", path);
		} else if (t[i].setup == AS_SERVICE) {
			snprintf(path, sizeof(path), "%s/pg_service.conf", dir);
			if ((f = fopen(path, "w")) != NULL) {
				fputs("[agcodsvc]\nhost=192.0.2.1\n"
				    "dbname=x\n", f);
				CHECK(fclose(f) == 0, "write %s", path);
			}
			setenv("PGSERVICEFILE", path, 1);
		}
		got = journal_open_at(&j, t[i].setup == AS_STATE_FILE ? path :
		    dir, t[i].where, t[i].mode);
		CHECK(got == t[i].want && (t[i].err == NULL ||
		    strstr(j.err, t[i].err)), "%s: result %d, want %d: %s",
		    t[i].name, (int)got, (int)t[i].want, j.err);
		if (got == AGCOD_OK)
			journal_close(&j);
		unsetenv("PGSERVICEFILE");
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CHECK(system(cmd) == 0, "cleanup");
	}
}

void
test_journal(void)
{
	/* agcod 0.1's records: a bad line, a torn last line */
	static const char text[] =
	    "{\"time\":\"T1\",\"state\":\"pending\",\"operation\":\"CreateGiftCard\","
	    "\"request_id\":\"A1\",\"amount\":\"19.99\",\"currency\":\"USD\"}\n"
	    "{\"time\":\"T2\",\"state\":\"pending\",\"operation\":\"CreateGiftCard\","
	    "\"request_id\":\"A2\",\"amount\":\"1\",\"currency\":\"USD\"}\n"
	    "not json\n"
	    "{\"time\":\"T3\",\"state\":\"succeeded\",\"operation\":\"CreateGiftCard\","
	    "\"request_id\":\"A1\",\"gc_id\":\"G1\"}\n"
	    "{\"time\":\"T4\",\"state\":\"pending\",\"operation\":\"CancelGiftCard\","
	    "\"request_id\":\"A1\"}\n"
	    "[1]\n"
	    "{\"time\":\"T5\",\"state\":\"succ";
	char dir[] = "/tmp/agcod-unit-XXXXXX", path[64];
	struct journal_query q;
	struct journal j;
	json_t *e, *rec;
	long records, bad;
	int torn, n;
	int64_t id;

	test_next_state();
	test_one_open_record();
	test_schema_ahead();
	test_open_results();
	test_reserved_reference();
	test_prune();
	test_prune_card();
	test_other_terms();
	test_begin_fails_over_open();
	test_refused_has_not_acted();
	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return;
	}
	CHECK(journal_open(&j, dir, JOURNAL_READ) == AGCOD_OK && j.db == NULL,
	    "no journal yet reads as empty");
	CHECK(journal_open(&j, dir, JOURNAL_WRITE) == AGCOD_OK && j.db != NULL,
	    "open: %s", j.err);
	CHECK(journal_import_text(&j, text, strlen(text), &records, &bad,
	    &torn) == 0, "import: %s", j.err);
	CHECK(records == 4 && bad == 2 && torn == 1, "records %ld bad %ld "
	    "torn %d", records, bad, torn);
	e = journal_lookup(&j, "CreateGiftCard", "A1");
	CHECK(e && strcmp(member(e, "state"), "succeeded") == 0, "outcome");
	CHECK(e && strcmp(member(e, "amount"), "19.99") == 0, "pending fields");
	CHECK(e && strcmp(member(e, "gc_id"), "G1") == 0, "outcome fields");
	CHECK(e && strcmp(member(e, "time"), "T1") == 0 &&
	    strcmp(member(e, "updated"), "T3") == 0, "time kept, updated moves");
	CHECK(e && strcmp(member(e, "object_state"), "issued") == 0, "issued");
	json_decref(e);
	e = journal_lookup(&j, "CancelGiftCard", "A1");
	CHECK(e && strcmp(member(e, "state"), "pending") == 0 &&
	    strcmp(member(e, "gc_id"), "G1") == 0, "cancel: its own record, "
	    "the card's gc id");
	json_decref(e);
	CHECK(journal_lookup(&j, "CreateGiftCard", "A9") == NULL, "absent");

	/* a live send: pending, then its outcome */
	rec = json_pack("{s:s, s:s, s:s, s:s}", "operation", "CreateGiftCard",
	    "request_id", "A2", "amount", "1", "currency", "USD");
	id = journal_begin(&j, rec);
	json_decref(rec);
	CHECK(id > 0, "begin: %s", j.err);
	memset(&q, 0, sizeof(q));
	q.view = VIEW_OPEN;
	n = 0;
	CHECK(journal_query(&j, &q, count_row, &n) == 0 && n == 2,
	    "open: the new A2 and the cancel, not the older A2 (%d)", n);
	rec = json_pack("{s:s, s:s}", "state", "failed", "error_code", "F200");
	CHECK(journal_finish(&j, id, rec) == 0, "finish: %s", j.err);
	json_decref(rec);
	q.view = VIEW_OBJECTS;
	q.state = "failed";
	n = 0;
	CHECK(journal_query(&j, &q, count_row, &n) == 0 && n == 1, "failed %d",
	    n);
	CHECK(journal_check(&j, NULL, NULL) == 0, "consistent");
	journal_close(&j);
	snprintf(path, sizeof(path), "%s/journal.db", dir);
	unlink(path);
	rmdir(dir);
}
