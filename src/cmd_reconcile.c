/*
 * cmd_reconcile.c - reconcile: re-send each request whose outcome is not
 * known with its own request id (Amazon answers a repeated id with the
 * original result), print the result as the original command would, and
 * record the outcome.  A request recorded for another partner or endpoint
 * is never re-sent from this profile: it is named, with the profile to
 * use, and the exit status says it is still open.
 */
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <time.h>

#include <bsd/stdlib.h>

#include "agcod.h"
#include "ctx.h"
#include "msg.h"
#include "outcome.h"
#include "reqid.h"
#include "send.h"
#include "timeutil.h"

/* Amazon's activation recovery ends in a support case after a day */
#define AMAZON_RECOVERY_WINDOW	(24 * 3600)

/*
 * How long this run may go on with an activation's recovery: --recover-for
 * (120 s), but never past 24 hours after the activation was first sent;
 * after that Amazon asks for a support case instead.
 */
static long
recover_window(struct cmd_ctx *c, json_t *e)
{
	const char *t = json_str(e, "time");
	const char *why = NULL;
	long want = 120, left;
	time_t sent;

	if (c->args.val[O_RECOVER_FOR])
		want = (long)strtonum(c->args.val[O_RECOVER_FOR], 0, 86400,
		    &why);
	if (why || time_parse_iso(t, &sent) == -1)
		return why ? 0 : want;
	left = AMAZON_RECOVERY_WINDOW - (long)(time(NULL) - sent);
	if (left <= 0) {
		msg_err("%s was first sent at %s, more than 24 hours ago: no "
		    "more recovery; send Amazon 'agcod support-draft "
		    "--request-id %s'", json_str(e, "request_id"), t,
		    json_str(e, "request_id"));
		return 0;
	}
	return want < left ? want : left;
}

/* settling one request may settle another (a deactivation that succeeds
 * undoes its activation): ask the journal again before sending.  1, 0, or
 * -1 when it cannot tell (then nothing is sent: it may have been undone) */
static int
still_open(struct cmd_ctx *c, json_t *e)
{
	const char *rid = json_str_or(e, "request_id", "?");
	json_t *now = journal_lookup(&c->journal, json_str_or(e, "operation",
	    "?"), rid);
	int open;

	if (now == NULL && c->journal.err[0]) {
		msg_err("%s was not sent again: the journal cannot say whether "
		    "it is still open (%s); run reconcile again", rid,
		    c->journal.err);
		return -1;
	}
	if (now == NULL)
		return 0;	/* pruned since: settled */
	open = json_integer_value(json_object_get(now, "open")) == 1;
	json_decref(now);
	return open;
}

struct todo {
	struct cmd_ctx	*c;
	json_t		*list;
	int		 elsewhere;	/* open, but for another profile */
	int		 in_flight;
};


static int
collect(json_t *e, void *arg)
{
	struct todo *t = arg;

	if (strcmp(json_str_or(e, "partner", "?"), t->c->prof.partner_id) ||
	    strcmp(json_str_or(e, "endpoint", "?"), t->c->prof.endpoint)) {
		/* an error, not a warning: cron mails it even with -q */
		msg_err("not settling %s %s: it was sent for partner %s at %s "
		    "(profile '%s'); run 'agcod -p %s reconcile'",
		    json_str_or(e, "operation", "?"),
		    json_str_or(e, "request_id", "?"),
		    json_str_or(e, "partner", "?"),
		    json_str_or(e, "endpoint", "?"),
		    json_str_or(e, "profile", "?"),
		    json_str_or(e, "profile", "?"));
		t->elsewhere++;
		return 0;
	}
	/* a pending record of a process that still runs is not ours */
	if (journal_row_live(&t->c->journal, e)) {
		msg_note("%s %s is being sent by process %lld right now",
		    json_str_or(e, "operation", "?"),
		    json_str_or(e, "request_id", "?"),
		    (long long)json_integer_value(json_object_get(e, "pid")));
		t->in_flight++;
		return 0;
	}
	json_array_append(t->list, e);
	return 0;
}

