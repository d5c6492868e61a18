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
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "agcod.h"
#include "cli.h"
#include "csv.h"
#include "ctx.h"
#include "forecast.h"
#include "guard.h"
#include "msg.h"
#include "outcome.h"
#include "output.h"
#include "rows.h"
#include "send.h"

#define BATCH_FILE_MAX	(64 * 1024 * 1024)
#define BATCH_ROWS_MAX	999999
#define BATCH_ID_MAX	64
#define GEN_MAX		10000
/* base-62 digits after the partner id and "B"; fewer for long partner ids */
#define ID_DIGITS	22

/* the columns a row can give, one for each of options.h's BODY lines */
#define COL_NONE(...)
#define COL(ID, ...)	C_##ID,
enum col { AGCOD_OPTIONS(COL_NONE, COL_NONE, COL) C_COUNT };
#undef COL_NONE
#undef COL

/* columns[k]: option k's column (NULL: none) and its opreq_in member */
static const struct {
	const char	*name;
	size_t		 in;
} columns[C_COUNT] = {
#define COL_NONE(...)
#define COL(ID, NAME, SHORT, ARG, CMDS, HELP, FIELDS, FLAGS, M, J, B) \
	{ B, offsetof(struct opreq_in, M) },
	AGCOD_OPTIONS(COL_NONE, COL_NONE, COL)
#undef COL_NONE
#undef COL
};

/* the names batch output adds to every row: no input column may take them */
static const char *const result_names[] = {
	"row", "status", "gcId", "gcClaimCode", "errorCode", "errorType",
	"issued_before",
};
#define NRESULT	(sizeof(result_names) / sizeof(result_names[0]))

enum prev { PREV_NONE, PREV_ISSUED, PREV_OTHER };

struct row {
	const struct csv_row	*cr;
	struct opreq		 req;
	char			 content[SIGV4_HEX_LEN + 1];	/* digest */
	unsigned		 occ;		/* 1st, 2nd... identical row */
	unsigned char		 explicit_id;	/* from a request_id column */
	unsigned char		 prev;		/* enum prev: the journal's */
	const char		*since;		/* PREV_ISSUED: first sent */
};

struct batch {
	struct cmd_ctx		*c;
	const char		*file;
	char			 id[BATCH_ID_MAX + 1];
	int			 id_given;
	struct csv		 csv;
	int			 idx[C_COUNT];		/* column of each */
	int			 ncols;
	const char		*name[CSV_MAX_FIELDS];	/* output names */
	int			 order[CSV_MAX_FIELDS];	/* identity order */
	int			 norder;
	size_t			 width[CSV_MAX_FIELDS];	/* table widths */
	size_t			 idwidth;
	struct row		*rows;			/* rows[0..n-1] */
	char			 sep;		/* FILE's field separator */
	size_t			 n;
	unsigned		 gen;
	json_t			*jindex;	/* request id -> entry */
	int			 jerr;		/* a lookup failed: j->err */
	/* output */
	FILE			*out;
	const char		*outname;
	int			 outfd;
	int			 lockfd;	/* held while it runs */
};

/* ---- a small hash table of borrowed strings (no quadratic checks) ---- */

struct hent {
	const char	*key;
	size_t		 val;
};

struct hset {
	struct hent	*e;
	size_t		 cap;
};

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int
hset_init(struct hset *h, size_t n)
{
	h->cap = 64;
	while (h->cap < 2 * n + 16)
		h->cap *= 2;
	h->e = calloc(h->cap, sizeof(*h->e));
	return h->e ? 0 : -1;
}

/* the entry of key: found, or new with val (SIZE_MAX) when there is none */
static struct hent *
hset_get(struct hset *h, const char *key)
{
	size_t i = (size_t)fnv1a(key) & (h->cap - 1);

	while (h->e[i].key && strcmp(h->e[i].key, key) != 0)
		i = (i + 1) & (h->cap - 1);
	if (h->e[i].key == NULL) {
		h->e[i].key = key;
		h->e[i].val = SIZE_MAX;
	}
	return &h->e[i];
}

static void
hset_free(struct hset *h)
{
	free(h->e);
	h->e = NULL;
}

/*
 * ---- journal lookups ----
 * What the journal says of a row's card: its state and when it was made,
 * from the card's money object (a refused repeat of its id does not hide
 * an issued card).  Kept per request id, trimmed to what a batch reads, so
 * a 100,000-row re-run holds a few megabytes, not every column.
 */
static json_t *
journal_create_entry(struct batch *b, const char *rid)
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
		/* an error is not "never issued": check_journal stops */
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
static void
issued_elsewhere(struct batch *b, struct row *w, const struct sender *s)
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

static const char *cell_why(const char *);

/*
 * Text from the file for a message: as msg_put_shown shows it (control
 * characters as \xNN), cut to fit out.
 */
static const char *
shown(const char *s, char *out, size_t n)
{
	FILE *f;

	out[0] = '\0';
	if ((f = fmemopen(out, n - 1, "w")) == NULL)
		return "?";
	msg_put_shown(f, s, strlen(s));
	fclose(f);
	out[n - 1] = '\0';
	return out;
}

/* ---- the header ---- */

static void
trim(char *s)
{
	size_t n = strlen(s), a = 0;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	while (s[a] == ' ' || s[a] == '\t')
		a++;
	memmove(s, s + a, n - a + 1);
}

static int
cmp_lower(const char *a, const char *b)
{
	return strcasecmp(a, b);
}

