/*
 * cmd_reprint.c - reprint: fetch a card's claim code again.  CreateGiftCard
 * is sent again with the request id, amount and currency the journal holds;
 * the service answers a repeated id with the original card.  A request the
 * journal says was never issued is refused: reprinting it would issue a new
 * card.
 */
#include <stdio.h>
#include <string.h>

#include "agcod.h"
#include "api.h"
#include "ctx.h"
#include "msg.h"
#include "outcome.h"
#include "send.h"

int
cmd_reprint(struct cmd_ctx *c)
{
	const struct op *op = op_find("create");
	static const struct resend reprint = { "reprinting", msg_verbose, NULL };
	const char *rid = c->args.val[O_REQUEST_ID], *st;
	json_t *e;

	if (rid == NULL)
		return usage_error(c->cmd, "'--request-id' is required");
	if ((e = ctx_lookup(c, op->name, rid)) == NULL) {
		/* an error is not "no card": say it, send nothing */
		if (!c->journal_read)
			return EX_IOERR;
		if (c->journal.err[0]) {
			msg_err("cannot read the journal '%s': %s; nothing was "
			    "sent", c->journal.path, c->journal.err);
			return EX_IOERR;
		}
		return usage_error(c->cmd, "the journal in '%s' has no %s with "
		    "request id '%s'", c->state_dir, op->name, rid);
	}
	/* the card's state; a refused repeat of its id does not count */
	st = json_object_get(e, "object_state") ? json_str_or(e,
	    "object_state", "") : json_str_or(e, "state", "");
	if (strcmp(st, "failed") == 0 || strcmp(st, "not sent") == 0) {
		msg_err("the journal says %s %s %s: no card was issued under "
		    "this id, and reprinting it would issue one; use 'agcod "
		    "create'", op->name, rid, strcmp(st, "failed") == 0 ?
		    "was refused" : "was never sent");
		outcome_say_id(rid);
		return EX_USAGE;
	}
	if (strcmp(json_str_or(e, "partner", ""), c->prof.partner_id) ||
	    strcmp(json_str_or(e, "endpoint", ""), c->prof.endpoint)) {
		msg_err("%s %s was sent for partner %s at %s, not with profile "
		    "'%s' (partner %s at %s): use the profile it was sent with",
		    op->name, rid, json_str_or(e, "partner", ""),
		    json_str_or(e, "endpoint", ""),
		    c->prof.name, c->prof.partner_id, c->prof.endpoint);
		outcome_say_id(rid);
		return EX_USAGE;
	}
	if (strcmp(st, "cancelled") == 0)
		msg_note("the journal says card %s was cancelled; asking the "
		    "service", rid);

	return ctx_resend(c, op, e, &reprint);
}
