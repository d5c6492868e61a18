/*
 * outcome.c - after a request: the answer on stdout, proof that it was
 * delivered, and one clear next step for a person, with the request id on a
 * line of its own for scripts.  A claim code that could not be delivered is
 * recorded in the journal so that 'agcod reprint' can fetch it again; a card
 * the service reports as cancelled is never handed out.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "json.h"
#include "msg.h"
#include "outcome.h"
#include "output.h"
#include "send.h"

static int
is_create(const struct op *op)
{
	return (op->flags & OP_CLAIM_CODE) != 0;
}

void
outcome_say_id(const char *rid)
{
	if (rid && *rid)
		msg_err("request-id: %s", rid);
}

int
outcome_cancelled(json_t *answer)
{
	const char *st = outcome_dead_card(answer);

	return st && strcmp(st, "RefundedToPurchaser") == 0;
}

const char *
outcome_dead_card(json_t *answer)
{
	const char *st = json_str(json_object_get(answer, "cardInfo"),
	    "cardStatus");

	if (st && (strcmp(st, "RefundedToPurchaser") == 0 ||
	    strcmp(st, "Expired") == 0))
		return st;
	return NULL;
}

/*
 * Notes on the journal record of the request just sent (s->last_record):
 * its result was not handed over, or the service called its card
 * cancelled.  A delivered result needs no note: a reprint is a request of
 * its own.
 */
static int
noted(struct sender *s, const struct op *op, const char *rid, int r,
    const char *what)
{
	if (r == -1)
		msg_err("cannot record in the journal that %s %s %s: %s",
		    op->name, rid, what, s->journal &&
		    journal_is_open(s->journal) ? s->journal->err :
		    "the journal is not open");
	return r;
}

int
note_delivery(struct sender *s, const struct op *op, const char *rid,
    int delivered)
{
	if (delivered)
		return 0;
	return noted(s, op, rid, s->last_record > 0 ?
	    journal_undelivered(s->journal, s->last_record) : -1,
	    "was not delivered");
}

int
note_cancelled(struct sender *s, const struct op *op, const char *rid)
{
	json_t *o = json_pack("{s:s}", "state", "cancelled");
	int r = -1;

	if (o && s->last_record > 0)
		r = journal_finish(s->journal, s->last_record, o);
	json_decref(o);
	return noted(s, op, rid, r, "is a cancelled card");
}

/* the answer could not be written: say what it held and how to get it */
static enum agcod_result
undelivered(struct outcome_env *e, const struct opreq *req,
    enum agcod_result rc, int err)
{
	const struct op *op = req->op;
	const char *rid = op->id_field ? req->request_id : NULL;

	e->out_said = 1;
	if (rc != AGCOD_OK) {
		msg_err("cannot write the service's answer to standard output: "
		    "%s", strerror(err));
		return rc;
	}
	if (rid && (op->flags & OP_JOURNAL))
		note_delivery(e->send, op, rid, 0);
	if (rid && is_create(op))
		msg_err("cannot write the result to standard output: %s; card "
		    "%s was issued but its claim code was not delivered: get it "
		    "with 'agcod reprint --request-id %s'", strerror(err), rid,
		    rid);
	else if (rid)
		msg_err("cannot write the result to standard output: %s; %s %s "
		    "succeeded but its result was not delivered: see 'agcod "
		    "history --request-id %s'", strerror(err), op->name, rid,
		    rid);
	else
		msg_err("cannot write the result to standard output: %s; it "
		    "was not delivered", strerror(err));
	return AGCOD_E_AGAIN;
}

enum agcod_result
outcome_deliver(struct outcome_env *e, const struct opreq *req,
    struct api_result *r, json_t *before, enum agcod_result rc)
{
	const struct op *op = req->op;
	const char *rid = op->id_field ? req->request_id : NULL;
	const char *dead;
	int bad, err = 0;