/* header -> columns; 0, or -1 after saying why */
static int
map_header(struct batch *b)
{
	struct csv_row *h = &b->csv.rows[0];
	char sh[256];
	int i, j, k, bad = 0;
	size_t r;

	for (k = 0; k < C_COUNT; k++)
		b->idx[k] = -1;
	b->ncols = h->nfields;
	for (i = 0; i < h->nfields; i++) {
		char *f = h->fields[i];

		trim(f);
		b->name[i] = f;
		if (*f == '\0') {
			msg_err("%s line %d: column %d has no name", b->file,
			    h->line, i + 1);
			bad = 1;
			continue;
		}
		if (cell_why(f)) {
			msg_err("%s line %d: column %d's name '%s' %s",
			    b->file, h->line, i + 1, shown(f, sh, sizeof(sh)),
			    cell_why(f));
			bad = 1;
			continue;
		}
		for (j = 0; j < i; j++)
			if (cmp_lower(h->fields[j], f) == 0) {
				msg_err("%s line %d: column '%s' appears twice",
				    b->file, h->line, f);
				bad = 1;
			}
		for (k = 0; k < C_COUNT; k++)
			if (columns[k].name &&
			    cmp_lower(f, columns[k].name) == 0) {
				b->idx[k] = i;
				b->name[i] = columns[k].name;
			}
		for (r = 0; r < NRESULT; r++)
			if (cmp_lower(f, result_names[r]) == 0) {
				msg_err("%s line %d: column '%s' is a name "
				    "batch output uses for its results: "
				    "rename it",
				    b->file, h->line, f);
				bad = 1;
			}
	}
	if (!bad && b->idx[C_AMOUNT] == -1) {
		struct buf names = BUF_INIT(1024);
		int cut = 0;

		/* what the file calls its columns: "Amount (USD)" is not it */
		for (i = 0; i < h->nfields && !cut; i++)
			cut = buf_printf(&names, "%s'%s'", i ? ", " : "",
			    shown(h->fields[i], sh, sizeof(sh))) == -1;
		msg_err("%s line %d: no 'amount' column; the header has %s%s: "
		    "name the column of amounts 'amount'%s", b->file, h->line,
		    buf_str(&names), cut ? ", ..." : "", h->nfields == 1 ?
		    " (or give --delimiter, if the file's separator is not "
		    "found)" : "");
		buf_free(&names);
		bad = 1;
	}
	if (bad)
		return -1;
	/* a row's identity: amount and currency first, then by name */
	b->norder = 0;
	for (i = 0; i < b->ncols; i++)
		if (i != b->idx[C_AMOUNT] && i != b->idx[C_CURRENCY] &&
		    i != b->idx[C_REQUEST_ID])
			b->order[b->norder++] = i;
	for (i = 1; i < b->norder; i++)
		for (j = i; j > 0 && cmp_lower(b->name[b->order[j - 1]],
		    b->name[b->order[j]]) > 0; j--) {
			int t = b->order[j];

			b->order[j] = b->order[j - 1];
			b->order[j - 1] = t;
		}
	for (i = 0; i < b->ncols; i++)
		b->width[i] = msg_shown_width(b->name[i], strlen(b->name[i]),
		    SHOW_LINES);
	return 0;
}

/* NULL when a pass-through cell can be shown and written, else why not */
static const char *
cell_why(const char *s)
{
	const unsigned char *p;

	if (!utf8_valid(s))
		return "is not valid UTF-8 (save the file as UTF-8)";
	for (p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 &&
		    p[1] <= 0x9f))
			return "holds a control character";
	return NULL;
}

/* ---- row ids ---- */

static const char b62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* the digest of what a row is: amount, currency, every other cell */
static int
row_content(struct batch *b, struct row *w, struct buf *t)
{
	const struct csv_row *cr = w->cr;
	int64_t minor;
	int k;

	if (amount_minor(&w->req.amount, w->req.cur, &minor) == -1)
		return -1;	/* cannot happen below the currency's ceiling */
	buf_reset(t);
	if (buf_printf(t, "amount=%lld\n%s=%s\n", (long long)minor, "currency",
	    w->req.cur->code) == -1)
		return -1;
	for (k = 0; k < b->norder; k++) {
		const char *v = cr->fields[b->order[k]];
		const char *p;

		if (*v == '\0')
			continue;	/* adding an empty column: no change */
		for (p = b->name[b->order[k]]; *p; p++)
			if (buf_addc(t, (char)tolower((unsigned char)*p)) == -1)
				return -1;
		/* name NUL value NUL: neither can hold a NUL */
		if (buf_addc(t, '\0') == -1 ||
		    buf_add(t, v, strlen(v) + 1) == -1)
			return -1;
	}
	return sigv4_sha256_hex(t->data ? t->data : "", t->len, w->content);
}

static int
hexval(char ch)
{
	return ch <= '9' ? ch - '0' : ch - 'a' + 10;
}

