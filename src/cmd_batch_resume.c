/*
 * cmd_batch_resume.c - what the journal says of a batch: each row's
 * earlier card, whether the run may go ahead (completed, --reprint,
 * unsettled, external references in use), the one-run-at-a-time lock, and
 * the command that resumes a run.
 */
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <bsd/string.h>

#include "agcod.h"
#include "cli.h"
#include "cmd_batch.h"
#include "hset.h"
#include "msg.h"
#include "send.h"

/*
 * ---- journal lookups ----
 * What the journal says of a row's card: its state and when it was made,
 * from the card's money object (a refused repeat of its id does not hide
 * an issued card).  Kept per request id, trimmed to what a batch reads, so
 * a 100,000-row re-run holds a few megabytes, not every column.
 */
json_t *
batch_journal_entry(struct batch *b, const char *rid)
{
	static const char *const keep[] = { "time", "updated" };
	struct journal *j;
	json_t *e, *t;
	const char *st;
	size_t i;

	if (b->jindex == NULL && (b->jindex = json_object()) == NULL)
		return NULL;
	if ((t = json_object_get(b->jindex, rid)) != NULL)
		return json_is_object(t) ? t : NULL;
	if ((j = ctx_journal(b->c)) == NULL ||
	    (e = journal_lookup(j, op_find("create")->name, rid)) == NULL) {
		/* an error is not "never issued": batch_check_journal stops */
		if (j == NULL || j->err[0])
			b->jerr = 1;
		else
			json_object_set_new(b->jindex, rid, json_null());
		return NULL;
	}
	/* the card's state, in the words of a request's outcome */
	st = json_str(e, "object_state") ? json_str(e, "object_state") :
	    json_str(e, "state");
	if (st && strcmp(st, "issued") == 0)
		st = "succeeded";
	else if (st && strcmp(st, "not sent") == 0)
		st = "failed";
	t = json_pack("{s:s}", "state", st ? st : "unknown");
	for (i = 0; t && i < sizeof(keep) / sizeof(keep[0]); i++)
		if (json_str(e, keep[i]))
			json_object_set_new(t, keep[i],
			    json_string(json_str(e, keep[i])));
	json_decref(e);
	json_object_set_new(b->jindex, rid, t);
	return t;
}

/*
 * A card another run issued after this one read the journal (the same ids
 * in two runs at once): its original is shown, as issued before, not new.
 */
void
batch_issued_elsewhere(struct batch *b, struct row *w, const struct sender *s)
{
	json_t *t;

	if (w->prev == PREV_ISSUED || b->jindex == NULL ||
	    strcmp(s->prior, op_find("create")->object_state) != 0 ||
	    (t = json_pack("{s:s, s:s}", "state", "succeeded", "time",
	    s->prior_time)) == NULL)
		return;
	json_object_set_new(b->jindex, w->req.request_id, t);
	w->prev = PREV_ISSUED;
	w->since = json_str(t, "time");
}

static int
add_ref(json_t *row, void *arg)
{
	const char *ref = json_str(row, "external_reference");
	const char *rid = json_str(row, "request_id");

	if (ref && rid)
		json_object_set_new(arg, ref, json_string(rid));
	return 0;
}

/* external reference -> request id of a live card: issued, or pending or
 * unknown, which may be issued (a new object; NULL when the journal is
 * unreadable) */
static json_t *
journal_issued_refs(struct cmd_ctx *c)
{
	struct journal_query q;
	struct journal *j;
	json_t *refs;

	if ((j = ctx_journal(c)) == NULL || (refs = json_object()) == NULL)
		return NULL;
	memset(&q, 0, sizeof(q));
	q.view = VIEW_OBJECTS;
	q.operation = op_find("create")->name;
	q.live = 1;
	/* reserved per partner and environment, as the journal's index */
	q.partner = c->prof.partner_id;
	q.environment = c->prof.production ? "production" : "sandbox";
	if (journal_query(j, &q, add_ref, refs) < 0) {
		json_decref(refs);
		return NULL;
	}
	return refs;
}

/*
 * What the journal says of each row (prev, since); the rows issued before,
 * and the latest time one of them was issued or updated in last
 */
static size_t
journal_prev(struct batch *b, char *last, size_t lastsz)
{
	size_t i, issued = 0;
	json_t *e;

	for (i = 0; i < b->n; i++) {
		struct row *w = &b->rows[i];
		const char *st, *t;

		w->prev = PREV_NONE;
		if ((e = batch_journal_entry(b, w->req.request_id)) == NULL)
			continue;
		st = json_str(e, "state");
		w->prev = st && strcmp(st, "succeeded") == 0 ? PREV_ISSUED :
		    PREV_OTHER;
		if (w->prev == PREV_ISSUED) {
			issued++;
			w->since = json_str(e, "time");
			t = json_str(e, "updated") ? json_str(e, "updated") :
			    json_str(e, "time");
			if (t && strcmp(t, last) > 0)
				strlcpy(last, t, lastsz);
		}
	}
	return issued;
}

