/*
 * journal_state.c - the journal's one rule, pure: which money object a
 * request moves (read from ops[]), the state it moves to on evidence
 * (journal_next_state and its table, as agcod-journal(5) prints it), and
 * the request's own state.  No SQLite and no store here: every store
 * (journal_store.h) moves objects only through these.
 */
#include <string.h>

#include "journal.h"
#include "journal_state.h"
#include "ops.h"

/* ---- money objects: how requests move them, read from ops[] ---- */

#define KINDS_MAX	16

const struct kind *
kind_of(const char *op, int *origin)
{
	static struct kind kinds[KINDS_MAX];
	static size_t nkinds;
	const struct op *o, *u;
	size_t i;

	if (nkinds == 0)	/* an operation that makes an object, and its undo */
		for (i = 0; i < nops && nkinds < KINDS_MAX; i++) {
			o = &ops[i];
			if (o->object == NULL || o->refers_to ||
			    (u = op_undoing(o)) == NULL)
				continue;
			kinds[nkinds].origin = o->name;
			kinds[nkinds].origin_state = o->object_state;
			kinds[nkinds].refer = u->name;
			kinds[nkinds].refer_state = u->object_state;
			kinds[nkinds].name = o->object;
			kinds[nkinds++].by_card = (o->flags & OP_BY_CARD) != 0;
		}
	for (i = 0; op && i < nkinds; i++) {
		if (strcmp(op, kinds[i].origin) == 0 ||
		    strcmp(op, kinds[i].refer) == 0) {
			if (origin)
				*origin = strcmp(op, kinds[i].origin) == 0;
			return &kinds[i];
		}
	}
	return NULL;
}

const char *
journal_kind(const char *op)
{
	const struct kind *k = kind_of(op, NULL);

	return k ? k->name : NULL;
}

/* nothing is known of it yet: evidence may still settle it */
int
unsettled(const char *st)
{
	return st == NULL || is(st, "pending") || is(st, "unknown") ||
	    is(st, "not sent");
}

/*
 * The rule, as a table: a row per kind of evidence, a column per state
 * the object is in; "=" keeps it, "made" is the operation's own state
 * (issued, loaded, activated), "undone" its undo's (cancelled, voided,
 * deactivated).  agcod-journal(5) prints the same table, and a test
 * holds the two equal.
 */
enum { JT_SEND, JT_NOT_SENT, JT_NO_PROOF, JT_REFUSED, JT_REFUSED_AFTER,
	JT_F2_SAME, JT_SUCCESS, JT_REFUNDED, JT_UNDONE, JT_SETTLED_OK,
	JT_SETTLED_FAILED };
static const char *const jt_rows[JT_ROWS] = {
	"send", "not-sent", "no-proof", "refused", "refused-after-acted",
	"f2xx-same-body", "success", "refunded", "undone", "settled-succeeded",
	"settled-failed",
};
static const char *const jt_cols[JT_COLS] = {
	"none", "pending", "unknown", "not-sent", "failed", "made", "undone",
};
static const char *const jt[JT_ROWS][JT_COLS] = {
	/* none	     pending	unknown	  not sent  failed    made	undone */
	{ "pending", "unknown", "=",	  "pending", "pending", "=",	"=" },
	{ "not sent", "not sent", "=",	  "=",	    "=",      "=",	"=" },
	{ "unknown", "unknown", "=",	  "unknown", "unknown", "=",	"=" },
	{ "failed", "failed",	"failed", "failed", "=",      "=",	"=" },
	{ "unknown", "unknown", "=",	  "=",	    "=",      "=",	"=" },
	{ "failed", "failed",	"failed", "failed", "=",      "=",	"=" },
	{ "made",   "made",	"made",	  "made",   "made",   "=",	"=" },
	{ "undone", "undone",	"undone", "undone", "undone", "undone",	"=" },
	{ "undone", "undone",	"undone", "undone", "undone", "undone",	"=" },
	{ "made",   "made",	"made",	  "made",   "made",   "=",	"=" },
	{ "failed", "failed",	"failed", "failed", "=",      "=",	"=" },
};

const char *
journal_table(int row, int col)
{
	return row >= 0 && row < JT_ROWS && col >= 0 && col < JT_COLS ?
	    jt[row][col] : NULL;
}

const char *
journal_table_row(int row)
{
	return row >= 0 && row < JT_ROWS ? jt_rows[row] : NULL;
}

const char *
journal_table_col(int col)
{
	return col >= 0 && col < JT_COLS ? jt_cols[col] : NULL;
}