/* partner id + "B" + base-62 digits of the row's digest in this batch */
static int
derive_id(struct batch *b, const struct row *w, unsigned gen,
    char out[REQID_MAX + 1])
{
	const struct profile *p = &b->c->prof;
	char line[512], hex[SIGV4_HEX_LEN + 1];
	size_t plen = strlen(p->partner_id), nd, i;
	int len;

	len = snprintf(line, sizeof(line),
	    "agcod batch 1\n%s\n%s\n%s\n%u\n%s\n%u", p->partner_id,
	    p->production ? "production" : "sandbox", b->id, gen, w->content,
	    w->occ);
	if (len < 0 || len >= (int)sizeof(line) || plen + 1 + 16 > REQID_MAX ||
	    sigv4_sha256_hex(line, (size_t)len, hex) == -1)
		return -1;
	nd = REQID_MAX - plen - 1;
	if (nd > ID_DIGITS)
		nd = ID_DIGITS;
	memcpy(out, p->partner_id, plen);
	out[plen] = 'B';
	for (i = 0; i < nd; i++)
		out[plen + 1 + i] = b62[(hexval(hex[2 * i]) << 4 |
		    hexval(hex[2 * i + 1])) % 62];
	out[plen + 1 + nd] = '\0';
	return 0;
}

static const char *in_value(const struct batch *, const struct row *, int,
    char *, size_t);

/* ---- checking every row before anything is sent ---- */

static int
check_rows(struct batch *b)
{
	struct cmd_ctx *c = b->c;
	const struct op *op = op_find("create");
	const struct csv_row *h = &b->csv.rows[0];
	struct buf t = BUF_INIT(CSV_MAX_FIELDS * (CSV_FIELD_MAX + 64) + 256);
	struct hset same, ids;
	char why[512];
	size_t i;
	int bad = 0, k;

	if (hset_init(&same, b->n) == -1 || hset_init(&ids, b->n) == -1) {
		hset_free(&same);
		msg_err("%s: out of memory", b->file);
		return -1;
	}
	for (i = 0; i < b->n; i++) {
		struct row *w = &b->rows[i];
		const struct csv_row *cr = w->cr;
		struct opreq_in in;
		const char *msg;
		struct hent *e;
		char *p;

		if (cr->nfields != h->nfields) {
			/* never a guess: "19,99" under "amount" is not 19 */
			msg_err("%s line %d: %d field%s, but the header has %d",
			    b->file, cr->line, cr->nfields, cr->nfields == 1 ?
			    "" : "s", h->nfields);
			bad++;
			continue;
		}
		memset(&in, 0, sizeof(in));
		if (b->idx[C_CURRENCY] != -1)	/* usd, as spreadsheets have it */
			for (p = cr->fields[b->idx[C_CURRENCY]]; *p; p++)
				*p = (char)toupper((unsigned char)*p);
		for (k = 0; k < C_COUNT; k++)
			if (b->idx[k] != -1 && cr->fields[b->idx[k]][0])
				*(const char **)((char *)&in + columns[k].in) =
				    cr->fields[b->idx[k]];
		w->explicit_id = in.request_id != NULL;
		if (!w->explicit_id)	/* a valid stand-in, derived below */
			in.request_id = c->prof.partner_id;
		if (opreq_build(&c->prof, op, &in, &w->req, why,
		    sizeof(why)) == -1) {
			msg_err("%s line %d: %s", b->file, cr->line, why);
			bad++;
			continue;
		}
		for (k = 0; k < b->ncols; k++) {
			char amt[AMOUNT_TEXT_MAX];
			const char *v = in_value(b, w, k, amt, sizeof(amt));
			size_t len = msg_shown_width(v, strlen(v), SHOW_LINES);

			if (len > b->width[k])
				b->width[k] = len;	/* for the table */
			if (k == b->idx[C_AMOUNT] || k == b->idx[C_CURRENCY] ||
			    k == b->idx[C_EXTREF] || k == b->idx[C_REQUEST_ID])
				continue;	/* checked as request fields */
			if ((msg = cell_why(cr->fields[k])) != NULL) {
				msg_err("%s line %d: column '%s' %s", b->file,
				    cr->line, b->name[k], msg);
				bad++;
			}
		}
		if (w->explicit_id) {
			e = hset_get(&ids, cr->fields[b->idx[C_REQUEST_ID]]);
			if (e->val != SIZE_MAX) {
				/* one id, one card: never merge two rows */
				msg_err("%s line %d: request id '%s' is also "
				    "on line %d", b->file, cr->line, e->key,
				    b->rows[e->val].cr->line);
				bad++;
			} else
				e->val = i;
			continue;
		}
		if (row_content(b, w, &t) == -1) {
			msg_err("%s line %d: the row is too large", b->file,
			    cr->line);
			bad++;
			continue;
		}
		e = hset_get(&same, w->content);
		w->occ = e->val == SIZE_MAX ? 1 : (unsigned)e->val + 1;
		e->val = w->occ;
	}
	hset_free(&same);
	/* derived ids cannot meet each other; a given one could match one */
	for (i = 0; !bad && i < b->n; i++)
		if (!b->rows[i].explicit_id &&
		    derive_id(b, &b->rows[i], 0,
		    b->rows[i].req.request_id) == -1) {
			msg_err("%s: cannot derive request ids", b->file);
			bad++;
		}
	for (i = 0; !bad && i < b->n; i++) {
		struct hent *e;

		if (b->rows[i].explicit_id)
			continue;
		e = hset_get(&ids, b->rows[i].req.request_id);
		if (e->val != SIZE_MAX) {
			msg_err("%s line %d: its request id '%s' is given on "
			    "line %d", b->file, b->rows[i].cr->line, e->key,
			    b->rows[e->val].cr->line);
			bad++;
		}
	}
	hset_free(&ids);
	buf_free(&t);
	if (bad)
		msg_err("%s: %d bad row%s; nothing was sent", b->file, bad,
		    bad == 1 ? "" : "s");
	return bad ? -1 : 0;
}

