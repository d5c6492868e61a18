/*
 * cmd_reconcile.c - reconcile: re-send each request whose outcome is
 * unknown with its own request id (Amazon answers a repeated id with the
 * original result), print the result as the original command would, and
 * record the outcome.
 */
#include <stdio.h>
#include <string.h>

#include "agcod.h"
#include "msg.h"
#include "output.h"
#include "send.h"

static int
settle(struct cmd_ctx *c, const struct op *op, json_t *e)
{
	const char *vals[O_COUNT];
	struct buf body = BUF_INIT(64 * 1024);
	struct api_result r;
	struct opreq req;
	char why[512];
	int rc;

	memset(vals, 0, sizeof(vals));
	opreq_fill_from(vals, e, 1);
	if (opreq_build(&c->prof, op, vals, &req, why, sizeof(why)) == -1 ||
	    api_body(&c->prof, &req, &body) == -1) {
		msg_err("cannot rebuild %s %s from the journal: %s", op->name,
		    vals[O_REQUEST_ID], why);
		buf_free(&body);
		return EX_SOFTWARE;
	}
	msg_note("reconciling %s %s", op->name, req.request_id);
	rc = op_send(c, &req, &body, &r);
	if (r.json)
		output_body(c, &r.resp.body, r.json);
	if (rc)
		msg_err("%s %s: %s", op->cmd, req.request_id, r.why);
	api_result_free(&r);
	buf_free(&body);
	return rc;
}

int
cmd_reconcile(struct cmd_ctx *c)
{
	const char *rid = c->args.val[O_REQUEST_ID];
	json_t *entries, *e, *todo = json_array();
	int rc = 0, r, unknown = 0;
	size_t i;

	if ((entries = ctx_entries(c)) == NULL) {
		json_decref(todo);
		return EX_IOERR;
	}
	/* the list first: settling appends to the journal */
	json_array_foreach(entries, i, e) {
		const char *st = json_string_value(json_object_get(e, "state"));
		const char *id = json_string_value(json_object_get(e,
		    "request_id"));
		const char *partner = json_string_value(json_object_get(e,
		    "partner"));
		const char *endpoint = json_string_value(json_object_get(e,
		    "endpoint"));

		if (!st || (strcmp(st, "pending") && strcmp(st, "unknown")))
			continue;
		if (rid && (!id || strcmp(id, rid)))
			continue;
		if (!partner || strcmp(partner, c->prof.partner_id) ||
		    !endpoint || strcmp(endpoint, c->prof.endpoint)) {
			msg_warn("skipping %s: it was sent for partner %s at %s; "
			    "use that profile", id ? id : "?",
			    partner ? partner : "?", endpoint ? endpoint : "?");
			continue;
		}
		json_array_append(todo, e);
	}
	if (json_array_size(todo) == 0) {
		msg_note(rid ? "request id '%s' has no unknown outcome to settle"
		    : "nothing to reconcile%s", rid ? rid : "");
		json_decref(todo);
		return 0;
	}
	json_array_foreach(todo, i, e) {
		const struct op *op = op_by_name(json_string_value(
		    json_object_get(e, "operation")));

		if (op == NULL)
			continue;
		r = settle(c, op, e);
		if (r == EX_TEMPFAIL)
			unknown = 1;
		else if (r)
			rc = r;
	}
	json_decref(todo);
	return unknown ? EX_TEMPFAIL : rc;
}
