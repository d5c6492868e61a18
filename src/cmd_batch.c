/*
 * cmd_batch.c - batch create FILE: a card for every row of a CSV file.
 *
 * Every row is checked before anything is sent.  A row without a request_id
 * gets one derived from the batch (its name, the partner, the environment
 * and a generation number) and the row's own content: its amount, currency
 * and every other non-empty cell, and its occurrence among identical rows.
 * Editing, adding or moving other rows leaves a row's id alone, so fixing a
 * refused row and running the file again re-sends the other rows under their
 * original ids: Amazon answers a repeated id with the original card.
 *
 * The journal is the batch's memory: a batch whose rows all have cards is
 * not replayed (exit 65) unless --reprint (the same cards) or --new-batch
 * (the next generation: new ids, new cards).  One HTTPS connection serves
 * the whole batch.
 *
 * This file runs the steps in order, sends the rows and sums the run up;
 * the steps are in the files cmd_batch.h lists.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agcod.h"
#include "cmd_batch.h"
#include "msg.h"
#include "outcome.h"
#include "send.h"

/* ---- the run ---- */

static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
	static const char m[] = "agcod: stopping after the request in flight "
	    "(interrupt again to stop at once)\n";
	ssize_t w;

	stop_signal = sig;
	w = write(STDERR_FILENO, m, sizeof(m) - 1);
	(void)w;
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	/* a second signal stops at once */
	sa.sa_flags = SA_RESETHAND | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void
progress(size_t done, size_t total, time_t start)
{
	double el = difftime(time(NULL), start), rate = el > 0 ? done / el : 0;
	long eta = rate > 0 ? (long)((total - done) / rate) : 0;
	int w = 30, fill = total ? (int)(w * done / total) : w;

	fprintf(stderr, "\r%6zu/%zu [%.*s%*s] %5.1f/s ETA %ld:%02ld ", done,
	    total, fill, "##############################", w - fill, "", rate,
	    eta / 60, eta % 60);
	if (done == total)
		fputc('\n', stderr);
}

/* what a run did, for its summary */
struct tally {
	size_t		 issued, before, failed, unknown, unsent;
	size_t		 done;			/* rows sent or tried */
	int64_t		 got[NTOTALS], old[NTOTALS];	/* per total */
};

/*
 * Here the batch's row count (b->n) and totals per currency (tot: .all,
 * and .todo for rows without a card yet) are known, and nothing has been
 * sent: the limits, the funds and the confirmation, then --out's file.
 */
static int
run_prepare(struct batch *b, const struct total *tot, size_t nt,
    struct sender **snd)
{
	struct cmd_ctx *c = b->c;
	int rc;

	if ((rc = batch_guard_limits(b, tot, nt)) != 0 ||
	    (rc = ctx_sender(c, snd)) != 0 ||
	    (rc = batch_check_funds(b, tot, nt)) != 0 ||
	    (rc = batch_confirm(b, tot, nt)) != 0 ||
	    (rc = batch_open_out(b)) != 0)
		return rc;
	/* each row's reference is held with its pending record */
	(*snd)->reserve_refs = !c->args.seen[O_ALLOW_REUSED_REF];
	if (c->prof.production)
		msg_note("PRODUCTION: %zu cards for partner %s at %s",
		    b->n, c->prof.partner_id, c->prof.endpoint);
	return 0;
}

/*
 * Row w sent (r its result): its exit status, or -1 when its body cannot
 * be built (r is then not set)
 */
static int
send_row(struct batch *b, struct sender *snd, struct row *w,
    struct api_result *r)
{
	struct cmd_ctx *c = b->c;
	struct buf body = BUF_INIT(64 * 1024);
	const char *dead;
	int e;

	if (api_body(&c->prof, &w->req, &body) == -1) {
		buf_free(&body);
		return -1;
	}
	e = exit_code(op_send(snd, &w->req, &body, r));
	buf_free(&body);
	if (e == 0)
		batch_issued_elsewhere(b, w, snd);
	if (e == 0 && (dead = outcome_dead_card(r->json)) != NULL) {
		/* a repeated id of a cancelled or expired card: its
		 * code is dead */
		int cancelled = outcome_cancelled(r->json);

		if (cancelled)
			note_cancelled(snd, w->req.op, w->req.request_id);
		r->result = AGCOD_E_REFUSED;
		e = exit_code(r->result);
		r->status = cancelled ? "CANCELLED" : "EXPIRED";
		api_say(r, "the card of request id %s %s (cardStatus "
		    "%s): its claim code is dead and is not shown",
		    w->req.request_id, cancelled ? "was cancelled" :
		    "has expired", dead);
		json_object_del(r->json, "gcClaimCode");
	}
	return e;
}

