/*
 * cmd_op.c - the eight sending commands share this one path:
 * options -> checked request -> body -> sign/send/classify -> print.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bsd/stdlib.h>
#include <unistd.h>

#include "agcod.h"
#include "api.h"
#include "ctx.h"
#include "forecast.h"
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

/*
 * funds: the forecast from the journal on stderr, and the thresholds:
 * --below AMOUNT and --below-days N exit 1 when crossed.  *show is 0 under
 * -q with a threshold: a cron line then prints nothing at all, or, when a
 * threshold is crossed, the one line that names it.
 */
static int
check_funds(struct cmd_ctx *c, json_t *j, const struct amount *below,
    long below_days, int *show)
{
	json_t *v = json_path(j, "availableFunds.amount");
	const char *code = json_str(json_object_get(j, "availableFunds"),
	    "currencyCode");
	const struct currency *cur = code ? currency_find(code) : NULL;
	char per_day[AMOUNT_TEXT_MAX], days[160];
	struct forecast f;
	struct journal *jr;
	struct amount have;
	int low = 0, rc = 0, watch = c->args.val[O_BELOW] || below_days > 0;

	*show = 1;
	days[0] = '\0';
	if (!json_is_string(v) ||
	    amount_parse_number(json_string_value(v), &have) == -1) {
		if (!watch)
			return 0;
		msg_err("the response has no readable availableFunds.amount");
		return EX_UNAVAILABLE;
	}
	if (c->args.val[O_BELOW] && amount_cmp(&have, below) < 0) {
		msg_warn("available funds %s are below %s",
		    json_string_value(v), c->args.val[O_BELOW]);
		low = 1;
		rc = EX_BELOW;
	}
	/* the spend of this environment only: sandbox has funds of its own */
	if (cur && (jr = ctx_journal(c)) != NULL && forecast_funds(jr,
	    c->prof.partner_id, c->prof.production ? "production" : "sandbox",
	    cur, &have, time(NULL), &f) == 0) {
		struct amount pd = { f.per_day, cur->exponent };

		amount_format(&pd, per_day, sizeof(per_day));
		if (f.days_left < 0)
			msg_note("no cards issued or balance loaded in the last "
			    "%d days (journal): no forecast", FORECAST_DAYS);
		else
			msg_note("average spend over the last %d days: %s %s a "
			    "day; at that rate the funds last %ld more day%s",
			    FORECAST_DAYS, per_day, cur->code, f.days_left,
			    f.days_left == 1 ? "" : "s");
		if (below_days > 0 && f.days_left >= 0 &&
		    f.days_left < below_days) {
			msg_warn("the funds last %ld day%s at the rate of the "
			    "last %d days, fewer than %ld", f.days_left,
			    f.days_left == 1 ? "" : "s", FORECAST_DAYS,
			    below_days);
			snprintf(days, sizeof(days), "last %ld day%s at the "
			    "spend of the last %d days, fewer than --below-days "
			    "%ld", f.days_left, f.days_left == 1 ? "" : "s",
			    FORECAST_DAYS, below_days);
			rc = EX_BELOW;
		}
	} else if (below_days > 0) {
		msg_err("no forecast: the journal cannot be read");
		return EX_IOERR;
	}
	if (watch && msg_verbosity < 0) {
		*show = 0;
		/* cron mails this one line: which threshold, and the funds */
		if (rc)
			msg_err("available funds %s%s%s %s%s%s%s",
			    json_string_value(v), code ? " " : "",
			    code ? code : "", low ? "are below --below " : "",
			    low ? c->args.val[O_BELOW] : "",
			    low && days[0] ? " and " : "", days);
	}
	return rc;
}

int
cmd_op(struct cmd_ctx *c)
{
	const struct op *op = c->cmd->op;
	struct buf body = BUF_INIT(64 * 1024);
	struct api_result r;
	struct amount below;
	struct opreq req;
	struct sender *s;
	json_t *before = NULL;
	long below_days = 0;
	const char *why = NULL;
	enum agcod_result res;
	int rc, verdict = 0, show = 1;

	if (c->args.val[O_BELOW] &&
	    (amount_parse_number(c->args.val[O_BELOW], &below) == -1 ||
	    below.units < 0))
		return usage_error(c->cmd, "--below '%s' must be a decimal "
		    "amount such as 100 or 99.50", c->args.val[O_BELOW]);
	if (c->args.val[O_BELOW_DAYS] && ((below_days = (long)strtonum(
	    c->args.val[O_BELOW_DAYS], 1, 3650, &why)), why))
		return usage_error(c->cmd, "--below-days '%s' is %s (1 to "
		    "3650)", c->args.val[O_BELOW_DAYS], why);
	if ((rc = ctx_sender(c, &s)) != 0 || (rc = ctx_prepare(c, op, &req)))
		return rc;
	if (api_body(&c->prof, &req, &body) == -1) {
		buf_free(&body);
		opreq_free(&req);
		msg_err("cannot build the request body");
		return EX_SOFTWARE;
	}
	if ((rc = exit_code(guard_request(&c->prof, c->args.seen[O_YES],
	    &req))) != 0) {
		buf_free(&body);
		opreq_free(&req);
		return rc;
	}
	if (op->id_field)
		msg_verbose("%s %s", op->id_field, req.request_id);
	if (op->flags & OP_JOURNAL)
		before = ctx_lookup(c, op->name, c->args.val[O_REQUEST_ID]);

	if ((op->flags & OP_JOURNAL) && op->id_field)
		say_if_interrupted(op, req.request_id, 1);
	res = op_send(s, &req, &body, &r);
	if (res != AGCOD_OK && activation_recover_applies(&req, &r))
		res = activation_recover(s, &req, &r);
	if ((op->flags & OP_JOURNAL) && op->id_field)
		say_if_interrupted(op, req.request_id, 0);
	/* the funds' verdict first: under -q, nothing to say is silence */
	if (res == AGCOD_OK && op->rate == RL_FUNDS)
		verdict = check_funds(c, r.json, &below, below_days, &show);
	rc = show ? ctx_deliver(c, &req, &r, before, res) : exit_code(res);
	if (rc == 0)
		rc = verdict;
	api_result_free(&r);
	buf_free(&body);
	opreq_free(&req);
	return rc;
}