/* the open activation of rid was answered RESEND: a recovery goes on */
static int
in_recovery(json_t *list, const struct op *origin, const char *rid)
{
	const char *code;
	json_t *e;
	size_t i;

	json_array_foreach(list, i, e)
		if ((code = json_str(e, "error_code")) != NULL &&
		    strncmp(code, "F4", 2) == 0 && rid &&
		    strcmp(json_str_or(e, "operation", ""), origin->name) == 0 &&
		    strcmp(json_str_or(e, "request_id", ""), rid) == 0)
			return 1;
	return 0;
}

/*
 * Physical cards the journal left unknown with nothing open to ask again
 * (requests on one card in flight together, which the service may have
 * processed in either order): ActivationStatusCheck says what each is now,
 * printed as activation-status would, and the journal takes it unless a
 * request on the card began meanwhile.
 */
struct cards {
	struct cmd_ctx	*c;
	json_t		*list;
	json_t		*open;	/* card numbers with a request still open */
};

static int
open_card(json_t *r, void *arg)
{
	struct cards *t = arg;

	if (json_str(r, "card_number"))
		json_object_set(t->open, json_str(r, "card_number"),
		    json_true());
	return 0;
}

/* a card with a request still open is not asked: the answer could not be
 * taken, and that request's own outcome is what reconcile waits for */
static int
collect_card(json_t *o, void *arg)
{
	struct cards *t = arg;

	if (strcmp(json_str_or(o, "endpoint", "?"), t->c->prof.endpoint) == 0 &&
	    json_str(o, "card_number") &&
	    !json_object_get(t->open, json_str(o, "card_number")))
		json_array_append(t->list, o);
	return 0;
}

/* one card: 0 settled, EX_TEMPFAIL still unknown, another exit status */
static int
ask_card(struct cmd_ctx *c, const struct op *origin, const char *card)
{
	const struct op *op = op_find("activation-status");
	struct buf body = BUF_INIT(4096);
	char rid[REQID_MAX + 1], why[512];
	const char *st;
	struct api_result r;
	struct sender *s;
	struct opreq req;
	json_t *e;
	int64_t since;
	int rc, made = -1, got;

	if ((rc = ctx_sender(c, &s)) != 0)
		return rc;
	if (op == NULL || reqid_new(c->prof.partner_id, rid) == -1) {
		msg_err("cannot generate a request id");
		return EX_SOFTWARE;
	}
	e = json_pack("{s:s, s:s, s:s}", "operation", op->name, "request_id",
	    rid, "card_number", card);
	if (e == NULL || op_rebuild(&c->prof, op, e, &req, &body, why,
	    sizeof(why)) == -1) {
		msg_err("cannot ask the status of card %s: %s", card,
		    e ? why : "out of memory");
		json_decref(e);
		buf_free(&body);
		return EX_SOFTWARE;
	}
	json_decref(e);
	/* what began on the card after this may not be in the answer */
	if ((since = journal_newest_request(&c->journal)) < 0) {
		msg_err("cannot read the journal '%s': %s", c->journal.path,
		    c->journal.err);
		buf_free(&body);
		opreq_free(&req);
		return EX_IOERR;
	}
	msg_note("card %s is unknown: asking ActivationStatusCheck", card);
	rc = ctx_deliver(c, &req, &r, NULL, op_send(s, &req, &body, &r));
	st = json_str(json_object_get(r.json, "cardInfo"), "cardStatus");
	if (rc == 0 && st)
		made = strcmp(st, "Activated") == 0 ? 1 :
		    strcmp(st, "Deactivated") == 0 ? 0 : -1;
	if (rc == 0 && made == -1) {
		msg_err("card %s stays unknown: ActivationStatusCheck says "
		    "'%s', which is neither Activated nor Deactivated", card,
		    st ? st : "nothing");
		rc = EX_TEMPFAIL;
	} else if (rc == 0 && (got = journal_card_status(&c->journal,
	    origin->name, card, made, since)) != 1) {
		if (got == -1)
			msg_err("card %s is %s, but the journal could not "
			    "record it: %s", card, st, c->journal.err);
		else
			msg_err("card %s: its status was not recorded: a "
			    "request on it began while it was asked, or another "
			    "process settled it; run reconcile again", card);
		rc = EX_TEMPFAIL;
	} else if (rc == 0)
		msg_note("card %s is %s", card, made ? origin->object_state :
		    op_undoing(origin)->object_state);
	api_result_free(&r);
	buf_free(&body);
	opreq_free(&req);
	return rc;
}

