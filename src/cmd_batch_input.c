/*
 * cmd_batch_input.c - batch create's FILE: its delimiter, reading it, the
 * header's columns, and every row checked (a request, shown cells, ids
 * given once) before anything is sent.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agcod.h"
#include "cmd_batch.h"
#include "csv.h"
#include "hset.h"
#include "msg.h"

#define BATCH_FILE_MAX	(64 * 1024 * 1024)
#define BATCH_ROWS_MAX	999999

/* columns[k]: option k's column (NULL: none) and its opreq_in member */
static const struct {
	const char	*name;
	size_t		 in;
} columns[C_COUNT] = {
#define COL_NONE(...)
#define COL(ID, NAME, SHORT, ARG, CMDS, HELP, FIELDS, FLAGS, M, J, B, ...) \
	{ B, offsetof(struct opreq_in, M) },
	AGCOD_OPTIONS(COL_NONE, COL_NONE, COL)
#undef COL_NONE
#undef COL
};

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

/* header field i: its name, and the column it is; 1 after saying why not */
static int
map_field(struct batch *b, int i)
{
	struct csv_row *h = &b->csv.rows[0];
	char *f = h->fields[i];
	char sh[256];
	int j, k, bad = 0;
	size_t r;

	trim(f);
	b->name[i] = f;
	if (*f == '\0') {
		msg_err("%s line %d: column %d has no name", b->file,
		    h->line, i + 1);
		return 1;
	}
	if (cell_why(f)) {
		msg_err("%s line %d: column %d's name '%s' %s",
		    b->file, h->line, i + 1, shown(f, sh, sizeof(sh)),
		    cell_why(f));
		return 1;
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
	for (r = 0; r < BATCH_NRESULT; r++)
		if (cmp_lower(f, batch_result_names[r]) == 0) {
			msg_err("%s line %d: column '%s' is a name "
			    "batch output uses for its results: "
			    "rename it",
			    b->file, h->line, f);
			bad = 1;
		}
	return bad;
}

/* no 'amount' column: say what the file calls its columns */
static void
no_amount(const struct batch *b)
{
	const struct csv_row *h = &b->csv.rows[0];
	struct buf names = BUF_INIT(1024);
	char sh[256];
	int i, cut = 0;

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
}

/* a row's identity: amount and currency first, then by name */
static void
identity_order(struct batch *b)
{
	int i, j;

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
}

/* header -> columns; 0, or -1 after saying why */
int
batch_map_header(struct batch *b)
{
	struct csv_row *h = &b->csv.rows[0];
	int i, k, bad = 0;

	for (k = 0; k < C_COUNT; k++)
		b->idx[k] = -1;
	b->ncols = h->nfields;
	for (i = 0; i < h->nfields; i++)
		bad |= map_field(b, i);
	if (!bad && b->idx[C_AMOUNT] == -1) {
		no_amount(b);
		bad = 1;
	}
	if (bad)
		return -1;
	identity_order(b);
	for (i = 0; i < b->ncols; i++)
		b->width[i] = msg_shown_width(b->name[i], strlen(b->name[i]),
		    SHOW_LINES);
	return 0;
}


/* ---- checking every row before anything is sent ---- */

/* a row's cells -> its request's inputs (borrowed from the row) */
static void
row_inputs(const struct batch *b, struct row *w, struct opreq_in *in)
{
	const struct csv_row *cr = w->cr;
	char *p;
	int k;

	memset(in, 0, sizeof(*in));
	if (b->idx[C_CURRENCY] != -1)	/* usd, as spreadsheets have it */
		for (p = cr->fields[b->idx[C_CURRENCY]]; *p; p++)
			*p = (char)toupper((unsigned char)*p);
	for (k = 0; k < C_COUNT; k++)
		if (b->idx[k] != -1 && cr->fields[b->idx[k]][0])
			*(const char **)((char *)in + columns[k].in) =
			    cr->fields[b->idx[k]];
}

/* each cell's table width; the pass-through cells checked: how many bad */
static int
check_cells(struct batch *b, const struct row *w)
{
	const struct csv_row *cr = w->cr;
	const char *msg;
	int k, bad = 0;

	for (k = 0; k < b->ncols; k++) {
		char amt[AMOUNT_TEXT_MAX];
		const char *v = batch_in_value(b, w, k, amt, sizeof(amt));
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
	return bad;
}

/*
 * Row i: its request, its cells, and its given id (once in the file) or
 * its content and occurrence among identical rows; how many bad, each said
 */
static int
check_row(struct batch *b, size_t i, struct hset *same, struct hset *ids,
    struct buf *t)
{
	struct cmd_ctx *c = b->c;
	const struct op *op = op_find("create");
	const struct csv_row *h = &b->csv.rows[0];
	struct row *w = &b->rows[i];
	const struct csv_row *cr = w->cr;
	struct opreq_in in;
	struct hent *e;
	char why[512];
	int bad;

	if (cr->nfields != h->nfields) {
		/* never a guess: "19,99" under "amount" is not 19 */
		msg_err("%s line %d: %d field%s, but the header has %d",
		    b->file, cr->line, cr->nfields, cr->nfields == 1 ?
		    "" : "s", h->nfields);
		return 1;
	}
	row_inputs(b, w, &in);
	w->explicit_id = in.request_id != NULL;
	if (!w->explicit_id)	/* a valid stand-in, derived below */
		in.request_id = c->prof.partner_id;
	if (opreq_build(&c->prof, op, &in, &w->req, why,
	    sizeof(why)) == -1) {
		msg_err("%s line %d: %s", b->file, cr->line, why);
		return 1;
	}
	bad = check_cells(b, w);
	if (w->explicit_id) {
		e = hset_get(ids, cr->fields[b->idx[C_REQUEST_ID]]);
		if (e->val != SIZE_MAX) {
			/* one id, one card: never merge two rows */
			msg_err("%s line %d: request id '%s' is also "
			    "on line %d", b->file, cr->line, e->key,
			    b->rows[e->val].cr->line);
			bad++;
		} else
			e->val = i;
		return bad;
	}
	if (batch_row_content(b, w, t) == -1) {
		msg_err("%s line %d: the row is too large", b->file,
		    cr->line);
		return bad + 1;
	}
	e = hset_get(same, w->content);
	w->occ = e->val == SIZE_MAX ? 1 : (unsigned)e->val + 1;
	e->val = w->occ;
	return bad;
}

/*
 * Each row without an id gets its derived one; derived ids cannot meet
 * each other, a given one could match one.  How many bad, each said.
 */
static int
derive_ids(struct batch *b, struct hset *ids)
{
	size_t i;
	int bad = 0;

	for (i = 0; !bad && i < b->n; i++)
		if (!b->rows[i].explicit_id &&
		    batch_derive_id(b, &b->rows[i], 0,
		    b->rows[i].req.request_id) == -1) {
			msg_err("%s: cannot derive request ids", b->file);
			bad++;
		}
	for (i = 0; !bad && i < b->n; i++) {
		struct hent *e;

		if (b->rows[i].explicit_id)
			continue;
		e = hset_get(ids, b->rows[i].req.request_id);
		if (e->val != SIZE_MAX) {
			msg_err("%s line %d: its request id '%s' is given on "
			    "line %d", b->file, b->rows[i].cr->line, e->key,
			    b->rows[e->val].cr->line);
			bad++;
		}
	}
	return bad;
}

int
batch_check_rows(struct batch *b)
{
	struct buf t = BUF_INIT(CSV_MAX_FIELDS * (CSV_FIELD_MAX + 64) + 256);
	struct hset same, ids;
	size_t i;
	int bad = 0;

	if (hset_init(&same, b->n) == -1 || hset_init(&ids, b->n) == -1) {
		hset_free(&same);
		msg_err("%s: out of memory", b->file);
		return -1;
	}
	for (i = 0; i < b->n; i++)
		bad += check_row(b, i, &same, &ids, &t);
	hset_free(&same);
	if (!bad)
		bad = derive_ids(b, &ids);
	hset_free(&ids);
	buf_free(&t);
	if (bad)
		msg_err("%s: %d bad row%s; nothing was sent", b->file, bad,
		    bad == 1 ? "" : "s");
	return bad ? -1 : 0;
}


/* --delimiter: one character that cannot be part of a value's syntax */
int
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

/*
 * FILE, read and parsed: its rows after the header, each with its line;
 * 0, or an exit status after saying why
 */
int
batch_read(struct batch *b)
{
	char *text, err[256];
	size_t len, i;
	int rc;

	if ((text = buf_slurp(b->file, BATCH_FILE_MAX, &len)) == NULL)
		return usage_error(b->c->cmd, "cannot read '%s': %s", b->file,
		    strerror(errno));
	if (b->sep == '\0')
		b->sep = csv_sniff(text, len);
	if (csv_parse_sep(text, len, b->sep, &b->csv, err, sizeof(err)) == -1) {
		free(text);
		return usage_error(b->c->cmd, "%s: %s", b->file, err);
	}
	free(text);
	if (b->csv.nrows < 2 || b->csv.nrows - 1 > BATCH_ROWS_MAX) {
		rc = usage_error(b->c->cmd, "%s: %s", b->file,
		    b->csv.nrows < 2 ? "no rows after the header" :
		    "more than 999999 rows");
		csv_free(&b->csv);
		return rc;
	}
	b->n = b->csv.nrows - 1;
	if ((b->rows = calloc(b->n, sizeof(*b->rows))) == NULL) {
		csv_free(&b->csv);
		return EX_OSERR;
	}
	for (i = 0; i < b->n; i++)
		b->rows[i].cr = &b->csv.rows[i + 1];
	return 0;
}