/* --reprint: every row has a card already; 0, or EX_USAGE after saying */
static int
check_reprint(const struct batch *b)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < b->n; i++)
		if (b->rows[i].prev != PREV_ISSUED) {
			msg_err("%s line %d: no card yet for this "
			    "row of batch '%s' (request id %s): "
			    "--reprint only prints cards issued "
			    "before; run without it to issue", b->file,
			    b->rows[i].cr->line, b->id,
			    b->rows[i].req.request_id);
			bad++;
		}
	return bad ? EX_USAGE : 0;
}

/*
 * Each external reference once in the file, and none already on a live
 * card of another request id; 0, or an exit status after saying why
 */
static int
check_refs(struct batch *b)
{
	struct cmd_ctx *c = b->c;
	json_t *refs;
	struct hset seen;
	size_t i;
	int bad = 0;

	if ((refs = journal_issued_refs(c)) == NULL) {
		msg_err("%s: cannot read the journal '%s' for the external "
		    "references it holds: %s; nothing was sent", b->file,
		    c->journal.path, c->journal.err[0] ? c->journal.err :
		    "out of memory");
		return EX_IOERR;
	}
	if (hset_init(&seen, b->n)) {
		json_decref(refs);
		msg_err("%s: out of memory; nothing was sent", b->file);
		return EX_SOFTWARE;
	}
	for (i = 0; i < b->n; i++) {
		const struct row *w = &b->rows[i];
		const char *ref = w->req.text.extref, *had;
		struct hent *he;

		if (ref == NULL)
			continue;
		he = hset_get(&seen, ref);
		if (he->val != SIZE_MAX) {
			msg_err("%s line %d: external reference '%s' is also "
			    "on line %d; --allow-reused-reference issues both",
			    b->file, w->cr->line, ref,
			    b->rows[he->val].cr->line);
			bad++;
			continue;
		}
		he->val = i;
		had = json_string_value(json_object_get(refs, ref));
		if (w->prev != PREV_ISSUED && had &&
		    strcmp(had, w->req.request_id) != 0) {
			msg_err("%s line %d: external reference '%s' already "
			    "has a live card (request id %s: issued, or sent "
			    "and not yet settled); --allow-reused-reference "
			    "issues another", b->file, w->cr->line, ref, had);
			bad++;
		}
	}
	hset_free(&seen);
	json_decref(refs);
	if (bad)
		msg_err("%s: %d row%s refused; nothing was sent", b->file, bad,
		    bad == 1 ? "" : "s");
	return bad ? EX_DATAERR : 0;
}

/* what the journal says of each row; 0, or an exit status after saying why */
int
batch_check_journal(struct batch *b)
{
	struct cmd_ctx *c = b->c;
	int allow = c->args.seen[O_ALLOW_REUSED_REF];
	size_t issued;
	char last[32] = "";

	if (ctx_journal(c) == NULL) {
		msg_err("%s: cannot read the journal, so cannot tell which "
		    "rows have cards; nothing was sent", b->file);
		return EX_IOERR;
	}
	switch (batch_choose_generation(b, c->args.seen[O_NEW_BATCH])) {
	case 0:
		break;
	case -2:
		return EX_TEMPFAIL;	/* said why */
	default:
		msg_err("%s: cannot derive request ids", b->file);
		return EX_SOFTWARE;
	}
	issued = journal_prev(b, last, sizeof(last));
	if (b->jerr) {
		msg_err("%s: cannot read the journal '%s': %s; nothing was "
		    "sent", b->file, c->journal.path, c->journal.err);
		return EX_IOERR;
	}
	if (c->args.seen[O_REPRINT])
		return check_reprint(b);
	if (issued == b->n) {
		msg_err("%s: batch '%s' was completed (%s): all %zu rows "
		    "already have cards, nothing new was issued and nothing "
		    "was sent; --reprint prints the same cards again, "
		    "--new-batch issues new ones, or name this run with "
		    "--batch-id", b->file, b->id, *last ? last : "earlier",
		    b->n);
		return EX_DATAERR;
	}
	if (issued)
		msg_warn("%s: %zu of %zu rows were issued by an earlier run of "
		    "batch '%s' (last %s): they are sent again under their "
		    "request ids and show their original cards, not new ones",
		    b->file, issued, b->n, b->id, *last ? last : "earlier");
	if (b->idx[C_EXTREF] == -1 || allow)
		return 0;
	return check_refs(b);
}

/*
 * One run of a batch at a time in a state directory: a second run started
 * while the first sends (cron overlapping a manual run) would print every
 * card again as newly issued.  The lock is held until the process ends.
 */
