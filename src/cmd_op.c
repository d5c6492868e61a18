/*
 * cmd_op.c - the eight sending commands share this one path:
 * options -> checked request -> body -> sign/send/classify -> print.
 */
#include <stdio.h>
#include <string.h>

#include "agcod.h"
#include "api.h"
#include "guard.h"
#include "msg.h"
#include "outcome.h"
#include "send.h"

/* funds --below: exit 1 when the balance is under the threshold */
static int
check_below(const struct cmd_ctx *c, json_t *j, const struct amount *below)
{
	json_t *v = json_path(j, "availableFunds.amount");
	struct amount have;

	if (!json_is_string(v) ||
	    amount_parse_number(json_string_value(v), &have) == -1) {
		msg_err("the response has no readable availableFunds.amount");
		return EX_UNAVAILABLE;
	}
	if (amount_cmp(&have, below) < 0) {
		msg_note("available funds %s are below %s",
		    json_string_value(v), c->args.val[O_BELOW]);
		return EX_BELOW;
	}
	return 0;
}

int
cmd_op(struct cmd_ctx *c)
{
	const struct op *op = c->cmd->op;
	struct buf body = BUF_INIT(64 * 1024);
	struct api_result r;
	struct amount below;
	struct opreq req;
	json_t *before = NULL;
	int rc;

	if (c->args.val[O_BELOW] &&
	    (amount_parse_number(c->args.val[O_BELOW], &below) == -1 ||
	    below.units < 0))
		return usage_error(c->cmd, "--below '%s' must be a decimal "
		    "amount such as 100 or 99.50", c->args.val[O_BELOW]);
	if ((rc = op_prepare(c, op, &req)) != 0)
		return rc;
	if (api_body(&c->prof, &req, &body) == -1) {
		buf_free(&body);
		msg_err("cannot build the request body");
		return EX_SOFTWARE;
	}
	if ((rc = guard_request(c, &req)) != 0) {
		buf_free(&body);
		return rc;
	}
	if (op->id_field)
		msg_verbose("%s %s", op->id_field, req.request_id);
	if (op->flags & OP_JOURNAL)
		before = ctx_lookup(c, op->name, c->args.val[O_REQUEST_ID]);

	rc = op_send(c, &req, &body, &r);
	if (rc != 0 && activation_recover_applies(&req, &r))
		rc = activation_recover(c, &req, &r);
	rc = outcome_deliver(c, &req, &r, before, rc);
	if (rc == 0 && c->args.val[O_BELOW])
		rc = check_below(c, r.json, &below);
	api_result_free(&r);
	buf_free(&body);
	return rc;
}
