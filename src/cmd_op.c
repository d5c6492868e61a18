/*
 * cmd_op.c - the eight sending commands share this one path:
 * options -> checked request -> body -> sign/send/classify -> print.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agcod.h"
#include "api.h"
#include "guard.h"
#include "msg.h"
#include "outcome.h"
#include "send.h"

/*
 * Interrupted while a request that moves money is on the wire: the process
 * still dies by the signal, but first says what it leaves open (written
 * ahead, as a signal handler may only write(2)).
 */
static char intr_msg[512];
static size_t intr_len;

static void
on_interrupt(int sig)
{
	ssize_t w = write(STDERR_FILENO, intr_msg, intr_len);

	(void)w;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
say_if_interrupted(const struct op *op, const char *rid, int on)
{
	struct sigaction sa;
	int n;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	if (on) {
		n = snprintf(intr_msg, sizeof(intr_msg), "agcod: interrupted "
		    "while %s %s was being sent: the outcome is unknown: "
		    "'agcod history --pending' lists it; settle it with "
		    "'agcod reconcile'\nagcod: request-id: %s\n", op->name,
		    rid, rid);
		if (n < 0 || (size_t)n >= sizeof(intr_msg))
			return;
		intr_len = (size_t)n;
		sa.sa_handler = on_interrupt;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

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

	if ((op->flags & OP_JOURNAL) && op->id_field)
		say_if_interrupted(op, req.request_id, 1);
	rc = op_send(c, &req, &body, &r);
	if (rc != 0 && activation_recover_applies(&req, &r))
		rc = activation_recover(c, &req, &r);
	if ((op->flags & OP_JOURNAL) && op->id_field)
		say_if_interrupted(op, req.request_id, 0);
	rc = outcome_deliver(c, &req, &r, before, rc);
	if (rc == 0 && c->args.val[O_BELOW])
		rc = check_below(c, r.json, &below);
	api_result_free(&r);
	buf_free(&body);
	return rc;
}