static int
ask_cards(struct cmd_ctx *c, size_t *n)
{
	struct journal_query q, open;
	struct cards t = { c, json_array(), json_object() };
	const struct op *origin = NULL;
	json_t *o;
	size_t i;
	int rc = 0, r;

	for (i = 0; i < nops && origin == NULL; i++)
		if ((ops[i].flags & OP_BY_CARD) && ops[i].object &&
		    ops[i].refers_to == NULL)
			origin = &ops[i];
	memset(&q, 0, sizeof(q));
	q.view = VIEW_OBJECTS;
	q.state = "unknown";
	q.operation = origin ? origin->name : "?";
	q.partner = c->prof.partner_id;
	q.environment = c->prof.production ? "production" : "sandbox";
	memset(&open, 0, sizeof(open));
	open.view = VIEW_OPEN;
	if (origin == NULL || t.list == NULL || t.open == NULL ||
	    journal_query(&c->journal, &open, open_card, &t) < 0 ||
	    journal_query(&c->journal, &q, collect_card, &t) < 0) {
		msg_err("cannot read the journal '%s': %s", c->journal.path,
		    c->journal.err);
		json_decref(t.list);
		json_decref(t.open);
		return EX_IOERR;
	}
	*n = json_array_size(t.list);
	json_array_foreach(t.list, i, o)
		if ((r = ask_card(c, origin, json_str(o, "card_number"))) != 0
		    && (rc == 0 || rc == EX_TEMPFAIL))
			rc = r;
	json_decref(t.list);
	json_decref(t.open);
	return rc;
}

int
cmd_reconcile(struct cmd_ctx *c)
{
	static const struct resend settle = {
		"reconciling", msg_note, recover_window
	};
	struct journal_query q;
	struct todo t = { c, json_array(), 0, 0 };
	struct journal *j;
	json_t *e;
	int rc = 0, r, unknown = 0, pass;
	size_t i, cards = 0;

	memset(&q, 0, sizeof(q));
	q.view = VIEW_OPEN;
	q.request_id = c->args.val[O_REQUEST_ID];
	/* the list first: settling writes to the journal */
	if ((j = ctx_journal(c)) == NULL ||
	    journal_query(j, &q, collect, &t) < 0) {
		if (j)
			msg_err("cannot read the journal '%s': %s", j->path,
			    j->err);
		json_decref(t.list);
		return EX_IOERR;
	}
	if (json_array_size(t.list) == 0 && !t.elsewhere && !t.in_flight) {
		json_decref(t.list);
		if (!q.request_id && ((rc = ask_cards(c, &cards)) || cards))
			return rc;
		msg_note(q.request_id ? "request id '%s' has no unknown outcome "
		    "to settle" : "nothing to reconcile%s", q.request_id ?
		    q.request_id : "");
		return 0;
	}
	/*
	 * An operator's deactivation first: if it succeeded it closes its
	 * activation, which must not be sent again (the service would activate
	 * the card anew).  Not one of Amazon's RESEND procedure: that goes on
	 * from its activation.  A card's create, or a load, re-sent after its
	 * undo only repeats its answer: in the journal's order.
	 */
	for (pass = 0; pass < 2; pass++)
		json_array_foreach(t.list, i, e) {
			const struct op *op = op_by_name(json_str_or(e,
			    "operation", "?")),
			    *o = op && op->refers_to ? op_by_name(op->refers_to) :
			    NULL;
			int first = o && (o->flags & OP_BY_CARD) &&
			    !in_recovery(t.list, o, json_str(e, "request_id"));

			if (op == NULL || first != (pass == 0))
				continue;
			if ((r = still_open(c, e)) != 1) {
				unknown |= r == -1;
				continue;
			}
			r = ctx_resend(c, op, e, &settle);
			if (r == EX_TEMPFAIL)
				unknown = 1;
			else if (r)
				rc = r;
		}
	json_decref(t.list);
	/* the cards it left unknown, once nothing on them is open */
	if (!q.request_id && (r = ask_cards(c, &cards)) != 0) {
		if (r == EX_TEMPFAIL)
			unknown = 1;
		else if (rc == 0)
			rc = r;
	}
	/* still open: another profile's, or one in flight */
	if (t.elsewhere || t.in_flight)
		unknown = 1;
	return unknown ? EX_TEMPFAIL : rc;
}