/* row w's exit status e counted; the run's status *rc the first failure */
static void
tally_row(struct tally *t, const struct total *tot, size_t nt,
    const struct row *w, const struct api_result *r, int e, int *rc)
{
	size_t k;

	t->done++;
	if (e == 0) {
		t->issued++;
		t->before += w->prev == PREV_ISSUED;
		for (k = 0; k < nt && tot[k].cur != w->req.cur; k++)
			;
		if (k < nt && w->prev == PREV_ISSUED)
			t->old[k] += batch_minor_units(&w->req);
		else if (k < nt)
			t->got[k] += batch_minor_units(&w->req);
	} else if (r->outcome == OUTCOME_NOT_SENT) {
		/* nothing left the machine: neither failed nor unknown */
		t->unsent++;
		if (*rc == 0)
			*rc = e;
	} else if (r->outcome == OUTCOME_UNKNOWN)
		t->unknown++;
	else {		/* refused, throttled included: nothing was issued */
		t->failed++;
		if (*rc == 0)
			*rc = e;
	}
}

/* a row's result could not be written: stop before more codes are lost */
static void
row_lost(struct batch *b, struct sender *snd, const struct row *w,
    const char *resume, int bar)
{
	if (bar)
		fputc('\n', stderr);
	msg_err("cannot write the result of %s line %d "
	    "(request id %s) to %s: %s; stopped so that no "
	    "more claim codes are lost: run %s to show "
	    "this row's result again under the same id and "
	    "go on with the rest (add --reprint if it says "
	    "the batch was completed)",
	    b->file, w->cr->line, w->req.request_id,
	    b->outname, strerror(errno), resume);
	/* reprint and reconcile can tell it was not delivered */
	if (snd->last_record > 0)
		journal_undelivered(&b->c->journal, snd->last_record);
}

/*
 * The summary, always on standard error, and the run's exit status (rc:
 * the first failure so far)
 */
