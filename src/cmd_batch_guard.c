/*
 * cmd_batch_guard.c - before a batch sends: its totals per currency, the
 * profile's limits, the available funds, the production confirmation, and
 * --dry-run's report of all of them.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "agcod.h"
#include "cmd_batch.h"
#include "guard.h"
#include "msg.h"
#include "output.h"
#include "send.h"

/*
 * A row's amount in minor units.  Checked, though a row is below its
 * currency's ceiling (JPY's 1,500,000): 999,999 of them stay far below
 * 2^63, so the sums below cannot overflow either.
 */
int64_t
batch_minor_units(const struct opreq *q)
{
	int64_t m;

	return amount_minor(&q->amount, q->cur, &m) == -1 ? 0 : m;
}

size_t
batch_totals(const struct batch *b, struct total *tot)
{
	size_t nt = 0, i, k;

	for (i = 0; i < b->n; i++) {
		const struct opreq *q = &b->rows[i].req;

		for (k = 0; k < nt && tot[k].cur != q->cur; k++)
			;
		if (k == nt) {
			if (nt == NTOTALS)
				continue;	/* more currencies than exist */
			memset(&tot[nt++], 0, sizeof(*tot));
			tot[k].cur = q->cur;
		}
		tot[k].all += batch_minor_units(q);
		tot[k].rows++;
		if (b->rows[i].prev != PREV_ISSUED) {
			tot[k].todo += batch_minor_units(q);
			tot[k].todo_rows++;
		}
	}
	return nt;
}

void
batch_fmt_minor(const struct currency *cur, int64_t minor, char *out, size_t n)
{
	struct amount a = { minor, cur->exponent };

	amount_format(&a, out, n);
}

/*
 * The profile's limits, before anything is sent: every row still to issue
 * within max_amount, each currency's total still to issue within
 * max_batch_total (in its own minor units: a JPY total is whole yen).
 */
int
batch_guard_limits(struct batch *b, const struct total *tot, size_t nt)
{
	struct cmd_ctx *c = b->c;
	size_t i, k;
	int rc;

	for (i = 0; i < b->n; i++)
		if (b->rows[i].prev != PREV_ISSUED && (rc = exit_code(
		    guard_amount(&c->prof, &b->rows[i].req.amount,
		    b->rows[i].req.cur->code))) != 0) {
			msg_err("%s line %d: over the profile's max_amount; "
			    "nothing was sent", b->file, b->rows[i].cr->line);
			return rc;
		}
	for (k = 0; k < nt; k++) {
		struct amount a = { tot[k].todo, tot[k].cur->exponent };

		if ((rc = exit_code(guard_batch_total(&c->prof, &a,
		    tot[k].cur->code))) != 0)
			return rc;
	}
	return 0;
}

/* in production, the confirmation (or --yes) of what is still to issue */
int
batch_confirm(struct batch *b, const struct total *tot, size_t nt)
{
	char summary[512], text[AMOUNT_TEXT_MAX];
	size_t k, rows = 0;
	int len;

	len = snprintf(summary, sizeof(summary), "batch create %s:", b->file);
	for (k = 0; k < nt; k++) {
		rows += tot[k].todo_rows;
		batch_fmt_minor(tot[k].cur, tot[k].todo, text, sizeof(text));
		if (len > 0 && (size_t)len < sizeof(summary))
			len += snprintf(summary + len, sizeof(summary) - (size_t)len,
			    "%s %s %s", k ? "," : "", text, tot[k].cur->code);
	}
	if (len > 0 && (size_t)len < sizeof(summary))
		snprintf(summary + len, sizeof(summary) - (size_t)len,
		    " in %zu new card%s", rows, rows == 1 ? "" : "s");
	return exit_code(guard_confirm(&b->c->prof,
	    b->c->args.seen[O_YES], summary));
}

/* what GetAvailableFunds said, exactly */
struct funds {
	const struct currency	*cur;
	struct amount		 have;
	char			 text[AMOUNT_TEXT_MAX];	/* in cur's decimals */
	json_t			*json;			/* availableFunds */
};

/*
 * One GetAvailableFunds, through the path every operation takes (its rate
 * class shares the 1/s with every agcod process).  0, or an exit status
 * after saying why.
 */
static int
get_funds(struct batch *b, struct funds *f)
{
	struct cmd_ctx *c = b->c;
	struct buf body = BUF_INIT(1024);
	struct api_result r;
	struct opreq_in none;
	struct opreq fr;
	struct sender *s;
	const char *amt, *code;
	char why[256] = "";
	int64_t minor;
	int rc;

	memset(f, 0, sizeof(*f));
	memset(&none, 0, sizeof(none));
	if ((rc = ctx_sender(c, &s)) != 0)
		return rc;
	if (opreq_build(&c->prof, op_find("funds"), &none, &fr, why,
	    sizeof(why)) == -1) {
		msg_err("funds: cannot build the request: %s", why);
		return EX_SOFTWARE;
	}
	if (api_body(&c->prof, &fr, &body) == -1) {
		msg_err("funds: cannot build the request body");
		buf_free(&body);
		opreq_free(&fr);
		return EX_SOFTWARE;
	}
	rc = exit_code(op_send(s, &fr, &body, &r));
	buf_free(&body);
	opreq_free(&fr);
	if (rc != 0) {
		msg_err("funds: %s", r.why);
		api_result_free(&r);
		return rc;
	}
	amt = json_string_value(json_path(r.json, "availableFunds.amount"));
	code = json_string_value(json_path(r.json,
	    "availableFunds.currencyCode"));
	if (amt == NULL || code == NULL ||
	    (f->cur = currency_find(code)) == NULL ||
	    amount_parse_number(amt, &f->have) == -1) {
		msg_err("funds: the service's answer has no available funds");
		api_result_free(&r);
		return EX_UNAVAILABLE;
	}
	/* in the currency's decimals when they fit, else exactly as read */
	if (amount_minor(&f->have, f->cur, &minor) == 0)
		batch_fmt_minor(f->cur, minor, f->text, sizeof(f->text));
	else
		amount_format(&f->have, f->text, sizeof(f->text));
	f->json = json_incref(json_path(r.json, "availableFunds"));
	api_result_free(&r);
	return 0;
}