const char *
journal_next_state(const char *op, const char *cur, enum journal_evidence ev,
    int acted)
{
	static const int row_of[EV_COUNT] = {
		[EV_SEND] = JT_SEND, [EV_NOT_SENT] = JT_NOT_SENT,
		[EV_NO_PROOF] = JT_NO_PROOF, [EV_REFUSED] = JT_REFUSED,
		[EV_REFUSED_SAME] = JT_F2_SAME, [EV_SUCCESS] = JT_SUCCESS,
		[EV_REFUNDED] = JT_REFUNDED, [EV_SETTLED_OK] = JT_SETTLED_OK,
		[EV_SETTLED_FAILED] = JT_SETTLED_FAILED,
	};
	const struct kind *k;
	const char *v;
	int origin, row, col;

	if ((k = kind_of(op, &origin)) == NULL || ev < 0 || ev >= EV_COUNT)
		return cur;
	if (!origin)	/* cancel, void, deactivate: only its success moves it */
		row = ev == EV_SUCCESS || ev == EV_SETTLED_OK ? JT_UNDONE : -1;
	else if ((ev == EV_REFUSED || ev == EV_NOT_SENT) && acted)
		row = JT_REFUSED_AFTER;	/* says nothing of the attempt that
					 * may have acted */
	else
		row = row_of[ev];
	if (row == -1)
		return cur;
	col = cur == NULL ? 0 : is(cur, "pending") ? 1 : is(cur, "unknown") ?
	    2 : is(cur, "not sent") ? 3 : is(cur, "failed") ? 4 :
	    is(cur, k->origin_state) ? 5 : is(cur, k->refer_state) ? 6 : -1;
	if (col == -1)
		return cur;
	/* a physical card may be activated again after deactivation */
	if (k->by_card && col == 6 && row == JT_SUCCESS)
		return k->origin_state;
	v = jt[row][col];
	return is(v, "=") ? cur : is(v, "made") ? k->origin_state :
	    is(v, "undone") ? k->refer_state : v;
}

/* the evidence an outcome record carries (agcod 0.1's: its state) */
int
evidence_of(json_t *rec, int *f2)
{
	static const struct { const char *name; int ev; } names[] = {
		{ "success", EV_SUCCESS }, { "refunded", EV_REFUNDED },
		{ "refused", EV_REFUSED }, { "refused-f2", EV_REFUSED },
		{ "no-proof", EV_NO_PROOF }, { "not-sent", EV_NOT_SENT },
		/* a state for evidence: how agcod 0.1 recorded outcomes */
		{ "succeeded", EV_SUCCESS }, { "cancelled", EV_REFUNDED },
		{ "failed", EV_REFUSED_SAME }, { "unknown", EV_NO_PROOF },
		{ "not sent", EV_NOT_SENT }, { "pending", EV_SEND },
	};
	const char *e = member(rec, "evidence");
	size_t i;

	*f2 = is(e, "refused-f2");
	if (e == NULL)
		e = member(rec, "state");
	for (i = 0; e && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(e, names[i].name) == 0)
			return names[i].ev;
	return -1;
}

/* the request's own state on the evidence: open while it may have acted */
const char *
request_state(enum journal_evidence ev, int acted)
{
	switch (ev) {
	case EV_SEND:
		return "pending";
	case EV_SUCCESS:
	case EV_SETTLED_OK:
		return "succeeded";
	case EV_REFUNDED:
		return "cancelled";
	case EV_NOT_SENT:
		return acted ? "unknown" : "not sent";
	case EV_REFUSED:
		return acted ? "unknown" : "failed";
	case EV_REFUSED_SAME:
	case EV_SETTLED_FAILED:
		return "failed";
	default:
		return "unknown";
	}
}

/* the columns a request row has, on every store; its JSON's members */
const struct column journal_columns[] = {
	{ "time", C_TEXT, 0, 0 },
	{ "updated", C_TEXT, 1, 0 },
	{ "state", C_TEXT, 1, 0 },
	{ "operation", C_TEXT, 0, 0 },
	{ "request_id", C_TEXT, 0, 1 },
	{ "profile", C_TEXT, 0, 1 },
	{ "partner", C_TEXT, 0, 1 },
	{ "environment", C_TEXT, 0, 1 },
	{ "endpoint", C_TEXT, 0, 1 },
	{ "amount", C_TEXT, 0, 1 },
	{ "currency", C_TEXT, 0, 1 },
	{ "gc_id", C_TEXT, 1, 1 },
	{ "card_number", C_TEXT, 0, 1 },
	{ "account", C_TEXT, 0, 1 },
	{ "account_type", C_TEXT, 0, 1 },
	{ "source_id", C_TEXT, 0, 1 },
	{ "external_reference", C_TEXT, 0, 1 },
	{ "program_id", C_TEXT, 0, 1 },
	{ "product_type", C_TEXT, 0, 1 },
	{ "batch", C_TEXT, 0, 1 },
	{ "amazon_request_id", C_TEXT, 1, 0 },
	{ "http_status", C_INT, 1, 0 },
	{ "error_code", C_TEXT, 1, 0 },
	{ "error_type", C_TEXT, 1, 0 },
	{ "error", C_TEXT, 1, 0 },
	{ "diagnosis", C_TEXT, 1, 0 },
	{ "clock_skew_s", C_INT, 1, 0 },
	{ "attempts", C_INT, 1, 0 },
	{ "delivered", C_INT, 0, 0 },
	{ "settled", C_TEXT, 0, 0 },
	{ "settle_reason", C_TEXT, 0, 0 },
	{ "settled_time", C_TEXT, 0, 0 },
	{ "body_sha", C_TEXT, 0, 0 },
	{ "reserved", C_INT, 0, 1 },
};
const size_t journal_ncolumns = sizeof(journal_columns) / sizeof(journal_columns[0]);