static int
run_summary(const struct batch *b, const struct total *tot, size_t nt,
    const struct tally *t, const char *resume, int outfail, int rc)
{
	struct buf sum = BUF_INIT(8192);
	char text[AMOUNT_TEXT_MAX];
	size_t k;
	int full = 0;

	full |= buf_printf(&sum, "batch '%s': %zu row%s: %zu issued", b->id,
	    b->n, b->n == 1 ? "" : "s", t->issued);
	if (t->before)
		full |= buf_printf(&sum, " (%zu by an earlier run)", t->before);
	full |= buf_printf(&sum, ", %zu failed, %zu unknown, %zu not sent",
	    t->failed, t->unknown, t->unsent + b->n - t->done);
	for (k = 0; k < nt; k++) {
		if (t->got[k]) {
			batch_fmt_minor(tot[k].cur, t->got[k], text,
			    sizeof(text));
			full |= buf_printf(&sum, "; %s %s newly issued",
			    tot[k].cur->code, text);
		}
		if (t->old[k]) {
			batch_fmt_minor(tot[k].cur, t->old[k], text,
			    sizeof(text));
			full |= buf_printf(&sum, "; %s %s issued before",
			    tot[k].cur->code, text);
		}
	}
	if (stop_signal)
		full |= buf_printf(&sum, "; interrupted by %s",
		    stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
	if (t->done < b->n || t->unknown || t->failed || t->unsent) {
		full |= buf_printf(&sum, "; to resume, run %s (rows with "
		    "cards show their original cards)%s", resume, t->unknown ?
		    "; unknown outcomes settle there or with 'agcod "
		    "reconcile'" : "");
		full |= batch_resume_out(b, &sum);
	}
	if (stop_signal)
		rc = stop_signal == SIGINT ? 130 : 143;
	else if (t->unknown || outfail)
		rc = EX_TEMPFAIL;	/* over failed rows: it may be issued */
	if (full)	/* cannot happen within 4 KB; never silent if it does */
		msg_err("the batch summary was cut short");
	if (rc == 0)
		msg_note("%s", buf_str(&sum));
	else
		msg_err("%s", buf_str(&sum));
	buf_free(&sum);
	return rc;
}

static int
run(struct batch *b)
{
	struct cmd_ctx *c = b->c;
	struct total tot[NTOTALS];
	struct tally t;
	struct buf rs = BUF_INIT(PATH_MAX + 4096);
	const char *resume;
	struct sender *snd;
	size_t nt, i;
	int rc, bar, outfail = 0;
	time_t start;

	nt = batch_totals(b, tot);
	memset(&t, 0, sizeof(t));
	if ((rc = run_prepare(b, tot, nt, &snd)) != 0)
		return rc;
	resume = batch_resume_cmd(b, &rs) == 0 ? buf_str(&rs) :
	    "the same command again";
	/* the bar never mixes with rows on a terminal */
	bar = isatty(STDERR_FILENO) && msg_verbosity >= 0 &&
	    (b->out != stdout || !isatty(STDOUT_FILENO));
	batch_out_header(b);
	catch_signals();
	start = time(NULL);
	for (i = 0; i < b->n; i++) {
		struct row *w = &b->rows[i];
		struct api_result r;
		int e;

		if (stop_signal)
			break;
		if ((e = send_row(b, snd, w, &r)) == -1) {
			rc = EX_SOFTWARE;
			break;
		}
		tally_row(&t, tot, nt, w, &r, e, &rc);
		if (e != 0) {
			if (bar)
				fputc('\n', stderr);	/* off the bar's line */
			msg_err("%s line %d: %s", b->file, w->cr->line, r.why);
		}
		if (batch_out_row(b, w, i, &r) == -1) {
			row_lost(b, snd, w, resume, bar);
			outfail = 1;
		}
		api_result_free(&r);
		if (bar && !outfail)
			progress(t.done, b->n, start);
		if (outfail)
			break;
		if (e == EX_IOERR)
			break;	/* without a journal nothing more is sent */
		if (e == EX_NOPERM) {
			/* F3xx (funds, contract) or 403: so would the next */
			msg_err("%s: stopped at line %d: the account cannot "
			    "issue cards now; fix it, then run %s to go on",
			    b->file, w->cr->line, resume);
			break;
		}
	}
	if (outfail && b->out == stdout)
		c->out_checked = 1;	/* said here, with the id */
	rc = run_summary(b, tot, nt, &t, resume, outfail, rc);
	msg_verbose("%zu of %zu rows succeeded over %ld connection(s)",
	    t.issued, b->n, http_connections(c->send.api.http));
	buf_free(&rs);
	return rc;
}


int
cmd_batch(struct cmd_ctx *c)
{
	struct batch b;
	size_t i;
	int rc;

	memset(&b, 0, sizeof(b));
	b.c = c;
	b.lockfd = -1;
	if (c->args.npos < 1 || strcmp(c->args.pos[0], "create") != 0)
		return usage_error(c->cmd, "only 'batch create FILE' exists");
	if (c->args.npos != 2)
		return usage_error(c->cmd, "give one FILE");
	if (c->args.seen[O_REPRINT] && c->args.seen[O_NEW_BATCH])
		return usage_error(c->cmd, "--reprint and --new-batch exclude "
		    "each other");
	b.file = c->args.pos[1];
	if ((rc = batch_name(&b)) != 0)
		return rc;
	if ((rc = batch_sep(&b)) != 0)
		return rc;
	if ((rc = batch_read(&b)) != 0)
		return rc;
	if (batch_map_header(&b) == -1 || batch_check_rows(&b) == -1) {
		rc = EX_USAGE;
		goto done;
	}
	if (c->args.seen[O_NEW_BATCH])
		for (i = 0; i < b.n; i++)
			if (b.rows[i].explicit_id) {
				rc = usage_error(c->cmd, "%s line %d: "
				    "--new-batch cannot renew a request id "
				    "given in the file",
				    b.file, b.rows[i].cr->line);
				goto done;
			}
	if (!c->args.seen[O_DRY_RUN] && (rc = batch_lock(&b)) != 0)
		goto done;
	if ((rc = batch_check_journal(&b)) != 0)
		goto done;
	for (i = 0; i < b.n; i++)
		if (strlen(b.rows[i].req.request_id) > b.idwidth)
			b.idwidth = strlen(b.rows[i].req.request_id);
	if (c->args.seen[O_DRY_RUN]) {
		rc = batch_dry_run(&b);
		goto done;
	}
	batch_out_format(&b);
	if ((rc = batch_out_check(&b)) != 0)
		goto done;
	rc = run(&b);
	if (b.out != stdout && fclose(b.out) != 0 && rc == 0) {
		msg_err("cannot write the results to '%s': %s", b.outname,
		    strerror(errno));
		rc = EX_TEMPFAIL;
	}
done:
	if (b.lockfd != -1)
		close(b.lockfd);
	json_decref(b.jindex);
	free(b.rows);
	csv_free(&b.csv);
	return rc;
}