	if (rc == AGCOD_OK && r->outcome == OUTCOME_SUCCEEDED && is_create(op) &&
	    (dead = outcome_dead_card(r->json)) != NULL) {
		const char *gc = json_str(r->json, "gcId");

		msg_err("%s %s: the service answers that this card %s "
		    "(cardStatus %s%s%s): its claim code is void and is not "
		    "printed; do not hand it out, issue a new card with a new "
		    "request id", op->cmd, rid, outcome_cancelled(r->json) ?
		    "was cancelled" : "has expired", dead, gc ? ", gcId " : "",
		    gc ? gc : "");
		if ((op->flags & OP_JOURNAL) && outcome_cancelled(r->json))
			note_cancelled(e->send, op, rid);
		outcome_say_id(rid);
		return AGCOD_E_REFUSED;
	}
	/* an answer that proves nothing is not a result to print */
	if (r->json && r->outcome != OUTCOME_UNKNOWN) {
		errno = 0;
		bad = output_body(e->fmt, e->production, &r->resp.body,
		    r->json) == -1;
		if (fflush(stdout) != 0 || ferror(stdout))
			bad = 1;
		err = errno ? errno : EIO;
		if (bad) {
			rc = undelivered(e, req, rc, err);
			if (rc == AGCOD_E_AGAIN && r->outcome == OUTCOME_SUCCEEDED) {
				outcome_say_id(rid);
				return rc;
			}
		} else if (rc == AGCOD_OK && rid && before &&
		    json_is_false(json_object_get(before, "delivered")))
			note_delivery(e->send, op, rid, 1);
	}
	if (rc == AGCOD_OK)
		return AGCOD_OK;
	msg_err("%s%s%s: %s", op->cmd, rid ? " " : "", rid ? rid : "", r->why);
	if (r->outcome == OUTCOME_UNKNOWN && (op->flags & OP_JOURNAL))
		msg_err("the outcome is unknown: 'agcod history --pending' lists "
		    "it; settle it with 'agcod reconcile', or repeat with "
		    "--request-id %s (the service answers a repeated id with "
		    "the original result)", rid);
	else if (r->outcome == OUTCOME_UNKNOWN && rid)
		msg_err("the outcome is unknown: repeat with --request-id %s",
		    rid);
	outcome_say_id(rid);
	return rc;
}

void
outcome_notice_sent(int production, const struct opreq *req,
    const struct api_result *r)
{
	const struct op *op = req->op;
	const char *rid = req->request_id, *gc = json_str(r->json, "gcId");
	const char *did = r->outcome == OUTCOME_SUCCEEDED ? "" : "may have ";
	const char *env = production ? "PRODUCTION" : "the sandbox";
	char amt[AMOUNT_TEXT_MAX] = "";

	if (op->id_field == NULL)
		return;
	if (!(op->flags & OP_JOURNAL) || (r->outcome != OUTCOME_SUCCEEDED &&
	    r->outcome != OUTCOME_UNKNOWN)) {
		if (r->outcome != OUTCOME_SUCCEEDED)
			outcome_say_id(rid);
		return;
	}
	if (req->cur)
		amount_format(&req->amount, amt, sizeof(amt));
	if (is_create(op))
		msg_err("sign-debug --send %sissued a real gift card of %s %s in "
		    "%s (request id %s%s%s); its claim code is redacted above: "
		    "print it with 'agcod reprint --request-id %s', or cancel "
		    "the card within 15 minutes with 'agcod cancel "
		    "--request-id %s'", did, amt, req->cur->code, env, rid,
		    gc ? ", gcId " : "", gc ? gc : "", rid, rid);
	else if (op->flags & OP_MOVES_MONEY)
		msg_err("sign-debug --send %sran a real %s of %s %s in %s "
		    "(request id %s): undo it with 'agcod %s --request-id %s%s%s'",
		    did, op->name, amt, req->cur ? req->cur->code : "", env, rid,
		    op_undoing(op) ? op_undoing(op)->cmd : "?", rid,
		    req->text.card_number ? " --card-number " : "",
		    req->text.card_number ? req->text.card_number : "");
	else
		msg_err("sign-debug --send %sran a real %s in %s (request id %s)",
		    did, op->name, env, rid);
	if (r->outcome == OUTCOME_UNKNOWN)
		msg_err("the outcome is unknown: settle it with 'agcod "
		    "reconcile'");
	outcome_say_id(rid);
}