/*
 * The journal decides the generation: the latest one any row of this batch
 * was sent in (a resumed run), the next with --new-batch.
 */
static int
choose_generation(struct batch *b, int new_batch)
{
	char rid[REQID_MAX + 1];
	unsigned gen;
	int any_derived = 0, found = 0, last = -1;
	size_t i;

	for (i = 0; i < b->n; i++)
		any_derived |= !b->rows[i].explicit_id;
	if (new_batch && !any_derived)
		return 0;
	for (gen = 0; gen < GEN_MAX; gen++) {
		found = 0;
		for (i = 0; i < b->n && !found; i++) {
			if (b->rows[i].explicit_id)
				continue;
			if (gen == 0)	/* derived by check_rows */
				strlcpy(rid, b->rows[i].req.request_id,
				    sizeof(rid));
			else if (derive_id(b, &b->rows[i], gen, rid) == -1)
				return -1;
			found = journal_create_entry(b, rid) != NULL;
		}
		if (!found)
			break;
		last = (int)gen;
	}
	if (gen == GEN_MAX)
		return -1;
	/* new cards while the last run's outcomes are unknown: maybe twice */
	for (i = 0; new_batch && last >= 0 && i < b->n; i++) {
		json_t *e;
		const char *st;

		if (b->rows[i].explicit_id)
			continue;
		if (derive_id(b, &b->rows[i], (unsigned)last, rid) == -1)
			return -1;
		if ((e = journal_create_entry(b, rid)) != NULL &&
		    (st = json_str(e, "state")) != NULL &&
		    strcmp(st, "succeeded") != 0 && strcmp(st, "failed") != 0 &&
		    strcmp(st, "cancelled") != 0) {
			msg_err("%s line %d: the last run of batch '%s' has an "
			    "unsettled outcome for this row (request id %s, "
			    "%s): run the batch without --new-batch, or "
			    "'agcod reconcile', before issuing new cards",
			    b->file, b->rows[i].cr->line, b->id, rid, st);
			return -2;
		}
	}
	b->gen = last < 0 ? 0 : new_batch ? (unsigned)last + 1 : (unsigned)last;
	for (i = 0; b->gen > 0 && i < b->n; i++)
		if (!b->rows[i].explicit_id && derive_id(b, &b->rows[i], b->gen,
		    b->rows[i].req.request_id) == -1)
			return -1;
	return 0;
}

/* what the journal says of each row; 0, or an exit status after saying why */
static int
check_journal(struct batch *b)
{
	struct cmd_ctx *c = b->c;
	int reprint = c->args.seen[O_REPRINT];
	int allow = c->args.seen[O_ALLOW_REUSED_REF];
	json_t *refs = NULL, *e;
	struct hset seen;
	size_t i, issued = 0;
	char last[32] = "";
	int bad = 0;

	if (ctx_journal(c) == NULL) {
		msg_err("%s: cannot read the journal, so cannot tell which "
		    "rows have cards; nothing was sent", b->file);
		return EX_IOERR;
	}
	switch (choose_generation(b, c->args.seen[O_NEW_BATCH])) {
	case 0:
		break;
	case -2:
		return EX_TEMPFAIL;	/* said why */
	default:
		msg_err("%s: cannot derive request ids", b->file);
		return EX_SOFTWARE;
	}
	for (i = 0; i < b->n; i++) {
		struct row *w = &b->rows[i];
		const char *st, *t;

		w->prev = PREV_NONE;
		if ((e = journal_create_entry(b, w->req.request_id)) == NULL)
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
				strlcpy(last, t, sizeof(last));
		}
	}
	if (b->jerr) {
		msg_err("%s: cannot read the journal '%s': %s; nothing was "
		    "sent", b->file, c->journal.path, c->journal.err);
		return EX_IOERR;
	}
	if (reprint) {
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

/* ---- totals ---- */

struct total {
	const struct currency	*cur;
	int64_t			 all, todo;	/* minor units */
	size_t			 rows, todo_rows;
};

#define NTOTALS	32

/*
 * A row's amount in minor units.  Checked, though a row is below its
 * currency's ceiling (JPY's 1,500,000): 999,999 of them stay far below
 * 2^63, so the sums below cannot overflow either.
 */
static int64_t
minor_units(const struct opreq *q)
{
	int64_t m;

	return amount_minor(&q->amount, q->cur, &m) == -1 ? 0 : m;
}

static size_t
totals(const struct batch *b, struct total *tot)
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
		tot[k].all += minor_units(q);
		tot[k].rows++;
		if (b->rows[i].prev != PREV_ISSUED) {
			tot[k].todo += minor_units(q);
			tot[k].todo_rows++;
		}
	}
	return nt;
}

static void
fmt_minor(const struct currency *cur, int64_t minor, char *out, size_t n)
{
	struct amount a = { minor, cur->exponent };

	amount_format(&a, out, n);
}

/*
 * The profile's limits, before anything is sent: every row still to issue
 * within max_amount, each currency's total still to issue within
 * max_batch_total (in its own minor units: a JPY total is whole yen).
 */