int
batch_lock(struct batch *b)
{
	struct cmd_ctx *c = b->c;
	char path[PATH_MAX], why[200], key[sizeof(c->prof.partner_id) +
	    sizeof(b->id) + 16];
	struct journal *j;
	int n;

	if ((j = ctx_journal(c)) == NULL)
		return EX_IOERR;
	/* a journal shared by several hosts keeps the lock for all of them;
	 * by several partners and environments too: one lock is theirs */
	snprintf(key, sizeof(key), "%s %s %s", c->prof.partner_id,
	    c->prof.production ? "production" : "sandbox", b->id);
	switch (journal_batch_lock(j, key, why, sizeof(why))) {
	case JOURNAL_LOCK_LOCAL:
		break;
	case 0:
		return 0;
	case 1:
		msg_err("batch '%s' is being run by another agcod process "
		    "right now; nothing was sent: run it again when that run "
		    "has ended", b->id);
		return EX_TEMPFAIL;
	default:
		msg_err("cannot lock batch '%s': %s; nothing was sent", b->id,
		    why);
		return EX_IOERR;
	}
	if (state_dir_make(c->state_dir, why, sizeof(why)) == -1) {
		msg_err("the state directory '%s' cannot be used: %s; nothing "
		    "was sent", c->state_dir, why);
		return EX_IOERR;
	}
	n = snprintf(path, sizeof(path), "%s/batch-%s.lock", c->state_dir,
	    b->id);
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    (b->lockfd = state_file_open(path, O_RDWR | O_CREAT)) == -1) {
		msg_err("cannot open the batch lock '%s': %s; nothing was sent",
		    path, n < 0 || (size_t)n >= sizeof(path) ?
		    "the path is too long" : strerror(errno));
		return EX_IOERR;
	}
	if (flock(b->lockfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			msg_err("batch '%s' is being run by another agcod "
			    "process right now; nothing was sent: run it again "
			    "when that run has ended", b->id);
			return EX_TEMPFAIL;
		}
		msg_err("cannot lock '%s': %s; nothing was sent", path,
		    strerror(errno));
		return EX_IOERR;
	}
	return 0;
}

/* s for a shell, in single quotes */
static int
put_quoted(struct buf *t, const char *s)
{
	int bad = buf_addc(t, '\'');

	for (; *s; s++)
		bad |= *s == '\'' ? buf_adds(t, "'\\''") : buf_addc(t, *s);
	return bad | buf_addc(t, '\'');
}

/*
 * How to run this batch again: the same file with the options this run
 * was given (the format it wrote included), never --new-batch (the run
 * to resume is that new batch now); --out names a new file, as it never
 * overwrites one.  0, or -1 when it does not fit.
 */
int
batch_resume_cmd(const struct batch *b, struct buf *t)
{
	static const char *const fmt[] = {
		[OUT_JSON] = "json", [OUT_TABLE] = "table", [OUT_CSV] = "csv",
	};
	const struct args *a = &b->c->args;
	int id, i, bad;

	bad = buf_adds(t, "agcod batch create ") | put_quoted(t, b->file);
	if (a->val[O_OUTPUT] || a->val[O_OUT])
		bad |= buf_printf(t, " -o %s", fmt[b->c->out]);
	for (id = 1; id < O_COUNT; id++) {
		if (id == O_OUTPUT || id == O_OUT || id == O_NEW_BATCH ||
		    id == O_DRY_RUN || id == O_HELP || id == O_VERSION ||
		    id == O_LIST_COMMANDS || id == O_LIST_OPTIONS ||
		    id == O_LIST_TABLE)
			continue;
		if (a->val[id] && opt_has_arg(id)) {
			bad |= buf_printf(t, " %s%s ", id == O_PROFILE ? "-" :
			    "--", id == O_PROFILE ? "p" : opt_name(id));
			bad |= put_quoted(t, a->val[id]);
		} else
			for (i = 0; i < a->seen[id]; i++)
				bad |= buf_printf(t, " --%s", opt_name(id));
	}
	if (a->val[O_OUT])
		bad |= buf_adds(t, " --out NEW_FILE");
	return bad ? -1 : 0;
}

/* what --out's file becomes: a new file each run */
int
batch_resume_out(const struct batch *b, struct buf *t)
{
	const char *out = b->c->args.val[O_OUT];
	int bad;

	if (out == NULL)
		return 0;
	/* appending it would repeat the BOM, the header and the rows */
	bad = buf_adds(t, "; --out never overwrites a file: NEW_FILE then "
	    "holds every row of the batch, those already in ");
	bad |= put_quoted(t, out);
	bad |= buf_adds(t, " with their original cards, so move NEW_FILE over ");
	bad |= put_quoted(t, out);
	bad |= buf_adds(t, " rather than append it");
	return bad ? -1 : 0;
}