/*
 * 1 when the funds cover every currency's total still to issue; else 0,
 * after naming each that they do not cover.  Compared exactly: 1.0E17 USD
 * covers any batch.
 */
static int
funds_cover(const struct batch *b, const struct total *tot, size_t nt,
    const struct funds *f)
{
	char text[AMOUNT_TEXT_MAX];
	size_t k;
	int covered = 1;

	for (k = 0; k < nt; k++) {
		struct amount todo = { tot[k].todo, tot[k].cur->exponent };

		if (tot[k].todo <= 0 || (tot[k].cur == f->cur &&
		    amount_cmp(&todo, &f->have) <= 0))
			continue;
		covered = 0;
		batch_fmt_minor(tot[k].cur, tot[k].todo, text, sizeof(text));
		msg_err("%s: the available funds (%s %s) do not cover the %s "
		    "%s this batch would issue", b->file, f->cur->code, f->text,
		    tot[k].cur->code, text);
	}
	return covered;
}

/*
 * Before the first row: funds that cannot cover the rows still to issue
 * would issue part of the batch and stop at F300, so nothing is sent.
 */
int
batch_check_funds(struct batch *b, const struct total *tot, size_t nt)
{
	struct funds f;
	size_t k;
	int rc, todo = 0;

	for (k = 0; k < nt; k++)
		todo |= tot[k].todo > 0;
	if (!todo || b->c->args.seen[O_NO_FUNDS_CHECK])
		return 0;
	if ((rc = get_funds(b, &f)) != 0) {
		msg_err("%s: cannot check the available funds before the first "
		    "row; nothing was sent: try again, or give "
		    "--no-funds-check to send without checking", b->file);
		return rc;
	}
	json_decref(f.json);
	if (funds_cover(b, tot, nt, &f))
		return 0;
	msg_err("%s: nothing was sent: add funds and run it again, or give "
	    "--no-funds-check to send anyway (the service then refuses the "
	    "rows it cannot cover)", b->file);
	return EX_NOPERM;	/* as the service's F300 would */
}

int
batch_dry_run(struct batch *b)
{
	struct cmd_ctx *c = b->c;
	struct total tot[NTOTALS];
	size_t nt = batch_totals(b, tot), k, issued = 0, i;
	struct funds f;
	char text[AMOUNT_TEXT_MAX];
	json_t *out = json_object(), *jt = json_array();
	int rc, covered = 1;

	for (i = 0; i < b->n; i++)
		issued += b->rows[i].prev == PREV_ISSUED;
	/* the one request a dry run sends: how much is there */
	if (c->args.seen[O_NO_FUNDS_CHECK])
		rc = -1;	/* not asked: the funds view is unavailable */
	else if ((rc = get_funds(b, &f)) == 0)
		covered = funds_cover(b, tot, nt, &f);

	json_object_set_new(out, "dry_run", json_true());
	json_object_set_new(out, "batch_id", json_string(b->id));
	json_object_set_new(out, "rows", json_integer((json_int_t)b->n));
	json_object_set_new(out, "already_issued",
	    json_integer((json_int_t)issued));
	for (k = 0; k < nt; k++) {
		json_t *t = json_object();

		batch_fmt_minor(tot[k].cur, tot[k].all, text, sizeof(text));
		json_object_set_new(t, "currency",
		    json_string(tot[k].cur->code));
		json_object_set_new(t, "amount", json_string(text));
		json_object_set_new(t, "rows",
		    json_integer((json_int_t)tot[k].rows));
		batch_fmt_minor(tot[k].cur, tot[k].todo, text, sizeof(text));
		json_object_set_new(t, "to_issue", json_string(text));
		json_array_append_new(jt, t);
	}
	json_object_set_new(out, "totals", jt);
	if (rc == 0) {
		json_object_set(out, "available_funds", f.json);
		json_object_set_new(out, "covered", json_boolean(covered));
	}
	if (c->out == OUT_JSON) {
		output_json(stdout, out);
	} else {
		printf("batch            %s\nrows             %zu (%zu issued "
		    "before)\n", b->id, b->n, issued);
		for (k = 0; k < nt; k++) {
			batch_fmt_minor(tot[k].cur, tot[k].all, text,
			    sizeof(text));
			printf("total %-10s %s (%zu rows)", tot[k].cur->code,
			    text, tot[k].rows);
			batch_fmt_minor(tot[k].cur, tot[k].todo, text,
			    sizeof(text));
			printf(", %s to issue\n", text);
		}
		if (rc == 0)
			printf("available funds  %s %s%s\n", f.text,
			    f.cur->code, covered ? "" : " (not enough)");
		printf("nothing was sent (--dry-run)\n");
	}
	json_decref(out);
	if (rc == 0)
		json_decref(f.json);
	return rc > 0 ? rc : covered ? 0 : EX_BELOW;
}