static int
guard_limits(struct batch *b, const struct total *tot, size_t nt)
{
	struct cmd_ctx *c = b->c;
	size_t i, k;
	int rc;

	for (i = 0; i < b->n; i++)
		if (b->rows[i].prev != PREV_ISSUED && (rc = exit_code(guard_amount(
		    &c->prof, &b->rows[i].req.amount,
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
static int
confirm_batch(struct batch *b, const struct total *tot, size_t nt)
{
	char summary[512], text[AMOUNT_TEXT_MAX];
	size_t k, rows = 0;
	int len;

	len = snprintf(summary, sizeof(summary), "batch create %s:", b->file);
	for (k = 0; k < nt; k++) {
		rows += tot[k].todo_rows;
		fmt_minor(tot[k].cur, tot[k].todo, text, sizeof(text));
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
		fmt_minor(f->cur, minor, f->text, sizeof(f->text));
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
		fmt_minor(tot[k].cur, tot[k].todo, text, sizeof(text));
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
static int
check_funds(struct batch *b, const struct total *tot, size_t nt)
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

static int
dry_run(struct batch *b)
{
	struct cmd_ctx *c = b->c;
	struct total tot[NTOTALS];
	size_t nt = totals(b, tot), k, issued = 0, i;
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

		fmt_minor(tot[k].cur, tot[k].all, text, sizeof(text));
		json_object_set_new(t, "currency",
		    json_string(tot[k].cur->code));
		json_object_set_new(t, "amount", json_string(text));
		json_object_set_new(t, "rows",
		    json_integer((json_int_t)tot[k].rows));
		fmt_minor(tot[k].cur, tot[k].todo, text, sizeof(text));
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
			fmt_minor(tot[k].cur, tot[k].all, text, sizeof(text));
			printf("total %-10s %s (%zu rows)", tot[k].cur->code,
			    text, tot[k].rows);
			fmt_minor(tot[k].cur, tot[k].todo, text, sizeof(text));
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

/* ---- output: JSON lines, a table or CSV, with every input column ---- */

static const char *
row_status(const struct api_result *r)
{
	if (r->result == AGCOD_OK)
		return "SUCCESS";
	if (r->outcome == OUTCOME_UNKNOWN)
		return "UNKNOWN";
	return r->status ? r->status : "FAILURE";
}

/* an input column's output value: amounts as typed, the currency resolved */
static const char *
in_value(const struct batch *b, const struct row *w, int k, char *amt,
    size_t n)
{
	if (k == b->idx[C_AMOUNT]) {
		amount_format(&w->req.amount, amt, n);
		return amt;
	}
	if (k == b->idx[C_CURRENCY])
		return w->req.cur->code;
	return w->cr->fields[k];
}

/* a table cell, shown (never obeyed), padded to w */
static void
put_cell(FILE *f, const char *s, size_t w, int last)
{
	size_t n = msg_shown_width(s, strlen(s), SHOW_LINES);

	msg_put_shown(f, s, strlen(s));
	if (!last)
		fprintf(f, "%*s", (int)(w > n ? w - n : 0) + 2, "");
}

/* a CSV cell (rows.c's writer: a formula is defused), then , or the line end */
static void
put_csv(const struct batch *b, const char *s, int last)
{
	rows_csv_cell_sep(b->out, s, b->sep);
	if (!last)
		putc(b->sep, b->out);
	else
		fputs(b->csv.crlf ? "\r\n" : "\n", b->out);
}

static void
out_header(struct batch *b)
{
	FILE *f = b->out;
	int k;

	if (b->c->out == OUT_TABLE) {
		fprintf(f, "%6s  ", "ROW");
		for (k = 0; k < b->ncols; k++)
			if (k != b->idx[C_REQUEST_ID])
				put_cell(f, b->name[k], b->width[k], 0);
		if (b->idx[C_CURRENCY] == -1)
			put_cell(f, "currency", 8, 0);
		fprintf(f, "%-*s  %-8s  %-20s  %-16s  %s\n", (int)b->idwidth,
		    "REQUEST ID", "STATUS", "ISSUED BEFORE", "GC ID",
		    "CLAIM CODE / ERROR");
	} else if (b->c->out == OUT_CSV) {
		size_t r;

		if (b->csv.bom)		/* as the input: Excel reads it UTF-8 */
			fputs("\xef\xbb\xbf", f);
		for (k = 0; k < b->ncols; k++)
			if (k != b->idx[C_REQUEST_ID])
				put_csv(b, b->name[k], 0);
		if (b->idx[C_CURRENCY] == -1)
			put_csv(b, "currency", 0);
		put_csv(b, "row", 0);
		put_csv(b, "request_id", 0);
		for (r = 1; r < NRESULT; r++)	/* after "row" */
			put_csv(b, result_names[r], r == NRESULT - 1);
	}
}

static json_t *
jstr(const char *s)
{
	json_t *j;

	if (s == NULL)
		return json_null();
	j = json_string(s);
	return j ? j : json_text(s, strlen(s));	/* not UTF-8: \xNN */
}

/* one row's result; -1 when the output cannot be written */
static int
out_row(struct batch *b, const struct row *w, size_t i,
    const struct api_result *r)
{
	FILE *f = b->out;
	const char *gc = json_str(r->json, "gcId");
	const char *code = json_str(r->json, "gcClaimCode");
	const char *st = row_status(r);
	char amt[AMOUNT_TEXT_MAX], num[32];
	int k;

	if (b->c->out == OUT_JSON) {
		json_t *o = json_object();

		for (k = 0; k < b->ncols; k++)
			if (k != b->idx[C_REQUEST_ID])
				json_object_set_new(o, b->name[k],
				    jstr(in_value(b, w, k, amt, sizeof(amt))));
		if (b->idx[C_CURRENCY] == -1)
			json_object_set_new(o, "currency",
			    json_string(w->req.cur->code));
		json_object_set_new(o, "row", json_integer((json_int_t)i + 1));
		json_object_set_new(o, "request_id",
		    json_string(w->req.request_id));
		json_object_set_new(o, "status", jstr(st));
		json_object_set_new(o, "gcId", jstr(gc));
		json_object_set_new(o, "gcClaimCode", jstr(code));
		json_object_set_new(o, "errorCode", jstr(r->error_code));
		json_object_set_new(o, "errorType", jstr(r->error_type));
		json_object_set_new(o, "issued_before", jstr(w->since));
		output_json(f, o);
		json_decref(o);
	} else if (b->c->out == OUT_TABLE) {
		fprintf(f, "%6zu  ", i + 1);
		for (k = 0; k < b->ncols; k++)
			if (k != b->idx[C_REQUEST_ID])
				put_cell(f, in_value(b, w, k, amt, sizeof(amt)),
				    b->width[k], 0);
		if (b->idx[C_CURRENCY] == -1)
			put_cell(f, w->req.cur->code, 8, 0);
		put_cell(f, w->req.request_id, b->idwidth, 0);
		put_cell(f, st, 8, 0);
		put_cell(f, w->since ? w->since : "-", 20, 0);
		put_cell(f, gc ? gc : "-", 16, 0);
		put_cell(f, code ? code : r->error_type ? r->error_type : "-",
		    0, 1);
		putc('\n', f);
	} else {
		for (k = 0; k < b->ncols; k++)
			if (k != b->idx[C_REQUEST_ID])
				put_csv(b, in_value(b, w, k, amt,
				    sizeof(amt)), 0);
		if (b->idx[C_CURRENCY] == -1)
			put_csv(b, w->req.cur->code, 0);
		snprintf(num, sizeof(num), "%zu", i + 1);
		put_csv(b, num, 0);
		put_csv(b, w->req.request_id, 0);
		put_csv(b, st, 0);
		put_csv(b, gc ? gc : "", 0);
		put_csv(b, code ? code : "", 0);
		put_csv(b, r->error_code ? r->error_code : "", 0);
		put_csv(b, r->error_type ? r->error_type : "", 0);
		put_csv(b, w->since ? w->since : "", 1);
	}
	/* each row's result as it completes; a lost claim code stops the run */
	return fflush(f) != 0 || ferror(f) ? -1 : 0;
}

/*
 * --out FILE without -o: the format its name says (cards.csv is CSV), not
 * the terminal's; JSON lines when the name does not say.
 */
static void
out_format(struct batch *b)
{
	static const struct {
		const char	*ext;
		enum output_fmt	 fmt;
	} by_ext[] = {
		{ ".csv", OUT_CSV }, { ".json", OUT_JSON }, { ".jsonl", OUT_JSON },
		{ ".txt", OUT_TABLE }, { ".table", OUT_TABLE },
	};
	const char *path = b->c->args.val[O_OUT], *base, *ext;
	size_t i;

	if (path == NULL || b->c->args.val[O_OUTPUT])
		return;
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	ext = strrchr(base, '.');
	b->c->out = OUT_JSON;
	for (i = 0; ext && i < sizeof(by_ext) / sizeof(by_ext[0]); i++)
		if (strcasecmp(ext, by_ext[i].ext) == 0)
			b->c->out = by_ext[i].fmt;
}

static int
out_error(struct batch *b, const char *path, int e)
{
	return usage_error(b->c->cmd, "--out '%s': %s%s", path, strerror(e),
	    e == EEXIST ? " (results never overwrite a file: give a new "
	    "name)" : "");
}

/*
 * Before the funds are asked and the run confirmed: --out names no file
 * yet, in a directory agcod may write.  The file itself is created only
 * once the run goes ahead (open_out), so a run stopped before its first
 * row (funds short, not confirmed, Ctrl-C at the prompt) leaves none.
 */
static int
out_check(struct batch *b)
{
	const char *path = b->c->args.val[O_OUT], *slash;
	char dir[PATH_MAX];
	struct stat st;

	b->out = stdout;
	b->outname = "standard output";
	b->outfd = -1;
	if (path == NULL)
		return 0;
	if (*path == '\0')
		return out_error(b, path, ENOENT);
	if (lstat(path, &st) == 0)
		return out_error(b, path, EEXIST);
	if (errno != ENOENT)
		return out_error(b, path, errno);
	if ((slash = strrchr(path, '/')) == NULL)
		strlcpy(dir, ".", sizeof(dir));
	else if ((size_t)(slash - path) + 2 > sizeof(dir))
		return out_error(b, path, ENAMETOOLONG);
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);
	if (access(dir, W_OK | X_OK) == -1)
		return out_error(b, path, errno);
	return 0;
}

/* --out FILE: a new file, 0600, never through a symbolic link */
static int
open_out(struct batch *b)
{
	const char *path = b->c->args.val[O_OUT];
	int fd;

	if (path == NULL)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return out_error(b, path, errno);
	if ((b->out = fdopen(fd, "w")) == NULL) {
		close(fd);
		msg_err("--out '%s': %s", path, strerror(errno));
		return EX_OSERR;
	}
	b->outname = path;
	return 0;
}

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
static int
resume_cmd(const struct batch *b, struct buf *t)
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
static int
resume_out(const struct batch *b, struct buf *t)
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

static int
run(struct batch *b)
{
	struct cmd_ctx *c = b->c;
	struct total tot[NTOTALS];
	size_t nt, i, k, issued = 0, before = 0, failed = 0, unknown = 0;
	size_t done = 0, unsent = 0;
	int64_t got[NTOTALS], old[NTOTALS];
	char text[AMOUNT_TEXT_MAX];
	struct buf sum = BUF_INIT(8192), rs = BUF_INIT(PATH_MAX + 4096);
	const char *resume;
	struct sender *snd;
	int rc = 0, bar, outfail = 0, full = 0;
	time_t start;

	nt = totals(b, tot);
	memset(got, 0, sizeof(got));
	memset(old, 0, sizeof(old));
	/*
	 * Here the batch's row count (b->n) and totals per currency (tot:
	 * .all, and .todo for rows without a card yet) are known, and
	 * nothing has been sent.
	 */
	if ((rc = guard_limits(b, tot, nt)) != 0 ||
	    (rc = ctx_sender(c, &snd)) != 0 ||
	    (rc = check_funds(b, tot, nt)) != 0 ||
	    (rc = confirm_batch(b, tot, nt)) != 0 ||
	    (rc = open_out(b)) != 0)
		return rc;
	/* each row's reference is held with its pending record */
	snd->reserve_refs = !c->args.seen[O_ALLOW_REUSED_REF];
	if (c->prof.production)
		msg_note("PRODUCTION: %zu cards for partner %s at %s",
		    b->n, c->prof.partner_id, c->prof.endpoint);
	resume = resume_cmd(b, &rs) == 0 ? buf_str(&rs) :
	    "the same command again";
	/* the bar never mixes with rows on a terminal */
	bar = isatty(STDERR_FILENO) && msg_verbosity >= 0 &&
	    (b->out != stdout || !isatty(STDOUT_FILENO));
	out_header(b);
	catch_signals();
	start = time(NULL);
	for (i = 0; i < b->n; i++) {
		struct row *w = &b->rows[i];
		struct buf body = BUF_INIT(64 * 1024);
		struct api_result r;
		const char *dead;
		int e;

		if (stop_signal)
			break;
		if (api_body(&c->prof, &w->req, &body) == -1) {
			buf_free(&body);
			rc = EX_SOFTWARE;
			break;
		}
		e = exit_code(op_send(snd, &w->req, &body, &r));
		buf_free(&body);
		if (e == 0)
			issued_elsewhere(b, w, snd);
		if (e == 0 && (dead = outcome_dead_card(r.json)) != NULL) {
			/* a repeated id of a cancelled or expired card: its
			 * code is dead */
			int cancelled = outcome_cancelled(r.json);

			if (cancelled)
				note_cancelled(snd, w->req.op, w->req.request_id);
			r.result = AGCOD_E_REFUSED;
			e = exit_code(r.result);
			r.status = cancelled ? "CANCELLED" : "EXPIRED";
			api_say(&r, "the card of request id %s %s (cardStatus "
			    "%s): its claim code is dead and is not shown",
			    w->req.request_id, cancelled ? "was cancelled" :
			    "has expired", dead);
			json_object_del(r.json, "gcClaimCode");
		}
		done++;
		if (e == 0) {
			issued++;
			before += w->prev == PREV_ISSUED;
			for (k = 0; k < nt && tot[k].cur != w->req.cur; k++)
				;
			if (k < nt && w->prev == PREV_ISSUED)
				old[k] += minor_units(&w->req);
			else if (k < nt)
				got[k] += minor_units(&w->req);
		} else if (r.outcome == OUTCOME_NOT_SENT) {
			/* nothing left the machine: neither failed nor unknown */
			unsent++;
			if (rc == 0)
				rc = e;
		} else if (e == EX_TEMPFAIL)
			unknown++;
		else {
			failed++;
			if (rc == 0)
				rc = e;
		}
		if (e != 0) {
			if (bar)
				fputc('\n', stderr);	/* off the bar's line */
			msg_err("%s line %d: %s", b->file, w->cr->line, r.why);
		}
		if (out_row(b, w, i, &r) == -1) {
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
				journal_undelivered(&c->journal,
				    snd->last_record);
			outfail = 1;
		}
		api_result_free(&r);
		if (bar && !outfail)
			progress(done, b->n, start);
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
	/* the summary: always on standard error */
	full |= buf_printf(&sum, "batch '%s': %zu row%s: %zu issued", b->id,
	    b->n, b->n == 1 ? "" : "s", issued);
	if (before)
		full |= buf_printf(&sum, " (%zu by an earlier run)", before);
	full |= buf_printf(&sum, ", %zu failed, %zu unknown, %zu not sent",
	    failed, unknown, unsent + b->n - done);
	for (k = 0; k < nt; k++) {
		if (got[k]) {
			fmt_minor(tot[k].cur, got[k], text, sizeof(text));
			full |= buf_printf(&sum, "; %s %s newly issued",
			    tot[k].cur->code, text);
		}
		if (old[k]) {
			fmt_minor(tot[k].cur, old[k], text, sizeof(text));
			full |= buf_printf(&sum, "; %s %s issued before",
			    tot[k].cur->code, text);
		}
	}
	if (stop_signal)
		full |= buf_printf(&sum, "; interrupted by %s",
		    stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
	if (done < b->n || unknown || failed || unsent) {
		full |= buf_printf(&sum, "; to resume, run %s (rows with "
		    "cards show their original cards)%s", resume, unknown ?
		    "; unknown outcomes settle there or with 'agcod "
		    "reconcile'" : "");
		full |= resume_out(b, &sum);
	}
	if (stop_signal)
		rc = stop_signal == SIGINT ? 130 : 143;
	else if (unknown || outfail)
		rc = EX_TEMPFAIL;	/* over failed rows: it may be issued */
	if (full)	/* cannot happen within 4 KB; never silent if it does */
		msg_err("the batch summary was cut short");
	if (rc == 0)
		msg_note("%s", buf_str(&sum));
	else
		msg_err("%s", buf_str(&sum));
	msg_verbose("%zu of %zu rows succeeded over %ld connection(s)", issued,
	    b->n, http_connections(c->send.api.http));
	buf_free(&sum);
	buf_free(&rs);
	return rc;
}

/* --delimiter: one character that cannot be part of a value's syntax */
static int
batch_sep(struct batch *b)
{
	const char *v = b->c->args.val[O_DELIMITER];

	if (v == NULL)
		return 0;	/* from the header line */
	if (strcasecmp(v, "tab") == 0 || strcmp(v, "\\t") == 0)
		v = "\t";
	/* not the quote, nor a character of an amount or a request id */
	if (strlen(v) != 1 || (!ispunct((unsigned char)*v) && *v != '\t') ||
	    strchr("\".-_", *v) != NULL)
		return usage_error(b->c->cmd, "--delimiter must be one "
		    "character such as , ; | or tab (not '\"', nor '.', '-' "
		    "or '_', which amounts and request ids hold)");
	b->sep = *v;
	return 0;
}

static int
batch_name(struct batch *b)
{
	const char *v = b->c->args.val[O_BATCH_ID], *base, *dot;
	size_t i, n;

	if (v) {
		for (i = 0; v[i]; i++)
			if (!isalnum((unsigned char)v[i]) &&
			    !strchr("-_.", v[i]))
				return usage_error(b->c->cmd, "--batch-id "
				    "must be letters, digits, '-', '_' and "
				    "'.'");
		if (i == 0 || i > BATCH_ID_MAX)
			return usage_error(b->c->cmd, "--batch-id must be 1 to "
			    "%d characters", BATCH_ID_MAX);
		strlcpy(b->id, v, sizeof(b->id));
		b->id_given = 1;
		return 0;
	}
	/* the file's base name without its extension, in safe letters */
	base = strrchr(b->file, '/') ? strrchr(b->file, '/') + 1 : b->file;
	dot = strrchr(base, '.');
	n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	if (n == 0)
		return usage_error(b->c->cmd, "name the batch with --batch-id");
	if (n > BATCH_ID_MAX)
		n = BATCH_ID_MAX;
	for (i = 0; i < n; i++)
		b->id[i] = isalnum((unsigned char)base[i]) ||
		    strchr("-_.", base[i]) ? base[i] : '_';
	b->id[n] = '\0';
	return 0;
}

/*
 * One run of a batch at a time in a state directory: a second run started
 * while the first sends (cron overlapping a manual run) would print every
 * card again as newly issued.  The lock is held until the process ends.
 */
static int
lock_batch(struct batch *b)
{
	struct cmd_ctx *c = b->c;
	char path[PATH_MAX], why[200];
	struct journal *j;
	int n;

	if ((j = ctx_journal(c)) == NULL)
		return EX_IOERR;
	/* a journal shared by several hosts keeps the lock for all of them */
	switch (journal_batch_lock(j, b->id, why, sizeof(why))) {
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

int
cmd_batch(struct cmd_ctx *c)
{
	struct batch b;
	char *text, err[256];
	size_t len, i;
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
	if ((text = buf_slurp(b.file, BATCH_FILE_MAX, &len)) == NULL)
		return usage_error(c->cmd, "cannot read '%s': %s", b.file,
		    strerror(errno));
	if (b.sep == '\0')
		b.sep = csv_sniff(text, len);
	if (csv_parse_sep(text, len, b.sep, &b.csv, err, sizeof(err)) == -1) {
		free(text);
		return usage_error(c->cmd, "%s: %s", b.file, err);
	}
	free(text);
	if (b.csv.nrows < 2 || b.csv.nrows - 1 > BATCH_ROWS_MAX) {
		rc = usage_error(c->cmd, "%s: %s", b.file, b.csv.nrows < 2 ?
		    "no rows after the header" : "more than 999999 rows");
		csv_free(&b.csv);
		return rc;
	}
	b.n = b.csv.nrows - 1;
	if ((b.rows = calloc(b.n, sizeof(*b.rows))) == NULL) {
		csv_free(&b.csv);
		return EX_OSERR;
	}
	for (i = 0; i < b.n; i++)
		b.rows[i].cr = &b.csv.rows[i + 1];
	if (map_header(&b) == -1 || check_rows(&b) == -1) {
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
	if (!c->args.seen[O_DRY_RUN] && (rc = lock_batch(&b)) != 0)
		goto done;
	if ((rc = check_journal(&b)) != 0)
		goto done;
	for (i = 0; i < b.n; i++)
		if (strlen(b.rows[i].req.request_id) > b.idwidth)
			b.idwidth = strlen(b.rows[i].req.request_id);
	if (c->args.seen[O_DRY_RUN]) {
		rc = dry_run(&b);
		goto done;
	}
	out_format(&b);
	if ((rc = out_check(&b)) != 0)
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
